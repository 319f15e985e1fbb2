//! `resnet eval`: top-1/top-5 error on CIFAR or an ImageNet-style folder.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use burn::module::Module;
use resnet_data::metadata::RunMetadata;
use resnet_data::{Cifar, FolderLayout, FolderSplit, ImageFolder, Normalization, TestProtocol};
use resnet_model::record::{WeightsFormat, record_metadata};
use resnet_model::{ResNet, load_model};

use resnet_pretrained::WeightsSource;

use super::DeviceArgs;
use super::common::{Rgb, bar, download_progress, locate_data};
use resnet_train::eval::{EvalReport, EvalSettings, OnCorrupt, evaluate_folder, evaluate_images};
use resnet_train::train::Run;

/// Arguments of `resnet eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// A training run's directory: its final `model.bpk`, scored on the run's data (its
    /// `run.json`) unless `--data` says otherwise.
    #[arg(conflicts_with = "weights", required_unless_present = "weights")]
    pub run: Option<PathBuf>,
    /// Network name (see `resnet models`) or JSON config; optional for burn records and for
    /// published weights.
    #[arg(long)]
    pub arch: Option<String>,
    /// Weights: a published name (`resnet weights`), a PyTorch checkpoint, a burn record, or
    /// a training run's directory; several average their softmax (ensemble).
    #[arg(long, num_args = 1..)]
    pub weights: Vec<String>,
    /// CIFAR directory or .tar.gz archive, `cifar10`/`cifar100` to download the official
    /// archive into the cache ($RESNET_DATA_DIR), or an ImageNet-style class-folder tree (its
    /// `val/` or `train/` sub-folder is taken when present). Default: a run's own data.
    #[arg(long)]
    pub data: Option<String>,
    /// Which images: the test set, the validation images the training run held out, or the
    /// training images it learnt from. Folders: `val/` (test and val) and `train/`; in a tree
    /// without `val/`, the run's split of its images (a tree without `train/` either is
    /// scored whole as `test`).
    #[arg(long, value_enum, default_value_t = Split::Test)]
    pub split: Split,
    /// Training images held out for validation (`--split val`, and left out of `--split
    /// train`). Default: the training run's (stored in records written by `resnet train`),
    /// else 5000 for CIFAR's `--split val` and none otherwise.
    #[arg(long)]
    pub val_size: Option<usize>,
    /// Seed of the train/val split. Default: the training run's, else 0.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Per-channel mean (r,g,b in [0, 1]). Default: what the weights were trained with (a
    /// record of `resnet train` stores it; published weights are known), else, said in a
    /// note, the per-pixel mean image of the training set (CIFAR, as the paper) or ImageNet's
    /// mean/std (folders).
    #[arg(long, requires = "std")]
    pub mean: Option<Rgb>,
    /// Per-channel standard deviation (r,g,b in [0, 1]).
    #[arg(long, requires = "mean")]
    pub std: Option<Rgb>,
    /// Test-time views: `single` (CIFAR: the image as is; ImageNet nets: resize 256, centre
    /// 224), `10crop`, or `multiscale` ({224, 256, 384, 480, 640}).
    #[arg(long, value_enum, default_value_t = Tta::Single)]
    pub tta: Tta,
    /// What to do with files that cannot be decoded.
    #[arg(long, value_enum, default_value_t = OnCorruptArg::Fail)]
    pub on_corrupt: OnCorruptArg,
    /// Number of classes, where the weights do not tell.
    #[arg(long)]
    pub classes: Option<usize>,
    /// Images per forward pass.
    #[arg(long, default_value_t = 100, value_parser = super::positive::<u32>)]
    pub batch_size: u32,
    /// Print a JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub device: DeviceArgs,
}

/// `--on-corrupt`: the library's [`OnCorrupt`] as a flag's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnCorruptArg {
    /// Stop with an error naming the file.
    Fail,
    /// Leave it out, count it and report it.
    Skip,
}

impl From<OnCorruptArg> for OnCorrupt {
    fn from(arg: OnCorruptArg) -> Self {
        match arg {
            OnCorruptArg::Fail => OnCorrupt::Fail,
            OnCorruptArg::Skip => OnCorrupt::Skip,
        }
    }
}

/// Which images to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Split {
    /// The test set.
    Test,
    /// The validation split.
    Val,
    /// The training set.
    Train,
}

/// Test-time augmentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Tta {
    /// One view.
    Single,
    /// Ten crops.
    #[value(name = "10crop")]
    TenCrop,
    /// Five scales, fully convolutional.
    Multiscale,
}

/// Runs `resnet eval`.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let (spec, device) = args.device.device()?;
    let specs = match &args.run {
        Some(run) => vec![run.display().to_string()],
        None => args.weights.clone(),
    };
    let sources = (specs.iter())
        .map(|s| WeightsSource::resolve(s, download_progress()))
        .collect::<Result<Vec<_>, _>>()?;
    let weights: Vec<PathBuf> = sources.iter().map(|s| s.path.clone()).collect();
    let models = (sources.iter())
        .map(|source| {
            let arch = args.arch.as_deref().or(source.arch);
            Ok(load_model(arch, &source.path, args.classes, &device)?
                .valid()
                .fold_batch_norm())
        })
        .collect::<anyhow::Result<Vec<ResNet>>>()?;
    let stored = (sources.iter())
        .map(|source| StoredRun::read(&source.path))
        .collect::<anyhow::Result<Vec<StoredRun>>>()?;
    // How each network's inputs were normalised: its record says, or its published preset.
    let known: Vec<Option<Normalization>> = (stored.iter().zip(&sources))
        .map(|(run, source)| run.normalization_of(source))
        .collect();
    let given = Rgb::normalization(&args.mean, &args.std);
    check_ensemble(&weights, &stored, &known, args.split, given.is_some())?;
    // Else what the first network was trained with, when known.
    let per_channel = given.or_else(|| known[0].clone());
    let mut settings = EvalSettings {
        normalization: per_channel.clone().unwrap_or_else(Normalization::imagenet),
        protocol: TestProtocol::AsIs,
        batch_size: args.batch_size as usize,
        on_corrupt: args.on_corrupt.into(),
    };
    let data = match &args.data {
        Some(data) => data.clone(),
        None => run_data(&sources)?,
    };
    let data = locate_data(&data)?;
    let assumed = |what: &str| {
        if per_channel.is_none() {
            note_assumed_normalization(&sources[0].spec, what);
        }
    };
    // The split the training run held out (a record stores it), unless given.
    let stored_split = args.val_size.or(stored[0].held_out);
    let seed = args.seed.or(stored[0].seed).unwrap_or(0);
    let start = Instant::now();
    let report = if !Cifar::looks_like(&data) {
        let folder = folder_split(&data, args.split, stored_split.unwrap_or(0), seed)?;
        check_class_names(&weights, &stored, &folder.classes)?;
        assumed("ImageNet's mean and std");
        let native = models[0].config().native_input_size() as u32;
        settings.protocol = match (args.tta, native) {
            // CIFAR networks take their images as they are.
            (Tta::Single, 32) => TestProtocol::AsIs,
            (Tta::Single, _) => TestProtocol::center_crop(),
            (_, 32) => anyhow::bail!(
                "CIFAR networks are tested on the single original view (--tta single)"
            ),
            (Tta::TenCrop, _) => TestProtocol::ten_crop(),
            (Tta::Multiscale, _) => TestProtocol::multi_scale(),
        };
        if !folder.ignored.is_empty() {
            eprintln!(
                "ignoring {} non-image file(s), e.g. {}",
                folder.ignored.len(),
                folder.ignored[0].display()
            );
        }
        let bar = bar(folder.samples.len(), args.json);
        let report = evaluate_folder(&models, &folder, &settings, &device, |n| bar.inc(n as u64))?;
        bar.finish_and_clear();
        report
    } else {
        anyhow::ensure!(
            args.tta == Tta::Single,
            "CIFAR images are evaluated as they are (--tta single)"
        );
        let cifar = Cifar::load(&data)?;
        check_class_names(&weights, &stored, &cifar.class_names)?;
        assumed(PAPER_MEAN_IMAGE);
        // The training images (whose mean image normalises) less the run's held-out ones.
        let held_out = match args.split {
            Split::Test => 0,
            Split::Val => {
                let held_out = stored_split.unwrap_or(5000);
                anyhow::ensure!(
                    held_out > 0,
                    "{} was trained on all training images: it has no validation split \
                     (give --val-size to score held-out images anyway)",
                    sources[0].spec
                );
                held_out
            }
            // Weights from elsewhere (no stored split) were trained on all of them.
            Split::Train => stored_split.unwrap_or(0),
        };
        let (train, val) = cifar.train.split(held_out, seed)?;
        settings.normalization =
            per_channel.unwrap_or_else(|| Normalization::mean_image(train.mean_image()));
        let images = match args.split {
            Split::Test => cifar.test,
            Split::Val => val,
            Split::Train => train,
        };
        let bar = bar(images.len(), args.json);
        let report = evaluate_images(&models, &images, &settings, &device, |n| bar.inc(n as u64))?;
        bar.finish_and_clear();
        report
    };
    anyhow::ensure!(report.total > 0, "no image could be evaluated");
    print_report(&report, &args, spec, start.elapsed().as_secs_f64())
}

/// An ensemble averages its networks' scores of the same inputs: they must take the same
/// normalisation (unless `--mean`/`--std` set it), and to score a held-out split they must
/// have held out the same images.
fn check_ensemble(
    weights: &[PathBuf],
    stored: &[StoredRun],
    known: &[Option<Normalization>],
    split: Split,
    normalization_given: bool,
) -> anyhow::Result<()> {
    // Mean images differ a little from split to split; their presence and the channel
    // statistics must agree.
    let kind = |n: &Option<Normalization>| {
        (n.as_ref()).map(|n| (n.mean_image.is_some(), n.mean.clone(), n.std.clone()))
    };
    let first = (&weights[0], &stored[0]);
    for ((w, run), n) in weights.iter().zip(stored).zip(known).skip(1) {
        anyhow::ensure!(
            normalization_given || kind(n) == kind(&known[0]),
            "{} and {} were trained with different input normalisations: give --mean and --std, \
             or evaluate them one at a time",
            first.0.display(),
            w.display()
        );
        anyhow::ensure!(
            split == Split::Test || (run.seed, run.held_out) == (first.1.seed, first.1.held_out),
            "{} and {} held out different training images (seed or split): score the ensemble \
             on --split test",
            first.0.display(),
            w.display()
        );
    }
    Ok(())
}

/// What a burn record written by `resnet train` says about its training run (each `None`
/// for other weights).
#[derive(Debug, Default)]
pub(super) struct StoredRun {
    /// Pixels to inputs.
    pub normalization: Option<Normalization>,
    /// Class names, by output.
    pub classes: Option<Vec<String>>,
    /// Seed of the train/val split.
    pub seed: Option<u64>,
    /// Training images held out for validation.
    pub held_out: Option<usize>,
}

/// The normalisation assumed for CIFAR weights that do not say theirs: the paper's.
pub(super) const PAPER_MEAN_IMAGE: &str =
    "the per-pixel mean image of the training images, as the paper";

/// Says, in one line, what is assumed for weights that do not say how their inputs were
/// normalised.
pub(super) fn note_assumed_normalization(spec: &str, assumed: &str) {
    eprintln!(
        "note: {spec} does not say how its inputs were normalised: assuming {assumed} (--mean \
         and --std set it)"
    );
}

/// `--data`'s default: the data of the first training run the weights come from.
pub(super) fn run_data(sources: &[WeightsSource]) -> anyhow::Result<String> {
    let dir = (sources.iter().find_map(|source| source.run_dir.as_deref()))
        .context("--data is required (a training run's directory stores its own)")?;
    Ok(Run::read_config(dir)?.data)
}

impl StoredRun {
    /// How the weights' inputs were normalised, when they say: this record's, else the
    /// published checkpoint's preset.
    pub(super) fn normalization_of(&self, source: &WeightsSource) -> Option<Normalization> {
        self.normalization
            .clone()
            .or_else(|| source.normalization())
    }

    /// Reads a record's [`RunMetadata`]; weights without one (PyTorch checkpoints, records
    /// from elsewhere) have none. Metadata that is there but damaged is an error.
    pub(super) fn read(weights: &Path) -> anyhow::Result<Self> {
        if WeightsFormat::detect(weights)? != WeightsFormat::Burnpack {
            return Ok(Self::default());
        }
        let metadata = record_metadata(weights)?;
        if !RunMetadata::present(&metadata) {
            return Ok(Self::default());
        }
        let run =
            RunMetadata::from_map(&metadata).with_context(|| format!("{}", weights.display()))?;
        Ok(Self {
            normalization: Some(run.normalization),
            classes: Some(run.classes),
            seed: Some(run.seed),
            held_out: Some(run.held_out),
        })
    }
}

/// A network whose record names its classes must be scored on data with the same classes in
/// the same order (labels index the outputs).
fn check_class_names(
    weights: &[PathBuf],
    stored: &[StoredRun],
    data_classes: &[String],
) -> anyhow::Result<()> {
    for (w, run) in weights.iter().zip(stored) {
        let Some(classes) = &run.classes else {
            continue;
        };
        if classes.len() == data_classes.len() && classes.as_slice() != data_classes {
            let i = (classes.iter().zip(data_classes))
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            anyhow::bail!(
                "{} was trained on other classes than the data's: its output {i} is `{}`, the \
                 data's label {i} is `{}`",
                w.display(),
                classes[i],
                data_classes[i]
            );
        }
    }
    Ok(())
}

/// The class folders to score: the tree's `val/` (test and val) or `train/`; in a tree
/// without `val/`, the run's `held_out` images of its training images (a plain tree is its
/// own test set) or, for `--split train`, the rest: the split training made ([`FolderSplit`]).
fn folder_split(
    data: &Path,
    split: Split,
    held_out: usize,
    seed: u64,
) -> anyhow::Result<ImageFolder> {
    let layout = FolderLayout::of(data);
    match (layout, split) {
        (FolderLayout::TrainVal | FolderLayout::ValOnly, Split::Test | Split::Val) => {
            return Ok(ImageFolder::open(data.join("val"))?);
        }
        (FolderLayout::Plain, Split::Test) => {
            let all = ImageFolder::open(data)?;
            if held_out > 0 {
                eprintln!(
                    "note: scoring all {} images of {}; if the network was trained on this \
                     tree, --split val scores only the {held_out} it held out",
                    all.samples.len(),
                    data.display()
                );
            }
            return Ok(all);
        }
        _ => {}
    }
    let FolderSplit { train, val, .. } = FolderSplit::open(data, held_out, seed)?;
    match split {
        Split::Train => Ok(train),
        _ => val.ok_or_else(|| {
            anyhow::anyhow!(
                "{} has no val/ folder to evaluate, and no held-out split (--val-size)",
                data.display()
            )
        }),
    }
}

fn print_report(
    report: &EvalReport,
    args: &EvalArgs,
    spec: resnet_train::DeviceSpec,
    seconds: f64,
) -> anyhow::Result<()> {
    if args.json {
        println!("{}", serde_json::to_string_pretty(report)?);
        return Ok(());
    }
    println!(
        "top-1 error {:.2}% ({} / {} correct), top-5 error {:.2}%",
        100.0 * report.top1_error,
        report.correct,
        report.total,
        100.0 * report.top5_error
    );
    if !report.skipped.is_empty() {
        println!(
            "skipped {} undecodable file(s): {}",
            report.skipped.len(),
            report.skipped.join(", ")
        );
    }
    eprintln!("{} image(s) in {seconds:.1}s on {spec}", report.total);
    Ok(())
}
