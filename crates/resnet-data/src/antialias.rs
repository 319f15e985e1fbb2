//! Antialiased bilinear resizing exactly as torchvision does it on PIL images.
//!
//! torchvision's ImageNet weights are scored with `Resize(256 or 232)` on a PIL image, which
//! runs Pillow's two-pass convolution resampler (`Resample.c`) with its bilinear filter. The
//! published accuracies depend on those pixels (an antialiased resize moved ResNet-18 from
//! 68.93% to 69.75%), so this is a transcription of that algorithm, not an approximation:
//!
//! - for each output coordinate the filter is centred at `(i + 0.5) * scale` of the input,
//!   widened by the shrink ratio (`support = max(scale, 1)`), and covers the input pixels
//!   `[(int)(centre - support + 0.5), (int)(centre + support + 0.5))`; the weights are the
//!   triangle `1 - |x|` at `(pixel + 0.5 - centre) / max(scale, 1)`, normalised to sum to one;
//! - the weights are rounded to 22-bit fixed point (`PRECISION_BITS = 32 - 8 - 2`), each output
//!   sums `pixel * weight` from `1 << 21` (rounding), shifts right by 22 and clamps to `u8`;
//! - the horizontal pass runs first (on the rows the vertical pass reads), its `u8` result
//!   feeds the vertical pass; a pass whose size does not change is skipped.

use image::RgbImage;

/// Bits of fractional precision of Pillow's 8-bit resampling coefficients.
const PRECISION_BITS: u32 = 32 - 8 - 2;

/// The input span and fixed-point weights behind each output coordinate of one axis.
struct Coefficients {
    /// Per output coordinate: first input index and number of taps.
    bounds: Vec<(usize, usize)>,
    /// `ksize` weights per output coordinate (the unused ones zero).
    weights: Vec<i32>,
    ksize: usize,
}

/// Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for a resize of `input` pixels to
/// `output` (the whole axis: `box` = `(0, input)`).
fn coefficients(input: usize, output: usize) -> Coefficients {
    let scale = input as f64 / output as f64;
    let filterscale = scale.max(1.0);
    // Bilinear: support 1, widened when shrinking.
    let support = filterscale;
    let ksize = support.ceil() as usize * 2 + 1;
    let mut bounds = Vec::with_capacity(output);
    let mut weights = vec![0i32; output * ksize];
    let mut taps = vec![0f64; ksize];
    for (out, row) in weights.chunks_exact_mut(ksize).enumerate() {
        let centre = (out as f64 + 0.5) * scale;
        // C's `(int)` truncates towards zero; both bounds are clamped to the axis.
        let xmin = ((centre - support + 0.5) as i64).max(0) as usize;
        let xmax = ((centre + support + 0.5) as i64).min(input as i64) as usize;
        let count = xmax.saturating_sub(xmin);
        let mut sum = 0.0;
        for (x, tap) in taps[..count].iter_mut().enumerate() {
            let t = ((x + xmin) as f64 - centre + 0.5) / filterscale;
            *tap = (1.0 - t.abs()).max(0.0);
            sum += *tap;
        }
        for (weight, &tap) in row.iter_mut().zip(&taps[..count]) {
            let normalised = if sum != 0.0 { tap / sum } else { tap };
            let fixed = normalised * f64::from(1u32 << PRECISION_BITS);
            *weight = if fixed < 0.0 {
                (fixed - 0.5) as i32
            } else {
                (fixed + 0.5) as i32
            };
        }
        bounds.push((xmin, count));
    }
    Coefficients {
        bounds,
        weights,
        ksize,
    }
}

/// A weighted sum of `u8` values in Pillow's fixed point, rounded and clamped to `u8`.
fn clip8(values: impl Iterator<Item = u8>, weights: &[i32]) -> u8 {
    let start = 1i64 << (PRECISION_BITS - 1);
    let sum = (values.zip(weights)).fold(start, |acc, (v, &w)| acc + i64::from(v) * i64::from(w));
    (sum >> PRECISION_BITS).clamp(0, 255) as u8
}

/// `image` resized to `width` x `height` with Pillow's antialiased bilinear filter
/// (`Image.resize(size, Image.BILINEAR)`, which torchvision's `Resize` calls on PIL images),
/// bit for bit.
///
/// # Panics
///
/// If the image or the requested size is empty.
pub fn resize_bilinear(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    let (w, h) = image.dimensions();
    assert!(
        w > 0 && h > 0 && width > 0 && height > 0,
        "resizing a {w}x{h} image to {width}x{height}"
    );
    let (w, h, width, height) = (w as usize, h as usize, width as usize, height as usize);
    let vertical = coefficients(h, height);
    // The rows the vertical pass reads: the horizontal pass only computes those.
    let (first_row, last_row) = if height != h {
        let first = vertical.bounds[0].0;
        let (start, count) = vertical.bounds[height - 1];
        (first, start + count)
    } else {
        (0, h)
    };
    let src = image.as_raw();
    let rows = last_row - first_row;
    let between: Vec<u8> = if width != w {
        let horizontal = coefficients(w, width);
        let mut out = vec![0u8; rows * width * 3];
        for (r, line) in out.chunks_exact_mut(width * 3).enumerate() {
            let input = &src[(first_row + r) * w * 3..][..w * 3];
            for (x, pixel) in line.chunks_exact_mut(3).enumerate() {
                let (start, count) = horizontal.bounds[x];
                let k = &horizontal.weights[x * horizontal.ksize..][..count];
                for (c, p) in pixel.iter_mut().enumerate() {
                    *p = clip8((start..start + count).map(|i| input[i * 3 + c]), k);
                }
            }
        }
        out
    } else {
        src[first_row * w * 3..last_row * w * 3].to_vec()
    };
    if height == h {
        return RgbImage::from_raw(width as u32, height as u32, between)
            .expect("the buffer holds the image");
    }
    let stride = width * 3;
    let mut out = vec![0u8; height * stride];
    for (y, line) in out.chunks_exact_mut(stride).enumerate() {
        let (start, count) = vertical.bounds[y];
        let k = &vertical.weights[y * vertical.ksize..][..count];
        let start = start - first_row;
        for (i, p) in line.iter_mut().enumerate() {
            *p = clip8((start..start + count).map(|r| between[r * stride + i]), k);
        }
    }
    RgbImage::from_raw(width as u32, height as u32, out).expect("the buffer holds the image")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_one_in_fixed_point() {
        for (input, output) in [(451, 256), (300, 256), (100, 256), (7, 3), (3, 7), (1, 5)] {
            let c = coefficients(input, output);
            for (x, &(start, count)) in c.bounds.iter().enumerate() {
                assert!(
                    start + count <= input && count > 0,
                    "{input}->{output} at {x}"
                );
                let sum: i64 = c.weights[x * c.ksize..][..count]
                    .iter()
                    .map(|&w| w as i64)
                    .sum();
                assert!((sum - (1 << PRECISION_BITS)).abs() <= count as i64, "{sum}");
            }
        }
    }

    #[test]
    fn a_flat_image_stays_flat_and_the_same_size_is_a_copy() {
        let flat = RgbImage::from_pixel(37, 23, image::Rgb([200, 10, 99]));
        let out = resize_bilinear(&flat, 11, 64);
        assert!(out.pixels().all(|p| p.0 == [200, 10, 99]));
        let noisy = RgbImage::from_fn(9, 5, |x, y| image::Rgb([(x * 29 + y * 7) as u8, 3, 250]));
        assert_eq!(resize_bilinear(&noisy, 9, 5), noisy);
    }

    /// Hand-computed: halving [0, 100, 200, 255] (scale 2, support 2): each output reads the
    /// three pixels whose centres lie within 2 of its own, weighted 0.75, 0.75, 0.25 by the
    /// widened triangle, normalised by 1.75.
    #[test]
    fn halving_a_row_matches_pillow_by_hand() {
        let row = RgbImage::from_fn(4, 1, |x, _| {
            let v = [0u8, 100, 200, 255][x as usize];
            image::Rgb([v, v, v])
        });
        let out = resize_bilinear(&row, 2, 1);
        // Left (centre 1): pixels 0, 1, 2 weighted 3/7, 3/7, 1/7: 500 / 7 = 71.4 -> 71.
        // Right (centre 3): pixels 1, 2, 3 weighted 1/7, 3/7, 3/7: 1465 / 7 = 209.3 -> 209.
        assert_eq!(out.get_pixel(0, 0).0[0], 71);
        assert_eq!(out.get_pixel(1, 0).0[0], 209);
    }
}
