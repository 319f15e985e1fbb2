//! Helpers shared by the workspace's tests.

use std::path::{Path, PathBuf};

use burn::tensor::Tensor;

pub mod cifar;
pub mod fuzz;
pub mod http;

/// Set to `1` (CI does), a fixture of `../shared` that is absent fails the test instead of
/// skipping it: the parity and evaluation tests cannot pass without running.
pub const REQUIRE_SHARED_ENV: &str = "RESNET_REQUIRE_SHARED";

/// `../shared/<relative>` beside the repository (or `$RESNET_SHARED/<relative>`); `None`, with
/// the reason printed, when it is absent, so that tests needing it skip visibly.
///
/// # Panics
///
/// When it is absent and `$RESNET_REQUIRE_SHARED` is `1`.
pub fn shared(relative: &str) -> Option<PathBuf> {
    let root = std::env::var_os("RESNET_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared"));
    let path = root.join(relative);
    if path.exists() {
        Some(path)
    } else if std::env::var_os(REQUIRE_SHARED_ENV).is_some_and(|v| v == "1") {
        panic!(
            "{} is absent and {REQUIRE_SHARED_ENV}=1: this test needs ../shared",
            path.display()
        );
    } else {
        eprintln!(
            "SKIPPED: {} is absent (see ../shared/README.md)",
            path.display()
        );
        None
    }
}

/// The repository's root: the nearest folder holding `Cargo.lock` above the package under
/// test. Found at run time (cargo sets `CARGO_MANIFEST_DIR` for tests), not with `env!` at
/// compile time: a target directory shared between clones reuses this crate compiled in
/// another clone, whose path may be gone.
pub fn workspace_root() -> PathBuf {
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default();
    (start.ancestors())
        .find(|dir| dir.join("Cargo.lock").is_file())
        .map_or(start.clone(), Path::to_path_buf)
}

/// Largest absolute difference between two tensors of the same shape.
pub fn max_abs_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    assert_eq!(a.dims(), b.dims());
    (a - b).abs().max().into_scalar::<f32>()
}

/// Every float tensor of a module (parameters and running statistics), in visiting order,
/// as shape and values: for comparing two networks exactly.
pub fn module_values<M: burn::module::Module>(module: &M) -> Vec<(Vec<usize>, Vec<f32>)> {
    struct Collect(Vec<(Vec<usize>, Vec<f32>)>);
    impl burn::module::ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
            let data = param.val().into_data();
            let shape = data.shape().to_vec();
            self.0
                .push((shape, data.try_to_vec::<f32>().expect("f32 tensor")));
        }
    }
    let mut collect = Collect(Vec::new());
    module.visit(&mut collect);
    collect.0
}
