//! `resnet train`: train a network with one of the paper's recipes, or resume a run.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use resnet_data::metadata::RunMetadata;
use resnet_data::{Cifar, Normalization};
use resnet_model::{ResNetConfig, Stem, resolve_arch, zoo};
use resnet_pretrained::{Classifier, WeightsSource};

use super::DeviceArgs;
use super::common::{download_progress, locate_data};
use super::progress::{Progress, Reporter};
use resnet_train::train::config::check_rgb;
use resnet_train::train::{
    DataKind, InitWeights, Recipe, Run, RunConfig, Schedule, TrainError, TrainingData,
};

/// The weights a fine-tuning run starts from.
struct Init {
    weights: InitWeights,
    /// The name the run gets.
    arch: String,
    /// Their network.
    network: ResNetConfig,
    /// How their inputs were normalised.
    normalization: Normalization,
    /// Published weights trained on all of CIFAR-10's training images.
    trained_on_cifar10: bool,
}

/// A fine-tuning run's base learning rate is the recipe's divided by this (0.1 becomes 0.001,
/// the rate of torchvision's transfer-learning tutorial and timm's fine-tuning examples), unless
/// `--lr` or `--recipe` is given; the schedule keeps its shape, without a warm-up.
const FINE_TUNING_LR_FACTOR: f64 = 100.0;

/// Arguments of `resnet train`.
#[derive(Debug, Clone, clap::Args)]
pub struct TrainArgs {
    /// Network name (see `resnet models`) or JSON config; with `--init`, the weights' own by
    /// default.
    #[arg(long, required_unless_present_any = ["resume", "init"])]
    pub arch: Option<String>,
    /// Fine-tune: start from these weights, a name of `resnet weights` (downloaded on first
    /// use), the built-in `resnet20.cifar10-64k`, a file (PyTorch checkpoint or burn
    /// record), or a training run's directory. The classifier is replaced when the data has
    /// other classes; inputs are normalised as the weights were trained (their preset's mean
    /// and std).
    #[arg(long)]
    pub init: Option<String>,
    /// With `--init`: the stem and the first N stages are not trained (no gradient; their BN
    /// layers keep their running statistics). 0: the stem alone.
    #[arg(long, requires = "init")]
    pub freeze_stages: Option<usize>,
    /// Train the plain counterpart (no shortcuts) of `--arch`.
    #[arg(long)]
    pub plain: bool,
    /// Start each residual block's last BN at gamma 0, so that every block starts as the
    /// identity (Goyal et al., 2017; torchvision's `zero_init_residual`). Not the paper's
    /// initialisation; no effect on plain networks.
    #[arg(long)]
    pub zero_init_residual: bool,
    /// Dropout of probability P between the two convolutions of each basic block, in training
    /// (the Wide ResNet paper's only use of dropout: WRN-28-10 with 0.3). Basic blocks only.
    #[arg(long, value_name = "P")]
    pub dropout: Option<f64>,
    /// Stochastic depth (Huang et al. 2016): each block's residual function runs in a training
    /// step with a probability falling linearly with depth from 1 to P_L at the last block (the
    /// paper: 0.5), scaled by its inverse when it runs; inference runs every block.
    #[arg(long, value_name = "P_L")]
    pub stochastic_depth: Option<f64>,
    /// Highway gates on every block's join, `T F + (1 - T) shortcut` with `T = sigmoid(1x1
    /// conv(x) + b)`, b starting at B (the `highway` networks: -2). Networks with shortcuts.
    #[arg(long, value_name = "B", allow_hyphen_values = true)]
    pub gate_bias: Option<f64>,
    /// CIFAR directory or .tar.gz (or `cifar10`/`cifar100` to download), or an ImageNet-style
    /// class-folder tree (`train/` and `val/`, or one folder with `--held-out` images set aside).
    #[arg(long, required_unless_present = "resume")]
    pub data: Option<String>,
    /// Run directory (config, metrics.csv, checkpoints, final model, figures).
    /// Default: runs/<arch>.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in this directory from its last checkpoint; with `--iterations`, a run
    /// (finished or not) is lengthened to that many, its schedule's milestones kept.
    #[arg(long, conflicts_with_all = [
        "arch", "out", "plain", "zero_init_residual", "dropout", "stochastic_depth", "gate_bias",
        "recipe", "epochs",
        "batch_size", "momentum", "weight_decay", "seed", "held_out", "subset", "eval_every",
        "checkpoint_every", "eval_images", "init", "freeze_stages",
    ])]
    pub resume: Option<PathBuf>,
    /// Recipe: cifar, cifar-warmup (ResNet-110's warm-up) or imagenet. Default: the paper's
    /// for the network.
    #[arg(long)]
    pub recipe: Option<String>,
    /// Train for this many epochs: the recipe's schedule scaled to that length.
    #[arg(long, conflicts_with = "iterations")]
    pub epochs: Option<f64>,
    /// Train for this many iterations: the recipe's schedule scaled to that length (with
    /// `--resume`: the run lengthened, its schedule as it was).
    #[arg(long, value_parser = super::positive::<u64>)]
    pub iterations: Option<u64>,
    /// Images per iteration.
    #[arg(long, value_parser = super::positive::<u64>)]
    pub batch_size: Option<u64>,
    /// Initial learning rate. With `--resume`: the run's new base rate from its last
    /// checkpoint on (e.g. after its loss became NaN); the schedule's divisions still apply.
    #[arg(long)]
    pub lr: Option<f64>,
    /// SGD momentum.
    #[arg(long)]
    pub momentum: Option<f64>,
    /// Weight decay.
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Seed of initialisation, split, data order and augmentation.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Training images held out for validation (a class-folder tree's val/ folder, when it
    /// has one, is the validation set instead).
    #[arg(long)]
    pub held_out: Option<usize>,
    /// Train on a seeded random subset of this many training images (quick experiments).
    #[arg(long)]
    pub subset: Option<usize>,
    /// Iterations between evaluations (default: one epoch).
    #[arg(long)]
    pub eval_every: Option<u64>,
    /// Iterations between checkpoints (default: at each evaluation).
    #[arg(long)]
    pub checkpoint_every: Option<u64>,
    /// Evaluate on N validation and test images only (quick experiments): CIFAR's first N,
    /// or N spread evenly over a folder's classes.
    #[arg(long)]
    pub eval_images: Option<usize>,
    /// Images per evaluation forward pass.
    #[arg(long, default_value_t = 500, value_parser = super::positive::<u32>)]
    pub eval_batch_size: u32,
    /// Progress as plain lines even on a terminal.
    #[arg(long)]
    pub log_lines: bool,
    /// No progress output.
    #[arg(long, conflicts_with = "log_lines")]
    pub quiet: bool,
    /// The compute device.
    #[command(flatten)]
    pub device: DeviceArgs,
}

/// Loads the data of `kind` from `source`, with the recipe's split and an optional subset.
pub fn load_data(
    source: &str,
    kind: DataKind,
    held_out: usize,
    seed: u64,
    subset: Option<usize>,
    eval_images: Option<usize>,
) -> Result<TrainingData, TrainError> {
    let path = locate_data(source)?;
    // Before reading (a class-folder tree can take long to index), as `TrainingData::open`
    // tells the two kinds apart.
    if Cifar::looks_like(&path) != (kind == DataKind::Cifar) {
        return Err(TrainError::Config(format!(
            "the recipe is for {} data, {} is not",
            if kind == DataKind::Cifar {
                "CIFAR"
            } else {
                "class-folder (ImageNet)"
            },
            path.display()
        )));
    }
    let mut data = TrainingData::open(&path, held_out, seed)?;
    if let Some(n) = subset {
        data = data.subset(n, seed)?;
    }
    if let Some(n) = eval_images {
        if n == 0 {
            return Err(TrainError::Config("--eval-images must be positive".into()));
        }
        data = data.limit_eval(n);
    }
    Ok(data)
}

impl TrainArgs {
    fn progress(&self) -> Progress {
        match (self.quiet, self.log_lines) {
            (true, _) => Progress::Quiet,
            (_, true) => Progress::Lines,
            _ => Progress::Auto,
        }
    }

    /// The recipe: the preset, then each flag given.
    fn recipe(&self, imagenet: bool, depth: usize) -> Result<Recipe, TrainError> {
        let mut r = match &self.recipe {
            Some(name) => Recipe::preset(name)?,
            None => Recipe::for_network(imagenet, depth),
        };
        r.batch_size = self.batch_size.map_or(r.batch_size, |b| b as usize);
        r.lr = self.lr.unwrap_or(r.lr);
        r.momentum = self.momentum.unwrap_or(r.momentum);
        r.weight_decay = self.weight_decay.unwrap_or(r.weight_decay);
        r.seed = self.seed.unwrap_or(r.seed);
        r.held_out = self.held_out.unwrap_or(r.held_out);
        r.eval_every = self.eval_every.unwrap_or(r.eval_every);
        r.checkpoint_every = self.checkpoint_every.unwrap_or(r.checkpoint_every);
        Ok(r)
    }

    /// The weights `--init` names: their file, network and normalisation.
    fn init_weights(&self, spec: &str, device: &Device) -> anyhow::Result<Init> {
        let source = WeightsSource::resolve(spec, download_progress())?;
        let classifier = Classifier::from_source(&source, self.arch.as_deref(), device)?;
        let path = source.path.clone();
        let arch = (self.arch.clone())
            .or_else(|| source.arch.map(String::from))
            .or_else(|| {
                let metadata = resnet_model::record::record_metadata(&path).ok()?;
                RunMetadata::from_map(&metadata).ok().map(|run| run.arch)
            })
            .unwrap_or_else(|| "finetuned".into());
        Ok(Init {
            weights: InitWeights {
                source: spec.to_string(),
                path,
            },
            arch,
            network: classifier.model().config().clone(),
            normalization: classifier.preset().normalization.clone(),
            trained_on_cifar10: (source.published)
                .is_some_and(|w| w.dataset == resnet_pretrained::registry::Dataset::Cifar10),
        })
    }

    /// A new run's configuration and data.
    fn new_run(&self, device: &Device) -> anyhow::Result<(RunConfig, TrainingData)> {
        let init = match &self.init {
            Some(spec) => Some(self.init_weights(spec, device)?),
            None => None,
        };
        let arch = match (&self.arch, &init) {
            (Some(arch), _) => arch.clone(),
            (None, Some(init)) => init.arch.clone(),
            (None, None) => unreachable!("clap requires --arch without --resume or --init"),
        };
        let source = self
            .data
            .clone()
            .expect("clap requires --data without --resume");
        let mut network = match &init {
            Some(init) => init.network.clone(),
            None => resolve_arch(&arch)?,
        };
        // Before the data is read (or downloaded).
        check_rgb(&arch, &network)?;
        let imagenet = network.stem == Stem::ImageNet;
        let depth = network.depth();
        if self.plain {
            network = network.plain();
        }
        network.zero_init_residual |= self.zero_init_residual;
        if let Some(dropout) = self.dropout {
            network.dropout = dropout;
        }
        if self.stochastic_depth.is_some() {
            network.stochastic_depth = self.stochastic_depth;
        }
        if self.gate_bias.is_some() {
            network.gate_bias = self.gate_bias;
        }
        network.validate()?;
        let name = match self.plain {
            true => zoo::plain_name(&arch),
            false => arch.clone(),
        };
        let mut recipe = self.recipe(imagenet, depth)?;
        if init.is_some() && self.recipe.is_none() {
            // Fine-tuning: the step schedule's shape, at a rate for weights that are trained.
            recipe.warmup = None;
            if self.lr.is_none() {
                recipe.lr /= FINE_TUNING_LR_FACTOR;
                (self.progress()).note(&format!(
                    "note: fine-tuning at a base learning rate of {} (the recipe's / \
                     {FINE_TUNING_LR_FACTOR}; --lr sets it)",
                    recipe.lr
                ));
            }
        }
        recipe.validate()?;
        let mut data = load_data(
            &source,
            recipe.data,
            recipe.held_out,
            recipe.seed,
            self.subset,
            self.eval_images,
        )?;
        if let Some(init) = &init {
            data = (data.with_normalization(init.normalization.clone()))
                .map_err(|e| anyhow::anyhow!("--init {}: {e}", init.weights.source))?;
            if init.trained_on_cifar10 && data.has_validation() && recipe.data == DataKind::Cifar {
                (self.progress()).note(&format!(
                    "note: {} was trained on all of CIFAR-10's training images: the held-out \
                     validation images are among them, so the validation error understates \
                     (the test error does not)",
                    init.weights.source
                ));
            }
        }
        if self.held_out.is_some_and(|n| n > 0) && Path::new(&source).join("val").is_dir() {
            (self.progress()).note(&format!(
                "note: {source} has a val/ folder (the validation set): no --held-out"
            ));
        }
        if imagenet != (recipe.data == DataKind::ImageNet) {
            (self.progress()).note(&format!(
                "note: training {name} with the {} recipe",
                recipe.name
            ));
        }
        let per_epoch = data.iterations_per_epoch(recipe.batch_size);
        recipe = recipe.scaled_to_length(self.epochs, self.iterations, per_epoch);
        let config = RunConfig {
            subset: self.subset,
            eval_images: self.eval_images,
            normalization: init.as_ref().map(|init| init.normalization.clone()),
            init: init.map(|init| init.weights),
            freeze_stages: self.freeze_stages,
            ..RunConfig::new(name, network, recipe, &data, source)?
        };
        Ok((config, data))
    }
}

/// `recipe` run to `iterations` instead: the schedule's milestones (and warm-up) stay where
/// they were, which is said (a change to run.json, shown in every mode). A run is lengthened,
/// never shortened.
fn lengthened(recipe: &Recipe, iterations: u64) -> anyhow::Result<Recipe> {
    anyhow::ensure!(
        iterations >= recipe.iterations,
        "--iterations {iterations} with --resume: the run has {} iterations; a run can be \
         lengthened, not shortened",
        recipe.iterations
    );
    if iterations > recipe.iterations {
        let milestones = match &recipe.schedule {
            Schedule::Steps { milestones, .. } => format!("at {milestones:?}"),
            Schedule::Plateau { .. } => "on validation plateaus".into(),
        };
        eprintln!(
            "warning: lengthening the run from {} to {iterations} iterations; the learning \
             rate still falls {milestones}",
            recipe.iterations
        );
    }
    let recipe = Recipe {
        iterations,
        ..recipe.clone()
    };
    recipe.validate()?;
    Ok(recipe)
}

/// Runs `resnet train`.
pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let (_, device) = args.device.device()?;
    let (config, data, dir) = match &args.resume {
        Some(dir) => {
            let mut config = Run::read_config(dir)?;
            if let Some(lr) = args.lr {
                // A change to run.json: shown in every mode, `--quiet` too.
                eprintln!(
                    "warning: changing the run's base learning rate from {} to {lr}",
                    config.recipe.lr
                );
                config.recipe.lr = lr;
                config.recipe.validate()?;
            }
            if let Some(iterations) = args.iterations {
                config.recipe = lengthened(&config.recipe, iterations)?;
            }
            let source = args.data.clone().unwrap_or_else(|| config.data.clone());
            let r = &config.recipe;
            let mut data = load_data(
                &source,
                r.data,
                r.held_out,
                r.seed,
                config.subset,
                config.eval_images,
            )?;
            if let Some(normalization) = &config.normalization {
                data = data.with_normalization(normalization.clone())?;
            }
            (config, data, dir.clone())
        }
        None => {
            if let Some(out) = &args.out {
                // Before the data is read, which can take long.
                Run::check_new_dir(out)?;
            }
            let (config, data) = args.new_run(&device)?;
            let dir = args
                .out
                .clone()
                .unwrap_or_else(|| Path::new("runs").join(&config.arch));
            (config, data, dir)
        }
    };
    let run = Run {
        config,
        data: &data,
        dir,
        device,
        eval_batch_size: args.eval_batch_size as usize,
        observer: &Reporter::new(args.progress()),
    };
    let r = &run.config.recipe;
    args.progress().note(&format!(
        "{} {}: {} iterations of batch {} ({:.1} epochs of {} images), recipe {}, into {}",
        if args.resume.is_some() {
            "resuming"
        } else {
            "training"
        },
        run.config.arch,
        r.iterations,
        r.batch_size,
        r.iterations as f64 / run.config.iterations_per_epoch.max(1) as f64,
        run.config.train_images,
        r.name,
        run.dir.display()
    ));
    let summary = match args.resume {
        Some(_) => run.resume()?,
        None => run.start()?,
    };
    println!("{}: {summary}", run.config.arch);
    Ok(())
}
