//! The blocks a stage is made of, one file per kind, and [`Block`], the module that holds any
//! of them.
//!
//! A block kind owns its layout (the convolutions of its plan, from which the network's
//! parameters and multiply-adds are counted), its layers, its forward pass (training, and
//! inference with what it can fold or fuse), its Fig. 7 responses and the PyTorch names of its
//! tensors. A new kind is a new file here, a [`BlockKind`] variant and a [`Block`] variant.

mod basic;
mod bottleneck;
pub mod gate;
mod preact;

use burn::module::Module;
use burn::tensor::{Device, Tensor};

pub use basic::BasicBlock;
pub use bottleneck::Bottleneck;
pub use preact::PreActBlock;

use crate::config::{BlockKind, BottleneckStride, ShortcutOption};
use crate::conv_bn::ConvBn;
use crate::plan::{BlockPlan, ConvSpec, ShortcutPlan};
use crate::shortcut::Shortcut;

/// What a stage asks of one of its blocks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BlockSpec {
    /// The kind of block.
    pub kind: BlockKind,
    /// Channels of the block's input.
    pub in_channels: usize,
    /// The stage's base width (the 3x3 layers' filters; a bottleneck's output is
    /// [`BlockKind::expansion`] times as wide).
    pub width: usize,
    /// A bottleneck's channels between its 1x1 layers (its 3x3's): `width`, or
    /// [`ResNetConfig::inner_width`](crate::ResNetConfig::inner_width) in a ResNeXt or a wide
    /// bottleneck network.
    pub inner_width: usize,
    /// Groups of a bottleneck's 3x3 convolution (ResNeXt's cardinality).
    pub cardinality: usize,
    /// 2 for a stage's first block after the first stage (halves the resolution), else 1.
    pub stride: usize,
    /// How shortcuts are drawn.
    pub shortcut: ShortcutOption,
    /// Where a bottleneck puts its stride.
    pub bottleneck_stride: BottleneckStride,
    /// Dropout between a basic block's two convolutions, in training.
    pub dropout: f64,
    /// A Highway gate on the join, with its bias's initial value ([`gate`]).
    pub gate_bias: Option<f64>,
}

impl BlockSpec {
    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.width * self.kind.expansion()
    }

    /// The strides of a bottleneck's 1x1 reduce and its 3x3.
    pub fn bottleneck_strides(&self) -> (usize, usize) {
        match self.bottleneck_stride {
            BottleneckStride::OnReduce => (self.stride, 1),
            BottleneckStride::On3x3 => (1, self.stride),
        }
    }

    /// A bottleneck's three convolutions, each followed by BN: 1x1 to the inner width, 3x3 in
    /// `cardinality` groups, 1x1 to the output width; the stride where
    /// [`Self::bottleneck_strides`] puts it.
    pub fn bottleneck_layers(&self) -> Vec<ConvSpec> {
        let (reduce_stride, middle_stride) = self.bottleneck_strides();
        let inner = self.inner_width;
        vec![
            ConvSpec::new(self.in_channels, inner, 1, reduce_stride),
            ConvSpec::new(inner, inner, 3, middle_stride).grouped(self.cardinality),
            ConvSpec::new(inner, self.out_channels(), 1, 1),
        ]
    }

    /// The gate of a gated block: a 1x1 convolution from the block's input to its output, with
    /// its stride, and the initial bias.
    pub fn gate_plan(&self) -> Option<(ConvSpec, f64)> {
        let conv = ConvSpec::new(self.in_channels, self.out_channels(), 1, self.stride);
        self.gate_bias.map(|bias| (conv.without_norm(), bias))
    }

    /// The shortcut (section 3.3): none in a plain network; a projection everywhere (option C)
    /// or where dimensions change (B); otherwise the identity, which option A subsamples and
    /// pads with zero channels, half on each side (as the public CIFAR reference does: planes/4
    /// on each side when widths double). `projection_norm`: whether BN follows a projection.
    pub fn shortcut_plan(&self, projection_norm: bool) -> ShortcutPlan {
        let (cin, cout) = (self.in_channels, self.out_channels());
        let reshapes = self.stride != 1 || cin != cout;
        let conv = ConvSpec::new(cin, cout, 1, self.stride);
        let projection = ShortcutPlan::Projection(match projection_norm {
            true => conv,
            false => conv.without_norm(),
        });
        match self.shortcut {
            ShortcutOption::Plain => ShortcutPlan::None,
            ShortcutOption::C => projection,
            ShortcutOption::B if reshapes => projection,
            ShortcutOption::A | ShortcutOption::B => {
                let extra = cout - cin;
                ShortcutPlan::Identity {
                    stride: self.stride,
                    pad: [extra / 2, extra - extra / 2],
                }
            }
        }
    }
}

/// The layout of the block `spec` describes.
pub(crate) fn plan(spec: &BlockSpec) -> BlockPlan {
    match spec.kind {
        BlockKind::Basic => basic::plan(spec),
        BlockKind::Bottleneck => bottleneck::plan(spec),
        BlockKind::PreActBasic | BlockKind::PreActBottleneck => preact::plan(spec),
    }
}

/// PyTorch tensor names (regex) of a block kind's layers → this crate's, applied in order to
/// names already inside a block (`…blocks.<j>.`).
pub(crate) fn pytorch_keys(kind: BlockKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        BlockKind::Basic => basic::PYTORCH_KEYS,
        BlockKind::Bottleneck => bottleneck::PYTORCH_KEYS,
        BlockKind::PreActBasic | BlockKind::PreActBottleneck => preact::PYTORCH_KEYS,
    }
}

/// How a block's residual function F joins its shortcut on one forward pass: stochastic depth
/// (Huang, Sun, Liu, Sedra, Weinberger 2016) leaves it out or scales it; a lesion study (Veit,
/// Wilber, Belongie 2016) leaves chosen blocks out at test time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Residual {
    /// `F(x)` as it is.
    Full,
    /// `F(x) * s`: in training, a block that survived with probability `p` scales its function
    /// by `s = 1 / p` (timm's `drop_path` rule), so that inference uses every block unscaled.
    Scaled(f32),
    /// `F` not computed: the block is its shortcut alone (then the ReLU after the join, in a
    /// post-activation block); a block without a shortcut (plain network) passes its input on.
    Skipped,
}

/// Dropout in training (on a device that records gradients): each value zeroed with
/// probability `p`, the others scaled by `1 / (1 - p)`; `x` itself otherwise. The mask comes
/// from the device's random generator, which training seeds at every step so that a resumed
/// run draws the same masks.
pub(crate) fn dropout(x: Tensor<4>, p: f64) -> Tensor<4> {
    if p == 0.0 || !x.device().is_autodiff() {
        return x;
    }
    let keep = 1.0 - p;
    let mask = x.random_like(burn::tensor::Distribution::Bernoulli(keep));
    (x * mask).mul_scalar(1.0 / keep)
}

/// One block of a stage, of any kind.
///
/// In a burn record the kind's name is part of each tensor's path
/// (`stages.0.blocks.1.Basic.conv1.conv.weight`).
#[derive(Module, Debug)]
pub enum Block {
    /// The paper's basic block (Fig. 5 left).
    Basic(BasicBlock),
    /// The paper's bottleneck block (Fig. 5 right).
    Bottleneck(Bottleneck),
    /// The pre-activation basic unit (2016 paper).
    PreActBasic(PreActBlock),
    /// The pre-activation bottleneck unit (2016 paper).
    PreActBottleneck(PreActBlock),
}

impl Block {
    /// Builds the block a plan describes; `zero_init_residual` makes a residual block start as
    /// the identity (its last BN gamma, or a pre-activation block's last convolution, zero).
    pub(crate) fn new(plan: &BlockPlan, zero_init_residual: bool, device: &Device) -> Self {
        let zero = zero_init_residual && plan.shortcut != ShortcutPlan::None;
        match plan.kind {
            BlockKind::Basic => Self::Basic(BasicBlock::new(plan, zero, device)),
            BlockKind::Bottleneck => Self::Bottleneck(Bottleneck::new(plan, zero, device)),
            BlockKind::PreActBasic => Self::PreActBasic(PreActBlock::new(plan, zero, device)),
            BlockKind::PreActBottleneck => {
                Self::PreActBottleneck(PreActBlock::new(plan, zero, device))
            }
        }
    }

    /// The block's output.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_recording(x, &mut None, Residual::Full)
    }

    /// The block's output with its residual function as `residual` says; pushes onto
    /// `responses` (when given) the response of every 3x3 layer that runs (paper Fig. 7; see
    /// each kind for what it records).
    pub fn forward_recording(
        &self,
        x: Tensor<4>,
        responses: &mut Option<&mut Vec<Tensor<4>>>,
        residual: Residual,
    ) -> Tensor<4> {
        match self {
            Self::Basic(block) => block.forward(x, responses, residual),
            Self::Bottleneck(block) => block.forward(x, responses, residual),
            Self::PreActBasic(block) | Self::PreActBottleneck(block) => {
                block.forward(x, responses, residual)
            }
        }
    }

    /// Folds every BN that directly follows a convolution into it (inference only).
    pub fn fold_batch_norm(self) -> Self {
        match self {
            Self::Basic(block) => Self::Basic(block.fold_batch_norm()),
            Self::Bottleneck(block) => Self::Bottleneck(block.fold_batch_norm()),
            Self::PreActBasic(block) => Self::PreActBasic(block.fold_batch_norm()),
            Self::PreActBottleneck(block) => Self::PreActBottleneck(block.fold_batch_norm()),
        }
    }

    /// The block's convolutions (each with the BN after it, if any), main path then shortcut.
    pub fn conv_bns(&self) -> Vec<&ConvBn> {
        match self {
            Self::Basic(block) => block.conv_bns(),
            Self::Bottleneck(block) => block.conv_bns(),
            Self::PreActBasic(block) | Self::PreActBottleneck(block) => block.conv_bns(),
        }
    }

    /// The shortcut, or `None` in a plain network.
    pub fn shortcut(&self) -> Option<&Shortcut> {
        match self {
            Self::Basic(block) => block.shortcut.as_ref(),
            Self::Bottleneck(block) => block.shortcut.as_ref(),
            Self::PreActBasic(block) | Self::PreActBottleneck(block) => block.shortcut.as_ref(),
        }
    }

    /// The gate's 1x1 convolution of a gated block ([`gate`]).
    pub fn gate(&self) -> Option<&burn::nn::conv::Conv2d> {
        match self {
            Self::Basic(block) => block.gate.as_ref(),
            Self::Bottleneck(block) => block.gate.as_ref(),
            Self::PreActBasic(block) | Self::PreActBottleneck(block) => block.gate.as_ref(),
        }
    }

    /// The kind of block this is.
    pub fn kind(&self) -> BlockKind {
        match self {
            Self::Basic(_) => BlockKind::Basic,
            Self::Bottleneck(_) => BlockKind::Bottleneck,
            Self::PreActBasic(_) => BlockKind::PreActBasic,
            Self::PreActBottleneck(_) => BlockKind::PreActBottleneck,
        }
    }
}

/// The output of a post-activation block, `ReLU(F + shortcut)`, from its last layer and its
/// shortcut: `last` computes `F`'s last layer (with BN) from `h`; with [`Residual::Full`] and
/// no gate, the layer, the addition and the ReLU run as one operation. With a gate's
/// `opening`, `ReLU(T F + (1 - T) shortcut)` ([`gate`]).
pub(crate) fn join_post_activation(
    last: &ConvBn,
    h: Tensor<4>,
    shortcut: Option<Tensor<4>>,
    opening: Option<Tensor<4>>,
    responses: &mut Option<&mut Vec<Tensor<4>>>,
    residual: Residual,
) -> Tensor<4> {
    let f = match (residual, &opening) {
        (Residual::Full, None) => return last.forward_relu(h, shortcut, responses),
        (Residual::Full, Some(_)) => last.forward_recording(h, responses),
        (Residual::Scaled(s), _) => last.forward_recording(h, responses).mul_scalar(s),
        (Residual::Skipped, _) => unreachable!("a skipped block computes no layer"),
    };
    match (opening, shortcut) {
        (Some(t), Some(s)) => crate::kernels::add_relu(gate::join(t, f, s), None),
        (_, shortcut) => crate::kernels::add_relu(f, shortcut),
    }
}

/// The gate's opening `T(x)` of a block with a gate.
pub(crate) fn opening(gate: Option<&burn::nn::conv::Conv2d>, x: &Tensor<4>) -> Option<Tensor<4>> {
    gate.map(|g| gate::opening(g, x.clone()))
}

/// The name a block kind's tensors carry in burn records (the [`Block`] variant's).
pub(crate) fn record_name(kind: BlockKind) -> &'static str {
    match kind {
        BlockKind::Basic => "Basic",
        BlockKind::Bottleneck => "Bottleneck",
        BlockKind::PreActBasic => "PreActBasic",
        BlockKind::PreActBottleneck => "PreActBottleneck",
    }
}
