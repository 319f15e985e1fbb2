//! Classify photos with pretrained weights: the library calls behind `resnet classify`.
//!
//! ```text
//! cargo run --release --example classify -- examples/images/chelsea.jpg
//! cargo run --release --example classify -- --weights resnet50.tv-in1k-v2 photo.jpg
//! ```
//!
//! Without `--weights`, the project's own CIFAR-10 ResNet-20 (built in, no download); a name
//! of `resnet weights` is downloaded and verified on first use.

use burn::tensor::Device;
use resnet::data::folder::decode;
use resnet::pretrained::{Classifier, embedded};

fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let weights = match args.iter().position(|a| a == "--weights") {
        Some(i) => args.drain(i..i + 2).nth(1).unwrap_or_default(),
        None => embedded::NAME.to_string(),
    };
    anyhow::ensure!(
        !args.is_empty(),
        "usage: classify [--weights NAME] IMAGE..."
    );
    let classifier = Classifier::pretrained(&weights, &Device::default())?;
    for path in args {
        let image = decode(path.as_ref())?;
        println!("{path}");
        for prediction in classifier.classify(&image, 5) {
            println!(
                "  {:5.1}%  {}",
                100.0 * prediction.probability,
                prediction.label
            );
        }
    }
    Ok(())
}
