//! `cargo xtask bench [--vs-pytorch]`: the backend benchmarks (benches/backends.rs), with
//! PyTorch's figures for the same workloads (benches/pytorch_reference.py) measured
//! interleaved with flex's, written to docs/benchmarks.md, docs/benchmarks.json and a bar
//! chart (docs/benchmarks.{png,svg}).
//!
//! # Method
//! Every measurement is a process of its own (its peak memory is its own, and nothing is left
//! over from the one before): the benchmark program's `--one BACKEND WORKLOAD`, or the Python
//! script's `--one THREADS SPEC`, which follow the same protocol (2 warm-up steps, then the
//! median of at least 10 steps and 10 seconds). Per workload, flex and PyTorch alternate for
//! `--rounds` rounds (flex, PyTorch, flex, PyTorch, ...), so that both sides see the same
//! machine; PyTorch's round measures each of its configurations in turn (eager,
//! `channels_last`, `torch.compile`) and the ratio is against the best of them. The other
//! compiled backends are measured once, after them, each stopped after [`OTHER_LIMIT`] (its
//! cell then says so). Reported per workload:
//! each side's median over the rounds, the ratio of the medians and the range of the
//! per-round ratios.
//!
//! # When no ratio is reported
//! This machine's speed drifts, and a busy machine slows whichever side runs while it is busy.
//! Before each measurement the CPU time used by other processes is sampled over one second
//! ([`BUSY_CORES`]); a measurement that had to start on a busy machine (after waiting up to a
//! minute for it to settle) marks its round, and a workload with a busy round gets no ratio.
//! A workload whose per-round ratios spread more than [`MAX_SPREAD`] (max / min) gets none
//! either: its cell says `unstable`.
//!
//! # A run in pieces
//! A whole run takes hours (every workload, PyTorch's three configurations, three rounds, the
//! slow backends), and needs the machine to itself. After each workload the results so far are
//! written to [`PARTIAL`] (atomically); `--resume` continues such a run where it stopped, on the
//! same processor and with the same options (it refuses otherwise), keeping the workloads it
//! has and their SGEMM ceiling, and the report lists the dates it was measured on. A finished
//! run deletes the file. Each workload's ratio is measured interleaved within one piece.

mod chart;
mod machine;
mod report;
mod stats;

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use serde_json::{Value, json};

use crate::{cargo_command, root, write_atomically};
use chart::chart;
use machine::{cpu_model, settle, today};
use report::markdown;

/// Other processes' CPU use, in cores, above which the machine counts as busy.
pub const BUSY_CORES: f64 = 0.35;
/// The largest max / min of a workload's per-round ratios for which a ratio is reported.
pub const MAX_SPREAD: f64 = 1.20;
/// How long to wait for a busy machine to settle before measuring anyway (and marking it).
const SETTLE: Duration = Duration::from_secs(60);
/// The longest one measurement of another backend (ndarray, wgpu) may run, building its network
/// and its first step included: past it the process is stopped and its cell says so. (The
/// benchmark cuts a backend short after one warm-up step over a minute, but cannot cut that
/// step: wgpu's ResNet-50 training step on lavapipe had not finished after 17 minutes.)
pub const OTHER_LIMIT: Duration = Duration::from_secs(600);

/// What `cargo xtask bench` was asked for.
pub struct Options {
    /// Cargo features (backends) to compile in besides flex.
    pub features: String,
    /// Only the workloads whose name contains this text (report printed, docs left alone).
    pub only: Option<String>,
    /// Measure PyTorch too, interleaved with flex.
    pub vs_pytorch: bool,
    /// PyTorch's configurations to measure (benches/pytorch_reference.py's `CONFIGS`).
    pub torch_configs: Vec<String>,
    /// Rounds of flex and PyTorch per workload.
    pub rounds: usize,
    /// Threads for both sides (rayon's and torch's).
    pub threads: usize,
    /// The Python interpreter with torch.
    pub python: String,
    /// Rewrite the report from docs/benchmarks.json without measuring.
    pub report_only: bool,
    /// Continue the unfinished run in [`PARTIAL`].
    pub resume: bool,
}

/// Where an unfinished whole run keeps its results (relative to the workspace root).
pub const PARTIAL: &str = "docs/benchmarks.partial.json";

pub fn run(options: &Options) -> anyhow::Result<()> {
    let root = root();
    let docs = root.join("docs");
    let json_path = docs.join("benchmarks.json");
    let results = if options.report_only {
        let text = std::fs::read_to_string(&json_path)
            .with_context(|| format!("reading {}", json_path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", json_path.display()))?
    } else {
        measure_all(options)?
    };
    let md = markdown(&results)?;
    if options.only.is_some() {
        print!("{md}");
        eprintln!("--only: docs/benchmarks.md left as it was");
        return Ok(());
    }
    print!("{md}");
    std::fs::create_dir_all(&docs)?;
    let path = docs.join("benchmarks.md");
    // Hand-written notes below the marker survive regeneration.
    let notes = std::fs::read_to_string(&path)
        .ok()
        .and_then(|old| old.find(NOTES_MARKER).map(|at| old[at..].to_string()));
    let mut text = md;
    if let Some(notes) = notes {
        text.push('\n');
        text.push_str(&notes);
    }
    write_atomically(&path, &text)?;
    if !options.report_only {
        write_atomically(
            &json_path,
            &(serde_json::to_string_pretty(&results)? + "\n"),
        )?;
        let partial = root.join(PARTIAL);
        if partial.exists() {
            std::fs::remove_file(&partial)
                .with_context(|| format!("deleting {}", partial.display()))?;
        }
    }
    chart(&results, &docs.join("benchmarks.png"))?;
    chart(&results, &docs.join("benchmarks.svg"))?;
    let json = if options.report_only {
        ""
    } else {
        ", docs/benchmarks.json"
    };
    eprintln!("wrote docs/benchmarks.md{json}, docs/benchmarks.{{png,svg}}");
    Ok(())
}

/// Where docs/benchmarks.md's hand-written part starts.
const NOTES_MARKER: &str = "<!-- notes: kept by cargo xtask bench -->";

/// Builds the benchmark program and returns its path.
fn build(features: &str) -> anyhow::Result<PathBuf> {
    let mut args = vec![
        "bench",
        "--bench",
        "backends",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ];
    if !features.is_empty() {
        args.extend(["--features", features]);
    }
    eprintln!("$ cargo {}", args.join(" "));
    let out = cargo_command(&args, &[])
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("running cargo")?;
    ensure!(out.status.success(), "building the benchmark failed");
    for line in String::from_utf8(out.stdout)?.lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if message["reason"] == "compiler-artifact"
            && message["target"]["name"] == "backends"
            && let Some(exe) = message["executable"].as_str()
        {
            return Ok(exe.into());
        }
    }
    bail!("cargo named no executable for the backends benchmark")
}

/// Runs `command` to its end, returning its stdout parsed as JSON.
fn json_of(command: Command, what: &str) -> anyhow::Result<Value> {
    json_within(command, what, Duration::MAX)?.with_context(|| format!("{what} was stopped"))
}

/// Runs `command`, returning its stdout parsed as JSON, or `None` once it has run for `limit`
/// (the child is stopped then).
fn json_within(mut command: Command, what: &str, limit: Duration) -> anyhow::Result<Option<Value>> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("running {what}"))?;
    let mut stdout = child.stdout.take().context("the child's stdout")?;
    // Read on a thread of its own, so that a child writing much never blocks on a full pipe.
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        stdout.read_to_string(&mut text).map(|_| text)
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if start.elapsed() >= limit {
            child.kill().with_context(|| format!("stopping {what}"))?;
            child.wait()?;
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let text = reader
        .join()
        .map_err(|_| anyhow::anyhow!("reading {what}'s output"))??;
    ensure!(status.success(), "{what} failed ({status})");
    last_json(&text, what).map(Some)
}

/// The last line of `text` (a measurement's stdout), parsed as JSON.
fn last_json(text: &str, what: &str) -> anyhow::Result<Value> {
    let last = text.lines().last().unwrap_or_default();
    serde_json::from_str(last).with_context(|| format!("{what} printed no JSON: {text}"))
}

fn measure_all(o: &Options) -> anyhow::Result<Value> {
    ensure!(o.rounds >= 1, "--rounds must be at least 1");
    for c in &o.torch_configs {
        ensure!(
            stats::TORCH_CONFIGS.contains(&c.as_str()),
            "unknown PyTorch configuration {c:?}; one of {}",
            stats::TORCH_CONFIGS.join(", ")
        );
    }
    let exe = build(&o.features)?;
    let threads = o.threads.to_string();
    let rust = |args: &[&str]| {
        let mut c = Command::new(&exe);
        c.args(args).env("RAYON_NUM_THREADS", &threads);
        c
    };
    let script = root().join("benches/pytorch_reference.py");
    let python = |args: &[&str]| {
        let mut c = Command::new(&o.python);
        c.arg(&script)
            .args(args)
            .env("OMP_NUM_THREADS", &threads)
            .env("MKL_NUM_THREADS", &threads);
        c
    };
    let list = json_of(rust(&["--list"]), "the benchmark's --list")?;
    let torch = if o.vs_pytorch {
        let probe = Command::new(&o.python)
            .args(["-c", "import torch, torchvision; print(torch.__version__)"])
            .output();
        match probe {
            Ok(out) if out.status.success() => {
                Some(String::from_utf8(out.stdout)?.trim().to_string())
            }
            _ => {
                eprintln!(
                    "torch and torchvision are not importable by `{}`: flex and the other backends only",
                    o.python
                );
                None
            }
        }
    } else {
        None
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load1: f64 = load
        .split_whitespace()
        .next()
        .and_then(|l| l.parse().ok())
        .unwrap_or(0.0);
    eprintln!("load average at the start: {load1:.2} ({cores} cores)");
    let now = today();
    let mut results = json!({
        "command": command_line(o),
        "date": now,
        "dates": [now],
        "cpu": cpu_model(),
        "cores": cores,
        "threads": o.threads,
        "load_average_at_start": load1,
        "torch": torch,
        "rounds": o.rounds,
        "workloads": [],
    });
    let partial = (o.only.is_none()).then(|| root().join(PARTIAL));
    match (&partial, o.resume) {
        (Some(path), true) => continue_from(&mut results, path)?,
        (None, true) => bail!("--resume continues a whole run: it takes no --only"),
        (Some(path), false) if path.exists() => bail!(
            "{} holds an unfinished run: `--resume` continues it (same options), or delete it \
             to start afresh",
            path.display()
        ),
        _ => {}
    }

    settle(cores);
    if results["peak"].is_null() {
        let mut peak = json!({ "gemm": json_of(rust(&["--peak"]), "the SGEMM ceiling")? });
        if torch.is_some() {
            peak["torch"] = json_of(python(&["--peak", &threads]), "torch's SGEMM ceiling")?;
        }
        results["peak"] = peak;
    }
    eprintln!("FP32 ceiling: {}", results["peak"]);

    let backends: Vec<String> = list["backends"]
        .as_array()
        .context("backends")?
        .iter()
        .filter_map(|b| b.as_str().map(String::from))
        .collect();
    ensure!(
        backends.iter().any(|b| b == "flex"),
        "the benchmark has no flex backend"
    );
    for w in list["workloads"].as_array().context("workloads")? {
        let name = w["name"].as_str().context("a workload name")?;
        if o.only
            .as_ref()
            .is_some_and(|only| !name.contains(only.as_str()))
        {
            continue;
        }
        let done = results["workloads"].as_array().context("workloads")?;
        if done.iter().any(|d| d["name"] == name) {
            eprintln!("{name}: measured before ({PARTIAL})");
            continue;
        }
        let mut spec = vec![w["arch"].clone(), w["train"].clone()];
        spec.extend([w["batch"].clone(), w["size"].clone()]);
        if !w["stochastic_depth"].is_null() {
            spec.push(w["stochastic_depth"].clone());
        }
        let spec = serde_json::Value::from(spec).to_string();
        let mut rounds = Vec::new();
        for round in 0..o.rounds {
            let mut r = json!({});
            let busy = settle(cores);
            eprintln!("{name}: round {} of {}, flex", round + 1, o.rounds);
            r["flex"] = json_of(rust(&["--one", "flex", name]), "a flex measurement")?;
            let mut busy_round = busy;
            if torch.is_some() {
                let mut configs = json!({});
                for config in &o.torch_configs {
                    let busy = settle(cores);
                    eprintln!(
                        "{name}: round {} of {}, PyTorch {config}",
                        round + 1,
                        o.rounds
                    );
                    configs[config] = json_of(
                        python(&["--one", &threads, &spec, config]),
                        "a PyTorch measurement",
                    )?;
                    busy_round |= busy;
                }
                r["pytorch"] = configs;
            }
            r["busy"] = json!(busy_round);
            rounds.push(r);
        }
        let mut others = json!({});
        for b in backends.iter().filter(|b| *b != "flex") {
            let busy = settle(cores);
            eprintln!("{name}: {b}");
            let mut m = json_within(rust(&["--one", b, name]), "a measurement", OTHER_LIMIT)?
                .unwrap_or_else(|| {
                    eprintln!("{name}: {b} unfinished after {OTHER_LIMIT:?}, stopped");
                    json!({ "unfinished_after_s": OTHER_LIMIT.as_secs_f64() })
                });
            m["busy"] = json!(busy);
            others[b] = m;
        }
        let mut entry = w.clone();
        entry["rounds"] = json!(rounds);
        entry["others"] = others;
        results["workloads"]
            .as_array_mut()
            .context("workloads")?
            .push(entry);
        if let Some(path) = &partial {
            write_atomically(path, &(serde_json::to_string_pretty(&results)? + "\n"))?;
        }
    }
    Ok(results)
}

/// Takes over the unfinished run in `path` (its SGEMM ceiling, workloads and dates) after
/// checking that it was measured the way this run measures.
fn continue_from(results: &mut Value, path: &std::path::Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading {} (no unfinished run to resume?)", path.display()))?;
    let before: Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    for key in ["command", "cpu", "threads", "torch", "rounds"] {
        ensure!(
            before[key] == results[key],
            "{} was measured with {key} {} and this run has {}: resume with the same options on \
             the same machine, or delete it to start afresh",
            path.display(),
            before[key],
            results[key]
        );
    }
    ensure!(
        before["workloads"].is_array() && before["peak"].is_object(),
        "{} lacks its workloads or SGEMM ceiling",
        path.display()
    );
    let mut dates = before["dates"].as_array().cloned().unwrap_or_default();
    dates.extend(results["dates"].as_array().cloned().unwrap_or_default());
    results["date"] = before["date"].clone();
    results["dates"] = json!(dates);
    results["load_average_at_start"] = before["load_average_at_start"].clone();
    results["peak"] = before["peak"].clone();
    results["workloads"] = before["workloads"].clone();
    eprintln!(
        "resuming the run of {} from {}: {} workloads measured",
        before["date"].as_str().unwrap_or("?"),
        path.display(),
        results["workloads"].as_array().map_or(0, Vec::len)
    );
    Ok(())
}

/// The command line this run answers to (what `--resume` compares).
fn command_line(o: &Options) -> String {
    let mut c = String::from("cargo xtask bench");
    if !o.features.is_empty() {
        c.push_str(&format!(" --features {}", o.features));
    }
    if o.vs_pytorch {
        c.push_str(" --vs-pytorch");
    }
    if o.vs_pytorch && o.torch_configs != stats::TORCH_CONFIGS {
        c.push_str(&format!(" --torch-configs {}", o.torch_configs.join(",")));
    }
    if o.rounds != 3 {
        c.push_str(&format!(" --rounds {}", o.rounds));
    }
    if let Some(only) = &o.only {
        c.push_str(&format!(" --only {only}"));
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_of(cpu: &str, date: &str, workloads: Value) -> Value {
        json!({
            "command": "cargo xtask bench --vs-pytorch",
            "date": date,
            "dates": [date],
            "cpu": cpu,
            "threads": 2,
            "torch": "2.15.0",
            "rounds": 3,
            "load_average_at_start": 0.1,
            "workloads": workloads,
        })
    }

    #[test]
    fn a_resumed_run_keeps_what_was_measured_and_refuses_another_machine() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("partial.json");
        let mut before = run_of("CPU A", "2026-12-06 10:00 UTC", json!([{ "name": "w1" }]));
        before["peak"] = json!({ "gemm": { "gflops": 200.0 } });
        write_atomically(&path, &before.to_string()).unwrap();

        let mut now = run_of("CPU A", "2026-12-07 09:00 UTC", json!([]));
        continue_from(&mut now, &path).unwrap();
        assert_eq!(now["workloads"], json!([{ "name": "w1" }]));
        assert_eq!(now["peak"], before["peak"]);
        assert_eq!(now["date"], "2026-12-06 10:00 UTC");
        assert_eq!(
            now["dates"],
            json!(["2026-12-06 10:00 UTC", "2026-12-07 09:00 UTC"])
        );

        let mut elsewhere = run_of("CPU B", "2026-12-07 09:00 UTC", json!([]));
        let error = continue_from(&mut elsewhere, &path)
            .unwrap_err()
            .to_string();
        assert!(error.contains("cpu"), "{error}");
        assert!(continue_from(&mut now, &dir.join("missing.json")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn shell(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    }

    #[test]
    fn a_measurement_past_its_limit_is_stopped() {
        let limit = Duration::from_millis(500);
        let start = Instant::now();
        let stopped = json_within(shell("sleep 30; echo '{}'"), "a sleeper", limit).unwrap();
        assert_eq!(stopped, None);
        assert!(start.elapsed() < Duration::from_secs(20), "not stopped");

        let done = json_within(
            shell("echo progress; echo '{\"steps\": 3}'"),
            "a quick one",
            limit,
        );
        assert_eq!(done.unwrap(), Some(json!({ "steps": 3 })));
        let failed = json_within(shell("exit 3"), "a failure", limit).unwrap_err();
        assert!(failed.to_string().contains("a failure failed"), "{failed}");
        let silent = json_within(shell("echo hello"), "a silent one", limit).unwrap_err();
        assert!(silent.to_string().contains("printed no JSON"), "{silent}");

        // Without a limit: the measurements of flex and PyTorch, run to their end.
        let whole = json_of(shell("sleep 1; echo '{\"steps\": 4}'"), "a whole one");
        assert_eq!(whole.unwrap(), json!({ "steps": 4 }));
        let failed = json_of(shell("echo '{}'; exit 2"), "a failure").unwrap_err();
        assert!(failed.to_string().contains("a failure failed"), "{failed}");
    }

    #[test]
    fn an_unfinished_measurement_reads_back_as_one_and_says_so_in_the_table() {
        use stats::Other;
        let m = json!({ "unfinished_after_s": OTHER_LIMIT.as_secs_f64(), "busy": false });
        let other = Other::of(&m).unwrap();
        assert_eq!(other, Other::Unfinished { after_s: 600.0 });
        assert_eq!(other.images_per_sec(), None);
        assert_eq!(
            report::other_cell(Some(&other)),
            "too slow: unfinished after 10 min"
        );
        let one_step = json!({ "images_per_sec": 0.07, "steps": 1, "too_slow": true });
        assert_eq!(
            report::other_cell(Other::of(&one_step).as_ref()),
            "too slow: 0.07 (one step over 60 s)"
        );
        let timed = json!({ "images_per_sec": 98.46, "steps": 10, "busy": true });
        assert_eq!(
            report::other_cell(Other::of(&timed).as_ref()),
            "98.5 (busy)"
        );
        assert_eq!(report::other_cell(None), "-");
    }
}
