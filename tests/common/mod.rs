//! Helpers shared by the integration tests.
#![allow(dead_code, unused_imports)] // each test binary uses its own subset

pub use resnet_testkit::{max_abs_diff, shared};

use std::path::Path;
use std::process::{Command, Output};

use burn::tensor::{Device, Tensor};
use resnet::model::record::load_record_file;
use resnet::train::train::{MetricsRow, read_metrics};
use resnet_testkit::module_values;

/// Reads tensor `name` of a safetensors fixture.
pub fn fixture<const D: usize>(path: &Path, name: &str, device: &Device) -> Tensor<D> {
    resnet::train::tensor_file::read_tensor(path, name, device)
        .unwrap_or_else(|e| panic!("fixture: {e}"))
}

/// The `resnet` program of this build, on flex.
pub fn resnet() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_resnet"));
    command.env("BURN_DEVICE", "flex");
    command
}

/// A short ResNet-20 run on 5 x 64 generated images: 18 batches of 16 per epoch, so 40
/// iterations cross two epoch boundaries. `extra` flags come first and replace the defaults
/// they name (`--arch` too).
pub fn train_args(data: &Path, out: &Path, extra: &str) -> Vec<String> {
    let defaults = [
        ("--arch", "resnet20"),
        ("--iterations", "40"),
        ("--batch-size", "16"),
        ("--eval-every", "10"),
        ("--checkpoint-every", "4"),
        ("--held-out", "32"),
        ("--seed", "7"),
    ];
    let mut v: Vec<String> = ["train", "--quiet"]
        .into_iter()
        .chain(extra.split_whitespace())
        .map(String::from)
        .collect();
    for (flag, value) in defaults {
        if !extra.contains(flag) {
            v.extend([flag.to_string(), value.to_string()]);
        }
    }
    v.extend(["--data".into(), data.display().to_string()]);
    v.extend(["--out".into(), out.display().to_string()]);
    v
}

/// `output` of a run that must have succeeded (else its stderr is shown).
pub fn check(output: Output) -> Output {
    assert!(
        output.status.success(),
        "resnet failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The iteration of a run directory's current checkpoint, if it has one.
pub fn checkpoint_iteration(run: &Path) -> Option<u64> {
    let state = std::fs::read(run.join("checkpoint/state.json")).ok()?;
    let state: serde_json::Value = serde_json::from_slice(&state).ok()?;
    state["iteration"].as_u64()
}

/// Asserts that two finished runs are the same run: final weights equal bit for bit (BN's
/// running statistics included) and the same metrics rows (timings aside). `context` names
/// the comparison in a failure. Returns both runs' metrics.
pub fn assert_same_run(a: &Path, b: &Path, context: &str) -> (Vec<MetricsRow>, Vec<MetricsRow>) {
    let device = Device::flex();
    let load =
        |run: &Path| module_values(&load_record_file(run.join("model.bpk"), &device).unwrap());
    let (wa, wb) = (load(a), load(b));
    assert_eq!(wa.len(), wb.len());
    for (i, (ta, tb)) in wa.iter().zip(&wb).enumerate() {
        // Bit for bit: compare the bit patterns, not the values with a tolerance.
        let bits = |t: &(Vec<usize>, Vec<f32>)| t.1.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert!(
            ta.0 == tb.0 && bits(ta) == bits(tb),
            "tensor {i} differs ({context})"
        );
    }
    let (ma, mb) = (
        read_metrics(&a.join("metrics.csv")).unwrap(),
        read_metrics(&b.join("metrics.csv")).unwrap(),
    );
    let key = |m: &[MetricsRow]| {
        (m.iter())
            .map(|r| {
                (
                    r.iteration,
                    r.lr,
                    r.train_loss,
                    r.train_error,
                    r.val_error,
                    r.test_error,
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(key(&ma), key(&mb), "metrics differ ({context})");
    (ma, mb)
}
