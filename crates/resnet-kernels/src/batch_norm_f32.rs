//! Batch normalisation in training mode, in f32 on the CPU, for flex: the batch statistics in one
//! pass over the input, the output in one more, and the backward pass in two, every pass
//! parallel. (burn's generic path makes about ten passes forward and fifteen backward, each
//! with a full-size temporary, most on one thread.)
//!
//! The layer's ReLU, and the block's shortcut before it, can run inside those passes
//! ([`Activation`]): forward, `ReLU(BN(x) + residual)` is written in the output pass; backward,
//! ReLU's mask (from the saved output) is applied to the gradient as the passes read it. No
//! tensor is made for `BN(x)` or the sum, and none is kept for ReLU's backward pass.
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

/// `Σ f(v).0` and `Σ f(v).1` over `values`: 32 f32 lanes (so that the loop vectorises into
/// independent accumulators, not one chain of dependent additions),
/// added up in f64.
fn lane_sums(values: &[f32], f: impl Fn(f32) -> (f32, f32)) -> (f64, f64) {
    lane_sums3(values, values, values, |v, _, _| f(v))
}

/// [`lane_sums`] over three slices of the same length, element by element.
fn lane_sums3(
    a: &[f32],
    b: &[f32],
    c: &[f32],
    f: impl Fn(f32, f32, f32) -> (f32, f32),
) -> (f64, f64) {
    const LANES: usize = 32;
    let (mut first, mut second) = ([0.0f32; LANES], [0.0f32; LANES]);
    let chunks = |s| <[f32]>::chunks_exact(s, LANES);
    let (ca, cb, cc) = (chunks(a), chunks(b), chunks(c));
    let (ra, rb, rc) = (ca.remainder(), cb.remainder(), cc.remainder());
    for ((ca, cb), cc) in ca.zip(cb).zip(cc) {
        for lane in 0..LANES {
            let (u, v) = f(ca[lane], cb[lane], cc[lane]);
            first[lane] += u;
            second[lane] += v;
        }
    }
    let total = |lanes: [f32; LANES]| lanes.iter().map(|&v| v as f64).sum::<f64>();
    let (mut s, mut q) = (total(first), total(second));
    for ((&x, &y), &z) in ra.iter().zip(rb).zip(rc) {
        let (u, v) = f(x, y, z);
        s += u as f64;
        q += v as f64;
    }
    (s, q)
}

/// What follows batch normalisation in the same pass: `relu?(BN(x) + residual?)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Activation<'a> {
    /// Added to the normalised value (a residual block's shortcut), shaped as `x`.
    pub residual: Option<&'a [f32]>,
    /// Whether negative results become zero (NaN stays NaN, as flex's `relu`).
    pub relu: bool,
}

/// ReLU as flex computes it: NaN stays NaN (`max` would make it 0), -0 becomes 0.
#[inline(always)]
fn relu(v: f32) -> f32 {
    if v.is_nan() || v > 0.0 { v } else { 0.0 }
}

/// ReLU's gradient as flex computes it from the output: kept where the output is positive or
/// NaN, zero elsewhere.
#[inline(always)]
fn relu_grad(out: f32, g: f32) -> f32 {
    if out.is_nan() || out > 0.0 { g } else { 0.0 }
}

/// The normalised output `gamma · (x − mean) / sqrt(var + ε) + beta`, followed by `then`.
#[allow(clippy::too_many_arguments)]
pub fn normalise(
    p: &Planes,
    x: &[f32],
    mean: &[f32],
    var: &[f32],
    gamma: &[f32],
    beta: &[f32],
    epsilon: f64,
    then: Activation,
) -> Vec<f32> {
    // Centred before scaling: no cancellation when the mean is large against the deviation.
    let scale: Vec<f32> = (0..p.channels)
        .map(|c| (gamma[c] as f64 / (var[c] as f64 + epsilon).sqrt()) as f32)
        .collect();
    assert_eq!(x.len(), p.batch * p.channels * p.pixels, "input size");
    assert!(
        then.residual.is_none_or(|r| r.len() == x.len()),
        "residual size"
    );
    let mut y = uninit(x.len());
    y.par_chunks_mut(p.pixels)
        .with_min_len(p.min_planes_per_task())
        .zip(x.par_chunks(p.pixels))
        .enumerate()
        .for_each(|(plane, (y, x))| {
            let c = plane % p.channels;
            let (m, scale, shift) = (mean[c], scale[c], beta[c]);
            let at = plane * p.pixels;
            // One loop per case, so that each vectorises without a branch per element.
            match (then.residual.map(|r| &r[at..at + p.pixels]), then.relu) {
                (None, false) => y.iter_mut().zip(x).for_each(|(y, &x)| {
                    y.write((x - m) * scale + shift);
                }),
                (None, true) => y.iter_mut().zip(x).for_each(|(y, &x)| {
                    y.write(relu((x - m) * scale + shift));
                }),
                (Some(r), false) => y.iter_mut().zip(x).zip(r).for_each(|((y, &x), &r)| {
                    y.write((x - m) * scale + shift + r);
                }),
                (Some(r), true) => y.iter_mut().zip(x).zip(r).for_each(|((y, &x), &r)| {
                    y.write(relu((x - m) * scale + shift + r));
                }),
            }
        });
    // SAFETY: the planes cover `y`, and every element of each was written.
    unsafe { assume_init(y) }
}

/// The gradient reaching BN's output and the shortcut of `ReLU(BN(x) + residual)`: `dy` masked
/// where the layer's output `relu_output` is zero.
pub fn relu_backward(relu_output: &[f32], dy: &[f32]) -> Vec<f32> {
    assert_eq!(relu_output.len(), dy.len(), "output gradient size");
    let mut dz = uninit(dy.len());
    dz.par_chunks_mut(1 << 14)
        .zip(relu_output.par_chunks(1 << 14).zip(dy.par_chunks(1 << 14)))
        .for_each(|(dz, (out, dy))| {
            for ((dz, &o), &g) in dz.iter_mut().zip(out).zip(dy) {
                dz.write(relu_grad(o, g));
            }
        });
    // SAFETY: the chunks cover `dz`, and every element of each was written.
    unsafe { assume_init(dz) }
}

/// Gradients of the input, gamma and beta, from the output gradient `dy` and what the forward
/// pass saw. With `relu_output` (the output of a `ReLU(BN(x))` layer), `dy` is the gradient of
/// that output, and ReLU's mask is applied as it is read.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    p: &Planes,
    x: &[f32],
    dy: &[f32],
    relu_output: Option<&[f32]>,
    mean: &[f32],
    var: &[f32],
    gamma: &[f32],
    epsilon: f64,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    match relu_output {
        None => backward_masked(p, x, dy, dy, |_, g| g, mean, var, gamma, epsilon),
        Some(out) => {
            assert_eq!(out.len(), x.len(), "output size");
            backward_masked(p, x, dy, out, relu_grad, mean, var, gamma, epsilon)
        }
    }
}

/// [`backward`] with the gradient at BN's output `grad(mask, dy)`, element by element.
#[allow(clippy::too_many_arguments)]
fn backward_masked(
    p: &Planes,
    x: &[f32],
    dy: &[f32],
    mask: &[f32],
    grad: impl Fn(f32, f32) -> f32 + Sync,
    mean: &[f32],
    var: &[f32],
    gamma: &[f32],
    epsilon: f64,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    assert_eq!(x.len(), p.batch * p.channels * p.pixels, "input size");
    assert_eq!(dy.len(), x.len(), "output gradient size");
    assert_eq!(mask.len(), x.len(), "mask size");
    let inv_std: Vec<f64> = var
        .iter()
        .map(|&v| 1.0 / (v as f64 + epsilon).sqrt())
        .collect();
    // Per channel: Σ dy and Σ dy · (x − mean).
    let sums = p.per_channel(
        |c, start| {
            let plane = start..start + p.pixels;
            let (x, dy, mask) = (&x[plane.clone()], &dy[plane.clone()], &mask[plane]);
            let m = mean[c];
            lane_sums3(x, dy, mask, |x, g, k| {
                let g = grad(k, g);
                (g, g * (x - m))
            })
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
        .zip(mask.par_chunks(p.pixels))
        .enumerate()
        .for_each(|(plane, ((dx, (x, dy)), mask))| {
            let channel = plane % p.channels;
            let ((a, b, c), m) = (coefficients[channel], mean[channel]);
            for (((dx, &x), &g), &k) in dx.iter_mut().zip(x).zip(dy).zip(mask) {
                dx.write(grad(k, g) * a + (x - m) * b + c);
            }
        });
    // SAFETY: the planes cover `dx`, and every element of each was written.
    (unsafe { assume_init(dx) }, gamma_grad, beta_grad)
}
