//! Pretrained ResNets by name: the published checkpoints the networks load ([`PUBLISHED`]),
//! their verified download ([`cache`]), the preprocessing and class names tied to them, and a
//! [`Classifier`] that takes photos and gives labels.
//!
//! ```no_run
//! use burn::tensor::Device;
//! use resnet_pretrained::Classifier;
//!
//! // torchvision's ResNet-50 (V2 recipe): downloaded and verified on first use.
//! let classifier = Classifier::pretrained("resnet50.tv-in1k-v2", &Device::default())?;
//! let image = resnet_data::folder::decode("chelsea.jpg".as_ref())?;
//! let best = &classifier.classify(&image, 1)[0];
//! println!("{} ({:.1}%)", best.label, 100.0 * best.probability);
//! # Ok::<(), resnet_pretrained::PretrainedError>(())
//! ```

#![warn(missing_docs)]

pub mod cache;
pub mod categories;
pub mod classifier;
pub mod embedded;
pub mod error;
pub mod registry;
pub mod source;

pub use categories::Categories;
pub use classifier::{Classifier, Prediction};
pub use error::PretrainedError;
pub use registry::{PUBLISHED, PublishedWeights, published};
pub use source::WeightsSource;
