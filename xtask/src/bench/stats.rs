//! A workload's rounds summarised: medians, the ratio of flex to PyTorch and its spread.

use std::collections::BTreeMap;

use anyhow::Context;
use serde_json::Value;

use super::MAX_SPREAD;

pub(super) fn median(mut values: Vec<f64>) -> Option<f64> {
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
pub(super) struct Summary {
    pub(super) name: String,
    /// FLOPs of useful work per image: forward MACs x 2, and x 3 for a training step.
    pub(super) flops_per_image: f64,
    pub(super) flex: Option<f64>,
    pub(super) flex_mib: Option<f64>,
    pub(super) pytorch: Option<f64>,
    pub(super) pytorch_mib: Option<f64>,
    /// Per-round flex / PyTorch.
    pub(super) ratios: Vec<f64>,
    pub(super) busy: bool,
    /// Other backends: name -> (images/s, too slow to time, busy).
    pub(super) others: BTreeMap<String, (f64, bool, bool)>,
}

impl Summary {
    pub(super) fn of(w: &Value) -> Self {
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
    pub(super) fn ratio(&self) -> String {
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

/// Every workload of a run, summarised.
pub(super) fn summaries(results: &Value) -> anyhow::Result<Vec<Summary>> {
    let workloads = results["workloads"].as_array().context("workloads")?;
    Ok(workloads.iter().map(Summary::of).collect())
}
