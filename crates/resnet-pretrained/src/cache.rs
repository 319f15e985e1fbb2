//! Where published weights are kept, and fetching them there.
//!
//! A checkpoint is looked for, in order: in this program's cache (`$RESNET_CACHE`, else the
//! platform cache directory's `resnet/weights`), in torch's (`$TORCH_HOME/hub/checkpoints`, so
//! that weights torchvision already downloaded are not downloaded again), and only then
//! downloaded into the first. Every file is verified by its sha256 before it is used: a
//! damaged cached file is fetched again, never loaded. Downloads land in a temporary file that
//! is renamed only once the checksum matches ([`resnet_data::download::fetch`]).

use std::path::{Path, PathBuf};

use resnet_data::download::{Checksum, Remote, fetch};

use crate::error::PretrainedError;
use crate::registry::PublishedWeights;

/// Environment variable naming the weights cache directory.
pub const CACHE_ENV: &str = "RESNET_CACHE";

/// The weights cache: `$RESNET_CACHE`, else `<platform cache dir>/resnet/weights`
/// (`~/.cache/resnet/weights` on Linux).
pub fn cache_dir() -> PathBuf {
    match std::env::var_os(CACHE_ENV) {
        Some(dir) => PathBuf::from(dir),
        None => dirs::cache_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join("resnet/weights"),
    }
}

/// torch.hub's checkpoint directory: `$TORCH_HOME/hub/checkpoints`, `$TORCH_HOME` defaulting
/// to `$XDG_CACHE_HOME/torch`, else `~/.cache/torch` (torch.hub's `_get_torch_home`).
pub fn torch_checkpoints() -> Option<PathBuf> {
    let home = match std::env::var_os("TORCH_HOME") {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("XDG_CACHE_HOME") {
            Some(dir) => PathBuf::from(dir).join("torch"),
            None => dirs::home_dir()?.join(".cache/torch"),
        },
    };
    Some(home.join("hub/checkpoints"))
}

impl PublishedWeights {
    /// How the file is verified.
    pub fn checksum(&self) -> Checksum {
        Checksum::Sha256Prefix(self.sha256_prefix.to_string())
    }

    /// Where the file is kept in `cache`.
    pub fn cached_path(&self, cache: &Path) -> PathBuf {
        cache.join(self.file_name)
    }

    /// The verified file, if `cache` or torch's cache already holds it.
    pub fn find_cached(&self, cache: &Path) -> Result<Option<PathBuf>, PretrainedError> {
        let checksum = self.checksum();
        let torch = torch_checkpoints().map(|dir| dir.join(self.file_name));
        for path in std::iter::once(self.cached_path(cache)).chain(torch) {
            if checksum.verifies(&path)? {
                return Ok(Some(path));
            }
        }
        Ok(None)
    }

    /// The verified file: from `cache` or torch's cache, else downloaded into `cache`.
    /// `progress` is called with (bytes so far, total bytes if known).
    pub fn fetch(
        &self,
        cache: &Path,
        progress: impl FnMut(u64, Option<u64>),
    ) -> Result<PathBuf, PretrainedError> {
        if let Some(path) = self.find_cached(cache)? {
            return Ok(path);
        }
        let remote = Remote {
            url: self.url.to_string(),
            file_name: self.file_name.to_string(),
            checksum: self.checksum(),
            instead: format!(
                "offline? download it elsewhere and pass the file with --weights FILE, or copy \
                 it to {}",
                self.cached_path(cache).display()
            ),
        };
        Ok(fetch(&remote, cache, progress)?)
    }
}
