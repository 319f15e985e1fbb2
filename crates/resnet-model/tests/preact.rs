//! The pre-activation networks (He et al. 2016) against PyTorch: timm's `ResNetV2` and the
//! 2016 paper's CIFAR networks, forward logits and one training step's gradients
//! (`tests/fixtures/preact`, made by its `make_fixtures.py`).

mod parity;

use parity::{gradients_match, logits_match};
use resnet_model::{BlockKind, ResNetConfig, zoo};

/// timm's `ResNetV2` with `blocks` per stage at a quarter of the width (stem 16), 10 classes.
fn timm_quarter(block: BlockKind, blocks: [usize; 4]) -> ResNetConfig {
    ResNetConfig {
        stage_widths: vec![16, 32, 64, 128],
        ..ResNetConfig::preact_imagenet(block, blocks).with_num_classes(10)
    }
}

fn timm_bottleneck() -> ResNetConfig {
    timm_quarter(BlockKind::Bottleneck, [1, 2, 1, 1])
}

fn timm_basic() -> ResNetConfig {
    timm_quarter(BlockKind::Basic, [1, 1, 2, 1])
}

#[test]
fn timm_resnetv2_bottleneck_logits() {
    let network = "preact/timm_resnetv2_bottleneck_1211";
    logits_match(network, &format!("{network}.pth"), &timm_bottleneck());
}

/// From a safetensors file, as timm publishes its weights.
#[test]
fn timm_resnetv2_basic_logits() {
    let network = "preact/timm_resnetv2_basic_1121";
    logits_match(network, &format!("{network}.safetensors"), &timm_basic());
}

#[test]
fn preact_resnet20_logits_and_gradients() {
    let config = zoo::config_for("preact-resnet20").unwrap();
    logits_match(
        "preact/preact_resnet20",
        "preact/preact_resnet20.pth",
        &config,
    );
    gradients_match("preact/preact_resnet20", &config);
}

#[test]
fn preact_bottleneck_logits_and_gradients() {
    let config = zoo::config_for("cifar-preact-bottleneck11").unwrap();
    logits_match(
        "preact/preact_bottleneck11",
        "preact/preact_bottleneck11.pth",
        &config,
    );
    gradients_match("preact/preact_bottleneck11", &config);
}
