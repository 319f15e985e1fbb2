//! Fetching files (the official CIFAR archives, published weights) into a cache directory,
//! verified by their checksum.
//!
//! A download goes to a temporary file beside its destination and is renamed into place only
//! once complete and verified, so an interrupted or failed download never leaves a file that
//! looks finished; a cached file that does not verify is fetched again, never used. The
//! archives are read directly (no extraction), so there is nothing half-extracted either.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use md5::Md5;
use sha2::{Digest, Sha256};

use crate::cifar::{Cifar, CifarVariant};
use crate::error::DataError;

/// Environment variable naming the cache directory (default: `~/.cache/resnet`).
pub const CACHE_ENV: &str = "RESNET_DATA_DIR";

/// What a file is verified with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    /// The whole md5, lowercase hex (the CIFAR archives' published checksums).
    Md5(String),
    /// The first hex digits of the sha256 (torch.hub's rule: the digits after the last `-` of
    /// a published checkpoint's file name).
    Sha256Prefix(String),
}

/// A hash being computed, of the kind a [`Checksum`] names.
enum Hasher {
    Md5(Md5),
    Sha256(Sha256),
}

impl Hasher {
    fn update(&mut self, bytes: &[u8]) {
        match self {
            Self::Md5(h) => h.update(bytes),
            Self::Sha256(h) => h.update(bytes),
        }
    }

    fn hex(self) -> String {
        match self {
            Self::Md5(h) => format!("{:x}", h.finalize()),
            Self::Sha256(h) => format!("{:x}", h.finalize()),
        }
    }
}

impl Checksum {
    fn hasher(&self) -> Hasher {
        match self {
            Self::Md5(_) => Hasher::Md5(Md5::new()),
            Self::Sha256Prefix(_) => Hasher::Sha256(Sha256::new()),
        }
    }

    /// Whether `digest` (lowercase hex, of this checksum's kind) is the expected one.
    pub fn matches(&self, digest: &str) -> bool {
        match self {
            Self::Md5(md5) => digest == md5,
            Self::Sha256Prefix(prefix) => !prefix.is_empty() && digest.starts_with(prefix.as_str()),
        }
    }

    /// The digest of the file at `path`, of this checksum's kind, lowercase hex.
    pub fn digest_file(&self, path: &Path) -> Result<String, DataError> {
        let mut file = std::fs::File::open(path).map_err(DataError::io(path))?;
        let mut hasher = self.hasher();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf).map_err(DataError::io(path))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        Ok(hasher.hex())
    }

    /// Whether the file at `path` exists and verifies.
    pub fn verifies(&self, path: &Path) -> Result<bool, DataError> {
        Ok(path.is_file() && self.matches(&self.digest_file(path)?))
    }
}

impl std::fmt::Display for Checksum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Md5(md5) => write!(f, "md5 {md5}"),
            Self::Sha256Prefix(prefix) => write!(f, "sha256 {prefix}..."),
        }
    }
}

/// A file to download and its expected checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// Where it is published.
    pub url: String,
    /// Its name in the cache.
    pub file_name: String,
    /// What it is verified with.
    pub checksum: Checksum,
    /// What the user can do instead when it cannot be fetched (ends the error message).
    pub instead: String,
}

impl Remote {
    /// The official binary-version archive of a CIFAR dataset.
    pub fn cifar(variant: CifarVariant) -> Self {
        let (name, md5) = match variant {
            CifarVariant::Cifar10 => ("cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530"),
            CifarVariant::Cifar100 => (
                "cifar-100-binary.tar.gz",
                "03b5dce01913d631647c71ecec9e9cb8",
            ),
        };
        Self {
            url: format!("https://www.cs.toronto.edu/~kriz/{name}"),
            file_name: name.into(),
            checksum: Checksum::Md5(md5.into()),
            instead: "offline? give the archive or directory with --data".into(),
        }
    }
}

/// The cache directory: `$RESNET_DATA_DIR`, else `$HOME/.cache/resnet`.
pub fn cache_dir() -> PathBuf {
    match std::env::var_os(CACHE_ENV) {
        Some(dir) => PathBuf::from(dir),
        None => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir)
            .join(".cache/resnet"),
    }
}

/// The md5 of a file, lowercase hex.
pub fn md5_file(path: &Path) -> Result<String, DataError> {
    Checksum::Md5(String::new()).digest_file(path)
}

/// Removes the partial downloads of `file_name` that a killed process left in `dir`: those
/// not written to for an hour (a live download writes every second).
fn remove_stale_partials(dir: &Path, file_name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{file_name}.");
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let stale = (entry.metadata().and_then(|m| m.modified()).ok())
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > Duration::from_secs(3600));
        if name.starts_with(&prefix) && name.ends_with(".partial") && stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The path of `remote` in `dir`, downloading it first if it is not there (or does not
/// verify). `progress` is called with (bytes so far, total bytes if known).
pub fn fetch(
    remote: &Remote,
    dir: &Path,
    mut progress: impl FnMut(u64, Option<u64>),
) -> Result<PathBuf, DataError> {
    let dest = dir.join(&remote.file_name);
    if remote.checksum.verifies(&dest)? {
        return Ok(dest);
    }
    std::fs::create_dir_all(dir).map_err(DataError::io(dir))?;
    remove_stale_partials(dir, &remote.file_name);
    let failed = |reason: String| DataError::Download {
        url: remote.url.clone(),
        dest: dest.clone(),
        reason: format!("{reason} ({})", remote.instead),
    };
    // ureq waits forever by default: a stalled server must end in an error.
    let agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .build()
        .new_agent();
    let response = agent
        .get(&remote.url)
        .call()
        .map_err(|e| failed(e.to_string()))?;
    let total = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut body = response.into_body().into_reader();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", remote.file_name))
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(DataError::io(dir))?;
    let mut hasher = remote.checksum.hasher();
    let mut buf = vec![0u8; 1 << 16];
    let mut done = 0u64;
    loop {
        let n = body.read(&mut buf).map_err(|e| {
            failed(format!(
                "{e} after {done} bytes (the partial file was removed)"
            ))
        })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        tmp.write_all(&buf[..n])
            .map_err(DataError::io(tmp.path()))?;
        done += n as u64;
        progress(done, total);
    }
    if let Some(total) = total.filter(|&total| total != done) {
        return Err(failed(format!(
            "the server sent {done} of {total} bytes (the partial file was removed)"
        )));
    }
    let digest = hasher.hex();
    if !remote.checksum.matches(&digest) {
        return Err(failed(format!(
            "checksum mismatch: got {digest}, expected {} (the partial file was removed)",
            remote.checksum
        )));
    }
    tmp.as_file()
        .sync_all()
        .map_err(DataError::io(tmp.path()))?;
    tmp.persist(&dest)
        .map_err(|e| DataError::io(&dest)(e.error))?;
    Ok(dest)
}

/// CIFAR data found by [`locate_cifar`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The directory or archive to read.
    pub path: PathBuf,
    /// Set when an archive given explicitly is not the official one (it is used anyway).
    pub warning: Option<String>,
}

/// Finds CIFAR data: `spec` is a path (a directory or archive, used as given) or the name
/// `cifar10`/`cifar100`, fetched into [`cache_dir`] if not already there. A directory that
/// holds an official archive (e.g. `cifar-10-binary.tar.gz`) and no extracted batches stands
/// for that archive, as torchvision's `root` does.
pub fn locate_cifar(
    spec: &str,
    progress: impl FnMut(u64, Option<u64>),
) -> Result<Located, DataError> {
    locate_cifar_in(spec, &cache_dir(), progress)
}

/// [`locate_cifar`] with `cache` as the cache directory. An archive that is not an official
/// one is warned about once: the cache keeps a note of its md5 (`accepted/<md5>`).
pub fn locate_cifar_in(
    spec: &str,
    cache: &Path,
    progress: impl FnMut(u64, Option<u64>),
) -> Result<Located, DataError> {
    let given = Path::new(spec);
    let mut archives: Vec<PathBuf> = CifarVariant::ALL
        .iter()
        .map(|&v| given.join(Remote::cifar(v).file_name))
        .filter(|archive| given.is_dir() && !Cifar::looks_like(given) && archive.is_file())
        .collect();
    if archives.len() > 1 {
        return Err(DataError::NotFound(format!(
            "{spec} holds both the CIFAR-10 and the CIFAR-100 archive: give the one to use"
        )));
    }
    let archive_inside = archives.pop();
    let path = archive_inside.as_deref().unwrap_or(given);
    if path.exists() {
        let mut warning = None;
        if path.is_file() {
            let md5 = md5_file(path)?;
            let official = CifarVariant::ALL
                .iter()
                .any(|&v| Remote::cifar(v).checksum.matches(&md5));
            let noted = cache.join("accepted").join(&md5);
            if !official && !noted.exists() {
                warning = Some(format!(
                    "{}: md5 {md5} is not that of an official CIFAR binary archive; using it as \
                     given (said once per archive)",
                    path.display()
                ));
                // A cache that cannot be written only means the warning comes again.
                let _ = std::fs::create_dir_all(cache.join("accepted"))
                    .and_then(|()| std::fs::write(&noted, path.display().to_string()));
            }
        }
        return Ok(Located {
            path: path.to_path_buf(),
            warning,
        });
    }
    let variant = match spec.to_ascii_lowercase().replace('-', "").as_str() {
        "cifar10" => CifarVariant::Cifar10,
        "cifar100" => CifarVariant::Cifar100,
        _ => {
            return Err(DataError::NotFound(format!(
                "no data at {spec}: give a CIFAR directory or .tar.gz archive, a class-folder \
                 tree, or `cifar10`/`cifar100` to download the official archive into {}",
                cache.display()
            )));
        }
    };
    let path = fetch(&Remote::cifar(variant), cache, progress)?;
    Ok(Located {
        path,
        warning: None,
    })
}
