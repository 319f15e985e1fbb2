//! Gated shortcuts (Highway networks; the gating of He et al. 2016, Table 1) against PyTorch
//! (`tests/fixtures/gates`, made by its `make_fixtures.py`): logits, the gates' openings, one
//! training step's loss and gradients; and what a gate does at its extremes.

mod parity;

use burn::module::{Module, Param};
use burn::tensor::{Device, Distribution, Tensor};
use parity::{fixture, gradients_match, logits_match, tensor};
use resnet_model::{ResNet, zoo};

#[test]
fn highway20_matches_pytorch() {
    let config = zoo::config_for("highway20").unwrap();
    assert_eq!(config.num_params().unwrap(), 283_626);
    logits_match("gates/highway20", "gates/highway20.pth", &config);
    gradients_match("gates/highway20", &config);
    let device = Device::flex();
    let model = parity::load(&config, "gates/highway20.pth", &device);
    let io = fixture("gates/highway20_io.safetensors");
    let input: Tensor<4> = tensor(&io, "input", &device);
    let expected: Tensor<1> = tensor(&io, "openings", &device);
    let openings = model.valid().gate_openings(input);
    assert_eq!(openings.len(), 9);
    let expected = expected.into_data().try_to_vec::<f32>().unwrap();
    for (block, (got, want)) in openings.iter().zip(&expected).enumerate() {
        assert!((got - want).abs() < 1e-5, "block {block}: {got} vs {want}");
    }
}

/// Sets every gate's bias to `bias` (its weights to zero), so that `T = sigmoid(bias)`.
fn with_gates_at(mut model: ResNet, bias: f32) -> ResNet {
    for block in model.stages.iter_mut().flat_map(|s| s.blocks.iter_mut()) {
        let gate = match block {
            resnet_model::Block::Basic(b) => b.gate.as_mut(),
            resnet_model::Block::Bottleneck(b) => b.gate.as_mut(),
            resnet_model::Block::PreActBasic(b) | resnet_model::Block::PreActBottleneck(b) => {
                b.gate.as_mut()
            }
        }
        .expect("a gated network");
        gate.weight = gate.weight.clone().map(|w| w.zeros_like());
        let b = gate.bias.as_ref().unwrap().val();
        gate.bias = Some(Param::from_tensor(b.ones_like().mul_scalar(bias)));
    }
    model
}

/// A gate wide open (T = 1) is the residual network's addition without its shortcut term (the
/// function alone); closed (T = 0), the block is its shortcut, as a block whose function is
/// skipped. Every block kind.
#[test]
fn open_and_closed_gates() {
    let device = Device::flex();
    for name in [
        "resnet20",
        "cifar-preact-resnet20",
        "cifar-preact-bottleneck11",
    ] {
        let config = zoo::config_for(name).unwrap().with_gate_bias(Some(-2.0));
        let model = config.init(&device).unwrap();
        let x = Tensor::<4>::random([2, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device);
        let blocks: usize = model.stages.iter().map(|s| s.blocks.len()).sum();
        let closed = with_gates_at(model.clone(), -100.0);
        let skipped =
            closed.forward_residuals(x.clone(), &vec![resnet_model::Residual::Skipped; blocks]);
        let diff: f32 = (closed.forward(x.clone()) - skipped)
            .abs()
            .max()
            .into_scalar();
        assert!(
            diff < 1e-5,
            "{name}: a closed gate is the shortcut ({diff})"
        );
        let openings = with_gates_at(model, 0.0).gate_openings(x);
        assert!(
            openings.iter().all(|&t| (t - 0.5).abs() < 1e-6),
            "{openings:?}"
        );
    }
}

/// Gates count in the parameters (a 1x1 convolution and a bias per block) and start close to
/// the shortcut (bias -2: T about 0.12), and a gated network's record loads back.
#[test]
fn gate_parameters_and_records() {
    let device = Device::flex();
    let gated = zoo::config_for("highway56").unwrap();
    let plain = zoo::config_for("resnet56").unwrap();
    let extra = gated.num_params().unwrap() - plain.num_params().unwrap();
    assert_eq!(extra, 46_832, "make_fixtures.log's count");
    let model = gated.init(&device).unwrap();
    let x = Tensor::<4>::random([2, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device);
    for t in model.gate_openings(x.clone()) {
        assert!((0.05..0.3).contains(&t), "{t}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("highway56.bpk");
    model.save_record(&path, &Default::default()).unwrap();
    let back = resnet_model::record::load_record_file(&path, &device).unwrap();
    assert_eq!(back.config().gate_bias, Some(-2.0));
    let diff: f32 = (back.forward(x.clone()) - model.forward(x))
        .abs()
        .max()
        .into_scalar();
    assert_eq!(diff, 0.0);
    let _ = Module::num_params(&back);
}
