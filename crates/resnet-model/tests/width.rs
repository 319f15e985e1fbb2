//! The width and cardinality networks against PyTorch: ResNeXt (Xie et al. 2017) and Wide
//! ResNets (Zagoruyko and Komodakis 2016), in torchvision's classes and in the papers' CIFAR
//! forms; forward logits and one training step's gradients (`tests/fixtures/width`, made by its
//! `make_fixtures.py`), and torchvision's ResNeXt of `../shared`.

mod parity;

use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};
use parity::{gradients_match, logits_match, relative_error};
use resnet_model::{BlockKind, ResNetConfig, zoo};

/// torchvision's `ResNet(Bottleneck, [1, 1, 1, 1], groups, width_per_group)` with its stages
/// at a quarter of the width (the stem keeps 64 filters), 10 classes.
fn torchvision_quarter(cardinality: usize, group_width: usize) -> ResNetConfig {
    let base = ResNetConfig::imagenet(BlockKind::Bottleneck, [1, 1, 1, 1]);
    ResNetConfig {
        stage_widths: vec![16, 32, 64, 128],
        ..ResNetConfig::resnext(base, cardinality, group_width)
    }
    .with_stem_width(Some(64))
    .with_num_classes(10)
}

#[test]
fn torchvision_resnext_logits_and_gradients() {
    let config = torchvision_quarter(32, 4);
    logits_match(
        "width/tv_resnext_quarter",
        "width/tv_resnext_quarter.pth",
        &config,
    );
    gradients_match("width/tv_resnext_quarter", &config);
}

#[test]
fn torchvision_wide_resnet_logits() {
    let config = torchvision_quarter(1, 128);
    logits_match(
        "width/tv_wide_quarter",
        "width/tv_wide_quarter.pth",
        &config,
    );
}

#[test]
fn resnext_cifar_logits_and_gradients() {
    let config = ResNetConfig {
        stage_widths: vec![16, 32, 64],
        ..ResNetConfig::resnext_cifar(11, 4, 16).unwrap()
    };
    logits_match(
        "width/resnext_cifar_11",
        "width/resnext_cifar_11.pth",
        &config,
    );
    gradients_match("width/resnext_cifar_11", &config);
}

#[test]
fn wide_resnet_cifar_logits_and_gradients() {
    let config = zoo::config_for("wrn-10-2").unwrap();
    logits_match("width/wrn_10_2", "width/wrn_10_2.pth", &config);
    gradients_match("width/wrn_10_2", &config);
}

/// `../shared`'s torchvision ResNeXt (full-width stages, one block each, cardinality 32 of
/// width 2) reproduces PyTorch's logits.
#[test]
fn shared_torchvision_resnext_32x2d() {
    let (Some(weights), Some(io_file)) = (
        resnet_testkit::shared("fixtures/torchvision/resnext_32x2d_1111.pth"),
        resnet_testkit::shared("fixtures/torchvision/resnext_32x2d_1111_io.safetensors"),
    ) else {
        return;
    };
    let base = ResNetConfig::imagenet(BlockKind::Bottleneck, [1, 1, 1, 1]);
    let config = ResNetConfig::resnext(base, 32, 2).with_num_classes(10);
    assert_eq!(config.num_params().unwrap(), 5_000_906);
    let device = Device::flex();
    let model = config.init(&device).unwrap().load_pytorch(weights).unwrap();
    let model = model.valid();
    let (input, expected) = parity::io_at::<4, 2>(&io_file, &device);
    for (what, model) in [
        ("", model.clone()),
        (" (BN folded)", model.fold_batch_norm()),
    ] {
        let logits = model.forward(input.clone());
        let diff: f32 = (logits - expected.clone()).abs().max().into_scalar();
        println!("resnext 32x2d{what}: max |logits - PyTorch| = {diff:.2e}");
        assert!(diff <= 1e-3, "resnext 32x2d{what}: logits differ by {diff}");
    }
}

/// Full-size ResNeXt-50 32x4d and Wide ResNet-50-2 with random weights made by
/// `make_fixtures.py --full DIR` (not committed: ~370 MB): `RESNET_WIDTH_FULL=DIR cargo test
/// --workspace --test width -- --ignored`.
#[test]
#[ignore = "needs RESNET_WIDTH_FULL (make_fixtures.py --full)"]
fn full_size_torchvision_networks() {
    let dir = std::path::PathBuf::from(std::env::var_os("RESNET_WIDTH_FULL").unwrap());
    let device = Device::flex();
    for name in ["resnext50_32x4d", "wide_resnet50_2"] {
        let config = zoo::config_for(name).unwrap();
        let model = config.init(&device).unwrap();
        let model = model.load_pytorch(dir.join(format!("{name}.pth"))).unwrap();
        let io_file = dir.join(format!("{name}_io.safetensors"));
        let (input, expected) = parity::io_at::<4, 2>(&io_file, &device);
        let error = relative_error(model.valid().forward(input), expected);
        println!("{name}: logits relative error {error:.2e}");
        assert!(error <= 1e-4, "{name}: logits differ by {error}");
    }
}

/// Dropout acts in training alone, draws its masks from the device's generator (so a seeded
/// step repeats), and keeps the expected activation (inverted dropout).
#[test]
fn wide_resnet_dropout() {
    let device = Device::flex().autodiff();
    let config = zoo::config_for("wrn-10-1").unwrap();
    let with_dropout = config.clone().with_dropout(0.5);
    device.seed(7);
    let model = config.init(&device).unwrap();
    let dropped = with_dropout.init(&device).unwrap();
    let dropped = Module::load_record(dropped, model.clone().into_record());
    let x = Tensor::<4>::random([4, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device);
    // Without gradients (evaluation), no dropout (before training passes move BN's statistics).
    let (valid, valid_dropped) = (model.valid(), dropped.valid());
    let inner = x.clone().inner();
    let diff: f32 = (valid.forward(inner.clone()) - valid_dropped.forward(inner))
        .abs()
        .max()
        .into_scalar();
    assert_eq!(diff, 0.0, "no dropout in evaluation");

    let plain = model.forward(x.clone());
    device.seed(1);
    let first = dropped.forward(x.clone());
    device.seed(1);
    let again = dropped.forward(x.clone());
    device.seed(2);
    let other = dropped.forward(x.clone());
    let differs =
        |a: &Tensor<2>, b: &Tensor<2>| -> f32 { (a.clone() - b.clone()).abs().max().into_scalar() };
    assert_eq!(
        differs(&first, &again),
        0.0,
        "the same seed draws the same masks"
    );
    assert!(
        differs(&first, &other) > 0.0,
        "another seed draws other masks"
    );
    assert!(
        differs(&first, &plain) > 0.0,
        "dropout changes a training forward pass"
    );
}

/// A grouped convolution's weights are `[out, in / groups, k, k]` (the accounting counts them
/// so: `structure.rs` checks the built networks' parameters against it), initialised with
/// PyTorch's fan-out, `std = sqrt(2 / (out * k * k))`.
#[test]
fn grouped_weights() {
    let device = Device::flex();
    let model = torchvision_quarter(32, 4).init(&device).unwrap();
    let conv = &model.stages[0].blocks[0].conv_bns()[1].conv;
    assert_eq!(conv.weight.dims(), [32, 1, 3, 3]);
    assert_eq!(conv.groups, 32);
    let model = zoo::config_for("resnext50_32x4d")
        .unwrap()
        .init(&device)
        .unwrap();
    let weight = model.stages[3].blocks[0].conv_bns()[1].conv.weight.val();
    assert_eq!(weight.dims(), [1024, 32, 3, 3]);
    let std = weight.powi_scalar(2).mean().sqrt().into_scalar::<f32>();
    let expected = (2.0f32 / (1024.0 * 9.0)).sqrt();
    assert!(
        (std / expected - 1.0).abs() < 0.02,
        "std {std}, PyTorch's {expected}"
    );
}
