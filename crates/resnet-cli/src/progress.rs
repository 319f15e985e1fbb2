//! How a training run shows its progress on a terminal: a bar, or periodic lines, and the
//! lines of its evaluations ([`Reporter`], the program's [`RunObserver`]).

use std::cell::{Cell, RefCell};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use resnet_train::train::metrics::percent as pct;
use resnet_train::train::{MetricsRow, RunObserver, Step};

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
    /// run's progress bar exists; the run itself prints through its [`Reporter`].
    pub fn note(self, line: &str) {
        if self != Self::Quiet {
            eprintln!("{line}");
        }
    }
}

/// A learning rate as progress shows it: four decimals, or three significant digits below
/// 0.001 (a fine-tuning rate of 1e-5 is not `0.0000`).
fn lr_text(lr: f64) -> String {
    match lr {
        lr if lr != 0.0 && lr.abs() < 1e-3 => format!("{lr:.2e}"),
        lr => format!("{lr:.4}"),
    }
}

/// An evaluation's line.
fn format_row(row: &MetricsRow) -> String {
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

/// Progress on stderr: a bar on a terminal, periodic lines otherwise (never a line per
/// batch); warnings in every mode.
pub struct Reporter {
    mode: Progress,
    /// Made when a run starts (it knows where it resumes from).
    bar: RefCell<Option<ProgressBar>>,
    last_line: Cell<Instant>,
}

const LINE_EVERY: Duration = Duration::from_secs(30);

impl Reporter {
    /// A reporter in `mode`.
    pub fn new(mode: Progress) -> Self {
        Self {
            mode,
            bar: RefCell::new(None),
            last_line: Cell::new(Instant::now()),
        }
    }

    /// The bar, when there is one (a handle to it: clones share the bar).
    fn bar(&self) -> Option<ProgressBar> {
        self.bar.borrow().clone()
    }

    /// Lines rather than a bar (and not quiet).
    fn lines(&self) -> bool {
        self.mode != Progress::Quiet && self.bar().is_none()
    }

    fn println(&self, line: &str) {
        match self.bar() {
            Some(bar) => bar.println(line),
            None if self.lines() => eprintln!("{line}"),
            None => {}
        }
    }
}

impl RunObserver for Reporter {
    fn started(&self, done: u64, total: u64) {
        let terminal = std::io::stderr().is_terminal();
        *self.bar.borrow_mut() = (self.mode == Progress::Auto && terminal).then(|| {
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
        self.last_line.set(Instant::now());
    }

    fn step(&self, step: &Step) {
        if let Some(bar) = self.bar() {
            bar.set_position(step.iteration);
            bar.set_message(format!(
                "epoch {:.2} loss {:.3} train err {:.1}% lr {} {:.0} img/s",
                step.epoch,
                step.loss,
                100.0 * step.train_error,
                lr_text(step.lr),
                step.images_per_sec
            ));
        } else if self.lines() && self.last_line.get().elapsed() >= LINE_EVERY {
            self.last_line.set(Instant::now());
            eprintln!(
                "iter {} epoch {:.2} loss {:.4} train err {:.2}% lr {} {:.0} img/s, ETA {}",
                step.iteration,
                step.epoch,
                step.loss,
                100.0 * step.train_error,
                lr_text(step.lr),
                step.images_per_sec,
                indicatif::HumanDuration(Duration::from_secs_f64(
                    (step.total - step.iteration) as f64 * step.seconds_per_step
                ))
            );
        }
    }

    fn evaluated(&self, row: &MetricsRow) {
        self.println(&format_row(row));
    }

    fn note(&self, line: &str) {
        self.println(line);
    }

    /// Shown in every mode (`Quiet` too), above the bar when there is one.
    fn warning(&self, message: &str) {
        let line = format!("warning: {message}");
        match self.bar() {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    fn finished(&self) {
        if let Some(bar) = self.bar() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::lr_text;

    #[test]
    fn small_rates_keep_their_digits() {
        assert_eq!(lr_text(0.1), "0.1000");
        assert_eq!(lr_text(1e-5), "1.00e-5");
        assert_eq!(lr_text(0.0), "0.0000");
    }
}
