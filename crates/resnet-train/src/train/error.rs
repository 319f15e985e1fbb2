//! What can stop a training run.

use std::path::{Path, PathBuf};

use resnet_data::DataError;
use resnet_model::{ConfigError, WeightsError};

/// A training run's failure.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// An invalid recipe, network or flag combination.
    #[error("invalid training configuration: {0}")]
    Config(String),
    /// Fewer training images than one batch.
    #[error(
        "invalid training configuration: {images} training images make no batch of {batch_size}"
    )]
    NoBatch {
        /// Training images.
        images: usize,
        /// Images per batch.
        batch_size: usize,
    },
    /// The network's config.
    #[error(transparent)]
    Network(#[from] ConfigError),
    /// Reading or writing weights.
    #[error(transparent)]
    Weights(#[from] WeightsError),
    /// The data.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Evaluating the network.
    #[error(transparent)]
    Eval(#[from] crate::eval::EvalError),
    /// The loss or the weights became NaN or infinite; the last good checkpoint is kept.
    #[error(
        "{what} at iteration {iteration} (lr {lr}); the run stopped. \
         The last good checkpoint ({checkpoint}) is kept: continue from it with a lower \
         learning rate (`resnet train --resume RUN_DIR --lr LR`), or start again with a \
         warm-up (`--recipe cifar-warmup`)"
    )]
    NonFinite {
        /// What became non-finite, e.g. "the training loss became NaN".
        what: String,
        /// The iteration (0-based).
        iteration: u64,
        /// Its learning rate.
        lr: f64,
        /// Description of the last good checkpoint.
        checkpoint: String,
    },
    /// SIGINT or SIGTERM: the run stopped after writing a checkpoint.
    #[error(
        "interrupted at iteration {iteration}; the checkpoint is written: continue with \
         `resnet train --resume {dir}`"
    )]
    Interrupted {
        /// The iteration the checkpoint holds.
        iteration: u64,
        /// The run directory.
        dir: PathBuf,
    },
    /// A run directory that cannot be resumed.
    #[error("cannot resume {dir}: {reason}")]
    Resume {
        /// The run directory.
        dir: PathBuf,
        /// Why.
        reason: String,
    },
    /// Another process is writing the run directory.
    #[error("{dir} is being written by another process{}: wait for it to end, or choose another --out", pid.map_or(String::new(), |p| format!(" (pid {p})")))]
    Locked {
        /// The run directory.
        dir: PathBuf,
        /// The holder's process id, when it wrote it.
        pid: Option<u32>,
    },
    /// A figure.
    #[error(transparent)]
    Figure(#[from] crate::figures::FigureError),
    /// File-system errors: the message is the path, the I/O error the `source()`.
    #[error("{path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A checkpoint's optimizer state.
    #[error("optimizer state {path}: {reason}")]
    Optimizer {
        /// The file.
        path: PathBuf,
        /// Why it failed.
        reason: String,
    },
}

impl TrainError {
    /// Wraps an I/O error with its path.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }

    /// A run in `dir` that cannot be resumed because `file` is unreadable.
    pub(crate) fn unreadable_in_run(
        dir: &Path,
        file: &Path,
    ) -> impl FnOnce(serde_json::Error) -> Self {
        let (dir, reason) = (dir.to_path_buf(), file.display().to_string());
        move |e| Self::Resume {
            dir,
            reason: format!("{reason}: {e}"),
        }
    }
}

/// `error` and its causes on one line, as `anyhow`'s `{:#}` prints them (for warnings that
/// do not stop the run).
pub(crate) fn with_causes(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        line = format!("{line}: {c}");
        cause = c.source();
    }
    line
}
