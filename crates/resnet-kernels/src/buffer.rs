//! Output buffers that the kernels write once, element by element, without zero-filling them
//! first (a zero-fill is a whole extra pass over every activation).

use std::mem::{ManuallyDrop, MaybeUninit};

/// `len` uninitialised floats (zeros on aarch64, where gemm's optional Apple AMX kernels load
/// the destination of edge tiles even when told not to read it).
pub fn uninit(len: usize) -> Vec<MaybeUninit<f32>> {
    if cfg!(target_arch = "aarch64") {
        return vec![MaybeUninit::new(0.0); len];
    }
    let mut v = Vec::with_capacity(len);
    // SAFETY: `MaybeUninit` needs no initialisation, and the capacity is `len`.
    unsafe { v.set_len(len) };
    v
}

/// The floats of `v`.
///
/// # Safety
/// Every element of `v` has been written.
pub unsafe fn assume_init(v: Vec<MaybeUninit<f32>>) -> Vec<f32> {
    let mut v = ManuallyDrop::new(v);
    // SAFETY: same allocation, length and capacity; `MaybeUninit<f32>` has `f32`'s layout, and
    // the caller guarantees every element is initialised.
    unsafe { Vec::from_raw_parts(v.as_mut_ptr().cast(), v.len(), v.capacity()) }
}

/// `values` seen as possibly uninitialised, for code that writes into either kind of buffer.
///
/// # Safety
/// Only initialised values (floats) may be written through the result: `values` must stay
/// initialised.
pub unsafe fn as_uninit(values: &mut [f32]) -> &mut [MaybeUninit<f32>] {
    // SAFETY: same layout; the caller keeps the contents initialised.
    unsafe { &mut *(values as *mut [f32] as *mut [MaybeUninit<f32>]) }
}
