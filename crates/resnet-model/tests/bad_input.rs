//! Invalid configs and unusable weights files give typed errors that say what is wrong.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use resnet_model::{ConfigError, ResNetConfig, WeightsError, zoo};

fn device() -> Device {
    Device::flex()
}

/// `../shared` beside the repository, or `$RESNET_SHARED`; `None` (with the reason printed)
/// when absent.
fn shared(relative: &str) -> Option<PathBuf> {
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
    assert!(matches!(
        zoo::config_for("resnet-banana"),
        Err(ConfigError::UnknownName(_))
    ));
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
    ];
    for (config, message) in cases {
        let err = config.init(&device()).unwrap_err();
        assert!(
            err.to_string().contains(message),
            "{err} (wanted {message})"
        );
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

#[test]
fn not_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.pth");
    std::fs::write(&path, "these are not weights").unwrap();
    let model = zoo::config_for("resnet20")
        .unwrap()
        .init(&device())
        .unwrap();
    let err = model.load_weights(&path).unwrap_err();
    assert!(matches!(err, WeightsError::Unreadable { .. }), "{err}");
    let model = zoo::config_for("resnet20")
        .unwrap()
        .init(&device())
        .unwrap();
    let err = model
        .load_weights(dir.path().join("absent.pth"))
        .unwrap_err();
    assert!(matches!(err, WeightsError::Io { .. }), "{err}");
}

#[test]
fn truncated_records_and_mismatched_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resnet20.bpk");
    let resnet20 = zoo::config_for("resnet20")
        .unwrap()
        .init(&device())
        .unwrap();
    resnet20.save_record(&path, &Default::default()).unwrap();

    let bytes = std::fs::read(&path).unwrap();
    let truncated = dir.path().join("truncated.bpk");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let model = zoo::config_for("resnet20")
        .unwrap()
        .init(&device())
        .unwrap();
    let err = model.load_weights(&truncated).unwrap_err();
    assert!(matches!(err, WeightsError::Unreadable { .. }), "{err}");

    // Deeper network: its extra blocks are missing from the file.
    let resnet32 = zoo::config_for("resnet32")
        .unwrap()
        .init(&device())
        .unwrap();
    let err = resnet32.load_weights(&path).unwrap_err();
    let WeightsError::Mismatch {
        missing, unused, ..
    } = &err
    else {
        panic!("{err}")
    };
    assert!(
        missing.iter().any(|m| m.contains("stages.0.blocks.3")),
        "{err}"
    );
    assert!(unused.is_empty());

    // Shallower network: the file's extra blocks are unused.
    let resnet14 = zoo::config_for("cifar-resnet14")
        .unwrap()
        .init(&device())
        .unwrap();
    let err = resnet14.load_weights(&path).unwrap_err();
    let WeightsError::Mismatch { unused, .. } = &err else {
        panic!("{err}")
    };
    assert!(
        unused.iter().any(|u| u.contains("stages.2.blocks.2")),
        "{err}"
    );

    // Different classifier: shapes differ.
    let cifar100 = zoo::config_for("resnet20")
        .unwrap()
        .with_num_classes(100)
        .init(&device())
        .unwrap();
    let err = cifar100.load_weights(&path).unwrap_err();
    let WeightsError::Mismatch { misshapen, .. } = &err else {
        panic!("{err}")
    };
    assert!(misshapen.iter().any(|m| m.contains("fc.weight")), "{err}");
    assert!(err.to_string().contains("wrong shape"), "{err}");
}

#[test]
fn pytorch_checkpoint_mismatches_name_the_tensors() {
    let Some(resnet20) = shared("weights/cifar10-akamaster/resnet20.th") else {
        return;
    };
    // Truncated checkpoint.
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(&resnet20).unwrap();
    let truncated = dir.path().join("truncated.th");
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    let model = zoo::config_for("resnet20")
        .unwrap()
        .init(&device())
        .unwrap();
    let err = model.load_weights(&truncated).unwrap_err();
    assert!(matches!(err, WeightsError::Unreadable { .. }), "{err}");

    // resnet20.th into ResNet-32: blocks 3 and 4 of every stage are missing.
    let model = zoo::config_for("resnet32")
        .unwrap()
        .init(&device())
        .unwrap();
    let err = model.load_weights(&resnet20).unwrap_err();
    let WeightsError::Mismatch {
        missing,
        unused,
        misshapen,
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(missing.len(), 3 * 2 * 2 * 5, "{err}");
    assert!(unused.is_empty() && misshapen.is_empty(), "{err}");

    // resnet20.th into ResNet-14: the third block of every stage is unused.
    let model = zoo::config_for("cifar-resnet14")
        .unwrap()
        .init(&device())
        .unwrap();
    let err = model.load_weights(&resnet20).unwrap_err();
    let WeightsError::Mismatch { unused, .. } = &err else {
        panic!("{err}")
    };
    assert!(
        unused.iter().any(|u| u.contains("stages.0.blocks.2")),
        "{err}"
    );

    // Option B adds projections the checkpoint lacks.
    let model = zoo::config_for("resnet20")
        .unwrap()
        .with_shortcut(resnet_model::ShortcutOption::B)
        .init(&device())
        .unwrap();
    let err = model.load_weights(&resnet20).unwrap_err();
    assert!(err.to_string().contains("shortcut.projection"), "{err}");

    // 100 classes: the classifier's shape differs.
    let model = zoo::config_for("resnet20")
        .unwrap()
        .with_num_classes(100)
        .init(&device())
        .unwrap();
    let err = model.load_weights(&resnet20).unwrap_err();
    assert!(err.to_string().contains("fc.weight"), "{err}");
}
