//! What a run tells whoever watches it. The library prints nothing: the `resnet` program
//! (`resnet-cli`) draws a progress bar or prints lines, and a program that embeds the
//! library implements [`RunObserver`] to show, log or record what it needs. burn-train's
//! `Learner` has its event processors for the same part.

use super::metrics::MetricsRow;

/// One training step, as a run reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// Iterations done, this step included.
    pub iteration: u64,
    /// Iterations the run makes in all.
    pub total: u64,
    /// `iteration` in epochs of the training set.
    pub epoch: f64,
    /// This step's training loss (the batch's mean cross-entropy).
    pub loss: f32,
    /// This step's learning rate.
    pub lr: f64,
    /// Top-1 training error over the steps since the last evaluation.
    pub train_error: f64,
    /// Training images per second over the steps since the last evaluation.
    pub images_per_sec: f64,
    /// Seconds per step over the steps since the last evaluation (for an ETA).
    pub seconds_per_step: f64,
}

/// Receives what a run reports, in order: [`started`](Self::started), then per step
/// [`step`](Self::step) and at each evaluation [`evaluated`](Self::evaluated), with
/// [`note`](Self::note)s and [`warning`](Self::warning)s between, and
/// [`finished`](Self::finished) when the run ends (done or interrupted; not on an error,
/// which the run returns). Every method does nothing by default, and takes `&self`: an
/// observer that keeps state holds it in a `Cell` or a `Mutex`.
pub trait RunObserver {
    /// The run starts (or resumes) after `done` of its `total` iterations.
    fn started(&self, done: u64, total: u64) {
        let _ = (done, total);
    }

    /// A training step is done.
    fn step(&self, step: &Step) {
        let _ = step;
    }

    /// An evaluation is done; its row is in `metrics.csv`.
    fn evaluated(&self, row: &MetricsRow) {
        let _ = row;
    }

    /// A line about the run worth showing (e.g. the schedule divided the learning rate).
    fn note(&self, line: &str) {
        let _ = line;
    }

    /// Something went wrong without stopping the run (e.g. its figure could not be drawn).
    fn warning(&self, message: &str) {
        let _ = message;
    }

    /// The run ends: it made its last iteration, or it was interrupted.
    fn finished(&self) {}
}

/// An observer that shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl RunObserver for Silent {}
