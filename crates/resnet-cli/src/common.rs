//! What several commands share: `--data` and `--mean`/`--std` as flags give them, and the
//! progress bars of downloads and of passes over images.

use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use resnet_data::Normalization;
use resnet_data::download::locate_cifar;

/// Three per-channel values, `r,g,b`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rgb(pub [f32; 3]);

impl std::str::FromStr for Rgb {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let values: Vec<f32> = s
            .split(',')
            .map(|v| v.trim().parse::<f32>().map_err(|e| format!("`{v}`: {e}")))
            .collect::<Result<_, _>>()?;
        <[f32; 3]>::try_from(values)
            .map(Rgb)
            .map_err(|v| format!("expected 3 values r,g,b, got {}", v.len()))
    }
}

impl Rgb {
    /// The per-channel normalisation `--mean` and `--std` give, when both are given.
    pub fn normalization(mean: &Option<Rgb>, std: &Option<Rgb>) -> Option<Normalization> {
        match (mean, std) {
            (Some(Rgb(mean)), Some(Rgb(std))) => Some(Normalization::per_channel(*mean, *std)),
            _ => None,
        }
    }
}

/// `--data`: a path, or a dataset name downloaded (with a progress bar) into the cache; a
/// warning about the data (e.g. an unverified local archive) is printed.
pub fn locate_data(source: &str) -> Result<PathBuf, resnet_data::DataError> {
    let located = locate_cifar(source, download_progress())?;
    if let Some(warning) = &located.warning {
        eprintln!("warning: {warning}");
    }
    Ok(located.path)
}

/// A progress bar for a download (drawn only while bytes arrive).
pub fn download_progress() -> impl FnMut(u64, Option<u64>) {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("downloading {bar:40} {bytes}/{total_bytes} {bytes_per_sec}")
            .expect("valid template"),
    );
    move |done, total| {
        if let Some(total) = total {
            bar.set_length(total);
        }
        bar.set_position(done);
    }
}

/// A progress bar over `len` images (hidden when `quiet`), the one template of the commands
/// that go through images.
pub fn bar(len: usize, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} images, {per_sec}, eta {eta}")
            .expect("valid template"),
    );
    bar
}
