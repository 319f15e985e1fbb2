//! Ctrl-C (SIGINT) or SIGTERM during a run: the step in progress finishes, a checkpoint is
//! written, and the run stops with the command that resumes it; a second signal stops the
//! process at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use signal_hook::SigId;
use signal_hook::consts::{SIGINT, SIGTERM};

/// The exit status of a process stopped by a second signal (128 + SIGINT, as a shell reports).
const STOPPED_AT_ONCE: i32 = 130;

/// Whether a stop was asked for, while a run holds it; the handlers go with it.
pub struct Interrupt {
    requested: Arc<AtomicBool>,
    handlers: Vec<SigId>,
}

impl Interrupt {
    /// Catches SIGINT and SIGTERM until dropped: the first sets [`requested`](Self::requested),
    /// a second one exits the process at once.
    pub fn catch() -> std::io::Result<Self> {
        let requested = Arc::new(AtomicBool::new(false));
        let mut handlers = Vec::new();
        for signal in [SIGINT, SIGTERM] {
            // Registered first, so it sees the flag as the previous signal left it.
            handlers.push(signal_hook::flag::register_conditional_shutdown(
                signal,
                STOPPED_AT_ONCE,
                Arc::clone(&requested),
            )?);
            handlers.push(signal_hook::flag::register(signal, Arc::clone(&requested))?);
        }
        Ok(Self {
            requested,
            handlers,
        })
    }

    /// Whether SIGINT or SIGTERM arrived.
    pub fn requested(&self) -> bool {
        self.requested.load(Ordering::Relaxed)
    }
}

impl Drop for Interrupt {
    fn drop(&mut self) {
        for id in self.handlers.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}
