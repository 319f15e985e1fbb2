//! The convolution and batch-norm kernels (`conv_f32`, `batch_norm_f32`) plugged into burn
//! through its backend-extension mechanism: operations on `Flex` and, on `Autodiff<Flex>`,
//! the backward passes of the training operations written by hand (the extension macro derives
//! no gradients); the inference-only fused operations are composed of tracked operations there.

mod batch_norm;
mod conv;
mod sigmoid;

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::flex::FlexTensor;
use burn::backend::ops::{ActivationOps, FloatTensorOps};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Flex, Shape, TensorMetadata, backend_extension};
use burn::tensor::TensorData;

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

    /// The logistic sigmoid, element-wise (a Highway gate's opening).
    fn resnet_sigmoid(x: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// A float tensor of `Autodiff<Flex, C>`.
type Tracked<C> = FloatTensor<Autodiff<Flex, C>>;

/// Runs `f` on the f32 elements of `tensors` (made contiguous first).
fn with_f32<const N: usize, R>(tensors: [&FlexTensor; N], f: impl FnOnce([&[f32]; N]) -> R) -> R {
    let contiguous = tensors.map(FlexTensor::to_contiguous);
    let slices = contiguous.each_ref().map(|t| {
        t.as_slice::<f32>()
            .expect("a contiguous f32 tensor has a slice")
    });
    f(slices)
}

fn tensor(values: Vec<f32>, shape: impl Into<Shape>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

impl ResNetKernels for Flex {
    fn resnet_conv2d(
        x: FlexTensor,
        weight: FlexTensor,
        stride: usize,
        padding: usize,
        groups: usize,
    ) -> FlexTensor {
        conv::conv2d(x, weight, [stride, padding, groups])
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
        conv::conv2d_fused(x, weight, bias, None, relu, [stride, padding, groups])
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
        conv::conv2d_fused(
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
        batch_norm::batch_norm_fused(x, gamma, beta, None, false, epsilon)
    }

    fn resnet_batch_norm_relu_train(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f64,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        batch_norm::batch_norm_fused(x, gamma, beta, None, true, epsilon)
    }

    fn resnet_batch_norm_add_relu_train(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        residual: FlexTensor,
        epsilon: f64,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        batch_norm::batch_norm_fused(x, gamma, beta, Some(residual), true, epsilon)
    }

    fn resnet_sigmoid(x: FlexTensor) -> FlexTensor {
        sigmoid::sigmoid(x)
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
        conv::conv2d_tracked::<C>(x, weight, [stride, padding, groups])
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
        batch_norm::batch_norm_tracked::<C>(x, gamma, beta, None, false, epsilon)
    }

    fn resnet_batch_norm_relu_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        batch_norm::batch_norm_tracked::<C>(x, gamma, beta, None, true, epsilon)
    }

    fn resnet_batch_norm_add_relu_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        residual: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        batch_norm::batch_norm_tracked::<C>(x, gamma, beta, Some(residual), true, epsilon)
    }

    fn resnet_sigmoid(x: FloatTensor<Self>) -> FloatTensor<Self> {
        sigmoid::sigmoid_tracked::<C>(x)
    }
}
