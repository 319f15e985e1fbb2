//! `metrics.csv`: one row per evaluation point of a run.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::TrainError;
use super::checkpoint::write_atomically;

/// One evaluation point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsRow {
    /// Iterations done.
    pub iteration: u64,
    /// Epochs done (fractional).
    pub epoch: f64,
    /// Learning rate of the last iteration.
    pub lr: f64,
    /// Mean training loss since the previous row.
    pub train_loss: f64,
    /// Training top-1 error (on augmented batches, in training mode) since the previous row.
    pub train_error: f64,
    /// Validation top-1 error.
    pub val_error: Option<f64>,
    /// Validation top-5 error.
    pub val_top5_error: Option<f64>,
    /// Test top-1 error.
    pub test_error: Option<f64>,
    /// Test top-5 error.
    pub test_top5_error: Option<f64>,
    /// Training throughput since the previous row.
    pub images_per_sec: f64,
    /// Training wall time so far (all sessions of a resumed run), seconds.
    pub wall_seconds: f64,
}

/// An error rate as a percentage, `-` when there is none.
pub fn percent(error: Option<f64>) -> String {
    error.map_or("-".into(), |e| format!("{:.2}%", 100.0 * e))
}

/// Reads a run's `metrics.csv`.
pub fn read_metrics(path: &Path) -> Result<Vec<MetricsRow>, TrainError> {
    let bytes = std::fs::read(path).map_err(|source| TrainError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_metrics(&bytes, path)
}

/// Parses the contents of a `metrics.csv` (`path` names it in errors): what [`read_metrics`]
/// does once the file is read, and what reads one compiled into a program (the built-in
/// network's, `resnet_pretrained::embedded::METRICS`).
pub fn parse_metrics(csv: &[u8], path: &Path) -> Result<Vec<MetricsRow>, TrainError> {
    csv::Reader::from_reader(csv)
        .deserialize()
        .collect::<Result<Vec<MetricsRow>, _>>()
        .map_err(|e| csv_error(path, e))
}

/// Writes `rows` as `path`, atomically.
pub fn write_metrics(path: &Path, rows: &[MetricsRow]) -> Result<(), TrainError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.serialize(row).map_err(|e| csv_error(path, e))?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| csv_error(path, e.into_error().into()))?;
    write_atomically(path, &bytes)
}

pub(super) fn csv_error(path: &Path, e: csv::Error) -> TrainError {
    TrainError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    }
}
