//! Training: the paper's recipes ([`Recipe`]), the seeded, resumable training loop ([`Run`]),
//! checkpoints, `metrics.csv` and figures.
//!
//! A run directory holds:
//! - `run.json`: network, recipe (after flags and scaling), data source;
//! - `metrics.csv`: one row per evaluation ([`MetricsRow`]);
//! - `sessions.csv`: one row per start or resume, with what it ran on ([`Session`]);
//! - `checkpoint/`: `model.bpk`, `optimizer.bpk`, `state.json`, replaced atomically;
//! - `model.bpk`: the final network with its metadata (arch, class names, normalisation);
//! - `curves.png`, `curves.svg`: training curves in the paper's style;
//! - `.lock`: held by the process writing the run ([`lock::RunLock`]).

pub mod checkpoint;
pub mod config;
pub mod curves;
pub mod data;
pub(crate) mod error;
pub mod interrupt;
pub mod lock;
pub mod metrics;
pub mod observer;
pub mod recipe;
pub mod run;
pub mod schedule;
pub mod sessions;

pub use config::{InitWeights, RunConfig};
pub use curves::training_curves;
pub use data::TrainingData;
pub use error::TrainError;
pub use metrics::{MetricsRow, parse_metrics, read_metrics};
pub use observer::{RunObserver, Silent, Step};
pub use recipe::{DataKind, Recipe, Schedule, Warmup};
pub use run::{Run, RunSummary};
pub use sessions::{Session, read_sessions};
