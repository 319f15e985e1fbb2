//! `resnet analyze responses`: the paper's Fig. 7 for one or several trained networks.

use std::path::PathBuf;

use anyhow::Context;
use burn::module::Module;
use indicatif::ProgressBar;
use resnet_data::{Cifar, Normalization};
use resnet_model::load_model;

use resnet_pretrained::WeightsSource;

use super::DeviceArgs;
use super::common::{Rgb, download_progress, locate_data};
use super::eval::{PAPER_MEAN_IMAGE, StoredRun, note_assumed_normalization, run_data};
use resnet_train::responses::{layer_responses, plot, write_csv, write_gates_csv};

/// Arguments of `resnet analyze`.
#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// What to analyse.
    #[command(subcommand)]
    pub what: Analysis,
}

/// The analyses.
#[derive(Debug, clap::Subcommand)]
pub enum Analysis {
    /// Standard deviation of every 3x3 layer's response (after BN, before addition and ReLU)
    /// over a CIFAR set: a CSV and a plot in network order and sorted by magnitude (Fig. 7);
    /// for gated networks also each block's mean gate opening (OUT-gates.csv).
    Responses(ResponsesArgs),
}

/// Arguments of `resnet analyze responses`.
#[derive(Debug, clap::Args)]
pub struct ResponsesArgs {
    /// Network name or JSON config: one for all weights, or one per `--weights`; optional
    /// for burn records and published weights.
    #[arg(long, num_args = 1..)]
    pub arch: Vec<String>,
    /// Trained weights (a published name, a PyTorch checkpoint, a burn record or a training
    /// run's directory), one or several to overlay.
    #[arg(long, required = true, num_args = 1..)]
    pub weights: Vec<String>,
    /// Legend names, one per `--weights` (default: a run's directory name, else the file
    /// name).
    #[arg(long, num_args = 1..)]
    pub labels: Vec<String>,
    /// CIFAR directory or .tar.gz archive (or `cifar10`/`cifar100` to download). Default: the
    /// data of the first training run among the weights.
    #[arg(long)]
    pub data: Option<String>,
    /// Analyse the first N test images (default: all).
    #[arg(long, value_parser = super::positive::<u64>)]
    pub images: Option<u64>,
    /// Per-channel mean (r,g,b in [0, 1]) for weights that do not say how their inputs were
    /// normalised (records of `resnet train` and published weights do); default, said in a
    /// note: the per-pixel mean of the training set, as the paper.
    #[arg(long, requires = "std")]
    pub mean: Option<Rgb>,
    /// Per-channel standard deviation.
    #[arg(long, requires = "mean")]
    pub std: Option<Rgb>,
    /// Output files: OUT.csv, OUT.png and OUT.svg.
    #[arg(long, default_value = "responses")]
    pub out: PathBuf,
    /// Images per forward pass.
    #[arg(long, default_value_t = 200, value_parser = super::positive::<u32>)]
    pub batch_size: u32,
    /// The compute device.
    #[command(flatten)]
    pub device: DeviceArgs,
}

/// Runs `resnet analyze`.
pub fn run(args: AnalyzeArgs) -> anyhow::Result<()> {
    match args.what {
        Analysis::Responses(args) => responses(args),
    }
}

fn responses(args: ResponsesArgs) -> anyhow::Result<()> {
    let (_, device) = args.device.device()?;
    anyhow::ensure!(
        args.arch.len() <= 1 || args.arch.len() == args.weights.len(),
        "give one --arch for all weights or one per weights file"
    );
    anyhow::ensure!(
        args.labels.is_empty() || args.labels.len() == args.weights.len(),
        "give one label per weights file"
    );
    let sources = (args.weights.iter())
        .map(|spec| WeightsSource::resolve(spec, download_progress()))
        .collect::<Result<Vec<_>, _>>()?;
    let data = match &args.data {
        Some(data) => data.clone(),
        None => run_data(&sources)?,
    };
    let cifar = Cifar::load(locate_data(&data)?)?;
    let mut test = cifar.test;
    if let Some(n) = args.images.map(|n| n as usize).filter(|&n| n < test.len()) {
        test = test.subset(&(0..n).collect::<Vec<_>>());
    }
    let mean_image = cifar.train.mean_image();
    let mut results = Vec::new();
    let mut gates = Vec::new();
    for (i, (spec, source)) in args.weights.iter().zip(&sources).enumerate() {
        let arch = (args.arch.get(i).or(args.arch.first()).map(String::as_str)).or(source.arch);
        let model = load_model(arch, &source.path, None, &device)?.valid();
        // What the weights were trained with, when they say; else what was given.
        let known = StoredRun::read(&source.path)?.normalization_of(source);
        let given = Rgb::normalization(&args.mean, &args.std);
        if known.is_none() && given.is_none() {
            note_assumed_normalization(spec, PAPER_MEAN_IMAGE);
        }
        let normalization =
            (known.or(given)).unwrap_or_else(|| Normalization::mean_image(mean_image.clone()));
        let label = args
            .labels
            .get(i)
            .cloned()
            .unwrap_or_else(|| default_label(source));
        let bar = ProgressBar::new(test.len() as u64).with_message(label.clone());
        let (responses, openings) = layer_responses(
            &model,
            &test,
            &normalization,
            args.batch_size as usize,
            &device,
            |n| bar.inc(n as u64),
        )?;
        bar.finish_and_clear();
        println!(
            "{label}: {} 3x3 layers, response std from {:.3} to {:.3} (mean {:.3})",
            responses.len(),
            responses
                .iter()
                .map(|r| r.std)
                .fold(f64::INFINITY, f64::min),
            responses.iter().map(|r| r.std).fold(0.0, f64::max),
            responses.iter().map(|r| r.std).sum::<f64>() / responses.len().max(1) as f64
        );
        if !openings.is_empty() {
            let (low, high) =
                (openings.iter()).fold((1.0f64, 0.0f64), |(lo, hi), &o| (lo.min(o), hi.max(o)));
            println!(
                "{label}: {} gates, mean opening T from {low:.3} to {high:.3} (0: the block \
                 passes its shortcut on)",
                openings.len()
            );
            gates.push((label.clone(), openings));
        }
        results.push((label, responses));
    }
    let csv = resnet_train::figures::with_extension(&args.out, "csv");
    write_csv(&csv, &results).with_context(|| format!("writing {}", csv.display()))?;
    let [png, svg] = plot(&results, &args.out)?;
    if !gates.is_empty() {
        let stem = args.out.file_name().unwrap_or_default().to_string_lossy();
        let path = args.out.with_file_name(format!("{stem}-gates.csv"));
        write_gates_csv(&path, &gates).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    println!(
        "wrote {}, {}, {}",
        csv.display(),
        png.display(),
        svg.display()
    );
    Ok(())
}

/// A legend name for weights: their training run's directory name, else the file's name
/// without its extension.
fn default_label(source: &WeightsSource) -> String {
    let name = match &source.run_dir {
        Some(dir) => dir.file_name(),
        None => source.path.file_stem(),
    };
    name.map_or("model".into(), |s| s.to_string_lossy().into_owned())
}
