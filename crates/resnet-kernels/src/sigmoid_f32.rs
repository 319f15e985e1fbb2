//! The logistic sigmoid in f32 on the CPU, for flex: the opening of a Highway gate
//! (`resnet-model`'s `blocks::gate`). burn's flex backend evaluates it one element at a time on
//! one thread with libm's `expf` (11 ns an element here; in a gated ResNet-56's training step,
//! forward and backward, a sixth of perf's CPU samples, and more of the wall time since the rest
//! runs on every core); this pass is parallel and written so that the compiler vectorises it (no
//! calls, no branches), and so is its backward pass.

use rayon::prelude::*;

use super::buffer::{assume_init, uninit};

/// Elements per rayon task.
const CHUNK: usize = 1 << 14;

/// `e^z` for `z` in [-87, 88] (where the result is a normal float): `2^n e^r` with `n` the
/// nearest integer to `z / ln 2` and `|r| <= ln 2 / 2`, `e^r` by Cephes' `expf` polynomial
/// (relative error about 1e-7).
#[inline(always)]
fn exp_in_range(z: f32) -> f32 {
    // Adding 1.5 * 2^23 rounds to the nearest integer, which lands in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    let t = z * std::f32::consts::LOG2_E + ROUND;
    let n = t - ROUND;
    let r = z - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let p = 1.987_569_2e-4_f32;
    let p = p * r + 1.398_2e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 0.166_666_65;
    let p = p * r + 0.5;
    let e_r = p * r * r + r + 1.0;
    // n is in [-126, 127]: 2^n as a float's exponent field.
    let n = (t.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    e_r * f32::from_bits((n.wrapping_add(127) as u32) << 23)
}

/// `1 / (1 + e^-x)`; saturates to 1 above x = 87 and to 1 / (1 + e^88) (about 6e-39) below
/// x = -88 (NaN stays NaN).
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp_in_range((-x).clamp(-87.0, 88.0)))
}

/// The sigmoid of every element of `x`.
pub fn forward(x: &[f32]) -> Vec<f32> {
    let mut y = uninit(x.len());
    y.par_chunks_mut(CHUNK)
        .zip(x.par_chunks(CHUNK))
        .for_each(|(y, x)| {
            for (y, &x) in y.iter_mut().zip(x) {
                y.write(sigmoid(x));
            }
        });
    // SAFETY: the chunks cover `y`, and every element of each was written.
    unsafe { assume_init(y) }
}

/// The gradient of the input from the output `y` and its gradient `dy`: `dy y (1 - y)`.
pub fn backward(y: &[f32], dy: &[f32]) -> Vec<f32> {
    assert_eq!(y.len(), dy.len(), "output and gradient sizes");
    let mut dx = uninit(y.len());
    dx.par_chunks_mut(CHUNK)
        .zip(y.par_chunks(CHUNK).zip(dy.par_chunks(CHUNK)))
        .for_each(|(dx, (y, dy))| {
            for ((dx, &y), &dy) in dx.iter_mut().zip(y).zip(dy) {
                dx.write(dy * y * (1.0 - y));
            }
        });
    // SAFETY: the chunks cover `dx` (as long as `y` and `dy`), every element was written.
    unsafe { assume_init(dx) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(x: f32) -> f64 {
        1.0 / (1.0 + (-(x as f64)).exp())
    }

    #[test]
    fn matches_the_exact_sigmoid_over_the_float_range() {
        let mut worst = 0.0f64;
        // Every 1009th float bit pattern between -100 and 100, both signs, zero and tiny values.
        for bits in (0..=100f32.to_bits()).step_by(1009) {
            for x in [f32::from_bits(bits), -f32::from_bits(bits)] {
                let (got, want) = (sigmoid(x) as f64, exact(x));
                // Relative error where the value is a normal float; absolute below.
                let error = (got - want).abs() / want.max(1e-30);
                if want > 1e-37 {
                    worst = worst.max(error);
                } else {
                    assert!(got < 1e-37, "sigmoid({x}) = {got}, want {want}");
                }
            }
        }
        assert!(worst < 5e-7, "worst relative error {worst:e}");
    }

    #[test]
    fn saturates_and_keeps_nan() {
        assert_eq!(sigmoid(200.0), 1.0);
        assert_eq!(sigmoid(f32::INFINITY), 1.0);
        assert!(sigmoid(-200.0) < 1e-37 && sigmoid(-200.0) >= 0.0);
        assert!(sigmoid(f32::NEG_INFINITY) < 1e-37);
        assert!(sigmoid(f32::NAN).is_nan());
        assert_eq!(sigmoid(0.0), 0.5);
    }

    #[test]
    fn slices_of_any_length_go_through_whole() {
        for len in [0, 1, 7, CHUNK - 1, CHUNK + 3, 3 * CHUNK] {
            let x: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin() * 9.0).collect();
            let y = forward(&x);
            assert_eq!(y.len(), len);
            for (&x, &y) in x.iter().zip(&y) {
                assert!((y as f64 - exact(x)).abs() < 1e-6, "{x} -> {y}");
            }
            let dy: Vec<f32> = (0..len).map(|i| i as f32 % 3.0 - 1.0).collect();
            let dx = backward(&y, &dy);
            for ((&x, &dy), &dx) in x.iter().zip(&dy).zip(&dx) {
                let s = exact(x);
                assert!((dx as f64 - dy as f64 * s * (1.0 - s)).abs() < 1e-6);
            }
        }
    }
}
