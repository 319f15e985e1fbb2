//! ResNet-110 on CIFAR-10: 6n+2 = 110 layers, three stages of n = 18 basic blocks on 32/16/8
//! maps with 16/32/64 filters, option-A shortcuts; 1.7M parameters; 6.43% test error in the
//! paper, best of 5 runs (Table 6). Trained with the paper's CIFAR-10 recipe (section 4.2) with
//! its warm-up: lr 0.01 until the training error is below 80%, then 0.1, divided by 10 at 32k
//! and 48k iterations, stop at 64k; batch 128, momentum 0.9, weight decay 1e-4, 45k/5k
//! train/val split.
//!
//! ```text
//! cargo run --release --example resnet110 -- --data ../shared/data/cifar10 --epochs 30
//! cargo run --release --example resnet110 -- --data cifar10 --epochs 30 --plain  # plain-110
//! cargo run --release --example resnet110 -- --data cifar10 --stochastic-depth 0.5
//! cargo run --release --example resnet110 -- --data cifar10 --resume  # runs/resnet110
//! ```
//!
//! `--data cifar10` downloads the official archive; `--device` picks the backend. The steps
//! (data, recipe, run directory) are in `common/mod.rs`.

mod common;

use resnet::model::ResNetConfig;

fn main() -> anyhow::Result<()> {
    common::train("resnet110", ResNetConfig::cifar(110)?)
}
