//! The project's own CIFAR-10 ResNet-20, carried inside the program: the default weights of
//! `resnet classify`, so that it works on a fresh, offline machine.
//!
//! It is the record of the paper's full CIFAR recipe (section 4.2: 64,000 iterations of batch
//! 128, lr 0.1 divided by 10 at 32,000 and 48,000), trained by this project in
//! [`RUN`] (its `run.json`, `metrics.csv`, `sessions.csv` and curves are there; README's
//! training section has the command). burn reads records from files, so the first use writes it
//! into the weights cache, under a name that carries its hash.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::cache::cache_dir;
use crate::error::PretrainedError;

/// The name `--weights` (and [`Classifier::pretrained`](crate::Classifier::pretrained)) takes.
pub const NAME: &str = "resnet20.cifar10-64k";

/// The network it is (a `resnet models` name).
pub const ARCH: &str = "resnet20";

/// The training run it is the final record of (a directory of this repository).
pub const RUN: &str = "docs/training/resnet20-64k";

/// The record's bytes.
pub const RECORD: &[u8] = include_bytes!("../../../docs/training/resnet20-64k/model.bpk");

/// The run's `metrics.csv`: where [`training`] reads its figures.
const METRICS: &str = include_str!("../../../docs/training/resnet20-64k/metrics.csv");

/// How the built-in network was trained, as its run's last evaluation recorded it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Training {
    /// Iterations of batch 128.
    pub iterations: u64,
    /// Top-1 accuracy on CIFAR-10's 10,000 test images, in percent.
    pub test_accuracy: f64,
    /// Seconds of training and evaluation, summed over the sessions the run took.
    pub wall_seconds: f64,
}

/// The built-in network's figures, from the last row of its run's `metrics.csv` (compiled in
/// with the record; `None` only if that file lost a column, which a test rules out).
pub fn training() -> Option<Training> {
    let mut lines = METRICS.lines();
    let header: Vec<&str> = lines.next()?.split(',').collect();
    let column = |name: &str| header.iter().position(|&c| c == name);
    let (iteration, test_error, wall) = (
        column("iteration")?,
        column("test_error")?,
        column("wall_seconds")?,
    );
    let last: Vec<&str> = lines.rfind(|l| !l.trim().is_empty())?.split(',').collect();
    Some(Training {
        iterations: last.get(iteration)?.parse().ok()?,
        test_accuracy: 100.0 * (1.0 - last.get(test_error)?.parse::<f64>().ok()?),
        wall_seconds: last.get(wall)?.parse().ok()?,
    })
}

/// The record as a file in the weights cache ([`cache_dir`]), written there (whole or not
/// at all) on first use.
pub fn record_path() -> Result<PathBuf, PretrainedError> {
    record_path_in(&cache_dir())
}

/// The record as a file in `dir`, written there (whole or not at all) unless it already is.
pub fn record_path_in(dir: &Path) -> Result<PathBuf, PretrainedError> {
    let digest = format!("{:x}", Sha256::digest(RECORD));
    let path = dir.join(format!("{NAME}-{}.bpk", &digest[..8]));
    if std::fs::read(&path).is_ok_and(|bytes| bytes == RECORD) {
        return Ok(path);
    }
    let io = |path: &std::path::Path| {
        let path = path.to_path_buf();
        move |source| PretrainedError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    resnet_data::atomic::write(&path, RECORD).map_err(io(&path))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_figures_are_the_runs_last_evaluation() {
        let training = training().expect("metrics.csv has its columns");
        assert_eq!(training.iterations, 64_000, "the full recipe, finished");
        assert!(
            (80.0..100.0).contains(&training.test_accuracy),
            "{training:?}"
        );
        assert!(training.wall_seconds > 3600.0, "{training:?}");
    }
}
