//! ResNet-20 (0.27M parameters; 8.75% test error in the paper (Table 6)) with the CIFAR-10 recipe of section 4.2 (batch 128, lr 0.1 divided by 10 at 32k and 48k
//! iterations, stop at 64k, momentum 0.9, weight decay 1e-4, 45k/5k split).
//!
//! ```text
//! cargo run --release --example resnet20 -- --data ../shared/data/cifar10 --epochs 30
//! cargo run --release --example resnet20 -- --data ../shared/data/cifar10 --epochs 30 --plain   # plain-20
//! ```
//!
//! `--epochs`/`--iterations` scale the schedule to a shorter run; `--device` picks the backend;
//! every flag of `resnet train` applies (`--help`), `--resume RUN_DIR` continues a run.

fn main() -> anyhow::Result<()> {
    resnet::train::cli::train::run_example("resnet20")
}
