//! The convolution and batch-norm kernels (`conv_f32`, `batch_norm_f32`) plugged into burn
//! through its backend-extension mechanism: operations on `Flex` and, on `Autodiff<Flex>`,
//! the backward passes of the training operations written by hand (the extension macro derives
//! no gradients); the inference-only fused operations are composed of tracked operations there.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::{Autodiff, NodeId};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::{ActivationOps, ConvOptions, FloatTensorOps, ModuleOps};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, DType, Flex, Shape, TensorMetadata, backend_extension};
use burn::tensor::TensorData;

use super::batch_norm_f32::{self, Planes};
use super::conv_f32::{self, Geometry};

/// Operations this crate implements itself on some backends.
#[backend_extension(Flex, Autodiff)]
pub trait ResNetKernels: Backend {
    /// Convolution without bias, square kernel, `stride` and zero `padding` on both axes.
    fn resnet_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride: usize,
        padding: usize,
    ) -> FloatTensor<Self>;

    /// Inference with BN folded in: [`Self::resnet_conv2d`] plus a per-channel `bias`, then
    /// ReLU when `relu`, in one pass.
    fn resnet_conv2d_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        relu: bool,
        stride: usize,
        padding: usize,
    ) -> FloatTensor<Self>;

    /// `ReLU(conv + bias + residual)` in one pass, `residual` shaped as the output: the last
    /// layer of a residual block with its shortcut, in inference. (The extension macro takes
    /// no optional tensors, hence two methods.)
    fn resnet_conv2d_bias_add_relu(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        residual: FloatTensor<Self>,
        stride: usize,
        padding: usize,
    ) -> FloatTensor<Self>;

    /// Batch normalisation in training mode: the output, and the batch mean and biased
    /// variance of every channel (for the running statistics).
    fn resnet_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

fn options(stride: usize, padding: usize) -> ConvOptions<2> {
    ConvOptions::new([stride; 2], [padding; 2], [1, 1], 1)
}

/// The geometry when both tensors are f32 with square kernels and the convolution is well
/// formed; `None` sends the call to burn (other dtypes, or burn's own error for a bad shape).
fn geometry(
    x: &FlexTensor,
    weight: &FlexTensor,
    stride: usize,
    padding: usize,
) -> Option<Geometry> {
    let (xs, ws) = (x.shape(), weight.shape());
    let f32s = x.dtype() == DType::F32 && weight.dtype() == DType::F32;
    let ranks = xs.num_dims() == 4 && ws.num_dims() == 4;
    if !(f32s && ranks && ws[2] == ws[3] && xs[1] == ws[1] && stride > 0) {
        return None;
    }
    let non_empty = xs.iter().chain(ws.iter()).all(|&d| d > 0);
    let fits = ws[2] <= xs[2] + 2 * padding && ws[2] <= xs[3] + 2 * padding;
    (non_empty && fits).then(|| Geometry {
        batch: xs[0],
        in_channels: xs[1],
        input: [xs[2], xs[3]],
        out_channels: ws[0],
        kernel: ws[2],
        stride,
        padding,
    })
}

/// Runs `f` on the f32 elements of `tensors` (made contiguous first).
fn with_f32<const N: usize, R>(tensors: [&FlexTensor; N], f: impl FnOnce([&[f32]; N]) -> R) -> R {
    let contiguous = tensors.map(FlexTensor::to_contiguous);
    let slices = contiguous.each_ref().map(|t| {
        t.as_slice::<f32>()
            .expect("a contiguous f32 tensor has a slice")
    });
    f(slices)
}

fn tensor<const D: usize>(values: Vec<f32>, shape: [usize; D]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// The sizes of a batch-normalised f32 tensor; `None` sends the call to burn. `per_channel`
/// must be `[channels]` each (gamma, beta, statistics), `others` shaped as `x`.
fn planes(x: &FlexTensor, per_channel: &[&FlexTensor], others: &[&FlexTensor]) -> Option<Planes> {
    let shape = x.shape();
    let all = || {
        [x].into_iter()
            .chain(per_channel.iter().copied())
            .chain(others.iter().copied())
    };
    let f32s = all().all(|t| t.dtype() == DType::F32);
    let ranked = shape.num_dims() >= 2 && shape.num_elements() > 0;
    let fits = ranked
        && per_channel
            .iter()
            .all(|t| t.shape().as_slice() == [shape[1]])
        && others.iter().all(|t| t.shape() == shape);
    (f32s && fits).then(|| Planes {
        batch: shape[0],
        channels: shape[1],
        pixels: shape.num_elements() / (shape[0] * shape[1]),
    })
}

impl ResNetKernels for Flex {
    fn resnet_conv2d(
        x: FlexTensor,
        weight: FlexTensor,
        stride: usize,
        padding: usize,
    ) -> FlexTensor {
        let Some(g) = geometry(&x, &weight, stride, padding) else {
            return Flex::conv2d(x, weight, None, options(stride, padding));
        };
        let [oh, ow] = g.output();
        let y = with_f32([&x, &weight], |[x, w]| {
            conv_f32::forward(&g, x, w, conv_f32::Epilogue::default())
        });
        tensor(y, [g.batch, g.out_channels, oh, ow])
    }

    fn resnet_conv2d_bias(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        relu: bool,
        stride: usize,
        padding: usize,
    ) -> FlexTensor {
        conv2d_fused(x, weight, bias, None, relu, [stride, padding])
    }

    fn resnet_conv2d_bias_add_relu(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        residual: FlexTensor,
        stride: usize,
        padding: usize,
    ) -> FlexTensor {
        conv2d_fused(x, weight, bias, Some(residual), true, [stride, padding])
    }

    fn resnet_batch_norm_train(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f64,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let Some(p) = planes(&x, &[&gamma, &beta], &[]) else {
            let result = Flex::batch_norm_train(x, gamma, beta, epsilon);
            return (result.output, result.mean, result.variance);
        };
        let shape = x.shape();
        let (y, mean, var) = with_f32([&x, &gamma, &beta], |[x, gamma, beta]| {
            let (mean, var) = batch_norm_f32::statistics(&p, x);
            let y = batch_norm_f32::normalise(&p, x, &mean, &var, gamma, beta, epsilon);
            (y, mean, var)
        });
        let y = FlexTensor::from_data(TensorData::new(y, shape));
        (y, tensor(mean, [p.channels]), tensor(var, [p.channels]))
    }
}

/// `relu?(conv(x) + bias + residual?)` on flex: [`conv_f32::forward`] with its epilogue, or
/// burn's operations for shapes and dtypes it does not take.
fn conv2d_fused(
    x: FlexTensor,
    weight: FlexTensor,
    bias: FlexTensor,
    residual: Option<FlexTensor>,
    relu: bool,
    [stride, padding]: [usize; 2],
) -> FlexTensor {
    let f32_shaped =
        |t: &FlexTensor, shape: &[usize]| t.dtype() == DType::F32 && t.shape().as_slice() == shape;
    let fits = |g: &Geometry| {
        let [oh, ow] = g.output();
        f32_shaped(&bias, &[g.out_channels])
            && residual
                .as_ref()
                .is_none_or(|r| f32_shaped(r, &[g.batch, g.out_channels, oh, ow]))
    };
    let Some(g) = geometry(&x, &weight, stride, padding).filter(fits) else {
        let y = Flex::conv2d(x, weight, Some(bias), options(stride, padding));
        let y = match residual {
            Some(r) => Flex::float_add(y, r),
            None => y,
        };
        return if relu { Flex::relu(y) } else { y };
    };
    let [oh, ow] = g.output();
    let residual = residual.map(|r| r.to_contiguous());
    let residual = residual.as_ref().map(|r| {
        r.as_slice::<f32>()
            .expect("a contiguous f32 tensor has a slice")
    });
    let y = with_f32([&x, &weight, &bias], |[x, w, b]| {
        let epilogue = conv_f32::Epilogue {
            bias: Some(b),
            residual,
            relu,
        };
        conv_f32::forward(&g, x, w, epilogue)
    });
    tensor(y, [g.batch, g.out_channels, oh, ow])
}

/// A backward product of the convolution: our kernel `f32_kernel` on `(x or weight, dy)` when
/// the shapes allow, otherwise burn's `fallback`.
fn backward_product(
    [x, weight, dy]: [FlexTensor; 3],
    [stride, padding]: [usize; 2],
    wants_x: bool,
    f32_kernel: fn(&Geometry, &[f32], &[f32]) -> Vec<f32>,
    fallback: fn(FlexTensor, FlexTensor, FlexTensor, ConvOptions<2>) -> FlexTensor,
) -> FlexTensor {
    let Some(g) = geometry(&x, &weight, stride, padding).filter(|_| dy.dtype() == DType::F32)
    else {
        return fallback(x, weight, dy, options(stride, padding));
    };
    let (operand, shape) = match wants_x {
        // The input gradient needs the weights; the weight gradient, the input.
        true => (&weight, [g.batch, g.in_channels, g.input[0], g.input[1]]),
        false => (&x, [g.out_channels, g.in_channels, g.kernel, g.kernel]),
    };
    let grad = with_f32([operand, &dy], |[operand, dy]| f32_kernel(&g, operand, dy));
    tensor(grad, shape)
}

fn input_grad(tensors: [FlexTensor; 3], conv: [usize; 2]) -> FlexTensor {
    backward_product(
        tensors,
        conv,
        true,
        conv_f32::input_grad,
        Flex::conv2d_x_backward,
    )
}

fn weight_grad(tensors: [FlexTensor; 3], conv: [usize; 2]) -> FlexTensor {
    backward_product(
        tensors,
        conv,
        false,
        conv_f32::weight_grad,
        Flex::conv2d_weight_backward,
    )
}

/// Backward pass of [`ResNetKernels::resnet_conv2d`]: the gradients of the input and the weight.
#[derive(Debug)]
struct ConvBackward;

impl Backward<Flex, 2> for ConvBackward {
    type State = (NodeId, NodeId, usize, usize);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (x, weight, stride, padding) = ops.state;
        let x = checkpointer.retrieve_node_output::<FlexTensor>(x);
        let weight = checkpointer.retrieve_node_output::<FlexTensor>(weight);
        let conv = [stride, padding];
        if let Some(node) = node_x {
            let dx = input_grad([x.clone(), weight.clone(), dy.clone()], conv);
            grads.register::<Flex>(node.id, dx);
        }
        if let Some(node) = node_weight {
            grads.register::<Flex>(node.id, weight_grad([x, weight, dy], conv));
        }
    }
}

impl<C: CheckpointStrategy> ResNetKernels for Autodiff<Flex, C> {
    fn resnet_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride: usize,
        padding: usize,
    ) -> FloatTensor<Self> {
        match ConvBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let state = (
                    prep.checkpoint(&x),
                    prep.checkpoint(&weight),
                    stride,
                    padding,
                );
                let y = Flex::resnet_conv2d(
                    x.into_primitive(),
                    weight.into_primitive(),
                    stride,
                    padding,
                );
                prep.finish(state, y)
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::resnet_conv2d(
                x.into_primitive(),
                weight.into_primitive(),
                stride,
                padding,
            )),
        }
    }

    /// Composed of differentiable operations: inference is what the fused kernel is for.
    fn resnet_conv2d_bias(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        relu: bool,
        stride: usize,
        padding: usize,
    ) -> FloatTensor<Self> {
        let channels = bias.shape()[0];
        let y = Self::resnet_conv2d(x, weight, stride, padding);
        let bias = Self::float_reshape(bias, Shape::new([1, channels, 1, 1]));
        let y = Self::float_add(y, bias);
        if relu { Self::relu(y) } else { y }
    }

    fn resnet_conv2d_bias_add_relu(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        residual: FloatTensor<Self>,
        stride: usize,
        padding: usize,
    ) -> FloatTensor<Self> {
        let y = Self::resnet_conv2d_bias(x, weight, bias, false, stride, padding);
        Self::relu(Self::float_add(y, residual))
    }

    fn resnet_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let prepared = BatchNormBackward
            .prepare::<C>([x.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful();
        let (y, mean, var) = match prepared {
            OpsKind::Tracked(mut prep) => {
                let (x_state, gamma_state) = (prep.checkpoint(&x), prep.checkpoint(&gamma));
                let (y, mean, var) = Flex::resnet_batch_norm_train(
                    x.into_primitive(),
                    gamma.into_primitive(),
                    beta.into_primitive(),
                    epsilon,
                );
                let state = (x_state, gamma_state, mean.clone(), var.clone(), epsilon);
                (prep.finish(state, y), mean, var)
            }
            OpsKind::UnTracked(prep) => {
                let (y, mean, var) = Flex::resnet_batch_norm_train(
                    x.into_primitive(),
                    gamma.into_primitive(),
                    beta.into_primitive(),
                    epsilon,
                );
                (prep.finish(y), mean, var)
            }
        };
        // The statistics feed the running averages only: constants for autodiff.
        (
            y,
            FloatTensor::<Self>::new(mean),
            FloatTensor::<Self>::new(var),
        )
    }
}

/// Backward pass of [`ResNetKernels::resnet_batch_norm_train`]: the gradients of the input,
/// gamma and beta.
#[derive(Debug)]
struct BatchNormBackward;

impl Backward<Flex, 3> for BatchNormBackward {
    type State = (NodeId, NodeId, FlexTensor, FlexTensor, f64);

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (x, gamma, mean, var, epsilon) = ops.state;
        let x = checkpointer.retrieve_node_output::<FlexTensor>(x);
        let gamma = checkpointer.retrieve_node_output::<FlexTensor>(gamma);
        let (dx, dgamma, dbeta) = match planes(&x, &[&gamma, &mean, &var], &[&dy]) {
            Some(p) => {
                let shape = x.shape();
                let (dx, dgamma, dbeta) = with_f32(
                    [&x, &dy, &mean, &var, &gamma],
                    |[x, dy, mean, var, gamma]| {
                        batch_norm_f32::backward(&p, x, dy, mean, var, gamma, epsilon)
                    },
                );
                let dx = FlexTensor::from_data(TensorData::new(dx, shape));
                (
                    dx,
                    tensor(dgamma, [p.channels]),
                    tensor(dbeta, [p.channels]),
                )
            }
            None => {
                let result = Flex::batch_norm_train_backward(x, gamma, mean, var, epsilon, dy);
                (result.x_grad, result.gamma_grad, result.beta_grad)
            }
        };
        for (node, grad) in [(node_x, dx), (node_gamma, dgamma), (node_beta, dbeta)] {
            if let Some(node) = node {
                grads.register::<Flex>(node.id, grad);
            }
        }
    }
}
