//! Deep Residual Learning for Image Recognition (He, Zhang, Ren, Sun, 2015) on burn.
//!
//! This facade re-exports the workspace's crates:
//! - [`model`] (`resnet-model`): every network of the paper, PyTorch import, burn records;
//! - [`data`] (`resnet-data`): CIFAR and ImageNet pipelines;
//! - [`train`] (`resnet-train`): device selection, training, the `resnet` program.

pub use resnet_data as data;
pub use resnet_model as model;
pub use resnet_train as train;
