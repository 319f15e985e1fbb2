//! [`ResNetConfig`]: one description for every network of the paper.
//!
//! The paper's networks differ only in their stem (Table 1's `conv1` + max pool, or the CIFAR
//! 3x3 conv of section 4.2), their block (basic or bottleneck), the number of blocks per stage,
//! and how (or whether) shortcuts are drawn. A config captures exactly those choices; the named
//! constructors below are thin presets over it.

use burn::config::Config;
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// The input layer that precedes the stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stem {
    /// Table 1's `conv1`: 7x7/2 convolution, then a 3x3/2 max pool. Input 224x224.
    ImageNet,
    /// Section 4.2: a single 3x3/1 convolution. Input 32x32.
    Cifar,
}

/// The building block of each stage: the paper's two (Fig. 5), and their pre-activation
/// versions (He et al. 2016, *Identity Mappings in Deep Residual Networks*, Fig. 4e). Each is
/// one file under `blocks/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BlockKind {
    /// Two 3x3 layers (Fig. 5 left); output width = the stage's width.
    #[serde(rename = "basic")]
    Basic,
    /// 1x1 reduce, 3x3, 1x1 restore (Fig. 5 right); output width = 4x the stage's width.
    #[serde(rename = "bottleneck")]
    Bottleneck,
    /// The basic block with BN and ReLU before each 3x3 convolution and nothing after the
    /// addition (2016 paper, Fig. 4e).
    #[serde(rename = "preact-basic")]
    PreActBasic,
    /// The bottleneck with BN and ReLU before each of its three convolutions (2016 paper;
    /// timm's `PreActBottleneck`).
    #[serde(rename = "preact-bottleneck")]
    PreActBottleneck,
}

impl BlockKind {
    /// Ratio of a block's output channels to its stage's base width.
    pub fn expansion(self) -> usize {
        match self {
            BlockKind::Basic | BlockKind::PreActBasic => 1,
            BlockKind::Bottleneck | BlockKind::PreActBottleneck => 4,
        }
    }

    /// Weighted layers (convolutions) on a block's main path.
    pub fn layers(self) -> usize {
        match self {
            BlockKind::Basic | BlockKind::PreActBasic => 2,
            BlockKind::Bottleneck | BlockKind::PreActBottleneck => 3,
        }
    }

    /// Whether BN and ReLU come before each convolution (the 2016 paper): the network's stem
    /// is then a convolution alone, and one BN + ReLU follows the last stage.
    pub fn is_pre_activation(self) -> bool {
        matches!(self, BlockKind::PreActBasic | BlockKind::PreActBottleneck)
    }

    /// Whether the block is a bottleneck (1x1, 3x3, 1x1).
    pub fn is_bottleneck(self) -> bool {
        self.expansion() > 1
    }

    /// The kind's name in configs and tables (`basic`, `preact-bottleneck`, ...).
    pub fn name(self) -> &'static str {
        match self {
            BlockKind::Basic => "basic",
            BlockKind::Bottleneck => "bottleneck",
            BlockKind::PreActBasic => "preact-basic",
            BlockKind::PreActBottleneck => "preact-bottleneck",
        }
    }

    /// The pre-activation version of this kind (itself if it is one).
    pub fn pre_activation(self) -> Self {
        match self {
            BlockKind::Basic | BlockKind::PreActBasic => BlockKind::PreActBasic,
            BlockKind::Bottleneck | BlockKind::PreActBottleneck => BlockKind::PreActBottleneck,
        }
    }
}

/// How shortcuts are drawn (paper section 3.3 and Table 3), or `Plain` for none at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShortcutOption {
    /// No shortcuts: the paper's plain baseline, otherwise identical to the residual net.
    #[serde(rename = "plain")]
    Plain,
    /// Identity everywhere; where dimensions grow, stride-2 subsampling and zero-padded
    /// channels (parameter-free).
    A,
    /// Projection (1x1 conv + BN) only where dimensions change, identity elsewhere.
    B,
    /// Projection on every shortcut.
    C,
}

impl ShortcutOption {
    /// Whether the network has shortcut connections at all.
    pub fn is_residual(self) -> bool {
        self != ShortcutOption::Plain
    }
}

/// Where a bottleneck block that changes resolution puts its stride of 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BottleneckStride {
    /// On the first 1x1 convolution, as in the paper (and its Caffe release): "v1".
    #[serde(rename = "1x1")]
    OnReduce,
    /// On the 3x3 convolution, as in torchvision ("v1.5"); needed for torchvision weights.
    #[serde(rename = "3x3")]
    On3x3,
}

/// Describes any ResNet or plain network of the paper.
///
/// Serialises to JSON; build a model from it with [`ResNetConfig::init`].
#[derive(Config, Debug, PartialEq)]
pub struct ResNetConfig {
    /// The input layer.
    pub stem: Stem,
    /// The kind of block: basic or bottleneck, post- or pre-activation.
    pub block: BlockKind,
    /// Number of blocks in each stage.
    pub blocks_per_stage: Vec<usize>,
    /// Base width (filters of the 3x3 layers) of each stage; each stage after the first halves
    /// the resolution. The stem has as many filters as the first stage.
    pub stage_widths: Vec<usize>,
    /// Shortcut option, or plain.
    #[config(default = "ShortcutOption::B")]
    pub shortcut: ShortcutOption,
    /// Stride placement in bottleneck blocks, pre-activation ones too (ignored by basic blocks).
    #[config(default = "BottleneckStride::OnReduce")]
    pub bottleneck_stride: BottleneckStride,
    /// Number of output classes of the classifier.
    #[config(default = 1000)]
    pub num_classes: usize,
    /// Number of input channels.
    #[config(default = 3)]
    pub in_channels: usize,
    /// Initialise each residual block's last BN gamma (a pre-activation block's last
    /// convolution, which no BN follows) to zero, so that every block starts as the identity
    /// (Goyal et al., 2017). Not in the paper; off by default.
    #[config(default = false)]
    pub zero_init_residual: bool,
}

impl ResNetConfig {
    /// An ImageNet network of Table 1 with the given block kind and blocks per stage
    /// (option B shortcuts, stride on the 1x1 as in the paper).
    pub fn imagenet(block: BlockKind, blocks_per_stage: [usize; 4]) -> Self {
        Self::new(
            Stem::ImageNet,
            block,
            blocks_per_stage.to_vec(),
            vec![64, 128, 256, 512],
        )
    }

    /// ResNet-18 (Table 1).
    pub fn resnet18() -> Self {
        Self::imagenet(BlockKind::Basic, [2, 2, 2, 2])
    }

    /// ResNet-34 (Table 1).
    pub fn resnet34() -> Self {
        Self::imagenet(BlockKind::Basic, [3, 4, 6, 3])
    }

    /// ResNet-50 (Table 1).
    pub fn resnet50() -> Self {
        Self::imagenet(BlockKind::Bottleneck, [3, 4, 6, 3])
    }

    /// ResNet-101 (Table 1).
    pub fn resnet101() -> Self {
        Self::imagenet(BlockKind::Bottleneck, [3, 4, 23, 3])
    }

    /// ResNet-152 (Table 1).
    pub fn resnet152() -> Self {
        Self::imagenet(BlockKind::Bottleneck, [3, 8, 36, 3])
    }

    /// The CIFAR network of section 4.2 with `depth = 6n + 2` layers: three stages of `n`
    /// basic blocks on 32/16/8 maps with 16/32/64 filters, option A shortcuts, 10 classes.
    pub fn cifar(depth: usize) -> Result<Self, ConfigError> {
        let n = cifar_blocks_per_stage(depth)?;
        Ok(
            Self::new(Stem::Cifar, BlockKind::Basic, vec![n; 3], vec![16, 32, 64])
                .with_shortcut(ShortcutOption::A)
                .with_num_classes(10),
        )
    }

    /// The pre-activation CIFAR network of the 2016 paper with `depth = 6n + 2` layers: the
    /// section 4.2 network with pre-activation basic blocks (option A shortcuts, as the 2015
    /// CIFAR networks), e.g. the 2016 paper's pre-activation ResNet-110 (6.37% on CIFAR-10).
    pub fn preact_cifar(depth: usize) -> Result<Self, ConfigError> {
        Ok(Self {
            block: BlockKind::PreActBasic,
            ..Self::cifar(depth)?
        })
    }

    /// The 2016 paper's pre-activation bottleneck CIFAR network with `depth = 9n + 2` layers
    /// (ResNet-164 and ResNet-1001): three stages of `n` bottlenecks of base width 16/32/64
    /// (outputs 64/128/256), projection shortcuts where dimensions change (option B), the
    /// stride on the first 1x1 as in the paper's code, 10 classes.
    pub fn preact_cifar_bottleneck(depth: usize) -> Result<Self, ConfigError> {
        if depth < 11 || !(depth - 2).is_multiple_of(9) {
            return Err(ConfigError::CifarBottleneckDepth(depth));
        }
        let n = (depth - 2) / 9;
        Ok(Self::new(
            Stem::Cifar,
            BlockKind::PreActBottleneck,
            vec![n; 3],
            vec![16, 32, 64],
        )
        .with_num_classes(10))
    }

    /// The pre-activation version of an ImageNet network of Table 1 (timm's `resnetv2_*`):
    /// a 7x7/2 convolution alone and the max pool, pre-activation blocks with projection
    /// shortcuts where dimensions change and the bottleneck's stride on its 3x3, one BN + ReLU
    /// after the last stage.
    pub fn preact_imagenet(block: BlockKind, blocks_per_stage: [usize; 4]) -> Self {
        Self::imagenet(block.pre_activation(), blocks_per_stage)
            .with_bottleneck_stride(BottleneckStride::On3x3)
    }

    /// The same network without shortcuts.
    pub fn plain(self) -> Self {
        self.with_shortcut(ShortcutOption::Plain)
    }

    /// Number of weighted layers, as the paper counts depth (convolutions on the main path
    /// plus the classifier; projection shortcuts are not counted).
    pub fn depth(&self) -> usize {
        1 + self.block.layers() * self.blocks_per_stage.iter().sum::<usize>() + 1
    }

    /// Output channels of the last stage: the feature width the classifier sees.
    pub fn feature_width(&self) -> usize {
        self.stage_widths.last().copied().unwrap_or(0) * self.block.expansion()
    }

    /// Output channels of each stage.
    pub fn stage_channels(&self) -> Vec<usize> {
        let e = self.block.expansion();
        self.stage_widths.iter().map(|w| w * e).collect()
    }

    /// The input side length the paper uses for this family (224 or 32).
    pub fn native_input_size(&self) -> usize {
        match self.stem {
            Stem::ImageNet => 224,
            Stem::Cifar => 32,
        }
    }

    /// Checks that the config describes a buildable network.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.blocks_per_stage.is_empty() {
            return Err(ConfigError::NoStages);
        }
        if self.blocks_per_stage.len() != self.stage_widths.len() {
            return Err(ConfigError::StageCountMismatch {
                blocks: self.blocks_per_stage.len(),
                widths: self.stage_widths.len(),
            });
        }
        if let Some(stage) = self.blocks_per_stage.iter().position(|&b| b == 0) {
            return Err(ConfigError::EmptyStage { stage });
        }
        if let Some(stage) = self.stage_widths.iter().position(|&w| w == 0) {
            return Err(ConfigError::ZeroWidth { stage });
        }
        if self.num_classes == 0 {
            return Err(ConfigError::NoClasses);
        }
        if self.in_channels == 0 {
            return Err(ConfigError::NoInputChannels);
        }
        // Option A's parameter-free shortcut can pad channels, not drop them.
        if self.shortcut == ShortcutOption::A {
            let mut in_channels = self.stage_widths[0];
            for (stage, &width) in self.stage_widths.iter().enumerate() {
                let out_channels = width * self.block.expansion();
                if out_channels < in_channels {
                    return Err(ConfigError::ShrinkingIdentity {
                        stage,
                        from: in_channels,
                        to: out_channels,
                    });
                }
                in_channels = out_channels;
            }
        }
        Ok(())
    }

    /// Reads a config from a JSON file and validates it.
    pub fn from_json_file(path: impl AsRef<std::path::Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let config: Self = serde_json::from_str(&text).map_err(|source| ConfigError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        config.validate()?;
        Ok(config)
    }
}

/// `n` for a CIFAR network of `depth = 6n + 2` layers.
pub fn cifar_blocks_per_stage(depth: usize) -> Result<usize, ConfigError> {
    if depth < 8 || !(depth - 2).is_multiple_of(6) {
        return Err(ConfigError::CifarDepth(depth));
    }
    Ok((depth - 2) / 6)
}
