//! Typed errors of the data crate.

use std::path::PathBuf;

/// Data that cannot be read or used.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// I/O failure on a file or directory. The message is the path; the I/O error is the
    /// `source()` (printed after it by `anyhow`'s `{:#}`).
    #[error("{path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Nothing at the given path, and nothing to download it from here.
    #[error("{0}")]
    NotFound(String),
    /// A CIFAR file the dataset needs is absent.
    #[error("{source_path} has no `{file}` (expected the official binary version of {dataset})")]
    MissingFile {
        /// The directory or archive searched.
        source_path: PathBuf,
        /// The file sought.
        file: String,
        /// The dataset.
        dataset: &'static str,
    },
    /// A batch file whose size is not a whole number of records.
    #[error(
        "{file}: {len} bytes is not a whole number of {record_len}-byte records (truncated or not a {dataset} batch)"
    )]
    Truncated {
        /// The file.
        file: String,
        /// Its size.
        len: usize,
        /// Size of one record.
        record_len: usize,
        /// The dataset.
        dataset: &'static str,
    },
    /// A batch file with no records.
    #[error("{file} holds no records")]
    Empty {
        /// The file.
        file: String,
    },
    /// A label outside the dataset's classes.
    #[error("{file}: record {record} has label {label}, but {dataset} has {classes} classes")]
    BadLabel {
        /// The file.
        file: String,
        /// Index of the record in the file.
        record: usize,
        /// The label found.
        label: u8,
        /// Number of classes.
        classes: usize,
        /// The dataset.
        dataset: &'static str,
    },
    /// An archive that cannot be decompressed or unpacked.
    #[error("{path} is not a readable .tar.gz archive: {reason}")]
    CorruptArchive {
        /// The archive.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// An image that cannot be decoded.
    #[error("{path}: cannot decode image: {reason}")]
    CorruptImage {
        /// The file.
        path: PathBuf,
        /// What the decoder reported.
        reason: String,
    },
    /// A class folder without images.
    #[error("class folder {0} holds no images")]
    EmptyClass(PathBuf),
    /// A dataset folder without class folders.
    #[error("{0} has no class folders (expected <root>/<class>/<image>)")]
    NoClasses(PathBuf),
    /// A download that failed or did not verify.
    #[error("download of {url} to {dest} failed: {reason}")]
    Download {
        /// The address.
        url: String,
        /// Where the file was to be stored.
        dest: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Invalid parameters (split sizes, crop sizes, ...).
    #[error("{0}")]
    Invalid(String),
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| DataError::Io { path, source }
    }
}
