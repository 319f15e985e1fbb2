//! Pre-activation ResNet-164 on CIFAR-10 (He, Zhang, Ren, Sun, 2016, *Identity Mappings in Deep
//! Residual Networks*): 9n+2 = 164 layers, three stages of n = 18 pre-activation bottlenecks
//! (BN, ReLU, 1x1; BN, ReLU, 3x3; BN, ReLU, 1x1) of base width 16/32/64 on 32/16/8 maps,
//! projection shortcuts where dimensions change, one BN + ReLU before pooling; 1.7M parameters;
//! 5.46% test error in that paper (median of 5 runs, Table 3). Trained with the 2015 paper's
//! CIFAR-10 recipe, as the 2016 paper does (its warm-up included, from 110 layers on): lr 0.1,
//! divided by 10 at 32k and 48k iterations, stop at 64k; batch 128, momentum 0.9, weight decay
//! 1e-4, 45k/5k train/val split.
//!
//! ```text
//! cargo run --release --example preact_resnet164 -- --data ../shared/data/cifar10 --epochs 30
//! cargo run --release --example preact_resnet164 -- --data cifar10 --resume  # runs/preact-resnet164
//! ```
//!
//! `--data cifar10` downloads the official archive; `--device` picks the backend. The steps
//! (data, recipe, run directory) are in `common/mod.rs`.

mod common;

use resnet::model::ResNetConfig;

fn main() -> anyhow::Result<()> {
    common::train(
        "preact-resnet164",
        ResNetConfig::preact_cifar_bottleneck(164)?,
    )
}
