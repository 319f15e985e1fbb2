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

/// `resnet infer --arch ARCH --weights WEIGHTS` on `io`'s input reproduces its logits.
fn infer_matches(arch: &str, weights: &std::path::Path, io: &std::path::Path) {
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
    let theirs: Tensor<2> = fixture(io, "logits", &device);
    let diff = max_abs_diff(ours, theirs);
    println!("resnet infer {arch}: max abs diff {diff:.2e}");
    assert!(diff <= 1e-3, "{arch}: {diff}");
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
        if let (Some(weights), Some(io)) = (shared(weights), shared(io)) {
            infer_matches(arch, &weights, &io);
        }
    }
}

/// A timm `ResNetV2` state_dict in a safetensors file (as timm publishes its weights), with
/// its network as a JSON config: the pre-activation layers of `resnetv2_18` at a quarter of
/// the width (crates/resnet-model/tests/fixtures/preact, made with timm).
#[test]
fn infer_runs_timm_resnetv2_weights() {
    use resnet::model::{BlockKind, ResNetConfig};
    let fixtures =
        resnet_testkit::workspace_root().join("crates/resnet-model/tests/fixtures/preact");
    let dir = tempfile::tempdir().unwrap();
    let config = ResNetConfig {
        stage_widths: vec![16, 32, 64, 128],
        ..ResNetConfig::preact_imagenet(BlockKind::Basic, [1, 1, 2, 1]).with_num_classes(10)
    };
    let arch = dir.path().join("resnetv2-quarter.json");
    std::fs::write(&arch, serde_json::to_string(&config).unwrap()).unwrap();
    infer_matches(
        arch.to_str().unwrap(),
        &fixtures.join("timm_resnetv2_basic_1121.safetensors"),
        &fixtures.join("timm_resnetv2_basic_1121_io.safetensors"),
    );
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

/// `resnet classify` as a new user runs it: the built-in weights on the committed photo, a
/// published checkpoint's file from `../shared` under its published name, a directory with an
/// undecodable file in it (reported, skipped, failure status), JSON for machines.
#[test]
fn classify_photos() {
    let cache = tempfile::tempdir().unwrap();
    let classify = |args: &[&std::ffi::OsStr]| {
        Command::new(env!("CARGO_BIN_EXE_resnet"))
            .arg("classify")
            .args(args)
            .env("RESNET_CACHE", cache.path())
            .env("TORCH_HOME", cache.path().join("torch"))
            .env_remove("BURN_DEVICE")
            .output()
            .expect("the resnet binary runs")
    };
    let photo =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/images/chelsea.jpg");
    let out = classify(&[photo.as_os_str()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{stdout}");
    assert_eq!(stdout.lines().count(), 6, "the path and the top 5");
    // The photo is of a cat, and the built-in ResNet-20 (the paper's full recipe) says so.
    let first = stdout.lines().nth(1).unwrap_or_default();
    assert!(first.ends_with(" cat"), "{stdout}");
    // Which weights answered, and their classes, in one line.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("weights: resnet20.cifar10-64k (10 classes: airplane, automobile"),
        "{stderr}"
    );
    // A path that is not there is said to be not there.
    let out = classify(&[std::ffi::OsStr::new("/nonexistent/photo.jpg")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("/nonexistent/photo.jpg: no such file"),
        "{stderr}"
    );

    let Some(images) = shared("fixtures/images") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for name in ["chelsea.jpg", "rocket.jpg"] {
        std::fs::copy(images.join(name), dir.path().join(name)).unwrap();
    }
    std::fs::write(dir.path().join("broken.png"), b"not a png").unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"not an image, not read").unwrap();
    let out = classify(&[
        "--json".as_ref(),
        "--top".as_ref(),
        "3".as_ref(),
        dir.path().as_os_str(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "an unreadable file fails the run");
    assert!(
        stderr.contains("broken.png") && stderr.contains("1 of 3"),
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let classified = report["images"].as_array().unwrap();
    assert_eq!(classified.len(), 2);
    for image in classified {
        let top = image["top"].as_array().unwrap();
        assert_eq!(top.len(), 3);
        let p: Vec<f64> = top
            .iter()
            .map(|t| t["probability"].as_f64().unwrap())
            .collect();
        assert!(p[0] >= p[1] && p[1] >= p[2] && p[0] <= 1.0, "{p:?}");
    }
    assert_eq!(report["skipped"].as_array().unwrap().len(), 1);

    // A published file under its published name needs no --arch.
    let Some(akamaster) = shared("weights/cifar10-akamaster/resnet20.th") else {
        return;
    };
    let published = dir.path().join("resnet20-12fca82f.th");
    std::fs::copy(akamaster, &published).unwrap();
    let chelsea = dir.path().join("chelsea.jpg");
    let out = classify(&[
        "--weights".as_ref(),
        published.as_os_str(),
        chelsea.as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{}", String::from_utf8_lossy(&out.stdout));
    // An unknown name is an error that says where the names are.
    let out = classify(&[
        "--weights".as_ref(),
        "resnet9000.nowhere".as_ref(),
        chelsea.as_os_str(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("resnet weights"),
        "{stderr}"
    );
}

#[test]
fn weights_lists_the_registry() {
    let out = resnet(&["weights", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let row = |name: &str| rows.iter().find(|r| r["name"] == name).unwrap();
    assert_eq!(row("resnet50.tv-in1k-v2")["params"], 25_557_032);
    assert_eq!(row("resnet50.tv-in1k-v2")["resize"], 232);
    assert_eq!(row("resnet18.tv-in1k")["resize"], 256);
    assert_eq!(row("resnet20.akamaster-cifar10")["crop"], 32);
    let out = resnet(&["weights"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("resnet152.tv-in1k-v2"), "{table}");
    // The built-in network, with the figures of the run it comes from.
    assert!(
        table.contains("resnet20.cifar10-64k: resnet20, trained by this project")
            && table.contains("64000 iterations of batch 128; docs/training/resnet20-64k")
            && table.contains("% CIFAR-10 test accuracy"),
        "{table}"
    );
}

/// Arguments are checked before the data is read: a batch of 0 and an `--out` that holds a
/// run are refused with data that does not exist (so never opened).
#[test]
fn train_arguments_are_checked_before_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let train = |arch: &str, extra: &[&str]| {
        let mut args = vec!["train", "--arch", arch, "--data", "/nonexistent/cifar"];
        args.extend(extra);
        let out = resnet(&args);
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = train("resnet20", &["--batch-size", "0"]);
    assert!(err.contains("--batch-size") && err.contains("0"), "{err}");
    let run = dir.path().join("run");
    std::fs::create_dir_all(run.join("checkpoint")).unwrap();
    std::fs::write(run.join("checkpoint/state.json"), "{}").unwrap();
    let err = train("resnet20", &["--out", run.to_str().unwrap()]);
    assert!(err.contains("already holds a run"), "{err}");
    assert!(
        !err.contains("/nonexistent"),
        "refused before the data: {err}"
    );
    let err = train("resnt20", &[]);
    assert!(err.contains("did you mean `resnet20`?"), "{err}");
}
