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
    /// Convolution without bias, square kernel, `stride` and zero `padding` on both axes, in
    /// `groups` groups.
    fn resnet_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        stride: usize,
        padding: usize,
        groups: usize,
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
        groups: usize,
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
        groups: usize,
    ) -> FloatTensor<Self>;

    /// Batch normalisation in training mode: the output, and the batch mean and biased
    /// variance of every channel (for the running statistics).
    fn resnet_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);

    /// [`Self::resnet_batch_norm_train`] followed by ReLU in the same pass: a layer of a
    /// network in training, as one tracked operation that keeps its output alone for ReLU's
    /// backward pass.
    fn resnet_batch_norm_relu_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);

    /// `ReLU(BN(x) + residual)` in training: the last layer of a residual block with its
    /// shortcut, as [`Self::resnet_batch_norm_relu_train`].
    fn resnet_batch_norm_add_relu_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        residual: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

fn options([stride, padding, groups]: [usize; 3]) -> ConvOptions<2> {
    ConvOptions::new([stride; 2], [padding; 2], [1, 1], groups)
}

/// The geometry when both tensors are f32 with square kernels and the convolution is well
/// formed; `None` sends the call to burn (other dtypes, or burn's own error for a bad shape).
fn geometry(
    x: &FlexTensor,
    weight: &FlexTensor,
    [stride, padding, groups]: [usize; 3],
) -> Option<Geometry> {
    let (xs, ws) = (x.shape(), weight.shape());
    let f32s = x.dtype() == DType::F32 && weight.dtype() == DType::F32;
    let ranks = xs.num_dims() == 4 && ws.num_dims() == 4;
    let grouped = groups > 0 && ws[0].is_multiple_of(groups) && xs[1] == ws[1] * groups;
    if !(f32s && ranks && ws[2] == ws[3] && grouped && stride > 0) {
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
        groups,
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
        groups: usize,
    ) -> FlexTensor {
        let conv = [stride, padding, groups];
        let Some(g) = geometry(&x, &weight, conv) else {
            return Flex::conv2d(x, weight, None, options(conv));
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
        groups: usize,
    ) -> FlexTensor {
        conv2d_fused(x, weight, bias, None, relu, [stride, padding, groups])
    }

    fn resnet_conv2d_bias_add_relu(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        residual: FlexTensor,
        stride: usize,
        padding: usize,
        groups: usize,
    ) -> FlexTensor {
        conv2d_fused(
            x,
            weight,
            bias,
            Some(residual),
            true,
            [stride, padding, groups],
        )
    }

    fn resnet_batch_norm_train(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f64,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        batch_norm_fused(x, gamma, beta, None, false, epsilon)
    }

    fn resnet_batch_norm_relu_train(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f64,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        batch_norm_fused(x, gamma, beta, None, true, epsilon)
    }

    fn resnet_batch_norm_add_relu_train(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        residual: FlexTensor,
        epsilon: f64,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        batch_norm_fused(x, gamma, beta, Some(residual), true, epsilon)
    }
}

/// `relu?(BN(x) + residual?)` in training mode on flex, with the batch mean and variance:
/// [`batch_norm_f32`]'s passes, or burn's operations for dtypes and shapes they do not take.
fn batch_norm_fused(
    x: FlexTensor,
    gamma: FlexTensor,
    beta: FlexTensor,
    residual: Option<FlexTensor>,
    relu: bool,
    epsilon: f64,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let others: Vec<&FlexTensor> = residual.iter().collect();
    let Some(p) = planes(&x, &[&gamma, &beta], &others) else {
        let result = Flex::batch_norm_train(x, gamma, beta, epsilon);
        let y = match residual {
            Some(r) => Flex::float_add(result.output, r),
            None => result.output,
        };
        let y = if relu { Flex::relu(y) } else { y };
        return (y, result.mean, result.variance);
    };
    let shape = x.shape();
    let residual = residual.map(|r| r.to_contiguous());
    let residual = residual.as_ref().map(|r| {
        r.as_slice::<f32>()
            .expect("a contiguous f32 tensor has a slice")
    });
    let (y, mean, var) = with_f32([&x, &gamma, &beta], |[x, gamma, beta]| {
        let (mean, var) = batch_norm_f32::statistics(&p, x);
        let then = batch_norm_f32::Activation { residual, relu };
        let y = batch_norm_f32::normalise(&p, x, &mean, &var, gamma, beta, epsilon, then);
        (y, mean, var)
    });
    let y = FlexTensor::from_data(TensorData::new(y, shape));
    (y, tensor(mean, [p.channels]), tensor(var, [p.channels]))
}

/// `relu?(conv(x) + bias + residual?)` on flex: [`conv_f32::forward`] with its epilogue, or
/// burn's operations for shapes and dtypes it does not take.
fn conv2d_fused(
    x: FlexTensor,
    weight: FlexTensor,
    bias: FlexTensor,
    residual: Option<FlexTensor>,
    relu: bool,
    conv: [usize; 3],
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
    let Some(g) = geometry(&x, &weight, conv).filter(fits) else {
        let y = Flex::conv2d(x, weight, Some(bias), options(conv));
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
    conv: [usize; 3],
    wants_x: bool,
    f32_kernel: fn(&Geometry, &[f32], &[f32]) -> Vec<f32>,
    fallback: fn(FlexTensor, FlexTensor, FlexTensor, ConvOptions<2>) -> FlexTensor,
) -> FlexTensor {
    let Some(g) = geometry(&x, &weight, conv).filter(|_| dy.dtype() == DType::F32) else {
        return fallback(x, weight, dy, options(conv));
    };
    let (operand, shape) = match wants_x {
        // The input gradient needs the weights; the weight gradient, the input.
        true => (&weight, [g.batch, g.in_channels, g.input[0], g.input[1]]),
        false => (
            &x,
            [g.out_channels, g.in_channels / g.groups, g.kernel, g.kernel],
        ),
    };
    let grad = with_f32([operand, &dy], |[operand, dy]| f32_kernel(&g, operand, dy));
    tensor(grad, shape)
}

fn input_grad(tensors: [FlexTensor; 3], conv: [usize; 3]) -> FlexTensor {
    backward_product(
        tensors,
        conv,
        true,
        conv_f32::input_grad,
        Flex::conv2d_x_backward,
    )
}

fn weight_grad(tensors: [FlexTensor; 3], conv: [usize; 3]) -> FlexTensor {
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
    type State = (NodeId, NodeId, [usize; 3]);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (x, weight, conv) = ops.state;
        let x = checkpointer.retrieve_node_output::<FlexTensor>(x);
        let weight = checkpointer.retrieve_node_output::<FlexTensor>(weight);
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
        groups: usize,
    ) -> FloatTensor<Self> {
        match ConvBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let conv = [stride, padding, groups];
                let state = (prep.checkpoint(&x), prep.checkpoint(&weight), conv);
                let y = Flex::resnet_conv2d(
                    x.into_primitive(),
                    weight.into_primitive(),
                    stride,
                    padding,
                    groups,
                );
                prep.finish(state, y)
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::resnet_conv2d(
                x.into_primitive(),
                weight.into_primitive(),
                stride,
                padding,
                groups,
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
        groups: usize,
    ) -> FloatTensor<Self> {
        let channels = bias.shape()[0];
        let y = Self::resnet_conv2d(x, weight, stride, padding, groups);
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
        groups: usize,
    ) -> FloatTensor<Self> {
        let y = Self::resnet_conv2d_bias(x, weight, bias, false, stride, padding, groups);
        Self::relu(Self::float_add(y, residual))
    }

    fn resnet_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        batch_norm_tracked::<C>(x, gamma, beta, None, false, epsilon)
    }

    fn resnet_batch_norm_relu_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        batch_norm_tracked::<C>(x, gamma, beta, None, true, epsilon)
    }

    fn resnet_batch_norm_add_relu_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        residual: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        batch_norm_tracked::<C>(x, gamma, beta, Some(residual), true, epsilon)
    }
}

/// A float tensor of `Autodiff<Flex, C>`.
type Tracked<C> = FloatTensor<Autodiff<Flex, C>>;

/// `relu?(BN(x) + residual?)` in training as one tracked operation; the statistics are
/// constants for autodiff (they feed the running averages only).
fn batch_norm_tracked<C: CheckpointStrategy>(
    x: Tracked<C>,
    gamma: Tracked<C>,
    beta: Tracked<C>,
    residual: Option<Tracked<C>>,
    relu: bool,
    epsilon: f64,
) -> (Tracked<C>, Tracked<C>, Tracked<C>) {
    // The saved state, with the output once it is computed.
    let saved = |x, gamma, mean: &FlexTensor, var: &FlexTensor, y: &FlexTensor| Saved {
        x,
        gamma,
        mean: mean.clone(),
        var: var.clone(),
        epsilon,
        // ReLU's mask comes from the output, which shares its storage with `y`.
        relu_output: relu.then(|| y.clone()),
    };
    let (y, mean, var) = match residual {
        None => {
            let prepared = BatchNormBackward
                .prepare::<C>([x.node(), gamma.node(), beta.node()])
                .compute_bound()
                .stateful();
            let run = |x: Tracked<C>, gamma: Tracked<C>, beta: Tracked<C>| {
                let (x, gamma, beta) = (x.into_primitive(), gamma.into_primitive(), beta);
                batch_norm_fused(x, gamma, beta.into_primitive(), None, relu, epsilon)
            };
            match prepared {
                OpsKind::Tracked(mut prep) => {
                    let (xs, gs) = (prep.checkpoint(&x), prep.checkpoint(&gamma));
                    let (y, mean, var) = run(x, gamma, beta);
                    (prep.finish(saved(xs, gs, &mean, &var, &y), y), mean, var)
                }
                OpsKind::UnTracked(prep) => {
                    let (y, mean, var) = run(x, gamma, beta);
                    (prep.finish(y), mean, var)
                }
            }
        }
        Some(r) => {
            let prepared = BatchNormAddReluBackward
                .prepare::<C>([x.node(), gamma.node(), beta.node(), r.node()])
                .compute_bound()
                .stateful();
            let run = |x: Tracked<C>, gamma: Tracked<C>, beta: Tracked<C>, r: Tracked<C>| {
                let (x, gamma, beta) = (x.into_primitive(), gamma.into_primitive(), beta);
                let (beta, r) = (beta.into_primitive(), r.into_primitive());
                batch_norm_fused(x, gamma, beta, Some(r), relu, epsilon)
            };
            match prepared {
                OpsKind::Tracked(mut prep) => {
                    let (xs, gs) = (prep.checkpoint(&x), prep.checkpoint(&gamma));
                    let (y, mean, var) = run(x, gamma, beta, r);
                    (prep.finish(saved(xs, gs, &mean, &var, &y), y), mean, var)
                }
                OpsKind::UnTracked(prep) => {
                    let (y, mean, var) = run(x, gamma, beta, r);
                    (prep.finish(y), mean, var)
                }
            }
        }
    };
    (y, Tracked::<C>::new(mean), Tracked::<C>::new(var))
}

/// What the backward pass of a batch normalisation (+ ReLU) keeps from its forward pass.
#[derive(Debug, Clone)]
struct Saved {
    x: NodeId,
    gamma: NodeId,
    mean: FlexTensor,
    var: FlexTensor,
    epsilon: f64,
    /// The layer's output, when ReLU is part of the operation.
    relu_output: Option<FlexTensor>,
}

impl Saved {
    /// The gradients of x, gamma and beta from `dy`, the gradient of the operation's output
    /// (of BN's own output when `relu_output` is `None`).
    fn gradients(
        self,
        dy: FlexTensor,
        checkpointer: &mut Checkpointer,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let x = checkpointer.retrieve_node_output::<FlexTensor>(self.x);
        let gamma = checkpointer.retrieve_node_output::<FlexTensor>(self.gamma);
        let (mean, var, epsilon) = (self.mean, self.var, self.epsilon);
        let mut others = vec![&dy];
        others.extend(&self.relu_output);
        let Some(p) = planes(&x, &[&gamma, &mean, &var], &others) else {
            let dy = match self.relu_output {
                Some(out) => Flex::relu_backward(out, dy),
                None => dy,
            };
            let result = Flex::batch_norm_train_backward(x, gamma, mean, var, epsilon, dy);
            return (result.x_grad, result.gamma_grad, result.beta_grad);
        };
        let shape = x.shape();
        let out = self.relu_output.as_ref().map(FlexTensor::to_contiguous);
        let out = out.as_ref().map(|o| {
            o.as_slice::<f32>()
                .expect("a contiguous f32 tensor has a slice")
        });
        let (dx, dgamma, dbeta) = with_f32(
            [&x, &dy, &mean, &var, &gamma],
            |[x, dy, mean, var, gamma]| {
                batch_norm_f32::backward(&p, x, dy, out, mean, var, gamma, epsilon)
            },
        );
        let dx = FlexTensor::from_data(TensorData::new(dx, shape));
        (
            dx,
            tensor(dgamma, [p.channels]),
            tensor(dbeta, [p.channels]),
        )
    }
}

/// Registers each gradient with its parent node, where that parent is tracked.
macro_rules! register {
    ($grads:expr, $($node:expr => $grad:expr),+ $(,)?) => {
        $(if let Some(node) = $node {
            $grads.register::<Flex>(node.id, $grad);
        })+
    };
}

/// Backward pass of [`ResNetKernels::resnet_batch_norm_train`] and
/// [`ResNetKernels::resnet_batch_norm_relu_train`]: the gradients of the input, gamma and beta.
#[derive(Debug)]
struct BatchNormBackward;

impl Backward<Flex, 3> for BatchNormBackward {
    type State = Saved;

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (dx, dgamma, dbeta) = ops.state.gradients(dy, checkpointer);
        register!(grads, node_x => dx, node_gamma => dgamma, node_beta => dbeta);
    }
}

/// Backward pass of [`ResNetKernels::resnet_batch_norm_add_relu_train`]: the gradients of the
/// input, gamma, beta and the shortcut. The shortcut's is ReLU's masked gradient, which is
/// made once and then read by BN's passes as their (unmasked) output gradient.
#[derive(Debug)]
struct BatchNormAddReluBackward;

impl Backward<Flex, 4> for BatchNormAddReluBackward {
    type State = Saved;

    fn backward(
        self,
        ops: Ops<Self::State, 4>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_gamma, node_beta, node_residual] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let mut saved = ops.state;
        let out = saved.relu_output.take().expect("the output is saved");
        let shape = dy.shape();
        let dz = match (out.dtype(), dy.dtype(), out.shape() == shape) {
            (DType::F32, DType::F32, true) => {
                let dz = with_f32([&out, &dy], |[out, dy]| {
                    batch_norm_f32::relu_backward(out, dy)
                });
                FlexTensor::from_data(TensorData::new(dz, shape))
            }
            _ => Flex::relu_backward(out, dy),
        };
        let (dx, dgamma, dbeta) = saved.gradients(dz.clone(), checkpointer);
        register!(grads, node_x => dx, node_gamma => dgamma, node_beta => dbeta, node_residual => dz);
    }
}
