//! Training and evaluation for the networks of *Deep Residual Learning for Image Recognition*
//! (He et al., 2015), as a library: it prints nothing (a run reports to a
//! [`train::RunObserver`]) and returns typed errors. The `resnet` program is `resnet-cli`.
//!
//! - [`device`]: run-time choice of backend and device (`--device`).
//! - [`train`]: the paper's recipes and the resumable training loop.
//! - [`figures`]: training curves and response plots (PNG and SVG).
//! - [`responses`]: Fig. 7's analysis of layer responses.
//! - [`eval`]: top-1/top-5 error under the paper's test protocols, ensembles.
//! - [`tensor_file`]: safetensors tensor I/O.
//! - [`memory`]: the peak resident memory of this process, for reports.

#![warn(missing_docs)]

pub mod device;
pub mod eval;
pub mod figures;
pub mod memory;
pub mod responses;
pub mod tensor_file;
pub mod train;

pub use device::{DeviceError, DeviceSpec};
