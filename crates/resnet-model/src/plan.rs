//! The layer-by-layer plan of a network, derived from its [`ResNetConfig`].
//!
//! Building the model and counting its parameters and multiply-adds
//! ([`ResNetConfig::cost`]) both walk this one plan, so the figures of `resnet models` describe
//! exactly the network that is built. Each block kind lays out its own layers
//! ([`crate::blocks`]); this file lays out the stem, the stages and the head.

use crate::blocks::{self, BlockSpec};
use crate::config::{BlockKind, ResNetConfig, Stem};
use crate::error::ConfigError;

/// A convolution, followed by batch normalisation unless `norm` is false.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConvSpec {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels (filters).
    pub out_channels: usize,
    /// Square kernel side; padding is `kernel / 2` ("same" for stride 1).
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Groups: the input and output channels split into this many groups, each output group
    /// computed from its input group alone (ResNeXt's cardinality; 1 for a full convolution).
    pub groups: usize,
    /// Whether BN follows the convolution (the paper puts BN after every convolution; a
    /// pre-activation network's stem, projections and last layer of a block have none).
    pub norm: bool,
}

impl ConvSpec {
    /// A convolution followed by BN.
    pub fn new(in_channels: usize, out_channels: usize, kernel: usize, stride: usize) -> Self {
        Self {
            in_channels,
            out_channels,
            kernel,
            stride,
            groups: 1,
            norm: true,
        }
    }

    /// The same convolution in `groups` groups.
    pub fn grouped(self, groups: usize) -> Self {
        Self { groups, ..self }
    }

    /// Learnable weights (BN's aside): a grouped convolution has `groups` times fewer.
    pub fn weights(&self) -> u64 {
        (self.in_channels / self.groups * self.out_channels * self.kernel * self.kernel) as u64
    }

    /// The same convolution without BN after it.
    pub fn without_norm(self) -> Self {
        Self {
            norm: false,
            ..self
        }
    }

    /// Output side length for an input side of `size`.
    pub fn output_size(&self, size: usize) -> usize {
        // An input smaller than the kernel (padding included) has no output.
        (size + 2 * (self.kernel / 2))
            .checked_sub(self.kernel)
            .map_or(0, |span| span / self.stride + 1)
    }
}

/// How a block's shortcut is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShortcutPlan {
    /// No shortcut (plain network).
    None,
    /// Parameter-free: identity, subsampled by `stride` and zero-padded by `pad` channels
    /// before and after (option A; identity when `stride == 1` and `pad == [0, 0]`).
    Identity {
        /// Spatial subsampling (`x[:, :, ::stride, ::stride]`).
        stride: usize,
        /// Zero channels added before and after the input's channels.
        pad: [usize; 2],
    },
    /// A 1x1 convolution, with BN in the post-activation networks (options B and C).
    Projection(ConvSpec),
}

/// One block: its kind, the layers of its residual function F, and its shortcut.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BlockPlan {
    /// Which block this is.
    pub kind: BlockKind,
    /// BN (and ReLU) on the block's input before anything else: a pre-activation block's
    /// first BN, over this many channels.
    pub pre_norm: Option<usize>,
    /// Main-path convolutions, in order.
    pub layers: Vec<ConvSpec>,
    /// Dropout probability between the first and second convolutions, in training (0: none).
    pub dropout: f64,
    /// A Highway gate on the join: its 1x1 convolution (with a bias) and the bias's initial
    /// value.
    pub gate: Option<(ConvSpec, f64)>,
    /// The shortcut.
    pub shortcut: ShortcutPlan,
}

/// The whole network.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NetworkPlan {
    /// The stem convolution (with BN, unless the network is pre-activation).
    pub stem: ConvSpec,
    /// Whether the stem ends with a 3x3/2 max pool (ImageNet).
    pub stem_pool: bool,
    /// Blocks of each stage.
    pub stages: Vec<Vec<BlockPlan>>,
    /// BN (and ReLU) over the last stage's output before pooling (pre-activation networks).
    pub head_norm: Option<usize>,
    /// Classifier input features.
    pub features: usize,
    /// Classifier outputs.
    pub classes: usize,
}

impl ResNetConfig {
    /// Validates the config and lays out every layer of the network.
    pub(crate) fn plan(&self) -> Result<NetworkPlan, ConfigError> {
        self.validate()?;
        let stem_width = self.stem_channels();
        let (stem, stem_pool) = match self.stem {
            Stem::ImageNet => (ConvSpec::new(self.in_channels, stem_width, 7, 2), true),
            Stem::Cifar => (ConvSpec::new(self.in_channels, stem_width, 3, 1), false),
        };
        let pre_activation = self.block.is_pre_activation();
        let stem = match pre_activation {
            // The first block's BN + ReLU normalise the stem's output.
            true => stem.without_norm(),
            false => stem,
        };
        let mut in_channels = stem_width;
        let mut stages = Vec::with_capacity(self.blocks_per_stage.len());
        for (index, (&blocks, &width)) in self
            .blocks_per_stage
            .iter()
            .zip(&self.stage_widths)
            .enumerate()
        {
            let out_channels = width * self.block.expansion();
            let first_stride = if index == 0 { 1 } else { 2 };
            let stage = (0..blocks)
                .map(|b| {
                    let (cin, stride) = match b {
                        0 => (in_channels, first_stride),
                        _ => (out_channels, 1),
                    };
                    blocks::plan(&BlockSpec {
                        kind: self.block,
                        in_channels: cin,
                        width,
                        inner_width: self.inner_width(index),
                        cardinality: self.cardinality,
                        stride,
                        shortcut: self.shortcut,
                        bottleneck_stride: self.bottleneck_stride,
                        dropout: self.dropout,
                        gate_bias: self.gate_bias,
                    })
                })
                .collect();
            stages.push(stage);
            in_channels = out_channels;
        }
        Ok(NetworkPlan {
            stem,
            stem_pool,
            stages,
            head_norm: pre_activation.then_some(in_channels),
            features: in_channels,
            classes: self.num_classes,
        })
    }
}
