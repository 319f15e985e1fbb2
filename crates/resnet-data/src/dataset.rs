//! The data as burn datasets (`burn::data::dataset::Dataset`), for burn's `DataLoaderBuilder`
//! and `Learner` (feature `learner`, on by default): an [`ImageSet`] (CIFAR's train, val and
//! test splits) and an [`ImageFolder`] (class-folder trees, decoded as they are read) yield
//! [`LabeledImage`]s; [`ImageBatcher`](crate::batcher::ImageBatcher) augments and batches them.
//!
//! These wrap the readers the project's own loop uses: `Cifar::load(..)?.train.split(5000,
//! seed)?` gives the paper's 45k/5k split as two datasets.

use burn::data::dataset::{Dataset, DatasetError};
use image::RgbImage;

use crate::error::DataError;
use crate::folder::{ImageFolder, decode};
use crate::images::ImageSet;

/// An image and its class, as the datasets yield it.
#[derive(Debug, Clone, PartialEq)]
pub struct LabeledImage {
    /// The image (RGB, any size).
    pub image: RgbImage,
    /// Its class index.
    pub label: usize,
}

fn out_of_range(index: usize, len: usize) -> DatasetError {
    DatasetError::new(DataError::Invalid(format!(
        "image {index} asked of a dataset of {len}"
    )))
}

/// The images of a set (CHW `u8`, three channels), in its order.
impl Dataset<LabeledImage> for ImageSet {
    fn get(&self, index: usize) -> Result<LabeledImage, DatasetError> {
        if index >= self.len() {
            return Err(out_of_range(index, self.len()));
        }
        let [c, h, w] = self.shape;
        if c != 3 {
            return Err(DatasetError::new(DataError::Invalid(format!(
                "a dataset of RGB images needs 3 channels, not {c}"
            ))));
        }
        let chw = self.image(index);
        let plane = h * w;
        let hwc = (0..plane)
            .flat_map(|i| [chw[i], chw[plane + i], chw[2 * plane + i]])
            .collect();
        let image = RgbImage::from_raw(w as u32, h as u32, hwc).expect("h * w * 3 bytes");
        Ok(LabeledImage {
            image,
            label: self.labels[index],
        })
    }

    fn len(&self) -> usize {
        ImageSet::len(self)
    }
}

/// The images of a class-folder tree, decoded when read (by the loader's workers); a file
/// that cannot be decoded is an error naming it.
impl Dataset<LabeledImage> for ImageFolder {
    fn get(&self, index: usize) -> Result<LabeledImage, DatasetError> {
        let sample = (self.samples.get(index)).ok_or_else(|| out_of_range(index, self.len()))?;
        Ok(LabeledImage {
            image: decode(&sample.path).map_err(DatasetError::new)?,
            label: sample.label,
        })
    }

    fn len(&self) -> usize {
        self.samples.len()
    }
}
