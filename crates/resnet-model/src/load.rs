//! Building a network from a name (or config file) and a weights file in one step.

use std::path::Path;

use burn::tensor::Device;

use crate::config::ResNetConfig;
use crate::error::{ConfigError, WeightsError};
use crate::record::{WeightsFormat, record_config};
use crate::resnet::ResNet;
use crate::zoo;

/// Why a network could not be built and loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The architecture is invalid or unknown.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The weights cannot be read or do not fit.
    #[error(transparent)]
    Weights(#[from] WeightsError),
    /// Neither an architecture nor a record that names one.
    #[error("{0} does not say which network it holds: name its architecture (--arch)")]
    NoArchitecture(std::path::PathBuf),
    /// A record of another network than the one named: some networks share every tensor
    /// name and shape (plain and option-A residual nets; bottleneck stride on the 1x1 or the
    /// 3x3), so the weights would load into the wrong network without this check.
    #[error("{path} holds another network than the architecture named (--arch): {differences}")]
    ArchitectureMismatch {
        /// The record.
        path: std::path::PathBuf,
        /// The differing config fields, `field: named vs stored`.
        differences: String,
    },
}

/// The config named by `arch`: a model name (see [`zoo::config_for`]) or a path to a JSON
/// config file.
pub fn resolve_arch(arch: &str) -> Result<ResNetConfig, ConfigError> {
    if arch.ends_with(".json") {
        ResNetConfig::from_json_file(arch)
    } else {
        zoo::config_for(arch)
    }
}

/// Builds the network for `weights` and loads them.
///
/// The architecture is `arch` when given, else the one a burn record stores. The number of
/// classes is `classes` when given, else the checkpoint's classifier size, else the config's.
pub fn load_model(
    arch: Option<&str>,
    weights: &Path,
    classes: Option<usize>,
    device: &Device,
) -> Result<ResNet, LoadError> {
    let named = arch.map(resolve_arch).transpose()?;
    let format = WeightsFormat::detect(weights)?;
    let stored = match format {
        WeightsFormat::Burnpack => record_config(weights)?,
        WeightsFormat::PyTorch => None,
    };
    if let (Some(named), Some(stored)) = (&named, &stored) {
        let differences = architecture_differences(named, stored);
        if !differences.is_empty() {
            return Err(LoadError::ArchitectureMismatch {
                path: weights.to_path_buf(),
                differences,
            });
        }
    }
    let file_classes = match format {
        WeightsFormat::PyTorch => num_classes_of(weights)?,
        WeightsFormat::Burnpack => stored.as_ref().map(|c| c.num_classes),
    };
    let mut config = named
        .or(stored)
        .ok_or_else(|| LoadError::NoArchitecture(weights.to_path_buf()))?;
    if let Some(n) = classes.or(file_classes) {
        config.num_classes = n;
    }
    let model = config.init(device)?;
    Ok(model.load_weights(weights)?)
}

/// The number of classes a weights file's classifier has: a record's stored config, or the
/// size of a PyTorch checkpoint's `fc`; `None` when the file does not say.
pub fn num_classes_of(weights: &Path) -> Result<Option<usize>, WeightsError> {
    Ok(match WeightsFormat::detect(weights)? {
        WeightsFormat::PyTorch => crate::pytorch::pytorch_num_classes(weights)?,
        WeightsFormat::Burnpack => record_config(weights)?.map(|c| c.num_classes),
    })
}

/// The fields in which two configs describe different networks (`field: a vs b`, joined);
/// empty when they describe the same one. The classifier's size and the initialisation do not
/// count: the first may be overridden, the second is not part of a trained network.
fn architecture_differences(a: &ResNetConfig, b: &ResNetConfig) -> String {
    let fields = |c: &ResNetConfig| match serde_json::to_value(c) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let (a, b) = (fields(a), fields(b));
    (a.iter())
        .filter(|(key, _)| !matches!(key.as_str(), "num_classes" | "zero_init_residual"))
        .filter(|(key, value)| b.get(key.as_str()) != Some(value))
        .map(|(key, value)| {
            let other = b
                .get(key.as_str())
                .map_or("absent".into(), |v| v.to_string());
            format!("{key}: {value} vs {other}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}
