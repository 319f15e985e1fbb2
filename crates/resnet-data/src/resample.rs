//! A crop of a resized image, computed without resizing the whole image.
//!
//! Scale augmentation (section 3.4) resizes each training image to a random scale and keeps a
//! 224x224 crop: resizing the whole image first would resample 480x640 pixels (a 4:3 image at
//! the largest scale; more for wider ones) to keep 224x224 of them. [`resized_crop`] resamples
//! only the kept pixels, with the same sampling as `image::imageops::resize` with
//! `FilterType::Triangle` (bilinear when enlarging, a triangle of the scale's width when
//! shrinking, so that it also antialiases).

use image::RgbImage;

/// The source pixels behind one output coordinate: the first one and their weights.
struct Taps {
    first: usize,
    weights: Vec<f32>,
}

/// Triangle-filter taps of output coordinates `start..start + len` of a resize from `from` to
/// `to` pixels: `image`'s sampling (pixel centres at `+ 0.5`, the filter widened by the
/// shrink ratio, weights normalised).
fn taps(from: u32, to: u32, start: u32, len: u32) -> Vec<Taps> {
    let ratio = from as f32 / to as f32;
    let widen = ratio.max(1.0);
    (start..start + len)
        .map(|out| {
            let centre = (out as f32 + 0.5) * ratio;
            let left = ((centre - widen).floor() as i64).clamp(0, from as i64 - 1);
            let right = ((centre + widen).ceil() as i64).clamp(left + 1, from as i64);
            let mut weights: Vec<f32> = (left..right)
                .map(|i| (1.0 - ((i as f32 - (centre - 0.5)) / widen).abs()).max(0.0))
                .collect();
            let sum: f32 = weights.iter().sum();
            weights.iter_mut().for_each(|w| *w /= sum);
            Taps {
                first: left as usize,
                weights,
            }
        })
        .collect()
}

/// The `crop` x `crop` window at (`x`, `y`) of `image` resized to `size` (width, height),
/// equal (to rounding) to `imageops::crop_imm(&imageops::resize(image, w, h, Triangle), x, y,
/// crop, crop)`. The window must lie inside the resized image.
pub fn resized_crop(image: &RgbImage, size: (u32, u32), (x, y): (u32, u32), crop: u32) -> RgbImage {
    let (w, h) = image.dimensions();
    assert!(
        x + crop <= size.0 && y + crop <= size.1 && w > 0 && h > 0,
        "the crop lies inside the resized image"
    );
    let (rows, cols) = (taps(h, size.1, y, crop), taps(w, size.0, x, crop));
    // Source columns any output column reads.
    let c0 = cols.iter().map(|t| t.first).min().unwrap_or(0);
    let c1 = (cols.iter().map(|t| t.first + t.weights.len()).max()).unwrap_or(c0);
    let (src, stride) = (image.as_raw(), w as usize * 3);
    // Vertical pass over the needed columns (kept in f32, as `image` does), then horizontal.
    let span = (c1 - c0) * 3;
    let mut between = vec![0f32; crop as usize * span];
    for (row, t) in between.chunks_exact_mut(span).zip(&rows) {
        for (k, &wt) in t.weights.iter().enumerate() {
            let line = &src[(t.first + k) * stride + c0 * 3..][..span];
            for (acc, &v) in row.iter_mut().zip(line) {
                *acc += wt * v as f32;
            }
        }
    }
    let mut out = RgbImage::new(crop, crop);
    for (row, line) in out
        .chunks_exact_mut(crop as usize * 3)
        .zip(between.chunks_exact(span))
    {
        for (pixel, t) in row.chunks_exact_mut(3).zip(&cols) {
            let mut acc = [0f32; 3];
            for (k, &wt) in t.weights.iter().enumerate() {
                let at = (t.first - c0 + k) * 3;
                for (a, &v) in acc.iter_mut().zip(&line[at..at + 3]) {
                    *a += wt * v;
                }
            }
            for (p, a) in pixel.iter_mut().zip(acc) {
                *p = a.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}
