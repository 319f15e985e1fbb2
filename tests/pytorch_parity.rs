//! Parity with PyTorch: published checkpoints reproduce PyTorch's logits (fixtures in ../shared).

mod common;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use common::{fixture, max_abs_diff, shared};
use resnet::model::load_model;

const TOLERANCE: f32 = 1e-3;

fn check(arch: &str, weights: &str, io: &str) {
    let (Some(weights), Some(io)) = (shared(weights), shared(io)) else {
        return;
    };
    let device = Device::flex();
    let model = load_model(Some(arch), &weights, None, &device)
        .unwrap()
        .valid();
    let input: Tensor<4> = fixture(&io, "input", &device);
    let expected: Tensor<2> = fixture(&io, "logits", &device);
    let diff = max_abs_diff(model.forward(input), expected);
    println!("{arch}: max |logits - PyTorch| = {diff:.2e}");
    assert!(
        diff <= TOLERANCE,
        "{arch}: max abs diff {diff} > {TOLERANCE}"
    );
}

#[test]
fn torchvision_resnet18() {
    check(
        "resnet18-v1.5",
        "fixtures/torchvision/resnet18.pth",
        "fixtures/torchvision/resnet18_io.safetensors",
    );
}

#[test]
fn cifar_resnet20_option_a() {
    check(
        "resnet20",
        "weights/cifar10-akamaster/resnet20.th",
        "fixtures/akamaster/resnet20_io.safetensors",
    );
}

#[test]
fn cifar_resnet32_option_a() {
    check(
        "resnet32",
        "weights/cifar10-akamaster/resnet32.th",
        "fixtures/akamaster/resnet32_io.safetensors",
    );
}

/// The fixture's images are real test images: the model classifies most of them right.
#[test]
fn cifar_resnet20_predicts_labels() {
    let (Some(weights), Some(io)) = (
        shared("weights/cifar10-akamaster/resnet20.th"),
        shared("fixtures/akamaster/resnet20_io.safetensors"),
    ) else {
        return;
    };
    let device = Device::flex();
    let model = load_model(Some("resnet20"), &weights, None, &device)
        .unwrap()
        .valid();
    let input: Tensor<4> = fixture(&io, "input", &device);
    let predicted = model.forward(input).argmax(1).into_data();
    let predicted = predicted.convert::<i64>().try_to_vec::<i64>().unwrap();
    let bytes = std::fs::read(&io).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let labels: Vec<i64> = file
        .tensor("labels")
        .unwrap()
        .data()
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let correct = predicted
        .iter()
        .zip(&labels)
        .filter(|(p, l)| p == l)
        .count();
    println!("resnet20: {correct}/16 fixture images correct");
    assert!(correct >= 11, "{correct}/16 correct");
}
