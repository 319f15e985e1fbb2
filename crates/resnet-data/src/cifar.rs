//! CIFAR-10 and CIFAR-100 in their official *binary version*, from an extracted directory or
//! straight from the `.tar.gz` archive as distributed.
//!
//! Each record is the label byte(s) (CIFAR-100: coarse, then fine) followed by 3072 bytes: the
//! red, green and blue planes of a 32x32 image, row-major.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::DataError;
use crate::images::ImageSet;

/// Bytes of one 32x32x3 image.
pub const IMAGE_BYTES: usize = 3 * 32 * 32;

/// Which CIFAR dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CifarVariant {
    /// 10 classes, `cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin`.
    Cifar10,
    /// 100 classes (fine labels), `cifar-100-binary/{train,test}.bin`.
    Cifar100,
}

impl CifarVariant {
    /// Both variants.
    pub const ALL: [CifarVariant; 2] = [CifarVariant::Cifar10, CifarVariant::Cifar100];

    /// The dataset's name.
    pub fn name(self) -> &'static str {
        match self {
            CifarVariant::Cifar10 => "CIFAR-10",
            CifarVariant::Cifar100 => "CIFAR-100",
        }
    }

    /// Number of classes.
    pub fn classes(self) -> usize {
        match self {
            CifarVariant::Cifar10 => 10,
            CifarVariant::Cifar100 => 100,
        }
    }

    fn label_bytes(self) -> usize {
        match self {
            CifarVariant::Cifar10 => 1,
            CifarVariant::Cifar100 => 2,
        }
    }

    /// Size of one record in a batch file.
    pub fn record_len(self) -> usize {
        self.label_bytes() + IMAGE_BYTES
    }

    /// The directory the archive unpacks to.
    pub fn dir_name(self) -> &'static str {
        match self {
            CifarVariant::Cifar10 => "cifar-10-batches-bin",
            CifarVariant::Cifar100 => "cifar-100-binary",
        }
    }

    /// The training batch files.
    pub fn train_files(self) -> Vec<String> {
        match self {
            CifarVariant::Cifar10 => (1..=5).map(|i| format!("data_batch_{i}.bin")).collect(),
            CifarVariant::Cifar100 => vec!["train.bin".into()],
        }
    }

    /// The test batch file.
    pub fn test_file(self) -> &'static str {
        match self {
            CifarVariant::Cifar10 => "test_batch.bin",
            CifarVariant::Cifar100 => "test.bin",
        }
    }

    fn names_file(self) -> &'static str {
        match self {
            CifarVariant::Cifar10 => "batches.meta.txt",
            CifarVariant::Cifar100 => "fine_label_names.txt",
        }
    }

    /// Parses the records of one batch file.
    pub fn parse_batch(self, file: &str, bytes: &[u8]) -> Result<ImageSet, DataError> {
        let record_len = self.record_len();
        if bytes.is_empty() {
            return Err(DataError::Empty { file: file.into() });
        }
        if !bytes.len().is_multiple_of(record_len) {
            return Err(DataError::Truncated {
                file: file.into(),
                len: bytes.len(),
                record_len,
                dataset: self.name(),
            });
        }
        let n = bytes.len() / record_len;
        let mut set = ImageSet::with_capacity(n, [3, 32, 32], self.classes());
        for (record, chunk) in bytes.chunks_exact(record_len).enumerate() {
            // CIFAR-100 records carry the coarse label first; the fine label is the class.
            let label = chunk[self.label_bytes() - 1];
            if label as usize >= self.classes() {
                return Err(DataError::BadLabel {
                    file: file.into(),
                    record,
                    label,
                    classes: self.classes(),
                    dataset: self.name(),
                });
            }
            set.push(&chunk[self.label_bytes()..], label as usize);
        }
        Ok(set)
    }
}

/// A CIFAR dataset: the official training and test sets, and the class names.
#[derive(Debug, Clone)]
pub struct Cifar {
    /// Which dataset.
    pub variant: CifarVariant,
    /// The 50,000 training images.
    pub train: ImageSet,
    /// The 10,000 test images.
    pub test: ImageSet,
    /// Class names, by label.
    pub class_names: Vec<String>,
}

impl Cifar {
    /// Whether `path` looks like CIFAR data: a `.tar.gz` archive, or a directory holding the
    /// batch files or their `cifar-*` directory.
    pub fn looks_like(path: impl AsRef<Path>) -> bool {
        let path = path.as_ref();
        if path.is_file() {
            let name = path.to_string_lossy();
            return name.ends_with(".tar.gz") || name.ends_with(".tgz");
        }
        (CifarVariant::ALL.iter())
            .any(|v| path.join(v.dir_name()).is_dir() || path.join(v.test_file()).is_file())
    }

    /// Reads CIFAR from `path`: the extracted batch directory, its parent, or the `.tar.gz`
    /// archive. The variant is detected from the files present.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, DataError> {
        let path = path.as_ref();
        let files = if path.is_dir() {
            read_dir_files(path)?
        } else if path.is_file() {
            read_archive_files(path)?
        } else {
            return Err(DataError::NotFound(format!(
                "no CIFAR data at {}: give the extracted batch directory (`cifar-10-batches-bin`, \
                 `cifar-100-binary`), its parent, or the `.tar.gz` archive (or let `resnet` \
                 download it)",
                path.display()
            )));
        };
        let c100 = CifarVariant::Cifar100;
        let variant = if (c100.train_files().iter().map(String::as_str))
            .chain([c100.test_file()])
            .any(|f| files.contains_key(f))
        {
            CifarVariant::Cifar100
        } else {
            CifarVariant::Cifar10
        };
        let take = |name: &str| {
            files.get(name).ok_or_else(|| DataError::MissingFile {
                source_path: path.to_path_buf(),
                file: name.to_string(),
                dataset: variant.name(),
            })
        };
        let mut train = ImageSet::with_capacity(0, [3, 32, 32], variant.classes());
        for name in variant.train_files() {
            train.extend(variant.parse_batch(&name, take(&name)?)?);
        }
        let test = variant.parse_batch(variant.test_file(), take(variant.test_file())?)?;
        let class_names: Vec<String> = match files.get(variant.names_file()) {
            Some(bytes) => String::from_utf8_lossy(bytes)
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect(),
            None => (0..variant.classes()).map(|c| c.to_string()).collect(),
        };
        // The names decide the classifier's size: a short or long list is a broken file.
        if class_names.len() != variant.classes() {
            return Err(DataError::Invalid(format!(
                "{} in {}: {} class names, but {} has {} classes",
                variant.names_file(),
                path.display(),
                class_names.len(),
                variant.name(),
                variant.classes()
            )));
        }
        Ok(Self {
            variant,
            train,
            test,
            class_names,
        })
    }
}

/// Is `name` one of the files a CIFAR reader wants (a batch or the class names)?
fn wanted(name: &str) -> bool {
    CifarVariant::ALL.iter().any(|v| {
        v.train_files().iter().any(|f| f == name) || name == v.test_file() || name == v.names_file()
    })
}

/// Batch files of a directory (or of its CIFAR subdirectory), by file name.
fn read_dir_files(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, DataError> {
    let mut extracted: Vec<PathBuf> = (CifarVariant::ALL.iter())
        .map(|v| dir.join(v.dir_name()))
        .filter(|d| d.is_dir())
        .collect();
    if extracted.len() > 1 {
        return Err(DataError::NotFound(format!(
            "{} holds both extracted CIFAR-10 and CIFAR-100: give the directory to use",
            dir.display()
        )));
    }
    let dir = extracted.pop().unwrap_or_else(|| dir.to_path_buf());
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).map_err(DataError::io(&dir))? {
        let path: PathBuf = entry.map_err(DataError::io(&dir))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if wanted(name) && path.is_file() {
            let bytes = std::fs::read(&path).map_err(DataError::io(&path))?;
            files.insert(name.to_string(), bytes);
        }
    }
    Ok(files)
}

/// Batch files of a `.tar.gz` archive, by file name, read in one streaming pass.
fn read_archive_files(archive: &Path) -> Result<BTreeMap<String, Vec<u8>>, DataError> {
    let corrupt = |e: std::io::Error| DataError::CorruptArchive {
        path: archive.to_path_buf(),
        reason: e.to_string(),
    };
    let file = std::fs::File::open(archive).map_err(DataError::io(archive))?;
    let gz = flate2::read::GzDecoder::new(std::io::BufReader::new(file));
    let mut tar = tar::Archive::new(gz);
    let mut files = BTreeMap::new();
    for entry in tar.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let name = match entry
            .path()
            .map_err(corrupt)?
            .file_name()
            .and_then(|n| n.to_str())
        {
            Some(name) if wanted(name) => name.to_string(),
            _ => continue,
        };
        // The header's size is only a hint: a corrupt one must not allocate gigabytes. 32 MiB
        // holds a CIFAR-10 batch (30.7 MB) at once; larger files grow as they are read.
        let mut bytes = Vec::with_capacity((entry.size() as usize).min(32 << 20));
        entry.read_to_end(&mut bytes).map_err(corrupt)?;
        files.insert(name, bytes);
    }
    Ok(files)
}
