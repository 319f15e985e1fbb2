//! `resnet train` end to end on generated CIFAR data: resume after SIGKILL is bit-exact, a
//! diverging run stops with a clear error and keeps its checkpoint, and a run leaves its
//! files (config, metrics, checkpoint, final model, figures).

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{assert_same_run, check, checkpoint_iteration, resnet, train_args};
use resnet::kernels::algorithm;
use resnet::model::ResNetConfig;
use resnet::model::record::load_record_file;
use resnet::train::train::{read_metrics, read_sessions};
use resnet_testkit::cifar::write_cifar10;
use resnet_testkit::module_values;

/// Trains the network `extra` names on `data` twice into `dir`: once through (checking the
/// files a run leaves), once SIGKILLed after a checkpoint at iteration 12 or later and
/// resumed; both end bit-identical. Returns (the whole run, the resumed one).
fn killed_and_resumed(dir: &Path, data: &Path, extra: &str) -> (PathBuf, PathBuf) {
    let (whole, resumed) = (dir.join("whole"), dir.join("resumed"));
    check(
        resnet()
            .args(train_args(data, &whole, extra))
            .output()
            .unwrap(),
    );
    for file in [
        "run.json",
        "metrics.csv",
        "sessions.csv",
        "model.bpk",
        "curves.png",
        "curves.svg",
    ] {
        assert!(whole.join(file).is_file(), "{file} was written");
    }

    let mut child = resnet()
        .args(train_args(data, &resumed, extra))
        .spawn()
        .unwrap();
    let start = Instant::now();
    while checkpoint_iteration(&resumed).is_none_or(|i| i < 12) {
        assert!(start.elapsed() < Duration::from_secs(600), "no checkpoint");
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let killed_at = checkpoint_iteration(&resumed).unwrap();
    assert!(
        killed_at < 40,
        "killed mid-run (last checkpoint {killed_at})"
    );
    assert!(!resumed.join("model.bpk").exists(), "killed before the end");

    let args = ["train", "--quiet", "--resume", resumed.to_str().unwrap()];
    check(resnet().args(args).output().unwrap());

    let (_, ma) = assert_same_run(&whole, &resumed, &format!("resumed from {killed_at}"));
    assert_eq!(ma.len(), 4);
    // Each start and resume is a row of sessions.csv: where it began, on what.
    let began = |run: &Path| -> Vec<u64> {
        let sessions = read_sessions(run).unwrap();
        for s in &sessions {
            assert_eq!(s.conv, algorithm::current().name(), "{s:?}");
            assert!(s.threads >= 1 && s.device.contains("Flex"), "{s:?}");
            assert!(
                s.started_utc.ends_with('Z') && s.started_utc.len() == 20,
                "{s:?}"
            );
        }
        sessions.iter().map(|s| s.iteration).collect()
    };
    assert_eq!(began(&whole), [0]);
    assert_eq!(began(&resumed), [0, killed_at]);
    println!("{extra}: resumed from iteration {killed_at} of 40: final weights identical");
    (whole, resumed)
}

#[test]
fn resume_after_kill_equals_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_cifar10(dir.path(), 64, 40);
    let (whole, resumed) = killed_and_resumed(dir.path(), &data, "");

    // A run's directory is what `eval` takes: its model, data, split and normalisation.
    let eval = check(resnet().arg("eval").arg(&whole).output().unwrap());
    let stdout = String::from_utf8_lossy(&eval.stdout);
    assert!(stdout.contains("top-1 error"), "{stdout}");
    let stderr = String::from_utf8_lossy(&eval.stderr);
    assert!(
        !stderr.contains("normalised"),
        "a run's record says: {stderr}"
    );
    // `analyze` too: the run's data, and the run's name in the legend.
    let responses = dir.path().join("responses");
    let analyze = resnet()
        .args(["analyze", "responses", "--images", "20", "--weights"])
        .arg(&whole)
        .arg("--out")
        .arg(&responses)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&check(analyze).stdout).into_owned();
    assert!(
        stdout.contains("whole:"),
        "labelled by the run directory: {stdout}"
    );

    // Both runs overlaid, as `resnet plot` draws them.
    let stem = dir.path().join("overlay");
    let plot = [
        "plot",
        whole.to_str().unwrap(),
        resumed.to_str().unwrap(),
        "--out",
    ];
    check(resnet().args(plot).arg(&stem).output().unwrap());
    let svg = std::fs::read_to_string(stem.with_extension("svg")).unwrap();
    assert!(
        svg.contains("<svg") && svg.contains("iterations"),
        "an SVG with axes"
    );
    let png = std::fs::read(stem.with_extension("png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG file");
    // Zoomed as the paper's Fig. 6; a top that is no percentage is refused.
    let zoom = dir.path().join("zoom");
    check(
        resnet()
            .args(plot)
            .arg(&zoom)
            .args(["--y-max", "20"])
            .output()
            .unwrap(),
    );
    assert!(zoom.with_extension("png").is_file());
    let bad = resnet()
        .args(plot)
        .arg(&stem)
        .args(["--y-max", "0"])
        .output()
        .unwrap();
    let message = String::from_utf8_lossy(&bad.stderr);
    assert!(
        !bad.status.success() && message.contains("not a percentage"),
        "{message}"
    );

    // The finished run lengthened to 50 iterations: its schedule stays, run.json says 50.
    let whole_arg = whole.to_str().unwrap();
    let args = [
        "train",
        "--quiet",
        "--resume",
        whole_arg,
        "--iterations",
        "50",
    ];
    let longer = check(resnet().args(args).output().unwrap());
    let stderr = String::from_utf8_lossy(&longer.stderr);
    assert!(
        stderr.contains("lengthening the run from 40 to 50"),
        "{stderr}"
    );
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(whole.join("run.json")).unwrap()).unwrap();
    assert_eq!(config["recipe"]["iterations"], 50, "{config}");
    let rows = read_metrics(&whole.join("metrics.csv")).unwrap();
    assert_eq!(rows.last().unwrap().iteration, 50);
    let shorter = [
        "train",
        "--quiet",
        "--resume",
        whole_arg,
        "--iterations",
        "45",
    ];
    let refused = resnet().args(shorter).output().unwrap();
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && message.contains("not shortened"),
        "{message}"
    );
}

/// A pre-activation network (He et al. 2016) trains and resumes bit-exactly as the paper's do.
#[test]
fn preact_run_resumes_bit_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_cifar10(dir.path(), 64, 40);
    let (whole, _) = killed_and_resumed(dir.path(), &data, "--arch preact-resnet20");
    let model = load_record_file(whole.join("model.bpk"), &burn::tensor::Device::flex()).unwrap();
    assert_eq!(model.config().block, resnet::model::BlockKind::PreActBasic);
}

/// Ctrl-C (SIGINT) mid-run: the step finishes, a checkpoint is written, the process says how
/// to resume and exits non-zero; resumed, the run ends as an uninterrupted one does.
#[test]
fn ctrl_c_writes_a_checkpoint_and_says_how_to_resume() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_cifar10(dir.path(), 64, 40);
    let (whole, run) = (dir.path().join("whole"), dir.path().join("run"));
    // No checkpoint before the end but the one the interrupt writes.
    let extra = "--checkpoint-every 40 --eval-every 5";
    check(
        resnet()
            .args(train_args(&data, &whole, extra))
            .output()
            .unwrap(),
    );
    let child = resnet()
        .args(train_args(&data, &run, extra))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !run.join("metrics.csv").exists() {
        assert!(start.elapsed() < Duration::from_secs(600), "no evaluation");
        std::thread::sleep(Duration::from_millis(10));
    }
    let pid = child.id().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status();
    assert!(kill.unwrap().success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "an interrupted run fails: {stderr}"
    );
    assert!(
        stderr.contains("interrupted at iteration") && stderr.contains("resnet train --resume"),
        "{stderr}"
    );
    let at = checkpoint_iteration(&run).expect("the interrupt wrote a checkpoint");
    assert!((5..40).contains(&at), "checkpoint at {at}");
    let args = ["train", "--quiet", "--resume", run.to_str().unwrap()];
    check(resnet().args(args).output().unwrap());
    assert_same_run(&whole, &run, &format!("interrupted at {at}"));
    println!("Ctrl-C at iteration {at}: checkpoint written, resumed to the same weights");
}

/// Fine-tuning published CIFAR-10 weights: a rate for trained weights, the weights' score
/// before the first step, and a note that the held-out images were among their training data.
#[test]
fn fine_tuning_starts_gently_and_says_where_it_starts() {
    let Some(weights) = common::shared("weights/cifar10-akamaster/resnet20.th") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = write_cifar10(dir.path(), 64, 40);
    let out = dir.path().join("run");
    let args = [
        "train",
        "--log-lines",
        "--iterations",
        "2",
        "--held-out",
        "32",
    ];
    let output = check(
        resnet()
            .args(args)
            .arg("--init")
            .arg(&weights)
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    for said in [
        "fine-tuning at a base learning rate of 0.001",
        "trained on all of CIFAR-10's training images",
        "iter 0 (the weights as given) val err",
    ] {
        assert!(stderr.contains(said), "`{said}` in {stderr}");
    }
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(config["recipe"]["lr"], 0.001, "{config}");
}

#[test]
fn a_diverging_run_stops_and_keeps_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_cifar10(dir.path(), 64, 40);
    let out = dir.path().join("run");
    let args = train_args(&data, &out, "--lr 1e12 --checkpoint-every 1");
    let output = resnet().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a run with lr 1e12 must fail");
    assert!(stderr.contains("the training loss became"), "{stderr}");
    assert!(out.join("checkpoint/state.json").is_file(), "{stderr}");
    assert!(!out.join("model.bpk").exists());
    println!("{}", stderr.trim());

    // As the message advises: continue from the checkpoint with a lower rate, kept in run.json
    // for later resumes (whether this checkpoint can still be rescued is the run's matter).
    let output = resnet()
        .args(["train", "--quiet", "--lr", "0.01", "--resume"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("from 1000000000000 to 0.01"), "{stderr}");
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(config["recipe"]["lr"], 0.01, "{config}");
}

#[test]
fn bad_training_configs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_cifar10(dir.path(), 8, 4);
    let out = dir.path().join("run");
    let refused = |extra: &str, message: &str| {
        let output = resnet()
            .args(train_args(&data, &out, extra))
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{stderr}");
    };
    refused("--batch-size 0", "`0` is not a whole number of at least 1");
    // 40 images, 32 held out: 8 left, no batch of 16.
    refused("--batch-size 16", "8 training images make no batch of 16");
    // CIFAR data with the ImageNet recipe: refused before it is read.
    refused(
        "--recipe imagenet",
        "the recipe is for class-folder (ImageNet) data",
    );

    let resume = ["train", "--resume", out.to_str().unwrap()];
    let output = resnet().args(resume).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot resume"));

    // A run resumes on its own data only (the data order depends on the image count).
    let args = "--iterations 2 --batch-size 8 --held-out 8 --eval-every 2 --checkpoint-every 2";
    check(
        resnet()
            .args(train_args(&data, &out, args))
            .output()
            .unwrap(),
    );
    let other = write_cifar10(&dir.path().join("other"), 16, 4);
    let output = resnet()
        .args([
            "train",
            "--resume",
            out.to_str().unwrap(),
            "--data",
            other.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("the run was started on 32"), "{stderr}");
}

#[test]
fn analyze_responses_of_the_public_checkpoints() {
    let (Some(data), Some(weights)) = (
        resnet_testkit::shared("data/cifar10/cifar-10-binary.tar.gz"),
        resnet_testkit::shared("weights/cifar10-akamaster"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("responses");
    let output = check(
        resnet()
            .args([
                "analyze",
                "responses",
                "--arch",
                "resnet20",
                "resnet32",
                "--weights",
            ])
            .args([weights.join("resnet20.th"), weights.join("resnet32.th")])
            .arg("--data")
            .arg(&data)
            .args(["--images", "200", "--mean", "0.485,0.456,0.406"])
            .args(["--std", "0.229,0.224,0.225", "--out"])
            .arg(&out)
            .output()
            .unwrap(),
    );
    let csv = std::fs::read_to_string(out.with_extension("csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let layers = |model: &str| rows.iter().filter(|r| r[0] == model).count();
    // 3x3 layers: the first conv and two per basic block.
    assert_eq!((layers("resnet20"), layers("resnet32")), (19, 31));
    let mean = |model: &str| {
        let stds: Vec<f64> = rows
            .iter()
            .filter(|r| r[0] == model)
            .map(|r| r[3].parse().unwrap())
            .collect();
        stds.iter().sum::<f64>() / stds.len() as f64
    };
    assert!(rows.iter().all(|r| r[3].parse::<f64>().unwrap() > 0.0));
    // Fig. 7: the deeper residual network responds less.
    assert!(mean("resnet32") < mean("resnet20"), "{csv}");
    assert!(out.with_extension("png").is_file() && out.with_extension("svg").is_file());
    print!("{}", String::from_utf8_lossy(&output.stdout));
}

/// The ImageNet path end to end on the shared 32x32 class-folder sample, upscaled by the
/// pipeline (scale augmentation to [256, 480], 224 crops): ResNet-18 trains a few iterations,
/// then its record is evaluated with 10-crop testing (one image per class).
#[test]
fn imagenet_path_on_the_folder_sample() {
    let Some(sample) = resnet_testkit::shared("data/cifar10-imagefolder-sample") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let args = "train --arch resnet18 --iterations 2 --batch-size 4 --held-out 10 --quiet";
    check(
        resnet()
            .args(args.split_whitespace())
            .arg("--data")
            .arg(&sample)
            .arg("--out")
            .arg(&run)
            .output()
            .unwrap(),
    );
    let rows = read_metrics(&run.join("metrics.csv")).unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].val_error.is_some() && rows[0].val_top5_error.is_some());

    let few = dir.path().join("few");
    for class in std::fs::read_dir(&sample).unwrap() {
        let class = class.unwrap().path();
        let mut images: Vec<_> = std::fs::read_dir(&class)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        images.sort();
        let target = few.join(class.file_name().unwrap());
        std::fs::create_dir_all(&target).unwrap();
        std::fs::copy(&images[0], target.join(images[0].file_name().unwrap())).unwrap();
    }
    let output = check(
        resnet()
            .args(["eval", "--tta", "10crop", "--json", "--weights"])
            .arg(run.join("model.bpk"))
            .arg("--data")
            .arg(&few)
            .output()
            .unwrap(),
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["total"], 10, "{report}");
    println!(
        "resnet18, 2 iterations: 10-crop top-1 error {}",
        report["top1_error"]
    );
}

/// `--zero-init-residual` is part of the run's network (run.json and the final record), and
/// a resumed run keeps its network: the flag does not go with `--resume`.
#[test]
fn zero_init_residual_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_cifar10(dir.path(), 8, 4);
    let out = dir.path().join("run");
    let args = "--zero-init-residual --iterations 2 --batch-size 8 --held-out 8 --eval-every 2";
    check(
        resnet()
            .args(train_args(&data, &out, args))
            .output()
            .unwrap(),
    );
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["network"]["zero_init_residual"], true, "{run}");
    let stored = resnet::model::record::record_config(out.join("model.bpk"))
        .unwrap()
        .unwrap();
    assert!(stored.zero_init_residual);
    let output = resnet()
        .args([
            "train",
            "--resume",
            out.to_str().unwrap(),
            "--zero-init-residual",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot be used with"));
}

/// `--plain` trains the network without shortcuts under its plain name, one that `--arch`
/// accepts again (`cifar-plain8`, not `cifar-resnet8-plain`).
#[test]
fn plain_counterpart_is_named_and_has_no_shortcuts() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_cifar10(dir.path(), 8, 4);
    for (arch, plain) in [("resnet20", "plain20"), ("cifar-resnet8", "cifar-plain8")] {
        let out = dir.path().join(arch);
        let args = format!(
            "--arch {arch} --plain --iterations 1 --batch-size 8 --held-out 8 --eval-every 1"
        );
        check(
            resnet()
                .args(train_args(&data, &out, &args))
                .output()
                .unwrap(),
        );
        let run: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
        assert_eq!(run["arch"], plain, "{run}");
        let stored = resnet::model::record::record_config(out.join("model.bpk"))
            .unwrap()
            .unwrap();
        assert_eq!(stored.shortcut, resnet::model::ShortcutOption::Plain);
    }
}

/// The library's `Run::resume` takes a changed recipe (e.g. a lower rate) but not another
/// seed or batch size: they decide which images are held out and the data order.
#[test]
fn resume_refuses_another_seed_or_batch_size() {
    use resnet::train::train::{Run, RunConfig, Silent, TrainingData};
    let dir = tempfile::tempdir().unwrap();
    let data = write_cifar10(dir.path(), 8, 4);
    let out = dir.path().join("run");
    let args = "--iterations 4 --batch-size 8 --held-out 8 --eval-every 2";
    check(
        resnet()
            .args(train_args(&data, &out, args))
            .output()
            .unwrap(),
    );
    let stored = Run::read_config(&out).unwrap();
    for change in ["seed", "batch size"] {
        let mut recipe = stored.recipe.clone();
        match change {
            "seed" => recipe.seed += 1,
            _ => recipe.batch_size = 4,
        }
        let training = TrainingData::open(&data, recipe.held_out, recipe.seed).unwrap();
        let source = data.display().to_string();
        let network = stored.network.clone();
        let run = Run {
            config: RunConfig::new(&stored.arch, network, recipe, &training, source).unwrap(),
            data: &training,
            dir: out.clone(),
            device: burn::tensor::Device::flex(),
            eval_batch_size: 8,
            observer: &Silent,
        };
        let err = run.resume().unwrap_err().to_string();
        assert!(err.contains("seed or batch size"), "{change}: {err}");
    }
}

/// Fine-tuning torchvision's ResNet-18 layout (the shared fixture's weights) on the shared
/// 10-class folder sample, the stem and the first two stages frozen: those tensors, BN's
/// running statistics included, are bit-identical afterwards; the other stages moved; the
/// classifier is new (10 classes instead of 1000); the run resumes frozen.
#[test]
fn fine_tuning_from_torchvision_weights_trains_only_what_is_not_frozen() {
    let (Some(sample), Some(weights)) = (
        resnet_testkit::shared("data/cifar10-imagefolder-sample"),
        resnet_testkit::shared("fixtures/torchvision/resnet18.pth"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let args = "train --arch resnet18 --freeze-stages 2 --iterations 2 --batch-size 4 \
                --held-out 10 --quiet";
    check(
        resnet()
            .args(args.split_whitespace())
            .arg("--init")
            .arg(&weights)
            .arg("--data")
            .arg(&sample)
            .arg("--out")
            .arg(&run)
            .output()
            .unwrap(),
    );
    let device = burn::tensor::Device::flex();
    let before = (resnet::model::zoo::config_for("resnet18").unwrap())
        .init(&device)
        .unwrap()
        .load_weights(&weights)
        .unwrap();
    let after = load_record_file(run.join("model.bpk"), &device).unwrap();
    assert_eq!(after.config().num_classes, 10);
    assert_eq!(
        module_values(&before.stem),
        module_values(&after.stem),
        "stem frozen"
    );
    for stage in 0..4 {
        let same = module_values(&before.stages[stage]) == module_values(&after.stages[stage]);
        assert_eq!(
            same,
            stage < 2,
            "stage {stage}: frozen iff among the first two"
        );
    }
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("run.json")).unwrap()).unwrap();
    assert_eq!(config["freeze_stages"], 2);
    assert!(
        config["init"]["path"]
            .as_str()
            .unwrap()
            .ends_with("resnet18.pth")
    );
    // The inputs were normalised as torchvision's weights expect.
    assert_eq!(
        config["normalization"]["mean"][0].as_f64().unwrap() as f32,
        0.485
    );
}

/// The network of a run of `extra` killed and resumed in a directory of its own under `dir`
/// (final weights bit-identical to the uninterrupted run's: [`killed_and_resumed`]).
fn resumed_network(dir: &Path, data: &Path, extra: &str) -> ResNetConfig {
    let own = dir.join(extra.replace([' ', '-', '.'], "_"));
    std::fs::create_dir(&own).unwrap();
    let (whole, _) = killed_and_resumed(&own, data, extra);
    let model = load_record_file(whole.join("model.bpk"), &burn::tensor::Device::flex()).unwrap();
    model.config().clone()
}

/// `resnet train` with `extra` on a plain network fails and says it has no shortcut.
fn refused_on_plain(dir: &Path, data: &Path, extra: &str) {
    let args = train_args(data, &dir.join("plain"), &format!("--plain {extra}"));
    let out = resnet().args(args).output().unwrap();
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && message.contains("no shortcut"),
        "{message}"
    );
}

/// A Wide ResNet with dropout (WRN-10-1, dropout 0.3, the WRN paper's placement) and a ResNeXt
/// (grouped convolutions) train and resume bit-exactly: dropout's masks are drawn from a
/// generator seeded at every step.
#[test]
fn wide_and_grouped_runs_resume_bit_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_cifar10(dir.path(), 64, 40);
    let wide = resumed_network(dir.path(), &data, "--arch wrn-10-1 --dropout 0.3");
    assert_eq!(wide.dropout, 0.3);
    let grouped = resumed_network(dir.path(), &data, "--arch cifar-resnext11_4x4d");
    assert_eq!(grouped.cardinality, 4);
}

/// Stochastic depth (p_L = 0.5) trains and resumes bit-exactly: the blocks a step skips are
/// drawn from a generator seeded at every step; the run's config records it. A plain network
/// refuses it.
#[test]
fn stochastic_depth_run_resumes_bit_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_cifar10(dir.path(), 64, 40);
    let network = resumed_network(dir.path(), &data, "--stochastic-depth 0.5");
    assert_eq!(network.stochastic_depth, Some(0.5));
    refused_on_plain(dir.path(), &data, "--stochastic-depth 0.5");
}

/// A Highway-gated network trains and resumes bit-exactly; `--gate-bias` gates any residual
/// network, and a plain one refuses it.
#[test]
fn gated_run_resumes_bit_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_cifar10(dir.path(), 64, 40);
    let network = resumed_network(dir.path(), &data, "--arch highway20 --gate-bias -3");
    assert_eq!(network.gate_bias, Some(-3.0));
    refused_on_plain(dir.path(), &data, "--gate-bias -2");
}
