//! Strided matrix transposition, the layout changes of Winograd's transforms (`[c][h][w]` to
//! channels innermost and back): in 8x8 blocks of AVX registers (eight loads, 24 shuffles,
//! eight stores per 64 values) where the processor has AVX, element by element elsewhere and
//! at the edges. A scalar transposition moves one value per load and store, with stores (or
//! loads) a cache line apart.

/// `dst[j * dst_stride + i] = src[i * src_stride + j]` for `i < rows`, `j < cols`: the
/// `rows x cols` matrix at `src` (rows `src_stride` apart) written transposed at `dst` (rows
/// `dst_stride` apart). Panics if either slice is too short for its matrix.
pub fn transpose(
    src: &[f32],
    src_stride: usize,
    [rows, cols]: [usize; 2],
    dst: &mut [f32],
    dst_stride: usize,
) {
    if rows == 0 || cols == 0 {
        return;
    }
    assert!(
        src_stride >= cols && src.len() >= (rows - 1) * src_stride + cols,
        "transpose: source of {} values too short for {rows}x{cols}, stride {src_stride}",
        src.len()
    );
    assert!(
        dst_stride >= rows && dst.len() >= (cols - 1) * dst_stride + rows,
        "transpose: destination of {} values too short for {cols}x{rows}, stride {dst_stride}",
        dst.len()
    );
    #[cfg(target_arch = "x86_64")]
    if rows >= 8 && cols >= 8 && std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: AVX is present, and the bounds were checked above.
        unsafe { avx::transpose(src, src_stride, [rows, cols], dst, dst_stride) };
        return;
    }
    scalar(src, src_stride, [0, rows], [0, cols], dst, dst_stride);
}

/// The rows `r0..r1` and columns `c0..c1` of [`transpose`], element by element.
fn scalar(
    src: &[f32],
    src_stride: usize,
    [r0, r1]: [usize; 2],
    [c0, c1]: [usize; 2],
    dst: &mut [f32],
    dst_stride: usize,
) {
    for i in r0..r1 {
        let row = &src[i * src_stride..];
        for j in c0..c1 {
            dst[j * dst_stride + i] = row[j];
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::*;

    /// [`super::transpose`] with AVX's 8x8 blocks, the edges element by element.
    ///
    /// # Safety
    /// The processor has AVX; the slices hold their matrices (checked by the caller).
    #[target_feature(enable = "avx")]
    pub unsafe fn transpose(
        src: &[f32],
        src_stride: usize,
        [rows, cols]: [usize; 2],
        dst: &mut [f32],
        dst_stride: usize,
    ) {
        let (full_rows, full_cols) = (rows / 8 * 8, cols / 8 * 8);
        for i in (0..full_rows).step_by(8) {
            for j in (0..full_cols).step_by(8) {
                // SAFETY: rows i..i + 8 and columns j..j + 8 lie inside both matrices.
                unsafe {
                    block(
                        src.as_ptr().add(i * src_stride + j),
                        src_stride,
                        dst.as_mut_ptr().add(j * dst_stride + i),
                        dst_stride,
                    )
                };
            }
        }
        super::scalar(
            src,
            src_stride,
            [0, full_rows],
            [full_cols, cols],
            dst,
            dst_stride,
        );
        super::scalar(
            src,
            src_stride,
            [full_rows, rows],
            [0, cols],
            dst,
            dst_stride,
        );
    }

    /// One 8x8 block: eight rows loaded, interleaved in pairs (`unpack`), in fours
    /// (`shuffle`), then their 128-bit halves exchanged (`permute2f128`): row `j` of the
    /// result is column `j` of the block.
    ///
    /// # Safety
    /// Eight floats readable at `src + i·src_stride` and writable at `dst + j·dst_stride`,
    /// `i, j < 8`.
    #[target_feature(enable = "avx")]
    #[inline]
    unsafe fn block(src: *const f32, src_stride: usize, dst: *mut f32, dst_stride: usize) {
        // SAFETY: the caller's bounds.
        let r = unsafe {
            [
                _mm256_loadu_ps(src),
                _mm256_loadu_ps(src.add(src_stride)),
                _mm256_loadu_ps(src.add(2 * src_stride)),
                _mm256_loadu_ps(src.add(3 * src_stride)),
                _mm256_loadu_ps(src.add(4 * src_stride)),
                _mm256_loadu_ps(src.add(5 * src_stride)),
                _mm256_loadu_ps(src.add(6 * src_stride)),
                _mm256_loadu_ps(src.add(7 * src_stride)),
            ]
        };
        let t0 = _mm256_unpacklo_ps(r[0], r[1]);
        let t1 = _mm256_unpackhi_ps(r[0], r[1]);
        let t2 = _mm256_unpacklo_ps(r[2], r[3]);
        let t3 = _mm256_unpackhi_ps(r[2], r[3]);
        let t4 = _mm256_unpacklo_ps(r[4], r[5]);
        let t5 = _mm256_unpackhi_ps(r[4], r[5]);
        let t6 = _mm256_unpacklo_ps(r[6], r[7]);
        let t7 = _mm256_unpackhi_ps(r[6], r[7]);
        let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        let columns = [
            _mm256_permute2f128_ps::<0x20>(s0, s4),
            _mm256_permute2f128_ps::<0x20>(s1, s5),
            _mm256_permute2f128_ps::<0x20>(s2, s6),
            _mm256_permute2f128_ps::<0x20>(s3, s7),
            _mm256_permute2f128_ps::<0x31>(s0, s4),
            _mm256_permute2f128_ps::<0x31>(s1, s5),
            _mm256_permute2f128_ps::<0x31>(s2, s6),
            _mm256_permute2f128_ps::<0x31>(s3, s7),
        ];
        for (j, column) in columns.into_iter().enumerate() {
            // SAFETY: the caller's bounds.
            unsafe { _mm256_storeu_ps(dst.add(j * dst_stride), column) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposes_every_shape_as_the_definition() {
        for rows in [1, 3, 8, 9, 16, 21] {
            for cols in [1, 5, 8, 13, 24] {
                let (src_stride, dst_stride) = (cols + 3, rows + 5);
                let src: Vec<f32> = (0..rows * src_stride).map(|v| v as f32).collect();
                let mut dst = vec![-1.0; cols * dst_stride];
                transpose(&src, src_stride, [rows, cols], &mut dst, dst_stride);
                for j in 0..cols {
                    for i in 0..dst_stride {
                        let expected = if i < rows {
                            src[i * src_stride + j]
                        } else {
                            -1.0
                        };
                        assert_eq!(
                            dst[j * dst_stride + i],
                            expected,
                            "{rows}x{cols} at {i},{j}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "too short")]
    fn a_short_destination_is_refused() {
        let src = vec![0.0; 64];
        let mut dst = vec![0.0; 63];
        transpose(&src, 8, [8, 8], &mut dst, 8);
    }
}
