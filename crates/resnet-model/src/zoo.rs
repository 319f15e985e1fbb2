//! The named networks: every model of the paper, plus the torchvision ("v1.5") variants.

use serde::Serialize;

use crate::config::{BlockKind, BottleneckStride, ResNetConfig, ShortcutOption, Stem};
use crate::error::ConfigError;

/// The depths of the CIFAR networks the paper trains (section 4.2, Table 6).
pub const CIFAR_DEPTHS: [usize; 6] = [20, 32, 44, 56, 110, 1202];
/// The plain CIFAR networks of Fig. 6 (left) and Table 6.
pub const CIFAR_PLAIN_DEPTHS: [usize; 5] = [20, 32, 44, 56, 110];
/// The pre-activation basic-block CIFAR networks named here (6n+2; the 2016 paper's Table 2
/// uses 110).
pub const PREACT_CIFAR_DEPTHS: [usize; 5] = [20, 32, 44, 56, 110];
/// The 2016 paper's pre-activation bottleneck CIFAR networks (9n+2, Table 3).
pub const PREACT_CIFAR_BOTTLENECK_DEPTHS: [usize; 2] = [164, 1001];

/// A named network and the config it stands for.
#[derive(Debug, Clone)]
pub struct NamedModel {
    /// The name `--arch` takes.
    pub name: String,
    /// The network.
    pub config: ResNetConfig,
}

/// One row of `resnet models`: a named network's shape and cost.
#[derive(Debug, Clone, Serialize)]
pub struct ModelSummary {
    /// The name `--arch` takes.
    pub name: String,
    /// `imagenet` or `cifar`.
    pub family: &'static str,
    /// Weighted layers, as the paper counts them.
    pub depth: usize,
    /// `basic`, `bottleneck`, `preact-basic` or `preact-bottleneck`.
    pub block: &'static str,
    /// `plain`, `A`, `B` or `C`.
    pub shortcut: &'static str,
    /// `1x1` (paper) or `3x3` (torchvision v1.5), for bottleneck nets.
    pub bottleneck_stride: Option<&'static str>,
    /// Side of the native (square) input.
    pub input_size: usize,
    /// Learnable parameters.
    pub params: u64,
    /// Multiply-adds for one image at the native input size.
    pub macs: u64,
}

/// Every named network, in the order `resnet models` lists them.
pub fn named_models() -> Vec<NamedModel> {
    let named = |name: String, config: ResNetConfig| NamedModel { name, config };
    let imagenet = [
        (18, ResNetConfig::resnet18()),
        (34, ResNetConfig::resnet34()),
        (50, ResNetConfig::resnet50()),
        (101, ResNetConfig::resnet101()),
        (152, ResNetConfig::resnet152()),
    ];
    // The paper's plain ImageNet nets are 18 and 34 layers deep (Table 2).
    let mut models: Vec<NamedModel> = (imagenet[..2].iter())
        .map(|(depth, config)| named(format!("plain{depth}"), config.clone().plain()))
        .collect();
    models.extend(
        (imagenet.iter()).map(|(depth, config)| named(format!("resnet{depth}"), config.clone())),
    );
    models.extend(
        (imagenet.iter())
            .filter(|(_, config)| config.block == BlockKind::Bottleneck)
            .map(|(depth, config)| {
                let v1_5 = config
                    .clone()
                    .with_bottleneck_stride(BottleneckStride::On3x3);
                named(format!("resnet{depth}-v1.5"), v1_5)
            }),
    );
    models.extend(
        CIFAR_PLAIN_DEPTHS.map(|depth| named(format!("plain{depth}"), cifar(depth).plain())),
    );
    models.extend(CIFAR_DEPTHS.map(|depth| named(format!("resnet{depth}"), cifar(depth))));
    // The pre-activation networks (He et al. 2016): ImageNet 18 to 200, then CIFAR.
    let preact_imagenet = [
        (18, BlockKind::Basic, [2, 2, 2, 2]),
        (34, BlockKind::Basic, [3, 4, 6, 3]),
        (50, BlockKind::Bottleneck, [3, 4, 6, 3]),
        (101, BlockKind::Bottleneck, [3, 4, 23, 3]),
        (152, BlockKind::Bottleneck, [3, 8, 36, 3]),
        (200, BlockKind::Bottleneck, [3, 24, 36, 3]),
    ];
    models.extend(preact_imagenet.map(|(depth, block, blocks)| {
        let config = ResNetConfig::preact_imagenet(block, blocks);
        named(format!("preact-resnet{depth}"), config)
    }));
    models.extend(PREACT_CIFAR_DEPTHS.map(|depth| {
        let config = ResNetConfig::preact_cifar(depth).expect("6n+2");
        named(format!("preact-resnet{depth}"), config)
    }));
    models.extend(PREACT_CIFAR_BOTTLENECK_DEPTHS.map(|depth| {
        let config = ResNetConfig::preact_cifar_bottleneck(depth).expect("9n+2");
        named(format!("preact-resnet{depth}"), config)
    }));
    models
}

/// timm's names of its pre-activation networks → ours (`resnetv2_50` is `preact-resnet50`).
const TIMM_NAMES: [(&str, &str); 6] = [
    ("resnetv2_18", "preact-resnet18"),
    ("resnetv2_34", "preact-resnet34"),
    ("resnetv2_50", "preact-resnet50"),
    ("resnetv2_101", "preact-resnet101"),
    ("resnetv2_152", "preact-resnet152"),
    ("resnetv2_200", "preact-resnet200"),
];

/// The config of a named network: a name of [`named_models`] (case-insensitive), timm's
/// `resnetv2_18` ... `resnetv2_200`, or `cifar-resnet<depth>` / `cifar-plain<depth>` /
/// `cifar-preact-resnet<depth>` for any CIFAR depth 6n+2 and
/// `cifar-preact-bottleneck<depth>` for any depth 9n+2.
///
/// `resnet18-v1.5` and `resnet34-v1.5` are accepted as `resnet18`/`resnet34`: torchvision's
/// basic-block networks are the paper's. Other depths are not guessed at: `resnet26` is
/// unknown (`cifar-resnet26` is the CIFAR net), so that a typo cannot build another network.
pub fn config_for(name: &str) -> Result<ResNetConfig, ConfigError> {
    let lower = name.to_ascii_lowercase();
    if let Some(model) = named_models().into_iter().find(|m| m.name == lower) {
        return Ok(model.config);
    }
    if let Some(base @ ("resnet18" | "resnet34")) = lower.strip_suffix("-v1.5") {
        return config_for(base);
    }
    if let Some((_, ours)) = TIMM_NAMES.iter().find(|(timm, _)| *timm == lower) {
        return config_for(ours);
    }
    let cifar_depth = |prefix: &str| lower.strip_prefix(prefix)?.parse::<usize>().ok();
    if let Some(depth) = cifar_depth("cifar-resnet") {
        return ResNetConfig::cifar(depth);
    }
    if let Some(depth) = cifar_depth("cifar-plain") {
        return ResNetConfig::cifar(depth).map(ResNetConfig::plain);
    }
    if let Some(depth) = cifar_depth("cifar-preact-resnet") {
        return ResNetConfig::preact_cifar(depth);
    }
    if let Some(depth) = cifar_depth("cifar-preact-bottleneck") {
        return ResNetConfig::preact_cifar_bottleneck(depth);
    }
    Err(ConfigError::UnknownName {
        name: name.to_string(),
        suggestion: closest_name(&lower),
    })
}

/// The named network closest to `name` (at most two edits away), for a "did you mean".
fn closest_name(name: &str) -> Option<String> {
    let names = named_models().into_iter().map(|m| m.name);
    let timm = TIMM_NAMES.iter().map(|(timm, _)| timm.to_string());
    (names.chain(timm))
        .map(|candidate| (strsim::levenshtein(name, &candidate), candidate))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// The name of `arch`'s plain counterpart (the same layers without shortcuts), for runs and
/// files. A network [`config_for`] knows, `resnet<depth>` or `cifar-resnet<depth>`, becomes
/// `plain<depth>` or `cifar-plain<depth>`, which [`config_for`] knows too for the paper's
/// plain depths and any CIFAR depth; anything else (a JSON config, `plain20`) gets `-plain`.
///
/// ```
/// use resnet_model::zoo::plain_name;
///
/// assert_eq!(plain_name("ResNet56"), "plain56");
/// assert_eq!(plain_name("cifar-resnet26"), "cifar-plain26");
/// assert_eq!(plain_name("resnet-cfg.json"), "resnet-cfg.json-plain");
/// ```
pub fn plain_name(arch: &str) -> String {
    let name = arch.to_ascii_lowercase();
    if config_for(&name).is_ok() {
        for (resnet, plain) in [("resnet", "plain"), ("cifar-resnet", "cifar-plain")] {
            if let Some(rest) = name.strip_prefix(resnet) {
                return format!("{plain}{rest}");
            }
        }
    }
    format!("{arch}-plain")
}

fn cifar(depth: usize) -> ResNetConfig {
    ResNetConfig::cifar(depth).expect("the paper's CIFAR depths are 6n+2")
}

impl NamedModel {
    /// The network's shape and its cost at the native input size.
    pub fn summary(&self) -> ModelSummary {
        summarize(&self.name, &self.config).expect("named models are valid")
    }
}

/// Shape and cost of any valid config.
pub fn summarize(name: &str, config: &ResNetConfig) -> Result<ModelSummary, ConfigError> {
    let size = config.native_input_size();
    let cost = config.cost(size, size)?;
    Ok(ModelSummary {
        name: name.to_string(),
        family: match config.stem {
            Stem::ImageNet => "imagenet",
            Stem::Cifar => "cifar",
        },
        depth: config.depth(),
        block: config.block.name(),
        shortcut: match config.shortcut {
            ShortcutOption::Plain => "plain",
            ShortcutOption::A => "A",
            ShortcutOption::B => "B",
            ShortcutOption::C => "C",
        },
        bottleneck_stride: config
            .block
            .is_bottleneck()
            .then_some(match config.bottleneck_stride {
                BottleneckStride::OnReduce => "1x1",
                BottleneckStride::On3x3 => "3x3",
            }),
        input_size: size,
        params: cost.params,
        macs: cost.macs,
    })
}
