//! Files written whole or not at all: a temporary file beside the target, synced, then renamed
//! over it, so that a crash never leaves a half-written CSV, figure, checkpoint or cached
//! record. The one implementation the crates share (a download, streamed and verified before
//! its rename, goes through `tempfile` in [`crate::download`]).

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` through `path.partial` and a rename.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = partial(path);
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// `dir/name.ext` -> `dir/name.ext.partial`.
fn partial(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_whole_and_leaves_no_partial_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.csv");
        write(&path, b"old").unwrap();
        write(&path, b"new contents").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new contents");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only the target remains");
    }

    #[test]
    fn a_failed_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("figure.png");
        assert!(write(&path, b"x").is_err());
        assert!(!path.exists() && !partial(&path).exists());
    }
}
