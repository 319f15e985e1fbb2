//! ResNet-20 on CIFAR-10 through burn's own `Learner`: the data as burn datasets
//! (`resnet_data::dataset`), batched with the paper's augmentation (`ImageBatcher`), loaded by
//! burn's `DataLoaderBuilder` with workers, trained by `SupervisedTraining` with the recipe's
//! SGD and step schedule, burn's accuracy and loss metrics and its checkpoints.
//!
//! ```sh
//! cargo run --release --example learner -- --data ../shared/data/cifar10/cifar-10-binary.tar.gz \
//!     --epochs 1 --subset 2048
//! ```
//!
//! Which loop to use: this one when a ResNet is one more model in a burn training pipeline
//! (burn's metrics, renderers, checkpoints, multi-device strategies). `resnet train`
//! (`resnet_train::train::Run`) for the paper's recipes themselves: iteration milestones,
//! ResNet-110's warm-up and the plateau schedule (burn's schedulers do not see the training
//! error), and a resumed run bit-identical to an uninterrupted one.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use burn::data::dataloader::DataLoaderBuilder;
use burn::train::metric::{AccuracyMetric, LearningRateMetric, LossMetric};
use burn::train::{Learner, SupervisedTraining};
use clap::Parser;
use resnet::data::batcher::ImageBatcher;
use resnet::model::zoo;
use resnet::train::train::{Recipe, TrainingData};
use resnet_cli::{DeviceArgs, locate_data, positive};

/// Trains a CIFAR ResNet with burn's Learner.
#[derive(Parser)]
struct Args {
    /// CIFAR-10: the `.tar.gz`, its directory, or `cifar10` to download it.
    #[arg(long)]
    data: String,
    /// The network (`resnet models`).
    #[arg(long, default_value = "resnet20")]
    network: String,
    /// Epochs (the recipe's schedule, scaled to them).
    #[arg(long, default_value_t = 1, value_parser = positive::<usize>)]
    epochs: usize,
    /// Train on this many of the 45,000 training images (`resnet train --subset`'s choice).
    #[arg(long, value_parser = positive::<usize>)]
    subset: Option<usize>,
    /// Validate on the first N of the 5,000 validation images (all by default).
    #[arg(long, value_parser = positive::<usize>)]
    val_images: Option<usize>,
    /// Images per batch.
    #[arg(long, default_value_t = 128, value_parser = positive::<usize>)]
    batch_size: usize,
    /// burn's loader threads (0: batches made on the training thread).
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Where burn writes its metric logs and checkpoints.
    #[arg(long, default_value = "runs/learner")]
    out: PathBuf,
    #[command(flatten)]
    device: DeviceArgs,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (_, device) = args.device.device()?;
    let mut recipe = Recipe::cifar();
    recipe.batch_size = args.batch_size;

    // The 45k/5k split, the subset and the per-pixel mean of `resnet train`.
    let mut data = TrainingData::open(&locate_data(&args.data)?, recipe.held_out, recipe.seed)?;
    if let Some(n) = args.subset {
        data = data.subset(n, recipe.seed)?;
    }
    let per_epoch = data.iterations_per_epoch(recipe.batch_size);
    if per_epoch == 0 {
        bail!(
            "{} training images make no batch of {}",
            data.train_len(),
            recipe.batch_size
        );
    }
    let TrainingData::Cifar {
        train,
        val: Some(val),
        normalization,
        ..
    } = data
    else {
        bail!("{} is not CIFAR with a validation split", args.data);
    };
    let train_images = train.len();
    let val = match args.val_images {
        Some(n) if n < val.len() => val.subset(&(0..n).collect::<Vec<_>>()),
        _ => val,
    };

    // burn's loaders over the datasets; the batcher augments (pad-4 crop, flip) and normalises.
    let train_loader = DataLoaderBuilder::new(ImageBatcher::cifar_train(
        normalization.clone(),
        recipe.seed,
    ))
    .batch_size(recipe.batch_size)
    .shuffle(recipe.seed)
    .num_workers(args.workers)
    .build(train);
    let val_loader = DataLoaderBuilder::new(ImageBatcher::cifar_test(normalization))
        .batch_size(500)
        .num_workers(args.workers)
        .build(val);

    // The recipe's SGD (momentum 0.9, weight decay 1e-4) and its step schedule, scaled to
    // the epochs; burn steps the scheduler once per iteration, as the paper's milestones count.
    let recipe = recipe.scaled_to_length(Some(args.epochs as f64), None, per_epoch);
    let autodiff = device.autodiff();
    autodiff.seed(recipe.seed);
    let model = zoo::config_for(&args.network)?.init(&autodiff)?;
    let learner = Learner::new(model, recipe.optimizer(), recipe.lr_scheduler()?);

    let started = Instant::now();
    let result = SupervisedTraining::new(&args.out, train_loader, val_loader)
        .metrics((AccuracyMetric::new(), LossMetric::new()))
        .metric_train_numeric(LearningRateMetric::new())
        .with_default_checkpointers()
        .num_epochs(args.epochs)
        .summary()
        .launch(learner);
    if let Some(error) = result.error {
        bail!("training failed: {error}");
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}: {} epochs of {train_images} images in {seconds:.0} s, {:.0} img/s (validation \
         included); burn's logs and checkpoints in {}",
        args.network,
        args.epochs,
        (args.epochs * train_images) as f64 / seconds,
        args.out.display()
    );
    Ok(())
}
