//! Training batches: the paper's augmentations applied to shuffled, seeded batches of `u8`
//! images, in parallel. Batch `b` of epoch `e` depends only on (seed, e, b), so a run can be
//! resumed at any batch and reproduce the same data.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::augment::PadCropFlip;
use crate::error::DataError;
use crate::folder::{Sample, decode};
use crate::images::ImageSet;
use crate::transforms::{PcaLighting, ScaleAugment, image_rng, to_chw};

/// A seed for one (epoch, batch) of a run seeded with `seed`.
pub fn batch_seed(seed: u64, epoch: u64, batch: u64) -> u64 {
    // SplitMix64 of the three: well-mixed, cheap and stable across versions.
    let mut z = seed ^ epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ batch.rotate_left(32);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The order in which an epoch visits `n` images.
pub fn epoch_order(n: usize, seed: u64, epoch: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(batch_seed(
        seed,
        epoch,
        u64::MAX,
    )));
    order
}

/// CIFAR training batches (section 4.2): shuffled each epoch, padded by 4, randomly cropped
/// back to 32x32 and flipped. The last incomplete batch of an epoch is dropped.
#[derive(Debug, Clone)]
pub struct CifarTrainBatches<'a> {
    /// The training images.
    pub images: &'a ImageSet,
    /// Images per batch.
    pub batch_size: usize,
    /// The run's seed.
    pub seed: u64,
    /// The augmentation.
    pub augment: PadCropFlip,
}

impl CifarTrainBatches<'_> {
    /// Complete batches per epoch.
    pub fn batches_per_epoch(&self) -> usize {
        self.images.len().checked_div(self.batch_size).unwrap_or(0)
    }

    /// Batch `batch` of epoch `epoch`, augmented; `order` is that epoch's
    /// [`epoch_order`] (computed once per epoch by the caller, not once per batch).
    ///
    /// # Panics
    ///
    /// If `batch` is not below [`CifarTrainBatches::batches_per_epoch`].
    pub fn batch(&self, order: &[usize], epoch: u64, batch: usize) -> ImageSet {
        let indices = &order[batch * self.batch_size..(batch + 1) * self.batch_size];
        let source = self.images.subset(indices);
        let draws = self
            .augment
            .draw(indices.len(), batch_seed(self.seed, epoch, batch as u64));
        let mut pixels = vec![0; source.pixels.len()];
        self.augment
            .apply_batch(&source.pixels, source.shape, &draws, &mut pixels);
        ImageSet { pixels, ..source }
    }
}

/// One ImageNet training batch (section 3.4): decode, scale augmentation, random 224 crop,
/// flip and PCA lighting, in parallel. Returns the batch and the files that could not be
/// decoded (left out); unusable augmentation settings are an error.
pub fn imagenet_train_batch(
    samples: &[Sample],
    classes: usize,
    scale: &ScaleAugment,
    lighting: Option<&PcaLighting>,
    seed: u64,
) -> Result<(ImageSet, Vec<DataError>), DataError> {
    scale.check()?;
    lighting.map(PcaLighting::check).transpose()?;
    let results: Vec<Result<(Vec<u8>, usize), DataError>> = samples
        .par_iter()
        .enumerate()
        .map(|(i, sample)| {
            let mut rng = image_rng(seed, i as u64);
            let image = decode(&sample.path)?;
            let mut view = scale.apply(&image, &mut rng);
            if let Some(lighting) = lighting {
                lighting.apply(&mut view, &mut rng)?;
            }
            Ok((to_chw(&view), sample.label))
        })
        .collect();
    let side = scale.crop as usize;
    let mut set = ImageSet::with_capacity(samples.len(), [3, side, side], classes);
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok((pixels, label)) => set.push(&pixels, label),
            Err(e) => errors.push(e),
        }
    }
    Ok((set, errors))
}
