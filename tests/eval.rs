//! `resnet eval` reproduces PyTorch's accuracy counts for the public CIFAR checkpoints, and
//! evaluates class-folder trees.

mod common;

use std::path::Path;
use std::process::Command;

use common::shared;

/// `resnet eval --json` of a public CIFAR checkpoint (with its normalisation) on `data`.
fn eval_json(arch: &str, weights: &Path, data: &Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_resnet"))
        .args(["eval", "--arch", arch, "--json"])
        .arg("--weights")
        .arg(weights)
        .arg("--data")
        .arg(data)
        .args(["--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225"])
        .env_remove("BURN_DEVICE")
        .output()
        .expect("the resnet binary runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

/// ../shared/README.md: PyTorch gets 8103 (ResNet-20) and 8256 (ResNet-32) of 10,000 right.
#[test]
fn public_cifar_checkpoints_match_pytorch_counts() {
    let Some(data) = shared("data/cifar10/cifar-10-binary.tar.gz") else {
        return;
    };
    for (arch, pytorch) in [("resnet20", 8103), ("resnet32", 8256)] {
        let Some(weights) = shared(&format!("weights/cifar10-akamaster/{arch}.th")) else {
            return;
        };
        let report = eval_json(arch, &weights, &data);
        let correct = report["correct"].as_i64().unwrap();
        println!("{arch}: {correct} / 10000 correct (PyTorch: {pytorch})");
        assert_eq!(report["total"], 10000);
        assert!(
            (correct - pytorch).abs() <= 3,
            "{arch}: {correct} vs {pytorch}"
        );
        assert!(report["top5_error"].as_f64().unwrap() < report["top1_error"].as_f64().unwrap());
    }
}

#[test]
fn class_folder_sample() {
    let (Some(data), Some(weights)) = (
        shared("data/cifar10-imagefolder-sample"),
        shared("weights/cifar10-akamaster/resnet20.th"),
    ) else {
        return;
    };
    let report = eval_json("resnet20", &weights, &data);
    println!("imagefolder sample: {report}");
    assert_eq!(report["total"], 500);
    // The same JPEG copy's test images: the network is about as accurate as on the archive.
    assert!(report["top1_error"].as_f64().unwrap() < 0.3, "{report}");
}
