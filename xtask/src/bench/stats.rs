//! A workload's rounds summarised: medians, the ratio of flex to PyTorch's best configuration
//! and its spread.

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

/// PyTorch's configurations, in the order the report shows them (benches/pytorch_reference.py's
/// `CONFIGS`).
pub const TORCH_CONFIGS: [&str; 3] = ["eager", "channels_last", "compile"];

/// A round's PyTorch measurements by configuration. Results written before PyTorch had
/// configurations hold one measurement under `pytorch`: eager's.
pub(super) fn torch_measurements(round: &Value) -> BTreeMap<String, &Value> {
    let torch = &round["pytorch"];
    match torch.get("images_per_sec").or_else(|| torch.get("error")) {
        Some(_) => BTreeMap::from([("eager".to_string(), torch)]),
        None => torch
            .as_object()
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v)).collect())
            .unwrap_or_default(),
    }
}

/// One PyTorch configuration's figures over the rounds.
pub(super) struct TorchSummary {
    /// Median images/s over the rounds it ran in; `None` when it failed.
    pub(super) images_per_sec: Option<f64>,
    pub(super) mib: Option<f64>,
    /// Why it did not run, when it did not (its first error).
    pub(super) error: Option<String>,
}

/// One workload's figures, summarised over its rounds.
pub(super) struct Summary {
    pub(super) name: String,
    /// FLOPs of useful work per image: forward MACs x 2, and x 3 for a training step.
    pub(super) flops_per_image: f64,
    pub(super) flex: Option<f64>,
    pub(super) flex_mib: Option<f64>,
    /// PyTorch by configuration.
    pub(super) torch: BTreeMap<String, TorchSummary>,
    /// The configuration with the most images/s (the one the ratio is against).
    pub(super) best: Option<String>,
    /// Per-round flex / PyTorch's best configuration.
    pub(super) ratios: Vec<f64>,
    pub(super) busy: bool,
    /// Other backends, by name.
    pub(super) others: BTreeMap<String, Other>,
}

/// Another backend's measurement of a workload (measured once, after flex's and PyTorch's
/// rounds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Other {
    /// Timed as flex and PyTorch are: images/s of the median step, and whether the machine was
    /// busy when it started.
    Timed { images_per_sec: f64, busy: bool },
    /// A warm-up step took over a minute: images/s of that one step.
    OneStep { images_per_sec: f64 },
    /// The process had not finished after this many seconds (its network built and one step
    /// included) and was stopped ([`super::OTHER_LIMIT`]).
    Unfinished { after_s: f64 },
}

impl Other {
    /// Reads one backend's measurement as `cargo xtask bench` records it.
    pub(super) fn of(m: &Value) -> Option<Self> {
        if let Some(after_s) = m["unfinished_after_s"].as_f64() {
            return Some(Self::Unfinished { after_s });
        }
        let images_per_sec = m["images_per_sec"].as_f64()?;
        Some(if m["too_slow"] == true {
            Self::OneStep { images_per_sec }
        } else {
            Self::Timed {
                images_per_sec,
                busy: m["busy"] == true,
            }
        })
    }

    /// Images/s, where one was measured.
    pub(super) fn images_per_sec(self) -> Option<f64> {
        match self {
            Self::Timed { images_per_sec, .. } | Self::OneStep { images_per_sec } => {
                Some(images_per_sec)
            }
            Self::Unfinished { .. } => None,
        }
    }
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
        let mut configs: Vec<String> = rounds
            .iter()
            .flat_map(|r| torch_measurements(r).into_keys())
            .collect();
        configs.sort();
        configs.dedup();
        let torch: BTreeMap<String, TorchSummary> = configs
            .into_iter()
            .map(|c| {
                let of = |field: &str| -> Vec<f64> {
                    rounds
                        .iter()
                        .filter_map(|r| torch_measurements(r).get(&c)?[field].as_f64())
                        .collect()
                };
                let error = rounds.iter().find_map(|r| {
                    Some(
                        torch_measurements(r).get(&c)?["error"]
                            .as_str()?
                            .to_string(),
                    )
                });
                let summary = TorchSummary {
                    images_per_sec: median(of("images_per_sec")),
                    mib: median(of("peak_mib")),
                    error,
                };
                (c, summary)
            })
            .collect();
        let best = torch
            .iter()
            .filter_map(|(c, t)| Some((c, t.images_per_sec?)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(c, _)| c.clone());
        let ratios = best.as_ref().map_or_else(Vec::new, |best| {
            rounds
                .iter()
                .filter_map(|r| {
                    Some(
                        r["flex"]["images_per_sec"].as_f64()?
                            / torch_measurements(r).get(best)?["images_per_sec"].as_f64()?,
                    )
                })
                .collect()
        });
        let macs = w["macs_per_image"].as_f64().unwrap_or(0.0);
        let train = w["train"].as_bool().unwrap_or(false);
        let others = w["others"]
            .as_object()
            .map(|o| {
                o.iter()
                    .filter_map(|(b, m)| Some((b.clone(), Other::of(m)?)))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            name: w["name"].as_str().unwrap_or("?").to_string(),
            flops_per_image: macs * 2.0 * if train { 3.0 } else { 1.0 },
            flex: median(side("flex", "images_per_sec")),
            flex_mib: median(side("flex", "peak_mib")),
            torch,
            best,
            ratios,
            busy: rounds.iter().any(|r| r["busy"] == true),
            others,
        }
    }

    /// PyTorch's best configuration's summary.
    pub(super) fn best(&self) -> Option<&TorchSummary> {
        self.torch.get(self.best.as_ref()?)
    }

    /// The ratio cell: flex's median over the best PyTorch configuration's, or why there is none.
    pub(super) fn ratio(&self) -> String {
        let (Some(f), Some(p)) = (self.flex, self.best().and_then(|b| b.images_per_sec)) else {
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
