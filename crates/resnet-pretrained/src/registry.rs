//! Every published checkpoint the networks load, as data: where it is, how it is verified,
//! how its inputs are made, what its classes are and what its publisher reports.
//!
//! Sources, read from the publishers' own code: torchvision 0.29's
//! `torchvision/models/resnet.py` (`ResNet*_Weights`, `ResNeXt*_Weights`,
//! `Wide_ResNet*_Weights`: URL, `_metrics`, `num_params`, `_ops`,
//! `_file_size`, `recipe`, `transforms`), and akamaster/pytorch_resnet_cifar10 (`README.md`,
//! `pretrained_models/`, master at d5489e89). The checksum is torch.hub's: the hex digits after
//! the last `-` of the file name are the start of the file's sha256.

use resnet_data::{Normalization, Preset};
use serde::Serialize;

use crate::categories::Categories;

/// torchvision's recipes (`meta["recipe"]`).
const TORCHVISION_RECIPE: &str =
    "https://github.com/pytorch/vision/tree/main/references/classification#resnet";
const TORCHVISION_V2_RECIPE: &str = "https://github.com/pytorch/vision/issues/3995#new-recipe";
const TORCHVISION_FIXRES_RECIPE: &str =
    "https://github.com/pytorch/vision/issues/3995#new-recipe-with-fixres";
const TORCHVISION_RESNEXT_RECIPE: &str =
    "https://github.com/pytorch/vision/tree/main/references/classification#resnext";
const TORCHVISION_WIDE_RECIPE: &str = "https://github.com/pytorch/vision/pull/912#issue-445437439";
const AKAMASTER: &str = "https://github.com/akamaster/pytorch_resnet_cifar10";

/// The dataset a checkpoint was trained (and is scored) on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dataset {
    /// ImageNet-1k (ILSVRC 2012): published figures are on its 50,000 validation images.
    #[serde(rename = "imagenet-1k")]
    ImageNet1k,
    /// CIFAR-10: published figures are on its 10,000 test images.
    #[serde(rename = "cifar-10")]
    Cifar10,
}

/// The preprocessing a checkpoint was scored with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PresetKind {
    /// torchvision's V1 ImageNet preset: resize 256, crop 224, ImageNet mean/std.
    ImagenetResize256,
    /// torchvision's V2 ImageNet preset: resize 232, crop 224, ImageNet mean/std.
    ImagenetResize232,
    /// A CIFAR network on any photo: resize 32, crop 32, ImageNet mean/std (what the
    /// akamaster checkpoints were trained with).
    CifarImagenetStats,
}

impl PresetKind {
    /// The preset itself.
    pub fn preset(self) -> Preset {
        match self {
            Self::ImagenetResize256 => Preset::imagenet(256),
            Self::ImagenetResize232 => Preset::imagenet(232),
            Self::CifarImagenetStats => Preset::cifar(Normalization::imagenet()),
        }
    }
}

/// One published checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishedWeights {
    /// The name `--weights` takes: `<network>.<publisher>-<dataset>[-<version>]`.
    pub name: &'static str,
    /// The network (a `resnet models` name) the checkpoint loads into.
    pub arch: &'static str,
    /// Where it is published.
    pub url: &'static str,
    /// Its file name (in the cache, and torch's).
    pub file_name: &'static str,
    /// The start of its sha256, lowercase hex.
    pub sha256_prefix: &'static str,
    /// Its size in bytes, where the publisher's repository shows it.
    pub size_bytes: Option<u64>,
    /// Its size in MiB as the publisher reports it (torchvision's `_file_size`).
    pub size_mib: Option<f64>,
    /// The dataset it was trained on.
    pub dataset: Dataset,
    /// How images become its inputs.
    pub preset: PresetKind,
    /// Published top-1 accuracy (%): ImageNet-1k val (single 224 crop) or CIFAR-10 test.
    pub top1: f64,
    /// Published top-5 accuracy (%), where published.
    pub top5: Option<f64>,
    /// Giga multiply-adds per image at the preset's input size, where published (torchvision
    /// calls them GFLOPS).
    pub gmacs: Option<f64>,
    /// The training recipe (or the publisher's page).
    pub recipe: &'static str,
}

impl PublishedWeights {
    /// The class names of its outputs.
    pub fn categories(&self) -> Categories {
        match self.dataset {
            Dataset::ImageNet1k => Categories::imagenet1k(),
            Dataset::Cifar10 => Categories::cifar10(),
        }
    }
}

/// A torchvision ImageNet-1k checkpoint.
#[allow(clippy::too_many_arguments)]
const fn torchvision(
    name: &'static str,
    arch: &'static str,
    url: &'static str,
    file_name: &'static str,
    sha256_prefix: &'static str,
    size_mib: f64,
    v2: bool,
    (top1, top5): (f64, f64),
    gmacs: f64,
    recipe: &'static str,
) -> PublishedWeights {
    PublishedWeights {
        name,
        arch,
        url,
        file_name,
        sha256_prefix,
        size_bytes: None,
        size_mib: Some(size_mib),
        dataset: Dataset::ImageNet1k,
        preset: if v2 {
            PresetKind::ImagenetResize232
        } else {
            PresetKind::ImagenetResize256
        },
        top1,
        top5: Some(top5),
        gmacs: Some(gmacs),
        recipe,
    }
}

/// An akamaster CIFAR-10 checkpoint (`pretrained_models/<file>` on master).
const fn akamaster(
    name: &'static str,
    arch: &'static str,
    file_name: &'static str,
    url: &'static str,
    sha256_prefix: &'static str,
    size_bytes: Option<u64>,
    test_error: f64,
) -> PublishedWeights {
    PublishedWeights {
        name,
        arch,
        url,
        file_name,
        sha256_prefix,
        size_bytes,
        size_mib: None,
        dataset: Dataset::Cifar10,
        preset: PresetKind::CifarImagenetStats,
        top1: 100.0 - test_error,
        top5: None,
        gmacs: None,
        recipe: AKAMASTER,
    }
}

macro_rules! tv {
    ($name:literal, $arch:literal, $file:literal, $hash:literal, $mib:expr, $v2:expr,
     $acc:expr, $gmacs:expr, $recipe:expr) => {
        torchvision(
            $name,
            $arch,
            concat!("https://download.pytorch.org/models/", $file),
            $file,
            $hash,
            $mib,
            $v2,
            $acc,
            $gmacs,
            $recipe,
        )
    };
}

macro_rules! aka {
    ($name:literal, $arch:literal, $file:literal, $hash:literal, $size:expr, $err:expr) => {
        akamaster(
            $name,
            $arch,
            $file,
            concat!(
                "https://github.com/akamaster/pytorch_resnet_cifar10/raw/master/pretrained_models/",
                $file
            ),
            $hash,
            $size,
            $err,
        )
    };
}

/// Every published checkpoint, ImageNet first, in depth order.
///
/// torchvision's bottleneck networks put the stride on the 3x3 (`-v1.5`); its basic-block
/// networks are the paper's. The parameters are the networks' own (`resnet models`; torchvision
/// publishes the same counts, a test checks it). The akamaster `resnet110` and `resnet1202`
/// files are not in the copy of the repository this was read from, so their sizes are not
/// given (their checksums are in their names).
#[rustfmt::skip]
pub const PUBLISHED: &[PublishedWeights] = &[
    tv!("resnet18.tv-in1k", "resnet18", "resnet18-f37072fd.pth", "f37072fd", 44.661, false,
        (69.758, 89.078), 1.814, TORCHVISION_RECIPE),
    tv!("resnet34.tv-in1k", "resnet34", "resnet34-b627a593.pth", "b627a593", 83.275, false,
        (73.314, 91.42), 3.664, TORCHVISION_RECIPE),
    tv!("resnet50.tv-in1k", "resnet50-v1.5", "resnet50-0676ba61.pth", "0676ba61", 97.781,
        false, (76.13, 92.862), 4.089, TORCHVISION_RECIPE),
    tv!("resnet50.tv-in1k-v2", "resnet50-v1.5", "resnet50-11ad3fa6.pth", "11ad3fa6", 97.79,
        true, (80.858, 95.434), 4.089,
        "https://github.com/pytorch/vision/issues/3995#issuecomment-1013906621"),
    tv!("resnet101.tv-in1k", "resnet101-v1.5", "resnet101-63fe2227.pth", "63fe2227", 170.511,
        false, (77.374, 93.546), 7.801, TORCHVISION_RECIPE),
    tv!("resnet101.tv-in1k-v2", "resnet101-v1.5", "resnet101-cd907fc2.pth", "cd907fc2",
        170.53, true, (81.886, 95.78), 7.801, TORCHVISION_V2_RECIPE),
    tv!("resnet152.tv-in1k", "resnet152-v1.5", "resnet152-394f9c45.pth", "394f9c45", 230.434,
        false, (78.312, 94.046), 11.514, TORCHVISION_RECIPE),
    tv!("resnet152.tv-in1k-v2", "resnet152-v1.5", "resnet152-f82ba261.pth", "f82ba261",
        230.474, true, (82.284, 96.002), 11.514, TORCHVISION_V2_RECIPE),
    // Width and cardinality (torchvision's `ResNeXt*_Weights`, `Wide_ResNet*_Weights`).
    tv!("resnext50_32x4d.tv-in1k", "resnext50_32x4d", "resnext50_32x4d-7cdf4587.pth",
        "7cdf4587", 95.789, false, (77.618, 93.698), 4.23, TORCHVISION_RESNEXT_RECIPE),
    tv!("resnext50_32x4d.tv-in1k-v2", "resnext50_32x4d", "resnext50_32x4d-1a0047aa.pth",
        "1a0047aa", 95.833, true, (81.198, 95.34), 4.23, TORCHVISION_V2_RECIPE),
    tv!("resnext101_32x8d.tv-in1k", "resnext101_32x8d", "resnext101_32x8d-8ba56ff5.pth",
        "8ba56ff5", 339.586, false, (79.312, 94.526), 16.414, TORCHVISION_RESNEXT_RECIPE),
    tv!("resnext101_32x8d.tv-in1k-v2", "resnext101_32x8d", "resnext101_32x8d-110c445d.pth",
        "110c445d", 339.673, true, (82.834, 96.228), 16.414, TORCHVISION_FIXRES_RECIPE),
    // torchvision publishes one set (V1), trained with its new recipe and scored as V2.
    tv!("resnext101_64x4d.tv-in1k", "resnext101_64x4d", "resnext101_64x4d-173b62eb.pth",
        "173b62eb", 319.318, true, (83.246, 96.454), 15.46,
        "https://github.com/pytorch/vision/pull/5935"),
    tv!("wide_resnet50_2.tv-in1k", "wide_resnet50_2", "wide_resnet50_2-95faca4d.pth",
        "95faca4d", 131.82, false, (78.468, 94.086), 11.398, TORCHVISION_WIDE_RECIPE),
    tv!("wide_resnet50_2.tv-in1k-v2", "wide_resnet50_2", "wide_resnet50_2-9ba9bcbe.pth",
        "9ba9bcbe", 263.124, true, (81.602, 95.758), 11.398, TORCHVISION_FIXRES_RECIPE),
    tv!("wide_resnet101_2.tv-in1k", "wide_resnet101_2", "wide_resnet101_2-32ee1156.pth",
        "32ee1156", 242.896, false, (78.848, 94.284), 22.753, TORCHVISION_WIDE_RECIPE),
    tv!("wide_resnet101_2.tv-in1k-v2", "wide_resnet101_2", "wide_resnet101_2-d733dc28.pth",
        "d733dc28", 484.747, true, (82.51, 96.02), 22.753, TORCHVISION_V2_RECIPE),
    aka!("resnet20.akamaster-cifar10", "resnet20", "resnet20-12fca82f.th", "12fca82f",
        Some(1_099_231), 8.27),
    aka!("resnet32.akamaster-cifar10", "resnet32", "resnet32-d509ac18.th", "d509ac18",
        Some(1_890_043), 7.37),
    aka!("resnet44.akamaster-cifar10", "resnet44", "resnet44-014dd654.th", "014dd654",
        Some(2_680_855), 6.90),
    aka!("resnet56.akamaster-cifar10", "resnet56", "resnet56-4bfd9763.th", "4bfd9763",
        Some(3_471_733), 6.61),
    aka!("resnet110.akamaster-cifar10", "resnet110", "resnet110-1d1ed7c2.th", "1d1ed7c2",
        None, 6.32),
    aka!("resnet1202.akamaster-cifar10", "resnet1202", "resnet1202-f3b1deed.th", "f3b1deed",
        None, 6.18),
];

/// The published checkpoint called `name` (case-insensitive).
pub fn published(name: &str) -> Option<&'static PublishedWeights> {
    PUBLISHED.iter().find(|w| w.name.eq_ignore_ascii_case(name))
}

/// The published checkpoint stored under `file_name` (e.g. a file downloaded by hand).
pub fn published_file(file_name: &str) -> Option<&'static PublishedWeights> {
    PUBLISHED.iter().find(|w| w.file_name == file_name)
}
