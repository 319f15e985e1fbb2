//! Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, *Fast Algorithms for
//! Convolutional Neural Networks*, 2015) for the stride-1 3x3 convolutions: each 2x2 block of
//! outputs from a 4x4 block of inputs with 16 multiplies per channel pair instead of 36, 2.25x
//! fewer. Per image:
//!
//! - the weights, once per call: `U = G g Gᵀ`, sixteen `[out, in]` matrices;
//! - the input: `V = Bᵀ d B` of every 4x4 tile `d` (tiles overlapping by 2, zeros outside the
//!   image), sixteen `[in, tiles]` matrices;
//! - sixteen products `M_ξ = U_ξ · V_ξ` (`[out, tiles]`), the gemm calls;
//! - the output: `Y = Aᵀ m A`, each tile's 2x2 outputs, with the [`Epilogue`] (bias, shortcut,
//!   ReLU) as the direct kernel applies it.
//!
//! In f32 the transforms add a few roundings: results differ from the direct convolution's by
//! about 1e-6 of the inputs' scale (`tests` bound it against a float64 reference).
//! Used where measured faster ([`applies`]); `RESNET_CONV=direct` or `=winograd` overrides
//! ([`chosen`]).

use std::cell::RefCell;
use std::mem::MaybeUninit;
use std::sync::OnceLock;

use rayon::prelude::*;

use super::buffer::{assume_init, uninit};
use super::conv_f32::{Epilogue, Geometry, product};

/// Whether this convolution runs through F(2x2, 3x3). `RESNET_CONV` (read once, at the first
/// convolution) chooses: `direct`, never; `winograd`, wherever it [`fits`]; otherwise where
/// the measured rule says it is faster ([`applies`]).
pub fn chosen(g: &Geometry) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Mode {
        Rule,
        Direct,
        Winograd,
    }
    static MODE: OnceLock<Mode> = OnceLock::new();
    let mode = *MODE.get_or_init(|| match std::env::var("RESNET_CONV").as_deref() {
        Ok("direct") => Mode::Direct,
        Ok("winograd") => Mode::Winograd,
        _ => Mode::Rule,
    });
    match mode {
        Mode::Rule => applies(g),
        Mode::Direct => false,
        Mode::Winograd => fits(g),
    }
}

/// Whether F(2x2, 3x3) may compute this convolution: 3x3, stride 1, padding at most 2, no
/// groups.
pub fn fits(g: &Geometry) -> bool {
    g.kernel == 3 && g.stride == 1 && g.padding <= 2 && g.groups == 1
}

/// Whether F(2x2, 3x3) computes this convolution: it [`fits`], and it has the channels and
/// pixels for the transforms to pay. Measured (`cargo bench -p resnet-kernels --bench
/// conv_layers`, docs/profile.md): 1.5x faster than the direct kernel on ResNet-50's 56x56x64,
/// 28x28x128 and 14x14x256 layers, 1.1x on 7x7x512; 0.7-0.8x on CIFAR's 16, 32 and 64 channels,
/// whose transforms (a few adds per value, over rows of 16 tiles or fewer) cost more than the
/// multiplies they save.
pub fn applies(g: &Geometry) -> bool {
    fits(g) && g.in_channels >= 64 && g.in_channels * g.out_pixels() >= 64 * 14 * 14
}

/// The tiles of one image: `[rows, cols]` of 2x2 output blocks.
fn tiles(g: &Geometry) -> [usize; 2] {
    g.output().map(|side| side.div_ceil(2))
}

/// `U = G g Gᵀ` of every (output, input) channel pair: `[16][out][in]`.
fn transform_weights(g: &Geometry, weight: &[f32]) -> Vec<f32> {
    let (cout, cin) = (g.out_channels, g.in_channels);
    let mut u = vec![0.0; 16 * cout * cin];
    for o in 0..cout {
        for c in 0..cin {
            let w = &weight[(o * cin + c) * 9..][..9];
            // G w: 4 rows of 3.
            let mut gw = [[0.0f32; 3]; 4];
            for j in 0..3 {
                let (a, b, d) = (w[j], w[3 + j], w[6 + j]);
                gw[0][j] = a;
                gw[1][j] = 0.5 * (a + b + d);
                gw[2][j] = 0.5 * (a - b + d);
                gw[3][j] = d;
            }
            // (G w) Gᵀ: 4x4.
            for (i, row) in gw.iter().enumerate() {
                let [a, b, d] = *row;
                let t = [a, 0.5 * (a + b + d), 0.5 * (a - b + d), d];
                for (j, value) in t.into_iter().enumerate() {
                    u[((i * 4 + j) * cout + o) * cin + c] = value;
                }
            }
        }
    }
    u
}

/// `V = Bᵀ d B` of every tile of one image `x_n` (`[in, h, w]`) into its columns of `v`
/// (`[16][in][cols]`; this image's tiles are columns `first..first + tiles`).
///
/// A row of tiles at a time, as vectors over the tiles of the row (loops the compiler
/// vectorises): each of the 4 input rows, zero-padded, is split into its even and odd columns,
/// so that tile `t`'s columns are `even[t], odd[t], even[t + 1], odd[t + 1]`; `B` combines
/// those (`E = d B`), then `Bᵀ` the rows (`V = Bᵀ E`), stored contiguously per row of tiles.
fn transform_input(g: &Geometry, x_n: &[f32], v: &mut [f32], cols: usize, first: usize) {
    let [h, w] = g.input;
    let [th, tw] = tiles(g);
    let (cin, pad) = (g.in_channels, g.padding);
    // A padded input row: column `k` holds input column `k - pad`.
    let mut row = vec![0.0f32; 2 * tw + 2];
    let (mut even, mut odd) = (vec![0.0f32; tw + 1], vec![0.0f32; tw + 1]);
    // E[a][j]: 16 vectors of `tw`.
    let mut e = vec![0.0f32; 16 * tw];
    let (lo, hi) = (pad.min(row.len()), (pad + w).min(row.len()));
    for c in 0..cin {
        let plane = &x_n[c * h * w..][..h * w];
        for ty in 0..th {
            for a in 0..4 {
                let y = (2 * ty + a) as isize - pad as isize;
                row.fill(0.0);
                if y >= 0 && y < h as isize {
                    let src = &plane[y as usize * w..][..w];
                    row[lo..hi].copy_from_slice(&src[..hi - lo]);
                }
                for (k, pair) in row.chunks_exact(2).enumerate() {
                    even[k] = pair[0];
                    odd[k] = pair[1];
                }
                let (e0, rest) = e[a * 4 * tw..][..4 * tw].split_at_mut(tw);
                let (e1, rest) = rest.split_at_mut(tw);
                let (e2, e3) = rest.split_at_mut(tw);
                for t in 0..tw {
                    let (d0, d1, d2, d3) = (even[t], odd[t], even[t + 1], odd[t + 1]);
                    e0[t] = d0 - d2;
                    e1[t] = d1 + d2;
                    e2[t] = d2 - d1;
                    e3[t] = d1 - d3;
                }
            }
            let at = |a: usize, j: usize| &e[(a * 4 + j) * tw..][..tw];
            for j in 0..4 {
                let (r0, r1, r2, r3) = (at(0, j), at(1, j), at(2, j), at(3, j));
                let at = |i: usize| ((i * 4 + j) * cin + c) * cols + first + ty * tw;
                let o = &mut v[at(0)..][..tw];
                (0..tw).for_each(|t| o[t] = r0[t] - r2[t]);
                let o = &mut v[at(1)..][..tw];
                (0..tw).for_each(|t| o[t] = r1[t] + r2[t]);
                let o = &mut v[at(2)..][..tw];
                (0..tw).for_each(|t| o[t] = r2[t] - r1[t]);
                let o = &mut v[at(3)..][..tw];
                (0..tw).for_each(|t| o[t] = r1[t] - r3[t]);
            }
        }
    }
}

/// `Y = Aᵀ m A` of one image's tiles (columns `first..` of `m`, `[16][out][cols]`) into its output `y_n`
/// (`[out, oh, ow]`), plus the epilogue's bias and shortcut (`residual_n`, this image's), then
/// its ReLU. A row of tiles at a time, as vectors over its tiles (as [`transform_input`]).
fn transform_output(
    g: &Geometry,
    m: &[f32],
    cols: usize,
    first: usize,
    y_n: &mut [MaybeUninit<f32>],
    epilogue: &Epilogue,
    residual_n: Option<&[f32]>,
) {
    let [oh, ow] = g.output();
    let [th, tw] = tiles(g);
    let cout = g.out_channels;
    // P = Aᵀ m: 2 rows of 4 vectors of `tw`; then a row of outputs, 2 per tile.
    let mut p = vec![0.0f32; 8 * tw];
    let mut out = vec![0.0f32; 2 * tw];
    for o in 0..cout {
        let bias = epilogue.bias.map_or(0.0, |b| b[o]);
        for ty in 0..th {
            let mv =
                |i: usize, j: usize| &m[((i * 4 + j) * cout + o) * cols + first + ty * tw..][..tw];
            for j in 0..4 {
                let (m0, m1, m2, m3) = (mv(0, j), mv(1, j), mv(2, j), mv(3, j));
                let (p0, p1) = p.split_at_mut(4 * tw);
                let (p0, p1) = (&mut p0[j * tw..][..tw], &mut p1[j * tw..][..tw]);
                for t in 0..tw {
                    p0[t] = m0[t] + m1[t] + m2[t];
                    p1[t] = m1[t] - m2[t] - m3[t];
                }
            }
            for i in 0..2 {
                let y = 2 * ty + i;
                if y >= oh {
                    continue;
                }
                let pr = |j: usize| &p[(i * 4 + j) * tw..][..tw];
                let (q0, q1, q2, q3) = (pr(0), pr(1), pr(2), pr(3));
                for (t, pair) in out.chunks_exact_mut(2).enumerate() {
                    pair[0] = q0[t] + q1[t] + q2[t];
                    pair[1] = q1[t] - q2[t] - q3[t];
                }
                let start = (o * oh + y) * ow;
                let dst = &mut y_n[start..start + ow];
                let residual = residual_n.map(|r| &r[start..start + ow]);
                let relu = epilogue.relu;
                for (x, d) in dst.iter_mut().enumerate() {
                    let mut value = out[x] + bias + residual.map_or(0.0, |r| r[x]);
                    // As the direct kernel's ReLU: NaN stays NaN, -0 becomes 0.
                    if relu && !(value.is_nan() || value > 0.0) {
                        value = 0.0;
                    }
                    *d = MaybeUninit::new(value);
                }
            }
        }
    }
}

/// Columns of the products to aim for (tiles of several images side by side).
const WIDE: usize = 512;

thread_local! {
    /// Per thread: an image's transformed input `V` and products `M`.
    static TILES: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// The forward convolution by F(2x2, 3x3), where [`applies`] says it may: `x` is
/// `[batch, in, h, w]`, `weight` `[out, in, 3, 3]`; returns `[batch, out, oh, ow]` with
/// `epilogue` applied.
pub fn forward(g: &Geometry, x: &[f32], weight: &[f32], epilogue: Epilogue) -> Vec<f32> {
    assert!(fits(g), "not a Winograd convolution: {g:?}");
    let (cin, cout) = (g.in_channels, g.out_channels);
    let [th, tw] = tiles(g);
    let t_len = th * tw;
    let image = cout * g.out_pixels();
    let in_image = cin * g.input[0] * g.input[1];
    assert_eq!(
        x.len(),
        g.batch * in_image,
        "input size does not match {g:?}"
    );
    assert_eq!(
        weight.len(),
        cout * cin * 9,
        "weight size does not match {g:?}"
    );
    assert!(epilogue.bias.is_none_or(|b| b.len() == cout), "bias size");
    let residual = epilogue.residual;
    assert!(
        residual.is_none_or(|r| r.len() == g.batch * image),
        "residual size"
    );
    let u = transform_weights(g, weight);
    // Images in chunks, one chunk's tiles side by side in each product: sixteen products of
    // `[out, in] x [in, chunk x tiles]`, wide enough for gemm to run at speed when an image
    // has few tiles (CIFAR's last stage: 16), while the chunks still feed every thread.
    let chunk = (WIDE / t_len)
        .clamp(1, g.batch.div_ceil(rayon::current_num_threads()))
        .max(1);
    let mut y = uninit(g.batch * image);
    y.par_chunks_mut(chunk * image)
        .zip(x.par_chunks(chunk * in_image))
        .enumerate()
        .for_each(|(k, (y_k, x_k))| {
            let images = x_k.len() / in_image;
            let cols = images * t_len;
            TILES.with_borrow_mut(|(v, m)| {
                v.resize(16 * cin * cols, 0.0);
                m.resize(16 * cout * cols, 0.0);
                for (i, x_n) in x_k.chunks_exact(in_image).enumerate() {
                    transform_input(g, x_n, v, cols, i * t_len);
                }
                for xi in 0..16 {
                    let u_xi = &u[xi * cout * cin..][..cout * cin];
                    let v_xi = &v[xi * cin * cols..][..cin * cols];
                    let m_xi = &mut m[xi * cout * cols..][..cout * cols];
                    product(cout, cols, cin, m_xi, u_xi, v_xi);
                }
                for (i, y_n) in y_k.chunks_exact_mut(image).enumerate() {
                    let n = k * chunk + i;
                    let residual_n = residual.map(|r| &r[n * image..(n + 1) * image]);
                    transform_output(g, m, cols, i * t_len, y_n, &epilogue, residual_n);
                }
            });
        });
    // SAFETY: `transform_output` wrote every output element of every image: the tiles cover
    // the output (`tiles` rounds up), and each tile writes its elements inside it.
    unsafe { assume_init(y) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The convolution in f64, straight from its definition.
    fn reference(g: &Geometry, x: &[f32], w: &[f32], residual: Option<&[f32]>) -> Vec<f64> {
        let [h, wd] = g.input;
        let [oh, ow] = g.output();
        let (cin, cout) = (g.in_channels, g.out_channels);
        let mut y = vec![0.0; g.batch * cout * oh * ow];
        for n in 0..g.batch {
            for o in 0..cout {
                for i in 0..oh {
                    for j in 0..ow {
                        let mut sum = 0.0f64;
                        for c in 0..cin {
                            for ki in 0..3 {
                                for kj in 0..3 {
                                    let (yy, xx) = (
                                        (i + ki) as isize - g.padding as isize,
                                        (j + kj) as isize - g.padding as isize,
                                    );
                                    if yy < 0 || xx < 0 || yy >= h as isize || xx >= wd as isize {
                                        continue;
                                    }
                                    let xv =
                                        x[((n * cin + c) * h + yy as usize) * wd + xx as usize];
                                    let wv = w[((o * cin + c) * 3 + ki) * 3 + kj];
                                    sum += xv as f64 * wv as f64;
                                }
                            }
                        }
                        let at = ((n * cout + o) * oh + i) * ow + j;
                        y[at] = sum + residual.map_or(0.0, |r| r[at] as f64);
                    }
                }
            }
        }
        y
    }

    fn values(len: usize, seed: u64) -> Vec<f32> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn equals_the_definition_on_odd_shapes() {
        // Odd sizes (a partial last tile), channels not multiples of 8, batch 1, the 8x8 last
        // CIFAR stage, padding 0, 1 and 2 (the input gradient of padding 0 convolves with 2).
        let shapes = [
            (1, 8, [7, 7], 5, 1),
            (2, 13, [9, 6], 11, 1),
            (3, 16, [8, 8], 16, 1),
            (2, 10, [5, 7], 3, 0),
            (1, 9, [6, 5], 7, 2),
            (2, 64, [8, 8], 64, 1),
        ];
        for (batch, cin, input, cout, padding) in shapes {
            let g = Geometry {
                batch,
                in_channels: cin,
                input,
                out_channels: cout,
                kernel: 3,
                stride: 1,
                padding,
                groups: 1,
            };
            let x = values(batch * cin * input[0] * input[1], 1);
            let w = values(cout * cin * 9, 2);
            let residual = values(batch * cout * g.out_pixels(), 3);
            let bias = values(cout, 4);
            let expected = reference(&g, &x, &w, Some(&residual));
            for relu in [false, true] {
                let epilogue = Epilogue {
                    bias: Some(&bias),
                    residual: Some(&residual),
                    relu,
                };
                let y = forward(&g, &x, &w, epilogue);
                let [oh, ow] = g.output();
                for (at, (&y, &e)) in y.iter().zip(&expected).enumerate() {
                    let e = e + bias[at / (oh * ow) % cout] as f64;
                    let e = if relu { e.max(0.0) } else { e };
                    // Sums of 9·cin products of values in [-1, 1]: the error scales with
                    // the number of terms.
                    let tolerance = 2e-6 * (9 * cin) as f64;
                    assert!(
                        (y as f64 - e).abs() <= tolerance,
                        "{g:?} relu {relu}: {y} vs {e} at {at}"
                    );
                }
            }
        }
    }
}
