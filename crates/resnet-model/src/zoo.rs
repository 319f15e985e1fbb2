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

/// torchvision's ImageNet ResNeXts (depth, cardinality C, group width d), the ResNeXt paper's
/// Table 3 templates (`resnext50_32x4d`).
pub const RESNEXT_IMAGENET: [(usize, usize, usize); 3] = [(50, 32, 4), (101, 32, 8), (101, 64, 4)];
/// torchvision's ImageNet Wide ResNets (depth, widening factor): `wide_resnet50_2`.
pub const WIDE_IMAGENET: [(usize, usize); 2] = [(50, 2), (101, 2)];
/// The ResNeXt paper's CIFAR networks (depth, C, d), section 5.3 and Table 7.
pub const RESNEXT_CIFAR: [(usize, usize, usize); 2] = [(29, 8, 64), (29, 16, 64)];
/// The Wide ResNet paper's CIFAR networks named here (depth, k): WRN-28-10 (its best), WRN-16-8
/// and WRN-40-4 (Table 4).
pub const WIDE_CIFAR: [(usize, usize); 3] = [(16, 8), (28, 10), (40, 4)];

/// The Highway-gated CIFAR networks named here (`highway<depth>`, 6n+2).
pub const HIGHWAY_DEPTHS: [usize; 5] = [20, 32, 44, 56, 110];
/// The gates' initial bias of the named `highway` networks (the Highway paper used -1 to -3).
pub const HIGHWAY_GATE_BIAS: f64 = -2.0;

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
    /// `basic`, `bottleneck`, `preact-basic` or `preact-bottleneck`, with `+gate` when every
    /// block has a Highway gate (`basic+gate`).
    pub block: String,
    /// `plain`, `A`, `B` or `C`.
    pub shortcut: &'static str,
    /// `1x1` (paper) or `3x3` (torchvision v1.5), for bottleneck nets.
    pub bottleneck_stride: Option<&'static str>,
    /// Whether every block has a Highway gate on its join.
    pub gated: bool,
    /// ResNeXt's "C x d" of a bottleneck net (cardinality, width per group at the first
    /// stage): `1x64d` for a ResNet, `32x4d` for ResNeXt-50, `1x128d` for Wide ResNet-50-2.
    pub groups: Option<String>,
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
    // Width and cardinality: ResNeXt (Xie et al. 2017) and Wide ResNets (Zagoruyko and
    // Komodakis 2016), ImageNet then CIFAR.
    models.extend(RESNEXT_IMAGENET.map(|(depth, c, d)| {
        let config = ResNetConfig::resnext(imagenet_base(depth).expect("a Table 1 depth"), c, d);
        named(format!("resnext{depth}_{c}x{d}d"), config)
    }));
    models.extend(WIDE_IMAGENET.map(|(depth, k)| {
        let config = ResNetConfig::wide_resnet(imagenet_base(depth).expect("a Table 1 depth"), k);
        named(format!("wide_resnet{depth}_{k}"), config)
    }));
    models.extend(RESNEXT_CIFAR.map(|(depth, c, d)| {
        let config = ResNetConfig::resnext_cifar(depth, c, d).expect("9n+2");
        named(format!("resnext{depth}_{c}x{d}d"), config)
    }));
    models.extend(WIDE_CIFAR.map(|(depth, k)| {
        let config = ResNetConfig::wide_cifar(depth, k).expect("6n+4");
        named(format!("wrn-{depth}-{k}"), config)
    }));
    // Gated shortcuts (Highway networks, as the 2016 paper's Table 1 tests them).
    models.extend(
        HIGHWAY_DEPTHS.map(|depth| named(format!("highway{depth}"), highway(depth).expect("6n+2"))),
    );
    models
}

/// The CIFAR network of `depth` (6n+2) with Highway gates.
fn highway(depth: usize) -> Result<ResNetConfig, ConfigError> {
    Ok(ResNetConfig::cifar(depth)?.with_gate_bias(Some(HIGHWAY_GATE_BIAS)))
}

/// The bottleneck network of Table 1 with `depth` layers (50, 101 or 152).
fn imagenet_base(depth: usize) -> Option<ResNetConfig> {
    match depth {
        50 => Some(ResNetConfig::resnet50()),
        101 => Some(ResNetConfig::resnet101()),
        152 => Some(ResNetConfig::resnet152()),
        _ => None,
    }
}

/// `(depth, C, d)` of a name `<prefix><depth>_<C>x<d>d`.
fn resnext_template(name: &str, prefix: &str) -> Option<(usize, usize, usize)> {
    let (depth, template) = name.strip_prefix(prefix)?.split_once('_')?;
    let (c, d) = template.strip_suffix('d')?.split_once('x')?;
    Some((depth.parse().ok()?, c.parse().ok()?, d.parse().ok()?))
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
/// `cifar-preact-bottleneck<depth>` for any depth 9n+2; `cifar-highway<depth>` (6n+2, gated);
/// any ResNeXt template
/// `resnext{50,101,152}_<C>x<d>d` (ImageNet; `resnext50_2x40d` is the ResNeXt paper's), and
/// `resnext29_<C>x<d>d` or `cifar-resnext<depth>_<C>x<d>d` (CIFAR, depth 9n+2); any Wide ResNet
/// `wide_resnet{50,101,152}_<k>` (ImageNet) and `wrn-<depth>-<k>` (CIFAR, depth 6n+4).
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
    if let Some(depth) = cifar_depth("cifar-highway") {
        return highway(depth);
    }
    if let Some((depth, c, d)) = resnext_template(&lower, "resnext")
        && let Some(base) = imagenet_base(depth)
    {
        return checked(ResNetConfig::resnext(base, c, d));
    }
    if let Some((depth, c, d)) = (resnext_template(&lower, "cifar-resnext"))
        .or_else(|| resnext_template(&lower, "resnext").filter(|(depth, ..)| *depth == 29))
    {
        return ResNetConfig::resnext_cifar(depth, c, d).and_then(checked);
    }
    if let Some((base, k)) = (lower.strip_prefix("wide_resnet"))
        .and_then(|rest| rest.split_once('_'))
        .and_then(|(depth, k)| Some((imagenet_base(depth.parse().ok()?)?, k.parse().ok()?)))
    {
        return checked(ResNetConfig::wide_resnet(base, k));
    }
    if let Some((depth, k)) = (lower.strip_prefix("wrn-"))
        .and_then(|rest| rest.split_once('-'))
        .and_then(|(depth, k)| Some((depth.parse().ok()?, k.parse().ok()?)))
    {
        return ResNetConfig::wide_cifar(depth, k);
    }
    Err(ConfigError::UnknownName {
        name: name.to_string(),
        suggestion: closest_name(&lower),
    })
}

/// `config` if it is valid (a template's C or d can leave a network without channels).
fn checked(config: ResNetConfig) -> Result<ResNetConfig, ConfigError> {
    config.validate().map(|()| config)
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
        block: match config.gate_bias {
            Some(_) => format!("{}+gate", config.block.name()),
            None => config.block.name().to_string(),
        },
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
        gated: config.gate_bias.is_some(),
        groups: (config.block.is_bottleneck())
            .then(|| format!("{}x{}d", config.cardinality, config.group_width)),
        input_size: size,
        params: cost.params,
        macs: cost.macs,
    })
}
