//! ResNet-152 (60.2M parameters; 21.43% top-1 (10-crop) in the paper) with the ImageNet recipe of section 3.4 (batch 256, lr 0.1 divided by 10 when the
//! validation error plateaus, up to 60e4 iterations, scale augmentation, PCA lighting).
//!
//! ```text
//! cargo run --release --example resnet152 -- --data /path/to/imagenet --iterations 1000
//! ```
//!
//! `--epochs`/`--iterations` scale the schedule to a shorter run; `--device` picks the backend;
//! every flag of `resnet train` applies (`--help`), `--resume RUN_DIR` continues a run.

fn main() -> anyhow::Result<()> {
    resnet::train::cli::train::run_example("resnet152")
}
