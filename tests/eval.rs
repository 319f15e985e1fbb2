//! `resnet eval` reproduces PyTorch's accuracy counts for the public CIFAR checkpoints,
//! evaluates class-folder trees, and refuses data whose labels do not index the network's
//! outputs.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use burn::tensor::Device;
use resnet::data::metadata::RunMetadata;
use resnet_testkit::cifar::write_cifar10;

use common::shared;

/// `resnet eval --json --weights WEIGHTS --data DATA` as a user types it: no `--arch`, no
/// `--mean`/`--std` (published weights are known by name, file name or hash), with `cache` as
/// the weights cache.
fn eval_json(weights: &str, data: &Path, cache: &Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_resnet"))
        .args(["eval", "--json", "--weights", weights])
        .arg("--data")
        .arg(data)
        .env("RESNET_CACHE", cache)
        .env_remove("BURN_DEVICE")
        .output()
        .expect("the resnet binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        !stderr.contains("does not say how its inputs were normalised"),
        "{weights}: its normalisation is known: {stderr}"
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

/// ../shared/README.md: PyTorch gets 8103 (ResNet-20) and 8256 (ResNet-32) of 10,000 right,
/// with the normalisation the checkpoints were trained with, which `resnet eval` knows:
/// ResNet-20 by its published name (from the cache), ResNet-32 by its hash (the shared file
/// is not under its published name).
#[test]
fn public_cifar_checkpoints_match_pytorch_counts() {
    let Some(data) = shared("data/cifar10/cifar-10-binary.tar.gz") else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    for (arch, pytorch) in [("resnet20", 8103), ("resnet32", 8256)] {
        let Some(weights) = shared(&format!("weights/cifar10-akamaster/{arch}.th")) else {
            return;
        };
        let published = resnet::pretrained::published(&format!("{arch}.akamaster-cifar10"));
        let published = published.unwrap();
        let spec = match arch {
            "resnet20" => {
                std::fs::copy(&weights, cache.path().join(published.file_name)).unwrap();
                published.name.to_string()
            }
            _ => weights.display().to_string(),
        };
        let report = eval_json(&spec, &data, cache.path());
        let correct = report["correct"].as_i64().unwrap();
        println!("{spec}: {correct} / 10000 correct (PyTorch: {pytorch})");
        assert_eq!(report["total"], 10000);
        assert!(
            (correct - pytorch).abs() <= 3,
            "{arch}: {correct} vs {pytorch}"
        );
        assert!(report["top5_error"].as_f64().unwrap() < report["top1_error"].as_f64().unwrap());
    }
}

/// Weights that do not say how their inputs were normalised (a record without a training
/// run's metadata) are scored with the paper's per-pixel mean, and the program says so.
#[test]
fn unknown_normalisation_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_cifar10(dir.path(), 10, 20);
    let weights = dir.path().join("bare.bpk");
    let model = resnet::model::zoo::config_for("resnet20")
        .unwrap()
        .init(&Device::flex())
        .unwrap();
    model.save_record(&weights, &BTreeMap::new()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_resnet"))
        .args(["eval", "--weights"])
        .arg(&weights)
        .arg("--data")
        .arg(&data)
        .env_remove("BURN_DEVICE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let notes: Vec<&str> = (stderr.lines())
        .filter(|l| l.contains("does not say how its inputs were normalised"))
        .collect();
    assert_eq!(notes.len(), 1, "one line: {stderr}");
    assert!(notes[0].contains("per-pixel mean") && notes[0].contains("--mean"));
}

#[test]
fn class_folder_sample() {
    let (Some(data), Some(weights)) = (
        shared("data/cifar10-imagefolder-sample"),
        shared("weights/cifar10-akamaster/resnet20.th"),
    ) else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let report = eval_json(weights.to_str().unwrap(), &data, cache.path());
    println!("imagefolder sample: {report}");
    assert_eq!(report["total"], 500);
    // The same JPEG copy's test images: the network is about as accurate as on the archive.
    assert!(report["top1_error"].as_f64().unwrap() < 0.3, "{report}");
}

/// A small CIFAR network with `classes` outputs saved as a burn record with `metadata`.
fn record(dir: &Path, name: &str, classes: usize, metadata: &[(&str, &str)]) -> PathBuf {
    let mut config = resnet::model::zoo::config_for("cifar-resnet8").unwrap();
    config.num_classes = classes;
    record_of(config, dir, name, metadata)
}

fn record_of(
    config: resnet::model::ResNetConfig,
    dir: &Path,
    name: &str,
    metadata: &[(&str, &str)],
) -> PathBuf {
    let path = dir.join(name);
    // A record with any run metadata has all of it (as `resnet train` writes it): the given
    // entries replace those of a run on CIFAR-10's classes, unnormalised, nothing held out.
    let mut full = BTreeMap::new();
    if !metadata.is_empty() {
        let cifar10 = resnet::pretrained::Categories::cifar10();
        full = RunMetadata {
            arch: "cifar-resnet8".into(),
            classes: (0..config.num_classes)
                .map(|i| (cifar10.name(i)).map_or(format!("class{i}"), str::to_string))
                .collect(),
            normalization: resnet::data::Normalization::unit(),
            seed: 0,
            held_out: 0,
        }
        .to_map();
    }
    full.extend((metadata.iter()).map(|(k, v)| (k.to_string(), v.to_string())));
    let metadata = full;
    (config.init(&Device::flex()).unwrap())
        .save_record(&path, &metadata)
        .unwrap();
    path
}

/// `resnet eval` with `args`: its error message (it must fail).
fn eval_error(args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_resnet"))
        .arg("eval")
        .args(args)
        .env("BURN_DEVICE", "flex")
        .output()
        .expect("the resnet binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "must fail: {stderr}");
    stderr
}

/// Labels index a network's outputs: other class counts (alone or in an ensemble), other
/// class names, and a validation split the network was not trained with are refused.
#[test]
fn data_of_other_classes_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_cifar10(dir.path(), 8, 8);
    let ten = record(dir.path(), "ten.bpk", 10, &[]);
    let hundred = record(dir.path(), "hundred.bpk", 100, &[]);
    let os = |p: &Path| p.as_os_str().to_owned();
    let weights = |w: &[&PathBuf]| -> Vec<std::ffi::OsString> {
        let mut v = vec!["--data".into(), os(&data), "--weights".into()];
        v.extend(w.iter().map(|p| os(p)));
        v
    };
    let run = |args: Vec<std::ffi::OsString>| {
        eval_error(&args.iter().map(|a| a.as_os_str()).collect::<Vec<_>>())
    };

    let err = run(weights(&[&hundred]));
    assert!(
        err.contains("the data has 10 classes but the network scores 100"),
        "{err}"
    );
    let err = run(weights(&[&ten, &hundred]));
    assert!(err.contains("network #2 scores 100"), "{err}");
    // Naming the architecture keeps the record's classifier size (it used to become the
    // named config's 10 and fail on fc.weight's shape).
    let mut args = weights(&[&hundred]);
    args.extend(["--arch".into(), "cifar-resnet8".into()]);
    let err = run(args);
    assert!(
        err.contains("the data has 10 classes but the network scores 100"),
        "{err}"
    );

    let names: Vec<String> = (0..10).map(|i| format!("class{i}")).collect();
    let names = serde_json::to_string(&names).unwrap();
    let renamed = record(dir.path(), "renamed.bpk", 10, &[("resnet.classes", &names)]);
    let err = run(weights(&[&renamed]));
    assert!(err.contains("trained on other classes"), "{err}");

    // An ensemble scores one input: the same normalisation, and on a held-out split the same
    // held-out images.
    let seed = |s: &'static str| [("resnet.held_out", "8"), ("resnet.seed", s)];
    let (one, two) = (
        record(dir.path(), "seed1.bpk", 10, &seed("1")),
        record(dir.path(), "seed2.bpk", 10, &seed("2")),
    );
    let mut args = weights(&[&one, &two]);
    args.extend(["--split".into(), "val".into()]);
    let err = run(args);
    assert!(err.contains("held out different training images"), "{err}");
    let imagenet = serde_json::to_string(&resnet::data::Normalization::imagenet()).unwrap();
    let normalized = record(
        dir.path(),
        "norm.bpk",
        10,
        &[("resnet.normalization", &imagenet)],
    );
    let err = run(weights(&[&ten, &normalized]));
    assert!(err.contains("different input normalisations"), "{err}");

    // Damaged metadata is refused, naming the key, not replaced by a default.
    let damaged = record(dir.path(), "damaged.bpk", 10, &[("resnet.seed", "zero")]);
    let err = run(weights(&[&damaged]));
    assert!(err.contains("`resnet.seed` metadata is invalid"), "{err}");
    let no_val = record(dir.path(), "all.bpk", 10, &[("resnet.held_out", "0")]);
    let mut args = weights(&[&no_val]);
    args.extend(["--split".into(), "val".into()]);
    let err = run(args);
    assert!(err.contains("has no validation split"), "{err}");

    let mut gray = resnet::model::zoo::config_for("cifar-resnet8").unwrap();
    gray.in_channels = 1;
    let gray = record_of(gray, dir.path(), "gray.bpk", &[]);
    let err = run(weights(&[&gray]));
    assert!(
        err.contains("the images have 3 channels but the network takes 1"),
        "{err}"
    );

    // A record names its network: another one named with --arch is refused (plain and
    // option-A nets have the same tensors, so the weights would load).
    let mut args = weights(&[&ten]);
    args.extend(["--arch".into(), "cifar-plain8".into()]);
    let err = run(args);
    assert!(
        err.contains("holds another network than the architecture named (--arch): shortcut"),
        "{err}"
    );
}

/// Writes `root/<split>/<class>/0.png` for each (split, class).
fn class_tree(root: &Path, folders: &[(&str, &str)]) {
    for (split, class) in folders {
        let dir = root.join(split).join(class);
        std::fs::create_dir_all(&dir).unwrap();
        image::RgbImage::new(8, 8).save(dir.join("0.png")).unwrap();
    }
}

/// `val/` must have `train/`'s classes (labels are indices into the sorted folder names),
/// and `--split val` needs a `val/` folder or the run's held-out split.
#[test]
fn class_folder_splits_must_agree() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    class_tree(&tree, &[("train", "cat"), ("train", "dog"), ("val", "dog")]);
    let out = Command::new(env!("CARGO_BIN_EXE_resnet"))
        .args([
            "train",
            "--arch",
            "resnet18",
            "--iterations",
            "1",
            "--quiet",
            "--data",
        ])
        .arg(&tree)
        .arg("--out")
        .arg(dir.path().join("run"))
        .env("BURN_DEVICE", "flex")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("missing from val/: cat; only in val/: none"),
        "{stderr}"
    );

    let only_train = dir.path().join("only-train");
    class_tree(&only_train, &[("train", "cat"), ("train", "dog")]);
    let weights = record(dir.path(), "two.bpk", 2, &[]);
    let err = eval_error(&[
        "--weights".as_ref(),
        weights.as_os_str(),
        "--data".as_ref(),
        only_train.as_os_str(),
        "--split".as_ref(),
        "val".as_ref(),
    ]);
    assert!(err.contains("has no val/ folder to evaluate"), "{err}");

    // A run that held images out of a tree without val/ is scored on those by --split val,
    // and on the others by --split train.
    let split = record(
        dir.path(),
        "split.bpk",
        2,
        &[
            ("resnet.held_out", "1"),
            ("resnet.seed", "0"),
            ("resnet.classes", r#"["cat","dog"]"#),
        ],
    );
    let total = |which: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_resnet"))
            .args(["eval", "--json", "--split", which, "--weights"])
            .arg(&split)
            .arg("--data")
            .arg(&only_train)
            .env("BURN_DEVICE", "flex")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        report["total"].as_u64().unwrap()
    };
    assert_eq!((total("val"), total("train")), (1, 1));
}
