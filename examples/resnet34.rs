//! ResNet-34 on ImageNet (Table 1): a 7x7 stem and four stages of [3, 4, 6, 3] basic blocks
//! with 64/128/256/512 filters, option-B shortcuts; 21.8M parameters, 3.6 GFLOPs; 24.52% top-1
//! error (10-crop) in the paper with these option-B shortcuts (Table 3; plain-34: 28.54%, Table
//! 2). Trained with the paper's ImageNet recipe (section 3.4): batch 256, lr 0.1 divided by 10
//! when the validation error plateaus, up to 60e4 iterations, scale augmentation, PCA lighting.
//!
//! ```text
//! cargo run --release --example resnet34 -- --data /path/to/imagenet --iterations 1000
//! cargo run --release --example resnet34 -- --data /path/to/imagenet --plain  # plain-34
//! ```
//!
//! The tree holds `train/` and `val/` class folders; `--device` picks the backend. The steps
//! (data, recipe, run directory) are in `common/mod.rs`.

mod common;

use resnet::model::ResNetConfig;

fn main() -> anyhow::Result<()> {
    common::train("resnet34", ResNetConfig::resnet34())
}
