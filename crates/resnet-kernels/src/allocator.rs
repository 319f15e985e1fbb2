//! glibc's malloc tuned for a training step's allocations.
//!
//! A training step allocates and frees the same few hundred megabytes every iteration
//! (activations, gradients, im2col matrices). With glibc's default thresholds, a freed block
//! of a few megabytes is returned to the kernel (munmap, or a trim of the heap's top) and the
//! next step's allocation of the same size faults its pages in again, zero-filled: measured on
//! a 2-core Zen 5 with `benches/backends.rs`, ResNet-20's training step (batch 128) spent
//! about 10% of its time in page faults and ran at 290-305 images/s, against 405-446 with
//! the thresholds below (ResNet-50's, batch 16 at 224x224: 4.8 against 5.5). The peak
//! resident memory is unchanged; what changes is that the process keeps the memory it
//! peaked at instead of handing it back between steps.
//!
//! The settings (`mallopt`): blocks up to 32 MiB (glibc's largest threshold on 64-bit) come
//! from the heap rather than their own mapping, and up to 2 GiB free at the heap's top stay
//! mapped. They are made once, the first time a flex kernel runs, on glibc targets only;
//! `RESNET_MALLOC_DEFAULTS=1` in the environment leaves glibc's defaults as they are.

/// Environment variable that keeps glibc's malloc settings untouched.
pub const KEEP_DEFAULTS_ENV: &str = "RESNET_MALLOC_DEFAULTS";

/// Applies the settings above once per process (a no-op after the first call, and off glibc).
pub fn tune_once() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            if std::env::var_os(KEEP_DEFAULTS_ENV).is_some_and(|v| !v.is_empty() && v != "0") {
                return;
            }
            // SAFETY: mallopt only changes malloc's thresholds; any value is valid to pass
            // (glibc refuses, returning 0, those out of its range).
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
                libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
            }
        });
    }
}
