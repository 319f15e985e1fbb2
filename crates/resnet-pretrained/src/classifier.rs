//! A network with the preprocessing and class names of its weights: photos in, labels out.

use std::path::Path;

use burn::module::Module;
use burn::tensor::Device;
use burn::tensor::activation::softmax;
use image::RgbImage;
use resnet_data::batch::images_to_tensor;
use resnet_data::metadata::RunMetadata;
use resnet_data::transforms::to_chw;
use resnet_data::{Normalization, Preset};
use resnet_model::config::Stem;
use resnet_model::record::{WeightsFormat, record_metadata};
use resnet_model::{ResNet, load_model};
use serde::Serialize;

use crate::categories::Categories;
use crate::embedded;
use crate::error::PretrainedError;
use crate::registry::{PresetKind, published, published_file};
use crate::source::WeightsSource;

/// One of a classifier's answers for an image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// The output (class index).
    pub index: usize,
    /// Its class name.
    pub label: String,
    /// Its softmax probability.
    pub probability: f32,
}

/// A network in eval mode (BN folded), the preset its weights were trained with, and the
/// names of its classes.
///
/// ```no_run
/// use burn::tensor::Device;
/// use resnet_pretrained::Classifier;
///
/// let classifier = Classifier::pretrained("resnet50.tv-in1k-v2", &Device::default())?;
/// let image = resnet_data::folder::decode("cat.jpg".as_ref())?;
/// for p in classifier.classify(&image, 5) {
///     println!("{:5.1}%  {}", 100.0 * p.probability, p.label);
/// }
/// # Ok::<(), resnet_pretrained::PretrainedError>(())
/// ```
#[derive(Debug)]
pub struct Classifier {
    model: ResNet,
    preset: Preset,
    categories: Categories,
    device: Device,
}

impl Classifier {
    /// A classifier of `model` (put in eval mode, BN folded) that prepares images with
    /// `preset` and names outputs with `categories`.
    pub fn new(
        model: ResNet,
        preset: Preset,
        categories: Categories,
        device: &Device,
    ) -> Result<Self, PretrainedError> {
        preset.check()?;
        let outputs = model.config().num_classes;
        if categories.len() != outputs {
            return Err(PretrainedError::Categories {
                names: categories.len(),
                outputs,
            });
        }
        let model = if model.is_folded() {
            model
        } else {
            model.valid().fold_batch_norm()
        };
        Ok(Self {
            model,
            preset,
            categories,
            device: device.clone(),
        })
    }

    /// The classifier of named weights: a published checkpoint ([`crate::PUBLISHED`], fetched
    /// on first use into [`crate::cache::cache_dir`]) or [`embedded::NAME`], the project's own CIFAR-10
    /// ResNet-20, which needs no network.
    pub fn pretrained(name: &str, device: &Device) -> Result<Self, PretrainedError> {
        Self::pretrained_with_progress(name, device, |_, _| ())
    }

    /// [`Classifier::pretrained`], reporting a download's (bytes so far, total if known).
    pub fn pretrained_with_progress(
        name: &str,
        device: &Device,
        progress: impl FnMut(u64, Option<u64>),
    ) -> Result<Self, PretrainedError> {
        if !name.eq_ignore_ascii_case(embedded::NAME) && published(name).is_none() {
            return Err(PretrainedError::UnknownName {
                name: name.to_string(),
            });
        }
        Self::from_source(&WeightsSource::resolve(name, progress)?, None, device)
    }

    /// The classifier of resolved weights ([`WeightsSource`]): a published checkpoint (named,
    /// or recognised by its file name or hash) gets its network, preset and classes; anything
    /// else is [`Classifier::from_file`]'s. `arch` names the network where neither says it.
    pub fn from_source(
        source: &WeightsSource,
        arch: Option<&str>,
        device: &Device,
    ) -> Result<Self, PretrainedError> {
        let arch = arch.or(source.arch);
        match source.published {
            Some(weights) => {
                let model = load_model(arch, &source.path, None, device)?;
                Self::new(model, weights.preset.preset(), weights.categories(), device)
            }
            None => Self::from_file(&source.path, arch, device),
        }
    }

    /// The classifier of a weights file. `arch` names the network where the file does not:
    /// a file with a published checkpoint's name gets that checkpoint's network, preset and
    /// classes; a record written by `resnet train` carries its own; otherwise the preset is
    /// the stem's (ImageNet: resize 256, crop 224; CIFAR: resize 32, crop 32; ImageNet mean
    /// and std) and the classes ImageNet-1k's or CIFAR-10's when the count fits, else
    /// numbered.
    pub fn from_file(
        path: &Path,
        arch: Option<&str>,
        device: &Device,
    ) -> Result<Self, PretrainedError> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if let Some(weights) = published_file(name) {
            let model = load_model(Some(arch.unwrap_or(weights.arch)), path, None, device)?;
            let preset = weights.preset.preset();
            return Self::new(model, preset, weights.categories(), device);
        }
        let model = load_model(arch, path, None, device)?;
        let stem = model.config().stem;
        let run = match WeightsFormat::detect(path)? {
            WeightsFormat::Burnpack => {
                let map = record_metadata(path)?;
                if RunMetadata::present(&map) {
                    let run = RunMetadata::from_map(&map).map_err(|reason| {
                        PretrainedError::Metadata {
                            path: path.to_path_buf(),
                            reason,
                        }
                    })?;
                    Some(run)
                } else {
                    None
                }
            }
            WeightsFormat::PyTorch => None,
        };
        let outputs = model.config().num_classes;
        let (preset, categories) = match run {
            Some(run) => (
                stem_preset(stem, run.normalization),
                Categories::new(run.classes),
            ),
            None => {
                let categories = match (stem, outputs) {
                    (Stem::ImageNet, 1000) => Categories::imagenet1k(),
                    (Stem::Cifar, 10) => Categories::cifar10(),
                    _ => Categories::numbered(outputs),
                };
                (stem_preset(stem, Normalization::imagenet()), categories)
            }
        };
        Self::new(model, preset, categories, device)
    }

    /// The `top` most probable classes of `image`, most probable first.
    pub fn classify(&self, image: &RgbImage, top: usize) -> Vec<Prediction> {
        self.classify_batch(std::slice::from_ref(image), top)
            .pop()
            .unwrap_or_default()
    }

    /// [`Classifier::classify`] for several images, in one forward pass.
    pub fn classify_batch(&self, images: &[RgbImage], top: usize) -> Vec<Vec<Prediction>> {
        if images.is_empty() {
            return Vec::new();
        }
        let side = self.preset.crop as usize;
        let pixels: Vec<u8> = images
            .iter()
            .flat_map(|image| to_chw(&self.preset.view(image)))
            .collect();
        let input = images_to_tensor(
            &pixels,
            [3, side, side],
            &self.preset.normalization,
            &self.device,
        );
        let probabilities = softmax(self.model.forward(input), 1)
            .into_data()
            .try_to_vec::<f32>()
            .expect("the network's outputs are f32");
        let classes = self.categories.len();
        probabilities
            .chunks_exact(classes)
            .map(|p| self.top(p, top))
            .collect()
    }

    fn top(&self, probabilities: &[f32], top: usize) -> Vec<Prediction> {
        let mut order: Vec<usize> = (0..probabilities.len()).collect();
        order.sort_by(|&a, &b| {
            probabilities[b]
                .total_cmp(&probabilities[a])
                .then(a.cmp(&b))
        });
        (order.into_iter().take(top))
            .map(|index| Prediction {
                index,
                label: self.categories.name(index).unwrap_or_default().to_string(),
                probability: probabilities[index],
            })
            .collect()
    }

    /// How images are prepared.
    pub fn preset(&self) -> &Preset {
        &self.preset
    }

    /// The names of the outputs.
    pub fn categories(&self) -> &Categories {
        &self.categories
    }

    /// The network (eval mode, BN folded).
    pub fn model(&self) -> &ResNet {
        &self.model
    }
}

/// The preset of a network with `stem` whose inputs are normalised with `normalization`.
fn stem_preset(stem: Stem, normalization: Normalization) -> Preset {
    match stem {
        Stem::ImageNet => Preset {
            normalization,
            ..PresetKind::ImagenetResize256.preset()
        },
        Stem::Cifar => Preset::cifar(normalization),
    }
}
