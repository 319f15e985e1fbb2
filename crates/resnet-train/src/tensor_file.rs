//! Reading and writing named f32 tensors as safetensors files (the I/O of `resnet infer`).

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

/// A tensor file that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TensorFileError {
    /// I/O failure; the message is the path, the I/O error the `source()`.
    #[error("{path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Not a safetensors file.
    #[error("{path} is not a valid safetensors file: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What the parser reported.
        reason: String,
    },
    /// The tensor is absent.
    #[error("{path} has no tensor `{name}` (it has: {available})")]
    Missing {
        /// The file.
        path: PathBuf,
        /// The tensor sought.
        name: String,
        /// The tensors present.
        available: String,
    },
    /// The tensor has the wrong type or rank.
    #[error("{path}: tensor `{name}` must be {expected}, found {found}")]
    Unexpected {
        /// The file.
        path: PathBuf,
        /// The tensor.
        name: String,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },
}

/// Reads the f32 tensor `name` of rank `D` from a safetensors file onto `device`.
pub fn read_tensor<const D: usize>(
    path: &Path,
    name: &str,
    device: &Device,
) -> Result<Tensor<D>, TensorFileError> {
    let bytes = std::fs::read(path).map_err(|source| TensorFileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let file = SafeTensors::deserialize(&bytes).map_err(|e| TensorFileError::Invalid {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let view = file.tensor(name).map_err(|_| TensorFileError::Missing {
        path: path.to_path_buf(),
        name: name.to_string(),
        available: file.names().join(", "),
    })?;
    if view.dtype() != Dtype::F32 || view.shape().len() != D {
        return Err(TensorFileError::Unexpected {
            path: path.to_path_buf(),
            name: name.to_string(),
            expected: format!("f32 of rank {D}"),
            found: format!("{:?} of shape {:?}", view.dtype(), view.shape()),
        });
    }
    let values: Vec<f32> = view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok(Tensor::from_data(
        TensorData::new(values, view.shape().to_vec()),
        device,
    ))
}

/// Writes f32 tensors to a safetensors file, atomically (temporary file, then rename).
pub fn write_tensors(path: &Path, tensors: &[(&str, TensorData)]) -> Result<(), TensorFileError> {
    let io = |source| TensorFileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let invalid = |e: safetensors::SafeTensorError| TensorFileError::Invalid {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
        .iter()
        .map(|(name, data)| {
            let values = data
                .try_to_vec::<f32>()
                .map_err(|_| TensorFileError::Invalid {
                    path: path.to_path_buf(),
                    reason: format!(
                        "`{name}` holds {:?} values; only f32 is written",
                        data.dtype()
                    ),
                })?;
            let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            Ok((name.to_string(), raw, data.shape().to_vec()))
        })
        .collect::<Result<_, TensorFileError>>()?;
    let views = bytes
        .iter()
        .map(|(name, raw, shape)| {
            TensorView::new(Dtype::F32, shape.clone(), raw).map(|view| (name.clone(), view))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(invalid)?;
    let serialized = safetensors::serialize(views, None).map_err(invalid)?;
    resnet_data::atomic::write(path, &serialized).map_err(io)
}
