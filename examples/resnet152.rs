//! ResNet-152 on ImageNet (Table 1): a 7x7 stem and four stages of [3, 8, 36, 3] bottleneck
//! blocks (stride on the first 1x1, as in the paper), option-B shortcuts; 60.2M parameters,
//! 11.3 GFLOPs; 21.43% top-1 error (10-crop) in the paper (Table 3). Trained with the paper's
//! ImageNet recipe (section 3.4): batch 256, lr 0.1 divided by 10 when the validation error
//! plateaus, up to 60e4 iterations, scale augmentation, PCA lighting.
//!
//! ```text
//! cargo run --release --example resnet152 -- --data /path/to/imagenet --iterations 1000
//! ```
//!
//! The tree holds `train/` and `val/` class folders; `--device` picks the backend. The steps
//! (data, recipe, run directory) are in `common/mod.rs`.

mod common;

use resnet::model::ResNetConfig;

fn main() -> anyhow::Result<()> {
    common::train("resnet152", ResNetConfig::resnet152())
}
