#![doc = include_str!("../README.md")]
//!
//! ## This crate
//!
//! The facade re-exports the workspace's crates: [`model`] (`resnet-model`), [`data`]
//! (`resnet-data`) and [`train`] (`resnet-train`).

pub use resnet_data as data;
pub use resnet_model as model;
pub use resnet_pretrained as pretrained;
pub use resnet_train as train;
