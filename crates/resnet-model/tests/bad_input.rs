//! Invalid configs and unusable weights files give typed errors that say what is wrong.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use resnet_model::{ConfigError, ResNet, ResNetConfig, WeightsError, zoo};
use resnet_testkit::shared;

fn device() -> Device {
    Device::flex()
}

#[test]
fn cifar_depth_must_be_6n_plus_2() {
    for depth in [0, 2, 7, 19, 21, 100] {
        let err = ResNetConfig::cifar(depth).unwrap_err();
        assert!(matches!(err, ConfigError::CifarDepth(d) if d == depth));
        assert!(err.to_string().contains("6n+2"), "{err}");
    }
    assert!(matches!(
        zoo::config_for("cifar-resnet21"),
        Err(ConfigError::CifarDepth(21))
    ));
    assert!(ResNetConfig::cifar(8).is_ok());
}

#[test]
fn unknown_names_and_invalid_configs() {
    // Depths the paper does not name are not guessed at (`cifar-resnet26` is the CIFAR net).
    for name in [
        "resnet-banana",
        "resnet26",
        "plain50",
        "resnet200",
        "resnet20-v1.5",
    ] {
        assert!(
            matches!(zoo::config_for(name), Err(ConfigError::UnknownName { .. })),
            "{name}"
        );
    }
    // Width and cardinality templates: bad depths are errors that say which depths exist.
    for (name, message) in [
        ("wrn-27-10", "6n+4"),
        ("wrn-28-0", "widening factor"),
        ("resnext30_8x64d", "unknown model"),
        ("cifar-resnext30_8x64d", "9n+2"),
        ("resnext50_0x4d", "at least 1"),
        ("resnext50_32x0d", "no channels per group"),
    ] {
        let err = zoo::config_for(name).unwrap_err().to_string();
        assert!(err.contains(message), "{name}: {err}");
    }
    for name in [
        "resnext50_2x40d",
        "cifar-resnext38_4x16d",
        "wide_resnet152_3",
        "wrn-22-8",
    ] {
        assert!(zoo::config_for(name).is_ok(), "{name}");
    }
    let typo = zoo::config_for("resnt20").unwrap_err().to_string();
    assert!(typo.contains("did you mean `resnet20`?"), "{typo}");
    let far = zoo::config_for("resnet-banana").unwrap_err().to_string();
    assert!(!far.contains("did you mean"), "{far}");
    assert!(zoo::config_for("cifar-resnet26").is_ok());
    assert_eq!(
        zoo::config_for("ResNet18-v1.5").unwrap(),
        zoo::config_for("resnet18").unwrap()
    );
    let base = zoo::config_for("resnet18").unwrap();
    let cases = [
        (
            ResNetConfig {
                blocks_per_stage: vec![2, 0, 2, 2],
                ..base.clone()
            },
            "zero blocks",
        ),
        (
            ResNetConfig {
                blocks_per_stage: vec![],
                ..base.clone()
            },
            "at least one stage",
        ),
        (
            ResNetConfig {
                stage_widths: vec![64, 128],
                ..base.clone()
            },
            "entries",
        ),
        (base.clone().with_num_classes(0), "classes"),
        (
            ResNetConfig {
                stage_widths: vec![64, 0, 256, 512],
                ..base.clone()
            },
            "width 0",
        ),
        (
            ResNetConfig {
                stage_widths: vec![64, 32, 256, 512],
                ..base.clone().with_shortcut(resnet_model::ShortcutOption::A)
            },
            "option A",
        ),
        (base.clone().with_cardinality(32), "bottleneck blocks only"),
        (base.clone().with_group_width(128), "bottleneck blocks only"),
        (
            zoo::config_for("resnext50_32x4d")
                .unwrap()
                .with_cardinality(0),
            "at least 1",
        ),
        (
            zoo::config_for("resnet50").unwrap().with_group_width(0),
            "no channels per group",
        ),
        (base.clone().with_dropout(1.0), "[0, 1)"),
        (base.clone().with_dropout(f64::NAN), "[0, 1)"),
        (
            zoo::config_for("resnet50").unwrap().with_dropout(0.3),
            "basic blocks only",
        ),
        (base.clone().with_stem_width(Some(0)), "stem width"),
        (base.clone().with_stochastic_depth(Some(0.0)), "(0, 1]"),
        (base.clone().with_stochastic_depth(Some(1.5)), "(0, 1]"),
        (
            base.clone().plain().with_stochastic_depth(Some(0.5)),
            "no shortcut",
        ),
    ];
    for (config, message) in cases {
        // `validate` (what reading a config file or a record runs) refuses what `init` would.
        let checked = config.validate().unwrap_err();
        let err = config.init(&device()).unwrap_err();
        for err in [checked, err] {
            assert!(
                err.to_string().contains(message),
                "{err} (wanted {message})"
            );
        }
    }
}

#[test]
fn invalid_config_files() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"stem": "cifar", "block": "basic"}"#).unwrap();
    assert!(matches!(
        ResNetConfig::from_json_file(&bad),
        Err(ConfigError::Json { .. })
    ));
    assert!(matches!(
        ResNetConfig::from_json_file(dir.path().join("absent.json")),
        Err(ConfigError::Io { .. })
    ));
    let good = dir.path().join("good.json");
    let config = zoo::config_for("resnet110").unwrap();
    std::fs::write(&good, serde_json::to_string(&config).unwrap()).unwrap();
    assert_eq!(ResNetConfig::from_json_file(&good).unwrap(), config);
}

fn config(name: &str) -> ResNetConfig {
    zoo::config_for(name).unwrap()
}

/// The error of loading `path` into the network `config` describes.
fn load_error(config: ResNetConfig, path: &Path) -> WeightsError {
    let model: ResNet = config.init(&device()).unwrap();
    model.load_weights(path).unwrap_err()
}

/// The (missing, unused, misshapen) lists of a mismatch error.
fn mismatch(err: &WeightsError) -> (&[String], &[String], &[String]) {
    match err {
        WeightsError::Mismatch {
            missing,
            unused,
            misshapen,
            ..
        } => (missing, unused, misshapen),
        other => panic!("expected a mismatch, got: {other}"),
    }
}

/// A copy of `path` cut to `1/divisor` of its length.
fn truncated_copy(path: &Path, dir: &Path, divisor: usize) -> PathBuf {
    let bytes = std::fs::read(path).unwrap();
    let out = dir.join(format!(
        "truncated-{}",
        path.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&out, &bytes[..bytes.len() / divisor]).unwrap();
    out
}

#[test]
fn not_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.pth");
    std::fs::write(&path, "these are not weights").unwrap();
    let err = load_error(config("resnet20"), &path);
    assert!(matches!(err, WeightsError::Unreadable { .. }), "{err}");
    let err = load_error(config("resnet20"), &dir.path().join("absent.pth"));
    assert!(matches!(err, WeightsError::Io { .. }), "{err}");
}

#[test]
fn truncated_records_and_mismatched_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resnet20.bpk");
    let resnet20 = config("resnet20").init(&device()).unwrap();
    resnet20.save_record(&path, &Default::default()).unwrap();

    let truncated = truncated_copy(&path, dir.path(), 2);
    let err = load_error(config("resnet20"), &truncated);
    assert!(matches!(err, WeightsError::Unreadable { .. }), "{err}");

    // Deeper network: its extra blocks are missing from the file.
    let err = load_error(config("resnet32"), &path);
    let (missing, unused, _) = mismatch(&err);
    assert!(
        missing.iter().any(|m| m.contains("stages.0.blocks.3")),
        "{err}"
    );
    assert!(unused.is_empty(), "{err}");

    // Shallower network: the file's extra blocks are unused.
    let err = load_error(config("cifar-resnet14"), &path);
    let (_, unused, _) = mismatch(&err);
    assert!(
        unused.iter().any(|u| u.contains("stages.2.blocks.2")),
        "{err}"
    );

    // Different classifier: shapes differ.
    let err = load_error(config("resnet20").with_num_classes(100), &path);
    let (_, _, misshapen) = mismatch(&err);
    assert!(misshapen.iter().any(|m| m.contains("fc.weight")), "{err}");
    assert!(err.to_string().contains("wrong shape"), "{err}");
}

#[test]
fn pytorch_checkpoint_mismatches_name_the_tensors() {
    let Some(resnet20) = shared("weights/cifar10-akamaster/resnet20.th") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let truncated = truncated_copy(&resnet20, dir.path(), 3);
    let err = load_error(config("resnet20"), &truncated);
    assert!(matches!(err, WeightsError::Unreadable { .. }), "{err}");

    // resnet20.th into ResNet-32: blocks 3 and 4 of every stage are missing (2 layers of
    // conv weight + 4 BN tensors each).
    let err = load_error(config("resnet32"), &resnet20);
    let (missing, unused, misshapen) = mismatch(&err);
    assert_eq!(missing.len(), 3 * 2 * 2 * 5, "{err}");
    assert!(unused.is_empty() && misshapen.is_empty(), "{err}");

    // resnet20.th into ResNet-14: the third block of every stage is unused.
    let err = load_error(config("cifar-resnet14"), &resnet20);
    let (_, unused, _) = mismatch(&err);
    assert!(
        unused.iter().any(|u| u.contains("stages.0.blocks.2")),
        "{err}"
    );

    // Option B adds projections the checkpoint lacks.
    let option_b = config("resnet20").with_shortcut(resnet_model::ShortcutOption::B);
    let err = load_error(option_b, &resnet20);
    assert!(err.to_string().contains("shortcut.projection"), "{err}");

    // 100 classes: the classifier's shape differs.
    let err = load_error(config("resnet20").with_num_classes(100), &resnet20);
    assert!(err.to_string().contains("fc.weight"), "{err}");
}
