//! The `resnet` command-line program over the workspace's libraries: its flags (clap), its
//! progress bars and printed reports (indicatif), its errors as messages (anyhow). The
//! libraries print nothing; a training run reports to [`progress::Reporter`].

mod analyze;
mod classify;
pub mod common;
mod eval;
mod infer;
mod models;
mod plot;
pub mod progress;
pub mod train;
mod weights;

pub use common::locate_data;

use clap::{Parser, Subcommand};

use resnet_train::DeviceSpec;

/// Deep residual networks (He et al., 2015) on burn.
#[derive(Debug, Parser)]
#[command(name = "resnet", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Classify photos: the top classes of each, with the preprocessing of the weights.
    Classify(classify::ClassifyArgs),
    /// List every named network with its depth, parameters and multiply-adds.
    Models(models::ModelsArgs),
    /// List the published weights: network, dataset, accuracy, size, preset.
    Weights(weights::WeightsArgs),
    /// Run a network (eval mode) on a batch of images stored as a safetensors tensor.
    Infer(infer::InferArgs),
    /// Top-1 and top-5 error on CIFAR or an ImageNet-style folder (one network or an ensemble).
    Eval(eval::EvalArgs),
    /// Train a network with the paper's recipe (or resume a run).
    Train(Box<train::TrainArgs>),
    /// Plot the training curves of one or several runs, overlaid (Fig. 4/6 of the paper).
    Plot(plot::PlotArgs),
    /// Analyses of trained networks (layer responses, Fig. 7).
    Analyze(analyze::AnalyzeArgs),
}

/// `--device`, shared by the subcommands that compute.
#[derive(Debug, Clone, clap::Args)]
pub struct DeviceArgs {
    /// Compute device: flex, ndarray, wgpu, vulkan, cuda or cuda:N (backends compiled in
    /// through cargo features). Default: $BURN_DEVICE, else flex.
    #[arg(long)]
    pub device: Option<DeviceSpec>,
}

impl DeviceArgs {
    /// The chosen device.
    pub fn device(&self) -> anyhow::Result<(DeviceSpec, burn::tensor::Device)> {
        let spec = match self.device {
            Some(spec) => spec,
            None => DeviceSpec::from_env_or_default()?,
        };
        Ok((spec, spec.device()?))
    }
}

/// Parses a whole number of at least 1 (batch sizes, counts of iterations, images or
/// classes): one wording for every such flag.
pub fn positive<T: std::str::FromStr + From<u8> + PartialOrd>(s: &str) -> Result<T, String> {
    match s.trim().parse::<T>() {
        Ok(value) if value >= T::from(1) => Ok(value),
        _ => Err(format!("`{s}` is not a whole number of at least 1")),
    }
}

/// Parses the command line and runs it.
pub fn main() -> anyhow::Result<()> {
    run(Cli::parse())
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Classify(args) => classify::run(args),
        Command::Models(args) => models::run(args),
        Command::Weights(args) => weights::run(args),
        Command::Infer(args) => infer::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Train(args) => train::run(*args),
        Command::Plot(args) => plot::run(args),
        Command::Analyze(args) => analyze::run(args),
    }
}
