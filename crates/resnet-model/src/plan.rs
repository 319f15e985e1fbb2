//! The layer-by-layer plan of a network, derived from its [`ResNetConfig`].
//!
//! Building the model and counting its parameters and multiply-adds both walk this one plan,
//! so the figures of `resnet models` describe exactly the network that is built.

use crate::config::{BlockKind, BottleneckStride, ResNetConfig, ShortcutOption, Stem};
use crate::error::ConfigError;

/// A convolution followed by batch normalisation (the paper puts BN after every convolution).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvSpec {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels (filters).
    pub out_channels: usize,
    /// Square kernel side; padding is `kernel / 2` ("same" for stride 1).
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
}

impl ConvSpec {
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
pub enum ShortcutPlan {
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
    /// A 1x1 convolution + BN (options B and C).
    Projection(ConvSpec),
}

/// One block: the layers of its residual function F, and its shortcut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockPlan {
    /// Main-path layers, in order; ReLU follows each but the last, which is followed by the
    /// addition of the shortcut and then ReLU.
    pub layers: Vec<ConvSpec>,
    /// The shortcut.
    pub shortcut: ShortcutPlan,
}

/// The whole network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkPlan {
    /// The stem convolution.
    pub stem: ConvSpec,
    /// Whether the stem ends with a 3x3/2 max pool (ImageNet).
    pub stem_pool: bool,
    /// Blocks of each stage.
    pub stages: Vec<Vec<BlockPlan>>,
    /// Classifier input features.
    pub features: usize,
    /// Classifier outputs.
    pub classes: usize,
}

impl ResNetConfig {
    /// Validates the config and lays out every layer of the network.
    pub fn plan(&self) -> Result<NetworkPlan, ConfigError> {
        self.validate()?;
        let stem_width = self.stage_widths[0];
        let (stem, stem_pool) = match self.stem {
            Stem::ImageNet => (conv(self.in_channels, stem_width, 7, 2), true),
            Stem::Cifar => (conv(self.in_channels, stem_width, 3, 1), false),
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
                    self.block_plan(cin, width, stride)
                })
                .collect();
            stages.push(stage);
            in_channels = out_channels;
        }
        Ok(NetworkPlan {
            stem,
            stem_pool,
            stages,
            features: in_channels,
            classes: self.num_classes,
        })
    }

    fn block_plan(&self, in_channels: usize, width: usize, stride: usize) -> BlockPlan {
        let out_channels = width * self.block.expansion();
        let layers = match self.block {
            BlockKind::Basic => vec![
                conv(in_channels, width, 3, stride),
                conv(width, width, 3, 1),
            ],
            BlockKind::Bottleneck => {
                let (reduce_stride, middle_stride) = match self.bottleneck_stride {
                    BottleneckStride::OnReduce => (stride, 1),
                    BottleneckStride::On3x3 => (1, stride),
                };
                vec![
                    conv(in_channels, width, 1, reduce_stride),
                    conv(width, width, 3, middle_stride),
                    conv(width, out_channels, 1, 1),
                ]
            }
        };
        let reshapes = stride != 1 || in_channels != out_channels;
        let projection = ShortcutPlan::Projection(conv(in_channels, out_channels, 1, stride));
        let shortcut = match self.shortcut {
            ShortcutOption::Plain => ShortcutPlan::None,
            ShortcutOption::C => projection,
            ShortcutOption::B if reshapes => projection,
            ShortcutOption::A | ShortcutOption::B => {
                // Option A pads the missing channels with zeros, half on each side (as the
                // public CIFAR reference does: planes/4 on each side when widths double).
                let extra = out_channels - in_channels;
                ShortcutPlan::Identity {
                    stride,
                    pad: [extra / 2, extra - extra / 2],
                }
            }
        };
        BlockPlan { layers, shortcut }
    }
}

fn conv(in_channels: usize, out_channels: usize, kernel: usize, stride: usize) -> ConvSpec {
    ConvSpec {
        in_channels,
        out_channels,
        kernel,
        stride,
    }
}
