//! [`ConvBn`]: a convolution followed by batch normalisation, the unit every layer is made of
//! (or a convolution alone, where a pre-activation network has no BN after it).

use burn::module::{Initializer, Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor};

use crate::kernels;
use crate::plan::ConvSpec;

/// Convolution (no bias: BN's beta takes its role) followed by batch normalisation; without
/// BN (`bn` is `None`) where a pre-activation network has none after a convolution (its stem,
/// projections, and each unit's last convolution).
#[derive(Module, Debug)]
pub struct ConvBn {
    /// The convolution.
    pub conv: Conv2d,
    /// Batch normalisation of its output, if any.
    pub bn: Option<BatchNorm>,
    /// Whether BN has been folded into the convolution ([`ConvBn::fold_batch_norm`]): the
    /// convolution then computes `BN(conv(x))` alone and `bn` is unused.
    #[module(skip)]
    folded: bool,
}

/// He initialisation with fan-out as PyTorch counts it: `std = sqrt(2 / (out * k * k))`. For a
/// grouped convolution PyTorch's fan-out is `out * k * k` too, where burn's Kaiming initialiser
/// divides it by the groups; a grouped layer gets the normal distribution written out, so
/// that a ResNeXt starts as torchvision's does.
fn initializer(spec: &ConvSpec) -> Initializer {
    if spec.groups == 1 {
        return Initializer::KaimingNormal {
            gain: std::f64::consts::SQRT_2,
            fan_out_only: true,
        };
    }
    let fan_out = (spec.out_channels * spec.kernel * spec.kernel) as f64;
    Initializer::Normal {
        mean: 0.0,
        std: (2.0 / fan_out).sqrt(),
    }
}

impl ConvBn {
    /// Builds the layer with He initialisation (Kaiming normal, fan-out, ReLU gain) and
    /// BN gamma = 1, beta = 0, as the paper (and torchvision) do.
    pub(crate) fn new(spec: &ConvSpec, device: &Device) -> Self {
        let pad = spec.kernel / 2;
        let conv = Conv2dConfig::new(
            [spec.in_channels, spec.out_channels],
            [spec.kernel, spec.kernel],
        )
        .with_stride([spec.stride, spec.stride])
        .with_groups(spec.groups)
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .with_bias(false)
        .with_initializer(initializer(spec))
        .init(device);
        // PyTorch's defaults (eps 1e-5, momentum 0.1), which the public checkpoints assume.
        // Unlike PyTorch, burn (and this crate's flex kernel, to agree with it) tracks the
        // biased batch variance: smaller by a factor (m-1)/m, m = N*H*W values per channel
        // (m >= 8,192 for a CIFAR batch of 128), which is negligible.
        let bn = spec
            .norm
            .then(|| BatchNormConfig::new(spec.out_channels).init(device));
        Self {
            conv,
            bn,
            folded: false,
        }
    }

    /// `BN(conv(x))`, or `conv(x)` without BN.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let y = self.conv_only(x);
        match (&self.bn, self.folded) {
            (Some(bn), false) => kernels::batch_norm(bn, y),
            _ => y,
        }
    }

    /// [`forward`](Self::forward), pushing the output onto `responses` (when given) if the
    /// kernel is 3x3 (paper Fig. 7).
    pub fn forward_recording(
        &self,
        x: Tensor<4>,
        responses: &mut Option<&mut Vec<Tensor<4>>>,
    ) -> Tensor<4> {
        let y = self.forward(x);
        if let Some(responses) = responses
            && self.kernel_size() == 3
        {
            responses.push(y.clone());
        }
        y
    }

    /// `conv(x)`, with the folded bias if any.
    fn conv_only(&self, x: Tensor<4>) -> Tensor<4> {
        let [stride, padding] = self.stride_and_padding();
        let bias = self.conv.bias.as_ref().map(|bias| bias.val());
        let weight = self.conv.weight.val();
        kernels::conv2d(x, weight, bias, stride, padding, self.conv.groups)
    }

    /// `ReLU(BN(conv(x)) + residual)`, without the addition when `residual` is `None`: the
    /// layer, the ReLU after it and, for the last layer of a block, the shortcut. With
    /// `responses`, a 3x3 layer pushes its response `BN(conv(x))` (paper Fig. 7) onto it;
    /// without, a folded layer runs as one fused kernel on flex (f32), and an unfolded one has
    /// BN, the addition and ReLU in one operation ([`kernels::batch_norm_relu`]).
    pub fn forward_relu(
        &self,
        x: Tensor<4>,
        residual: Option<Tensor<4>>,
        responses: &mut Option<&mut Vec<Tensor<4>>>,
    ) -> Tensor<4> {
        if let (None, true, Some(bias)) = (&responses, self.folded, &self.conv.bias) {
            let [stride, padding] = self.stride_and_padding();
            let weight = self.conv.weight.val();
            let groups = self.conv.groups;
            return kernels::conv2d_relu(x, weight, bias.val(), residual, stride, padding, groups);
        }
        if let (None, false, Some(bn)) = (&responses, self.folded, &self.bn) {
            return kernels::batch_norm_relu(bn, self.conv_only(x), residual);
        }
        let y = self.forward_recording(x, responses);
        kernels::add_relu(y, residual)
    }

    /// The convolution's stride and padding (built square and symmetric in `new`).
    fn stride_and_padding(&self) -> [usize; 2] {
        let padding = match self.conv.padding {
            PaddingConfig2d::Explicit(top, ..) => top,
            _ => self.kernel_size() / 2,
        };
        [self.conv.stride[0], padding]
    }

    /// Folds inference-mode BN into the convolution: with `s = gamma / sqrt(var + eps)`, the
    /// weights become `W * s` (per output channel) and the bias `beta - mean * s`. One pass
    /// over the output instead of BN's several; for inference only (a folded layer no longer
    /// trains BN, and its record has a bias that the unfolded network lacks). A convolution
    /// without BN is returned as it is.
    pub fn fold_batch_norm(mut self) -> Self {
        let Some(bn) = (!self.folded).then_some(self.bn.as_ref()).flatten() else {
            return self;
        };
        let scale = bn.gamma.val() / bn.running_var.value().add_scalar(bn.epsilon).sqrt();
        let shift = bn.beta.val() - bn.running_mean.value() * scale.clone();
        let [out, _, _, _] = self.conv.weight.dims();
        let weight = self.conv.weight.val() * scale.reshape([out, 1, 1, 1]);
        self.conv.weight = Param::initialized(self.conv.weight.id, weight);
        self.conv.bias = Some(Param::from_tensor(shift));
        self.folded = true;
        self
    }

    /// Whether BN has been folded into the convolution ([`ConvBn::fold_batch_norm`]).
    pub fn is_folded(&self) -> bool {
        self.folded
    }

    /// Side of the (square) kernel.
    pub fn kernel_size(&self) -> usize {
        self.conv.kernel_size[0]
    }

    /// Sets BN's gamma to zero, so that the layer starts by outputting beta (= 0).
    pub(crate) fn zero_gamma(mut self) -> Self {
        if let Some(bn) = &mut self.bn {
            bn.gamma = bn.gamma.clone().map(|gamma| gamma.zeros_like());
        }
        self
    }

    /// Sets the convolution's weights to zero, so that the layer starts by outputting zero.
    pub(crate) fn zero_weight(mut self) -> Self {
        self.conv.weight = self.conv.weight.map(|w| w.zeros_like());
        self
    }
}
