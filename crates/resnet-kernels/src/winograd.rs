//! Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, *Fast Algorithms for
//! Convolutional Neural Networks*, 2015) for the stride-1 3x3 convolutions: each 2x2 block of
//! outputs from a 4x4 block of inputs with 16 multiplies per channel pair instead of 36, 2.25x
//! fewer:
//!
//! - the weights, once per call: `U = G g Gᵀ`, sixteen `[out, in]` matrices;
//! - the input, per chunk of images (their tiles side by side): `V = Bᵀ d B` of every 4x4 tile
//!   `d` (tiles overlapping by 2, zeros outside the image), sixteen `[tiles][in]` matrices,
//!   channels innermost;
//! - sixteen products `M_ξ = U_ξ · V_ξᵀ` (stored `[tiles][out]`), the gemm calls;
//! - the output: `Y = Aᵀ m A`, each tile's 2x2 outputs, with the [`Epilogue`] (bias, shortcut,
//!   ReLU) as the direct kernel applies it.
//!
//! In f32 the transforms add a few roundings: results differ from the direct convolution's by
//! about 1e-6 of the inputs' scale (`tests` bound it against a float64 reference).
//! Used where measured faster ([`applies`]); `RESNET_CONV` or
//! [`algorithm::with`](crate::algorithm::with) overrides ([`chosen`]).

use std::cell::RefCell;
use std::mem::MaybeUninit;
use std::sync::OnceLock;

use rayon::prelude::*;

use crate::algorithm::{self, ConvAlgorithm};

use super::buffer::{assume_init, uninit};
use super::conv_f32::{Epilogue, Geometry, product_nt, product_tn};
use super::transpose::transpose;
use super::winograd4;

/// A minimal filtering algorithm for the 3x3 convolutions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tile {
    /// F(2x2, 3x3) (this module).
    F2x2,
    /// F(4x4, 3x3) ([`super::winograd4`]).
    F4x4,
}

/// The minimal filtering that computes this convolution's forward pass (and, at stride 1, its
/// input gradient), if one does: as the thread's [`ConvAlgorithm`] says (`RESNET_CONV` or
/// [`algorithm::with`](crate::algorithm::with)); for [`ConvAlgorithm::Measured`], F(4x4, 3x3)
/// where [`winograd4::applies`], else F(2x2, 3x3) where it [`applies`].
pub fn chosen(g: &Geometry) -> Option<Tile> {
    match algorithm::current() {
        ConvAlgorithm::Measured if winograd4::applies(g) => Some(Tile::F4x4),
        ConvAlgorithm::Measured => applies(g).then_some(Tile::F2x2),
        ConvAlgorithm::Direct => None,
        ConvAlgorithm::Winograd => fits(g).then_some(Tile::F2x2),
        ConvAlgorithm::Winograd4x4 => fits(g).then_some(Tile::F4x4),
    }
}

/// Whether this convolution's weight gradient runs through F(2x2, 3x3) ([`weight_grad`]): as
/// [`chosen`], with the rule [`applies_to_weight_grad`] (F(4x4, 3x3) has no weight gradient:
/// with [`ConvAlgorithm::Winograd4x4`] it is F(2x2, 3x3)'s where that fits).
pub fn weight_grad_chosen(g: &Geometry) -> bool {
    match algorithm::current() {
        ConvAlgorithm::Measured => applies_to_weight_grad(g),
        ConvAlgorithm::Direct => false,
        ConvAlgorithm::Winograd | ConvAlgorithm::Winograd4x4 => fits(g),
    }
}

/// Whether F(2x2, 3x3) may compute this convolution: 3x3, stride 1, padding at most 2, no
/// groups.
pub fn fits(g: &Geometry) -> bool {
    g.kernel == 3 && g.stride == 1 && g.padding <= 2 && g.groups == 1
}

/// Whether F(2x2, 3x3) computes this convolution: it [`fits`], it has at least
/// [`min_channels`] input channels, and at least 512 tiles in the batch. Measured (`cargo
/// bench -p resnet-kernels --bench conv_layers`, docs/profile.md): faster than the direct
/// kernel on CIFAR's 32- and 64-channel stages (1.1-1.75x at batch 128), ResNet-50's 56x56x64
/// to 14x14x256 layers at batch 16 (1.3-1.7x) and Wide ResNets (1.5-1.8x); slower with few
/// tiles for large weights (ResNet-50's 7x7x512 at batch 16, 0.8x: the weights' transform is
/// per call).
pub fn applies(g: &Geometry) -> bool {
    let [th, tw] = tiles(g);
    fits(g) && g.in_channels >= min_channels() && g.batch * th * tw >= 512
}

/// The fewest input channels for which F(2x2, 3x3) pays on this processor: 16 with AVX2's
/// gemm (CIFAR's 16-channel stage 1.13x, whole ResNet-20/56 training steps 1.06-1.19x over
/// the rule from 32 channels), 32 with AVX-512's, whose multiplies are cheap enough that the
/// transforms of a 16-channel layer do not pay for the ones saved (0.75x), and 32 on the
/// processors not measured (docs/profile.md).
fn min_channels() -> usize {
    if avx2_only() { 16 } else { 32 }
}

/// Whether gemm runs its AVX2 + FMA kernels here, not AVX-512's: the machine the rules for
/// 16 channels and for F(4x4, 3x3) were measured on.
pub(super) fn avx2_only() -> bool {
    static AVX2_ONLY: OnceLock<bool> = OnceLock::new();
    *AVX2_ONLY.get_or_init(|| {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
            && !std::arch::is_x86_feature_detected!("avx512f")
        {
            return true;
        }
        false
    })
}

/// Whether F(2x2, 3x3) computes this convolution's weight gradient: it [`applies`], the layer
/// has at least 64 input channels and at most 256 tiles per image. Measured (`cargo bench -p
/// resnet-kernels --bench conv_layers`, docs/profile.md): faster than the direct kernel on
/// CIFAR's 64-channel stage (1.4x at batch 128), ResNet-50's 28x28x128 and 14x14x256 layers
/// (1.2x at batch 16) and Wide ResNets (1.3-2x); no faster with 32 channels (the sixteen
/// `[out, in]` products are too small for their long sums to pay for two transforms) and
/// slower on 56x56 images (each group's transformed tiles no longer fit in the caches).
pub fn applies_to_weight_grad(g: &Geometry) -> bool {
    let [th, tw] = tiles(g);
    applies(g) && g.in_channels >= 64 && th * tw <= 256
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

/// Per thread: scratch for one image's transforms, and a chunk's transformed input `V` and
/// products `M`.
#[derive(Default)]
pub(super) struct Scratch {
    /// The image, zero-padded, channels innermost: `[2·tiles_h + 2][2·tiles_w + 2][in]`.
    pub(super) padded: Vec<f32>,
    /// `d B` of every padded row: `[α][rows][tiles_w][in]` for tiles of side α (4, or 6 for
    /// F(4x4, 3x3)), or `Aᵀ m`'s rows, for the output.
    pub(super) half: Vec<f32>,
    /// One image's output, channels innermost: `[oh][ow][out]`.
    pub(super) out: Vec<f32>,
    /// A block of its pixels, channels outermost: `[out][PIXELS]`.
    pub(super) block: Vec<f32>,
    pub(super) v: Vec<f32>,
    pub(super) m: Vec<f32>,
}

thread_local! {
    pub(super) static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// `a - b`, `a + b`, element by element into `out` (loops the compiler vectorises).
fn sub(out: &mut [f32], a: &[f32], b: &[f32]) {
    out.iter_mut()
        .zip(a.iter().zip(b))
        .for_each(|(o, (a, b))| *o = a - b);
}

fn add(out: &mut [f32], a: &[f32], b: &[f32]) {
    out.iter_mut()
        .zip(a.iter().zip(b))
        .for_each(|(o, (a, b))| *o = a + b);
}

/// `image` (`[c][h][w]`) into `dst`, zero-filled to `[rows][width][c]` with the image at
/// (`pad`, `pad`): each of the image's rows a transposition of `[c][w]` to `[w][c]`.
pub(super) fn channels_innermost(
    image: &[f32],
    c: usize,
    [h, w]: [usize; 2],
    dst: &mut Vec<f32>,
    [rows, width]: [usize; 2],
    pad: usize,
) {
    dst.clear();
    dst.resize(rows * width * c, 0.0);
    for y in 0..h {
        let row = &mut dst[((y + pad) * width + pad) * c..][..w * c];
        transpose(&image[y * w..], h * w, [c, w], row, c);
    }
}

/// `V = Bᵀ d B` of every tile of one image `x_n` (`[in, h, w]`) into its rows of `v`
/// (`[16][cols][in]`: this image's tiles are rows `first..first + tiles`), channels innermost,
/// so that every step is an element-wise operation on long contiguous vectors: the image is
/// copied into a zero-padded `[rows][cols][in]` layout; `B` combines columns (`E = d B`, a
/// vector of `in` per tile column); `Bᵀ` combines rows (`V = Bᵀ E`, a vector of
/// `tiles_w · in` per row of tiles).
fn transform_input(g: &Geometry, x_n: &[f32], s: &mut Scratch, cols: usize, first: usize) {
    let [h, w] = g.input;
    let [th, tw] = tiles(g);
    let (c, pad) = (g.in_channels, g.padding);
    let (rows, width) = (2 * th + 2, 2 * tw + 2);
    channels_innermost(x_n, c, [h, w], &mut s.padded, [rows, width], pad);
    // E[j][r][t] = (d B)[j] of row r, tile column t.
    let (plane, block) = (rows * tw * c, tw * c);
    s.half.resize(4 * plane, 0.0);
    let (e0, rest) = s.half.split_at_mut(plane);
    let (e1, rest) = rest.split_at_mut(plane);
    let (e2, e3) = rest.split_at_mut(plane);
    for r in 0..rows {
        let src = &s.padded[r * width * c..][..width * c];
        for t in 0..tw {
            let d = |b: usize| &src[(2 * t + b) * c..][..c];
            let at = r * block + t * c;
            sub(&mut e0[at..at + c], d(0), d(2));
            add(&mut e1[at..at + c], d(1), d(2));
            sub(&mut e2[at..at + c], d(2), d(1));
            sub(&mut e3[at..at + c], d(1), d(3));
        }
    }
    // V[i][j] for a row of tiles: rows 2ty..2ty+3 of E[j].
    for ty in 0..th {
        for j in 0..4 {
            let e = |a: usize| &s.half[j * plane + (2 * ty + a) * block..][..block];
            let v = |i: usize| ((i * 4 + j) * cols + first + ty * tw) * c;
            sub(&mut s.v[v(0)..v(0) + block], e(0), e(2));
            add(&mut s.v[v(1)..v(1) + block], e(1), e(2));
            sub(&mut s.v[v(2)..v(2) + block], e(2), e(1));
            sub(&mut s.v[v(3)..v(3) + block], e(1), e(3));
        }
    }
}

/// `Y = Aᵀ m A` of one image's tiles (rows `first..` of `m`, `[16][cols][out]`) into its
/// output `y_n` (`[out, oh, ow]`), plus the epilogue's bias and shortcut (`residual_n`, this
/// image's), then its ReLU. As [`transform_input`] in reverse: `Aᵀ` combines the rows of each
/// row of tiles, `A` the columns into a `[oh][ow][out]` image, which is then laid out as
/// `[out][oh][ow]` with the epilogue.
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
    s.half.resize(8 * block, 0.0);
    s.out.resize(oh * ow * k, 0.0);
    for ty in 0..th {
        // P[i][j] = (Aᵀ m)[i][j] for this row of tiles: 2 x 4 vectors of `tiles_w · out`.
        for j in 0..4 {
            let m = |i: usize| &s.m[((i * 4 + j) * cols + first + ty * tw) * k..][..block];
            let (p0, p1) = s.half.split_at_mut(4 * block);
            let (p0, p1) = (&mut p0[j * block..][..block], &mut p1[j * block..][..block]);
            let (m0, m1, m2, m3) = (m(0), m(1), m(2), m(3));
            for x in 0..block {
                p0[x] = m0[x] + m1[x] + m2[x];
                p1[x] = m1[x] - m2[x] - m3[x];
            }
        }
        for i in 0..2 {
            let y = 2 * ty + i;
            if y >= oh {
                continue;
            }
            let p = |j: usize| &s.half[(i * 4 + j) * block..][..block];
            let (p0, p1, p2, p3) = (p(0), p(1), p(2), p(3));
            let row = &mut s.out[y * ow * k..][..ow * k];
            for t in 0..tw {
                let at = t * k;
                let even = &mut row[2 * t * k..][..k];
                for o in 0..k {
                    even[o] = p0[at + o] + p1[at + o] + p2[at + o];
                }
                if 2 * t + 1 < ow {
                    let odd = &mut row[(2 * t + 1) * k..][..k];
                    for o in 0..k {
                        odd[o] = p1[at + o] - p2[at + o] - p3[at + o];
                    }
                }
            }
        }
    }
    write_output(g, s, y_n, epilogue, residual_n);
}

/// One image's output `s.out` (`[oh][ow][out]`) into `y_n` (`[out, oh, ow]`), a block of pixels
/// at a time (transposed into `s.block`, in L1), with the epilogue's bias and shortcut
/// (`residual_n`, this image's), then its ReLU.
pub(super) fn write_output(
    g: &Geometry,
    s: &mut Scratch,
    y_n: &mut [MaybeUninit<f32>],
    epilogue: &Epilogue,
    residual_n: Option<&[f32]>,
) {
    let k = g.out_channels;
    let pixels = g.out_pixels();
    s.block.resize(k * PIXELS, 0.0);
    for x0 in (0..pixels).step_by(PIXELS) {
        let len = PIXELS.min(pixels - x0);
        transpose(&s.out[x0 * k..], k, [len, k], &mut s.block, PIXELS);
        for o in 0..k {
            let bias = epilogue.bias.map_or(0.0, |b| b[o]);
            let dst = &mut y_n[o * pixels + x0..][..len];
            let residual = residual_n.map(|r| &r[o * pixels + x0..][..len]);
            let values = &s.block[o * PIXELS..][..len];
            for (x, d) in dst.iter_mut().enumerate() {
                let value = values[x] + bias + residual.map_or(0.0, |r| r[x]);
                // As the direct kernel's ReLU: NaN stays NaN, -0 becomes 0.
                let relu = epilogue.relu && !(value.is_nan() || value > 0.0);
                *d = MaybeUninit::new(if relu { 0.0 } else { value });
            }
        }
    }
}

/// Pixels per block of the output's layout change.
const PIXELS: usize = 64;

/// Columns of the products to aim for (tiles of several images side by side).
const WIDE: usize = 512;

/// The forward convolution by F(2x2, 3x3), for a convolution that [`fits`]: `x` is
/// `[batch, in, h, w]`, `weight` `[out, in, 3, 3]`; returns `[batch, out, oh, ow]` with
/// `epilogue` applied.
pub fn forward(g: &Geometry, x: &[f32], weight: &[f32], epilogue: Epilogue) -> Vec<f32> {
    forward_by(&F2X2, g, x, weight, epilogue)
}

/// What differs between F(2x2, 3x3) and F(4x4, 3x3) ([`super::winograd4`]): the output tile,
/// how wide to make the products, the three transforms.
pub(super) struct Minimal {
    /// The side `m` of an output tile (an input tile is `m + 2`): `(m + 2)²` products.
    pub m: usize,
    /// Tiles to aim for in each product (several images side by side).
    pub wide: usize,
    /// `U = G g Gᵀ`: `[(m + 2)²][out][in]`.
    pub transform_weights: fn(&Geometry, &[f32]) -> Vec<f32>,
    /// `V = Bᵀ d B` of one image's tiles into `s.v` (`[(m + 2)²][cols][in]`) from row `first`.
    pub transform_input: fn(&Geometry, &[f32], &mut Scratch, usize, usize),
    /// `Y = Aᵀ m A` of one image's tiles (`s.m`, `[(m + 2)²][cols][out]`, from row `first`) into
    /// its output, with the epilogue and this image's shortcut.
    #[allow(clippy::type_complexity)]
    pub transform_output: fn(
        &Geometry,
        &mut Scratch,
        usize,
        usize,
        &mut [MaybeUninit<f32>],
        &Epilogue,
        Option<&[f32]>,
    ),
}

/// F(2x2, 3x3)'s parts.
const F2X2: Minimal = Minimal {
    m: 2,
    wide: WIDE,
    transform_weights,
    transform_input,
    transform_output,
};

/// The forward convolution by `f`, for a convolution that [`fits`]: `x` is `[batch, in, h, w]`,
/// `weight` `[out, in, 3, 3]`; returns `[batch, out, oh, ow]` with `epilogue` applied.
pub(super) fn forward_by(
    f: &Minimal,
    g: &Geometry,
    x: &[f32],
    weight: &[f32],
    epilogue: Epilogue,
) -> Vec<f32> {
    assert!(fits(g), "not a Winograd convolution: {g:?}");
    let (cin, cout) = (g.in_channels, g.out_channels);
    let products = (f.m + 2) * (f.m + 2);
    let t_len: usize = g.output().iter().map(|side| side.div_ceil(f.m)).product();
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
    if g.batch == 0 {
        return Vec::new();
    }
    let u = (f.transform_weights)(g, weight);
    // Images in chunks, one chunk's tiles side by side in each product: `(m + 2)²` products of
    // `[out, in] x [in, chunk x tiles]`, wide enough for gemm to run at speed when an image
    // has few tiles (CIFAR's last stage: 16 of 2x2), while the chunks still feed every thread.
    let chunk = (f.wide / t_len).clamp(1, g.batch.div_ceil(rayon::current_num_threads()));
    let mut y = uninit(g.batch * image);
    y.par_chunks_mut(chunk * image)
        .zip(x.par_chunks(chunk * in_image))
        .enumerate()
        .for_each(|(k, (y_k, x_k))| {
            let images = x_k.len() / in_image;
            let cols = images * t_len;
            SCRATCH.with_borrow_mut(|s| {
                s.v.resize(products * cols * cin, 0.0);
                s.m.resize(products * cols * cout, 0.0);
                for (i, x_n) in x_k.chunks_exact(in_image).enumerate() {
                    (f.transform_input)(g, x_n, s, cols, i * t_len);
                }
                for xi in 0..products {
                    let u_xi = &u[xi * cout * cin..][..cout * cin];
                    let v_xi = &s.v[xi * cols * cin..][..cols * cin];
                    let m_xi = &mut s.m[xi * cols * cout..][..cols * cout];
                    product_nt(cout, cols, cin, m_xi, u_xi, v_xi);
                }
                for (i, y_n) in y_k.chunks_exact_mut(image).enumerate() {
                    let n = k * chunk + i;
                    let residual_n = residual.map(|r| &r[n * image..(n + 1) * image]);
                    (f.transform_output)(g, s, cols, i * t_len, y_n, &epilogue, residual_n);
                }
            });
        });
    // SAFETY: `transform_output` wrote every output element of every image: the tiles cover
    // the output (their count rounds up), and `write_output` writes every element of `y_n`.
    unsafe { assume_init(y) }
}

/// `A dy Aᵀ` of every 2x2 tile of one image's output gradient `dy_n` (`[out, oh, ow]`; zeros
/// where a tile passes the output's edge) into its rows of `s.m` (`[16][cols][out]`, this
/// image's tiles at rows `first..`), the gradient of the products `M`: the adjoint of
/// [`transform_output`]'s `Aᵀ m A`, channels innermost as [`transform_input`].
fn transform_output_grad(g: &Geometry, dy_n: &[f32], s: &mut Scratch, cols: usize, first: usize) {
    let [th, tw] = tiles(g);
    let k = g.out_channels;
    let (rows, width) = (2 * th, 2 * tw);
    channels_innermost(dy_n, k, g.output(), &mut s.padded, [rows, width], 0);
    // E[j][r][t] = (dy Aᵀ)[j] of row r, tile column t: A's rows (1, 0), (1, 1), (1, -1),
    // (0, -1) combine the tile's two columns.
    let (plane, block) = (rows * tw * k, tw * k);
    s.half.resize(4 * plane, 0.0);
    let (e0, rest) = s.half.split_at_mut(plane);
    let (e1, rest) = rest.split_at_mut(plane);
    let (e2, e3) = rest.split_at_mut(plane);
    for r in 0..rows {
        let src = &s.padded[r * width * k..][..width * k];
        for t in 0..tw {
            let d = |b: usize| &src[(2 * t + b) * k..][..k];
            let at = r * block + t * k;
            e0[at..at + k].copy_from_slice(d(0));
            add(&mut e1[at..at + k], d(0), d(1));
            sub(&mut e2[at..at + k], d(0), d(1));
            e3[at..at + k]
                .iter_mut()
                .zip(d(1))
                .for_each(|(o, v)| *o = -v);
        }
    }
    // M[i][j] for a row of tiles: the same combination of rows 2ty and 2ty + 1 of E[j].
    for ty in 0..th {
        for j in 0..4 {
            let e = |a: usize| &s.half[j * plane + (2 * ty + a) * block..][..block];
            let m = |i: usize| ((i * 4 + j) * cols + first + ty * tw) * k;
            s.m[m(0)..m(0) + block].copy_from_slice(e(0));
            add(&mut s.m[m(1)..m(1) + block], e(0), e(1));
            sub(&mut s.m[m(2)..m(2) + block], e(0), e(1));
            s.m[m(3)..m(3) + block]
                .iter_mut()
                .zip(e(1))
                .for_each(|(o, v)| *o = -v);
        }
    }
}

/// The weight gradient by F(2x2, 3x3), for a convolution that [`fits`]: `x` is
/// `[batch, in, h, w]`, `dy` `[batch, out, oh, ow]`; returns `[out, in, 3, 3]`.
///
/// The adjoint of [`forward`]: with `M = U ⊙ V` per tile, `dU = Σ_tiles (A dy Aᵀ) ⊙ V` (sixteen
/// products `[out, tiles] x [tiles, in]`, long sums that gemm runs at speed) and `dg = Gᵀ dU G`.
/// 16 multiplies per tile and channel pair instead of 36. Images are summed in groups fixed by
/// the layer's shape (not by the threads), each group's partial `dU` added in group order: the
/// same bits whatever the threads, as the direct kernel's weight gradient.
pub fn weight_grad(g: &Geometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    assert!(fits(g), "not a Winograd convolution: {g:?}");
    let (cin, cout) = (g.in_channels, g.out_channels);
    let [th, tw] = tiles(g);
    let t_len = th * tw;
    let (in_image, out_image) = (cin * g.input[0] * g.input[1], cout * g.out_pixels());
    assert_eq!(
        x.len(),
        g.batch * in_image,
        "input size does not match {g:?}"
    );
    assert_eq!(
        dy.len(),
        g.batch * out_image,
        "gradient size does not match {g:?}"
    );
    let len = 16 * cout * cin;
    let mut du = vec![0.0; len];
    if g.batch > 0 {
        // Groups of about 4 x WIDE tiles (long sums for the products), and at least 8 of them
        // in a large batch (work for every thread of a typical machine).
        let group = (4 * WIDE / t_len).clamp(1, g.batch.div_ceil(8));
        let groups: Vec<(&[f32], &[f32])> = x
            .chunks(group * in_image)
            .zip(dy.chunks(group * out_image))
            .collect();
        for wave in groups.chunks(rayon::current_num_threads()) {
            let partials: Vec<Vec<f32>> = wave
                .par_iter()
                .map(|&(xs, dys)| {
                    let cols = xs.len() / in_image * t_len;
                    SCRATCH.with_borrow_mut(|s| {
                        s.v.resize(16 * cols * cin, 0.0);
                        s.m.resize(16 * cols * cout, 0.0);
                        let images = xs.chunks_exact(in_image).zip(dys.chunks_exact(out_image));
                        for (i, (x_n, dy_n)) in images.enumerate() {
                            transform_input(g, x_n, s, cols, i * t_len);
                            transform_output_grad(g, dy_n, s, cols, i * t_len);
                        }
                        let mut partial = vec![0.0; len];
                        for (xi, du_xi) in partial.chunks_exact_mut(cout * cin).enumerate() {
                            let m_xi = &s.m[xi * cols * cout..][..cols * cout];
                            let v_xi = &s.v[xi * cols * cin..][..cols * cin];
                            product_tn(cout, cin, cols, du_xi, m_xi, v_xi);
                        }
                        partial
                    })
                })
                .collect();
            for partial in &partials {
                du.iter_mut().zip(partial).for_each(|(a, b)| *a += b);
            }
        }
    }
    // dg = Gᵀ dU G, Gᵀ's rows (1, ½, ½, 0), (0, ½, -½, 0), (0, ½, ½, 1).
    let g_t = |d: [f32; 4]| {
        let (sum, diff) = (0.5 * (d[1] + d[2]), 0.5 * (d[1] - d[2]));
        [d[0] + sum, diff, sum + d[3]]
    };
    let mut dw = vec![0.0; cout * cin * 9];
    for o in 0..cout {
        for c in 0..cin {
            let at = |i: usize, j: usize| du[((i * 4 + j) * cout + o) * cin + c];
            // Gᵀ dU, a column at a time (3 of its 4 values), then (Gᵀ dU) G a row at a time.
            let columns = [0, 1, 2, 3].map(|j| g_t([at(0, j), at(1, j), at(2, j), at(3, j)]));
            let w = &mut dw[(o * cin + c) * 9..][..9];
            for (i, row) in w.chunks_exact_mut(3).enumerate() {
                row.copy_from_slice(&g_t(columns.map(|column| column[i])));
            }
        }
    }
    dw
}

#[cfg(test)]
pub(super) mod tests {
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
        check_odd_shapes(forward, 2e-6);
    }

    /// `forward` against [`reference`] on odd shapes: sizes not multiples of the tile (partial
    /// last tiles), channels not multiples of 8, batch 1, the 8x8 last CIFAR stage, padding 0,
    /// 1 and 2 (the input gradient of padding 0 convolves with 2); on 1 and 2 threads (chunks
    /// of several images, tiles of image i at columns i x tiles, and a short last chunk).
    pub(in super::super) fn check_odd_shapes(
        forward: fn(&Geometry, &[f32], &[f32], Epilogue) -> Vec<f32>,
        per_term: f64,
    ) {
        let shapes = [
            (1, 8, [7, 7], 5, 1),
            (2, 13, [9, 6], 11, 1),
            (3, 16, [8, 8], 16, 1),
            (2, 10, [5, 7], 3, 0),
            (1, 9, [6, 5], 7, 2),
            (2, 64, [8, 8], 64, 1),
            (5, 9, [6, 7], 4, 1),
            (5, 9, [11, 10], 4, 1),
        ];
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| check_shapes(&shapes, forward, per_term));
        }
    }

    /// `forward` against [`reference`] on each `(batch, in, input, out, padding)`, with and
    /// without ReLU, within `per_term` times the number of products summed (`9 · in`).
    fn check_shapes(
        shapes: &[(usize, usize, [usize; 2], usize, usize)],
        forward: fn(&Geometry, &[f32], &[f32], Epilogue) -> Vec<f32>,
        per_term: f64,
    ) {
        for &(batch, cin, input, cout, padding) in shapes {
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
                    let tolerance = per_term * (9 * cin) as f64;
                    assert!(
                        (y as f64 - e).abs() <= tolerance,
                        "{g:?} relu {relu}: {y} vs {e} at {at}"
                    );
                }
            }
        }
    }

    /// The weight gradient in f64, from its definition: `dw[o][c][ki][kj] = Σ dy · x` over
    /// images and output pixels.
    fn weight_grad_reference(g: &Geometry, x: &[f32], dy: &[f32]) -> Vec<f64> {
        let [h, wd] = g.input;
        let [oh, ow] = g.output();
        let (cin, cout) = (g.in_channels, g.out_channels);
        let mut dw = vec![0.0; cout * cin * 9];
        for n in 0..g.batch {
            for o in 0..cout {
                for c in 0..cin {
                    for ki in 0..3 {
                        for kj in 0..3 {
                            let mut sum = 0.0f64;
                            for i in 0..oh {
                                for j in 0..ow {
                                    let (yy, xx) = (
                                        (i + ki) as isize - g.padding as isize,
                                        (j + kj) as isize - g.padding as isize,
                                    );
                                    if yy < 0 || xx < 0 || yy >= h as isize || xx >= wd as isize {
                                        continue;
                                    }
                                    let xv =
                                        x[((n * cin + c) * h + yy as usize) * wd + xx as usize];
                                    let dv = dy[((n * cout + o) * oh + i) * ow + j];
                                    sum += xv as f64 * dv as f64;
                                }
                            }
                            dw[((o * cin + c) * 3 + ki) * 3 + kj] += sum;
                        }
                    }
                }
            }
        }
        dw
    }

    fn geometry(
        batch: usize,
        cin: usize,
        input: [usize; 2],
        cout: usize,
        padding: usize,
    ) -> Geometry {
        Geometry {
            batch,
            in_channels: cin,
            input,
            out_channels: cout,
            kernel: 3,
            stride: 1,
            padding,
            groups: 1,
        }
    }

    #[test]
    fn weight_gradient_equals_the_definition_on_odd_shapes() {
        // As the forward's shapes, and a batch summed in several groups with a short last one
        // (37 images of 9 tiles: groups of 5).
        let shapes = [
            (1, 8, [7, 7], 5, 1),
            (2, 13, [9, 6], 11, 1),
            (2, 10, [5, 7], 3, 0),
            (1, 9, [6, 5], 7, 2),
            (2, 64, [8, 8], 64, 1),
            (37, 5, [6, 6], 4, 1),
        ];
        for (batch, cin, input, cout, padding) in shapes {
            let g = geometry(batch, cin, input, cout, padding);
            let x = values(batch * cin * input[0] * input[1], 5);
            let dy = values(batch * cout * g.out_pixels(), 6);
            let expected = weight_grad_reference(&g, &x, &dy);
            let dw = weight_grad(&g, &x, &dy);
            // Sums of batch x output pixels products of values in [-1, 1].
            let tolerance = 2e-6 * (batch * g.out_pixels()) as f64;
            for (at, (&a, &e)) in dw.iter().zip(&expected).enumerate() {
                assert!(
                    (a as f64 - e).abs() <= tolerance,
                    "{g:?}: {a} vs {e} at {at}"
                );
            }
        }
    }

    #[test]
    fn weight_gradient_has_the_same_bits_whatever_the_threads() {
        let g = geometry(37, 5, [6, 6], 4, 1);
        let x = values(g.batch * 5 * 36, 7);
        let dy = values(g.batch * 4 * g.out_pixels(), 8);
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
