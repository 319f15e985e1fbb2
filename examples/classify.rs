//! Classify photos with pretrained weights: the library calls behind `resnet classify`.
//!
//! ```text
//! cargo run --release --example classify -- examples/images/chelsea.jpg
//! cargo run --release --example classify -- --weights resnet50.tv-in1k-v2 photo.jpg
//! ```
//!
//! Without `--weights`, the project's own CIFAR-10 ResNet-20 (built in, no download); a name
//! of `resnet weights` is downloaded and verified on first use.

use std::path::PathBuf;

use burn::tensor::Device;
use clap::Parser;
use resnet::data::folder::decode;
use resnet::pretrained::{Classifier, embedded};

/// Classify photos with pretrained weights.
#[derive(Parser)]
struct Args {
    /// Photos to classify.
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// A name of `resnet weights`; default: the built-in CIFAR-10 ResNet-20.
    #[arg(long, default_value = embedded::NAME)]
    weights: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let classifier = Classifier::pretrained(&args.weights, &Device::default())?;
    for path in args.images {
        let image = decode(&path)?;
        println!("{}", path.display());
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
