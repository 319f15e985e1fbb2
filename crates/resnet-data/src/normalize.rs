//! Input normalisation: per-pixel mean subtraction (the paper) and/or per-channel mean/std
//! (what the public PyTorch checkpoints were trained with).

use serde::{Deserialize, Serialize};

use crate::error::DataError;

/// How `u8` pixels become network inputs: `x = p / 255`, minus the mean image when given,
/// then `(x - mean[c]) / std[c]` per channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    /// Per-pixel mean image (`[C, H, W]`, in [0, 1] units), subtracted first.
    pub mean_image: Option<Vec<f32>>,
    /// Per-channel mean, in [0, 1] units.
    pub mean: Vec<f32>,
    /// Per-channel standard deviation, in [0, 1] units.
    pub std: Vec<f32>,
}

impl Normalization {
    /// `p / 255` only.
    pub fn unit() -> Self {
        Self {
            mean_image: None,
            mean: vec![0.0; 3],
            std: vec![1.0; 3],
        }
    }

    /// The ImageNet statistics torchvision's models (and the public CIFAR checkpoints) use.
    pub fn imagenet() -> Self {
        Self::per_channel([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    }

    /// Per-channel mean and standard deviation.
    pub fn per_channel(mean: [f32; 3], std: [f32; 3]) -> Self {
        Self {
            mean_image: None,
            mean: mean.to_vec(),
            std: std.to_vec(),
        }
    }

    /// Per-pixel mean subtraction, as the paper does (sections 3.4 and 4.2).
    pub fn mean_image(mean_image: Vec<f32>) -> Self {
        Self {
            mean_image: Some(mean_image),
            ..Self::unit()
        }
    }

    /// Checks the statistics against images of `shape` (`[C, H, W]`).
    pub fn check(&self, shape: [usize; 3]) -> Result<(), DataError> {
        let [c, h, w] = shape;
        if self.mean.len() != c || self.std.len() != c {
            return Err(DataError::Invalid(format!(
                "normalisation has {} means and {} stds for {c} channels",
                self.mean.len(),
                self.std.len()
            )));
        }
        if self.std.iter().any(|&s| s <= 0.0 || !s.is_finite()) {
            return Err(DataError::Invalid("standard deviations must be > 0".into()));
        }
        if let Some(m) = &self.mean_image
            && m.len() != c * h * w
        {
            return Err(DataError::Invalid(format!(
                "the mean image has {} values, images have {}x{}x{} = {}",
                m.len(),
                c,
                h,
                w,
                c * h * w
            )));
        }
        Ok(())
    }

    /// Normalises one CHW image into `out`.
    pub fn apply(&self, image: &[u8], channels: usize, out: &mut [f32]) {
        let plane = image.len() / channels;
        for (i, (&p, o)) in image.iter().zip(out.iter_mut()).enumerate() {
            let c = i / plane;
            let mut x = p as f32 / 255.0;
            if let Some(m) = &self.mean_image {
                x -= m[i];
            }
            *o = (x - self.mean[c]) / self.std[c];
        }
    }
}
