//! What the per-depth examples share: a few flags, and the library calls that train one of the
//! paper's networks with the paper's recipe for it. `resnet train` has every other setting
//! (seed, batch size, learning rate, subsets, evaluation cadence, ...).

use std::path::PathBuf;

use anyhow::ensure;
use clap::Parser;
use resnet::model::{ResNetConfig, Stem, zoo};
use resnet::train::cli::{DeviceArgs, locate_data};
use resnet::train::train::{Progress, Recipe, Run, RunConfig, TrainingData};

/// Trains one of the paper's networks with its recipe (`resnet train` has every other setting).
#[derive(Parser)]
struct Flags {
    /// CIFAR: a directory (holding `cifar-10-binary.tar.gz` or its batches), the archive, or
    /// `cifar10`/`cifar100` to download it; ImageNet: a class-folder tree (`train/`, `val/`).
    #[arg(long)]
    data: String,
    /// Train the plain counterpart: the same layers without shortcuts.
    #[arg(long)]
    plain: bool,
    /// Scale the recipe's schedule to this many epochs (same shape: milestones at the same
    /// fractions).
    #[arg(long, conflicts_with = "iterations")]
    epochs: Option<f64>,
    /// Scale the recipe's schedule to this many iterations.
    #[arg(long)]
    iterations: Option<u64>,
    /// Run directory. Default: runs/<network>.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the run in the run directory from its last checkpoint.
    #[arg(long, conflicts_with_all = ["epochs", "iterations"])]
    resume: bool,
    #[command(flatten)]
    device: DeviceArgs,
}

/// Trains `network` (called `name` in `resnet models`), or its plain counterpart with
/// `--plain`, with the paper's recipe for it.
pub fn train(name: &str, network: ResNetConfig) -> anyhow::Result<()> {
    let flags = Flags::parse();
    let (name, network) = match flags.plain {
        false => (name.to_string(), network),
        true => (name.replacen("resnet", "plain", 1), network.plain()),
    };
    ensure!(
        zoo::named_models().iter().any(|m| m.name == name),
        "the paper has no {name}"
    );
    let dir = flags
        .out
        .unwrap_or_else(|| PathBuf::from("runs").join(&name));
    let (_, device) = flags.device.device()?;

    // Section 4.2's CIFAR recipe (with the warm-up from 110 layers on) or section 3.4's
    // ImageNet recipe, scaled to a shorter run; a resumed run has its own in run.json.
    let mut recipe = Recipe::for_network(network.stem == Stem::ImageNet, network.depth());
    let stored = flags.resume.then(|| Run::read_config(&dir)).transpose()?;
    if let Some(stored) = &stored {
        ensure!(
            stored.arch == name,
            "{} holds a {} run, not {name}",
            dir.display(),
            stored.arch
        );
        recipe = stored.recipe.clone();
    }
    // The training images less the recipe's validation split (CIFAR: 5,000 of 50,000).
    let data = TrainingData::open(&locate_data(&flags.data)?, recipe.held_out, recipe.seed)?;
    let per_epoch = data.iterations_per_epoch(recipe.batch_size);
    recipe = recipe.scaled_to_length(flags.epochs, flags.iterations, per_epoch);

    // A run directory: run.json, metrics.csv, checkpoints, the final model.bpk, curves.png.
    let config = RunConfig::new(&name, network, recipe, &data, &flags.data)?;
    let run = Run {
        config,
        data: &data,
        dir,
        device,
        eval_batch_size: 500,
        progress: Progress::Auto,
    };
    let summary = if flags.resume {
        run.resume()?
    } else {
        run.start()?
    };
    println!("{name}: {summary}");
    Ok(())
}
