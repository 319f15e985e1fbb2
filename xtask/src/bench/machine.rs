//! The machine a benchmark runs on: how busy it is, its CPU, whether it has a GPU, the date.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::{BUSY_CORES, SETTLE};

/// CPU time of the whole machine, in clock ticks: (busy, total).
pub(super) fn cpu_ticks() -> Option<(u64, u64)> {
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
pub(super) fn busy_cores(cores: usize) -> Option<f64> {
    let (b0, t0) = cpu_ticks()?;
    std::thread::sleep(Duration::from_secs(1));
    let (b1, t1) = cpu_ticks()?;
    Some((b1 - b0) as f64 / (t1 - t0).max(1) as f64 * cores as f64)
}

/// Waits up to [`SETTLE`] for the machine to be idle; returns whether it still was busy.
pub(super) fn settle(cores: usize) -> bool {
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

pub(super) fn cpu_model() -> String {
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

pub(super) fn today() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "unknown date".into(), |d| d.trim().to_string())
}

/// Whether a GPU device node exists (DRM render node or NVIDIA's).
pub(super) fn has_gpu() -> bool {
    let render = std::fs::read_dir("/dev/dri").is_ok_and(|d| {
        d.flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    });
    render || Path::new("/dev/nvidia0").exists()
}
