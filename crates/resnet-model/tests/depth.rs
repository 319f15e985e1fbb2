//! Stochastic depth (Huang, Sun, Liu, Sedra, Weinberger 2016): the drop rule, what a skipped
//! block computes, and a fixed pattern against PyTorch (`tests/fixtures/depth`, made by its
//! `make_fixtures.py`): training-mode logits, loss and gradients.

mod parity;

use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};
use parity::{gradients_match_with, logits_match};
use resnet_model::resnet::survival_probability;
use resnet_model::{ResNet, Residual, zoo};

/// The fixture's pattern: blocks 2, 5 and 7 of ResNet-20's nine skipped, the others scaled by
/// `1 / p_l` (p_L = 0.5), as `make_fixtures.py`'s `RUNS`.
fn fixture_pattern() -> Vec<Residual> {
    let runs = [true, false, true, true, false, true, false, true, true];
    (runs.iter().enumerate())
        .map(|(i, &run)| match run {
            true => Residual::Scaled((1.0 / survival_probability(i + 1, 9, 0.5)) as f32),
            false => Residual::Skipped,
        })
        .collect()
}

#[test]
fn fixed_pattern_matches_pytorch() {
    let config = zoo::config_for("resnet20")
        .unwrap()
        .with_stochastic_depth(Some(0.5));
    // Inference runs every block unscaled.
    logits_match("depth/resnet20_sd", "depth/resnet20_sd.pth", &config);
    let pattern = fixture_pattern();
    gradients_match_with("depth/resnet20_sd", &config, |model, x| {
        model.forward_residuals(x, &pattern)
    });
}

/// Block `l` of `L` is skipped with probability `l / L * (1 - p_L)`: counted over 4,000 draws
/// of ResNet-110's 54 blocks (p_L = 0.5), each block's rate is within 5 standard errors of it,
/// and a block that runs is scaled by `1 / p_l`.
#[test]
fn draws_follow_the_linear_rule() {
    let device = Device::flex().autodiff();
    device.seed(3);
    let config = zoo::config_for("resnet110")
        .unwrap()
        .with_stochastic_depth(Some(0.5));
    let model = config.init(&device).unwrap();
    let draws = 4000;
    let mut skipped = [0usize; 54];
    for _ in 0..draws {
        let pattern = model.stochastic_depth_draw(&device);
        assert_eq!(pattern.len(), 54);
        for (l, residual) in pattern.iter().enumerate() {
            let p = survival_probability(l + 1, 54, 0.5);
            match residual {
                Residual::Skipped => skipped[l] += 1,
                Residual::Scaled(s) => assert!((s * p as f32 - 1.0).abs() < 1e-6),
                Residual::Full => panic!("block {l} of a network with stochastic depth"),
            }
        }
    }
    for (l, &count) in skipped.iter().enumerate() {
        let expected = 1.0 - survival_probability(l + 1, 54, 0.5);
        let rate = count as f64 / draws as f64;
        let error = (expected * (1.0 - expected) / draws as f64)
            .sqrt()
            .max(1e-3);
        assert!(
            (rate - expected).abs() <= 5.0 * error,
            "block {}: skipped {rate}, the rule says {expected}",
            l + 1
        );
    }
    let total: usize = skipped.iter().sum();
    // On average (1 - p_L) (L + 1) / 2L of the blocks are skipped: a little over a quarter
    // for p_L = 0.5 (the paper's training speed-up).
    let mean = total as f64 / (draws * 54) as f64;
    assert!((mean - 0.25 * (1.0 + 1.0 / 54.0)).abs() < 0.01, "{mean}");
    // Outside training, and without stochastic depth, every block runs.
    assert!(model.stochastic_depth_draw(&Device::flex()).is_empty());
    let plain = config.with_stochastic_depth(None).init(&device).unwrap();
    assert!(plain.stochastic_depth_draw(&device).is_empty());
}

/// With p_L = 1 no block is ever skipped or scaled: training is bit-identical to the network
/// without stochastic depth.
#[test]
fn last_survival_one_is_the_residual_network() {
    let device = Device::flex().autodiff();
    device.seed(5);
    let base = zoo::config_for("resnet20").unwrap();
    let model = base.init(&device).unwrap();
    let with = base.with_stochastic_depth(Some(1.0)).init(&device).unwrap();
    let with = Module::load_record(with, model.clone().into_record());
    let x = Tensor::<4>::random([4, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device);
    let (a, b) = (model.forward(x.clone()), with.forward(x));
    a.into_data().assert_eq(&b.into_data(), true);
}

/// A skipped block is its shortcut alone (and the ReLU after the join in a post-activation
/// block): the same as a block whose residual function is zero, which zero-initialised
/// residuals give (each block's last BN gamma, or a pre-activation block's last convolution,
/// at zero). Every block kind, identity, option A and projection shortcuts.
#[test]
fn a_skipped_block_is_its_shortcut() {
    let device = Device::flex();
    for name in [
        "resnet20",
        "cifar-preact-resnet20",
        "cifar-preact-bottleneck11",
        "wrn-10-1",
        "resnext29_2x4d",
    ] {
        let config = zoo::config_for(name).unwrap().with_zero_init_residual(true);
        let model: ResNet = config.init(&device).unwrap();
        let x = Tensor::<4>::random([2, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device);
        let full = model.forward(x.clone());
        let blocks = model.stages.iter().map(|s| s.blocks.len()).sum();
        let skipped = model.forward_residuals(x.clone(), &vec![Residual::Skipped; blocks]);
        let diff: f32 = (full.clone() - skipped).abs().max().into_scalar();
        let scale: f32 = full.abs().max().into_scalar();
        println!("{name}: every block skipped vs zero residuals: {diff:.2e}");
        assert!(diff <= 1e-5 * scale.max(1.0), "{name}: {diff}");
    }
}
