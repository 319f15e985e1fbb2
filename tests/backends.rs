//! The same model code on another backend: ResNet-20 on wgpu/vulkan equals the flex result.
//!
//! Runs with `--features wgpu` (and/or `vulkan`); on a machine without a GPU, a software
//! Vulkan driver (Mesa's lavapipe, Debian package mesa-vulkan-drivers) serves as the adapter.
#![cfg(any(feature = "wgpu", feature = "vulkan"))]

mod common;

use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};
use common::max_abs_diff;
use resnet::model::zoo;
use resnet::train::DeviceSpec;

fn compare_with_flex(spec: DeviceSpec) {
    let flex = Device::flex();
    let other = spec.device().unwrap();
    let model = zoo::config_for("resnet20")
        .unwrap()
        .init(&flex)
        .unwrap()
        .valid();
    let input = Tensor::<4>::random([4, 3, 32, 32], Distribution::Normal(0.0, 1.0), &flex);
    let expected = model.forward(input.clone());
    let moved = model.to_device(&other);
    let input = Tensor::<4>::from_data(input.into_data(), &other);
    let logits = moved.forward(input).into_data();
    let logits = Tensor::<2>::from_data(logits, &flex);
    let diff = max_abs_diff(logits, expected);
    println!("resnet20 forward, {spec} vs flex: max abs diff {diff:.2e}");
    assert!(diff <= 1e-3, "{spec}: {diff}");
}

#[cfg(feature = "wgpu")]
#[test]
fn resnet20_on_wgpu_equals_flex() {
    compare_with_flex(DeviceSpec::Wgpu);
}

#[cfg(feature = "vulkan")]
#[test]
fn resnet20_on_vulkan_equals_flex() {
    compare_with_flex(DeviceSpec::Vulkan);
}
