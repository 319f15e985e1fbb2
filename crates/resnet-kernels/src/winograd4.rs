//! Winograd's F(4x4, 3x3) (Lavin and Gray 2015, §4, interpolation points 0, ±1, ±2 and ∞) for
//! the stride-1 3x3 convolutions: each 4x4 block of outputs from a 6x6 block of inputs with 36
//! multiplies per channel pair instead of 144, 4x fewer (F(2x2, 3x3), [`super::winograd`],
//! saves 2.25x). The same steps as there, with larger transforms:
//!
//! - the weights: `U = G g Gᵀ`, thirty-six `[out, in]` matrices;
//! - the input: `V = Bᵀ d B` of every 6x6 tile (overlapping by 2), channels innermost;
//! - thirty-six products `M_ξ = U_ξ · V_ξᵀ`;
//! - the output: `Y = Aᵀ m A`, with the epilogue.
//!
//! The transforms' coefficients reach 8 (`Aᵀ`) and 1/24 (`G`), and their sums cancel more than
//! F(2x2, 3x3)'s; on the tests' shapes (values in [-1, 1]) the results stay within the same
//! bound against a float64 reference, 2e-6 per product summed.

use std::mem::MaybeUninit;

use super::conv_f32::{Epilogue, Geometry};
use super::winograd::{Minimal, Scratch, avx2_only, channels_innermost, forward_by, write_output};

/// `G`: the weights' transform.
const G: [[f32; 3]; 6] = [
    [1.0 / 4.0, 0.0, 0.0],
    [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
    [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
    [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
    [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
    [0.0, 0.0, 1.0],
];

/// `Aᵀ`: the output transform.
const A_T: [[f32; 6]; 4] = [
    [1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
    [0.0, 1.0, -1.0, 2.0, -2.0, 0.0],
    [0.0, 1.0, 1.0, 4.0, 4.0, 0.0],
    [0.0, 1.0, -1.0, 8.0, -8.0, 1.0],
];

/// Whether F(4x4, 3x3) computes this convolution's forward pass (and input gradient) under the
/// measured rule: F(2x2, 3x3) [`applies`](super::winograd::applies) (enough tiles in the batch),
/// on a processor with AVX2 and without AVX-512 (not measured elsewhere), with at least 64
/// input channels and outputs of at least 32x32. Measured (`cargo bench -p resnet-kernels
/// --bench conv_layers`, docs/profile.md, against F(2x2, 3x3)): faster on WRN-28-10's
/// 32x32x160 (1.3-1.5x) and on ResNet-50's 56x56x64 layers at batch 16 in three rounds of four
/// (12.3 ms against 15.3-20.6); level at 28x28x128 and at CIFAR's 16x16x32; slower with 16
/// channels, on 8x8 images and on ResNet-50's 14x14 and 7x7 layers at batch 16 (too few tiles
/// for wide products).
pub fn applies(g: &Geometry) -> bool {
    let [oh, ow] = g.output();
    super::winograd::applies(g) && avx2_only() && g.in_channels >= 64 && oh.min(ow) >= 32
}

/// Tiles to aim for in each product (several images side by side).
const WIDE: usize = 256;

/// The tiles of one image: `[rows, cols]` of 4x4 output blocks.
fn tiles(g: &Geometry) -> [usize; 2] {
    g.output().map(|side| side.div_ceil(4))
}

/// `out = Σ coefficient · row` over the rows whose coefficient is not zero, element by element
/// (the first term sets `out`).
fn combine<'a>(out: &mut [f32], terms: impl IntoIterator<Item = (f32, &'a [f32])>) {
    let mut first = true;
    for (c, row) in terms {
        if c == 0.0 {
            continue;
        }
        let row = &row[..out.len()];
        match (first, c) {
            (true, 1.0) => out.copy_from_slice(row),
            (true, _) => out.iter_mut().zip(row).for_each(|(o, r)| *o = c * r),
            (false, 1.0) => out.iter_mut().zip(row).for_each(|(o, r)| *o += r),
            (false, -1.0) => out.iter_mut().zip(row).for_each(|(o, r)| *o -= r),
            (false, _) => out.iter_mut().zip(row).for_each(|(o, r)| *o += c * r),
        }
        first = false;
    }
    if first {
        out.fill(0.0);
    }
}

/// `Bᵀ d` element by element: six vectors `d` (rows or columns of tiles) into six `out`, in one
/// pass, `Bᵀ`'s rows with their common terms shared: (4, 0, -5, 0, 1, 0), (0, -4, -4, 1, 1, 0),
/// (0, 4, -4, -1, 1, 0), (0, -2, -1, 2, 1, 0), (0, 2, -1, -2, 1, 0), (0, 4, 0, -5, 0, 1).
fn input_transform(out: [&mut [f32]; 6], d: [&[f32]; 6]) {
    let n = out[0].len();
    let [o0, o1, o2, o3, o4, o5] = out.map(|o| &mut o[..n]);
    let [d0, d1, d2, d3, d4, d5] = d.map(|d| &d[..n]);
    for x in 0..n {
        let (a, b) = (d1[x] + d2[x], d1[x] - d2[x]);
        let (c, e) = (d4[x] - d2[x], d3[x] - d1[x]);
        o0[x] = 4.0 * d0[x] - 5.0 * d2[x] + d4[x];
        o1[x] = d3[x] + d4[x] - 4.0 * a;
        o2[x] = d4[x] - d3[x] + 4.0 * b;
        o3[x] = c + 2.0 * e;
        o4[x] = c - 2.0 * e;
        o5[x] = 4.0 * d1[x] - 5.0 * d3[x] + d5[x];
    }
}

/// `Aᵀ m` element by element: six vectors into four, in one pass, the rows of [`A_T`] with
/// their common terms shared.
fn output_transform(out: [&mut [f32]; 4], m: [&[f32]; 6]) {
    let n = m[0].len();
    let [m0, m1, m2, m3, m4, m5] = m.map(|m| &m[..n]);
    let [o0, o1, o2, o3] = out.map(|o| &mut o[..n]);
    for x in 0..n {
        let (s12, d12) = (m1[x] + m2[x], m1[x] - m2[x]);
        let (s34, d34) = (m3[x] + m4[x], m3[x] - m4[x]);
        o0[x] = m0[x] + s12 + s34;
        o1[x] = d12 + 2.0 * d34;
        o2[x] = s12 + 4.0 * s34;
        o3[x] = d12 + 8.0 * d34 + m5[x];
    }
}

/// `N` disjoint `len`-long windows of `buf` at increasing `starts`.
fn windows<const N: usize>(buf: &mut [f32], starts: [usize; N], len: usize) -> [&mut [f32]; N] {
    let mut rest = buf;
    let mut at = 0;
    starts.map(|start| {
        let tail = std::mem::take(&mut rest);
        let (window, after) = tail[start - at..].split_at_mut(len);
        rest = after;
        at = start + len;
        window
    })
}

/// `U = G g Gᵀ` of every (output, input) channel pair: `[36][out][in]`. Each output channel's
/// 36 rows are computed into a buffer (in cache) and copied whole: written straight into `u`,
/// each channel pair's 36 values land 36 pages apart with large layers.
fn transform_weights(g: &Geometry, weight: &[f32]) -> Vec<f32> {
    let (cout, cin) = (g.out_channels, g.in_channels);
    let mut u = vec![0.0; 36 * cout * cin];
    let mut rows = vec![0.0; 36 * cin];
    for o in 0..cout {
        for c in 0..cin {
            let w = &weight[(o * cin + c) * 9..][..9];
            // G w: 6 rows of 3.
            let gw: [[f32; 3]; 6] = G.map(|row| {
                [0, 1, 2].map(|j| row[0] * w[j] + row[1] * w[3 + j] + row[2] * w[6 + j])
            });
            for (i, gw_i) in gw.iter().enumerate() {
                for (j, g_j) in G.iter().enumerate() {
                    rows[(i * 6 + j) * cin + c] =
                        gw_i[0] * g_j[0] + gw_i[1] * g_j[1] + gw_i[2] * g_j[2];
                }
            }
        }
        for (ij, row) in rows.chunks_exact(cin).enumerate() {
            u[(ij * cout + o) * cin..][..cin].copy_from_slice(row);
        }
    }
    u
}

/// `V = Bᵀ d B` of every 6x6 tile of one image `x_n` (`[in, h, w]`) into its rows of `s.v`
/// (`[36][cols][in]`, this image's tiles at rows `first..`), channels innermost: `B` combines
/// the columns of each padded row (`E = d B`, a vector of `in` per tile column), `Bᵀ` the rows
/// of each row of tiles (a vector of `tiles_w · in`).
fn transform_input(g: &Geometry, x_n: &[f32], s: &mut Scratch, cols: usize, first: usize) {
    let [th, tw] = tiles(g);
    let (c, pad) = (g.in_channels, g.padding);
    let (rows, width) = (4 * th + 2, 4 * tw + 2);
    channels_innermost(x_n, c, g.input, &mut s.padded, [rows, width], pad);
    let (plane, block) = (rows * tw * c, tw * c);
    s.half.resize(6 * plane, 0.0);
    for r in 0..rows {
        let src = &s.padded[r * width * c..][..width * c];
        for t in 0..tw {
            let at = r * block + t * c;
            let out = windows(&mut s.half, [0, 1, 2, 3, 4, 5].map(|j| j * plane + at), c);
            input_transform(
                out,
                [0, 1, 2, 3, 4, 5].map(|b| &src[(4 * t + b) * c..][..c]),
            );
        }
    }
    for ty in 0..th {
        for j in 0..6 {
            let e = |a: usize| &s.half[j * plane + (4 * ty + a) * block..][..block];
            let v = |i: usize| ((i * 6 + j) * cols + first + ty * tw) * c;
            let out = windows(&mut s.v, [0, 1, 2, 3, 4, 5].map(v), block);
            input_transform(out, [0, 1, 2, 3, 4, 5].map(e));
        }
    }
}

/// `Y = Aᵀ m A` of one image's tiles (rows `first..` of `s.m`, `[36][cols][out]`) into its
/// output `y_n` (`[out, oh, ow]`) with the epilogue: `Aᵀ` combines the rows of each row of
/// tiles, `A` the columns, into `s.out` (`[oh][ow][out]`), laid out by [`write_output`].
fn transform_output(
    g: &Geometry,
    s: &mut Scratch,
    cols: usize,
    first: usize,
    y_n: &mut [MaybeUninit<f32>],
    epilogue: &Epilogue,
    residual_n: Option<&[f32]>,
) {
    let [oh, ow] = g.output();
    let [th, tw] = tiles(g);
    let k = g.out_channels;
    let block = tw * k;
    s.half.resize(24 * block, 0.0);
    s.out.resize(oh * ow * k, 0.0);
    for ty in 0..th {
        // P[i][j] = (Aᵀ m)[i][j] for this row of tiles: 4 x 6 vectors of `tiles_w · out`.
        for j in 0..6 {
            let m = |a: usize| &s.m[((a * 6 + j) * cols + first + ty * tw) * k..][..block];
            let out = windows(
                &mut s.half,
                [0, 1, 2, 3].map(|i| (i * 6 + j) * block),
                block,
            );
            output_transform(out, [0, 1, 2, 3, 4, 5].map(m));
        }
        for i in 0..4 {
            let y = 4 * ty + i;
            if y >= oh {
                continue;
            }
            let row = &mut s.out[y * ow * k..][..ow * k];
            for t in 0..tw {
                let p = |j: usize| &s.half[(i * 6 + j) * block + t * k..][..k];
                // The tile's outputs inside the image: four, or fewer at its right edge.
                let inside = (ow - 4 * t).min(4);
                if inside == 4 {
                    let out = windows(row, [0, 1, 2, 3].map(|jj| (4 * t + jj) * k), k);
                    output_transform(out, [0, 1, 2, 3, 4, 5].map(p));
                    continue;
                }
                for (jj, a_jj) in A_T.iter().enumerate().take(inside) {
                    let out = &mut row[(4 * t + jj) * k..][..k];
                    combine(out, (0..6).map(|j| (a_jj[j], p(j))));
                }
            }
        }
    }
    write_output(g, s, y_n, epilogue, residual_n);
}

/// The forward convolution by F(4x4, 3x3), for a convolution that [`fits`](super::winograd::fits): `x` is
/// `[batch, in, h, w]`, `weight` `[out, in, 3, 3]`; returns `[batch, out, oh, ow]` with
/// `epilogue` applied.
pub fn forward(g: &Geometry, x: &[f32], weight: &[f32], epilogue: Epilogue) -> Vec<f32> {
    const F4X4: Minimal = Minimal {
        m: 4,
        wide: WIDE,
        transform_weights,
        transform_input,
        transform_output,
    };
    forward_by(&F4X4, g, x, weight, epilogue)
}

#[cfg(test)]
mod tests {
    use super::super::winograd::tests::check_odd_shapes;
    use super::*;

    /// `Bᵀ`: the input transform.
    const B_T: [[f32; 6]; 6] = [
        [4.0, 0.0, -5.0, 0.0, 1.0, 0.0],
        [0.0, -4.0, -4.0, 1.0, 1.0, 0.0],
        [0.0, 4.0, -4.0, -1.0, 1.0, 0.0],
        [0.0, -2.0, -1.0, 2.0, 1.0, 0.0],
        [0.0, 2.0, -1.0, -2.0, 1.0, 0.0],
        [0.0, 4.0, 0.0, -5.0, 0.0, 1.0],
    ];
    /// Each transform applied to the unit vectors gives its matrix's columns.
    #[test]
    fn the_fused_transforms_are_the_matrices() {
        let unit = |b: usize| [0, 1, 2, 3, 4, 5].map(|i| [if i == b { 1.0f32 } else { 0.0 }]);
        for b in 0..6 {
            let d = unit(b);
            let mut out = [[f32::NAN]; 6];
            let [o0, o1, o2, o3, o4, o5] = &mut out;
            input_transform(
                [o0, o1, o2, o3, o4, o5].map(|o| &mut o[..]),
                d.each_ref().map(|d| &d[..]),
            );
            assert_eq!(out.map(|o| o[0]), B_T.map(|row| row[b]), "Bᵀ's column {b}");
            let mut out = [[f32::NAN]; 4];
            let [o0, o1, o2, o3] = &mut out;
            output_transform(
                [o0, o1, o2, o3].map(|o| &mut o[..]),
                d.each_ref().map(|d| &d[..]),
            );
            assert_eq!(out.map(|o| o[0]), A_T.map(|row| row[b]), "Aᵀ's column {b}");
        }
    }

    #[test]
    fn equals_the_definition_on_odd_shapes() {
        // F(2x2, 3x3)'s bound holds on these inputs (values in [-1, 1]).
        check_odd_shapes(forward, 2e-6);
    }
}
