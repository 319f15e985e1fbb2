//! Import of PyTorch checkpoints: torchvision state_dicts and the public CIFAR checkpoints.
//!
//! Both layouts name layers the torchvision way (`conv1`, `bn1`, `layer<i>.<j>.conv<k>`,
//! `downsample.{0,1}`, `fc` or `linear`); the CIFAR checkpoints wrap them in
//! `{'state_dict': {'module.…': …}}`. One key map turns either into this crate's names.
//! Loading is all-or-nothing: a tensor missing, left over or of the wrong shape is an error
//! that names it.

use std::path::Path;

use burn::store::{ModuleSnapshot, PytorchStore};

use crate::error::WeightsError;
use crate::resnet::ResNet;

/// PyTorch names (regex) → this crate's names, applied in order.
fn key_map() -> Vec<(String, String)> {
    let mut map: Vec<(String, String)> = [
        (r"^state_dict\.", ""),
        (r"^module\.", ""),
        (r"^conv1\.", "stem.conv."),
        (r"^bn1\.", "stem.bn."),
        (r"^linear\.", "fc."),
        (r"\.downsample\.0\.", ".shortcut.projection.conv."),
        (r"\.downsample\.1\.", ".shortcut.projection.bn."),
    ]
    .iter()
    .map(|(from, to)| (from.to_string(), to.to_string()))
    .collect();
    for stage in 1..=9 {
        map.push((
            format!(r"^layer{stage}\."),
            format!("stages.{}.blocks.", stage - 1),
        ));
    }
    for layer in 1..=3 {
        let index = layer - 1;
        map.push((
            format!(r"\.conv{layer}\."),
            format!(".layers.{index}.conv."),
        ));
        map.push((format!(r"\.bn{layer}\."), format!(".layers.{index}.bn.")));
    }
    map
}

fn store(path: &Path) -> PytorchStore {
    key_map().into_iter().fold(
        PytorchStore::from_file(path)
            .allow_partial(true)
            .validate(false)
            .map_indices_contiguous(false),
        |store, (from, to)| store.with_key_remapping(from, to),
    )
}

fn unreadable(path: &Path, error: impl std::fmt::Display) -> WeightsError {
    WeightsError::Unreadable {
        path: path.to_path_buf(),
        format: "PyTorch checkpoint",
        reason: error.to_string(),
    }
}

/// Number of classes of a PyTorch checkpoint's classifier, if it has one.
pub fn pytorch_num_classes(path: impl AsRef<Path>) -> Result<Option<usize>, WeightsError> {
    let path = path.as_ref();
    check_readable(path)?;
    let mut store = store(path);
    let fc = burn::store::ModuleStore::get_tensor(&mut store, "fc.weight")
        .map_err(|e| unreadable(path, e))?;
    fc.map(|t| t.shape.first().copied())
        .map(|rows| rows.ok_or_else(|| unreadable(path, "fc.weight is a scalar")))
        .transpose()
}

fn check_readable(path: &Path) -> Result<(), WeightsError> {
    std::fs::File::open(path)
        .map(drop)
        .map_err(|source| WeightsError::Io {
            path: path.to_path_buf(),
            source,
        })
}

impl ResNet {
    /// Loads a PyTorch checkpoint (torchvision state_dict or `{'state_dict': …}` with a
    /// `module.` prefix) into this network. Every parameter must be found with its shape,
    /// and every tensor of the file used (`num_batches_tracked` aside).
    ///
    /// Shapes cannot tell where a bottleneck strides: torchvision's ResNet-50/101/152 weights
    /// load into the paper's networks too, and compute something else. Load them into the
    /// `-v1.5` networks ([`BottleneckStride::On3x3`](crate::BottleneckStride::On3x3)).
    pub fn load_pytorch(mut self, path: impl AsRef<Path>) -> Result<Self, WeightsError> {
        let path = path.as_ref();
        check_readable(path)?;
        let result = self
            .load_from(&mut store(path))
            .map_err(|e| unreadable(path, e))?;
        WeightsError::check_applied(path, result)?;
        Ok(self)
    }
}
