//! The paper's training recipes as named presets (sections 3.4 and 4.2), and their
//! proportionally scaled versions for small machines.

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{ModuleOptimizer, SgdConfig};
use serde::{Deserialize, Serialize};

use super::TrainError;

/// How the learning rate falls during a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// Multiply by `factor` at each milestone iteration (CIFAR: /10 at 32k and 48k).
    Steps {
        /// Iterations at which the rate falls; from then on the lower rate applies.
        milestones: Vec<u64>,
        /// The multiplier at each milestone.
        factor: f64,
    },
    /// Multiply by `factor` when the validation error has not improved by `threshold` for
    /// more than `patience` evaluations, as PyTorch's `ReduceLROnPlateau` (absolute
    /// threshold) does (ImageNet: "divided by 10 when the error plateaus").
    Plateau {
        /// The multiplier.
        factor: f64,
        /// Evaluations without improvement tolerated; the next one lowers the rate.
        patience: u32,
        /// Smallest decrease of the validation error that counts as an improvement.
        threshold: f64,
        /// The rate never falls below this.
        min_lr: f64,
    },
}

/// A lower learning rate at the start, until the network starts to learn (section 4.2,
/// ResNet-110: "0.01 to warm up the training until the training error is below 80%").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warmup {
    /// The warm-up learning rate.
    pub lr: f64,
    /// Warm-up ends once the mean training error of the last `window` iterations is below this.
    pub until_train_error: f64,
    /// Iterations the mean is taken over.
    pub window: usize,
    /// Warm-up ends after this many iterations in any case.
    pub max_iterations: u64,
}

/// Where the training data comes from; decides the augmentation and the test protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    /// CIFAR-10/100: pad-4 random crop, flip, per-pixel mean subtraction.
    Cifar,
    /// ImageNet-style class folders: scale augmentation [256, 480], 224 crop, flip, PCA
    /// lighting; validation on the centre 224 crop of the shorter side resized to 256.
    ImageNet,
}

/// A complete training recipe: optimiser, schedule, length, evaluation and checkpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    /// The preset it came from.
    pub name: String,
    /// The data it is written for.
    pub data: DataKind,
    /// Images per iteration.
    pub batch_size: usize,
    /// Initial learning rate.
    pub lr: f64,
    /// SGD momentum (dampening 0, as in the paper and PyTorch).
    pub momentum: f64,
    /// L2 weight decay on every parameter.
    pub weight_decay: f64,
    /// Iterations to train for.
    pub iterations: u64,
    /// How the learning rate falls.
    pub schedule: Schedule,
    /// Optional warm-up at a lower rate.
    pub warmup: Option<Warmup>,
    /// Training images held out for validation (CIFAR's 45k/5k split); 0: none.
    pub held_out: usize,
    /// Iterations between evaluations (a row of `metrics.csv` each); 0: once per epoch.
    pub eval_every: u64,
    /// Iterations between checkpoints; 0: at every evaluation.
    pub checkpoint_every: u64,
    /// Seed of initialisation, split, data order and augmentation.
    pub seed: u64,
}

/// CIFAR's schedule length in the paper (section 4.2): 64k iterations.
const CIFAR_ITERATIONS: u64 = 64_000;

impl Recipe {
    /// The recipe's SGD: its momentum without dampening (PyTorch's SGD; burn's default
    /// dampening is 0.1) and its weight decay, added to the gradient as PyTorch does. The
    /// learning rate is given to each step.
    pub fn optimizer(&self) -> ModuleOptimizer {
        SgdConfig::new()
            .with_momentum(Some(
                MomentumConfig::new()
                    .with_momentum(self.momentum)
                    .with_dampening(0.0),
            ))
            .with_weight_decay(
                (self.weight_decay > 0.0).then(|| WeightDecayConfig::new(self.weight_decay as f32)),
            )
            .init()
    }

    /// Section 4.2: batch 128, lr 0.1 divided by 10 at 32k and 48k iterations, stop at 64k,
    /// momentum 0.9, weight decay 1e-4, 45k/5k train/val split.
    pub fn cifar() -> Self {
        Self {
            name: "cifar".into(),
            data: DataKind::Cifar,
            batch_size: 128,
            lr: 0.1,
            momentum: 0.9,
            weight_decay: 1e-4,
            iterations: CIFAR_ITERATIONS,
            schedule: Schedule::Steps {
                milestones: vec![32_000, 48_000],
                factor: 0.1,
            },
            warmup: None,
            held_out: 5000,
            eval_every: 0,
            checkpoint_every: 0,
            seed: 0,
        }
    }

    /// [`Recipe::cifar`] with ResNet-110's warm-up: lr 0.01 until the training error is below
    /// 80% (about 400 iterations in the paper), then 0.1.
    pub fn cifar_warmup() -> Self {
        Self {
            name: "cifar-warmup".into(),
            warmup: Some(Warmup {
                lr: 0.01,
                until_train_error: 0.8,
                window: 20,
                max_iterations: 2000,
            }),
            ..Self::cifar()
        }
    }

    /// Section 3.4: batch 256, lr 0.1 divided by 10 when the validation error plateaus, up to
    /// 60e4 iterations, momentum 0.9, weight decay 1e-4.
    pub fn imagenet() -> Self {
        Self {
            name: "imagenet".into(),
            data: DataKind::ImageNet,
            batch_size: 256,
            lr: 0.1,
            momentum: 0.9,
            weight_decay: 1e-4,
            iterations: 600_000,
            schedule: Schedule::Plateau {
                factor: 0.1,
                patience: 3,
                threshold: 1e-3,
                min_lr: 1e-4,
            },
            warmup: None,
            held_out: 0,
            // One epoch: 5,000 iterations of 256 on ImageNet's 1.28M images, and on a smaller
            // tree the plateau test still sees the validation error once per pass.
            eval_every: 0,
            checkpoint_every: 0,
            seed: 0,
        }
    }

    /// The named presets: `cifar`, `cifar-warmup`, `imagenet`.
    pub fn presets() -> Vec<Recipe> {
        vec![Self::cifar(), Self::cifar_warmup(), Self::imagenet()]
    }

    /// The preset called `name`.
    pub fn preset(name: &str) -> Result<Self, TrainError> {
        Self::presets()
            .into_iter()
            .find(|r| r.name == name)
            .ok_or_else(|| {
                TrainError::Config(format!(
                    "unknown recipe `{name}` (known: cifar, cifar-warmup, imagenet)"
                ))
            })
    }

    /// The paper's recipe for a network of the ImageNet family (`imagenet`) or the CIFAR
    /// family of `depth` layers: CIFAR's with warm-up from 110 layers on (section 4.2).
    pub fn for_network(imagenet: bool, depth: usize) -> Self {
        match (imagenet, depth >= 110) {
            (true, _) => Self::imagenet(),
            (false, true) => Self::cifar_warmup(),
            (false, false) => Self::cifar(),
        }
    }

    /// The same schedule shape over `iterations`: step milestones are scaled proportionally,
    /// e.g. CIFAR's 32k/48k of 64k become 50% and 75%. The warm-up is not: it ends when the
    /// network trains (training error below its threshold, about 400 iterations whatever
    /// the run's length), and its cap stays, bounded by the first division.
    pub fn scaled_to(mut self, iterations: u64) -> Self {
        let scale =
            |i: u64| (i as u128 * iterations as u128 / self.iterations.max(1) as u128) as u64;
        if let Schedule::Steps { milestones, .. } = &mut self.schedule {
            for m in milestones.iter_mut() {
                *m = scale(*m);
            }
        }
        let first_division = match &self.schedule {
            Schedule::Steps { milestones, .. } => milestones.first().copied(),
            Schedule::Plateau { .. } => None,
        };
        if let Some(w) = &mut self.warmup {
            let bound = first_division.unwrap_or(iterations).max(1);
            w.max_iterations = w.max_iterations.min(bound);
        }
        self.iterations = iterations;
        self
    }

    /// [`Recipe::scaled_to`] a length given in `epochs` (of `per_epoch` iterations) or in
    /// `iterations` (epochs first); the recipe as it is when neither is given.
    pub fn scaled_to_length(
        self,
        epochs: Option<f64>,
        iterations: Option<u64>,
        per_epoch: u64,
    ) -> Self {
        let iterations = (epochs.map(|e| (e * per_epoch as f64).round() as u64)).or(iterations);
        match iterations {
            Some(i) if per_epoch > 0 => self.scaled_to(i),
            _ => self,
        }
    }

    /// Checks the recipe for values that cannot train.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |what: &str| {
            Err(TrainError::Config(format!(
                "recipe `{}`: {what}",
                self.name
            )))
        };
        if self.batch_size == 0 {
            return bad("batch size must be positive");
        }
        if self.iterations == 0 {
            return bad("iterations must be positive");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("learning rate must be positive");
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return bad("momentum must be in [0, 1)");
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad("weight decay must be non-negative");
        }
        let factor = match &self.schedule {
            Schedule::Steps { milestones, factor } => {
                if !milestones.is_sorted() {
                    return bad("milestones must be increasing");
                }
                *factor
            }
            Schedule::Plateau { factor, .. } => {
                if self.held_out == 0 && self.data == DataKind::Cifar {
                    return bad("a plateau schedule needs a validation split (held_out > 0)");
                }
                *factor
            }
        };
        if !(factor > 0.0 && factor <= 1.0) {
            return bad("the schedule's factor must be in (0, 1]");
        }
        if let Some(w) = &self.warmup
            && (w.window == 0 || w.lr.is_nan() || w.lr <= 0.0)
        {
            return bad("warm-up needs a positive rate and window");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_keeps_the_schedule_shape() {
        // The reference run: 30 epochs of 351 iterations, milestones at 50% and 75%.
        let r = Recipe::cifar().scaled_to(10_530);
        assert_eq!(r.iterations, 10_530);
        assert_eq!(
            r.schedule,
            Schedule::Steps {
                milestones: vec![5265, 7897],
                factor: 0.1
            }
        );
        r.validate().unwrap();
        // ResNet-110's warm-up ends on the training error, as in the paper, at any length;
        // its cap never reaches past the first division.
        let warmup = |iterations| {
            let r = Recipe::cifar_warmup().scaled_to(iterations);
            r.warmup.unwrap().max_iterations
        };
        assert_eq!(warmup(10_530), 2000);
        assert_eq!(warmup(2000), 1000);
    }

    #[test]
    fn presets_are_valid_and_named() {
        for r in Recipe::presets() {
            r.validate().unwrap();
            assert_eq!(Recipe::preset(&r.name).unwrap(), r);
        }
        assert!(Recipe::preset("cifar10").is_err());
        assert!(Recipe::for_network(false, 110).warmup.is_some());
        assert!(Recipe::for_network(false, 56).warmup.is_none());
    }
}
