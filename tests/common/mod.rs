//! Helpers shared by the integration tests.
#![allow(dead_code, unused_imports)] // each test binary uses its own subset

pub use resnet_testkit::{max_abs_diff, shared};

use std::path::Path;

use burn::tensor::{Device, Tensor};

/// Reads tensor `name` of a safetensors fixture.
pub fn fixture<const D: usize>(path: &Path, name: &str, device: &Device) -> Tensor<D> {
    resnet::train::tensor_file::read_tensor(path, name, device)
        .unwrap_or_else(|e| panic!("fixture: {e}"))
}
