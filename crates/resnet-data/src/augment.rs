//! The paper's CIFAR training augmentation (section 4.2): 4 zero pixels padded on each side, a
//! random 32x32 crop of the padded image, and a random horizontal flip.
//!
//! Works on `u8` images in batch form. The random draws are made up front from a seeded
//! generator, so a batch is the same whatever the number of threads.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Where one augmented image comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CropFlip {
    /// Top-left corner of the crop in the padded image, `[y, x]` (`0..=2 * pad` each).
    pub offset: [usize; 2],
    /// Whether the crop is mirrored left-right.
    pub flip: bool,
}

/// Pad-and-crop with random flips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PadCropFlip {
    /// Zero pixels added on each side before cropping back to the original size.
    pub pad: usize,
}

impl Default for PadCropFlip {
    fn default() -> Self {
        Self { pad: 4 }
    }
}

impl PadCropFlip {
    /// Draws the crop and flip of `n` images from a generator seeded with `seed`.
    pub fn draw(&self, n: usize, seed: u64) -> Vec<CropFlip> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| CropFlip {
                offset: [
                    rng.random_range(0..=2 * self.pad),
                    rng.random_range(0..=2 * self.pad),
                ],
                flip: rng.random_bool(0.5),
            })
            .collect()
    }

    /// Augments CHW images of `shape` (`src`, one after the other) into `dst`, one image per
    /// draw, in parallel.
    pub fn apply_batch(&self, src: &[u8], shape: [usize; 3], draws: &[CropFlip], dst: &mut [u8]) {
        let len: usize = shape.iter().product();
        dst.par_chunks_exact_mut(len)
            .zip(src.par_chunks_exact(len))
            .zip(draws.par_iter())
            .for_each(|((out, image), draw)| self.apply(image, shape, *draw, out));
    }

    /// Augments one CHW image.
    pub fn apply(&self, image: &[u8], [c, h, w]: [usize; 3], draw: CropFlip, out: &mut [u8]) {
        let pad = self.pad as isize;
        let [oy, ox] = draw.offset.map(|o| o as isize - pad);
        for ch in 0..c {
            let plane = &image[ch * h * w..(ch + 1) * h * w];
            for y in 0..h {
                let sy = y as isize + oy;
                let row = &mut out[(ch * h + y) * w..(ch * h + y + 1) * w];
                if sy < 0 || sy >= h as isize {
                    row.fill(0);
                    continue;
                }
                let src_row = &plane[sy as usize * w..(sy as usize + 1) * w];
                for (x, o) in row.iter_mut().enumerate() {
                    let x = if draw.flip { w - 1 - x } else { x };
                    let sx = x as isize + ox;
                    *o = if sx < 0 || sx >= w as isize {
                        0
                    } else {
                        src_row[sx as usize]
                    };
                }
            }
        }
    }
}
