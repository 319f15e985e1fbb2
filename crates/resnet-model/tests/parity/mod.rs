//! Comparing a network with PyTorch's from fixtures made by a `make_fixtures.py` under
//! `tests/fixtures/<dir>`: forward logits and one training step's gradients. Names are
//! `<dir>/<network>`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use resnet_kernels::algorithm::{self, ConvAlgorithm};
use resnet_model::{ResNet, ResNetConfig};

/// `tests/fixtures/<file>` (`<dir>/<name>`).
pub fn fixture(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(file)
}

/// Tensor `name` of the network's `_io.safetensors`.
pub fn io<const D: usize>(network: &str, name: &str, device: &Device) -> Tensor<D> {
    tensor(&fixture(&format!("{network}_io.safetensors")), name, device)
}

/// `input` and `logits` of an `_io.safetensors` file.
pub fn io_at<const D: usize, const E: usize>(
    path: &Path,
    device: &Device,
) -> (Tensor<D>, Tensor<E>) {
    (
        tensor(path, "input", device),
        tensor(path, "logits", device),
    )
}

/// Tensor `name` of a safetensors file, as f32.
pub fn tensor<const D: usize>(path: &Path, name: &str, device: &Device) -> Tensor<D> {
    let bytes = std::fs::read(path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let view = file.tensor(name).unwrap();
    let values: Vec<f32> = (view.data().chunks_exact(4))
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Tensor::from_data(TensorData::new(values, view.shape().to_vec()), device)
}

pub fn load(config: &ResNetConfig, file: &str, device: &Device) -> ResNet {
    let model = config.init(device).unwrap();
    model.load_pytorch(fixture(file)).unwrap()
}

/// Largest difference relative to the largest magnitude of `expected`.
pub fn relative_error<const D: usize>(actual: Tensor<D>, expected: Tensor<D>) -> f32 {
    let scale: f32 = expected.clone().abs().max().into_scalar();
    let error: f32 = (actual - expected).abs().max().into_scalar();
    error / scale.max(1e-6)
}

/// Eval-mode logits within 1e-4 of PyTorch's (relative), unfolded and with BN folded.
pub fn logits_match(network: &str, weights: &str, config: &ResNetConfig) {
    let device = Device::flex();
    let model = load(config, weights, &device).valid();
    let input: Tensor<4> = io(network, "input", &device);
    let expected: Tensor<2> = io(network, "logits", &device);
    let error = relative_error(model.forward(input.clone()), expected.clone());
    println!("{network}: logits relative error {error:.2e}");
    assert!(
        error <= 1e-4,
        "{network}: logits differ by {error} (relative)"
    );
    let folded = model.fold_batch_norm();
    let error = relative_error(folded.forward(input), expected);
    println!("{network}: BN folded, relative error {error:.2e}");
    assert!(error <= 1e-4, "{network}: folded logits differ by {error}");
}

/// The parameters of `module` in visiting order, with their ids.
pub fn param_ids<M: Module>(module: &M) -> Vec<ParamId> {
    struct Ids(Vec<ParamId>);
    impl ModuleVisitor for Ids {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.push(param.id);
        }
    }
    let mut ids = Ids(Vec::new());
    module.visit(&mut ids);
    ids.0
}

/// One training-mode step: the loss equals PyTorch's, and every parameter's gradient is
/// within 1e-3 (relative to its largest value) of PyTorch's.
///
/// The step runs on the direct convolution kernel, whose sums are PyTorch's in another order.
/// A gradient is not continuous: a fixture's million ReLU inputs include a few within 1e-6 of
/// their scale from zero, and any arithmetic that rounds differently by that much (Winograd's
/// F(2x2, 3x3) does) may put one on the other side, which changes every gradient before it:
/// by 4e-3 to 8e-3 in some draws of 1e-6 perturbations of the pre-activation fixtures
/// (`fixtures/preact/conditioning.py`; docs/profile.md). Winograd's own error is tested per
/// layer against float64 (`cargo test -p resnet-kernels`), and the logits tests run the
/// measured rule.
pub fn gradients_match(network: &str, config: &ResNetConfig) {
    gradients_match_with(network, config, ResNet::forward);
}

/// [`gradients_match`] with the training pass run by `forward`.
pub fn gradients_match_with(
    network: &str,
    config: &ResNetConfig,
    forward: impl Fn(&ResNet, Tensor<4>) -> Tensor<2>,
) {
    algorithm::with(ConvAlgorithm::Direct, || {
        one_step_matches(network, config, forward)
    })
}

fn one_step_matches(
    network: &str,
    config: &ResNetConfig,
    forward: impl Fn(&ResNet, Tensor<4>) -> Tensor<2>,
) {
    let device = Device::flex().autodiff();
    let model = load(config, &format!("{network}.pth"), &device);
    let input: Tensor<4> = io(network, "train_input", &device);
    let targets: Tensor<1> = io(network, "train_targets", &device);
    let targets: Tensor<1, Int> = targets.int();
    let expected_loss: Tensor<1> = io(network, "train_loss", &device);
    let loss = CrossEntropyLossConfig::new()
        .init(&device)
        .forward(forward(&model, input), targets);
    let (loss_value, expected_loss) = (
        loss.clone().into_scalar::<f32>(),
        expected_loss.into_scalar::<f32>(),
    );
    assert!(
        (loss_value - expected_loss).abs() <= 1e-4 * expected_loss,
        "{network}: loss {loss_value} vs PyTorch's {expected_loss}"
    );
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    // The gradients file is the network's state_dict with each parameter replaced by its
    // gradient: loaded as a network, its values in visiting order are PyTorch's gradients.
    let expected = load(
        config,
        &format!("{network}_grads.safetensors"),
        &Device::flex(),
    );
    let expected = resnet_testkit::module_values(&expected);
    let ids = param_ids(&model);
    assert_eq!(ids.len(), expected.len());
    let mut compared = 0;
    let mut worst = 0.0f32;
    for (id, (shape, want)) in ids.into_iter().zip(expected) {
        // BN's running statistics are visited too; they have no gradient.
        let got = match shape.len() {
            1 => grads.get::<1>(id).map(|g| g.into_data()),
            2 => grads.get::<2>(id).map(|g| g.into_data()),
            4 => grads.get::<4>(id).map(|g| g.into_data()),
            _ => None,
        };
        let Some(got) = got else { continue };
        let got = got.try_to_vec::<f32>().unwrap();
        let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-6);
        let error = (got.iter().zip(&want))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        if error / scale > 1e-3 {
            let error = error / scale;
            println!("{network}: parameter {compared} {shape:?}: relative error {error:.2e}");
        }
        worst = worst.max(error / scale);
        compared += 1;
    }
    println!("{network}: {compared} gradients, worst relative error {worst:.2e}");
    // Every parameter (conv weights, BN gammas and betas, fc weight and bias) has one.
    assert!(
        compared > 0 && worst <= 1e-3,
        "{network}: gradients differ by {worst}"
    );
}
