//! The preprocessing that a set of weights was trained and scored with: from a decoded photo
//! to the network's input.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::error::DataError;
use crate::normalize::Normalization;
use crate::transforms::{resized_center_crop, to_chw};

/// Shorter side resized to `resize` (antialiased bilinear), central `crop` x `crop`, pixels to
/// [0, 1], then `normalization`: torchvision's `ImageClassification` preset, which its
/// weights' `transforms()` return, on the pixels torchvision computes (see
/// [`resize_shorter`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preset {
    /// Shorter side after resizing.
    pub resize: u32,
    /// Side of the central crop: the network's input size.
    pub crop: u32,
    /// From pixels to inputs.
    pub normalization: Normalization,
}

impl Preset {
    /// torchvision's ImageNet preset: resize `resize` (256 for its V1 weights, 232 for V2),
    /// crop 224, ImageNet's mean and standard deviation.
    pub fn imagenet(resize: u32) -> Self {
        Self {
            resize,
            crop: 224,
            normalization: Normalization::imagenet(),
        }
    }

    /// A CIFAR network's preset for any photo: shorter side to 32, central 32 x 32 (a CIFAR
    /// image is the whole, downscaled picture), then `normalization`.
    pub fn cifar(normalization: Normalization) -> Self {
        Self {
            resize: 32,
            crop: 32,
            normalization,
        }
    }

    /// Checks the sizes (`0 < crop <= resize`) and the normalisation for a 3-channel
    /// `crop` x `crop` input.
    pub fn check(&self) -> Result<(), DataError> {
        if self.crop == 0 || self.crop > self.resize {
            return Err(DataError::Invalid(format!(
                "preset: need 0 < crop <= resize, not resize {} and crop {}",
                self.resize, self.crop
            )));
        }
        let side = self.crop as usize;
        self.normalization.check([3, side, side])
    }

    /// The `u8` view the network sees: resized and cropped (before normalisation).
    pub fn view(&self, image: &RgbImage) -> RgbImage {
        resized_center_crop(image, self.resize, self.crop)
    }

    /// The network's input for `image`: `[3, crop, crop]` values, channel-major. The preset must
    /// have passed [`Preset::check`].
    pub fn apply(&self, image: &RgbImage) -> Vec<f32> {
        let pixels = to_chw(&self.view(image));
        let mut out = vec![0.0; pixels.len()];
        self.normalization.apply(&pixels, 3, &mut out);
        out
    }
}
