//! CIFAR and ImageNet data pipelines with the augmentation and test protocols of
//! *Deep Residual Learning for Image Recognition* (He et al., 2015), sections 3.4 and 4.2.
//!
//! - [`cifar`]: CIFAR-10/100 binary batches, from a directory or the `.tar.gz` archive;
//!   [`download`] fetches and verifies the official archives (and published weights).
//! - [`images::ImageSet`]: labelled `u8` images; train/val split, the per-pixel mean image.
//! - [`augment`]: CIFAR's pad-4 random crop and flip, on `u8` batches.
//! - [`folder`]: ImageNet-style class-folder trees; [`transforms`]: scale augmentation, PCA
//!   lighting, centre/10-crop; [`protocol`]: test-time views.
//! - [`metadata`]: what a trained network's record says about its data (typed, versioned).
//! - [`pipeline`]: seeded, parallel training batches (CIFAR and ImageNet).
//! - [`normalize`], [`batch`]: from pixels to tensors; [`preset`]: a photo to a network's input
//!   as torchvision's weights define it ([`antialias`]: Pillow's resize, bit for bit).
//! - `dataset`, `batcher` (feature `learner`, on by default): the sets and folders as burn
//!   datasets, and a batcher with the paper's augmentation, for burn's `DataLoaderBuilder`
//!   and `Learner`.

#![warn(missing_docs)]

pub mod antialias;
pub mod atomic;
pub mod augment;
pub mod batch;
#[cfg(feature = "learner")]
pub mod batcher;
pub mod cifar;
#[cfg(feature = "learner")]
pub mod dataset;
pub mod download;
pub mod error;
pub mod folder;
pub mod images;
pub mod metadata;
pub mod normalize;
pub mod pipeline;
pub mod preset;
pub mod protocol;
pub mod resample;
pub mod split;
pub mod transforms;

pub use cifar::{Cifar, CifarVariant};
pub use error::DataError;
pub use folder::ImageFolder;
pub use images::ImageSet;
pub use normalize::Normalization;
pub use preset::Preset;
pub use protocol::TestProtocol;
pub use split::{FolderLayout, FolderSplit};
