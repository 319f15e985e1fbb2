//! The paper's parameter and FLOP figures, computed from the configs (no model is built).

use resnet_model::zoo::{self, ModelSummary};

fn summary(name: &str) -> ModelSummary {
    zoo::named_models()
        .into_iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("{name} is a named model"))
        .summary()
}

fn assert_within(what: &str, value: f64, paper: f64, tolerance: f64) {
    let rel = (value - paper).abs() / paper;
    assert!(
        rel <= tolerance,
        "{what}: {value} vs the paper's {paper} ({:.2}% off, allowed {:.0}%)",
        rel * 100.0,
        tolerance * 100.0
    );
}

/// Table 1, last row: FLOPs (multiply-adds) at 224x224, stride on the bottleneck's 1x1.
#[test]
fn imagenet_macs_match_table_1() {
    for (name, gmacs) in [
        ("resnet18", 1.8),
        ("resnet34", 3.6),
        ("plain34", 3.6),
        ("resnet50", 3.8),
        ("resnet101", 7.6),
        ("resnet152", 11.3),
    ] {
        let s = summary(name);
        assert_within(name, s.macs as f64 / 1e9, gmacs, 0.03);
    }
}

/// Table 6: parameters of the CIFAR-10 networks.
#[test]
fn cifar_params_match_table_6() {
    for (name, mparams) in [
        ("resnet20", 0.27),
        ("resnet32", 0.46),
        ("resnet44", 0.66),
        ("resnet56", 0.85),
        ("resnet110", 1.7),
        ("resnet1202", 19.4),
    ] {
        let s = summary(name);
        assert_within(name, s.params as f64 / 1e6, mparams, 0.02);
    }
}

/// Exact counts, as torchvision reports them (`sum(p.numel() for p in m.parameters())`).
#[test]
fn imagenet_params_match_torchvision() {
    for (name, params) in [
        ("resnet18", 11_689_512),
        ("resnet34", 21_797_672),
        ("resnet50", 25_557_032),
        ("resnet101", 44_549_160),
        ("resnet152", 60_192_808),
        ("resnet50-v1.5", 25_557_032),
    ] {
        assert_eq!(summary(name).params, params, "{name}");
    }
}

/// The paper: plain nets and option-A ResNets have the same number of parameters; the
/// bottleneck stride placement changes FLOPs, not parameters.
#[test]
fn plain_and_option_a_have_equal_params() {
    for depth in [20, 32, 44, 56, 110] {
        assert_eq!(
            summary(&format!("plain{depth}")).params,
            summary(&format!("resnet{depth}")).params
        );
    }
    let v1 = summary("resnet50");
    let v15 = summary("resnet50-v1.5");
    assert_eq!(v1.params, v15.params);
    assert!(v15.macs > v1.macs, "stride on the 3x3 costs more FLOPs");
}

/// Depth as the paper counts it matches the name; a Wide ResNet's name counts as the WRN paper
/// does (`6n + 4`: the stem, the blocks' convolutions and the three 1x1 projections, not the
/// classifier), two more than this paper's count.
#[test]
fn depths_match_names() {
    for model in zoo::named_models() {
        let digits: String = model
            .name
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(|c| c.is_ascii_digit())
            .collect();
        let wrn = if model.name.starts_with("wrn-") { 2 } else { 0 };
        assert_eq!(
            (model.config.depth() + wrn).to_string(),
            digits,
            "{}",
            model.name
        );
    }
}

/// The pre-activation networks: timm's exact counts for its `resnetv2_*` (timm 1.0.31,
/// `tests/fixtures/preact/make_fixtures.log`), and the 2016 paper's CIFAR figures (1.7M for
/// ResNet-110 and ResNet-164, 10.2M for ResNet-1001).
#[test]
fn preact_params_match_timm_and_the_2016_paper() {
    for (name, params) in [
        ("preact-resnet18", 11_687_720),
        ("preact-resnet34", 21_795_880),
        ("preact-resnet50", 25_549_352),
        ("preact-resnet101", 44_541_480),
    ] {
        assert_eq!(summary(name).params, params, "{name}");
    }
    for (name, mparams) in [
        ("preact-resnet110", 1.7),
        ("preact-resnet164", 1.7),
        ("preact-resnet1001", 10.2),
    ] {
        assert_within(name, summary(name).params as f64 / 1e6, mparams, 0.02);
    }
}

/// Width and cardinality: torchvision's exact counts for its ResNeXts and Wide ResNets, and the
/// papers' CIFAR networks counted by the PyTorch definitions of
/// `tests/fixtures/width/make_fixtures.py` (its log); the papers give 34.4M and 68.1M (ResNeXt
/// paper, Table 7), 36.5M, 11.0M and 8.9M (WRN paper, Table 4). MACs: torchvision's 4.23 GMACs
/// for ResNeXt-50 32x4d, the ResNeXt paper's 4.2 GFLOPs (Table 3), as ResNet-50 v1.5's 4.1.
#[test]
fn width_and_cardinality_params_match_torchvision_and_the_papers() {
    for (name, params) in [
        ("resnext50_32x4d", 25_028_904),
        ("resnext101_32x8d", 88_791_336),
        ("resnext101_64x4d", 83_455_272),
        ("wide_resnet50_2", 68_883_240),
        ("wide_resnet101_2", 126_886_696),
        ("resnext29_8x64d", 34_426_698),
        ("resnext29_16x64d", 68_155_210),
        ("wrn-16-8", 10_961_370),
        ("wrn-28-10", 36_479_194),
        ("wrn-40-4", 8_949_210),
    ] {
        assert_eq!(summary(name).params, params, "{name}");
    }
    for (name, mparams) in [
        ("resnext29_8x64d", 34.4),
        ("resnext29_16x64d", 68.1),
        ("wrn-28-10", 36.5),
        ("wrn-16-8", 11.0),
        ("wrn-40-4", 8.9),
    ] {
        assert_within(name, summary(name).params as f64 / 1e6, mparams, 0.01);
    }
    assert_within(
        "resnext50_32x4d",
        summary("resnext50_32x4d").macs as f64 / 1e9,
        4.23,
        0.005,
    );
    assert_within(
        "wide_resnet50_2",
        summary("wide_resnet50_2").macs as f64 / 1e9,
        11.4,
        0.005,
    );
}
