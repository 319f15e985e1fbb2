//! [`ImageSet`]: labelled images of one size, as contiguous `u8` CHW planes.

use crate::error::DataError;
use crate::split::held_out_indices;

/// Labelled images of one shape `[channels, height, width]`, stored as `u8` planes.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSet {
    /// All images, one after the other, each `channels * height * width` bytes (CHW).
    pub pixels: Vec<u8>,
    /// The label of each image.
    pub labels: Vec<usize>,
    /// `[channels, height, width]` of every image.
    pub shape: [usize; 3],
    /// Number of classes labels are drawn from.
    pub classes: usize,
}

impl ImageSet {
    /// An empty set with room for `n` images.
    pub fn with_capacity(n: usize, shape: [usize; 3], classes: usize) -> Self {
        Self {
            pixels: Vec::with_capacity(n * shape.iter().product::<usize>()),
            labels: Vec::with_capacity(n),
            shape,
            classes,
        }
    }

    /// Bytes of one image.
    pub fn image_len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The pixels of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.image_len();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// Appends one image (`image_len()` bytes, CHW).
    ///
    /// # Panics
    ///
    /// If the image is not `image_len()` bytes or the label not below `classes`: a wrong
    /// size would shift every later image (loaders check their input before pushing).
    pub fn push(&mut self, image: &[u8], label: usize) {
        assert_eq!(
            image.len(),
            self.image_len(),
            "image size of {:?}",
            self.shape
        );
        assert!(
            label < self.classes,
            "label {label} of {} classes",
            self.classes
        );
        self.pixels.extend_from_slice(image);
        self.labels.push(label);
    }

    /// Appends all images of `other`.
    ///
    /// # Panics
    ///
    /// If `other` has another image shape or number of classes.
    pub fn extend(&mut self, other: ImageSet) {
        assert_eq!(
            (self.shape, self.classes),
            (other.shape, other.classes),
            "sets of other images or classes"
        );
        self.pixels.extend(other.pixels);
        self.labels.extend(other.labels);
    }

    /// The images at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> ImageSet {
        let mut set = ImageSet::with_capacity(indices.len(), self.shape, self.classes);
        for &i in indices {
            set.push(self.image(i), self.labels[i]);
        }
        set
    }

    /// Splits off `held_out` images for validation ([`held_out_indices`]): a seeded random
    /// permutation, whose last `held_out` images are the validation set and the rest the
    /// training set (not stratified: with balanced classes each class gets about its share of
    /// the held-out images); with `held_out` 0, every image in order and an empty set.
    pub fn split(&self, held_out: usize, seed: u64) -> Result<(ImageSet, ImageSet), DataError> {
        let (train, val) = held_out_indices(self.len(), held_out, seed)?;
        Ok((self.subset(&train), self.subset(&val)))
    }

    /// The per-pixel mean image (`[C, H, W]`, in [0, 1] units): what the paper subtracts.
    pub fn mean_image(&self) -> Vec<f32> {
        let n = self.image_len();
        let mut sum = vec![0u64; n];
        for image in self.pixels.chunks_exact(n) {
            for (s, &p) in sum.iter_mut().zip(image) {
                *s += p as u64;
            }
        }
        let count = self.len().max(1) as f64 * 255.0;
        sum.into_iter().map(|s| (s as f64 / count) as f32).collect()
    }
}
