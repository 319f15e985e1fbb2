//! The paper's ImageNet protocols (section 3.4) on decoded RGB images.
//!
//! Training: the shorter side resized to a random size in [256, 480], a random 224x224 crop,
//! a random horizontal flip, and AlexNet-style PCA colour augmentation. Testing: a single
//! centre crop (shorter side 256, crop 224), the standard 10 crops, or fully-convolutional
//! multi-scale testing (shorter side in {224, 256, 384, 480, 640}).

use image::RgbImage;
use image::imageops;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use crate::antialias::resize_bilinear;
use crate::error::DataError;
use crate::resample::resized_crop;

/// The scales of the paper's multi-scale testing (section 3.4).
pub const MULTI_SCALES: [u32; 5] = [224, 256, 384, 480, 640];

/// Resizes so that the shorter side is `size`, keeping the aspect ratio; the longer side is
/// truncated to an integer. This is torchvision's `Resize(size)` on a PIL image, pixel for
/// pixel: Pillow's antialiased bilinear filter ([`resize_bilinear`]), the image unchanged when
/// it already has that size.
pub fn resize_shorter(image: &RgbImage, size: u32) -> RgbImage {
    let (w, h) = image.dimensions();
    let longer = |long: u32, short: u32| (long as u64 * size as u64 / short as u64) as u32;
    let (nw, nh) = if w <= h {
        (size, longer(h, w))
    } else {
        (longer(w, h), size)
    };
    if (nw, nh) == (w, h) {
        return image.clone();
    }
    resize_bilinear(image, nw.max(1), nh.max(1))
}

/// The `size` x `size` crop with top-left corner `(x, y)`.
///
/// # Panics
///
/// If the crop does not lie inside the image (callers size the image first, as
/// [`TestProtocol`](crate::TestProtocol) does).
pub fn crop(image: &RgbImage, x: u32, y: u32, size: u32) -> RgbImage {
    let (w, h) = image.dimensions();
    assert!(
        x as u64 + size as u64 <= w as u64 && y as u64 + size as u64 <= h as u64,
        "a {size}x{size} crop at ({x}, {y}) of a {w}x{h} image"
    );
    imageops::crop_imm(image, x, y, size, size).to_image()
}

/// The central `size` x `size` crop; torchvision's offsets (half the margin, rounded half to
/// even).
///
/// # Panics
///
/// If the image is smaller than the crop.
pub fn center_crop(image: &RgbImage, size: u32) -> RgbImage {
    let (w, h) = image.dimensions();
    let offset = |side: u32| {
        let margin = side.saturating_sub(size);
        let half = margin / 2;
        half + (margin % 2 == 1 && half % 2 == 1) as u32
    };
    crop(image, offset(w), offset(h), size)
}

/// torchvision's single-crop evaluation view, `CenterCrop(crop)` after `Resize(resize)`: the
/// shorter side resized to `resize` (at least `crop`), then the central `crop` x `crop`.
pub fn resized_center_crop(image: &RgbImage, resize: u32, crop: u32) -> RgbImage {
    center_crop(&resize_shorter(image, resize.max(crop)), crop)
}

/// The standard 10-crop: the four corners and the centre, then the same five mirrored.
///
/// # Panics
///
/// If the image is smaller than the crop.
pub fn ten_crop(image: &RgbImage, size: u32) -> Vec<RgbImage> {
    let (w, h) = image.dimensions();
    let (r, b) = (w.saturating_sub(size), h.saturating_sub(size));
    let five = [
        crop(image, 0, 0, size),
        crop(image, r, 0, size),
        crop(image, 0, b, size),
        crop(image, r, b, size),
        center_crop(image, size),
    ];
    let flipped: Vec<RgbImage> = five.iter().map(imageops::flip_horizontal).collect();
    five.into_iter().chain(flipped).collect()
}

/// An image as `u8` CHW planes.
pub fn to_chw(image: &RgbImage) -> Vec<u8> {
    let (w, h) = image.dimensions();
    let plane = (w * h) as usize;
    let mut out = vec![0u8; 3 * plane];
    for (i, p) in image.pixels().enumerate() {
        for c in 0..3 {
            out[c * plane + i] = p.0[c];
        }
    }
    out
}

/// Scale augmentation: shorter side resized to a random size in `[min, max]`, a random
/// `crop` x `crop` crop, a random horizontal flip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleAugment {
    /// Smallest shorter side.
    pub min: u32,
    /// Largest shorter side.
    pub max: u32,
    /// Side of the crop.
    pub crop: u32,
}

impl Default for ScaleAugment {
    fn default() -> Self {
        Self {
            min: 256,
            max: 480,
            crop: 224,
        }
    }
}

impl ScaleAugment {
    /// Checks that the sizes are usable: `0 < min <= max`, `crop > 0`.
    pub fn check(&self) -> Result<(), DataError> {
        if self.min == 0 || self.min > self.max || self.crop == 0 {
            return Err(DataError::Invalid(format!(
                "scale augmentation: need 0 < min <= max and crop > 0, not min {}, max {}, crop {}",
                self.min, self.max, self.crop
            )));
        }
        Ok(())
    }

    /// Applies the augmentation with randomness from `rng`.
    ///
    /// # Panics
    ///
    /// If `min > max` ([`ScaleAugment::check`] first for sizes from elsewhere).
    ///
    /// The crop is located in the rescaled image, but only the pixels under it are resampled
    /// ([`resized_crop`]): the same view as resizing the whole image and then cropping, at a
    /// fraction of the cost.
    pub fn apply(&self, image: &RgbImage, rng: &mut impl Rng) -> RgbImage {
        let scale = rng.random_range(self.min..=self.max).max(self.crop);
        let (w, h) = image.dimensions();
        let factor = scale as f64 / w.min(h) as f64;
        let resized = |side: u32| ((side as f64 * factor).round() as u32).max(self.crop);
        let size = (resized(w), resized(h));
        let x = rng.random_range(0..=size.0 - self.crop);
        let y = rng.random_range(0..=size.1 - self.crop);
        let out = resized_crop(image, size, (x, y), self.crop);
        if rng.random_bool(0.5) {
            imageops::flip_horizontal(&out)
        } else {
            out
        }
    }
}

/// AlexNet-style PCA colour augmentation: adds `eigvec · (alpha * eigval)` to every pixel,
/// with `alpha ~ N(0, sigma)` drawn once per image (Krizhevsky et al., 2012).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PcaLighting {
    /// Standard deviation of the coefficients (the paper: 0.1).
    pub sigma: f32,
    /// Scale of each principal component (for pixels in [0, 1]; the default is
    /// fb.resnet.torch's `eigval`).
    pub eigenvalues: [f32; 3],
    /// Eigenvectors, one per column.
    pub eigenvectors: [[f32; 3]; 3],
}

impl Default for PcaLighting {
    /// The standard ImageNet statistics (as in fb.resnet.torch), sigma 0.1.
    fn default() -> Self {
        Self {
            sigma: 0.1,
            eigenvalues: [0.2175, 0.0188, 0.0045],
            eigenvectors: [
                [-0.5675, 0.7192, 0.4009],
                [-0.5808, -0.0045, -0.8140],
                [-0.5836, -0.6948, 0.4203],
            ],
        }
    }
}

impl PcaLighting {
    /// The RGB offset (in [0, 1] units) for coefficients `alpha`.
    pub fn offset(&self, alpha: [f32; 3]) -> [f32; 3] {
        let mut rgb = [0.0; 3];
        for (c, out) in rgb.iter_mut().enumerate() {
            *out = (0..3)
                .map(|k| self.eigenvectors[c][k] * alpha[k] * self.eigenvalues[k])
                .sum();
        }
        rgb
    }

    /// Checks that `sigma` is finite and not negative.
    pub fn check(&self) -> Result<(), DataError> {
        self.distribution().map(drop)
    }

    fn distribution(&self) -> Result<Normal<f32>, DataError> {
        Normal::new(0.0, self.sigma)
            .ok()
            .filter(|_| self.sigma >= 0.0)
            .ok_or_else(|| {
                DataError::Invalid(format!(
                    "PCA lighting: sigma must be finite and >= 0, not {}",
                    self.sigma
                ))
            })
    }

    /// Draws coefficients and shifts every pixel's colour (clamped to the `u8` range); returns
    /// the offset. A `sigma` that is negative or not finite is an error.
    pub fn apply(&self, image: &mut RgbImage, rng: &mut impl Rng) -> Result<[f32; 3], DataError> {
        let normal = self.distribution()?;
        let alpha = [(); 3].map(|_| normal.sample(rng));
        let offset = self.offset(alpha).map(|v| v * 255.0);
        for p in image.pixels_mut() {
            for (value, shift) in p.0.iter_mut().zip(offset) {
                *value = (*value as f32 + shift).round().clamp(0.0, 255.0) as u8;
            }
        }
        Ok(offset)
    }
}

/// A generator for image `index` of a pass seeded with `seed`: the same draws whatever the
/// order in which (or the thread on which) images are processed.
pub fn image_rng(seed: u64, index: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    rng
}
