//! Which algorithm computes the stride-1 3x3 convolutions on flex: the direct kernel (im2col +
//! gemm, the same sums as PyTorch's), Winograd's F(2x2, 3x3) or F(4x4, 3x3) (2.25x or 4x fewer
//! multiplies, a few more roundings), or the measured rule that picks per layer.
//!
//! The process-wide choice is the `RESNET_CONV` environment variable (`direct`, `winograd`,
//! `winograd4x4`, anything else or unset: the rule), read once, at the first convolution;
//! [`with`] overrides it on one thread for the length of a closure, as PyTorch's
//! `torch.backends.cudnn.flags(...)` context does for cuDNN. They all give the same function
//! up to rounding, but a network's
//! *gradient* is not continuous: wherever a ReLU's input is within rounding of zero, which side
//! it falls on changes every gradient computed through it. A training step is indifferent to
//! that; a test that compares one step's gradients with PyTorch's to 1e-3 is not, and runs on
//! [`ConvAlgorithm::Direct`] (`docs/profile.md`, "Why Winograd's stage-1 gradients drifted").

use std::cell::Cell;
use std::sync::OnceLock;

/// The algorithm of the stride-1 3x3 convolutions on flex (other convolutions, and other
/// backends, are unaffected).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvAlgorithm {
    /// Per layer, whichever was measured faster on this kind of processor (`docs/profile.md`):
    /// Winograd for enough channels and tiles, the direct kernel for the rest (strided, 1x1,
    /// grouped, small batches). The default.
    Measured,
    /// The direct kernel everywhere (`RESNET_CONV=direct`): the same sums as PyTorch's, in
    /// another order.
    Direct,
    /// Winograd's F(2x2, 3x3) wherever it can compute the convolution (`RESNET_CONV=winograd`).
    Winograd,
    /// Winograd's F(4x4, 3x3) for the forward pass and input gradient wherever it can compute
    /// the convolution, F(2x2, 3x3) for the weight gradient (`RESNET_CONV=winograd4x4`): 4x
    /// fewer multiplies, larger transform coefficients (up to 8).
    Winograd4x4,
}

impl ConvAlgorithm {
    /// Every algorithm.
    pub const ALL: [ConvAlgorithm; 4] = [
        ConvAlgorithm::Measured,
        ConvAlgorithm::Direct,
        ConvAlgorithm::Winograd,
        ConvAlgorithm::Winograd4x4,
    ];

    /// Its name, which `RESNET_CONV` takes: `measured` (also what any other value, or none,
    /// gives), `direct`, `winograd`, `winograd4x4`.
    pub fn name(self) -> &'static str {
        match self {
            ConvAlgorithm::Measured => "measured",
            ConvAlgorithm::Direct => "direct",
            ConvAlgorithm::Winograd => "winograd",
            ConvAlgorithm::Winograd4x4 => "winograd4x4",
        }
    }
}

thread_local! {
    static OVERRIDE: Cell<Option<ConvAlgorithm>> = const { Cell::new(None) };
}

/// The algorithm in force on this thread: [`with`]'s, or `RESNET_CONV`'s.
pub fn current() -> ConvAlgorithm {
    OVERRIDE.get().unwrap_or_else(from_environment)
}

/// Runs `f` with the stride-1 3x3 convolutions computed by `algorithm` on this thread (the
/// convolutions `f` calls, forward and backward, when they run on this thread: burn's
/// autodiff does). The previous choice is restored afterwards, also when `f` panics. A rayon
/// worker that, inside `f`, steals an unrelated job runs that job under `algorithm` too.
///
/// ```
/// use resnet_kernels::algorithm::{self, ConvAlgorithm};
///
/// let inside = algorithm::with(ConvAlgorithm::Direct, algorithm::current);
/// assert_eq!(inside, ConvAlgorithm::Direct);
/// ```
pub fn with<R>(algorithm: ConvAlgorithm, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<ConvAlgorithm>);
    impl Drop for Restore {
        fn drop(&mut self) {
            OVERRIDE.set(self.0);
        }
    }
    let _restore = Restore(OVERRIDE.replace(Some(algorithm)));
    f()
}

/// `RESNET_CONV`'s choice, read once.
fn from_environment() -> ConvAlgorithm {
    static CHOICE: OnceLock<ConvAlgorithm> = OnceLock::new();
    *CHOICE.get_or_init(|| {
        let name = std::env::var("RESNET_CONV").unwrap_or_default();
        ConvAlgorithm::ALL
            .into_iter()
            .find(|algorithm| algorithm.name() == name)
            .unwrap_or(ConvAlgorithm::Measured)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_nests_and_restores_even_after_a_panic() {
        let outside = current();
        with(ConvAlgorithm::Winograd, || {
            assert_eq!(current(), ConvAlgorithm::Winograd);
            with(ConvAlgorithm::Direct, || {
                assert_eq!(current(), ConvAlgorithm::Direct)
            });
            assert_eq!(current(), ConvAlgorithm::Winograd);
        });
        let panicked = std::panic::catch_unwind(|| {
            with(ConvAlgorithm::Direct, || panic!("inside"));
        });
        assert!(panicked.is_err());
        assert_eq!(current(), outside);
    }
}
