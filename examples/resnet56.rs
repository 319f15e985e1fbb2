//! ResNet-56 on CIFAR-10: 6n+2 = 56 layers, three stages of n = 9 basic blocks on 32/16/8 maps
//! with 16/32/64 filters, option-A shortcuts; 0.85M parameters; 6.97% test error in the paper
//! (Table 6). Trained with the paper's CIFAR-10 recipe (section 4.2): batch 128, lr 0.1 divided
//! by 10 at 32k and 48k iterations, stop at 64k, momentum 0.9, weight decay 1e-4, 45k/5k
//! train/val split.
//!
//! ```text
//! cargo run --release --example resnet56 -- --data ../shared/data/cifar10 --epochs 30
//! cargo run --release --example resnet56 -- --data cifar10 --epochs 30 --plain  # plain-56
//! cargo run --release --example resnet56 -- --data cifar10 --resume  # runs/resnet56
//! ```
//!
//! `--data cifar10` downloads the official archive; `--device` picks the backend. The steps
//! (data, recipe, run directory) are in `common/mod.rs`.

mod common;

use resnet::model::ResNetConfig;

fn main() -> anyhow::Result<()> {
    common::train("resnet56", ResNetConfig::cifar(56)?)
}
