//! Import of PyTorch checkpoints: torchvision state_dicts and the public CIFAR checkpoints.
//!
//! torchvision and the CIFAR checkpoints name layers the torchvision way (`conv1`, `bn1`,
//! `layer<i>.<j>.conv<k>`, `downsample.{0,1}`, `fc` or `linear`); the CIFAR checkpoints wrap
//! them in `{'state_dict': {'module.…': …}}`. timm's pre-activation networks (`resnetv2_*`)
//! name them `stem.conv`, `stages.<i>.blocks.<j>.{norm<k>,conv<k>,downsample.conv}`, `norm`,
//! `head.fc`. One key map (the network's names, then the block kind's) turns each into this
//! crate's names.
//! Loading is all-or-nothing: a tensor missing, left over or of the wrong shape is an error
//! that names it.

use std::path::Path;

use burn::module::Param;
use burn::store::{
    ApplyError, ApplyResult, ModuleSnapshot, ModuleStore, PyTorchToBurnAdapter, PytorchStore,
    SafetensorsStore,
};
use burn::tensor::{DType, Tensor, TensorData};

use crate::blocks;
use crate::config::BlockKind;
use crate::error::WeightsError;
use crate::record::{file_head, is_safetensors};
use crate::resnet::ResNet;

/// PyTorch names (regex) → this crate's, applied in order: the network's (stem, stages,
/// head), then those of the blocks of `kind` ([`blocks::pytorch_keys`]).
fn key_map(kind: Option<BlockKind>) -> Vec<(String, String)> {
    let mut map: Vec<(String, String)> = [
        (r"^state_dict\.", ""),
        (r"^module\.", ""),
        // torchvision and the CIFAR checkpoints; timm names its stem `stem.conv` as we do.
        (r"^conv1\.", "stem.conv."),
        (r"^bn1\.", "stem.bn."),
        (r"^linear\.", "fc."),
        // timm's head (`stages.<i>.blocks.<j>` and the final `norm` are named as here).
        (r"^head\.fc\.", "fc."),
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
    let block_keys = kind.map_or(&[][..], blocks::pytorch_keys);
    map.extend((block_keys.iter()).map(|(from, to)| (from.to_string(), to.to_string())));
    map
}

/// A PyTorch state_dict's tensors, from a `torch.save` file or a safetensors file.
enum Store {
    Torch(PytorchStore),
    Safetensors(SafetensorsStore),
}

fn store(path: &Path, kind: Option<BlockKind>) -> Result<Store, WeightsError> {
    let map = key_map(kind);
    Ok(if is_safetensors(&file_head(path)?) {
        let store = SafetensorsStore::from_file(path)
            .with_from_adapter(PyTorchToBurnAdapter)
            .allow_partial(true)
            .validate(false)
            .skip_enum_variants(true);
        Store::Safetensors(map.into_iter().fold(store, |store, (from, to)| {
            store.with_key_remapping(from, to)
        }))
    } else {
        let store = PytorchStore::from_file(path)
            .allow_partial(true)
            .validate(false)
            .map_indices_contiguous(false);
        Store::Torch(map.into_iter().fold(store, |store, (from, to)| {
            store.with_key_remapping(from, to)
        }))
    })
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
    // The classifier's shape: `None` without one, `Some(None)` for a scalar.
    let rows = match store(path, None)? {
        Store::Torch(mut store) => (store.get_tensor("fc.weight"))
            .map(|fc| fc.map(|t| t.shape.first().copied()))
            .map_err(|e| unreadable(path, e)),
        Store::Safetensors(mut store) => (store.get_tensor("fc.weight"))
            .map(|fc| fc.map(|t| t.shape.first().copied()))
            .map_err(|e| unreadable(path, e)),
    }?;
    rows.map(|rows| rows.ok_or_else(|| unreadable(path, "fc.weight is a scalar")))
        .transpose()
}

impl ResNet {
    /// Loads a PyTorch checkpoint (torchvision state_dict or `{'state_dict': …}` with a
    /// `module.` prefix; timm's state_dicts, whose classifier is a 1x1 convolution; from
    /// `torch.save` or safetensors files) into this network. Every parameter must be found
    /// with its shape, and every tensor of the file used (`num_batches_tracked` aside).
    ///
    /// Shapes cannot tell where a bottleneck strides: torchvision's ResNet-50/101/152 weights
    /// load into the paper's networks too, and compute something else. Load them into the
    /// `-v1.5` networks ([`BottleneckStride::On3x3`](crate::BottleneckStride::On3x3)).
    pub fn load_pytorch(mut self, path: impl AsRef<Path>) -> Result<Self, WeightsError> {
        let path = path.as_ref();
        let (result, head) = match store(path, Some(self.config().block))? {
            Store::Torch(mut store) => (
                self.load_from(&mut store).map_err(|e| e.to_string()),
                conv_head(&mut store),
            ),
            Store::Safetensors(mut store) => (
                self.load_from(&mut store).map_err(|e| e.to_string()),
                conv_head(&mut store),
            ),
        };
        let mut result = result.map_err(|e| unreadable(path, e))?;
        if let Some(head) = head.map_err(|e| unreadable(path, e))? {
            self = self.with_conv_head(head, &mut result);
        }
        WeightsError::check_applied(path, result)?;
        Ok(self)
    }

    /// Takes timm's classifier, a 1x1 convolution (`[classes, features, 1, 1]`), as the
    /// linear classifier it is, if the network has as many features and classes.
    fn with_conv_head(
        mut self,
        (values, [classes, features]): ConvHead,
        result: &mut ApplyResult,
    ) -> Self {
        if self.fc.weight.dims() != [features, classes] {
            return self;
        }
        result.errors.retain(
            |e| !matches!(e, ApplyError::ShapeMismatch { path, .. } if path == "fc.weight"),
        );
        let device = self.fc.weight.device();
        let weight = Tensor::<2>::from_data(TensorData::new(values, [classes, features]), &device);
        self.fc.weight =
            Param::initialized(self.fc.weight.id, weight.transpose()).set_require_grad(true);
        self
    }
}

/// A classifier stored as a 1x1 convolution: its f32 values and `[classes, features]`.
type ConvHead = (Vec<f32>, [usize; 2]);

/// `fc.weight`, if the file stores it as a 1x1 convolution in f32 (timm's `ResNetV2` head).
fn conv_head<S: ModuleStore>(store: &mut S) -> Result<Option<ConvHead>, String> {
    let Some(tensor) = store.get_tensor("fc.weight").map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let &[classes, features, 1, 1] = &tensor.shape[..] else {
        return Ok(None);
    };
    if tensor.dtype != DType::F32 {
        return Ok(None);
    }
    let bytes = tensor.to_bytes().map_err(|e| e.to_string())?;
    let values = (bytes.chunks_exact(4))
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok(Some((values, [classes, features])))
}
