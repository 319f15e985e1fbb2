//! `cargo xtask bench`: runs the backend benchmarks and writes docs/benchmarks.md (a table
//! backend x workload: images/s and peak memory) and docs/benchmarks.{png,svg} (a bar chart).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use plotters::prelude::*;

use crate::{cargo, root};

/// One measured cell.
struct Cell {
    images_per_sec: f64,
    peak_mib: Option<f64>,
}

/// Runs `cargo bench --bench backends` with `features`, then writes the report.
pub fn run(
    features: &str,
    only: Option<&str>,
    pytorch: Option<&Path>,
    report_only: bool,
) -> anyhow::Result<()> {
    let root = root();
    let target = std::env::var("CARGO_TARGET_DIR").map_or(root.join("target"), Into::into);
    let memory = target.join("bench-memory.json");
    let mut args = vec!["bench", "--bench", "backends"];
    if !features.is_empty() {
        args.extend(["--features", features]);
    }
    let mut env = vec![(
        "RESNET_BENCH_MEMORY",
        memory.to_str().context("utf-8 path")?,
    )];
    if let Some(only) = only {
        env.push(("RESNET_BENCH_ONLY", only));
    }
    if !report_only {
        cargo(&args, &env)?;
    }

    let report = || format!("the benchmark's memory report {}", memory.display());
    let peaks: BTreeMap<String, u64> =
        serde_json::from_slice(&std::fs::read(&memory).with_context(report)?)
            .with_context(report)?;
    // backend -> workload -> cell
    let mut table: BTreeMap<String, BTreeMap<String, Cell>> = BTreeMap::new();
    for key in peaks.keys() {
        let (backend, workload) = key.split_once('/').context("backend/workload")?;
        let estimates = target
            .join("criterion")
            .join(backend)
            .join(workload)
            .join("new/estimates.json");
        let json: serde_json::Value = serde_json::from_slice(
            &std::fs::read(&estimates).with_context(|| estimates.display().to_string())?,
        )?;
        // The median sample: robust to a transient slowdown of a shared machine (and what
        // benches/pytorch_reference.py reports).
        let nanos = json["median"]["point_estimate"]
            .as_f64()
            .context("a time estimate")?;
        let batch: f64 = workload
            .split('-')
            .find_map(|p| p.strip_prefix('b')?.parse().ok())
            .context("batch size in the workload name")?;
        table.entry(backend.to_string()).or_default().insert(
            workload.to_string(),
            Cell {
                images_per_sec: batch / (nanos * 1e-9),
                peak_mib: Some(peaks[key] as f64 / (1 << 20) as f64),
            },
        );
    }
    if let Some(path) = pytorch {
        // {"workload": {"images_per_sec": x, "peak_mib": y, ...}} from
        // benches/pytorch_reference.py; peak_mib is the resident memory the workload added to
        // the process after torch was imported.
        let named = || format!("PyTorch's figures {}", path.display());
        let json: BTreeMap<String, serde_json::Value> =
            serde_json::from_slice(&std::fs::read(path).with_context(named)?)
                .with_context(named)?;
        let cells = table.entry("pytorch".into()).or_default();
        for (workload, v) in json {
            cells.insert(
                workload,
                Cell {
                    images_per_sec: v["images_per_sec"].as_f64().context("images_per_sec")?,
                    peak_mib: v["peak_mib"].as_f64(),
                },
            );
        }
    }
    if only.is_some() {
        // A partial run would drop the other workloads from the report: show it instead.
        print!("{}", markdown(&table, features));
        eprintln!("--only: docs/benchmarks.md left as it was");
        return Ok(());
    }
    let docs = root.join("docs");
    std::fs::create_dir_all(&docs)?;
    let path = docs.join("benchmarks.md");
    // Hand-written notes below the marker (the profile before/after, reference figures) survive
    // regeneration.
    let notes = std::fs::read_to_string(&path)
        .ok()
        .and_then(|old| old.find(NOTES_MARKER).map(|at| old[at..].to_string()));
    let mut md = markdown(&table, features);
    if let Some(notes) = notes {
        md.push('\n');
        md.push_str(&notes);
    }
    std::fs::write(&path, md)?;
    chart(&table, &docs.join("benchmarks.png"))?;
    chart(&table, &docs.join("benchmarks.svg"))?;
    eprintln!("wrote docs/benchmarks.md, docs/benchmarks.png, docs/benchmarks.svg");
    Ok(())
}

/// Where docs/benchmarks.md's hand-written part starts.
const NOTES_MARKER: &str = "<!-- notes: kept by cargo xtask bench -->";

fn workloads(table: &BTreeMap<String, BTreeMap<String, Cell>>) -> Vec<String> {
    let mut names: Vec<String> = table.values().flat_map(|t| t.keys().cloned()).collect();
    names.sort();
    names.dedup();
    names
}

fn markdown(table: &BTreeMap<String, BTreeMap<String, Cell>>, features: &str) -> String {
    let backends: Vec<&String> = table.keys().collect();
    let mut md = String::from("# Benchmarks\n\n");
    md.push_str(&format!(
        "Generated by `cargo xtask bench{}` (criterion's median sample; images/s, and the peak heap \
         (host) memory of each workload, counted by the benchmark's allocator). Machine: {} logical CPUs.\n\n",
        if features.is_empty() {
            String::new()
        } else {
            format!(" --features {features}")
        },
        std::thread::available_parallelism().map_or(0, |n| n.get())
    ));
    md.push_str("| workload |");
    for b in &backends {
        md.push_str(&format!(" {b} img/s | {b} peak MiB |"));
    }
    md.push_str("\n|---|");
    md.push_str(&"---|---|".repeat(backends.len()));
    md.push('\n');
    for w in workloads(table) {
        md.push_str(&format!("| {w} |"));
        for b in &backends {
            match table[*b].get(&w) {
                Some(c) => md.push_str(&format!(
                    " {:.1} | {} |",
                    c.images_per_sec,
                    c.peak_mib.map_or("-".into(), |m| format!("{m:.0}"))
                )),
                None => md.push_str(" - | - |"),
            }
        }
        md.push('\n');
    }
    if table.contains_key("pytorch") {
        md.push_str(
            "\nThe `pytorch` column: `benches/pytorch_reference.py` on the same machine, same \
             session; its peak MiB is the resident memory a workload adds to the process after \
             torch is imported (the libraries' own pages left out, as the heap count leaves out \
             the Rust binary's).\n",
        );
    } else {
        md.push_str(
            "\nA `pytorch` column comes from `python3 benches/pytorch_reference.py > \
             target/pytorch-bench.json` then `cargo xtask bench --pytorch \
             target/pytorch-bench.json` (same machine, same session); it was not run for this \
             table.\n",
        );
    }
    md.push_str(
        "\n![images/s by backend](benchmarks.png)\n\nWhere a flex training step spends its \
         time: [profile.md](profile.md).\n",
    );
    md
}

fn chart(table: &BTreeMap<String, BTreeMap<String, Cell>>, path: &Path) -> anyhow::Result<()> {
    let names = workloads(table);
    let size = (900, 120 + 60 * names.len() as u32);
    let result = match path.extension().and_then(|e| e.to_str()) {
        Some("svg") => draw(
            SVGBackend::new(path, size).into_drawing_area(),
            table,
            &names,
        ),
        _ => draw(
            BitMapBackend::new(path, size).into_drawing_area(),
            table,
            &names,
        ),
    };
    result.map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    table: &BTreeMap<String, BTreeMap<String, Cell>>,
    names: &[String],
) -> Result<(), String> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(e)?;
    let max = table
        .values()
        .flat_map(|t| t.values().map(|c| c.images_per_sec))
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
            let c = cells.get(w)?;
            let y0 = row as f64 - 0.4 + 0.8 * i as f64 / count;
            let y1 = y0 + 0.8 / count;
            Some(Rectangle::new(
                [(0.1, y0), (c.images_per_sec, y1)],
                color.filled(),
            ))
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
