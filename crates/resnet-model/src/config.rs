//! [`ResNetConfig`]: one description for every network of the paper.
//!
//! The paper's networks differ only in their stem (Table 1's `conv1` + max pool, or the CIFAR
//! 3x3 conv of section 4.2), their block (basic or bottleneck), the number of blocks per stage,
//! and how (or whether) shortcuts are drawn. A config captures exactly those choices; the named
//! constructors below are thin presets over it.

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

/// Describes any ResNet or plain network of the paper, and the residual networks that followed
/// it (pre-activation, ResNeXt, Wide ResNets).
///
/// Serialises to JSON (a burn [`Config`](burn::config::Config)); build a model from it with
/// [`ResNetConfig::init`]. A field with a default may be absent from the JSON, so that configs
/// written before the field existed (in run directories and records) still read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    #[serde(default = "defaults::shortcut")]
    pub shortcut: ShortcutOption,
    /// Stride placement in bottleneck blocks, pre-activation ones too (ignored by basic blocks).
    #[serde(default = "defaults::bottleneck_stride")]
    pub bottleneck_stride: BottleneckStride,
    /// Number of output classes of the classifier.
    #[serde(default = "defaults::num_classes")]
    pub num_classes: usize,
    /// Number of input channels.
    #[serde(default = "defaults::in_channels")]
    pub in_channels: usize,
    /// Initialise each residual block's last BN gamma (a pre-activation block's last
    /// convolution, which no BN follows) to zero, so that every block starts as the identity
    /// (Goyal et al., 2017). Not in the paper; off by default.
    #[serde(default)]
    pub zero_init_residual: bool,
    /// Cardinality C (ResNeXt, Xie et al. 2017, section 3.3): the groups of each bottleneck's
    /// 3x3 convolution; 1 for a ResNet. Bottleneck blocks only.
    #[serde(default = "defaults::cardinality")]
    pub cardinality: usize,
    /// Bottleneck width d per group, for a stage of base width 64 (ResNeXt's "C x d";
    /// torchvision's `width_per_group`): a bottleneck of a stage of base width `w` has
    /// `w * d / 64 * C` channels between its 1x1 layers. 64 for a ResNet; 128 for torchvision's
    /// Wide ResNet-50-2 (twice as wide bottlenecks). Bottleneck blocks only.
    #[serde(default = "defaults::group_width")]
    pub group_width: usize,
    /// Filters of the stem; `None`: the first stage's base width (the paper's networks). The
    /// CIFAR Wide ResNets keep a 16-filter stem before stages of 16k filters.
    #[serde(default)]
    pub stem_width: Option<usize>,
    /// Dropout probability between a basic block's two convolutions, in training (Wide ResNets,
    /// Zagoruyko and Komodakis 2016, section 2.4: WRN-28-10 with 0.3); 0 for none. Basic
    /// blocks only.
    #[serde(default)]
    pub dropout: f64,
    /// Stochastic depth (Huang, Sun, Liu, Sedra, Weinberger 2016): `p_L`, the probability that
    /// the last block runs in a training pass; block `l` of `L` runs with probability
    /// `1 - l / L * (1 - p_L)` ([`ResNet::stochastic_depth_draw`](crate::ResNet::stochastic_depth_draw));
    /// 0.5 in that paper. `None`: every block always runs. Residual networks only.
    #[serde(default)]
    pub stochastic_depth: Option<f64>,
    /// Highway gates on every block's join (`T F + (1 - T) s`, `T = sigmoid(W_T x + b_T)`,
    /// [`crate::blocks::gate`]), their bias `b_T` initialised to this value (-2 for the named
    /// `highway` networks; negative: blocks start close to their shortcut). `None`: the residual
    /// join. Networks with shortcuts only.
    #[serde(default)]
    pub gate_bias: Option<f64>,
}

impl burn::config::Config for ResNetConfig {}

impl std::fmt::Display for ResNetConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&burn::config::config_to_json(self))
    }
}

/// The defaults of [`ResNetConfig`]'s optional fields (those of the paper's ImageNet networks).
mod defaults {
    use super::{BottleneckStride, ShortcutOption};

    pub fn shortcut() -> ShortcutOption {
        ShortcutOption::B
    }
    pub fn bottleneck_stride() -> BottleneckStride {
        BottleneckStride::OnReduce
    }
    pub fn num_classes() -> usize {
        1000
    }
    pub fn in_channels() -> usize {
        3
    }
    pub fn cardinality() -> usize {
        1
    }
    pub fn group_width() -> usize {
        64
    }
}

impl ResNetConfig {
    /// A network with the given stem, block, blocks and base width of each stage, and the
    /// defaults for the rest: option B shortcuts, the stride on a bottleneck's 1x1 (the
    /// paper), 1000 classes, 3 input channels, cardinality 1 and group width 64 (a ResNet),
    /// the stem as wide as the first stage, no dropout, no zero-initialised residuals.
    pub fn new(
        stem: Stem,
        block: BlockKind,
        blocks_per_stage: Vec<usize>,
        stage_widths: Vec<usize>,
    ) -> Self {
        Self {
            stem,
            block,
            blocks_per_stage,
            stage_widths,
            shortcut: defaults::shortcut(),
            bottleneck_stride: defaults::bottleneck_stride(),
            num_classes: defaults::num_classes(),
            in_channels: defaults::in_channels(),
            zero_init_residual: false,
            cardinality: defaults::cardinality(),
            group_width: defaults::group_width(),
            stem_width: None,
            dropout: 0.0,
            stochastic_depth: None,
            gate_bias: None,
        }
    }

    /// With these shortcuts.
    pub fn with_shortcut(self, shortcut: ShortcutOption) -> Self {
        Self { shortcut, ..self }
    }

    /// With the stride of bottlenecks that change resolution there.
    pub fn with_bottleneck_stride(self, bottleneck_stride: BottleneckStride) -> Self {
        Self {
            bottleneck_stride,
            ..self
        }
    }

    /// With this many classes.
    pub fn with_num_classes(self, num_classes: usize) -> Self {
        Self {
            num_classes,
            ..self
        }
    }

    /// With this many input channels.
    pub fn with_in_channels(self, in_channels: usize) -> Self {
        Self {
            in_channels,
            ..self
        }
    }

    /// With (or without) each residual block starting as the identity.
    pub fn with_zero_init_residual(self, zero_init_residual: bool) -> Self {
        Self {
            zero_init_residual,
            ..self
        }
    }

    /// With this cardinality (groups of each bottleneck's 3x3).
    pub fn with_cardinality(self, cardinality: usize) -> Self {
        Self {
            cardinality,
            ..self
        }
    }

    /// With this bottleneck width per group (per 64 of a stage's base width).
    pub fn with_group_width(self, group_width: usize) -> Self {
        Self {
            group_width,
            ..self
        }
    }

    /// With a stem of this many filters (`None`: the first stage's base width).
    pub fn with_stem_width(self, stem_width: Option<usize>) -> Self {
        Self { stem_width, ..self }
    }

    /// With dropout of this probability between a basic block's convolutions, in training.
    pub fn with_dropout(self, dropout: f64) -> Self {
        Self { dropout, ..self }
    }

    /// With Highway gates on every block, their bias initialised to `bias` (`None`: none).
    pub fn with_gate_bias(self, bias: Option<f64>) -> Self {
        Self {
            gate_bias: bias,
            ..self
        }
    }

    /// With stochastic depth, the last block running with probability `last` (`None`: off).
    pub fn with_stochastic_depth(self, last: Option<f64>) -> Self {
        Self {
            stochastic_depth: last,
            ..self
        }
    }

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

    /// An ImageNet ResNeXt (Xie et al. 2017, Table 1): ResNet-50/101/152's bottleneck stages with
    /// each 3x3 convolution split into `cardinality` groups of `group_width` channels (at the
    /// first stage; doubling with each stage), the stride on the 3x3 as in the paper's code and
    /// torchvision: `resnext(ResNetConfig::resnet50(), 32, 4)` is ResNeXt-50 (32x4d).
    pub fn resnext(base: Self, cardinality: usize, group_width: usize) -> Self {
        Self {
            block: BlockKind::Bottleneck,
            ..base
        }
        .with_bottleneck_stride(BottleneckStride::On3x3)
        .with_cardinality(cardinality)
        .with_group_width(group_width)
    }

    /// torchvision's ImageNet Wide ResNet: a bottleneck network whose 3x3 layers (and the 1x1
    /// layers around them) are `k` times as wide, outputs unchanged, stride on the 3x3:
    /// `wide_resnet(ResNetConfig::resnet50(), 2)` is `wide_resnet50_2`.
    pub fn wide_resnet(base: Self, k: usize) -> Self {
        Self::resnext(base, 1, 64 * k)
    }

    /// The ResNeXt paper's CIFAR network (section 5.3) with `depth = 9n + 2` layers: a 3x3 stem
    /// of 64 filters, three stages of `n` bottlenecks with outputs 256/512/1024 on 32/16/8 maps,
    /// cardinality C and bottleneck width d at the first stage (ResNeXt-29 8x64d: depth 29,
    /// C = 8, d = 64), projection shortcuts where dimensions change, 10 classes.
    pub fn resnext_cifar(
        depth: usize,
        cardinality: usize,
        group_width: usize,
    ) -> Result<Self, ConfigError> {
        if depth < 11 || !(depth - 2).is_multiple_of(9) {
            return Err(ConfigError::CifarBottleneckDepth(depth));
        }
        let n = (depth - 2) / 9;
        let base = Self::new(
            Stem::Cifar,
            BlockKind::Bottleneck,
            vec![n; 3],
            vec![64, 128, 256],
        );
        Ok(Self::resnext(base, cardinality, group_width).with_num_classes(10))
    }

    /// The CIFAR Wide ResNet WRN-`depth`-`k` (Zagoruyko and Komodakis 2016, Table 1) with
    /// `depth = 6n + 4`: a 3x3 stem of 16 filters, three stages of `n` pre-activation basic
    /// blocks of 16k, 32k and 64k filters on 32/16/8 maps, a 1x1 projection where dimensions
    /// change (the WRN paper counts those three in its depth), 10 classes. Its dropout is off;
    /// WRN-28-10 is trained with 0.3 in the paper (`with_dropout(0.3)`).
    pub fn wide_cifar(depth: usize, k: usize) -> Result<Self, ConfigError> {
        if depth < 10 || !(depth - 4).is_multiple_of(6) {
            return Err(ConfigError::WideDepth(depth));
        }
        if k == 0 {
            return Err(ConfigError::ZeroWidening);
        }
        let n = (depth - 4) / 6;
        Ok(Self::new(
            Stem::Cifar,
            BlockKind::PreActBasic,
            vec![n; 3],
            vec![16 * k, 32 * k, 64 * k],
        )
        .with_stem_width(Some(16))
        .with_num_classes(10))
    }

    /// The same network without shortcuts.
    pub fn plain(self) -> Self {
        self.with_shortcut(ShortcutOption::Plain)
    }

    /// Number of weighted layers, as the paper counts depth (convolutions on the main path
    /// plus the classifier; projection shortcuts are not counted). The WRN paper counts
    /// otherwise (its projections, not its classifier): WRN-28-10's depth here is 26.
    pub fn depth(&self) -> usize {
        1 + self.block.layers() * self.blocks_per_stage.iter().sum::<usize>() + 1
    }

    /// Channels of the stem's output.
    pub fn stem_channels(&self) -> usize {
        self.stem_width
            .unwrap_or(self.stage_widths.first().copied().unwrap_or(0))
    }

    /// Channels between a bottleneck's 1x1 layers in `stage` (its 3x3's, split into
    /// `cardinality` groups): `w * group_width / 64 * cardinality` for a stage of base width `w`
    /// (torchvision's rule), `w` for a ResNet; a basic block's width for basic blocks.
    pub fn inner_width(&self, stage: usize) -> usize {
        let width = self.stage_widths[stage];
        match self.block.is_bottleneck() {
            true => width * self.group_width / 64 * self.cardinality,
            false => width,
        }
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
        if self.stem_width == Some(0) {
            return Err(ConfigError::ZeroStemWidth);
        }
        let grouped = self.cardinality != 1 || self.group_width != 64;
        if grouped && !self.block.is_bottleneck() {
            return Err(ConfigError::GroupedBasicBlock {
                cardinality: self.cardinality,
                group_width: self.group_width,
            });
        }
        if self.cardinality == 0 {
            return Err(ConfigError::ZeroCardinality);
        }
        if let Some(stage) = (0..self.stage_widths.len()).find(|&s| self.inner_width(s) == 0) {
            return Err(ConfigError::ZeroGroupWidth {
                stage,
                width: self.stage_widths[stage],
                group_width: self.group_width,
            });
        }
        if !(self.dropout.is_finite() && (0.0..1.0).contains(&self.dropout)) {
            return Err(ConfigError::DropoutProbability(self.dropout));
        }
        if self.dropout > 0.0 && self.block.is_bottleneck() {
            return Err(ConfigError::BottleneckDropout);
        }
        if let Some(last) = self.stochastic_depth {
            if !(last.is_finite() && last > 0.0 && last <= 1.0) {
                return Err(ConfigError::SurvivalProbability(last));
            }
            if !self.shortcut.is_residual() {
                return Err(ConfigError::PlainStochasticDepth);
            }
        }
        if let Some(bias) = self.gate_bias {
            if !bias.is_finite() {
                return Err(ConfigError::GateBias(bias));
            }
            if !self.shortcut.is_residual() {
                return Err(ConfigError::PlainGate);
            }
        }
        // Option A's parameter-free shortcut can pad channels, not drop them.
        if self.shortcut == ShortcutOption::A {
            let mut in_channels = self.stem_channels();
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
