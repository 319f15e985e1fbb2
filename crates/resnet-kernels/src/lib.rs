//! Operations the ResNets of `resnet-model` run through kernels of their own where burn's
//! generic path is slow.
//!
//! On burn's `flex` CPU backend, the backward products of a convolution and batch
//! normalisation in training mode run through generic defaults (the weight gradient as a
//! convolution of transposed copies, the input gradient as a scatter-add transposed
//! convolution, BN as a dozen element-wise passes) that dominate a training step
//! (docs/profile.md). With this crate's `flex` feature (on by default), f32 tensors on flex use
//! `conv_f32`'s im2col + gemm kernels (Winograd's F(2x2, 3x3) for the stride-1 3x3
//! convolutions where it is measured faster, `winograd`; [`algorithm`] chooses otherwise)
//! and `batch_norm_f32`'s fused passes instead, through burn's backend-extension mechanism. In
//! inference, with BN folded into the convolution, the bias, the block's shortcut and the ReLU
//! run inside the convolution's pass over its output ([`conv2d_relu`]). Every other backend, and other dtypes, keep burn's own ops. The first
//! call on flex also sets glibc's malloc up for repeated training steps ([`allocator`]).

#![warn(missing_docs)]

pub mod algorithm;
#[cfg(feature = "flex")]
pub mod allocator;
#[cfg(feature = "flex")]
mod batch_norm_f32;
#[cfg(feature = "flex")]
mod buffer;
#[cfg(feature = "flex")]
mod conv_f32;
#[cfg(feature = "flex")]
mod flex;
#[cfg(feature = "flex")]
mod sigmoid_f32;
#[cfg(feature = "flex")]
mod transpose;
#[cfg(feature = "flex")]
mod winograd;
#[cfg(feature = "flex")]
mod winograd4;

use burn::nn::BatchNorm;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor};

/// Convolution with an optional per-channel bias, square kernel, `stride` and zero `padding` on
/// both axes, in `groups` groups (`weight` is `[out, in / groups, k, k]`): burn's `conv2d`, or
/// this crate's kernels where it has them.
pub fn conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    stride: usize,
    padding: usize,
    groups: usize,
) -> Tensor<4> {
    let (channels, expected) = (x.dims()[1], weight.dims()[1] * groups);
    assert_eq!(
        channels, expected,
        "conv2d: the input has {channels} channels, the weight {expected} ({groups} groups)"
    );
    #[cfg(feature = "flex")]
    if runs_on_flex(&x.device()) {
        use burn::backend::Dispatch;
        use flex::ResNetKernels;
        let (x, weight) = (x.into_dispatch(), weight.into_dispatch());
        let y = match bias {
            Some(b) => <Dispatch as ResNetKernels>::resnet_conv2d_bias(
                x,
                weight,
                b.into_dispatch(),
                false,
                stride,
                padding,
                groups,
            ),
            None => <Dispatch as ResNetKernels>::resnet_conv2d(x, weight, stride, padding, groups),
        };
        return Tensor::from_dispatch(y);
    }
    let options = ConvOptions::new([stride; 2], [padding; 2], [1, 1], groups);
    burn::tensor::module::conv2d(x, weight, bias, options)
}

/// `ReLU(conv2d(x, weight, bias) + residual)`, without the addition when `residual` is
/// `None`: a layer with BN folded in, and its block's shortcut. On flex, the bias and the
/// shortcut are the product's starting value and ReLU runs on each image's output while it
/// is in cache: no separate passes over the activations.
pub fn conv2d_relu(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Tensor<1>,
    residual: Option<Tensor<4>>,
    stride: usize,
    padding: usize,
    groups: usize,
) -> Tensor<4> {
    // The fast path skips the checks of `y + residual`: it takes only a residual of the
    // output's shape on the same device (anything else gets burn's ops and their errors).
    #[cfg(feature = "flex")]
    if runs_on_flex(&x.device())
        && x.dims()[1] == weight.dims()[1] * groups
        && residual.as_ref().is_none_or(|r| {
            r.device() == x.device() && Some(r.dims()) == output_dims(&x, &weight, stride, padding)
        })
    {
        use burn::backend::Dispatch;
        use flex::ResNetKernels;
        let (x, weight, bias) = (
            x.into_dispatch(),
            weight.into_dispatch(),
            bias.into_dispatch(),
        );
        let y = match residual {
            Some(r) => <Dispatch as ResNetKernels>::resnet_conv2d_bias_add_relu(
                x,
                weight,
                bias,
                r.into_dispatch(),
                stride,
                padding,
                groups,
            ),
            None => <Dispatch as ResNetKernels>::resnet_conv2d_bias(
                x, weight, bias, true, stride, padding, groups,
            ),
        };
        return Tensor::from_dispatch(y);
    }
    add_relu(
        conv2d(x, weight, Some(bias), stride, padding, groups),
        residual,
    )
}

/// The shape of `conv2d(x, weight)`'s output, if the convolution is well formed.
#[cfg(feature = "flex")]
fn output_dims(
    x: &Tensor<4>,
    weight: &Tensor<4>,
    stride: usize,
    padding: usize,
) -> Option<[usize; 4]> {
    let ([n, _, h, w], [out, _, k, _]) = (x.dims(), weight.dims());
    let side = |s: usize| {
        (s + 2 * padding)
            .checked_sub(k)?
            .checked_div(stride)
            .map(|q| q + 1)
    };
    Some([n, out, side(h)?, side(w)?])
}

/// The logistic sigmoid `1 / (1 + e^-x)`, element-wise: burn's, or on flex in f32 this crate's
/// parallel pass (burn's evaluates `expf` element by element on one thread, and again in the
/// backward pass), tracked with a backward pass that reuses the output.
pub fn sigmoid<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    #[cfg(feature = "flex")]
    if runs_on_flex(&x.device()) {
        use burn::backend::Dispatch;
        use flex::ResNetKernels;
        return Tensor::from_dispatch(<Dispatch as ResNetKernels>::resnet_sigmoid(
            x.into_dispatch(),
        ));
    }
    burn::tensor::activation::sigmoid(x)
}

/// `ReLU(y + residual)`, or `ReLU(y)` without a residual.
pub fn add_relu(y: Tensor<4>, residual: Option<Tensor<4>>) -> Tensor<4> {
    burn::tensor::activation::relu(match residual {
        Some(residual) => y + residual,
        None => y,
    })
}

/// `bn.forward(x)`, with the batch statistics computed by this crate's kernels when `x` is on
/// flex with autodiff and `bn` trains; the running statistics are updated as burn does.
pub fn batch_norm(bn: &BatchNorm, x: Tensor<4>) -> Tensor<4> {
    if !trains_on_flex(bn, &x) {
        return bn.forward(x);
    }
    let (y, mean, var) = batch_norm_train(x, bn.gamma.val(), bn.beta.val(), bn.epsilon);
    update_running_statistics(bn, mean, var);
    y
}

/// `ReLU(bn.forward(x) + residual)`, without the addition when `residual` is `None`. When `x`
/// is on flex with autodiff and `bn` trains, one operation of this crate's kernels (BN's passes
/// with the addition and ReLU inside them, forward and backward; the running statistics
/// updated as burn does); otherwise [`batch_norm`] then [`add_relu`].
pub fn batch_norm_relu(bn: &BatchNorm, x: Tensor<4>, residual: Option<Tensor<4>>) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if trains_on_flex(bn, &x)
        && residual
            .as_ref()
            .is_none_or(|r| r.device() == x.device() && r.dims() == x.dims())
    {
        use burn::backend::Dispatch;
        use flex::ResNetKernels;
        check_batch_norm_shapes(&x, &bn.gamma.val(), &bn.beta.val());
        let (x, gamma, beta) = (
            x.into_dispatch(),
            bn.gamma.val().into_dispatch(),
            bn.beta.val().into_dispatch(),
        );
        let (y, mean, var) = match residual {
            Some(r) => <Dispatch as ResNetKernels>::resnet_batch_norm_add_relu_train(
                x,
                gamma,
                beta,
                r.into_dispatch(),
                bn.epsilon,
            ),
            None => <Dispatch as ResNetKernels>::resnet_batch_norm_relu_train(
                x, gamma, beta, bn.epsilon,
            ),
        };
        let (mean, var) = (Tensor::from_dispatch(mean), Tensor::from_dispatch(var));
        update_running_statistics(bn, mean, var);
        return Tensor::from_dispatch(y);
    }
    add_relu(batch_norm(bn, x), residual)
}

/// burn's checks of batch normalisation's parameters, which the flex path would otherwise skip.
fn check_batch_norm_shapes(x: &Tensor<4>, gamma: &Tensor<1>, beta: &Tensor<1>) {
    let channels = x.dims()[1];
    assert_eq!(gamma.dims(), [channels], "invalid batch norm gamma shape");
    assert_eq!(beta.dims(), [channels], "invalid batch norm beta shape");
}

/// Whether `bn` on `x` is batch normalisation in training on flex with autodiff: the case this
/// crate's training kernels take.
fn trains_on_flex(bn: &BatchNorm, x: &Tensor<4>) -> bool {
    let device = x.device();
    device.is_autodiff() && bn.training.is_enabled() && runs_on_flex(&device)
}

/// The running averages of `bn` moved towards a batch's `mean` and `var`, as burn does.
fn update_running_statistics(bn: &BatchNorm, mean: Tensor<1>, var: Tensor<1>) {
    let momentum = bn.momentum;
    let update = |state: &burn::module::RunningState<Tensor<1>>, batch: Tensor<1>| {
        let running = state.value_sync().to_device(&batch.device());
        let running = running.mul_scalar(1.0 - momentum) + batch.detach().mul_scalar(momentum);
        state.update(running.detach());
    };
    update(&bn.running_mean, mean);
    update(&bn.running_var, var);
}

/// Batch normalisation in training mode: the output, and the batch mean and biased variance
/// of every channel.
pub fn batch_norm_train(
    x: Tensor<4>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    epsilon: f64,
) -> (Tensor<4>, Tensor<1>, Tensor<1>) {
    check_batch_norm_shapes(&x, &gamma, &beta);
    #[cfg(feature = "flex")]
    if runs_on_flex(&x.device()) {
        use burn::backend::Dispatch;
        use flex::ResNetKernels;
        let (y, mean, var) = <Dispatch as ResNetKernels>::resnet_batch_norm_train(
            x.into_dispatch(),
            gamma.into_dispatch(),
            beta.into_dispatch(),
            epsilon,
        );
        return (
            Tensor::from_dispatch(y),
            Tensor::from_dispatch(mean),
            Tensor::from_dispatch(var),
        );
    }
    let result = burn::tensor::module::batch_norm_train(x, gamma, beta, epsilon);
    (result.output, result.mean, result.variance)
}

/// Whether tensors on `device` live on flex, with or without autodiff.
pub fn runs_on_flex(device: &Device) -> bool {
    #[cfg(feature = "flex")]
    {
        use burn::backend::DispatchDevice;
        let flex = match device.as_dispatch() {
            DispatchDevice::Flex(_) => true,
            DispatchDevice::Autodiff(inner) => matches!(**inner, DispatchDevice::Flex(_)),
            // Reachable when other backends are compiled in.
            #[allow(unreachable_patterns)]
            _ => false,
        };
        if flex {
            // Every flex kernel call passes here: the process's malloc is set up for
            // repeated steps before the first one allocates much.
            allocator::tune_once();
        }
        flex
    }
    #[cfg(not(feature = "flex"))]
    {
        let _ = device;
        false
    }
}
