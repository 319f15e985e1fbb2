//! The `resnet` program, run as a user would.

mod common;

use std::process::Command;

use burn::tensor::{Device, Tensor};
use common::{fixture, max_abs_diff, shared};

fn resnet(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_resnet"))
        .args(args)
        .env_remove("BURN_DEVICE")
        .output()
        .expect("the resnet binary runs")
}

#[test]
fn models_json_lists_the_zoo_with_costs() {
    let out = resnet(&["models", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let row = |name: &str| {
        rows.iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} listed"))
    };
    for name in [
        "plain18",
        "plain34",
        "resnet18",
        "resnet34",
        "resnet50",
        "resnet101",
        "resnet152",
        "resnet50-v1.5",
        "plain20",
        "plain56",
        "plain110",
        "resnet20",
        "resnet110",
        "resnet1202",
    ] {
        let r = row(name);
        assert!(r["params"].as_u64().unwrap() > 0 && r["macs"].as_u64().unwrap() > 0);
    }
    let gmacs = row("resnet152")["macs"].as_u64().unwrap() as f64 / 1e9;
    assert!((gmacs - 11.3).abs() / 11.3 < 0.03, "{gmacs}");
    let mparams = row("resnet110")["params"].as_u64().unwrap() as f64 / 1e6;
    assert!((mparams - 1.7).abs() / 1.7 < 0.02, "{mparams}");
}

#[test]
fn models_table() {
    let out = resnet(&["models"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("resnet1202") && l.contains("19.4"))
    );
}

#[test]
fn infer_reproduces_pytorch() {
    for (arch, weights, io) in [
        (
            "resnet20",
            "weights/cifar10-akamaster/resnet20.th",
            "fixtures/akamaster/resnet20_io.safetensors",
        ),
        (
            "resnet18-v1.5",
            "fixtures/torchvision/resnet18.pth",
            "fixtures/torchvision/resnet18_io.safetensors",
        ),
    ] {
        let (Some(weights), Some(io)) = (shared(weights), shared(io)) else {
            continue;
        };
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("logits.safetensors");
        let out = resnet(&[
            "infer",
            "--arch",
            arch,
            "--weights",
            weights.to_str().unwrap(),
            "--input",
            io.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
            "--batch-size",
            "5",
            "--device",
            "flex",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let device = Device::flex();
        let ours: Tensor<2> = fixture(&output, "logits", &device);
        let theirs: Tensor<2> = fixture(&io, "logits", &device);
        let diff = max_abs_diff(ours, theirs);
        println!("resnet infer {arch}: max abs diff {diff:.2e}");
        assert!(diff <= 1e-3, "{arch}: {diff}");
    }
}

#[test]
fn infer_reports_bad_input_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pth");
    std::fs::write(&junk, "not a checkpoint").unwrap();
    let junk = junk.to_str().unwrap();
    // `resnet infer` with the given arch, weights and device fails; its error message.
    let failure = |arch: &str, weights: &str, device: &str| {
        let out = resnet(&[
            "infer",
            "--arch",
            arch,
            "--weights",
            weights,
            "--input",
            "x",
            "--output",
            "y",
            "--device",
            device,
        ]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!err.contains("panicked"), "{err}");
        err
    };
    let err = failure("resnet20", junk, "flex");
    assert!(err.contains("neither a burn record"), "{err}");
    let err = failure("resnet21", junk, "flex");
    assert!(err.contains("6n+2"), "{err}");
    let err = failure("resnet20", "w", "tpu");
    assert!(err.contains("unknown device"), "{err}");
    if !cfg!(feature = "cuda") {
        let err = failure("resnet20", "w", "cuda");
        assert!(err.contains("--features cuda"), "{err}");
    }
}

/// A burn record names its own network: `--arch` is optional, and `infer` matches the model.
#[test]
fn infer_from_a_burn_record() {
    let dir = tempfile::tempdir().unwrap();
    let device = Device::flex();
    let model = resnet::model::zoo::config_for("cifar-resnet14")
        .unwrap()
        .init(&device)
        .unwrap();
    let record = dir.path().join("model.bpk");
    model.save_record(&record, &Default::default()).unwrap();
    let input = Tensor::<4>::random(
        [3, 3, 32, 32],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &device,
    );
    let input_path = dir.path().join("input.safetensors");
    resnet::train::tensor_file::write_tensors(&input_path, &[("input", input.clone().into_data())])
        .unwrap();
    let output = dir.path().join("out.safetensors");
    let out = resnet(&[
        "infer",
        "--weights",
        record.to_str().unwrap(),
        "--input",
        input_path.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let logits: Tensor<2> = fixture(&output, "logits", &device);
    use burn::module::Module;
    let expected = model.valid().forward(input);
    assert!(max_abs_diff(logits, expected) < 1e-5);
}
