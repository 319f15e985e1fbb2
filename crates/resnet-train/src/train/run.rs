//! The training loop.
//!
//! A documented custom loop rather than burn's `Learner`: the paper's recipes are
//! iteration-based (milestones at 32k/48k, stop at 64k), ResNet-110's warm-up ends on a
//! training-error condition, and a resumed run must be bit-identical to an uninterrupted
//! one, which needs the data order and augmentation to be a function of (seed, epoch, batch)
//! and the checkpoint to land at any iteration. Each iteration is: seeded augmented batch ->
//! the network's `TrainStep` (forward, cross-entropy, backward: the step burn's Learner runs)
//! -> SGD (momentum 0.9, dampening 0, coupled weight decay, as PyTorch's `SGD`).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::ModuleOptimizer;
use burn::tensor::{Device, Tensor};
use burn::train::{TrainOutput, TrainStep};
use resnet_data::batch::{images_to_tensor, labels_to_tensor};
use resnet_data::metadata::RunMetadata;
use resnet_data::pipeline::batch_seed;
use resnet_model::load::num_classes_of;
use resnet_model::{ClassificationBatch, ResNet};

use super::TrainError;
use super::checkpoint::{self, Accumulator, RunState};
use super::config::{InitWeights, RunConfig};
use super::data::TrainingData;
use super::error::with_causes;
use super::interrupt::Interrupt;
use super::lock::RunLock;
use super::metrics::{MetricsRow, percent as pct, read_metrics, write_metrics};
use super::observer::{RunObserver, Step};
use super::recipe::{Recipe, Schedule};
use super::schedule::LrSchedule;
use super::sessions::{self, Session};

/// A run in a directory.
pub struct Run<'a> {
    /// The run's configuration.
    pub config: RunConfig,
    /// Its data.
    pub data: &'a TrainingData,
    /// Where its files go.
    pub dir: PathBuf,
    /// The compute device (without autodiff; training adds it).
    pub device: Device,
    /// Images per evaluation forward pass.
    pub eval_batch_size: usize,
    /// Who is told of the run's progress ([`Silent`](super::Silent) for no one).
    pub observer: &'a dyn RunObserver,
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

/// Metadata stored with every checkpoint and the final network, so that it can be evaluated
/// without flags.
fn metadata(run: &Run) -> BTreeMap<String, String> {
    RunMetadata {
        arch: run.config.arch.clone(),
        classes: run.data.class_names().to_vec(),
        normalization: run.data.normalization().clone(),
        // The train/val split, so that `resnet eval --split val` scores the same images.
        seed: run.config.recipe.seed,
        held_out: run.data.held_out(),
    }
    .to_map()
}

impl Run<'_> {
    /// Refuses a directory that already holds a run (a checkpoint): `resnet train` checks it
    /// before loading any data, [`Run::start`] again under the run's lock.
    pub fn check_new_dir(dir: &Path) -> Result<(), TrainError> {
        match checkpoint::latest(dir) {
            Some(_) => Err(TrainError::Config(format!(
                "{} already holds a run; resume it (--resume) or choose another --out",
                dir.display()
            ))),
            None => Ok(()),
        }
    }

    /// Starts the run from scratch in an empty (or new) directory.
    pub fn start(&self) -> Result<RunSummary, TrainError> {
        self.config.recipe.validate()?;
        if matches!(self.config.recipe.schedule, Schedule::Plateau { .. })
            && !self.data.has_validation()
        {
            return Err(TrainError::Config(
                "a plateau schedule needs validation images (a val/ folder or --held-out N)".into(),
            ));
        }
        let _lock = RunLock::acquire(&self.dir)?;
        Self::check_new_dir(&self.dir)?;
        fs::create_dir_all(&self.dir).map_err(TrainError::io(&self.dir))?;
        self.write_config()?;
        self.train_from_iteration_zero()
    }

    /// Trains from the initial weights (the directory locked, its `run.json` written).
    fn train_from_iteration_zero(&self) -> Result<RunSummary, TrainError> {
        let device = self.device.clone().autodiff();
        device.seed(self.config.recipe.seed);
        let model = match &self.config.init {
            Some(init) => self.initial_weights(init, &device)?,
            None => self.config.network.init(&device)?,
        };
        let state = RunState {
            iteration: 0,
            schedule: LrSchedule::new(&self.config.recipe),
            wall_seconds: 0.0,
            since_eval: Accumulator::default(),
        };
        self.train(model, self.config.recipe.optimizer(), state, Vec::new())
    }

    /// Continues the run from its last checkpoint. The data must be the run's (the data order
    /// is a function of the image count), and the network, split, seed and batch size those
    /// of its `run.json`; a recipe that differs otherwise (e.g. a lower base rate after a
    /// divergence, a longer schedule) replaces the stored one.
    pub fn resume(&self) -> Result<RunSummary, TrainError> {
        let refuse = |reason: String| TrainError::Resume {
            dir: self.dir.clone(),
            reason,
        };
        if !self.dir.is_dir() {
            return Err(refuse("no such directory".into()));
        }
        let _lock = RunLock::acquire(&self.dir)?;
        checkpoint::clear_scratch(&self.dir)?;
        let stored = Self::read_config(&self.dir)?;
        let (config, data) = (&self.config, self.data);
        if data.train_len() != config.train_images
            || data.class_names().len() != config.network.num_classes
        {
            return Err(refuse(format!(
                "the data has {} training images in {} classes; the run was started on {} in {}",
                data.train_len(),
                data.class_names().len(),
                config.train_images,
                config.network.num_classes
            )));
        }
        // The data may have moved; the counts above say whether it is the same. The recipe may
        // change (rate, length, schedule), not what decides the split and the data order.
        let same_run = RunConfig {
            recipe: Recipe {
                seed: config.recipe.seed,
                held_out: config.recipe.held_out,
                batch_size: config.recipe.batch_size,
                ..stored.recipe.clone()
            },
            data: stored.data.clone(),
            ..config.clone()
        };
        if same_run != stored {
            return Err(refuse(
                "its run.json describes another network, data, split, seed or batch size than \
                 the one given"
                    .into(),
            ));
        }
        let Some(dir) = checkpoint::latest(&self.dir) else {
            // Stopped before its first checkpoint: the run starts again from iteration 0, the
            // same run (every random choice is a function of the seed).
            if stored.recipe != config.recipe {
                self.write_config()?;
            }
            return self.train_from_iteration_zero();
        };
        let loaded = checkpoint::load(
            &dir,
            config.recipe.optimizer(),
            &self.device.clone().autodiff(),
        )?;
        let metrics_path = self.dir.join("metrics.csv");
        let mut rows = if metrics_path.exists() {
            read_metrics(&metrics_path)?
        } else {
            Vec::new()
        };
        if stored.recipe != config.recipe {
            self.write_config()?;
        }
        // Rows written after the checkpoint will be written again.
        rows.retain(|r| r.iteration <= loaded.state.iteration);
        self.train(loaded.model, loaded.optimizer, loaded.state, rows)
    }

    /// The network of `init`'s weights, with a new classifier for the data's classes unless
    /// it already has that many outputs.
    fn initial_weights(&self, init: &InitWeights, device: &Device) -> Result<ResNet, TrainError> {
        let classes = num_classes_of(&init.path)?;
        let mut network = self.config.network.clone();
        network.num_classes = classes.unwrap_or(network.num_classes);
        let model = network.init(device)?.load_weights(&init.path)?;
        match model.config().num_classes == self.config.network.num_classes {
            true => Ok(model),
            false => Ok(model.with_num_classes(self.config.network.num_classes)?),
        }
    }

    /// Writes the run's `run.json` (at the start, and when a resumed run changes it).
    pub fn write_config(&self) -> Result<(), TrainError> {
        let json = serde_json::to_vec_pretty(&self.config).expect("the run config serialises");
        checkpoint::write_atomically(&self.dir.join("run.json"), &json)
    }

    /// Reads the `run.json` of a run directory.
    pub fn read_config(dir: &Path) -> Result<RunConfig, TrainError> {
        let path = dir.join("run.json");
        let json = fs::read(&path).map_err(|e| TrainError::Resume {
            dir: dir.to_path_buf(),
            reason: format!("{}: {e}", path.display()),
        })?;
        serde_json::from_slice(&json).map_err(TrainError::unreadable_in_run(dir, &path))
    }

    fn train(
        &self,
        mut model: ResNet,
        mut optimizer: ModuleOptimizer,
        mut state: RunState,
        mut rows: Vec<MetricsRow>,
    ) -> Result<RunSummary, TrainError> {
        // Fine-tuning: applied at every start and resume (the flags are not in checkpoints).
        if let Some(n) = self.config.freeze_stages {
            model = model.freeze_stages(n);
        }
        let recipe = &self.config.recipe;
        let per_epoch = self.config.iterations_per_epoch;
        if per_epoch == 0 {
            return Err(TrainError::NoBatch {
                images: self.data.train_len(),
                batch_size: recipe.batch_size,
            });
        }
        let eval_every = if recipe.eval_every == 0 {
            per_epoch
        } else {
            recipe.eval_every
        };
        let checkpoint_every = if recipe.checkpoint_every == 0 {
            eval_every
        } else {
            recipe.checkpoint_every
        };
        let metadata = metadata(self);
        let device = format!("{:?}", self.device); // `Device<Flex(Cpu)>`
        let device = device
            .strip_prefix("Device<")
            .and_then(|d| d.strip_suffix('>'))
            .unwrap_or(&device);
        sessions::record(&self.dir, Session::now(state.iteration, device))?;
        let device = self.device.clone().autodiff();
        let observer = self.observer;
        observer.started(state.iteration, recipe.iterations);
        if self.config.init.is_some() && state.iteration == 0 {
            // Fine-tuning: where the given weights start, before the first step.
            let (val, test) = self.data.evaluate(
                &model.valid().fold_batch_norm(),
                &self.device,
                self.eval_batch_size,
            )?;
            observer.note(&format!(
                "iter 0 (the weights as given) val err {} test err {}",
                pct(val.map(|r| r.top1_error)),
                pct(test.map(|r| r.top1_error))
            ));
        }
        let mut last_checkpoint = match state.iteration {
            0 => "none yet: start again".to_string(),
            i => format!("iteration {i}"),
        };
        let mut order: Option<(u64, Vec<usize>)> = None;
        // Ctrl-C or SIGTERM: this step finishes, a checkpoint is written, the run stops.
        let interrupt = Interrupt::catch().map_err(TrainError::io(&self.dir))?;

        while state.iteration < recipe.iterations {
            let started = Instant::now();
            let (epoch, batch) = (
                state.iteration / per_epoch,
                (state.iteration % per_epoch) as usize,
            );
            if order.as_ref().is_none_or(|(e, _)| *e != epoch) {
                order = Some((epoch, self.data.epoch_order(recipe.seed, epoch)));
            }
            let (images, skipped) = self.data.train_batch(
                &order.as_ref().expect("set above").1,
                epoch,
                batch,
                recipe.batch_size,
                recipe.seed,
            )?;
            for e in &skipped {
                observer.warning(&format!("left out of the batch: {}", with_causes(e)));
            }
            if images.is_empty() {
                return Err(TrainError::Config(format!(
                    "batch {batch} of epoch {epoch} has no readable image"
                )));
            }
            let lr = state.schedule.lr(recipe, state.iteration);
            let batch = ClassificationBatch {
                images: images_to_tensor(
                    &images.pixels,
                    images.shape,
                    self.data.normalization(),
                    &device,
                ),
                targets: labels_to_tensor(&images.labels, &device),
            };
            // Random draws of the network (dropout's masks) come from the device's generator,
            // seeded at each step: a resumed run draws what the uninterrupted one did.
            device.seed(batch_seed(recipe.seed ^ NETWORK_DRAWS, state.iteration, 0));
            let TrainOutput { grads, item } = TrainStep::step(&model, batch);
            let predicted = item.output.argmax(1).into_data();
            let loss_value = item.loss.into_scalar::<f32>();
            let non_finite = |what: String, iteration: u64| TrainError::NonFinite {
                what,
                iteration,
                lr,
                checkpoint: last_checkpoint.clone(),
            };
            if !loss_value.is_finite() {
                let what = format!("the training loss became {loss_value}");
                return Err(non_finite(what, state.iteration));
            }
            model = optimizer.step(lr, model, grads);

            let errors = predicted
                .iter::<i64>()
                .zip(&images.labels)
                .filter(|(p, l)| *p as usize != **l)
                .count();
            let n = images.len();
            state
                .schedule
                .observe_train_error(recipe, state.iteration, errors as f64 / n as f64);
            state.iteration += 1;
            let seconds = started.elapsed().as_secs_f64();
            state.wall_seconds += seconds;
            let acc = &mut state.since_eval;
            acc.loss_sum += loss_value as f64 * n as f64;
            acc.errors += errors as u64;
            acc.images += n as u64;
            acc.seconds += seconds;
            let acc = &state.since_eval;
            observer.step(&Step {
                iteration: state.iteration,
                total: recipe.iterations,
                epoch: state.iteration as f64 / per_epoch as f64,
                loss: loss_value,
                lr,
                train_error: acc.errors as f64 / acc.images.max(1) as f64,
                images_per_sec: acc.images as f64 / acc.seconds.max(1e-9),
                seconds_per_step: acc.seconds
                    / (acc.images as f64 / recipe.batch_size as f64).max(1.0),
            });

            let done = state.iteration == recipe.iterations;
            let interrupted = interrupt.requested() && !done;
            let evaluates = state.iteration.is_multiple_of(eval_every) || done;
            let checkpoints =
                state.iteration.is_multiple_of(checkpoint_every) || done || interrupted;
            // A finite loss can still take a step to infinite weights: what is evaluated and
            // checkpointed must be checked first.
            if (evaluates || checkpoints) && !parameters_finite(&model) {
                let what = "the weights became NaN or infinite".into();
                return Err(non_finite(what, state.iteration - 1));
            }
            if evaluates {
                let row = self.evaluate(&model, &mut state, lr, per_epoch)?;
                observer.evaluated(&row);
                rows.push(row);
                write_metrics(&self.dir.join("metrics.csv"), &rows)?;
            }
            if checkpoints {
                checkpoint::save(&self.dir, &model, &optimizer, &state, &metadata)?;
                last_checkpoint = format!(
                    "{} at iteration {}",
                    self.dir.join("checkpoint").display(),
                    state.iteration
                );
            }
            if interrupted {
                observer.finished();
                return Err(TrainError::Interrupted {
                    iteration: state.iteration,
                    dir: self.dir.clone(),
                });
            }
        }
        observer.finished();
        let model_path = self.dir.join("model.bpk");
        model.valid().save_record(&model_path, &metadata)?;
        // A figure that cannot be drawn (e.g. an unwritable file) must not fail a finished run.
        let runs = [(self.config.arch.clone(), rows.clone())];
        if let Err(e) = super::curves::training_curves(&runs, &self.dir.join("curves"), None) {
            observer.warning(&with_causes(&e));
        }
        let last = rows
            .last()
            .cloned()
            .ok_or_else(|| TrainError::Config("no evaluation".into()))?;
        Ok(RunSummary { last, model_path })
    }

    fn evaluate(
        &self,
        model: &ResNet,
        state: &mut RunState,
        lr: f64,
        per_epoch: u64,
    ) -> Result<MetricsRow, TrainError> {
        let (val, test) = self.data.evaluate(
            &model.valid().fold_batch_norm(),
            &self.device,
            self.eval_batch_size,
        )?;
        if let Some(v) = &val
            && state
                .schedule
                .observe_val_error(&self.config.recipe, v.top1_error)
        {
            (self.observer).note("validation error plateaued: learning rate divided");
        }
        let acc = std::mem::take(&mut state.since_eval);
        let images = acc.images.max(1) as f64;
        Ok(MetricsRow {
            iteration: state.iteration,
            epoch: state.iteration as f64 / per_epoch as f64,
            lr,
            train_loss: acc.loss_sum / images,
            train_error: acc.errors as f64 / images,
            val_error: val.as_ref().map(|r| r.top1_error),
            val_top5_error: val.as_ref().map(|r| r.top5_error),
            test_error: test.as_ref().map(|r| r.top1_error),
            test_top5_error: test.as_ref().map(|r| r.top5_error),
            images_per_sec: acc.images as f64 / acc.seconds.max(1e-9),
            wall_seconds: state.wall_seconds,
        })
    }
}

/// Whether every parameter of `model` is finite.
fn parameters_finite(model: &ResNet) -> bool {
    struct Finite(bool);
    impl ModuleVisitor for Finite {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            // A sum that overflows means weights no better than infinite ones.
            self.0 = self.0 && param.val().sum().into_scalar::<f32>().is_finite();
        }
    }
    let mut finite = Finite(true);
    model.visit(&mut finite);
    finite.0
}

/// Mixed into the run's seed for the network's own draws (dropout), so that they are not the
/// data pipeline's (which seeds with `batch_seed(seed, epoch, batch)` too).
const NETWORK_DRAWS: u64 = 0x6472_6f70_6f75_7400;
