//! Typed errors of the model crate.

use std::path::PathBuf;

/// An invalid network description.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// CIFAR networks have 6n+2 layers.
    #[error(
        "CIFAR network depth must be 6n+2 with n >= 1 (8, 14, 20, 32, 44, 56, 110, 1202, ...); got {0}"
    )]
    CifarDepth(usize),
    /// A pre-activation bottleneck CIFAR depth that is not 9n+2.
    #[error(
        "CIFAR bottleneck network depth must be 9n+2 with n >= 1 (11, 20, 164, 1001, ...); got {0}"
    )]
    CifarBottleneckDepth(usize),
    /// The config lists no stages.
    #[error("a network needs at least one stage")]
    NoStages,
    /// `blocks_per_stage` and `stage_widths` disagree.
    #[error("blocks_per_stage has {blocks} entries but stage_widths has {widths}")]
    StageCountMismatch {
        /// Length of `blocks_per_stage`.
        blocks: usize,
        /// Length of `stage_widths`.
        widths: usize,
    },
    /// A stage with no blocks.
    #[error("stage {stage} has zero blocks; every stage needs at least one")]
    EmptyStage {
        /// Index of the stage (0-based).
        stage: usize,
    },
    /// A stage with no filters.
    #[error("stage {stage} has width 0")]
    ZeroWidth {
        /// Index of the stage (0-based).
        stage: usize,
    },
    /// Option A cannot shrink the channel count with a parameter-free shortcut.
    #[error(
        "stage {stage} goes from {from} to {to} channels; option A shortcuts can only add (zero) channels, use option B or C"
    )]
    ShrinkingIdentity {
        /// Index of the stage (0-based).
        stage: usize,
        /// Channels entering the stage.
        from: usize,
        /// Channels leaving the stage.
        to: usize,
    },
    /// A classifier with no classes.
    #[error("the number of classes must be at least 1")]
    NoClasses,
    /// No input channels.
    #[error("the number of input channels must be at least 1")]
    NoInputChannels,
    /// A stem of no filters.
    #[error("the stem width must be at least 1")]
    ZeroStemWidth,
    /// Cardinality or group width set on basic blocks (as torchvision, grouped and widened
    /// convolutions are defined for bottlenecks; widen a basic network through its stage widths).
    #[error(
        "cardinality {cardinality} and group width {group_width} apply to bottleneck blocks only (a basic block has cardinality 1 and group width 64; widen a basic network with its stage widths)"
    )]
    GroupedBasicBlock {
        /// The config's cardinality.
        cardinality: usize,
        /// The config's group width.
        group_width: usize,
    },
    /// A cardinality of zero.
    #[error("the cardinality (groups of the 3x3 convolutions) must be at least 1")]
    ZeroCardinality,
    /// A group width that leaves a stage's bottlenecks without channels.
    #[error(
        "stage {stage} (base width {width}) with group width {group_width} has no channels per group ({width} * {group_width} / 64 = 0)"
    )]
    ZeroGroupWidth {
        /// Index of the stage (0-based).
        stage: usize,
        /// The stage's base width.
        width: usize,
        /// The config's group width.
        group_width: usize,
    },
    /// A dropout probability outside [0, 1).
    #[error("the dropout probability must be in [0, 1); got {0}")]
    DropoutProbability(f64),
    /// Dropout asked of bottleneck blocks.
    #[error(
        "dropout (between a block's two 3x3 convolutions, as in Wide ResNets) applies to basic blocks only"
    )]
    BottleneckDropout,
    /// A stochastic-depth survival probability outside (0, 1].
    #[error("stochastic depth's last-block survival probability p_L must be in (0, 1]; got {0}")]
    SurvivalProbability(f64),
    /// Stochastic depth asked of a plain network.
    #[error(
        "stochastic depth skips residual functions and keeps the shortcut; a plain network has no shortcut to keep"
    )]
    PlainStochasticDepth,
    /// A gate bias that is not a number.
    #[error("the gates' initial bias must be a finite number; got {0}")]
    GateBias(f64),
    /// Gates asked of a plain network.
    #[error("a gate mixes a block's function with its shortcut; a plain network has no shortcut")]
    PlainGate,
    /// A Wide ResNet depth that is not 6n+4.
    #[error(
        "a CIFAR Wide ResNet's depth must be 6n+4 with n >= 1 (10, 16, 22, 28, 40, ...); got {0}"
    )]
    WideDepth(usize),
    /// A widening factor of zero.
    #[error("the widening factor k of a Wide ResNet must be at least 1")]
    ZeroWidening,
    /// A name that is neither a named model nor `cifar-resnet<depth>`/`cifar-plain<depth>`.
    #[error(
        "unknown model `{name}`{}; `resnet models` lists the names (CIFAR nets of any depth 6n+2: `cifar-resnet<depth>`, `cifar-plain<depth>`)",
        suggestion.as_ref().map_or(String::new(), |s| format!(" (did you mean `{s}`?)"))
    )]
    UnknownName {
        /// The name given.
        name: String,
        /// The named network closest to it, when one is close.
        suggestion: Option<String>,
    },
    /// A config file that cannot be read.
    #[error("cannot read config {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A config file that is not a valid JSON config.
    #[error("invalid config {path}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
}

/// Weights that cannot be loaded into a model.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    /// The file cannot be opened.
    #[error("cannot read weights {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a checkpoint of a known format, or is truncated or corrupt.
    #[error("{path} is not a readable {format} file: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The format it was read as.
        format: &'static str,
        /// What the reader reported.
        reason: String,
    },
    /// The checkpoint's tensors do not match the model's parameters.
    #[error("{path} does not match the model:{}", describe_mismatch(.missing, .unused, .misshapen))]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// Model parameters with no tensor in the file.
        missing: Vec<String>,
        /// Tensors in the file that no parameter takes.
        unused: Vec<String>,
        /// Tensors whose shape (or type) differs from the parameter's, with details.
        misshapen: Vec<String>,
    },
    /// The model could not be written.
    #[error("cannot save weights to {path}: {reason}")]
    Save {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The file's metadata does not describe a model.
    #[error("{path}: {reason}")]
    Metadata {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl WeightsError {
    /// Turns the result of applying a file's tensors to a model into an error naming every
    /// parameter left unloaded and every tensor left over (PyTorch's `num_batches_tracked`
    /// counters aside).
    pub(crate) fn check_applied(
        path: &std::path::Path,
        result: burn::store::ApplyResult,
    ) -> Result<(), WeightsError> {
        let missing: Vec<String> = result.missing.into_iter().map(|(p, _)| p).collect();
        let unused: Vec<String> = result
            .unused
            .into_iter()
            .filter(|name| !name.ends_with("num_batches_tracked"))
            .collect();
        let misshapen: Vec<String> = result.errors.iter().map(|e| e.to_string()).collect();
        if missing.is_empty() && unused.is_empty() && misshapen.is_empty() {
            return Ok(());
        }
        Err(WeightsError::Mismatch {
            path: path.to_path_buf(),
            missing,
            unused,
            misshapen,
        })
    }
}

fn describe_mismatch(missing: &[String], unused: &[String], misshapen: &[String]) -> String {
    let mut out = String::new();
    for (what, names) in [
        ("missing from the file", missing),
        ("in the file but not in the model", unused),
        ("that do not fit (wrong shape or type)", misshapen),
    ] {
        if !names.is_empty() {
            out.push_str(&format!(
                "\n  {} tensor(s) {what}: {}",
                names.len(),
                list(names)
            ));
        }
    }
    out
}

fn list(names: &[String]) -> String {
    const SHOWN: usize = 12;
    let mut s = names
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        s.push_str(&format!(", ... ({} more)", names.len() - SHOWN));
    }
    s
}
