//! Typed errors of the pretrained-weights crate.

use std::path::PathBuf;

use resnet_data::DataError;
use resnet_data::metadata::MetadataError;
use resnet_model::{ConfigError, LoadError, WeightsError};

/// Weights that cannot be found, fetched, loaded or used for classification.
#[derive(Debug, thiserror::Error)]
pub enum PretrainedError {
    /// A name that is neither a published checkpoint nor a file.
    #[error(
        "no published weights are called `{name}` and there is no such file; `resnet weights` lists the names"
    )]
    UnknownName {
        /// The name given.
        name: String,
    },
    /// A download, a cached file or an image that failed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A network that cannot be built or loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// Weights that do not fit the network.
    #[error(transparent)]
    Weights(#[from] WeightsError),
    /// An invalid network description.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A record whose run metadata cannot be read.
    #[error("{path}: {reason}")]
    Metadata {
        /// The record.
        path: PathBuf,
        /// What is wrong.
        reason: MetadataError,
    },
    /// Class names that do not match the network's outputs.
    #[error("{names} class names for a network with {outputs} outputs")]
    Categories {
        /// Names given.
        names: usize,
        /// The network's outputs.
        outputs: usize,
    },
    /// A directory given as weights that holds no finished run.
    #[error(
        "{dir} is a directory without a model.bpk: a training run's directory holds one once \
         the run has finished (`resnet train --resume {dir}` continues one)"
    )]
    NoRunModel {
        /// The directory.
        dir: PathBuf,
    },
    /// A file that cannot be read or written.
    #[error("{path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}
