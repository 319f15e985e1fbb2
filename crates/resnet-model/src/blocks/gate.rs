//! The gated shortcut of Highway networks (Srivastava, Greff, Schmidhuber 2015), on any block:
//! `y = T(x) F(x) + (1 - T(x)) s(x)`, `T(x) = sigmoid(W_T x + b_T)` per channel and position
//! (a 1x1 convolution with the block's stride and output width). The paper contrasts it with
//! its parameter-free identity (section 2: "when a gated shortcut is closed, the layers
//! represent non-residual functions"); *Identity Mappings* (2016, Table 1) measures it on
//! ResNet-110: 8.70% CIFAR-10 error against the identity's 6.61%.

use burn::module::{Initializer, Param};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::{Device, Tensor};

use crate::plan::{BlockPlan, ConvSpec};

/// The gate of the block `plan` describes, if it has one.
pub(crate) fn of(plan: &BlockPlan, device: &Device) -> Option<Conv2d> {
    (plan.gate.as_ref()).map(|(spec, bias)| new(spec, *bias, device))
}

/// The gate's 1x1 convolution, He-initialised (fan-out) as the other layers, its bias at
/// `bias` (negative: the block starts close to passing its shortcut on; the Highway paper
/// used -1 to -3).
fn new(spec: &ConvSpec, bias: f64, device: &Device) -> Conv2d {
    let mut conv = Conv2dConfig::new([spec.in_channels, spec.out_channels], [1, 1])
        .with_stride([spec.stride, spec.stride])
        .with_padding(PaddingConfig2d::Explicit(0, 0, 0, 0))
        .with_bias(true)
        .with_initializer(Initializer::KaimingNormal {
            gain: std::f64::consts::SQRT_2,
            fan_out_only: true,
        })
        .init(device);
    let b = Tensor::<1>::full([spec.out_channels], bias, device);
    conv.bias = Some(Param::from_tensor(b));
    conv
}

/// `T(x)`, the gate's opening in (0, 1), shaped as the block's output. The 1x1 convolution and
/// the sigmoid run through the project's kernels, as the block's other layers do (on flex,
/// burn's sigmoid runs one `expf` at a time on one thread: see `resnet_kernels::sigmoid`; a gated
/// ResNet-56 trains 1.6x faster with both).
pub fn opening(gate: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let stride = gate.stride[0];
    let bias = gate.bias.as_ref().map(|b| b.val());
    let t = crate::kernels::conv2d(x, gate.weight.val(), bias, stride, 0, 1);
    crate::kernels::sigmoid(t)
}

/// `T F + (1 - T) s`, written `s + T (F - s)`.
pub(crate) fn join(opening: Tensor<4>, f: Tensor<4>, shortcut: Tensor<4>) -> Tensor<4> {
    shortcut.clone() + opening * (f - shortcut)
}
