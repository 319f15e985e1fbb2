//! The named networks: every model of the paper, plus the torchvision ("v1.5") variants.

use serde::Serialize;

use crate::config::{BottleneckStride, ResNetConfig, ShortcutOption, Stem};
use crate::error::ConfigError;

/// The depths of the CIFAR networks the paper trains (section 4.2, Table 6).
pub const CIFAR_DEPTHS: [usize; 6] = [20, 32, 44, 56, 110, 1202];
/// The plain CIFAR networks of Fig. 6 (left) and Table 6.
pub const CIFAR_PLAIN_DEPTHS: [usize; 5] = [20, 32, 44, 56, 110];

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
    /// `basic` or `bottleneck`.
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
    let named = |name: &str, config: ResNetConfig| NamedModel {
        name: name.to_string(),
        config,
    };
    let mut models = vec![
        named("plain18", ResNetConfig::resnet18().plain()),
        named("plain34", ResNetConfig::resnet34().plain()),
        named("resnet18", ResNetConfig::resnet18()),
        named("resnet34", ResNetConfig::resnet34()),
        named("resnet50", ResNetConfig::resnet50()),
        named("resnet101", ResNetConfig::resnet101()),
        named("resnet152", ResNetConfig::resnet152()),
    ];
    for depth in [50, 101, 152] {
        let name = format!("resnet{depth}");
        let config = config_for(&name).expect("named above");
        models.push(named(
            &format!("{name}-v1.5"),
            config.with_bottleneck_stride(BottleneckStride::On3x3),
        ));
    }
    for depth in CIFAR_PLAIN_DEPTHS {
        models.push(named(&format!("plain{depth}"), cifar(depth).plain()));
    }
    for depth in CIFAR_DEPTHS {
        models.push(named(&format!("resnet{depth}"), cifar(depth)));
    }
    models
}

/// The config of a named network. Besides the names of [`named_models`], accepts
/// `cifar-resnet<depth>` and `cifar-plain<depth>` for any CIFAR depth 6n+2.
pub fn config_for(name: &str) -> Result<ResNetConfig, ConfigError> {
    let lower = name.to_ascii_lowercase();
    // The ImageNet names are matched first: `resnet50` is Table 1's, not a CIFAR 6n+2 net.
    let imagenet = match lower.as_str() {
        "resnet18" | "resnet18-v1.5" => Some(ResNetConfig::resnet18()),
        "resnet34" | "resnet34-v1.5" => Some(ResNetConfig::resnet34()),
        "resnet50" => Some(ResNetConfig::resnet50()),
        "resnet101" => Some(ResNetConfig::resnet101()),
        "resnet152" => Some(ResNetConfig::resnet152()),
        "plain18" => Some(ResNetConfig::resnet18().plain()),
        "plain34" => Some(ResNetConfig::resnet34().plain()),
        _ => None,
    };
    if let Some(config) = imagenet {
        return Ok(config);
    }
    if let Some(base) = lower.strip_suffix("-v1.5") {
        return Ok(config_for(base)?.with_bottleneck_stride(BottleneckStride::On3x3));
    }
    let cifar_name = |prefix: &str| -> Option<Result<ResNetConfig, ConfigError>> {
        let depth = lower.strip_prefix(prefix)?.parse::<usize>().ok()?;
        Some(ResNetConfig::cifar(depth))
    };
    if let Some(config) = cifar_name("cifar-resnet").or_else(|| cifar_name("resnet")) {
        return config;
    }
    if let Some(config) = cifar_name("cifar-plain").or_else(|| cifar_name("plain")) {
        return config.map(ResNetConfig::plain);
    }
    Err(ConfigError::UnknownName(name.to_string()))
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
    let cost = config.plan()?.cost(size, size);
    Ok(ModelSummary {
        name: name.to_string(),
        family: match config.stem {
            Stem::ImageNet => "imagenet",
            Stem::Cifar => "cifar",
        },
        depth: config.depth(),
        block: match config.block {
            crate::config::BlockKind::Basic => "basic",
            crate::config::BlockKind::Bottleneck => "bottleneck",
        },
        shortcut: match config.shortcut {
            ShortcutOption::Plain => "plain",
            ShortcutOption::A => "A",
            ShortcutOption::B => "B",
            ShortcutOption::C => "C",
        },
        bottleneck_stride: (config.block == crate::config::BlockKind::Bottleneck).then_some(
            match config.bottleneck_stride {
                BottleneckStride::OnReduce => "1x1",
                BottleneckStride::On3x3 => "3x3",
            },
        ),
        input_size: size,
        params: cost.params,
        macs: cost.macs,
    })
}
