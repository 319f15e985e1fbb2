//! Training, evaluation and the `resnet` command-line program for the networks of
//! *Deep Residual Learning for Image Recognition* (He et al., 2015).
//!
//! - [`device`]: run-time choice of backend and device (`--device`).
//! - [`cli`]: the `resnet` program (`models`, `infer`, `eval`, `train`, `plot`, `analyze`).
//! - [`train`]: the paper's recipes and the resumable training loop.
//! - [`figures`]: training curves and response plots (PNG and SVG).
//! - [`responses`]: Fig. 7's analysis of layer responses.
//! - [`eval`]: top-1/top-5 error under the paper's test protocols, ensembles.
//! - [`tensor_file`]: safetensors tensor I/O.
//! - [`atomic`]: result files written whole or not at all.

#![warn(missing_docs)]

pub mod cli;
pub mod device;
pub mod eval;
pub mod figures;
pub mod memory;
pub mod responses;
pub mod tensor_file;
pub mod train;

pub use device::{DeviceError, DeviceSpec};
