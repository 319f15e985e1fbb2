//! burn's own records: save and load a network with its config, and open any weights file.
//!
//! A record is a burnpack file (written atomically by burn) whose metadata holds the network's
//! [`ResNetConfig`] as JSON, so a record alone is enough to rebuild its network. Callers may add
//! metadata of their own (class names, input normalisation, ...).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use burn::store::burn_pack::Reader;
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::Device;

use crate::config::ResNetConfig;
use crate::error::WeightsError;
use crate::resnet::ResNet;

/// Metadata key under which a record keeps its network's config.
pub const CONFIG_KEY: &str = "resnet.config";

/// The formats a weights file can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightsFormat {
    /// burn's burnpack record (this crate's own format).
    Burnpack,
    /// A PyTorch `torch.save` file (zip or legacy pickle): `.pth`, `.pt`, `.th`.
    PyTorch,
}

impl WeightsFormat {
    /// Detects a file's format from its first bytes.
    pub fn detect(path: impl AsRef<Path>) -> Result<Self, WeightsError> {
        let path = path.as_ref();
        let io = |source| WeightsError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut head = Vec::with_capacity(4);
        let file = std::fs::File::open(path).map_err(io)?;
        file.take(4).read_to_end(&mut head).map_err(io)?;
        match head.as_slice() {
            [0x4E, 0x52, 0x55, 0x42] | [0x42, 0x55, 0x52, 0x4E] => Ok(Self::Burnpack),
            // zip (torch >= 1.6) or a pickle protocol header (legacy torch.save).
            [b'P', b'K', 3, 4] | [0x80, 2..=5, ..] => Ok(Self::PyTorch),
            _ => Err(WeightsError::Unreadable {
                path: path.to_path_buf(),
                format: "weights",
                reason: "neither a burn record (burnpack) nor a PyTorch checkpoint".into(),
            }),
        }
    }
}

impl ResNet {
    /// Saves the network's parameters and config to a burnpack file, with extra `metadata`.
    ///
    /// A network with BN folded into its convolutions is refused: its record would not load
    /// into the network its config builds.
    pub fn save_record(
        &self,
        path: impl AsRef<Path>,
        metadata: &BTreeMap<String, String>,
    ) -> Result<(), WeightsError> {
        let path = path.as_ref();
        if self.is_folded() {
            return Err(WeightsError::Save {
                path: path.to_path_buf(),
                reason: "BN is folded into the convolutions (inference only); \
                         save the network before folding"
                    .into(),
            });
        }
        let config = serde_json::to_string(&self.config).expect("a config serialises");
        let mut store = metadata
            .iter()
            .fold(BurnpackStore::from_file(path), |s, (k, v)| s.metadata(k, v))
            .metadata(CONFIG_KEY, config)
            .auto_extension(false)
            .overwrite(true);
        self.save_into(&mut store).map_err(|e| WeightsError::Save {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }

    /// Loads a burnpack record into this network; every parameter must be present with its
    /// shape and every tensor of the file used.
    pub fn load_record(mut self, path: impl AsRef<Path>) -> Result<Self, WeightsError> {
        let path = path.as_ref();
        let mut store = BurnpackStore::from_file(path)
            .auto_extension(false)
            .allow_partial(true)
            .validate(false);
        let result = self
            .load_from(&mut store)
            .map_err(|e| unreadable(path, e))?;
        WeightsError::check_applied(path, result)?;
        Ok(self)
    }

    /// Loads the weights in `path` (a burn record or a PyTorch checkpoint) into this network.
    pub fn load_weights(self, path: impl AsRef<Path>) -> Result<Self, WeightsError> {
        match WeightsFormat::detect(&path)? {
            WeightsFormat::Burnpack => self.load_record(path),
            WeightsFormat::PyTorch => self.load_pytorch(path),
        }
    }
}

/// The metadata of a burnpack record.
pub fn record_metadata(path: impl AsRef<Path>) -> Result<BTreeMap<String, String>, WeightsError> {
    let path = path.as_ref();
    let reader = Reader::from_file(path).map_err(|e| unreadable(path, e))?;
    Ok(reader.metadata().clone())
}

fn unreadable(path: &Path, error: impl std::fmt::Display) -> WeightsError {
    WeightsError::Unreadable {
        path: path.to_path_buf(),
        format: "burn record",
        reason: error.to_string(),
    }
}

/// The config stored in a record, if it has one.
pub fn record_config(path: impl AsRef<Path>) -> Result<Option<ResNetConfig>, WeightsError> {
    let path = path.as_ref();
    let Some(json) = record_metadata(path)?.remove(CONFIG_KEY) else {
        return Ok(None);
    };
    let parse = || -> Result<ResNetConfig, Box<dyn std::error::Error>> {
        let config: ResNetConfig = serde_json::from_str(&json)?;
        config.validate()?;
        Ok(config)
    };
    let config = parse().map_err(|e| WeightsError::Metadata {
        path: path.to_path_buf(),
        reason: format!("invalid network config in metadata: {e}"),
    })?;
    Ok(Some(config))
}

/// Builds the network a record describes and loads its weights.
pub fn load_record_file(path: impl AsRef<Path>, device: &Device) -> Result<ResNet, WeightsError> {
    let path = path.as_ref();
    let config = record_config(path)?.ok_or_else(|| WeightsError::Metadata {
        path: path.to_path_buf(),
        reason: format!("the record has no `{CONFIG_KEY}` metadata; name the architecture"),
    })?;
    let model = config.init(device).map_err(|e| WeightsError::Metadata {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    model.load_record(path)
}
