//! The logistic sigmoid on flex ([`sigmoid_f32`]'s passes), and on `Autodiff<Flex>` one tracked
//! operation that keeps its output for the backward pass (burn's recomputes the sigmoid there).

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::ActivationOps;
use burn::backend::{DType, Flex, TensorMetadata};

use super::{Tracked, tensor, with_f32};
use crate::sigmoid_f32;

/// [`ResNetKernels::resnet_sigmoid`](super::ResNetKernels::resnet_sigmoid) on flex: f32 through
/// [`sigmoid_f32::forward`], other dtypes through burn.
pub(super) fn sigmoid(x: FlexTensor) -> FlexTensor {
    if x.dtype() != DType::F32 {
        return Flex::sigmoid(x);
    }
    let y = with_f32([&x], |[x]| sigmoid_f32::forward(x));
    tensor(y, x.shape())
}

/// The input's gradient from the output `y` and its gradient `dy`.
fn sigmoid_grad(y: FlexTensor, dy: FlexTensor) -> FlexTensor {
    if y.dtype() != DType::F32 || dy.dtype() != DType::F32 {
        return Flex::sigmoid_backward(y, dy);
    }
    let dx = with_f32([&y, &dy], |[y, dy]| sigmoid_f32::backward(y, dy));
    tensor(dx, y.shape())
}

/// Backward pass of the tracked sigmoid: `dy y (1 - y)` from the kept output.
#[derive(Debug)]
struct SigmoidBackward;

impl Backward<Flex, 1> for SigmoidBackward {
    type State = FlexTensor;

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [node_x] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, sigmoid_grad(ops.state, dy));
        }
    }
}

/// [`ResNetKernels::resnet_sigmoid`](super::ResNetKernels::resnet_sigmoid) on `Autodiff<Flex>`.
pub(super) fn sigmoid_tracked<C: CheckpointStrategy>(x: Tracked<C>) -> Tracked<C> {
    match SigmoidBackward
        .prepare::<C>([x.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let y = sigmoid(x.into_primitive());
            prep.finish(y.clone(), y)
        }
        OpsKind::UnTracked(prep) => prep.finish(sigmoid(x.into_primitive())),
    }
}
