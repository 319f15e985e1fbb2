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
//! machine; the other compiled backends are measured once, after them. Reported per workload:
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

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use plotters::prelude::*;
use serde_json::{Value, json};

use crate::{cargo_command, root};

/// Other processes' CPU use, in cores, above which the machine counts as busy.
pub const BUSY_CORES: f64 = 0.35;
/// The largest max / min of a workload's per-round ratios for which a ratio is reported.
pub const MAX_SPREAD: f64 = 1.20;
/// How long to wait for a busy machine to settle before measuring anyway (and marking it).
const SETTLE: Duration = Duration::from_secs(60);

/// What `cargo xtask bench` was asked for.
pub struct Options {
    /// Cargo features (backends) to compile in besides flex.
    pub features: String,
    /// Only the workloads whose name contains this text (report printed, docs left alone).
    pub only: Option<String>,
    /// Measure PyTorch too, interleaved with flex.
    pub vs_pytorch: bool,
    /// Rounds of flex and PyTorch per workload.
    pub rounds: usize,
    /// Threads for both sides (rayon's and torch's).
    pub threads: usize,
    /// The Python interpreter with torch.
    pub python: String,
    /// Rewrite the report from docs/benchmarks.json without measuring.
    pub report_only: bool,
}

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
    std::fs::write(&path, text)?;
    if !options.report_only {
        std::fs::write(&json_path, serde_json::to_string_pretty(&results)? + "\n")?;
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

/// Runs `command`, returning its stdout parsed as JSON.
fn json_of(mut command: Command, what: &str) -> anyhow::Result<Value> {
    let out = command
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("running {what}"))?;
    ensure!(out.status.success(), "{what} failed ({})", out.status);
    let text = String::from_utf8(out.stdout)?;
    let last = text.lines().last().unwrap_or_default();
    serde_json::from_str(last).with_context(|| format!("{what} printed no JSON: {text}"))
}

/// CPU time of the whole machine, in clock ticks: (busy, total).
fn cpu_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3)? + fields.get(4)?;
    Some((total - idle, total))
}

/// Cores kept busy by other processes over the next second (none of ours runs meanwhile).
fn busy_cores(cores: usize) -> Option<f64> {
    let (b0, t0) = cpu_ticks()?;
    std::thread::sleep(Duration::from_secs(1));
    let (b1, t1) = cpu_ticks()?;
    Some((b1 - b0) as f64 / (t1 - t0).max(1) as f64 * cores as f64)
}

/// Waits up to [`SETTLE`] for the machine to be idle; returns whether it still was busy.
fn settle(cores: usize) -> bool {
    let start = Instant::now();
    loop {
        let busy = busy_cores(cores).unwrap_or(0.0);
        if busy <= BUSY_CORES {
            return false;
        }
        if start.elapsed() > SETTLE {
            eprintln!("  machine busy ({busy:.2} cores used by others): measuring anyway, marked");
            return true;
        }
        eprintln!("  machine busy ({busy:.2} cores used by others), waiting");
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn today() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "unknown date".into(), |d| d.trim().to_string())
}

fn measure_all(o: &Options) -> anyhow::Result<Value> {
    ensure!(o.rounds >= 1, "--rounds must be at least 1");
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

    settle(cores);
    let mut peak = json!({ "gemm": json_of(rust(&["--peak"]), "the SGEMM ceiling")? });
    if torch.is_some() {
        peak["torch"] = json_of(python(&["--peak", &threads]), "torch's SGEMM ceiling")?;
    }
    eprintln!("FP32 ceiling: {peak}");

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
    let mut workloads = Vec::new();
    for w in list["workloads"].as_array().context("workloads")? {
        let name = w["name"].as_str().context("a workload name")?;
        if o.only
            .as_ref()
            .is_some_and(|only| !name.contains(only.as_str()))
        {
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
                let busy = settle(cores);
                eprintln!("{name}: round {} of {}, PyTorch", round + 1, o.rounds);
                r["pytorch"] =
                    json_of(python(&["--one", &threads, &spec]), "a PyTorch measurement")?;
                busy_round |= busy;
            }
            r["busy"] = json!(busy_round);
            rounds.push(r);
        }
        let mut others = json!({});
        for b in backends.iter().filter(|b| *b != "flex") {
            let busy = settle(cores);
            eprintln!("{name}: {b}");
            let mut m = json_of(rust(&["--one", b, name]), "a measurement")?;
            m["busy"] = json!(busy);
            others[b] = m;
        }
        let mut entry = w.clone();
        entry["rounds"] = json!(rounds);
        entry["others"] = others;
        workloads.push(entry);
    }
    Ok(json!({
        "command": command_line(o),
        "date": today(),
        "cpu": cpu_model(),
        "cores": cores,
        "threads": o.threads,
        "load_average_at_start": load1,
        "torch": torch,
        "rounds": o.rounds,
        "peak": peak,
        "workloads": workloads,
    }))
}

fn command_line(o: &Options) -> String {
    let mut c = String::from("cargo xtask bench");
    if !o.features.is_empty() {
        c.push_str(&format!(" --features {}", o.features));
    }
    if o.vs_pytorch {
        c.push_str(" --vs-pytorch");
    }
    if o.rounds != 3 {
        c.push_str(&format!(" --rounds {}", o.rounds));
    }
    if let Some(only) = &o.only {
        c.push_str(&format!(" --only {only}"));
    }
    c
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(match values.len() % 2 {
        1 => values[mid],
        _ => (values[mid - 1] + values[mid]) / 2.0,
    })
}

/// One workload's figures, summarised over its rounds.
struct Summary {
    name: String,
    /// FLOPs of useful work per image: forward MACs x 2, and x 3 for a training step.
    flops_per_image: f64,
    flex: Option<f64>,
    flex_mib: Option<f64>,
    pytorch: Option<f64>,
    pytorch_mib: Option<f64>,
    /// Per-round flex / PyTorch.
    ratios: Vec<f64>,
    busy: bool,
    /// Other backends: name -> (images/s, too slow to time, busy).
    others: BTreeMap<String, (f64, bool, bool)>,
}

impl Summary {
    fn of(w: &Value) -> Self {
        let rounds = w["rounds"].as_array().cloned().unwrap_or_default();
        let side = |key: &str, field: &str| -> Vec<f64> {
            rounds
                .iter()
                .filter_map(|r| r[key][field].as_f64())
                .collect()
        };
        let ratios = rounds
            .iter()
            .filter_map(|r| {
                Some(
                    r["flex"]["images_per_sec"].as_f64()?
                        / r["pytorch"]["images_per_sec"].as_f64()?,
                )
            })
            .collect();
        let macs = w["macs_per_image"].as_f64().unwrap_or(0.0);
        let train = w["train"].as_bool().unwrap_or(false);
        let others = w["others"]
            .as_object()
            .map(|o| {
                o.iter()
                    .filter_map(|(b, m)| {
                        Some((
                            b.clone(),
                            (
                                m["images_per_sec"].as_f64()?,
                                m["too_slow"] == true,
                                m["busy"] == true,
                            ),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            name: w["name"].as_str().unwrap_or("?").to_string(),
            flops_per_image: macs * 2.0 * if train { 3.0 } else { 1.0 },
            flex: median(side("flex", "images_per_sec")),
            flex_mib: median(side("flex", "peak_mib")),
            pytorch: median(side("pytorch", "images_per_sec")),
            pytorch_mib: median(side("pytorch", "peak_mib")),
            ratios,
            busy: rounds.iter().any(|r| r["busy"] == true),
            others,
        }
    }

    /// The ratio cell: the ratio of the medians, or why there is none.
    fn ratio(&self) -> String {
        let (Some(f), Some(p)) = (self.flex, self.pytorch) else {
            return "-".into();
        };
        let lo = self.ratios.iter().copied().fold(f64::MAX, f64::min);
        let hi = self.ratios.iter().copied().fold(0.0, f64::max);
        let range = format!("{lo:.2}-{hi:.2}");
        if self.busy {
            format!("busy machine (rounds {range})")
        } else if hi / lo > MAX_SPREAD {
            format!("unstable (rounds {range})")
        } else {
            format!("**{:.2}x** ({range})", f / p)
        }
    }
}

fn mib(v: Option<f64>) -> String {
    v.map_or("-".into(), |m| format!("{m:.0}"))
}

/// Every workload of a run, summarised.
fn summaries(results: &Value) -> anyhow::Result<Vec<Summary>> {
    let workloads = results["workloads"].as_array().context("workloads")?;
    Ok(workloads.iter().map(Summary::of).collect())
}

fn markdown(results: &Value) -> anyhow::Result<String> {
    let summaries = summaries(results)?;
    let torch = results["torch"].as_str();
    let peak_gemm = results["peak"]["gemm"]["gflops"].as_f64();
    let peak_torch = results["peak"]["torch"]["gflops"].as_f64();
    let peak = peak_gemm.into_iter().chain(peak_torch).fold(0.0, f64::max);
    let others: Vec<String> = {
        let mut names: Vec<String> = summaries
            .iter()
            .flat_map(|s| s.others.keys().cloned())
            .collect();
        names.sort();
        names.dedup();
        names
    };
    let mut md = String::from("# Benchmarks\n\n");
    md.push_str(&format!(
        "Generated by `{}` on {}: {}, {} threads on {} cores{}. Images/s of the median step \
         (2 warm-up steps, then at least 10 steps and 10 s), each measurement a process of its \
         own; flex and PyTorch alternate for {} rounds per workload, other backends run once. \
         The ratio is flex / PyTorch of the medians over the rounds, with the range of the \
         per-round ratios; none is given where a round started on a busy machine (others using \
         over {BUSY_CORES} cores) or the per-round ratios spread over {MAX_SPREAD:.2}x \
         (the method: `xtask/src/bench.rs`).\n\n",
        results["command"].as_str().unwrap_or("cargo xtask bench"),
        results["date"].as_str().unwrap_or("?"),
        results["cpu"].as_str().unwrap_or("?"),
        results["threads"],
        results["cores"],
        torch.map_or(String::new(), |v| format!(", PyTorch {v} (CPU)")),
        results["rounds"],
    ));
    md.push_str(&format!(
        "FP32 ceiling, a 4096x4096 SGEMM on the same threads: {}{}. The share-of-peak columns \
         divide each step's useful work (the network's multiply-adds x 2 FLOPs, x 3 for a \
         training step's forward and two backward products) by {peak:.0} GFLOP/s.\n\n",
        peak_gemm.map_or("-".into(), |g| format!(
            "{g:.0} GFLOP/s with the `gemm` crate"
        )),
        peak_torch.map_or(String::new(), |g| format!(", {g:.0} GFLOP/s with torch.mm")),
    ));
    md.push_str(
        "| workload | flex img/s | PyTorch img/s | flex / PyTorch (rounds) | flex MiB | PyTorch MiB | flex % peak | PyTorch % peak |",
    );
    for b in &others {
        md.push_str(&format!(" {} img/s |", backend_label(b)));
    }
    md.push_str("\n|---|---:|---:|---|---:|---:|---:|---:|");
    md.push_str(&"---:|".repeat(others.len()));
    md.push('\n');
    let share = |ips: Option<f64>, s: &Summary| {
        ips.filter(|_| peak > 0.0).map_or("-".into(), |i| {
            format!("{:.0}%", 100.0 * i * s.flops_per_image / 1e9 / peak)
        })
    };
    for s in &summaries {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            s.name,
            s.flex.map_or("-".into(), |v| format!("{v:.1}")),
            s.pytorch.map_or("-".into(), |v| format!("{v:.1}")),
            s.ratio(),
            mib(s.flex_mib),
            mib(s.pytorch_mib),
            share(s.flex, s),
            share(s.pytorch, s),
        ));
        for b in &others {
            match s.others.get(b) {
                Some((ips, true, _)) => {
                    md.push_str(&format!(" too slow: {ips:.2} (one step over 60 s) |"))
                }
                Some((ips, _, true)) => md.push_str(&format!(" {ips:.1} (busy) |")),
                Some((ips, _, _)) => md.push_str(&format!(" {ips:.1} |")),
                None => md.push_str(" - |"),
            }
        }
        md.push('\n');
    }
    md.push_str(
        "\nMemory: the peak resident memory a measurement adds to its process (flex: after the \
         program starts; PyTorch: after `import torch`), host memory only.",
    );
    if torch.is_none() {
        md.push_str(
            " PyTorch was not measured (`cargo xtask bench --vs-pytorch` with torch and \
             torchvision importable by `python3`).",
        );
    }
    md.push_str(
        "\n\n![images/s by backend](benchmarks.png)\n\nWhere a flex training step spends its \
         time: [profile.md](profile.md).\n",
    );
    Ok(md)
}

/// A backend's column name; wgpu without a GPU runs on Mesa's software Vulkan driver.
fn backend_label(backend: &str) -> String {
    let software = matches!(backend, "wgpu" | "vulkan") && !has_gpu();
    match software {
        true => format!("{backend} (lavapipe, software rendering)"),
        false => backend.to_string(),
    }
}

/// Whether a GPU device node exists (DRM render node or NVIDIA's).
fn has_gpu() -> bool {
    let render = std::fs::read_dir("/dev/dri").is_ok_and(|d| {
        d.flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    });
    render || Path::new("/dev/nvidia0").exists()
}

fn chart(results: &Value, path: &Path) -> anyhow::Result<()> {
    let summaries = summaries(results)?;
    // backend -> workload -> images/s
    let mut table: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for s in &summaries {
        let mut put = |b: &str, v: Option<f64>| {
            if let Some(v) = v {
                table
                    .entry(b.to_string())
                    .or_default()
                    .insert(s.name.clone(), v);
            }
        };
        put("flex", s.flex);
        put("pytorch", s.pytorch);
        for (b, (v, _, _)) in &s.others {
            put(b, Some(*v));
        }
    }
    let names: Vec<String> = summaries.iter().map(|s| s.name.clone()).collect();
    let size = (900, 120 + 60 * names.len() as u32);
    let result = match path.extension().and_then(|e| e.to_str()) {
        Some("svg") => draw(
            SVGBackend::new(path, size).into_drawing_area(),
            &table,
            &names,
        ),
        _ => draw(
            BitMapBackend::new(path, size).into_drawing_area(),
            &table,
            &names,
        ),
    };
    result.map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    table: &BTreeMap<String, BTreeMap<String, f64>>,
    names: &[String],
) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(e)?;
    let max = table
        .values()
        .flat_map(|t| t.values().copied())
        .fold(1.0, f64::max);
    let rows = names.len() as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption("images/s (log scale), by backend", ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(220)
        // Row r is centred on y = r, so that its label sits on an integer tick.
        .build_cartesian_2d((0.1..max * 2.0).log_scale(), -0.5..rows - 0.5)
        .map_err(e)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(names.len() * 4 + 1)
        .y_label_formatter(&|y| {
            let row = y.round();
            match (y - row).abs() < 1e-6 && row >= 0.0 {
                true => names.get(row as usize).cloned().unwrap_or_default(),
                false => String::new(),
            }
        })
        .draw()
        .map_err(e)?;
    let count = table.len().max(1) as f64;
    for (i, (backend, cells)) in table.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let bars = names.iter().enumerate().filter_map(|(row, w)| {
            let v = *cells.get(w)?;
            let y0 = row as f64 - 0.4 + 0.8 * i as f64 / count;
            let y1 = y0 + 0.8 / count;
            Some(Rectangle::new([(0.1, y0), (v, y1)], color.filled()))
        });
        chart
            .draw_series(bars)
            .map_err(e)?
            .label(backend.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], color.filled()));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(e)?;
    root.present().map_err(e)
}
