//! The project's own CIFAR-10 ResNet-20, carried inside the program: the default weights of
//! `resnet classify`, so that it works on a fresh, offline machine.
//!
//! It is the record of the 30-epoch run in `docs/training/resnet20-30ep/` (its `run.json` and
//! `metrics.csv` beside it say how it was trained; README's training section shows its curves
//! and the command that reproduces it). burn reads records from files, so the first use
//! writes it into the weights cache, under a name that carries its hash.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::cache::cache_dir;
use crate::error::PretrainedError;

/// The name `--weights` (and [`Classifier::pretrained`](crate::Classifier::pretrained)) takes.
pub const NAME: &str = "resnet20.cifar10-30ep";

/// The network it is (a `resnet models` name).
pub const ARCH: &str = "resnet20";

/// The record's bytes.
pub const RECORD: &[u8] = include_bytes!("../../../docs/training/resnet20-30ep/model.bpk");

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
