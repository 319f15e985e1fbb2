//! The data of a training run: its training images with the paper's augmentation, and the
//! held-out images it is evaluated on.

use std::path::Path;

use burn::tensor::Device;
use resnet_data::augment::PadCropFlip;
use resnet_data::pipeline::{CifarTrainBatches, batch_seed, epoch_order, imagenet_train_batch};
use resnet_data::transforms::{PcaLighting, ScaleAugment};
use resnet_data::{
    Cifar, DataError, FolderSplit, ImageFolder, ImageSet, Normalization, TestProtocol,
};
use resnet_model::ResNet;

use crate::eval::{
    EvalError, EvalReport, EvalSettings, OnCorrupt, evaluate_folder, evaluate_images,
};

/// Training and evaluation images.
#[derive(Debug)]
pub enum TrainingData {
    /// CIFAR in memory (section 4.2).
    Cifar {
        /// Training images (after the validation split).
        train: ImageSet,
        /// Held-out training images, if any.
        val: Option<ImageSet>,
        /// How many training images were held out as `val` (before any `limit_eval`).
        held_out: usize,
        /// The test set.
        test: ImageSet,
        /// Class names.
        class_names: Vec<String>,
        /// Per-pixel mean of `train`.
        normalization: Normalization,
    },
    /// ImageNet-style class folders, decoded on the fly (section 3.4).
    Folder {
        /// Training images.
        train: ImageFolder,
        /// Validation images (the `val/` folder, or held out of the training folder).
        val: Option<ImageFolder>,
        /// Training images held out as `val` (0 when `val` is the `val/` folder).
        held_out: usize,
        /// Per-channel mean and standard deviation.
        normalization: Normalization,
        /// Scale augmentation and crop.
        scale: ScaleAugment,
        /// AlexNet-style colour augmentation.
        lighting: PcaLighting,
    },
}

impl TrainingData {
    /// The data at `path`: CIFAR (a directory or `.tar.gz` archive) or a class-folder tree,
    /// with `held_out` training images set aside for validation (see [`Self::cifar`] and
    /// [`Self::folder`]).
    pub fn open(path: &Path, held_out: usize, seed: u64) -> Result<Self, DataError> {
        if Cifar::looks_like(path) {
            Self::cifar(Cifar::load(path)?, held_out, seed)
        } else {
            Self::folder(path, held_out, seed)
        }
    }

    /// CIFAR with `held_out` training images set aside for validation (seeded split); the
    /// per-pixel mean is taken over the remaining training images.
    pub fn cifar(cifar: Cifar, held_out: usize, seed: u64) -> Result<Self, DataError> {
        let (train, val) = cifar.train.split(held_out, seed)?;
        let val = (held_out > 0).then_some(val);
        let normalization = Normalization::mean_image(train.mean_image());
        Ok(Self::Cifar {
            train,
            val,
            held_out,
            test: cifar.test,
            class_names: cifar.class_names,
            normalization,
        })
    }

    /// A class-folder tree: `root/train` and `root/val` when both exist (with the same
    /// classes), else `root/train` (or `root` itself) with `held_out` images set aside
    /// (seeded) for validation ([`FolderSplit`]).
    pub fn folder(root: &Path, held_out: usize, seed: u64) -> Result<Self, DataError> {
        let FolderSplit {
            train,
            val,
            held_out,
        } = FolderSplit::open(root, held_out, seed)?;
        Ok(Self::Folder {
            train,
            val,
            held_out,
            normalization: Normalization::imagenet(),
            scale: ScaleAugment::default(),
            lighting: PcaLighting::default(),
        })
    }

    /// Keeps a seeded random subset of `n` training images (quick experiments). The
    /// normalisation stays that of the whole training split (the better estimate).
    pub fn subset(self, n: usize, seed: u64) -> Result<Self, DataError> {
        if n == 0 || n > self.train_len() {
            return Err(DataError::Invalid(format!(
                "a subset of {n} of {} training images",
                self.train_len()
            )));
        }
        let mut keep = epoch_order(self.train_len(), seed, u64::MAX - 1);
        keep.truncate(n);
        keep.sort_unstable();
        Ok(match self {
            Self::Cifar {
                train,
                val,
                held_out,
                test,
                class_names,
                normalization,
            } => Self::Cifar {
                train: train.subset(&keep),
                val,
                held_out,
                test,
                class_names,
                normalization,
            },
            Self::Folder {
                mut train,
                val,
                held_out,
                normalization,
                scale,
                lighting,
            } => {
                train.samples = keep.iter().map(|&i| train.samples[i].clone()).collect();
                Self::Folder {
                    train,
                    val,
                    held_out,
                    normalization,
                    scale,
                    lighting,
                }
            }
        })
    }

    /// Evaluates on `n` validation and test images only: CIFAR's first `n`, or `n` spread
    /// evenly over a folder's (class-sorted) validation images.
    pub fn limit_eval(mut self, n: usize) -> Self {
        let first = |set: &mut ImageSet| {
            if set.len() > n {
                *set = set.subset(&(0..n).collect::<Vec<_>>());
            }
        };
        match &mut self {
            Self::Cifar { val, test, .. } => {
                val.iter_mut().for_each(first);
                first(test);
            }
            Self::Folder { val, .. } => {
                // Evenly spaced: the samples are sorted by class.
                if let Some(v) = val.as_mut().filter(|v| v.samples.len() > n) {
                    let step = v.samples.len() / n;
                    v.samples = v.samples.iter().step_by(step).take(n).cloned().collect();
                }
            }
        }
        self
    }

    /// Training images set aside for validation (0 when a `val/` folder is the validation
    /// set): the split `resnet eval` repeats.
    pub fn held_out(&self) -> usize {
        match self {
            Self::Cifar { held_out, .. } | Self::Folder { held_out, .. } => *held_out,
        }
    }

    /// Whether there are validation images.
    pub fn has_validation(&self) -> bool {
        match self {
            Self::Cifar { val, .. } => val.as_ref().is_some_and(|v| !v.is_empty()),
            Self::Folder { val, .. } => val.as_ref().is_some_and(|v| !v.samples.is_empty()),
        }
    }

    /// Training images.
    pub fn train_len(&self) -> usize {
        match self {
            Self::Cifar { train, .. } => train.len(),
            Self::Folder { train, .. } => train.samples.len(),
        }
    }

    /// Whole batches of `batch_size` in one pass over the training images (a last, smaller
    /// batch is dropped, as the paper's iteration counts assume).
    pub fn iterations_per_epoch(&self, batch_size: usize) -> u64 {
        self.train_len().checked_div(batch_size).unwrap_or(0) as u64
    }

    /// Class names, by label.
    pub fn class_names(&self) -> &[String] {
        match self {
            Self::Cifar { class_names, .. } => class_names,
            Self::Folder { train, .. } => &train.classes,
        }
    }

    /// How pixels become inputs.
    pub fn normalization(&self) -> &Normalization {
        match self {
            Self::Cifar { normalization, .. } | Self::Folder { normalization, .. } => normalization,
        }
    }

    /// The same data with its inputs normalised by `normalization` instead (fine-tuning: as
    /// the initial weights were trained), which must fit its images.
    pub fn with_normalization(mut self, normalization: Normalization) -> Result<Self, DataError> {
        let side = self.input_size();
        normalization.check([3, side, side])?;
        match &mut self {
            Self::Cifar {
                normalization: n, ..
            }
            | Self::Folder {
                normalization: n, ..
            } => {
                *n = normalization;
            }
        }
        Ok(self)
    }

    /// The input size a trained network sees (32 for CIFAR, the crop for folders).
    pub fn input_size(&self) -> usize {
        match self {
            Self::Cifar { train, .. } => train.shape[1],
            Self::Folder { scale, .. } => scale.crop as usize,
        }
    }

    /// The order in which epoch `epoch` visits the training images.
    pub fn epoch_order(&self, seed: u64, epoch: u64) -> Vec<usize> {
        epoch_order(self.train_len(), seed, epoch)
    }

    /// Batch `batch` of epoch `epoch` (a function of seed, epoch and batch alone), with the
    /// files that could not be decoded and were left out.
    pub fn train_batch(
        &self,
        order: &[usize],
        epoch: u64,
        batch: usize,
        batch_size: usize,
        seed: u64,
    ) -> Result<(ImageSet, Vec<DataError>), DataError> {
        Ok(match self {
            Self::Cifar { train, .. } => {
                let batches = CifarTrainBatches {
                    images: train,
                    batch_size,
                    seed,
                    augment: PadCropFlip::default(),
                };
                (batches.batch(order, epoch, batch), Vec::new())
            }
            Self::Folder {
                train,
                scale,
                lighting,
                ..
            } => {
                let samples: Vec<_> = order[batch * batch_size..(batch + 1) * batch_size]
                    .iter()
                    .map(|&i| train.samples[i].clone())
                    .collect();
                imagenet_train_batch(
                    &samples,
                    train.classes.len(),
                    scale,
                    Some(lighting),
                    batch_seed(seed, epoch, batch as u64),
                )?
            }
        })
    }

    /// Validation and test reports (each when the data has that split).
    pub fn evaluate(
        &self,
        model: &ResNet,
        device: &Device,
        batch_size: usize,
    ) -> Result<(Option<EvalReport>, Option<EvalReport>), EvalError> {
        let models = std::slice::from_ref(model);
        match self {
            Self::Cifar {
                val,
                test,
                normalization,
                ..
            } => {
                let settings = EvalSettings {
                    normalization: normalization.clone(),
                    protocol: TestProtocol::AsIs,
                    batch_size,
                    on_corrupt: OnCorrupt::Fail,
                };
                let run = |set: &ImageSet| evaluate_images(models, set, &settings, device, |_| {});
                Ok((val.as_ref().map(run).transpose()?, Some(run(test)?)))
            }
            Self::Folder {
                val, normalization, ..
            } => {
                let settings = EvalSettings {
                    normalization: normalization.clone(),
                    protocol: TestProtocol::center_crop(),
                    batch_size,
                    on_corrupt: OnCorrupt::Skip,
                };
                let report = val
                    .as_ref()
                    .map(|v| evaluate_folder(models, v, &settings, device, |_| {}))
                    .transpose()?;
                if report.as_ref().is_some_and(|r| r.total == 0) {
                    return Err(
                        DataError::Invalid("no validation image could be read".into()).into(),
                    );
                }
                Ok((report, None))
            }
        }
    }
}
