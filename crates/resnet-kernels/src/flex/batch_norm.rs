//! Batch normalisation in training on flex ([`batch_norm_f32`]'s passes), with ReLU and the
//! shortcut fused in, and on `Autodiff<Flex>` one tracked operation with a hand-written
//! backward pass.

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::{ActivationOps, FloatTensorOps, ModuleOps};
use burn::backend::{DType, Flex, TensorMetadata};
use burn::tensor::TensorData;

use super::{Tracked, tensor, with_f32};
use crate::batch_norm_f32::{self, Planes};

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

/// `relu?(BN(x) + residual?)` in training mode on flex, with the batch mean and variance:
/// [`batch_norm_f32`]'s passes, or burn's operations for dtypes and shapes they do not take.
pub(super) fn batch_norm_fused(
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

/// `relu?(BN(x) + residual?)` in training as one tracked operation; the statistics are
/// constants for autodiff (they feed the running averages only).
pub(super) fn batch_norm_tracked<C: CheckpointStrategy>(
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
