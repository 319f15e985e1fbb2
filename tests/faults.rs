//! Faults a long run meets, survived: SIGKILL at seeded random moments (during checkpoint and
//! record writes too), and writes that fail (a file-size limit, as a full disk does). After
//! each, the run directory is one that `--resume`, `eval` and `plot` read correctly, and the
//! resumed run ends bit-identical to an uninterrupted one.
//! `FAULT_KILLS=N` sets the number of kills (default 20).

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use common::{assert_same_run, check, checkpoint_iteration, resnet, train_args};
use resnet_testkit::cifar::write_cifar10;
use resnet_testkit::fuzz::Rng;

/// Checkpoints every 2 of the 40 iterations: kills land in checkpoint writes often.
const EXTRA: &str = "--checkpoint-every 2";

/// Where a killed run was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Moment {
    /// Starting, training or evaluating.
    Running,
    /// Writing a checkpoint (`checkpoint.tmp` present).
    CheckpointWrite,
    /// Writing the final record (its scratch file present).
    FinalRecordWrite,
}

/// Where the process writing `run` is, judged by the scratch files it has made since `since`
/// (a killed process leaves its own behind; those are not a write in progress).
fn moment(run: &Path, since: SystemTime) -> Moment {
    let names: Vec<String> = std::fs::read_dir(run)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| {
                    e.metadata()
                        .and_then(|m| m.modified())
                        .is_ok_and(|t| t >= since)
                })
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    if names
        .iter()
        .any(|n| n.starts_with("model.bpk.") && n.ends_with(".tmp"))
    {
        Moment::FinalRecordWrite
    } else if names.iter().any(|n| n == "checkpoint.tmp") {
        Moment::CheckpointWrite
    } else {
        Moment::Running
    }
}

/// No Rust panic (exit status 101, "panicked" on stderr) in a command's output.
fn no_panic(output: &std::process::Output, what: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.code() != Some(101) && !stderr.contains("panicked"),
        "{what} panicked: {stderr}"
    );
}

/// What a user does next with a killed run's directory is read correctly: a final record that
/// exists is whole and evaluates; `plot` draws the metrics or refuses them with an error.
fn directory_reads_correctly(run: &Path, data: &Path) {
    if run.join("model.bpk").exists() {
        let eval = resnet()
            .args(["eval", "--weights"])
            .arg(run.join("model.bpk"))
            .arg("--data")
            .arg(data)
            .output()
            .unwrap();
        check(eval);
    }
    if run.join("metrics.csv").exists() {
        let plot = resnet()
            .arg("plot")
            .arg(run)
            .arg("--out")
            .arg(run.with_extension("plot"))
            .output()
            .unwrap();
        no_panic(&plot, "plot");
    }
}

/// The run's next process: a resume when it has a `run.json`, else the same start again (a
/// kill before the run was written leaves nothing to resume).
fn next_process(data: &Path, run: &Path) -> Child {
    let mut command = resnet();
    if run.join("run.json").exists() {
        command.args(["train", "--quiet", "--resume"]).arg(run);
    } else {
        command.args(train_args(data, run, EXTRA));
    }
    command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn killed_anywhere_the_resumed_run_equals_the_uninterrupted_one() {
    let kills: usize = std::env::var("FAULT_KILLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let data = write_cifar10(dir.path(), 64, 40);
    let (whole, killed) = (dir.path().join("whole"), dir.path().join("killed"));
    let start = Instant::now();
    check(
        resnet()
            .args(train_args(&data, &whole, EXTRA))
            .output()
            .unwrap(),
    );
    let length = start.elapsed();

    let mut rng = Rng::new(21);
    let mut moments = std::collections::BTreeMap::new();
    let mut done = 0;
    while done < kills {
        let mut child = next_process(&data, &killed);
        // Half the kills at a random moment of the run's length, a quarter as soon as a
        // checkpoint is being written, a quarter in the final record's write.
        let wanted = match rng.below(4) {
            0 | 1 => None,
            2 => Some(Moment::CheckpointWrite),
            _ => Some(Moment::FinalRecordWrite),
        };
        let at = length.mul_f64(rng.below(1000) as f64 / 1000.0);
        // File times come from a coarse clock (a few ms behind): a little slack.
        let since = SystemTime::now() - Duration::from_millis(20);
        let spawned = Instant::now();
        let mut finished = false;
        loop {
            if child.try_wait().unwrap().is_some() {
                finished = true;
                break;
            }
            let now = moment(&killed, since);
            let due = match wanted {
                None => spawned.elapsed() >= at,
                Some(m) => now == m,
            };
            if due {
                break;
            }
            assert!(
                spawned.elapsed() < Duration::from_secs(600),
                "the run hangs"
            );
            std::thread::sleep(Duration::from_micros(200));
        }
        if finished {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            if killed.join("model.bpk").exists() {
                // The run ended before this kill: start it again from nothing, so that every
                // kill interrupts something.
                std::fs::remove_dir_all(&killed).unwrap();
            }
            continue;
        }
        let at_kill = moment(&killed, since);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        *moments.entry(at_kill).or_insert(0) += 1;
        done += 1;
        directory_reads_correctly(&killed, &data);
    }
    // The last resume runs to the end, through the lock the killed process held.
    while !killed.join("model.bpk").exists() {
        let output = next_process(&data, &killed).wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert_same_run(&whole, &killed, "after the kills");
    // What the killed processes were writing is gone: each resume clears it under the lock.
    no_partial_files(&killed);
    println!(
        "{done} kills survived ({moments:?}); the resumed run equals the uninterrupted one bit \
         for bit; checkpoint at {:?}",
        checkpoint_iteration(&killed)
    );
    assert!(
        moments.contains_key(&Moment::CheckpointWrite),
        "some kills landed in a checkpoint write: {moments:?}"
    );
    assert!(
        moments.contains_key(&Moment::FinalRecordWrite),
        "some kills landed in the final record's write: {moments:?}"
    );
}

/// `resnet ...` under a file-size limit of `kib` KiB, SIGXFSZ ignored: a write past the limit
/// fails with EFBIG, as on a full disk, instead of killing the process.
fn limited(kib: u64, args: &[String]) -> std::process::Output {
    let program = env!("CARGO_BIN_EXE_resnet");
    Command::new("bash")
        .arg("-c")
        .arg(format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" \"$@\""))
        .arg(program)
        .args(args)
        .env("BURN_DEVICE", "flex")
        .output()
        .unwrap()
}

/// No half-written file: no scratch file of a write is left in the run directory.
fn no_partial_files(run: &Path) {
    for entry in walk(run) {
        let name = entry.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !name.ends_with(".partial") && !name.ends_with(".tmp"),
            "a half-written file is left: {}",
            entry.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

#[test]
fn failed_writes_are_clear_errors_and_keep_the_last_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_cifar10(dir.path(), 64, 40);
    let (whole, run) = (dir.path().join("whole"), dir.path().join("run"));
    check(
        resnet()
            .args(train_args(&data, &whole, ""))
            .output()
            .unwrap(),
    );

    // Nothing fits (1 KiB): the run refuses to start, with the error, leaving no partial file.
    let tiny = dir.path().join("tiny");
    let output = limited(1, &train_args(&data, &tiny, ""));
    no_panic(&output, "a run at 1 KiB");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("File too large"),
        "{stderr}"
    );
    no_partial_files(&tiny);

    // A run with checkpoints, then resumed where a checkpoint (1.1 MB of weights) no longer
    // fits in 512 KiB: the write fails with a clear error, the checkpoint before it stays.
    let mut child = resnet().args(train_args(&data, &run, "")).spawn().unwrap();
    while checkpoint_iteration(&run).is_none_or(|i| i < 8) {
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let kept = checkpoint_iteration(&run).unwrap();
    let resume: Vec<String> = ["train", "--quiet", "--resume", run.to_str().unwrap()]
        .map(String::from)
        .to_vec();
    let output = limited(512, &resume);
    no_panic(&output, "a resume at 512 KiB");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the write failed");
    assert!(stderr.contains("File too large"), "{stderr}");
    assert_eq!(
        checkpoint_iteration(&run),
        Some(kept),
        "the last checkpoint is kept"
    );
    assert!(!run.join("model.bpk").exists());
    println!("write failure at 512 KiB: {}", stderr.trim());

    // Room again: the run resumes from that checkpoint and ends as the uninterrupted one.
    check(resnet().args(&resume).output().unwrap());
    assert_same_run(&whole, &run, "after a failed checkpoint write");
    no_partial_files(&run);
}
