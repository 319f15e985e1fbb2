//! Helpers shared by the workspace's tests.

use std::path::{Path, PathBuf};

use burn::tensor::Tensor;

/// `../shared/<relative>` beside the repository (or `$RESNET_SHARED/<relative>`); `None`, with
/// the reason printed, when it is absent, so that tests needing it skip visibly.
pub fn shared(relative: &str) -> Option<PathBuf> {
    let root = std::env::var_os("RESNET_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let path = root.join(relative);
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "SKIPPED: {} is absent (see ../shared/README.md)",
            path.display()
        );
        None
    }
}

/// Largest absolute difference between two tensors of the same shape.
pub fn max_abs_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    assert_eq!(a.dims(), b.dims());
    (a - b).abs().max().into_scalar::<f32>()
}
