//! Every network of *Deep Residual Learning for Image Recognition* (He, Zhang, Ren, Sun, 2015),
//! written once against burn's tensor API and so running on every burn backend.
//!
//! - [`ResNetConfig`] describes any of them: ImageNet (Table 1: plain-18/34, ResNet-18 to 152)
//!   and CIFAR (section 4.2: 6n+2 layers), shortcut options A/B/C or plain, bottleneck stride on
//!   the 1x1 (paper) or the 3x3 (torchvision "v1.5"); and the pre-activation networks of the
//!   follow-up paper (He et al. 2016, *Identity Mappings in Deep Residual Networks*): the
//!   block is a [`BlockKind`], each kind one file under [`blocks`]; and width and cardinality:
//!   ResNeXt (grouped 3x3 convolutions, [`ResNetConfig::cardinality`]) and Wide ResNets
//!   ([`ResNetConfig::group_width`], [`ResNetConfig::wide_cifar`], with dropout).
//! - [`zoo`] names them (`resnet50`, `resnet110`, `plain34`, `preact-resnet164`,
//!   `resnext50_32x4d`, `wrn-28-10`, ...);
//!   [`ResNetConfig::cost`] counts their parameters and multiply-adds without building them.
//! - [`ResNet`] is the network: logits, stage outputs (as a backbone), per-layer responses.
//! - Weights: PyTorch checkpoints ([`ResNet::load_pytorch`]) and burn records ([`record`]).
//! - burn's `Learner` trains them as any burn model (`learner`: its train and inference steps).
//!
//! ```no_run
//! use burn::tensor::{Device, Tensor};
//! use resnet_model::zoo;
//!
//! let device = Device::default();
//! let model = zoo::config_for("resnet20")?.init(&device)?;
//! let logits = model.forward(Tensor::zeros([1, 3, 32, 32], &device));
//! assert_eq!(logits.dims(), [1, 10]);
//! # Ok::<(), resnet_model::ConfigError>(())
//! ```

#![warn(missing_docs)]

pub mod accounting;
pub mod blocks;
pub mod config;
pub mod conv_bn;
pub mod error;
#[cfg(feature = "learner")]
pub mod learner;
pub mod load;
mod plan;
pub mod pytorch;
pub mod record;
pub mod resnet;
pub mod shortcut;
pub mod zoo;

/// The flex kernels the layers run through (crate `resnet-kernels`).
use resnet_kernels as kernels;

pub use accounting::Cost;
pub use blocks::{Block, Residual};
pub use config::{BlockKind, BottleneckStride, ResNetConfig, ShortcutOption, Stem};
pub use error::{ConfigError, WeightsError};
#[cfg(feature = "learner")]
pub use learner::ClassificationBatch;
pub use load::{LoadError, load_model, resolve_arch};
pub use resnet::{ResNet, Stage};
