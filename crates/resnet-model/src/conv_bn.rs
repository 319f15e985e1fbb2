//! [`ConvBn`]: a convolution followed by batch normalisation, the unit every layer is made of.

use burn::module::{Initializer, Module};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor};

use crate::plan::ConvSpec;

/// Convolution (no bias: BN's beta takes its role) followed by batch normalisation.
#[derive(Module, Debug)]
pub struct ConvBn {
    /// The convolution.
    pub conv: Conv2d,
    /// Batch normalisation of its output.
    pub bn: BatchNorm,
}

impl ConvBn {
    /// Builds the layer with He initialisation (Kaiming normal, fan-out, ReLU gain) and
    /// BN gamma = 1, beta = 0, as the paper (and torchvision) do.
    pub fn new(spec: &ConvSpec, device: &Device) -> Self {
        let pad = spec.kernel / 2;
        let conv = Conv2dConfig::new(
            [spec.in_channels, spec.out_channels],
            [spec.kernel, spec.kernel],
        )
        .with_stride([spec.stride, spec.stride])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .with_bias(false)
        .with_initializer(Initializer::KaimingNormal {
            gain: std::f64::consts::SQRT_2,
            fan_out_only: true,
        })
        .init(device);
        // PyTorch's defaults (eps 1e-5, momentum 0.1), which the public checkpoints assume.
        let bn = BatchNormConfig::new(spec.out_channels).init(device);
        Self { conv, bn }
    }

    /// `BN(conv(x))`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.bn.forward(self.conv.forward(x))
    }

    /// Side of the (square) kernel.
    pub fn kernel_size(&self) -> usize {
        self.conv.kernel_size[0]
    }

    /// Sets BN's gamma to zero, so that the layer starts by outputting beta (= 0).
    pub fn zero_gamma(mut self) -> Self {
        self.bn.gamma = self.bn.gamma.map(|gamma| gamma.zeros_like());
        self
    }
}
