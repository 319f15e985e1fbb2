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

use crate::blocks;
use crate::config::{BlockKind, ResNetConfig};
use crate::error::WeightsError;
use crate::resnet::ResNet;

/// Metadata key under which a record keeps its network's config.
pub const CONFIG_KEY: &str = "resnet.config";

/// Metadata key of the record's layout version ([`FORMAT`]); records without it are version 1.
pub const FORMAT_KEY: &str = "resnet.format";

/// The layout of the records this version writes. 1: blocks were one type, their tensors
/// named `stages.<i>.blocks.<j>.layers.<k>.{conv,bn}` and `…shortcut…`; 2: each block names
/// its kind (`stages.<i>.blocks.<j>.Basic.conv1.{conv,bn}`, [`Block`](crate::blocks::Block)).
/// Version 1 records load with their names mapped to version 2's.
pub const FORMAT: u32 = 2;

/// The names of a version-1 record's tensors → version 2's, for a network of `kind` blocks
/// (version 1 had the paper's two kinds only).
fn format_1_names(kind: BlockKind) -> Vec<(String, String)> {
    let block = r"^(stages\.\d+\.blocks\.\d+)\.";
    let variant = blocks::record_name(kind);
    let mut names: Vec<(String, String)> = (0..kind.layers())
        .map(|k| {
            let from = format!(r"{block}layers\.{k}\.");
            (from, format!("${{1}}.{variant}.conv{}.", k + 1))
        })
        .collect();
    names.push((
        format!(r"{block}shortcut\."),
        format!("${{1}}.{variant}.shortcut."),
    ));
    names
}

/// The layout version of a record with `metadata`: refused when newer than this version's.
fn record_format(path: &Path, metadata: &BTreeMap<String, String>) -> Result<u32, WeightsError> {
    let Some(text) = metadata.get(FORMAT_KEY) else {
        return Ok(1);
    };
    match text.parse::<u32>() {
        Ok(format) if (1..=FORMAT).contains(&format) => Ok(format),
        _ => Err(WeightsError::Metadata {
            path: path.to_path_buf(),
            reason: format!(
                "`{FORMAT_KEY}` is {text:?}: this version reads record layouts 1 to {FORMAT} \
                 (a newer version of resnet wrote it?)"
            ),
        }),
    }
}

/// The formats a weights file can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightsFormat {
    /// burn's burnpack record (this crate's own format).
    Burnpack,
    /// A PyTorch state_dict: a `torch.save` file (zip or legacy pickle: `.pth`, `.pt`, `.th`),
    /// or a safetensors file of one (timm's and the Hugging Face hub's published weights).
    PyTorch,
}

impl WeightsFormat {
    /// Detects a file's format from its first bytes.
    pub fn detect(path: impl AsRef<Path>) -> Result<Self, WeightsError> {
        let path = path.as_ref();
        let head = file_head(path)?;
        match head.as_slice() {
            [0x4E, 0x52, 0x55, 0x42, ..] | [0x42, 0x55, 0x52, 0x4E, ..] => Ok(Self::Burnpack),
            // zip (torch >= 1.6) or a pickle protocol header (legacy torch.save).
            [b'P', b'K', 3, 4, ..] | [0x80, 2..=5, ..] => Ok(Self::PyTorch),
            // safetensors: an 8-byte header length, then the JSON header.
            [.., b'{'] if is_safetensors(&head) => Ok(Self::PyTorch),
            _ => Err(WeightsError::Unreadable {
                path: path.to_path_buf(),
                format: "weights",
                reason: "neither a burn record (burnpack) nor a PyTorch checkpoint".into(),
            }),
        }
    }
}

/// The first 9 bytes of a file (fewer if it is shorter): enough to tell its format.
pub(crate) fn file_head(path: &Path) -> Result<Vec<u8>, WeightsError> {
    let io = |source| WeightsError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut head = Vec::with_capacity(9);
    let file = std::fs::File::open(path).map_err(io)?;
    file.take(9).read_to_end(&mut head).map_err(io)?;
    Ok(head)
}

/// Whether a file's first 9 bytes open a safetensors file: a little-endian header length of
/// a plausible size (under 100 MB, as the format requires), then `{`.
pub(crate) fn is_safetensors(head: &[u8]) -> bool {
    let Some((length, rest)) = head.split_first_chunk::<8>() else {
        return false;
    };
    let length = u64::from_le_bytes(*length);
    rest.first() == Some(&b'{') && (2..100_000_000).contains(&length)
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
        let config = serde_json::to_string(self.config()).expect("a config serialises");
        let mut store = metadata
            .iter()
            .fold(BurnpackStore::from_file(path), |s, (k, v)| s.metadata(k, v))
            .metadata(CONFIG_KEY, config)
            .metadata(FORMAT_KEY, FORMAT.to_string())
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
        if record_format(path, &record_metadata(path)?)? == 1 {
            for (from, to) in format_1_names(self.config().block) {
                store = store.with_remap_pattern(from, to);
            }
        }
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
