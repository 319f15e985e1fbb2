//! Evaluation: top-1 and top-5 error of one network or an ensemble, under a test protocol.
//!
//! Each image's score is the softmax averaged over its views (10-crop, scales) and over the
//! networks of an ensemble.

use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor};
use image::RgbImage;
use rayon::prelude::*;
use resnet_data::batch::images_to_tensor;
use resnet_data::folder::{Sample, decode};
use resnet_data::transforms::to_chw;
use resnet_data::{DataError, ImageFolder, ImageSet, Normalization, TestProtocol};
use resnet_model::ResNet;
use serde::Serialize;

/// Why an evaluation failed.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// Reading or decoding the images.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The data's labels do not index the network's outputs one to one.
    #[error(
        "the data has {data} classes but the network{which} scores {network}: its labels would \
         not match the network's outputs (was it trained on other data?)"
    )]
    Classes {
        /// Classes of the data.
        data: usize,
        /// Outputs of the network.
        network: usize,
        /// Which network of an ensemble, e.g. " #2" (empty for one network).
        which: String,
    },
    /// The images' channels are not the network's input channels.
    #[error("the images have {data} channels but the network{which} takes {network}")]
    Channels {
        /// Channels of the images.
        data: usize,
        /// Input channels of the network.
        network: usize,
        /// Which network of an ensemble, e.g. " #2" (empty for one network).
        which: String,
    },
    /// No network to evaluate.
    #[error("no network to evaluate")]
    NoNetwork,
    /// `EvalSettings::batch_size` is zero.
    #[error("the evaluation batch size must be positive")]
    ZeroBatch,
}

/// Checks that every network takes the images' channels and scores exactly their classes.
pub fn check_networks(
    models: &[ResNet],
    data_classes: usize,
    data_channels: usize,
) -> Result<(), EvalError> {
    if models.is_empty() {
        return Err(EvalError::NoNetwork);
    }
    for (i, model) in models.iter().enumerate() {
        let which = match models.len() {
            1 => String::new(),
            _ => format!(" #{}", i + 1),
        };
        let config = model.config();
        if config.in_channels != data_channels {
            return Err(EvalError::Channels {
                data: data_channels,
                network: config.in_channels,
                which,
            });
        }
        if config.num_classes != data_classes {
            return Err(EvalError::Classes {
                data: data_classes,
                network: config.num_classes,
                which,
            });
        }
    }
    Ok(())
}

/// What to do with an image that cannot be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnCorrupt {
    /// Stop with an error naming the file.
    Fail,
    /// Leave it out, count it and report it.
    Skip,
}

/// How to evaluate.
#[derive(Debug, Clone)]
pub struct EvalSettings {
    /// Pixels to inputs.
    pub normalization: Normalization,
    /// Which views of each image are scored (folders; CIFAR images are scored as they are).
    pub protocol: TestProtocol,
    /// Images per forward pass.
    pub batch_size: usize,
    /// What to do with undecodable files.
    pub on_corrupt: OnCorrupt,
}

/// The outcome of an evaluation.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EvalReport {
    /// Images whose top-scoring class is right.
    pub correct: usize,
    /// Images whose right class is among the 5 top-scoring.
    pub top5_correct: usize,
    /// Images evaluated.
    pub total: usize,
    /// `1 - correct / total`.
    pub top1_error: f64,
    /// `1 - top5_correct / total`.
    pub top5_error: f64,
    /// Files left out because they could not be decoded.
    pub skipped: Vec<String>,
}

impl EvalReport {
    fn add(&mut self, probabilities: Tensor<2>, labels: &[usize]) {
        let [n, classes] = probabilities.dims();
        // Any float type converts (backends whose default float is f16, say).
        let p: Vec<f32> = (probabilities
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>())
        .expect("f32 after convert");
        for (row, &label) in p.chunks_exact(classes).zip(labels).take(n) {
            let truth = row[label];
            // Rank of the true class: classes scoring higher, and ties with a lower index (as
            // `argmax`/`topk` break them), so that tied scores (e.g. probabilities that
            // underflow to 0) never count as right. A NaN score outranks everything, so that
            // a diverged network scores 100% error, not 0%.
            let outranks = |j: usize, s: f32| {
                s.is_nan() || truth.is_nan() || s > truth || (s == truth && j < label)
            };
            let higher = (row.iter().enumerate())
                .filter(|&(j, &s)| j != label && outranks(j, s))
                .count()
                + truth.is_nan() as usize;
            self.correct += (higher == 0) as usize;
            self.top5_correct += (higher < 5) as usize;
        }
        self.total += n;
        self.top1_error = 1.0 - self.correct as f64 / self.total as f64;
        self.top5_error = 1.0 - self.top5_correct as f64 / self.total as f64;
    }
}

/// Mean softmax of every network on every view; each view is a batch of the same images.
fn score(models: &[ResNet], views: impl IntoIterator<Item = Tensor<4>>) -> Tensor<2> {
    let mut sum: Option<Tensor<2>> = None;
    let mut count = 0;
    for view in views {
        for model in models {
            let p = softmax(model.forward(view.clone()), 1);
            sum = Some(match sum {
                Some(s) => s + p,
                None => p,
            });
            count += 1;
        }
    }
    sum.expect("at least one view and one network") / count as f32
}

/// The checks both evaluations make before reading any image: the networks fit the data and
/// the batch size is usable.
fn check_inputs(
    models: &[ResNet],
    settings: &EvalSettings,
    data_classes: usize,
    data_channels: usize,
) -> Result<(), EvalError> {
    check_networks(models, data_classes, data_channels)?;
    if settings.batch_size == 0 {
        return Err(EvalError::ZeroBatch);
    }
    Ok(())
}

/// Evaluates decoded images (CIFAR), in batches, calling `progress` with images done.
///
/// Every network must take the set's channels and score exactly its classes.
pub fn evaluate_images(
    models: &[ResNet],
    set: &ImageSet,
    settings: &EvalSettings,
    device: &Device,
    mut progress: impl FnMut(usize),
) -> Result<EvalReport, EvalError> {
    check_inputs(models, settings, set.classes, set.shape[0])?;
    let normalization = &settings.normalization;
    normalization.check(set.shape)?;
    let mut report = EvalReport::default();
    let len = set.image_len();
    for start in (0..set.len()).step_by(settings.batch_size) {
        let end = (start + settings.batch_size).min(set.len());
        let pixels = &set.pixels[start * len..end * len];
        let x = images_to_tensor(pixels, set.shape, normalization, device);
        report.add(score(models, [x]), &set.labels[start..end]);
        progress(end - start);
    }
    Ok(report)
}

/// Evaluates the images of a folder under `protocol`, decoding in parallel.
///
/// Every network must take RGB images and score exactly the folder's classes, in the
/// folder's (sorted) order.
pub fn evaluate_folder(
    models: &[ResNet],
    folder: &ImageFolder,
    settings: &EvalSettings,
    device: &Device,
    mut progress: impl FnMut(usize),
) -> Result<EvalReport, EvalError> {
    // Decoded images are RGB.
    check_inputs(models, settings, folder.classes.len(), 3)?;
    let (protocol, normalization) = (&settings.protocol, &settings.normalization);
    let mut report = EvalReport::default();
    // Scaled views differ in size from image to image: they go one image at a time.
    let batch_size = match protocol {
        TestProtocol::MultiScale { .. } => 1,
        _ => settings.batch_size,
    };
    for chunk in folder.samples.chunks(batch_size) {
        let decoded: Vec<(&Sample, Result<Vec<RgbImage>, DataError>)> = chunk
            .par_iter()
            .map(|s| (s, decode(&s.path).map(|image| protocol.views(&image))))
            .collect();
        let mut views: Vec<Vec<RgbImage>> = Vec::with_capacity(chunk.len());
        let mut labels = Vec::with_capacity(chunk.len());
        for (sample, result) in decoded {
            match (result, settings.on_corrupt) {
                (Ok(v), _) => {
                    views.push(v);
                    labels.push(sample.label);
                }
                (Err(e), OnCorrupt::Fail) => return Err(e.into()),
                (Err(_), OnCorrupt::Skip) => report.skipped.push(sample.path.display().to_string()),
            }
        }
        progress(chunk.len());
        if views.is_empty() {
            continue;
        }
        let view_count = views[0].len();
        let tensors = (0..view_count)
            .map(|v| {
                stack(
                    views.iter().map(|image_views| &image_views[v]),
                    normalization,
                    device,
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        report.add(score(models, tensors), &labels);
    }
    Ok(report)
}

/// One view of several images as a normalised batch; they must share a size.
fn stack<'a>(
    images: impl Iterator<Item = &'a RgbImage>,
    normalization: &Normalization,
    device: &Device,
) -> Result<Tensor<4>, DataError> {
    let mut pixels = Vec::new();
    let mut size = None;
    for image in images {
        let dims = image.dimensions();
        if *size.get_or_insert(dims) != dims {
            return Err(DataError::Invalid(format!(
                "images of different sizes ({:?} and {:?}) cannot be batched as they are; \
                 use a resizing protocol (--tta single) or --batch-size 1",
                size.unwrap(),
                dims
            )));
        }
        pixels.extend(to_chw(image));
    }
    let (w, h) = size.expect("at least one image");
    let shape = [3, h as usize, w as usize];
    normalization.check(shape)?;
    Ok(images_to_tensor(&pixels, shape, normalization, device))
}
