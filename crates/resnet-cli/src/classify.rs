//! `resnet classify`: the top classes of photos, with the preprocessing of the weights.

use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use resnet_data::folder::{decode, is_image};
use resnet_pretrained::{Classifier, Prediction, WeightsSource, embedded};
use serde::Serialize;

use super::DeviceArgs;
use super::common::{bar, download_progress};

/// Arguments of `resnet classify`.
#[derive(Debug, clap::Args)]
pub struct ClassifyArgs {
    /// Images (JPEG, PNG, WebP, BMP, PPM), or directories to walk for them.
    #[arg(required = true, num_args = 1..)]
    pub images: Vec<PathBuf>,
    /// Weights: a name of `resnet weights` (downloaded and verified on first use), a file
    /// (PyTorch checkpoint or burn record) or a training run's directory. Default: the built-in CIFAR-10 ResNet-20.
    #[arg(long, default_value = embedded::NAME)]
    pub weights: String,
    /// The network, for a PyTorch checkpoint that is not a published one (see `resnet models`).
    #[arg(long)]
    pub arch: Option<String>,
    /// Classes to print per image.
    #[arg(long, default_value_t = 5, value_parser = super::positive::<u32>)]
    pub top: u32,
    /// Images per forward pass.
    #[arg(long, default_value_t = 16, value_parser = super::positive::<u32>)]
    pub batch_size: u32,
    /// Print a JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub device: DeviceArgs,
}

/// The answer for one file.
#[derive(Debug, Serialize)]
struct Classified {
    path: PathBuf,
    top: Vec<Prediction>,
}

/// A file that could not be classified.
#[derive(Debug, Serialize)]
struct Skipped {
    path: PathBuf,
    error: String,
}

/// The image files to classify: files as given, directories walked (sorted, image
/// extensions only).
fn image_files(inputs: &[PathBuf]) -> anyhow::Result<(Vec<PathBuf>, bool)> {
    let mut files = Vec::new();
    let mut walked = false;
    for input in inputs {
        anyhow::ensure!(
            input.exists(),
            "{}: no such file or directory",
            input.display()
        );
        if !input.is_dir() {
            files.push(input.clone());
            continue;
        }
        walked = true;
        let mut found: Vec<PathBuf> = walkdir::WalkDir::new(input)
            .follow_links(true)
            .into_iter()
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|e| e.file_type().is_file() && is_image(e.path()))
            .map(|e| e.into_path())
            .collect();
        anyhow::ensure!(!found.is_empty(), "{} holds no images", input.display());
        found.sort();
        files.extend(found);
    }
    Ok((files, walked))
}

/// Runs `resnet classify`. Files that cannot be decoded are reported and skipped; the exit
/// status is then a failure.
pub fn run(args: ClassifyArgs) -> anyhow::Result<()> {
    let (_, device) = args.device.device()?;
    let source = WeightsSource::resolve(&args.weights, download_progress())?;
    let classifier = Classifier::from_source(&source, args.arch.as_deref(), &device)?;
    if !args.json {
        // Which weights answer, and what their classes are (a CIFAR network calls anything
        // one of its ten).
        let classes = classifier.categories();
        let first: Vec<&str> = classes.names().iter().take(3).map(String::as_str).collect();
        eprintln!(
            "weights: {} ({} classes: {}{})",
            source.spec,
            classes.len(),
            first.join(", "),
            if classes.len() > 3 { ", ..." } else { "" }
        );
    }
    let (files, walked) = image_files(&args.images)?;
    let bar = if walked && files.len() > 1 {
        bar(files.len(), false)
    } else {
        ProgressBar::hidden()
    };
    let (mut classified, mut skipped) = (Vec::new(), Vec::new());
    for chunk in files.chunks(args.batch_size as usize) {
        let mut images = Vec::with_capacity(chunk.len());
        let mut paths = Vec::with_capacity(chunk.len());
        for path in chunk {
            match decode(path) {
                Ok(image) => {
                    images.push(image);
                    paths.push(path.clone());
                }
                Err(e) => {
                    bar.suspend(|| eprintln!("skipped: {e}"));
                    skipped.push(Skipped {
                        path: path.clone(),
                        error: e.to_string(),
                    });
                }
            }
        }
        let tops = classifier.classify_batch(&images, args.top as usize);
        for (path, top) in paths.into_iter().zip(tops) {
            if !args.json {
                bar.suspend(|| print_text(&path, &top));
            }
            classified.push(Classified { path, top });
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    if args.json {
        let out = serde_json::json!({
            "weights": args.weights,
            "images": classified,
            "skipped": skipped,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    anyhow::ensure!(
        skipped.is_empty(),
        "{} of {} file(s) could not be read as images",
        skipped.len(),
        files.len()
    );
    Ok(())
}

fn print_text(path: &Path, top: &[Prediction]) {
    println!("{}", path.display());
    for p in top {
        println!("  {:6.2}%  {}", 100.0 * p.probability, p.label);
    }
}
