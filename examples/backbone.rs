//! A ResNet as a backbone in your own program: load pretrained weights, take the stage
//! features (C2–C5), and replace the head for fine-tuning.
//!
//! ```sh
//! cargo run --release --example backbone -- ../shared/fixtures/torchvision/resnet18.pth
//! ```
//! Without weights the network starts from He initialisation; `--device` picks the backend.

use std::path::PathBuf;

use burn::module::Module;
use burn::tensor::{Distribution, Tensor};
use clap::Parser;
use resnet::model::{load_model, zoo};
use resnet_cli::DeviceArgs;

/// Stage features and a new head from a torchvision ResNet-18.
#[derive(Parser)]
struct Args {
    /// torchvision ResNet-18 weights (`.pth`); without them, He initialisation.
    weights: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceArgs,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (_, device) = args.device.device()?;
    let model = match args.weights {
        Some(weights) => load_model(Some("resnet18"), &weights, None, &device)?,
        None => zoo::config_for("resnet18")?.init(&device)?,
    }
    .valid();

    let images = Tensor::<4>::random([2, 3, 224, 224], Distribution::Normal(0.0, 1.0), &device);
    for (i, features) in model.forward_stages(images.clone()).iter().enumerate() {
        println!("C{}: {:?}", i + 2, features.dims());
    }
    let scores = model.forward(images.clone());
    println!("ImageNet logits: {:?}", scores.dims());

    let finetune = model.with_num_classes(37)?;
    println!("new head: {:?}", finetune.forward(images).dims());
    Ok(())
}
