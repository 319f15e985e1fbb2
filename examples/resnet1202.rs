//! ResNet-1202 (19.4M parameters; 7.93% in the paper (overfitting); trained with the warm-up recipe) with the CIFAR-10 recipe of section 4.2 (batch 128, lr 0.1 divided by 10 at 32k and 48k
//! iterations, stop at 64k, momentum 0.9, weight decay 1e-4, 45k/5k split).
//!
//! ```text
//! cargo run --release --example resnet1202 -- --data ../shared/data/cifar10 --epochs 30
//! ```
//!
//! `--epochs`/`--iterations` scale the schedule to a shorter run; `--device` picks the backend;
//! every flag of `resnet train` applies (`--help`), `--resume RUN_DIR` continues a run.

fn main() -> anyhow::Result<()> {
    resnet::train::cli::train::run_example("resnet1202")
}
