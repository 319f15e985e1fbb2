//! `sessions.csv`: one row each time a run starts or resumes, saying when, from which
//! iteration, and on what: the device, the threads, the algorithm of the 3x3 convolutions and
//! the processor. A long run trained in chunks lists its chunks; a run resumed on another
//! machine or kernel (which changes its rounding, not its recipe: `resume` is bit-exact only
//! on the same kernel and processor) shows where it changed.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::TrainError;
use super::checkpoint::write_atomically;
use super::metrics::csv_error;

/// The file's name in a run directory.
pub const FILE: &str = "sessions.csv";

/// One start or resume of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// When it began, UTC, RFC 3339 to the second.
    pub started_utc: String,
    /// The iteration it began from (0: the start).
    pub iteration: u64,
    /// The compute device.
    pub device: String,
    /// The CPU threads of its thread pool (rayon's).
    pub threads: usize,
    /// The algorithm of the stride-1 3x3 convolutions on flex (`RESNET_CONV`): `measured`,
    /// `direct`, `winograd` or `winograd4x4`.
    pub conv: String,
    /// The processor: its model name and the vector extensions the kernels choose by.
    pub processor: String,
    /// The program's version.
    pub version: String,
}

impl Session {
    /// This process, beginning at `iteration` on `device`.
    pub fn now(iteration: u64, device: &str) -> Self {
        let now = time::OffsetDateTime::now_utc();
        Session {
            started_utc: format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                now.year(),
                u8::from(now.month()),
                now.day(),
                now.hour(),
                now.minute(),
                now.second()
            ),
            iteration,
            device: device.to_string(),
            threads: rayon::current_num_threads(),
            conv: resnet_kernels::algorithm::current().name().to_string(),
            processor: processor(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// The processor's model name (Linux's `/proc/cpuinfo`; `unknown` elsewhere) and, on x86, the
/// widest of the vector extensions the kernels choose by (`avx512f`, `avx2+fma`).
fn processor() -> String {
    let name = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .and_then(|rest| rest.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        let isa = if std::arch::is_x86_feature_detected!("avx512f") {
            "avx512f"
        } else if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
        {
            "avx2+fma"
        } else {
            "sse"
        };
        format!("{name} ({isa})")
    }
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
    name
}

/// Reads a run's sessions (none for a run started before sessions were recorded).
pub fn read_sessions(dir: &Path) -> Result<Vec<Session>, TrainError> {
    let path = dir.join(FILE);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut reader = csv::Reader::from_path(&path).map_err(|e| csv_error(&path, e))?;
    reader
        .deserialize()
        .collect::<Result<Vec<Session>, _>>()
        .map_err(|e| csv_error(&path, e))
}

/// Adds `session` to the run's `sessions.csv` (the whole file rewritten atomically).
pub fn record(dir: &Path, session: Session) -> Result<(), TrainError> {
    let path = dir.join(FILE);
    let mut sessions = read_sessions(dir)?;
    sessions.push(session);
    let mut writer = csv::Writer::from_writer(Vec::new());
    for s in &sessions {
        writer.serialize(s).map_err(|e| csv_error(&path, e))?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| csv_error(&path, e.into_error().into()))?;
    write_atomically(&path, &bytes)
}
