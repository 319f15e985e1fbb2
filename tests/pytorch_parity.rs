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
    let logits = model.forward(input.clone());
    let diff = max_abs_diff(logits.clone(), expected.clone());
    println!("{arch}: max |logits - PyTorch| = {diff:.2e}");
    assert!(
        diff <= TOLERANCE,
        "{arch}: max abs diff {diff} > {TOLERANCE}"
    );

    // BN folded into the convolutions: the same function, within float rounding.
    let folded = model.fold_batch_norm().forward(input);
    let scale = logits.clone().abs().max().into_scalar::<f32>();
    let fold_diff = max_abs_diff(folded.clone(), logits);
    println!(
        "{arch}: BN folded: max |diff| = {fold_diff:.2e} (logits up to {scale:.1}); vs PyTorch {:.2e}",
        max_abs_diff(folded, expected)
    );
    assert!(
        fold_diff <= 1e-4 * scale.max(1.0),
        "{arch}: folding changed the logits by {fold_diff}"
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
