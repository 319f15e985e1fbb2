//! Published weights are fetched verified, never left half-written, and reused from the cache
//! without the network; served from one-shot HTTP servers on the loopback interface.

use std::path::Path;

use resnet_pretrained::PublishedWeights;
use resnet_pretrained::registry::{Dataset, PresetKind};
use resnet_testkit::http::{dead_url, serve_once};
use sha2::{Digest, Sha256};

const BODY: &[u8] = b"pretend checkpoint: a few bytes stand in for the weights";
const FILE: &str = "test-weights.pth";

fn weights(url: String, sha256_prefix: &str) -> PublishedWeights {
    PublishedWeights {
        name: "test.loopback",
        arch: "resnet20",
        url: url.leak(),
        file_name: "test-weights.pth",
        sha256_prefix: sha256_prefix.to_string().leak(),
        size_bytes: Some(BODY.len() as u64),
        size_mib: None,
        dataset: Dataset::Cifar10,
        preset: PresetKind::CifarImagenetStats,
        top1: 0.0,
        top5: None,
        gmacs: None,
        recipe: "",
    }
}

fn prefix() -> String {
    format!("{:x}", Sha256::digest(BODY))[..8].to_string()
}

fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| entries.count())
}

#[test]
fn verified_download_then_cached_hit_without_network() {
    let cache = tempfile::tempdir().unwrap();
    let w = weights(serve_once(BODY.to_vec(), BODY.len(), FILE), &prefix());
    let mut seen = 0;
    let path = w.fetch(cache.path(), |done, _| seen = done).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), BODY);
    assert_eq!(seen, BODY.len() as u64);
    assert_eq!(path, cache.path().join("test-weights.pth"));
    // The server is gone: the cached, verified file is used.
    assert_eq!(w.fetch(cache.path(), |_, _| ()).unwrap(), path);
    assert_eq!(w.find_cached(cache.path()).unwrap(), Some(path));
}

#[test]
fn hash_mismatch_leaves_no_file() {
    let cache = tempfile::tempdir().unwrap();
    let w = weights(serve_once(BODY.to_vec(), BODY.len(), FILE), "00000000");
    let err = w.fetch(cache.path(), |_, _| ()).unwrap_err().to_string();
    assert!(err.contains("checksum mismatch"), "{err}");
    assert!(
        err.contains("--weights FILE"),
        "says how to pass a file: {err}"
    );
    assert_eq!(files_in(cache.path()), 0, "no partial or final file");
}

#[test]
fn server_gone_mid_file_leaves_no_file() {
    let cache = tempfile::tempdir().unwrap();
    let w = weights(serve_once(BODY.to_vec(), BODY.len() / 2, FILE), &prefix());
    let err = w.fetch(cache.path(), |_, _| ()).unwrap_err().to_string();
    assert!(err.contains("partial file was removed"), "{err}");
    assert_eq!(files_in(cache.path()), 0, "no partial or final file");
}

#[test]
fn offline_error_names_the_url_the_cache_path_and_the_way_out() {
    let cache = tempfile::tempdir().unwrap();
    let url = dead_url(FILE);
    let w = weights(url.clone(), &prefix());
    let err = w.fetch(cache.path(), |_, _| ()).unwrap_err().to_string();
    assert!(err.contains(&url), "{err}");
    let dest = cache.path().join("test-weights.pth");
    assert!(err.contains(&dest.display().to_string()), "{err}");
    assert!(err.contains("--weights FILE"), "{err}");
}

#[test]
fn a_corrupted_cached_file_is_fetched_again_not_used() {
    let cache = tempfile::tempdir().unwrap();
    let dest = cache.path().join("test-weights.pth");
    std::fs::write(&dest, b"damaged").unwrap();
    let w = weights(serve_once(BODY.to_vec(), BODY.len(), FILE), &prefix());
    assert_eq!(w.find_cached(cache.path()).unwrap(), None);
    let path = w.fetch(cache.path(), |_, _| ()).unwrap();
    assert_eq!(std::fs::read(path).unwrap(), BODY);
    // And with the server gone, a damaged file is an error, not a model.
    std::fs::write(&dest, b"damaged again").unwrap();
    let w = weights(dead_url(FILE), &prefix());
    assert!(w.fetch(cache.path(), |_, _| ()).is_err());
}

#[test]
fn every_published_checksum_is_the_hash_in_its_file_name() {
    for w in resnet_pretrained::PUBLISHED {
        let stem = w.file_name.rsplit_once('.').unwrap().0;
        let digits = stem.rsplit_once('-').unwrap().1;
        assert_eq!(digits, w.sha256_prefix, "{}", w.name);
        assert!(w.url.ends_with(w.file_name), "{}", w.name);
        assert!(w.url.starts_with("https://"), "{}", w.name);
    }
}
