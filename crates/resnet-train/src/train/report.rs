//! How a run reports: progress (a bar on a terminal, periodic lines otherwise), the lines of
//! its evaluations, and the summary of a finished run.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::checkpoint::RunState;
use super::metrics::{MetricsRow, percent as pct};

/// How a run reports progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// A progress bar on a terminal, else a line every 30 s and at each evaluation.
    Auto,
    /// Lines only.
    Lines,
    /// Nothing but warnings and errors.
    Quiet,
}

impl Progress {
    /// Prints a line about the run (e.g. a note on its settings) unless `Quiet`. Before the
    /// run's progress bar exists; the run itself prints through its reporter.
    pub fn note(self, line: &str) {
        if self != Self::Quiet {
            eprintln!("{line}");
        }
    }
}

/// What a finished run leaves.
#[derive(Debug, Clone)]
pub struct RunSummary {
    /// The final evaluation.
    pub last: MetricsRow,
    /// The final network's record.
    pub model_path: PathBuf,
}

impl std::fmt::Display for RunSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let last = &self.last;
        write!(
            f,
            "test error {}, val error {}, train error {:.2}% after {} iterations ({:.0} s); model {}",
            pct(last.test_error),
            pct(last.val_error),
            100.0 * last.train_error,
            last.iteration,
            last.wall_seconds,
            self.model_path.display()
        )
    }
}

/// A learning rate as progress shows it: four decimals, or three significant digits below
/// 0.001 (a fine-tuning rate of 1e-5 is not `0.0000`).
pub(super) fn lr_text(lr: f64) -> String {
    match lr {
        lr if lr != 0.0 && lr.abs() < 1e-3 => format!("{lr:.2e}"),
        lr => format!("{lr:.4}"),
    }
}

pub(super) fn format_row(row: &MetricsRow) -> String {
    format!(
        "iter {} epoch {:.2} lr {} train loss {:.4} train err {:.2}% val err {} test err {} {:.0} img/s {:.0}s",
        row.iteration,
        row.epoch,
        lr_text(row.lr),
        row.train_loss,
        100.0 * row.train_error,
        pct(row.val_error),
        pct(row.test_error),
        row.images_per_sec,
        row.wall_seconds
    )
}

/// Progress: a bar on a terminal, periodic lines otherwise (never a line per batch).
pub(super) struct Reporter {
    bar: Option<ProgressBar>,
    lines: bool,
    total: u64,
    batch_size: usize,
    last_line: std::cell::Cell<Instant>,
}

const LINE_EVERY: Duration = Duration::from_secs(30);

impl Reporter {
    pub(super) fn new(mode: Progress, total: u64, done: u64, batch_size: usize) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = (mode == Progress::Auto && terminal).then(|| {
            let bar = ProgressBar::new(total).with_position(done);
            bar.set_style(
                ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:30}] {pos}/{len} it, ETA {eta} {msg}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            // A resumed run: the rate is measured from here, not from iteration 0.
            bar.reset_eta();
            bar
        });
        Self {
            lines: mode != Progress::Quiet && bar.is_none(),
            bar,
            total,
            batch_size,
            last_line: std::cell::Cell::new(Instant::now()),
        }
    }

    pub(super) fn step(&self, state: &RunState, lr: f64, loss: f32, per_epoch: u64) {
        let acc = &state.since_eval;
        let speed = acc.images as f64 / acc.seconds.max(1e-9);
        let error = acc.errors as f64 / acc.images.max(1) as f64;
        let epoch = state.iteration as f64 / per_epoch as f64;
        if let Some(bar) = &self.bar {
            bar.set_position(state.iteration);
            bar.set_message(format!(
                "epoch {epoch:.2} loss {loss:.3} train err {:.1}% lr {} {speed:.0} img/s",
                100.0 * error,
                lr_text(lr)
            ));
        } else if self.lines && self.last_line.get().elapsed() >= LINE_EVERY {
            self.last_line.set(Instant::now());
            eprintln!(
                "iter {} epoch {epoch:.2} loss {loss:.4} train err {:.2}% lr {} {speed:.0} img/s, ETA {}",
                state.iteration,
                100.0 * error,
                lr_text(lr),
                indicatif::HumanDuration(Duration::from_secs_f64(
                    (self.total - state.iteration) as f64 * acc.seconds
                        / (acc.images as f64 / self.batch_size as f64).max(1.0)
                ))
            );
        }
    }

    pub(super) fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None if self.lines => eprintln!("{line}"),
            None => {}
        }
    }

    /// A warning: shown in every mode (`Quiet` too), above the bar when there is one.
    pub(super) fn warn(&self, message: &str) {
        let line = format!("warning: {message}");
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
