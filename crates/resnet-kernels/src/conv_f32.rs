//! Convolution in f32 on the CPU, for flex: per image an im2col matrix and one `gemm`, images in
//! parallel. With `W` seen as `[out_channels, in_channels·k·k]` and `col(X_n)` as
//! `[in_channels·k·k, out_pixels]`:
//!
//! - forward: `Y_n = W · col(X_n)`, with an optional [`Epilogue`] (bias, shortcut, ReLU) for
//!   inference with BN folded in
//! - input gradient: for stride 1, a forward convolution of `dY_n` with `W` flipped in space
//!   and its channels swapped; otherwise `dX_n = col⁻¹(Wᵀ · dY_n)` (col2im adds the columns
//!   back into the image)
//! - weight gradient: `dW = Σ_n dY_n · col(X_n)ᵀ`
//!
//! A grouped convolution (ResNeXt's cardinality) is one such convolution per group, on the
//! group's slices of the channels and the weights ([`Geometry::group`]): a gemm per image and
//! group, over the same im2col machinery.
//!
//! Tensors are NCHW and contiguous, as burn's are, so activations are used in place: no layout
//! conversion of the input or output (only the small weight and weight-gradient matrices are
//! rearranged).

use std::cell::RefCell;
use std::mem::MaybeUninit;

use gemm::{Parallelism, gemm};
use rayon::prelude::*;

use super::buffer::{as_uninit, assume_init, uninit};
use super::winograd::{self, Tile};
use super::winograd4;

/// Shape of one convolution: square kernel, the same stride and zero padding on both axes, no
/// dilation (every convolution of the paper), channels in `groups` groups (1: none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Images in the batch.
    pub batch: usize,
    /// Input channels.
    pub in_channels: usize,
    /// Input height and width.
    pub input: [usize; 2],
    /// Output channels.
    pub out_channels: usize,
    /// Kernel side.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Zero padding on each side.
    pub padding: usize,
    /// Groups: output channel group `i` is computed from input channel group `i` alone.
    pub groups: usize,
}

impl Geometry {
    /// Output height and width.
    pub fn output(&self) -> [usize; 2] {
        self.input.map(|side| {
            (side + 2 * self.padding)
                .checked_sub(self.kernel)
                .map_or(0, |span| span / self.stride.max(1) + 1)
        })
    }

    /// One group's convolution: its input and output channels alone, no groups (the geometry
    /// itself when there are none).
    fn group(&self) -> Geometry {
        Geometry {
            in_channels: self.in_channels / self.groups,
            out_channels: self.out_channels / self.groups,
            groups: 1,
            ..*self
        }
    }

    fn in_pixels(&self) -> usize {
        self.input[0] * self.input[1]
    }

    pub(crate) fn out_pixels(&self) -> usize {
        let [h, w] = self.output();
        h * w
    }

    /// Rows of a group's im2col matrix: one per (input channel of the group, kernel row,
    /// kernel column); also the length of one output channel's weights.
    fn col_rows(&self) -> usize {
        self.in_channels / self.groups * self.kernel * self.kernel
    }

    /// Panics unless the slices have this geometry's sizes: the kernels write outputs into
    /// uninitialised memory and rely on every image being there.
    fn check(&self, x: Option<&[f32]>, weight: Option<&[f32]>, dy: Option<&[f32]>) {
        assert!(
            self.groups > 0
                && self.in_channels.is_multiple_of(self.groups)
                && self.out_channels.is_multiple_of(self.groups),
            "channels not divisible into groups {self:?}"
        );
        let sizes = [
            (x, self.batch * self.in_channels * self.in_pixels(), "input"),
            (weight, self.out_channels * self.col_rows(), "weight"),
            (
                dy,
                self.batch * self.out_channels * self.out_pixels(),
                "output gradient",
            ),
        ];
        for (slice, len, what) in sizes {
            if let Some(slice) = slice {
                assert_eq!(slice.len(), len, "{what} size does not match {self:?}");
            }
        }
        assert!(
            self.stride > 0 && self.out_pixels() > 0,
            "empty convolution {self:?}"
        );
    }

    /// A 1x1 convolution with stride 1 reads its input as the im2col matrix itself.
    fn is_pointwise(&self) -> bool {
        self.kernel == 1 && self.stride == 1 && self.padding == 0
    }

    /// For kernel offset `k` along an axis of input length `len` and output length `out`: the
    /// output positions whose input position `o·stride + k − padding` lies inside the image.
    fn valid_outputs(&self, k: usize, len: usize, out: usize) -> std::ops::Range<usize> {
        let (s, p) = (self.stride, self.padding);
        let first = p.saturating_sub(k).div_ceil(s);
        let last = (len + p).saturating_sub(k).div_ceil(s).min(out);
        first.min(last)..last
    }

    /// Calls `f(row, oh, ow_range, input_offset)` for every run of one im2col row that reads
    /// the input: row `row`, output row `oh`, output columns `ow_range`, whose first input
    /// element is at `input_offset` within the image (then every `stride` elements).
    fn for_each_run(&self, mut f: impl FnMut(usize, usize, std::ops::Range<usize>, usize)) {
        let [h, w] = self.input;
        let [oh_len, ow_len] = self.output();
        let (k, s, p) = (self.kernel, self.stride, self.padding);
        for c in 0..self.in_channels {
            for ki in 0..k {
                let rows = self.valid_outputs(ki, h, oh_len);
                for kj in 0..k {
                    let row = (c * k + ki) * k + kj;
                    let cols = self.valid_outputs(kj, w, ow_len);
                    if cols.is_empty() {
                        continue;
                    }
                    for oh in rows.clone() {
                        let ih = oh * s + ki - p;
                        let iw = cols.start * s + kj - p;
                        f(row, oh, cols.clone(), c * h * w + ih * w + iw);
                    }
                }
            }
        }
    }

    /// Writes `col(x_n)` into `col` (`col_rows × out_pixels`), zeros where the kernel overhangs.
    fn im2col(&self, x_n: &[f32], col: &mut [f32]) {
        if self.stride == 1 && self.output() == self.input {
            return self.im2col_same(x_n, col);
        }
        let [h, w] = self.input;
        let [oh_len, ow_len] = self.output();
        let (k, s, p) = (self.kernel, self.stride, self.padding);
        let mut rows = col.chunks_exact_mut(oh_len * ow_len);
        for c in 0..self.in_channels {
            for ki in 0..k {
                let valid_rows = self.valid_outputs(ki, h, oh_len);
                for kj in 0..k {
                    let cols = self.valid_outputs(kj, w, ow_len);
                    let row = rows.next().expect("col has col_rows rows");
                    // Every element written once: zeros outside the image, input inside.
                    for (oh, dst) in row.chunks_exact_mut(ow_len).enumerate() {
                        if !valid_rows.contains(&oh) || cols.is_empty() {
                            dst.fill(0.0);
                            continue;
                        }
                        dst[..cols.start].fill(0.0);
                        dst[cols.end..].fill(0.0);
                        let start = c * h * w + (oh * s + ki - p) * w + cols.start * s + kj - p;
                        let dst = &mut dst[cols.clone()];
                        match s {
                            1 => dst.copy_from_slice(&x_n[start..start + dst.len()]),
                            _ => dst
                                .iter_mut()
                                .zip(x_n[start..].iter().step_by(s))
                                .for_each(|(d, &v)| *d = v),
                        }
                    }
                }
            }
        }
    }

    /// [`Self::im2col`] for a stride-1 convolution whose output is as large as its input (3x3
    /// with padding 1): each row of `col` is the input plane shifted by the kernel offset, so
    /// it is one contiguous copy, then the few elements that wrapped around a row edge are zeroed.
    fn im2col_same(&self, x_n: &[f32], col: &mut [f32]) {
        let [h, w] = self.input;
        let (k, p, plane) = (self.kernel, self.padding, h * w);
        let mut rows = col.chunks_exact_mut(plane);
        for src in x_n.chunks_exact(plane) {
            for ki in 0..k {
                let valid_rows = self.valid_outputs(ki, h, h);
                for kj in 0..k {
                    let cols = self.valid_outputs(kj, w, w);
                    let dst = rows.next().expect("col has col_rows rows");
                    // dst[q] = src[q + shift] wherever that lies in the plane.
                    let shift = (ki * w + kj) as isize - (p * w + p) as isize;
                    let lo = (valid_rows.start * w).max((-shift).max(0) as usize);
                    let hi = (valid_rows.end * w).min((plane as isize - shift).max(0) as usize);
                    if lo >= hi {
                        dst.fill(0.0);
                        continue;
                    }
                    dst[..lo].fill(0.0);
                    dst[hi..].fill(0.0);
                    let from = (lo as isize + shift) as usize;
                    dst[lo..hi].copy_from_slice(&src[from..from + (hi - lo)]);
                    // Column by column: the overhang is a column or two of each line, too
                    // short for the memset calls a per-line fill becomes.
                    let lines = &mut dst[valid_rows.start * w..valid_rows.end * w];
                    for j in (0..cols.start).chain(cols.end..w) {
                        lines.iter_mut().skip(j).step_by(w).for_each(|v| *v = 0.0);
                    }
                }
            }
        }
    }

    /// Adds the columns of `col` back into the image `dx_n` (the adjoint of [`Self::im2col`]).
    fn col2im(&self, col: &[f32], dx_n: &mut [f32]) {
        let [_, ow_len] = self.output();
        let out_pixels = self.out_pixels();
        let s = self.stride;
        self.for_each_run(|row, oh, cols, start| {
            let src = &col[row * out_pixels + oh * ow_len..][cols];
            match s {
                // Contiguous slices, so that the addition vectorises.
                1 => dx_n[start..start + src.len()]
                    .iter_mut()
                    .zip(src)
                    .for_each(|(d, &v)| *d += v),
                _ => dx_n[start..]
                    .iter_mut()
                    .step_by(s)
                    .zip(src)
                    .for_each(|(d, &v)| *d += v),
            }
        });
    }
}

/// A row-major or transposed view of a matrix for [`matmul`].
#[derive(Clone, Copy)]
struct View<'a> {
    data: &'a [f32],
    row_stride: usize,
    col_stride: usize,
}

impl<'a> View<'a> {
    /// `rows × cols` stored row by row.
    fn rows(data: &'a [f32], cols: usize) -> Self {
        Self {
            data,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose of a `cols × rows` matrix stored row by row.
    fn transposed(data: &'a [f32], rows: usize) -> Self {
        Self {
            data,
            row_stride: 1,
            col_stride: rows,
        }
    }
}

/// `dst (m × n, row-major) = [dst +] lhs (m × k) · rhs (k × n)`, on the calling thread: the
/// callers parallelise over images instead (many small products, no synchronisation).
fn matmul(m: usize, n: usize, k: usize, dst: &mut [f32], accumulate: bool, lhs: View, rhs: View) {
    // SAFETY: `dst` is initialised, and gemm writes only floats into it.
    unsafe { gemm_into(m, n, k, as_uninit(dst), [n, 1], accumulate, lhs, rhs) }
}

/// `dst (n × m, row-major) = (lhs (m × k, row-major) · rhsᵀ)ᵀ` where `rhs` is `n × k`
/// row-major: every operand and the result with its inner dimension contiguous per column of
/// the product (Winograd's tiles, channels innermost).
pub(crate) fn product_nt(m: usize, n: usize, k: usize, dst: &mut [f32], lhs: &[f32], rhs: &[f32]) {
    matmul_col_major(
        m,
        n,
        k,
        dst,
        false,
        View::rows(lhs, k),
        View::transposed(rhs, k),
    );
}

/// `dst (m × n, row-major) = lhsᵀ · rhs` where `lhs` is `k × m` and `rhs` `k × n`, both
/// row-major: a sum over the `k` rows (Winograd's weight gradient, a sum over tiles of
/// `[tiles][out]` and `[tiles][in]` matrices).
pub(crate) fn product_tn(m: usize, n: usize, k: usize, dst: &mut [f32], lhs: &[f32], rhs: &[f32]) {
    matmul(
        m,
        n,
        k,
        dst,
        false,
        View::transposed(lhs, m),
        View::rows(rhs, n),
    );
}

/// [`matmul`] into a column-major `dst` (`dst[i + j·m]`). gemm computes a row-major product
/// as its transpose, so this is the cheaper form when `lhs` is the small operand: gemm then
/// packs (copies into its panel layout) `lhs` rather than the large `rhs`.
fn matmul_col_major(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    accumulate: bool,
    lhs: View,
    rhs: View,
) {
    // SAFETY: `dst` is initialised, and gemm writes only floats into it.
    unsafe { gemm_into(m, n, k, as_uninit(dst), [1, m], accumulate, lhs, rhs) }
}

/// `dst = [dst +] lhs · rhs`, `dst`'s element (i, j) at `i·strides[0] + j·strides[1]`.
///
/// # Safety
/// With `accumulate`, the m × n view of `dst` must be initialised. Without it, gemm 0.19 writes
/// every element of that view without reading it (`read_dst = false` zeroes its `alpha`; every
/// kernel then stores and never loads `dst`), so `dst` may be uninitialised — except with
/// gemm's `experimental-apple-amx` feature, whose edge tiles load `dst`; `buffer::uninit`
/// zero-fills on aarch64 for that reason.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_into(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [MaybeUninit<f32>],
    strides: [usize; 2],
    accumulate: bool,
    lhs: View,
    rhs: View,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(k > 0, "an empty product would leave dst unwritten");
    let extent = |[rs, cs]: [usize; 2], r: usize, c: usize| (r - 1) * rs + (c - 1) * cs + 1;
    let view = |v: View| [v.row_stride, v.col_stride];
    assert!(dst.len() >= extent(strides, m, n) && lhs.data.len() >= extent(view(lhs), m, k));
    assert!(rhs.data.len() >= extent(view(rhs), k, n));
    // SAFETY: the assertions above keep every access of the three strided views in bounds,
    // `dst` is borrowed mutably, so it aliases neither operand, and the caller guarantees it
    // is initialised where gemm reads it.
    unsafe {
        gemm(
            m,
            n,
            k,
            dst.as_mut_ptr().cast::<f32>(),
            strides[1] as isize,
            strides[0] as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        );
    }
}

/// What the forward convolution does to its product before the output leaves the cache:
/// `relu?(W · col(X_n) + bias + residual)` (inference with BN folded into `W` and `bias`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Epilogue<'a> {
    /// Per output channel, `[out]`.
    pub bias: Option<&'a [f32]>,
    /// Shaped as the output, `[batch, out, oh, ow]`: the shortcut of a residual block.
    pub residual: Option<&'a [f32]>,
    /// Whether negative results become zero.
    pub relu: bool,
}

/// Forward convolution: `x` is `[batch, in, h, w]`, `weight` `[out, in, k, k]`; returns the
/// `[batch, out, oh, ow]` output, with `epilogue` applied.
pub fn forward(g: &Geometry, x: &[f32], weight: &[f32], epilogue: Epilogue) -> Vec<f32> {
    g.check(Some(x), Some(weight), None);
    match winograd::chosen(g) {
        Some(Tile::F2x2) => return winograd::forward(g, x, weight, epilogue),
        Some(Tile::F4x4) => return winograd4::forward(g, x, weight, epilogue),
        None => {}
    }
    let Epilogue {
        bias,
        residual,
        relu,
    } = epilogue;
    let sub = g.group();
    let (rows, out_pixels) = (sub.col_rows(), g.out_pixels());
    let image = g.out_channels * out_pixels;
    let group_len = [
        sub.in_channels * g.in_pixels(),
        sub.out_channels * out_pixels,
        sub.out_channels * rows,
    ];
    assert!(bias.is_none_or(|b| b.len() == g.out_channels), "bias size");
    assert!(
        residual.is_none_or(|r| r.len() == g.batch * image),
        "residual size"
    );
    let mut y = uninit(g.batch * image);
    y.par_chunks_mut(image)
        .zip(x.par_chunks(g.in_channels * g.in_pixels()))
        .enumerate()
        .for_each(|(n, (y_n, x_n))| {
            // Bias and shortcut as the product's starting value (measured faster than adding
            // them after the product), ReLU after it, while this image's output is in cache.
            let residual = residual.map(|r| &r[n * image..(n + 1) * image]);
            let start = bias.is_some() || residual.is_some();
            if start {
                for (c, y) in y_n.chunks_exact_mut(out_pixels).enumerate() {
                    let b = bias.map_or(0.0, |b| b[c]);
                    match residual {
                        Some(r) => {
                            let r = &r[c * out_pixels..(c + 1) * out_pixels];
                            y.iter_mut()
                                .zip(r)
                                .for_each(|(y, &r)| *y = MaybeUninit::new(r + b));
                        }
                        None => y.fill(MaybeUninit::new(b)),
                    }
                }
            }
            let groups = (y_n.chunks_exact_mut(group_len[1]))
                .zip(x_n.chunks_exact(group_len[0]))
                .zip(weight.chunks_exact(group_len[2]));
            for ((y_g, x_g), w_g) in groups {
                with_col(&sub, x_g, |col| {
                    let (lhs, rhs) = (View::rows(w_g, rows), View::rows(col, out_pixels));
                    let (m, dst) = (sub.out_channels, [out_pixels, 1]);
                    // SAFETY: with a starting value, `y_g` was just filled with it.
                    unsafe { gemm_into(m, out_pixels, rows, y_g, dst, start, lhs, rhs) };
                });
            }
            if relu {
                // SAFETY: gemm wrote every element of `y_n` (over its starting value, if any).
                let y_n = unsafe { &mut *(y_n as *mut [MaybeUninit<f32>] as *mut [f32]) };
                // As flex's relu: NaN stays NaN (`max` would make it 0), -0 becomes 0.
                y_n.iter_mut()
                    .for_each(|y| *y = if y.is_nan() || *y > 0.0 { *y } else { 0.0 });
            }
        });
    // SAFETY: `check` made `x` hold every image, so gemm wrote every element of every image's
    // `out × out_pixels` output (over the starting value, when there is one, written first).
    unsafe { assume_init(y) }
}

/// Gradient with respect to the input, from the output gradient `dy`.
pub fn input_grad(g: &Geometry, weight: &[f32], dy: &[f32]) -> Vec<f32> {
    g.check(None, Some(weight), Some(dy));
    if g.stride == 1 && g.kernel > 1 && g.padding < g.kernel {
        return input_grad_as_convolution(g, weight, dy);
    }
    let sub = g.group();
    let (rows, out_pixels, cout) = (sub.col_rows(), g.out_pixels(), sub.out_channels);
    let mut dx = vec![0.0; g.batch * g.in_channels * g.in_pixels()];
    let group_len = [
        sub.in_channels * g.in_pixels(),
        cout * out_pixels,
        cout * rows,
    ];
    dx.par_chunks_mut(g.in_channels * g.in_pixels())
        .zip(dy.par_chunks(g.out_channels * out_pixels))
        .for_each(|(dx_n, dy_n)| {
            let groups = (dx_n.chunks_exact_mut(group_len[0]))
                .zip(dy_n.chunks_exact(group_len[1]))
                .zip(weight.chunks_exact(group_len[2]));
            for ((dx_g, dy_g), w_g) in groups {
                let (lhs, rhs) = (View::transposed(w_g, rows), View::rows(dy_g, out_pixels));
                if sub.is_pointwise() {
                    matmul(rows, out_pixels, cout, dx_g, false, lhs, rhs);
                    continue;
                }
                with_scratch(rows * out_pixels, |col| {
                    matmul(rows, out_pixels, cout, col, false, lhs, rhs);
                    sub.col2im(col, dx_g);
                });
            }
        });
    dx
}

/// For stride 1, the input gradient is itself a convolution: of `dy` with the weights
/// flipped in space and with input and output channels swapped (within each group), padded by
/// `k − 1 − padding`. That runs the forward kernel (im2col + gemm) instead of gemm + col2im's
/// scattered additions.
fn input_grad_as_convolution(g: &Geometry, weight: &[f32], dy: &[f32]) -> Vec<f32> {
    let sub = g.group();
    let (k, cin, cout) = (g.kernel, sub.in_channels, sub.out_channels);
    let mut flipped = vec![0.0; weight.len()];
    for group in 0..g.groups {
        for o in 0..cout {
            for c in 0..cin {
                for ki in 0..k {
                    for kj in 0..k {
                        let from = (((group * cout + o) * cin + c) * k + ki) * k + kj;
                        let to =
                            (((group * cin + c) * cout + o) * k + (k - 1 - ki)) * k + (k - 1 - kj);
                        flipped[to] = weight[from];
                    }
                }
            }
        }
    }
    let transposed = Geometry {
        batch: g.batch,
        in_channels: g.out_channels,
        input: g.output(),
        out_channels: g.in_channels,
        kernel: k,
        stride: 1,
        padding: k - 1 - g.padding,
        groups: g.groups,
    };
    forward(&transposed, dy, &flipped, Epilogue::default())
}

/// Gradient with respect to the weight, from the input `x` and the output gradient `dy`.
pub fn weight_grad(g: &Geometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    g.check(Some(x), None, Some(dy));
    if winograd::weight_grad_chosen(g) {
        return winograd::weight_grad(g, x, dy);
    }
    let sub = g.group();
    let (rows, out_pixels) = (sub.col_rows(), g.out_pixels());
    let (cout, len) = (sub.out_channels, g.out_channels * rows);
    // Each group's gradient is a block of `dw`: `[rows][cout]` while accumulated.
    let block = cout * rows;
    let group_len = [sub.in_channels * g.in_pixels(), cout * out_pixels];
    // A partial sum per fixed group of images, added up in group order: the same bits whatever
    // the threads and their scheduling (training is deterministic under a seed). Groups run a
    // wave (one per thread) at a time, which bounds the partials held at once. Accumulated
    // column-major (`[rows][out]`), so that gemm packs the small dY_n and not col(x_n).
    let x_len = IMAGES_PER_PARTIAL * g.in_channels * g.in_pixels();
    let dy_len = IMAGES_PER_PARTIAL * g.out_channels * out_pixels;
    let groups: Vec<(&[f32], &[f32])> = x.chunks(x_len).zip(dy.chunks(dy_len)).collect();
    let mut transposed = vec![0.0; len];
    for wave in groups.chunks(rayon::current_num_threads()) {
        let partials: Vec<Vec<f32>> = wave
            .par_iter()
            .map(|&(xs, dys)| {
                let mut dw = vec![0.0; len];
                let images = xs.chunks_exact(g.in_channels * g.in_pixels());
                for (x_n, dy_n) in images.zip(dys.chunks_exact(g.out_channels * out_pixels)) {
                    let groups = (x_n.chunks_exact(group_len[0]))
                        .zip(dy_n.chunks_exact(group_len[1]))
                        .zip(dw.chunks_exact_mut(block));
                    for ((x_g, dy_g), dw_g) in groups {
                        let lhs = View::rows(dy_g, out_pixels);
                        with_col(&sub, x_g, |col| {
                            let rhs = View::transposed(col, out_pixels);
                            matmul_col_major(cout, rows, out_pixels, dw_g, true, lhs, rhs);
                        });
                    }
                }
                dw
            })
            .collect();
        for partial in &partials {
            transposed
                .iter_mut()
                .zip(partial)
                .for_each(|(a, b)| *a += b);
        }
    }
    let mut dw = vec![0.0; len];
    for (dw_g, t_g) in dw
        .chunks_exact_mut(block)
        .zip(transposed.chunks_exact(block))
    {
        for (o, dw_o) in dw_g.chunks_exact_mut(rows).enumerate() {
            for (r, v) in dw_o.iter_mut().enumerate() {
                *v = t_g[r * cout + o];
            }
        }
    }
    dw
}

/// Images whose weight gradients one task sums (see [`weight_grad`]).
const IMAGES_PER_PARTIAL: usize = 8;

thread_local! {
    /// Each thread's scratch matrix (im2col, or the columns of an input gradient), kept between
    /// calls: allocated and zeroed once per thread rather than once per task.
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Calls `f` with `len` floats of this thread's scratch, whose contents are arbitrary: `f`
/// must write before it reads. (`f` must not call back into these kernels: it holds the buffer.)
fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    SCRATCH.with_borrow_mut(|buffer| {
        if buffer.len() < len {
            buffer.resize(len, 0.0);
        }
        f(&mut buffer[..len])
    })
}

/// Calls `f` with `col(x_n)`, or with `x_n` itself for a pointwise convolution.
fn with_col<R>(g: &Geometry, x_n: &[f32], f: impl FnOnce(&[f32]) -> R) -> R {
    if g.is_pointwise() {
        return f(x_n);
    }
    with_scratch(g.col_rows() * g.out_pixels(), |col| {
        g.im2col(x_n, col);
        f(col)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct definition of the convolution, for checking the im2col path.
    fn naive(g: &Geometry, x: &[f32], w: &[f32]) -> Vec<f32> {
        let [h, wd] = g.input;
        let [oh_len, ow_len] = g.output();
        let mut y = vec![0.0; g.batch * g.out_channels * oh_len * ow_len];
        let (cin, cout) = (g.in_channels / g.groups, g.out_channels / g.groups);
        for n in 0..g.batch {
            for o in 0..g.out_channels {
                for oh in 0..oh_len {
                    for ow in 0..ow_len {
                        let mut sum = 0.0;
                        for c in (o / cout * cin)..(o / cout + 1) * cin {
                            for ki in 0..g.kernel {
                                for kj in 0..g.kernel {
                                    let ih = (oh * g.stride + ki) as isize - g.padding as isize;
                                    let iw = (ow * g.stride + kj) as isize - g.padding as isize;
                                    if ih < 0 || iw < 0 || ih >= h as isize || iw >= wd as isize {
                                        continue;
                                    }
                                    let xi = ((n * g.in_channels + c) * h + ih as usize) * wd
                                        + iw as usize;
                                    let wi = ((o * cin + c % cin) * g.kernel + ki) * g.kernel + kj;
                                    sum += x[xi] * w[wi];
                                }
                            }
                        }
                        y[((n * g.out_channels + o) * oh_len + oh) * ow_len + ow] = sum;
                    }
                }
            }
        }
        y
    }

    fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len)
            .map(|i| ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) as f32)
            .map(|v| v / (1u32 << 24) as f32 - 0.5)
            .collect()
    }

    fn dot(a: &[f32], b: &[f32]) -> f64 {
        a.iter().zip(b).map(|(a, b)| *a as f64 * *b as f64).sum()
    }

    /// (batch, in, [h, w], out, kernel, stride, padding), groups 1 unless `.grouped`
    const SHAPES: [Geometry; 17] = [
        shape(2, 3, [6, 5], 4, 3, 1, 0),
        shape(1, 2, [5, 6], 3, 2, 1, 0),
        shape(1, 2, [4, 4], 2, 3, 1, 3),
        shape(17, 3, [5, 4], 2, 3, 1, 1),
        shape(1, 2, [6, 9], 3, 5, 1, 2),
        shape(2, 2, [1, 4], 3, 3, 1, 1),
        shape(2, 3, [7, 5], 4, 3, 1, 1),
        shape(1, 5, [8, 8], 6, 3, 2, 1),
        shape(3, 4, [9, 7], 5, 1, 2, 0),
        shape(2, 6, [5, 5], 3, 1, 1, 0),
        shape(1, 2, [11, 10], 3, 7, 2, 3),
        shape(2, 3, [2, 3], 2, 3, 2, 1),
        shape(2, 8, [6, 5], 8, 3, 1, 1).grouped(4),
        shape(1, 6, [7, 7], 6, 3, 2, 1).grouped(6),
        shape(3, 4, [5, 6], 8, 1, 1, 0).grouped(2),
        shape(2, 6, [9, 8], 9, 1, 2, 0).grouped(3),
        shape(1, 4, [6, 6], 2, 3, 1, 0).grouped(2),
    ];

    const fn shape(
        batch: usize,
        in_channels: usize,
        input: [usize; 2],
        out_channels: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
    ) -> Geometry {
        Geometry {
            batch,
            in_channels,
            input,
            out_channels,
            kernel,
            stride,
            padding,
            groups: 1,
        }
    }

    impl Geometry {
        const fn grouped(self, groups: usize) -> Self {
            Self { groups, ..self }
        }
    }

    #[test]
    fn forward_matches_the_definition_and_the_gradients_are_its_adjoints() {
        for g in SHAPES {
            let Geometry {
                batch,
                in_channels,
                input,
                out_channels,
                ..
            } = g;
            let x = values(batch * in_channels * input[0] * input[1], 1);
            let w = values(out_channels * g.col_rows(), 2);
            let y = forward(&g, &x, &w, Epilogue::default());
            let expected = naive(&g, &x, &w);
            for (a, b) in y.iter().zip(&expected) {
                assert!((a - b).abs() < 1e-5, "{g:?}: {a} vs {b}");
            }
            // <dY, conv(X, W)> = <input_grad(W, dY), X> = <weight_grad(X, dY), W>.
            let dy = values(y.len(), 3);
            let reference = dot(&dy, &y);
            let via_x = dot(&input_grad(&g, &w, &dy), &x);
            let via_w = dot(&weight_grad(&g, &x, &dy), &w);
            let tolerance = 1e-4 * reference.abs().max(1.0);
            assert!(
                (via_x - reference).abs() < tolerance,
                "{g:?}: {via_x} vs {reference}"
            );
            assert!(
                (via_w - reference).abs() < tolerance,
                "{g:?}: {via_w} vs {reference}"
            );
        }
    }

    #[test]
    fn epilogue_adds_bias_and_residual_then_applies_relu() {
        for g in SHAPES {
            let x = values(g.batch * g.in_channels * g.in_pixels(), 6);
            let w = values(g.out_channels * g.col_rows(), 7);
            let bias = values(g.out_channels, 8);
            let conv = naive(&g, &x, &w);
            let residual = values(conv.len(), 9);
            let out_pixels = g.out_pixels();
            for (with_bias, with_residual, relu) in [
                (true, false, false),
                (true, false, true),
                (false, true, false),
                (true, true, true),
            ] {
                let epilogue = Epilogue {
                    bias: with_bias.then_some(&bias[..]),
                    residual: with_residual.then_some(&residual[..]),
                    relu,
                };
                let y = forward(&g, &x, &w, epilogue);
                for (i, (&a, &c)) in y.iter().zip(&conv).enumerate() {
                    let channel = i / out_pixels % g.out_channels;
                    let mut b = c;
                    b += if with_bias { bias[channel] } else { 0.0 };
                    b += if with_residual { residual[i] } else { 0.0 };
                    let b = if relu { b.max(0.0) } else { b };
                    assert!((a - b).abs() < 1e-5, "{g:?} {epilogue:?}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn weight_gradient_has_the_same_bits_whatever_the_threads() {
        let g = shape(37, 3, [6, 6], 4, 3, 1, 1);
        let x = values(g.batch * g.in_channels * g.in_pixels(), 4);
        let dy = values(g.batch * g.out_channels * g.out_pixels(), 5);
        let on = |threads| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build();
            pool.expect("a thread pool")
                .install(|| weight_grad(&g, &x, &dy))
        };
        let one = on(1);
        assert_eq!(one, on(2));
        assert_eq!(one, on(3));
    }
}
