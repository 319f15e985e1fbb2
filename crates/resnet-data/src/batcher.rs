//! Batches of [`LabeledImage`]s for burn's `DataLoaderBuilder`: the paper's training
//! augmentation or a test view, normalised, as the networks' `ClassificationBatch`.
//!
//! burn's `Batcher` is handed the items and a device, no generator and no batch index: an
//! [`ImageBatcher`] numbers the batches it makes and draws batch `k`'s augmentation from
//! `batch_seed(seed, 0, k)`. With `num_workers` 0 (or 1) a run is then the same for the same
//! loader seed and batcher seed; with more workers, burn's loader hands each worker a part of
//! the data and takes their batches as they come, so which batch gets which draws varies
//! between runs (the images of each batch do not). The project's own loop
//! (`resnet-train`) has none of this freedom: its batches are a function of (seed, epoch,
//! batch), which its exact resume needs.
//!
//! Given the same images and seed, a batch equals the project's own pipeline's:
//! [`ImageBatcher::batch_seeded`] with `batch_seed(seed, epoch, b)` and the images of
//! `epoch_order(..)[b * n..(b + 1) * n]` is `CifarTrainBatches::batch(order, epoch, b)`
//! (`tests/burn_loader.rs` checks it).

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};

use burn::data::dataloader::batcher::Batcher;
use burn::tensor::Device;
use image::RgbImage;
use resnet_model::ClassificationBatch;

use crate::augment::PadCropFlip;
use crate::batch::{images_to_tensor, labels_to_tensor};
use crate::dataset::LabeledImage;
use crate::error::DataError;
use crate::normalize::Normalization;
use crate::pipeline::batch_seed;
use crate::transforms::{PcaLighting, ScaleAugment, image_rng, resized_center_crop, to_chw};

/// What is done to each image before it is normalised.
#[derive(Debug, Clone, PartialEq)]
pub enum View {
    /// The image as it is (CIFAR's test images; every image of a batch must have one size).
    AsIs,
    /// CIFAR's training augmentation (section 4.2): padded by 4, a random 32x32 crop, a
    /// random horizontal flip.
    PadCropFlip(PadCropFlip),
    /// ImageNet's training augmentation (section 3.4): scale augmentation (shorter side in
    /// [256, 480]), a random 224 crop, a random flip, and PCA colour lighting.
    ScaleCrop {
        /// The sizes.
        scale: ScaleAugment,
        /// The colour augmentation, if any.
        lighting: Option<PcaLighting>,
    },
    /// ImageNet's single-crop test view: shorter side resized to `resize`, central `crop`.
    CenterCrop {
        /// Shorter side after resizing.
        resize: u32,
        /// Side of the crop.
        crop: u32,
    },
}

/// Makes [`ClassificationBatch`]es from [`LabeledImage`]s (burn's `Batcher`).
#[derive(Debug)]
pub struct ImageBatcher {
    view: View,
    normalization: Normalization,
    seed: u64,
    /// Batches made so far: the next one's number.
    batches: AtomicU64,
}

impl ImageBatcher {
    /// A batcher that applies `view` then `normalization`, its random draws seeded with `seed`.
    /// Unusable augmentation sizes are an error.
    pub fn new(view: View, normalization: Normalization, seed: u64) -> Result<Self, DataError> {
        if let View::ScaleCrop { scale, lighting } = &view {
            scale.check()?;
            lighting.as_ref().map(PcaLighting::check).transpose()?;
        }
        if let View::CenterCrop { resize, crop } = view
            && (crop == 0 || crop > resize)
        {
            return Err(DataError::Invalid(format!(
                "a centre crop needs 0 < crop <= resize, not crop {crop} of {resize}"
            )));
        }
        Ok(Self {
            view,
            normalization,
            seed,
            batches: AtomicU64::new(0),
        })
    }

    /// CIFAR training batches: pad-4 crop and flip, the training set's per-pixel mean
    /// subtracted (`Normalization::mean_image(train.mean_image())`).
    pub fn cifar_train(normalization: Normalization, seed: u64) -> Self {
        Self::new(
            View::PadCropFlip(PadCropFlip::default()),
            normalization,
            seed,
        )
        .expect("CIFAR's augmentation is usable")
    }

    /// CIFAR test (and validation) batches: the images as they are.
    pub fn cifar_test(normalization: Normalization) -> Self {
        Self::new(View::AsIs, normalization, 0).expect("no augmentation")
    }

    /// ImageNet training batches: scale augmentation, 224 crop, flip, PCA lighting.
    pub fn imagenet_train(normalization: Normalization, seed: u64) -> Self {
        let view = View::ScaleCrop {
            scale: ScaleAugment::default(),
            lighting: Some(PcaLighting::default()),
        };
        Self::new(view, normalization, seed).expect("the paper's augmentation is usable")
    }

    /// ImageNet validation batches: resize 256, central 224 crop.
    pub fn imagenet_test(normalization: Normalization) -> Self {
        let view = View::CenterCrop {
            resize: 256,
            crop: 224,
        };
        Self::new(view, normalization, 0).expect("a usable crop")
    }

    /// The batch of `items` with the augmentation drawn from `seed` (what the project's own
    /// pipeline draws for a batch seeded so).
    ///
    /// # Panics
    ///
    /// When the views of the items differ in size ([`View::AsIs`] on images of several sizes).
    pub fn batch_seeded(
        &self,
        items: &[LabeledImage],
        seed: u64,
        device: &Device,
    ) -> ClassificationBatch {
        // The items' own images where the view is the image (no copy before the CHW one).
        let views: Vec<Cow<RgbImage>> = match &self.view {
            View::AsIs | View::PadCropFlip(_) => {
                items.iter().map(|i| Cow::Borrowed(&i.image)).collect()
            }
            View::ScaleCrop { scale, lighting } => (items.iter().enumerate())
                .map(|(i, item)| {
                    let mut rng = image_rng(seed, i as u64);
                    let mut view = scale.apply(&item.image, &mut rng);
                    if let Some(lighting) = lighting {
                        lighting
                            .apply(&mut view, &mut rng)
                            .expect("checked by ImageBatcher::new");
                    }
                    Cow::Owned(view)
                })
                .collect(),
            View::CenterCrop { resize, crop } => (items.iter())
                .map(|item| Cow::Owned(resized_center_crop(&item.image, *resize, *crop)))
                .collect(),
        };
        let (w, h) = views.first().map_or((0, 0), |v| v.dimensions());
        assert!(
            views.iter().all(|v| v.dimensions() == (w, h)),
            "the images of a batch differ in size: give the batcher a crop"
        );
        let shape = [3, h as usize, w as usize];
        let mut pixels: Vec<u8> = views.iter().flat_map(|v| to_chw(v)).collect();
        if let View::PadCropFlip(augment) = &self.view {
            let draws = augment.draw(items.len(), seed);
            let mut out = vec![0; pixels.len()];
            augment.apply_batch(&pixels, shape, &draws, &mut out);
            pixels = out;
        }
        let labels: Vec<usize> = items.iter().map(|i| i.label).collect();
        ClassificationBatch {
            images: images_to_tensor(&pixels, shape, &self.normalization, device),
            targets: labels_to_tensor(&labels, device),
        }
    }
}

impl Batcher<LabeledImage, ClassificationBatch> for ImageBatcher {
    /// Batch `k` of those this batcher makes draws from `batch_seed(seed, 0, k)`.
    fn batch(&self, items: Vec<LabeledImage>, device: &Device) -> ClassificationBatch {
        let k = self.batches.fetch_add(1, Ordering::Relaxed);
        self.batch_seeded(&items, batch_seed(self.seed, 0, k), device)
    }
}
