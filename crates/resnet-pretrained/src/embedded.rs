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

/// The training run the record is the final one of, as a literal (one spelling for [`RUN`] and
/// the paths compiled in below).
macro_rules! run_dir {
    () => {
        "docs/training/resnet20-64k"
    };
}

/// The name `--weights` (and [`Classifier::pretrained`](crate::Classifier::pretrained)) takes.
pub const NAME: &str = "resnet20.cifar10-64k";

/// The network it is (a `resnet models` name).
pub const ARCH: &str = "resnet20";

/// The training run it is the final record of (a directory of this repository).
pub const RUN: &str = run_dir!();

/// The record's bytes.
pub const RECORD: &[u8] = include_bytes!(concat!("../../../", run_dir!(), "/model.bpk"));

/// The run's `metrics.csv`, compiled in beside the record: the built-in network's figures
/// (iterations, test accuracy, wall time) are its last row (`resnet_train::train::parse_metrics`
/// reads it; `resnet weights` prints them).
pub const METRICS: &str = include_str!(concat!("../../../", run_dir!(), "/metrics.csv"));

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
