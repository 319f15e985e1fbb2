//! `resnet infer`: logits of a network for a batch of (normalised) images.

use std::path::PathBuf;
use std::time::Instant;

use burn::module::Module;
use burn::tensor::Tensor;
use resnet_model::{load_model, resolve_arch};

use resnet_pretrained::WeightsSource;

use super::DeviceArgs;
use super::common::download_progress;
use resnet_train::tensor_file::{read_tensor, write_tensors};

/// Arguments of `resnet infer`.
#[derive(Debug, clap::Args)]
pub struct InferArgs {
    /// Network name (see `resnet models`) or JSON config file; optional for burn records,
    /// which store their network.
    #[arg(long)]
    pub arch: Option<String>,
    /// Weights: a published name (`resnet weights`), a PyTorch checkpoint (.pth/.th or
    /// .safetensors), a burn record (.bpk), or a training run's directory.
    #[arg(long)]
    pub weights: String,
    /// safetensors file with tensor `input`: [N, 3, H, W] f32, already normalised.
    #[arg(long)]
    pub input: PathBuf,
    /// safetensors file to write, with tensor `logits`: [N, classes] f32.
    #[arg(long)]
    pub output: PathBuf,
    /// Number of classes, where the weights do not tell.
    #[arg(long)]
    pub classes: Option<usize>,
    /// Images per forward pass.
    #[arg(long, default_value_t = 64, value_parser = super::positive::<u32>)]
    pub batch_size: u32,
    #[command(flatten)]
    pub device: DeviceArgs,
}

/// Runs `resnet infer`.
pub fn run(args: InferArgs) -> anyhow::Result<()> {
    let (spec, device) = args.device.device()?;
    if let Some(arch) = &args.arch {
        // A bad name is said before the weights are looked for (or downloaded).
        resolve_arch(arch)?;
    }
    let source = WeightsSource::resolve(&args.weights, download_progress())?;
    let arch = args.arch.as_deref().or(source.arch);
    let model = load_model(arch, &source.path, args.classes, &device)?
        .valid()
        .fold_batch_norm();
    let input: Tensor<4> = read_tensor(&args.input, "input", &device)?;
    let [n, channels, h, w] = input.dims();
    let expected = model.config().in_channels;
    anyhow::ensure!(
        channels == expected,
        "{}: input has {channels} channels, the network takes {expected}",
        args.input.display()
    );
    anyhow::ensure!(n > 0, "{}: input holds no images", args.input.display());
    let start = Instant::now();
    let batch = args.batch_size as usize;
    let logits: Vec<Tensor<2>> = (0..n)
        .step_by(batch)
        .map(|i| model.forward(input.clone().narrow(0, i, batch.min(n - i))))
        .collect();
    let logits = Tensor::cat(logits, 0).into_data();
    let elapsed = start.elapsed().as_secs_f64();
    // The error names the file.
    write_tensors(&args.output, &[("logits", logits)])?;
    eprintln!(
        "{n} image(s) of {h}x{w} on {spec} in {elapsed:.2}s ({:.1} images/s) -> {}",
        n as f64 / elapsed,
        args.output.display()
    );
    Ok(())
}
