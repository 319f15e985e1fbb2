//! Batch normalisation in training mode, in f32 on the CPU, for flex: the batch statistics in one
//! pass over the input, the output in one more, and the backward pass in two, every pass
//! parallel. (burn's generic path makes about ten passes forward and fifteen backward, each
//! with a full-size temporary, most on one thread.)
//!
//! Tensors are `[batch, channels, pixels]`, contiguous; statistics are per channel.

use rayon::prelude::*;

use super::buffer::{assume_init, uninit};

/// Sizes of a batch-normalised tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Planes {
    /// Images in the batch.
    pub batch: usize,
    /// Channels.
    pub channels: usize,
    /// Pixels per channel of one image.
    pub pixels: usize,
}

impl Planes {
    /// Planes per rayon task: enough that a task is not a handful of floats.
    fn min_planes_per_task(&self) -> usize {
        4096usize.div_ceil(self.pixels)
    }

    /// Values per channel: what the statistics average over.
    fn count(&self) -> f64 {
        (self.batch * self.pixels) as f64
    }

    /// `f(channel, plane)` summed over the planes of each channel, one channel per task.
    fn per_channel<T: Send>(
        &self,
        f: impl Fn(usize, usize) -> T + Sync,
        sum: impl Fn(T, T) -> T + Sync,
    ) -> Vec<T> {
        (0..self.channels)
            .into_par_iter()
            .map(|c| {
                (0..self.batch)
                    .map(|n| f(c, (n * self.channels + c) * self.pixels))
                    .reduce(&sum)
                    .expect("a batch has at least one image")
            })
            .collect()
    }
}

/// The batch mean and biased variance of every channel. Sums are taken of `x − k`, with `k`
/// the channel's first value, so that `E[(x−k)²] − E[x−k]²` loses little to cancellation when
/// the mean is large against the deviation (unless that first value is a far outlier).
pub fn statistics(p: &Planes, x: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let sums = p.per_channel(
        |c, start| {
            let k = x[c * p.pixels];
            lane_sums(&x[start..start + p.pixels], |v| {
                let d = v - k;
                (d, d * d)
            })
        },
        add_pairs,
    );
    sums.iter()
        .enumerate()
        .map(|(c, &(s, q))| {
            let shifted_mean = s / p.count();
            let mean = x[c * p.pixels] as f64 + shifted_mean;
            let var = (q / p.count() - shifted_mean * shifted_mean).max(0.0);
            (mean as f32, var as f32)
        })
        .unzip()
}

fn add_pairs(a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    (a.0 + b.0, a.1 + b.1)
}

/// `Σ f(v).0` and `Σ f(v).1` over `values`: eight f32 lanes (so that the loop vectorises),
/// added up in f64.
fn lane_sums(values: &[f32], f: impl Fn(f32) -> (f32, f32)) -> (f64, f64) {
    lane_sums2(values, values, |v, _| f(v))
}

/// [`lane_sums`] over two slices of the same length, element by element.
fn lane_sums2(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> (f32, f32)) -> (f64, f64) {
    const LANES: usize = 8;
    let (mut first, mut second) = ([0.0f32; LANES], [0.0f32; LANES]);
    let (chunks_a, chunks_b) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (rest_a, rest_b) = (chunks_a.remainder(), chunks_b.remainder());
    for (ca, cb) in chunks_a.zip(chunks_b) {
        for lane in 0..LANES {
            let (u, v) = f(ca[lane], cb[lane]);
            first[lane] += u;
            second[lane] += v;
        }
    }
    let total = |lanes: [f32; LANES]| lanes.iter().map(|&v| v as f64).sum::<f64>();
    let (mut s, mut q) = (total(first), total(second));
    for (&x, &y) in rest_a.iter().zip(rest_b) {
        let (u, v) = f(x, y);
        s += u as f64;
        q += v as f64;
    }
    (s, q)
}

/// The normalised output `gamma · (x − mean) / sqrt(var + ε) + beta`.
pub fn normalise(
    p: &Planes,
    x: &[f32],
    mean: &[f32],
    var: &[f32],
    gamma: &[f32],
    beta: &[f32],
    epsilon: f64,
) -> Vec<f32> {
    // Centred before scaling: no cancellation when the mean is large against the deviation.
    let scale: Vec<f32> = (0..p.channels)
        .map(|c| (gamma[c] as f64 / (var[c] as f64 + epsilon).sqrt()) as f32)
        .collect();
    assert_eq!(x.len(), p.batch * p.channels * p.pixels, "input size");
    let mut y = uninit(x.len());
    y.par_chunks_mut(p.pixels)
        .with_min_len(p.min_planes_per_task())
        .zip(x.par_chunks(p.pixels))
        .enumerate()
        .for_each(|(plane, (y, x))| {
            let c = plane % p.channels;
            let (m, scale, shift) = (mean[c], scale[c], beta[c]);
            y.iter_mut().zip(x).for_each(|(y, &x)| {
                y.write((x - m) * scale + shift);
            });
        });
    // SAFETY: the planes cover `y`, and every element of each was written.
    unsafe { assume_init(y) }
}

/// Gradients of the input, gamma and beta, from the output gradient `dy` and what the forward
/// pass saw.
pub fn backward(
    p: &Planes,
    x: &[f32],
    dy: &[f32],
    mean: &[f32],
    var: &[f32],
    gamma: &[f32],
    epsilon: f64,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    assert_eq!(x.len(), p.batch * p.channels * p.pixels, "input size");
    assert_eq!(dy.len(), x.len(), "output gradient size");
    let inv_std: Vec<f64> = var
        .iter()
        .map(|&v| 1.0 / (v as f64 + epsilon).sqrt())
        .collect();
    // Per channel: Σ dy and Σ dy · (x − mean).
    let sums = p.per_channel(
        |c, start| {
            let (x, dy) = (&x[start..start + p.pixels], &dy[start..start + p.pixels]);
            let m = mean[c];
            lane_sums2(x, dy, |x, g| (g, g * (x - m)))
        },
        add_pairs,
    );
    let beta_grad: Vec<f32> = sums.iter().map(|&(s, _)| s as f32).collect();
    let gamma_grad: Vec<f32> = (0..p.channels)
        .map(|c| (sums[c].1 * inv_std[c]) as f32)
        .collect();
    // dx = gamma · inv_std · (dy − mean(dy) − x̂ · mean(dy · x̂)), as `dy · a + (x − mean) · b + c`.
    let coefficients: Vec<(f32, f32, f32)> = (0..p.channels)
        .map(|c| {
            let scale = gamma[c] as f64 * inv_std[c];
            let mean_dy = sums[c].0 / p.count();
            let slope = sums[c].1 * inv_std[c] * inv_std[c] / p.count();
            (
                scale as f32,
                (-scale * slope) as f32,
                (-scale * mean_dy) as f32,
            )
        })
        .collect();
    let mut dx = uninit(x.len());
    dx.par_chunks_mut(p.pixels)
        .with_min_len(p.min_planes_per_task())
        .zip(x.par_chunks(p.pixels).zip(dy.par_chunks(p.pixels)))
        .enumerate()
        .for_each(|(plane, (dx, (x, dy)))| {
            let channel = plane % p.channels;
            let ((a, b, c), m) = (coefficients[channel], mean[channel]);
            for ((dx, &x), &g) in dx.iter_mut().zip(x).zip(dy) {
                dx.write(g * a + (x - m) * b + c);
            }
        });
    // SAFETY: the planes cover `dx`, and every element of each was written.
    (unsafe { assume_init(dx) }, gamma_grad, beta_grad)
}
