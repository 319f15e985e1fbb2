//! Seeded mutation fuzzing of file readers: bit flips, truncations and inflated length
//! fields of a valid file, each case run under `catch_unwind` with the largest single
//! allocation it asked for measured (install [`PeakAllocator`] as the test binary's global
//! allocator).

use std::alloc::{GlobalAlloc, Layout, System};
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// No reader of this project's small fixtures needs a single allocation this large; a request
/// above it was sized from a damaged length field, and the process is stopped at once (with
/// the size printed) rather than left to try to allocate gigabytes.
pub const ALLOCATION_LIMIT: usize = 1 << 30;

static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, recording the largest single request since [`take_peak`] and
/// aborting on one above [`ALLOCATION_LIMIT`].
pub struct PeakAllocator;

// SAFETY: every call is forwarded to `System` unchanged; the bookkeeping only reads the size.
unsafe impl GlobalAlloc for PeakAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn record(size: usize) {
    if size > ALLOCATION_LIMIT {
        // Inside the allocator nothing may allocate: the digits are written by hand.
        let mut digits = [0u8; 20];
        let mut n = size;
        let mut i = digits.len();
        while n > 0 {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
        let stderr = std::io::stderr();
        let mut lock = stderr.lock();
        let _ = std::io::Write::write_all(&mut lock, b"fuzz: an allocation of ");
        let _ = std::io::Write::write_all(&mut lock, &digits[i..]);
        let _ = std::io::Write::write_all(
            &mut lock,
            b" bytes was asked for: sized from a damaged length field\n",
        );
        std::process::abort();
    }
    PEAK.fetch_max(size, Ordering::Relaxed);
}

/// The largest single allocation since the last call (then reset).
pub fn take_peak() -> usize {
    PEAK.swap(0, Ordering::Relaxed)
}

/// splitmix64: a small seeded generator (the cases are a function of the seed alone).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// A length or size field of a format: `width` bytes at `offset`, how they are written.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Where it starts.
    pub offset: usize,
    /// How many bytes.
    pub width: usize,
    /// How the number is written.
    pub encoding: Encoding,
}

/// How a length field writes its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Little-endian binary.
    Le,
    /// Big-endian binary.
    Be,
    /// ASCII digits (tar's octal sizes, JSON's numbers).
    Digits,
}

/// The kinds of damage, one third of the cases each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Damage {
    /// 1 to 8 random bits flipped.
    BitFlips,
    /// Cut at a random length (the empty file included).
    Truncation,
    /// A length field (one of the format's, else any aligned 4 bytes) set to a huge value.
    InflatedLength,
}

/// Case `index` of the mutations of `valid`: the damaged bytes and the kind of damage.
/// `fields` are the format's length fields (may be empty).
pub fn mutate(valid: &[u8], fields: &[Field], rng: &mut Rng, index: usize) -> (Vec<u8>, Damage) {
    let mut bytes = valid.to_vec();
    let damage = [Damage::BitFlips, Damage::Truncation, Damage::InflatedLength][index % 3];
    match damage {
        Damage::BitFlips => {
            for _ in 0..1 + rng.below(8) {
                let bit = rng.below(bytes.len() * 8);
                bytes[bit / 8] ^= 1 << (bit % 8);
            }
        }
        Damage::Truncation => bytes.truncate(rng.below(bytes.len())),
        Damage::InflatedLength => {
            let field = if fields.is_empty() {
                Field {
                    offset: rng.below(bytes.len() / 4) * 4,
                    width: 4,
                    encoding: Encoding::Le,
                }
            } else {
                fields[rng.below(fields.len())]
            };
            inflate(&mut bytes, field, rng);
        }
    }
    (bytes, damage)
}

/// Writes a huge number into `field` (the largest it holds, or one of a few large values).
fn inflate(bytes: &mut [u8], field: Field, rng: &mut Rng) {
    let end = (field.offset + field.width).min(bytes.len());
    let slot = &mut bytes[field.offset.min(end)..end];
    let bits = (slot.len() * 8).min(64) as u32;
    let max = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let value = [max, max / 2, max - 7, 1 << (bits - 1).min(40)][rng.below(4)];
    match field.encoding {
        Encoding::Le => {
            for (i, b) in slot.iter_mut().enumerate() {
                *b = value.checked_shr(8 * i as u32).unwrap_or(0) as u8;
            }
        }
        Encoding::Be => {
            let n = slot.len();
            for (i, b) in slot.iter_mut().enumerate() {
                *b = value.checked_shr(8 * (n - 1 - i) as u32).unwrap_or(0) as u8;
            }
        }
        Encoding::Digits => {
            let digit = [b'7', b'9'][rng.below(2)];
            slot.fill(digit);
        }
    }
}

/// The runs of ASCII digits in `bytes` (a text format's numbers), as fields.
pub fn digit_fields(bytes: &[u8]) -> Vec<Field> {
    let mut fields = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            fields.push(Field {
                offset: start,
                width: i - start,
                encoding: Encoding::Digits,
            });
        } else {
            i += 1;
        }
    }
    fields
}

/// What the cases of one format came to.
#[derive(Debug, Default)]
pub struct Tally {
    /// Cases read without error (the damage missed what the reader checks, or did no harm).
    pub ok: usize,
    /// Of those, by kind of damage.
    pub ok_by: std::collections::BTreeMap<Damage, usize>,
    /// Cases refused with an error.
    pub errors: usize,
    /// Cases that panicked, with the first messages.
    pub panics: Vec<String>,
    /// The largest single allocation of any case, in bytes.
    pub largest_allocation: usize,
}

static PANIC_MESSAGE: Mutex<Option<String>> = Mutex::new(None);

impl Tally {
    /// Runs one case: `read` is the reader under test on damaged input.
    pub fn case<T, E: std::fmt::Display>(
        &mut self,
        damage: Damage,
        read: impl FnOnce() -> Result<T, E>,
    ) {
        take_peak();
        let result = std::panic::catch_unwind(AssertUnwindSafe(read));
        self.largest_allocation = self.largest_allocation.max(take_peak());
        match result {
            Ok(Ok(_)) => {
                self.ok += 1;
                *self.ok_by.entry(damage).or_insert(0) += 1;
            }
            Ok(Err(_)) => self.errors += 1,
            Err(_) => {
                let message = PANIC_MESSAGE.lock().unwrap().take();
                self.panics
                    .push(message.unwrap_or_else(|| "a panic".into()));
            }
        }
    }

    /// The number of cases.
    pub fn cases(&self) -> usize {
        self.ok + self.errors + self.panics.len()
    }

    /// One line for the test's output.
    pub fn summary(&self, format: &str) -> String {
        format!(
            "{format}: {} cases, {} refused with an error, {} read {:?}, {} panics, largest \
             allocation {:.1} MiB",
            self.cases(),
            self.errors,
            self.ok,
            self.ok_by,
            self.panics.len(),
            self.largest_allocation as f64 / (1 << 20) as f64
        )
    }
}

/// Replaces the panic hook with one that keeps the message for [`Tally::case`] instead of
/// printing it (a fuzz run would otherwise print hundreds).
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        let payload = (info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        *PANIC_MESSAGE.lock().unwrap() = Some(format!("{payload}{location}"));
    }));
}
