//! The learning rate at each iteration: the recipe's schedule and warm-up, with the state
//! they carry (saved in checkpoints so that a resumed run continues it exactly), and the step
//! schedule as burn's scheduler for its `Learner`.

use std::collections::VecDeque;

use burn::optim::lr_scheduler::LrSchedulerConfig;
use burn::optim::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::optim::lr_scheduler::sequential::SequentialLrSchedulerConfig;
use serde::{Deserialize, Serialize};

use super::TrainError;
use super::recipe::{Recipe, Schedule};

/// The schedule's state between iterations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LrSchedule {
    /// Whether warm-up is over (or there is none).
    pub warmed_up: bool,
    /// Training errors of the last iterations, for the warm-up's test.
    pub recent_errors: VecDeque<f64>,
    /// Plateau schedule: the factor applied so far.
    pub plateau_scale: f64,
    /// Plateau schedule: the best validation error seen.
    pub best_val_error: Option<f64>,
    /// Plateau schedule: evaluations since the last improvement.
    pub evals_without_improvement: u32,
}

impl LrSchedule {
    /// The state at the start of a run.
    pub fn new(recipe: &Recipe) -> Self {
        Self {
            warmed_up: recipe.warmup.is_none(),
            recent_errors: VecDeque::new(),
            plateau_scale: 1.0,
            best_val_error: None,
            evals_without_improvement: 0,
        }
    }

    /// The learning rate of iteration `iteration` (0-based).
    pub fn lr(&self, recipe: &Recipe, iteration: u64) -> f64 {
        if let (false, Some(w)) = (self.warmed_up, &recipe.warmup) {
            return w.lr;
        }
        match &recipe.schedule {
            Schedule::Steps { milestones, factor } => {
                let passed = milestones.iter().filter(|&&m| iteration >= m).count();
                recipe.lr * factor.powi(passed as i32)
            }
            Schedule::Plateau { min_lr, .. } => (recipe.lr * self.plateau_scale).max(*min_lr),
        }
    }

    /// Records the training error of iteration `iteration`; ends warm-up when due.
    pub fn observe_train_error(&mut self, recipe: &Recipe, iteration: u64, error: f64) {
        let Some(w) = &recipe.warmup else { return };
        if self.warmed_up {
            return;
        }
        self.recent_errors.push_back(error);
        if self.recent_errors.len() > w.window {
            self.recent_errors.pop_front();
        }
        let mean = self.recent_errors.iter().sum::<f64>() / self.recent_errors.len() as f64;
        if (self.recent_errors.len() == w.window && mean < w.until_train_error)
            || iteration + 1 >= w.max_iterations
        {
            self.warmed_up = true;
            self.recent_errors.clear();
        }
    }

    /// Records a validation error; a plateau schedule lowers the rate when it stalls.
    /// Returns whether the rate fell.
    pub fn observe_val_error(&mut self, recipe: &Recipe, error: f64) -> bool {
        let Schedule::Plateau {
            factor,
            patience,
            threshold,
            ..
        } = &recipe.schedule
        else {
            return false;
        };
        // As PyTorch's ReduceLROnPlateau (mode "min", threshold_mode "abs", no cooldown): the
        // rate falls on the evaluation that makes more than `patience` without improvement.
        match self.best_val_error {
            Some(best) if error > best - threshold => {
                self.evals_without_improvement += 1;
                if self.evals_without_improvement > *patience {
                    self.plateau_scale *= factor;
                    self.evals_without_improvement = 0;
                    return true;
                }
            }
            _ => {
                self.best_val_error = Some(error);
                self.evals_without_improvement = 0;
            }
        }
        false
    }
}

impl Recipe {
    /// The recipe's schedule as burn's learning rate scheduler, for training with burn's
    /// `Learner` (`Learner::new(model, recipe.optimizer(), recipe.lr_scheduler()?)`): constant
    /// rates that fall at the milestones, one scheduler step per iteration, the rates
    /// [`LrSchedule::lr`] gives.
    ///
    /// Schedules that depend on the errors met in training, ResNet-110's warm-up (until the
    /// training error is below 80%) and ImageNet's divide-on-plateau, are refused rather than
    /// approximated: burn's schedulers see no metrics. `resnet train` ([`super::Run`]) runs
    /// them.
    ///
    /// ```
    /// use burn::tensor::Device;
    /// use burn::train::Learner;
    /// use resnet_model::zoo;
    /// use resnet_train::train::Recipe;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let model = zoo::config_for("resnet20")?.init(&Device::flex().autodiff())?;
    /// let recipe = Recipe::cifar().scaled_to(12_000);
    /// let learner = Learner::new(model, recipe.optimizer(), recipe.lr_scheduler()?);
    /// // ... SupervisedTraining::new(dir, train_loader, valid_loader).launch(learner)
    ///
    /// assert!(Recipe::imagenet().lr_scheduler().is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn lr_scheduler(&self) -> Result<ModuleLrScheduler, TrainError> {
        self.validate()?;
        let refused = |what: &str| {
            Err(TrainError::Config(format!(
                "recipe `{}`: {what} depends on the training metrics, which burn's \
                 schedulers do not see; train it with `resnet train` (resnet_train::train::Run)",
                self.name
            )))
        };
        if self.warmup.is_some() {
            return refused("the warm-up");
        }
        let (milestones, factor) = match &self.schedule {
            Schedule::Steps { milestones, factor } => (milestones, *factor),
            Schedule::Plateau { .. } => return refused("the divide-on-plateau schedule"),
        };
        // One constant rate per span between milestones; a milestone at 0 (a very short
        // scaled run) or repeated lowers the rate without starting a span.
        let mut rates = vec![self.lr];
        let mut starts = Vec::new();
        for (passed, &m) in milestones.iter().enumerate() {
            let lr = self.lr * factor.powi(passed as i32 + 1);
            if m == 0 || starts.last() == Some(&(m as usize)) {
                *rates.last_mut().expect("one rate at least") = lr;
            } else {
                rates.push(lr);
                starts.push(m as usize);
            }
        }
        let rates = rates.into_iter().map(LrSchedulerConfig::Constant).collect();
        (SequentialLrSchedulerConfig::new(rates, starts).init()).map_err(TrainError::Config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_fall_at_the_milestones() {
        let r = Recipe::cifar();
        let s = LrSchedule::new(&r);
        assert_eq!(s.lr(&r, 0), 0.1);
        assert_eq!(s.lr(&r, 31_999), 0.1);
        assert!((s.lr(&r, 32_000) - 0.01).abs() < 1e-12);
        assert!((s.lr(&r, 48_000) - 0.001).abs() < 1e-12);
    }

    #[test]
    fn warmup_ends_below_80_percent_error() {
        let r = Recipe::cifar_warmup();
        let mut s = LrSchedule::new(&r);
        for i in 0..100 {
            assert_eq!(s.lr(&r, i), 0.01);
            s.observe_train_error(&r, i, 0.95);
        }
        // The mean of the last 20 errors: (13 x 0.95 + 7 x 0.55) / 20 = 0.81, then 0.79.
        for i in 100..107 {
            s.observe_train_error(&r, i, 0.55);
            assert!(!s.warmed_up, "the window's mean is still above 80%");
        }
        s.observe_train_error(&r, 107, 0.55);
        assert!(s.warmed_up);
        assert_eq!(s.lr(&r, 108), 0.1);
    }

    #[test]
    fn burn_scheduler_gives_the_loops_rates() {
        // Scaled to 1 and 2 iterations, the milestones are [0, 0] and [1, 1].
        for r in [
            Recipe::cifar(),
            Recipe::cifar().scaled_to(10_530),
            Recipe::cifar().scaled_to(1),
            Recipe::cifar().scaled_to(2),
        ] {
            let ours = LrSchedule::new(&r);
            let mut burns = r.lr_scheduler().unwrap();
            for i in 0..r.iterations {
                let lr = burns.step().base();
                assert_eq!(lr, ours.lr(&r, i), "{} at iteration {i}", r.iterations);
            }
        }
        for r in [Recipe::cifar_warmup(), Recipe::imagenet()] {
            let Err(e) = r.lr_scheduler() else {
                panic!("{} has a metric-driven schedule", r.name)
            };
            assert!(e.to_string().contains("resnet train"), "{e}");
        }
    }

    #[test]
    fn plateau_divides_after_patience() {
        let r = Recipe::imagenet();
        let mut s = LrSchedule::new(&r);
        assert!(!s.observe_val_error(&r, 0.5));
        assert!(!s.observe_val_error(&r, 0.4));
        assert!(!s.observe_val_error(&r, 0.4));
        assert!(!s.observe_val_error(&r, 0.41));
        assert!(!s.observe_val_error(&r, 0.4));
        // The fourth evaluation without improvement (patience 3).
        assert!(s.observe_val_error(&r, 0.3995));
        assert!((s.lr(&r, 0) - 0.01).abs() < 1e-12);
        assert_eq!(s.best_val_error, Some(0.4));
    }
}
