//! A ResNet as a backbone in your own program: load pretrained weights, take the stage
//! features (C2–C5), and replace the head for fine-tuning.
//!
//! ```sh
//! cargo run --release --example backbone -- ../shared/fixtures/torchvision/resnet18.pth
//! ```
//! Without an argument the network starts from He initialisation.

use burn::module::Module;
use burn::tensor::{Distribution, Tensor};
use resnet::model::{load_model, zoo};
use resnet::train::DeviceSpec;

fn main() -> anyhow::Result<()> {
    let device = DeviceSpec::from_env_or_default()?.device()?;
    let model = match std::env::args().nth(1) {
        Some(weights) => load_model(Some("resnet18-v1.5"), weights.as_ref(), None, &device)?,
        None => zoo::config_for("resnet18-v1.5")?.init(&device)?,
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
