//! Checkpoints: the network, the optimizer's momentum and the run's state, written to a
//! temporary directory and renamed into place, so a run killed at any moment leaves a
//! complete checkpoint behind.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::tensor::Device;
use resnet_model::ResNet;
use resnet_model::record::load_record_file;
use serde::{Deserialize, Serialize};

use super::TrainError;
use super::schedule::LrSchedule;

/// Everything besides the weights and the momentum that a resumed run needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// Iterations done.
    pub iteration: u64,
    /// The learning-rate schedule's state.
    pub schedule: LrSchedule,
    /// Training wall time so far, seconds.
    pub wall_seconds: f64,
    /// Training statistics since the last evaluation.
    pub since_eval: Accumulator,
}

/// Sums of training statistics between two evaluations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Accumulator {
    /// Sum over images of the loss.
    pub loss_sum: f64,
    /// Misclassified training images.
    pub errors: u64,
    /// Images seen.
    pub images: u64,
    /// Seconds spent training them.
    pub seconds: f64,
}

const CURRENT: &str = "checkpoint";
const PREVIOUS: &str = "checkpoint.old";
const STAGING: &str = "checkpoint.tmp";
const MODEL: &str = "model.bpk";
const OPTIMIZER: &str = "optimizer.bpk";
const STATE: &str = "state.json";

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    resnet_data::atomic::write(path, bytes).map_err(TrainError::io(path))
}

/// Saves a checkpoint of the run in `run_dir`, replacing the previous one.
pub fn save(
    run_dir: &Path,
    model: &ResNet,
    optimizer: &ModuleOptimizer,
    state: &RunState,
    metadata: &BTreeMap<String, String>,
) -> Result<(), TrainError> {
    let staging = run_dir.join(STAGING);
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(TrainError::io(&staging))?;
    }
    fs::create_dir_all(&staging).map_err(TrainError::io(&staging))?;
    let written = (|| -> Result<(), TrainError> {
        // `valid` folds BN's pending running-statistics update in (burn's `RunningState` stores
        // the latest update per thread and applies it lazily); saving the training module
        // directly would write statistics one iteration old.
        model.valid().save_record(staging.join(MODEL), metadata)?;
        let optimizer_path = staging.join(OPTIMIZER);
        optimizer
            .save(&optimizer_path)
            .map_err(|e| TrainError::Optimizer {
                path: optimizer_path.clone(),
                reason: e.to_string(),
            })?;
        for file in [MODEL, OPTIMIZER] {
            let path = staging.join(file);
            fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(TrainError::io(&path))?;
        }
        let json = serde_json::to_vec_pretty(state).expect("the run state serialises");
        write_atomically(&staging.join(STATE), &json)
    })();
    if let Err(e) = written {
        // A write that failed (e.g. a full disk) leaves no half-written checkpoint behind.
        let _ = fs::remove_dir_all(&staging);
        return Err(e);
    }

    // Swap in: current -> previous, staging -> current, drop previous. A crash between the
    // renames leaves `checkpoint.old` complete, which `latest` falls back to.
    let (current, previous) = (run_dir.join(CURRENT), run_dir.join(PREVIOUS));
    if current.exists() {
        // Only now is `checkpoint.old` redundant: after a crash between the renames below it
        // is the one complete checkpoint, and stays until `staging` has replaced it.
        if previous.exists() {
            fs::remove_dir_all(&previous).map_err(TrainError::io(&previous))?;
        }
        fs::rename(&current, &previous).map_err(TrainError::io(&current))?;
    }
    fs::rename(&staging, &current).map_err(TrainError::io(&staging))?;
    if previous.exists() {
        fs::remove_dir_all(&previous).map_err(TrainError::io(&previous))?;
    }
    Ok(())
}

/// Removes what a killed process was writing in `run_dir`: a staged checkpoint, scratch files
/// of result writes (`*.partial`) and of burnpack writes (`*.<pid>-<n>.tmp`). Call it only
/// while holding the run's lock: then no live process writes them.
pub fn clear_scratch(run_dir: &Path) -> Result<(), TrainError> {
    let staging = run_dir.join(STAGING);
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(TrainError::io(&staging))?;
    }
    let entries = fs::read_dir(run_dir).map_err(TrainError::io(run_dir))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_file() && (name.ends_with(".partial") || name.ends_with(".tmp")) {
            let path = entry.path();
            fs::remove_file(&path).map_err(TrainError::io(&path))?;
        }
    }
    Ok(())
}

/// The newest complete checkpoint directory of a run, if any.
pub fn latest(run_dir: &Path) -> Option<PathBuf> {
    [CURRENT, PREVIOUS]
        .iter()
        .map(|name| run_dir.join(name))
        .find(|dir| dir.join(STATE).is_file())
}

/// A loaded checkpoint.
pub struct Loaded {
    /// The network (on `device`).
    pub model: ResNet,
    /// The optimizer with its momentum.
    pub optimizer: ModuleOptimizer,
    /// The run's state.
    pub state: RunState,
}

/// Loads the checkpoint in `dir` onto `device`, into `optimizer`.
pub fn load(dir: &Path, optimizer: ModuleOptimizer, device: &Device) -> Result<Loaded, TrainError> {
    let state_path = dir.join(STATE);
    let json = fs::read(&state_path).map_err(TrainError::io(&state_path))?;
    let state: RunState =
        serde_json::from_slice(&json).map_err(TrainError::unreadable_in_run(dir, &state_path))?;
    let model = load_record_file(dir.join(MODEL), device)?;
    let optimizer_path = dir.join(OPTIMIZER);
    let optimizer = optimizer
        .load(&optimizer_path)
        .map_err(|e| TrainError::Optimizer {
            path: optimizer_path.clone(),
            reason: e.to_string(),
        })?;
    Ok(Loaded {
        model,
        optimizer,
        state,
    })
}
