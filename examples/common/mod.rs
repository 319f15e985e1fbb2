//! What the per-depth examples share: a few flags, and the library calls that train one of the
//! paper's networks with the paper's recipe for it. `resnet train` has every other setting
//! (seed, batch size, learning rate, subsets, evaluation cadence, ...).

use std::path::PathBuf;

use anyhow::{Context, ensure};
use clap::{CommandFactory, FromArgMatches, Parser};
use resnet::model::{ResNetConfig, Stem, zoo};
use resnet::train::train::{Recipe, Run, RunConfig};
use resnet_cli::DeviceArgs;
use resnet_cli::progress::{Progress, Reporter};
use resnet_cli::train::load_data;

/// Trains one of the paper's networks with its recipe (`resnet train` has every other setting).
#[derive(Parser)]
struct Flags {
    /// CIFAR: a directory (holding `cifar-10-binary.tar.gz` or its batches), the archive, or
    /// `cifar10`/`cifar100` to download it; ImageNet: a class-folder tree (`train/`, `val/`).
    /// With `--resume`: the run's own by default.
    #[arg(long, required_unless_present = "resume")]
    data: Option<String>,
    /// Train the plain counterpart: the same layers without shortcuts (offered where the
    /// paper has one).
    #[arg(long)]
    plain: bool,
    /// Stochastic depth (Huang et al. 2016): block l of L runs in a training step with
    /// probability 1 - l/L (1 - P_L) (the paper: P_L = 0.5); residual networks only.
    #[arg(long, value_name = "P_L", conflicts_with = "resume")]
    stochastic_depth: Option<f64>,
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
    let plain_name = zoo::plain_name(name);
    let has_plain = zoo::named_models().iter().any(|m| m.name == plain_name);
    let flags = Flags::from_arg_matches(
        &Flags::command()
            .mut_arg("plain", |arg| arg.hide(!has_plain))
            .get_matches(),
    )?;
    ensure!(!flags.plain || has_plain, "the paper has no {plain_name}");
    let (name, network) = match flags.plain {
        false => (name.to_string(), network),
        true => (plain_name, network.plain()),
    };
    let network = match flags.stochastic_depth {
        Some(last) => network.with_stochastic_depth(Some(last)),
        None => network,
    };
    network.validate()?;
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
    // The training images less the recipe's validation split (CIFAR: 5,000 of 50,000),
    // checked to be the kind of data the recipe is for.
    let source = (flags.data)
        .or_else(|| stored.as_ref().map(|stored| stored.data.clone()))
        .context("--data is required")?;
    let data = load_data(
        &source,
        recipe.data,
        recipe.held_out,
        recipe.seed,
        None,
        None,
    )?;
    let per_epoch = data.iterations_per_epoch(recipe.batch_size);
    recipe = recipe.scaled_to_length(flags.epochs, flags.iterations, per_epoch);

    // A run directory: run.json, metrics.csv, checkpoints, the final model.bpk, curves.png.
    let config = RunConfig::new(&name, network, recipe, &data, &source)?;
    let run = Run {
        config,
        data: &data,
        dir,
        device,
        eval_batch_size: 500,
        observer: &Reporter::new(Progress::Auto),
    };
    let summary = if flags.resume {
        run.resume()?
    } else {
        run.start()?
    };
    println!("{name}: {summary}");
    Ok(())
}
