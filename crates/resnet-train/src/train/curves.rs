//! Training curves in the paper's style (Fig. 4 and 6), from runs' `metrics.csv` rows.

use std::path::{Path, PathBuf};

use super::MetricsRow;
use crate::figures::{FigureError, Panel, Series, Stroke, draw};

/// Training curves of one or several runs, overlaid as in the paper's Fig. 4 and 6: thin
/// dashed lines the training error, bold lines the test error (validation error where a run
/// has no test set), x in iterations. The y axis runs from 0 to `y_max` percent, or to the
/// largest error when `None` (the paper's Fig. 6 shows 0 to 20%). Writes `stem.png` and
/// `stem.svg`.
pub fn training_curves(
    runs: &[(String, Vec<MetricsRow>)],
    stem: &Path,
    y_max: Option<f64>,
) -> Result<[PathBuf; 2], FigureError> {
    let mut series = Vec::new();
    for (i, (name, rows)) in runs.iter().enumerate() {
        let pts = |f: &dyn Fn(&MetricsRow) -> Option<f64>| -> Vec<(f64, f64)> {
            rows.iter()
                .filter_map(|r| f(r).map(|v| (r.iteration as f64, 100.0 * v)))
                .collect()
        };
        series.push(Series {
            label: None,
            points: pts(&|r| Some(r.train_error)),
            color: i,
            stroke: Stroke::Dashed,
        });
        series.push(Series {
            label: Some(name.clone()),
            points: pts(&|r| r.test_error.or(r.val_error)),
            color: i,
            stroke: Stroke::Bold,
        });
    }
    let top = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    draw(
        stem,
        &[Panel {
            title: "error: dashed = training, bold = test".into(),
            x_label: "iterations".into(),
            y_label: "error (%)".into(),
            series,
            y_range: Some((0.0, y_max.unwrap_or(top).clamp(1.0, 100.0))),
        }],
    )
}
