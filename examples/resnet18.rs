//! ResNet-18 on ImageNet (Table 1): a 7x7 stem and four stages of [2, 2, 2, 2] basic blocks
//! with 64/128/256/512 filters, option-B shortcuts; 11.7M parameters, 1.8 GFLOPs; 27.88% top-1
//! error (10-crop) in the paper's Table 2, whose networks have option-A shortcuts (plain-18:
//! 27.94%). Trained with the paper's ImageNet recipe (section 3.4): batch 256, lr 0.1 divided
//! by 10 when the validation error plateaus, up to 60e4 iterations, scale augmentation, PCA
//! lighting.
//!
//! ```text
//! cargo run --release --example resnet18 -- --data /path/to/imagenet --iterations 1000
//! cargo run --release --example resnet18 -- --data /path/to/imagenet --plain  # plain-18
//! ```
//!
//! The tree holds `train/` and `val/` class folders; `--device` picks the backend. The steps
//! (data, recipe, run directory) are in `common/mod.rs`.

mod common;

use resnet::model::ResNetConfig;

fn main() -> anyhow::Result<()> {
    common::train("resnet18", ResNetConfig::resnet18())
}
