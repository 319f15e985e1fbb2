//! A run's configuration, as its directory's `run.json` records it: the network, the recipe
//! after flags and scaling, the data, and the weights it starts from.

use std::path::PathBuf;

use resnet_data::Normalization;
use resnet_model::ResNetConfig;
use serde::{Deserialize, Serialize};

use super::TrainError;
use super::data::TrainingData;
use super::recipe::Recipe;

/// What a run directory's `run.json` records: enough to resume the run or repeat it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// The network's name (as `resnet models` lists it) or a description.
    pub arch: String,
    /// The network.
    pub network: ResNetConfig,
    /// The recipe, after flags and scaling.
    pub recipe: Recipe,
    /// Where the data was read from.
    pub data: String,
    /// `--subset`: train on a seeded random subset of this many images.
    pub subset: Option<usize>,
    /// `--eval-images`: evaluate on the first this many validation and test images.
    pub eval_images: Option<usize>,
    /// Training images used (after the validation split and any subset).
    pub train_images: usize,
    /// Iterations per epoch.
    pub iterations_per_epoch: u64,
    /// `--init`: the weights the run started from (fine-tuning); else a fresh initialisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<InitWeights>,
    /// `--freeze-stages`: the stem and this many first stages are not trained
    /// ([`ResNet::freeze_stages`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeze_stages: Option<usize>,
    /// The inputs' normalisation where it is not the data's own (mean image or ImageNet
    /// statistics): the initial weights', when fine-tuning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalization: Option<Normalization>,
}

/// Weights a run starts from: their classifier is replaced when the data has other classes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitWeights {
    /// As given: a name of `resnet weights` or a file.
    pub source: String,
    /// The file read (a PyTorch checkpoint or a burn record).
    pub path: PathBuf,
}

impl RunConfig {
    /// A new run of `network`, named `arch`, on `data` (read from `source`) with `recipe`:
    /// the classifier is sized to the data's classes.
    pub fn new(
        arch: impl Into<String>,
        mut network: ResNetConfig,
        recipe: Recipe,
        data: &TrainingData,
        source: impl Into<String>,
    ) -> Result<Self, TrainError> {
        let arch = arch.into();
        recipe.validate()?;
        check_rgb(&arch, &network)?;
        network.num_classes = data.class_names().len();
        let iterations_per_epoch = data.iterations_per_epoch(recipe.batch_size);
        if iterations_per_epoch == 0 {
            return Err(TrainError::NoBatch {
                images: data.train_len(),
                batch_size: recipe.batch_size,
            });
        }
        Ok(Self {
            arch,
            network,
            recipe,
            data: source.into(),
            subset: None,
            eval_images: None,
            train_images: data.train_len(),
            iterations_per_epoch,
            init: None,
            freeze_stages: None,
            normalization: None,
        })
    }
}

/// The training images are RGB: a network that takes other inputs cannot train on them.
pub fn check_rgb(arch: &str, network: &ResNetConfig) -> Result<(), TrainError> {
    if network.in_channels != 3 {
        return Err(TrainError::Config(format!(
            "{arch} takes {}-channel inputs; the training images are RGB (3 channels)",
            network.in_channels
        )));
    }
    Ok(())
}
