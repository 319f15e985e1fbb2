//! The convolution on flex ([`conv_f32`]'s kernels): forward, the fused inference form, and on
//! `Autodiff<Flex>` one tracked operation with a hand-written backward pass.

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::{ActivationOps, ConvOptions, FloatTensorOps, ModuleOps};
use burn::backend::{DType, Flex, TensorMetadata};

use super::{ResNetKernels, Tracked, tensor, with_f32};
use crate::conv_f32::{self, Geometry};

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

/// [`ResNetKernels::resnet_conv2d`] on flex: [`conv_f32::forward`], or burn's convolution for
/// shapes and dtypes it does not take.
pub(super) fn conv2d(x: FlexTensor, weight: FlexTensor, conv: [usize; 3]) -> FlexTensor {
    let Some(g) = geometry(&x, &weight, conv) else {
        return Flex::conv2d(x, weight, None, options(conv));
    };
    let [oh, ow] = g.output();
    let y = with_f32([&x, &weight], |[x, w]| {
        conv_f32::forward(&g, x, w, conv_f32::Epilogue::default())
    });
    tensor(y, [g.batch, g.out_channels, oh, ow])
}

/// `relu?(conv(x) + bias + residual?)` on flex: [`conv_f32::forward`] with its epilogue, or
/// burn's operations for shapes and dtypes it does not take.
pub(super) fn conv2d_fused(
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

/// [`ResNetKernels::resnet_conv2d`] on `Autodiff<Flex>`: one tracked operation whose backward
/// pass is [`ConvBackward`].
pub(super) fn conv2d_tracked<C: CheckpointStrategy>(
    x: Tracked<C>,
    weight: Tracked<C>,
    conv: [usize; 3],
) -> Tracked<C> {
    let [stride, padding, groups] = conv;
    match ConvBackward
        .prepare::<C>([x.node(), weight.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(mut prep) => {
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
