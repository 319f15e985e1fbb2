//! [`WeightsSource`]: what `--weights` names, resolved once for every command that takes
//! weights: a published checkpoint by name, the built-in record, a file, or a training run's
//! directory; and what is known of the weights besides their tensors (their network, how their
//! inputs were normalised).

use std::path::{Path, PathBuf};

use resnet_data::Normalization;
use resnet_data::download::Checksum;
use resnet_model::record::WeightsFormat;

use crate::cache::cache_dir;
use crate::embedded;
use crate::error::PretrainedError;
use crate::registry::{PUBLISHED, PublishedWeights, published, published_file};

/// The final weights a training run leaves in its directory.
pub const RUN_MODEL: &str = "model.bpk";

/// The configuration a training run keeps in its directory (`resnet train`'s `run.json`).
pub const RUN_CONFIG: &str = "run.json";

/// Weights, resolved.
#[derive(Debug, Clone)]
pub struct WeightsSource {
    /// What was given (a name, a file, a run directory), for messages.
    pub spec: String,
    /// The file to load.
    pub path: PathBuf,
    /// The training run the weights come from: the directory `spec` named, or the one
    /// holding the file beside its `run.json`.
    pub run_dir: Option<PathBuf>,
    /// The published checkpoint the file is, when known: by name, by its published file name,
    /// or (a PyTorch file under another name) by its hash.
    pub published: Option<&'static PublishedWeights>,
    /// The network, when the source says it without the file: a published checkpoint's, the
    /// built-in record's. (A burn record stores its own.)
    pub arch: Option<&'static str>,
}

impl WeightsSource {
    /// Resolves `spec`: a training run's directory (its `model.bpk`), a file, the built-in
    /// record ([`embedded::NAME`]), or a published name (from the cache, else downloaded with
    /// `progress`).
    pub fn resolve(
        spec: &str,
        progress: impl FnMut(u64, Option<u64>),
    ) -> Result<Self, PretrainedError> {
        let given = Path::new(spec);
        if given.is_dir() {
            let path = given.join(RUN_MODEL);
            if !path.is_file() {
                return Err(PretrainedError::NoRunModel {
                    dir: given.to_path_buf(),
                });
            }
            return Ok(Self {
                spec: spec.to_string(),
                path,
                run_dir: Some(given.to_path_buf()),
                published: None,
                arch: None,
            });
        }
        let path = locate(spec, progress)?;
        let run_dir = (path.parent())
            .filter(|dir| dir.join(RUN_CONFIG).is_file())
            .map(Path::to_path_buf);
        let builtin = spec.eq_ignore_ascii_case(embedded::NAME);
        let published = match builtin {
            true => None,
            false => published_weights(spec, &path)?,
        };
        Ok(Self {
            spec: spec.to_string(),
            arch: published
                .map(|w| w.arch)
                .or(builtin.then_some(embedded::ARCH)),
            path,
            run_dir,
            published,
        })
    }

    /// How the weights' inputs were normalised, when the source says (a published
    /// checkpoint's preset); a burn record written by `resnet train` stores its own
    /// ([`resnet_data::metadata::RunMetadata`]).
    pub fn normalization(&self) -> Option<Normalization> {
        self.published.map(|w| w.preset.preset().normalization)
    }
}

/// The published checkpoint `spec` names, or that the file at `path` is: by its published
/// file name, else (a PyTorch file) by the sha256 prefix the registry gives.
fn published_weights(
    spec: &str,
    path: &Path,
) -> Result<Option<&'static PublishedWeights>, PretrainedError> {
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if let Some(weights) = published(spec).or(published_file(file_name)) {
        return Ok(Some(weights));
    }
    if WeightsFormat::detect(path)? != WeightsFormat::PyTorch {
        return Ok(None);
    }
    // One pass over the file, compared with every entry's prefix.
    let digest = Checksum::Sha256Prefix(String::new()).digest_file(path)?;
    Ok(PUBLISHED.iter().find(|w| w.checksum().matches(&digest)))
}

/// The local file of `spec`: a file path as it is, the built-in [`embedded::NAME`], or a
/// published name ([`PublishedWeights::fetch`]: from a cache, else downloaded).
pub fn locate(
    spec: &str,
    progress: impl FnMut(u64, Option<u64>),
) -> Result<PathBuf, PretrainedError> {
    let path = Path::new(spec);
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    if spec.eq_ignore_ascii_case(embedded::NAME) {
        return embedded::record_path();
    }
    match published(spec) {
        Some(weights) => weights.fetch(&cache_dir(), progress),
        None => Err(PretrainedError::UnknownName {
            name: spec.to_string(),
        }),
    }
}
