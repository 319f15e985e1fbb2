#![doc = include_str!("../README.md")]
//!
//! ## This crate
//!
//! The facade re-exports the workspace's crates: [`model`] (`resnet-model`), [`data`]
//! (`resnet-data`), [`train`] (`resnet-train`), [`pretrained`] (`resnet-pretrained`) and
//! [`kernels`] (`resnet-kernels`: the flex CPU kernels, and [`kernels::algorithm`] to choose
//! the 3x3 convolutions' algorithm in a program).

pub use resnet_data as data;
pub use resnet_kernels as kernels;
pub use resnet_model as model;
pub use resnet_pretrained as pretrained;
pub use resnet_train as train;
