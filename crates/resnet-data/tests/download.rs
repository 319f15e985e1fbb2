//! Downloads verify their checksum and never leave a partial file in the cache; served from a
//! one-shot HTTP server on the loopback interface (no outside network).

use resnet_data::DataError;
use resnet_data::download::{Checksum, Remote, fetch, md5_file};
use resnet_testkit::http::{dead_url, serve_once};

const BODY: &[u8] = b"pretend archive contents";

#[test]
fn verified_download_lands_in_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let expected_md5 = {
        let tmp = dir.path().join("probe");
        std::fs::write(&tmp, BODY).unwrap();
        md5_file(&tmp).unwrap()
    };
    let remote = Remote {
        url: serve_once(BODY.to_vec(), BODY.len(), "archive.tar.gz"),
        file_name: "archive.tar.gz".into(),
        checksum: Checksum::Md5(expected_md5.clone()),
        instead: "give it with --data".into(),
    };
    let cache = dir.path().join("cache");
    let mut seen = 0;
    let path = fetch(&remote, &cache, |done, _| seen = done).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), BODY);
    assert_eq!(seen, BODY.len() as u64);
    // Present and valid: no second download (the server is gone).
    assert_eq!(fetch(&remote, &cache, |_, _| ()).unwrap(), path);
}

#[test]
fn checksum_mismatch_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let remote = Remote {
        url: serve_once(BODY.to_vec(), BODY.len(), "archive.tar.gz"),
        file_name: "archive.tar.gz".into(),
        checksum: Checksum::Md5("00000000000000000000000000000000".into()),
        instead: "give it with --data".into(),
    };
    let err = fetch(&remote, dir.path(), |_, _| ()).unwrap_err();
    assert!(matches!(err, DataError::Download { .. }), "{err}");
    assert!(err.to_string().contains("checksum"), "{err}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no partial file"
    );
}

#[test]
fn unreachable_server_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let remote = Remote {
        url: dead_url("x.tar.gz"),
        file_name: "x.tar.gz".into(),
        checksum: Checksum::Md5("0".into()),
        instead: "give it with --data".into(),
    };
    let err = fetch(&remote, dir.path(), |_, _| ()).unwrap_err();
    assert!(err.to_string().contains("--data"), "{err}");
}

#[test]
fn locate_uses_explicit_paths_as_given() {
    use resnet_data::download::locate_cifar_in;
    let (dir, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let locate =
        |spec: &std::path::Path| locate_cifar_in(spec.to_str().unwrap(), cache.path(), |_, _| ());
    let archive = dir.path().join("my-cifar.tar.gz");
    std::fs::write(&archive, b"not the official archive").unwrap();
    let located = locate(&archive).unwrap();
    assert_eq!(located.path, archive);
    assert!(located.warning.unwrap().contains("not that of an official"));
    // Said once per archive (and cache): the same bytes elsewhere are not warned about again.
    let copy = dir.path().join("copy.tar.gz");
    std::fs::copy(&archive, &copy).unwrap();
    assert_eq!(locate(&copy).unwrap().warning, None);
    let located = locate(dir.path()).unwrap();
    assert!(located.warning.is_none(), "directories are not checksummed");
    let err = locate(std::path::Path::new("/nonexistent/imagenet")).unwrap_err();
    assert!(err.to_string().contains("cifar10"), "{err}");
}

#[test]
fn a_directory_holding_the_official_archive_stands_for_it() {
    use resnet_data::download::locate_cifar;
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("cifar-10-binary.tar.gz");
    std::fs::write(&archive, b"stand-in").unwrap();
    let located = locate_cifar(dir.path().to_str().unwrap(), |_, _| ()).unwrap();
    assert_eq!(located.path, archive);
    // With both archives, which one is meant is the user's to say.
    let other = dir.path().join("cifar-100-binary.tar.gz");
    std::fs::write(&other, b"stand-in").unwrap();
    let err = locate_cifar(dir.path().to_str().unwrap(), |_, _| ()).unwrap_err();
    assert!(err.to_string().contains("both"), "{err}");
    std::fs::remove_file(other).unwrap();
    // Extracted batches beside it win: the directory is then read as it is.
    std::fs::write(dir.path().join("test_batch.bin"), b"").unwrap();
    let located = locate_cifar(dir.path().to_str().unwrap(), |_, _| ()).unwrap();
    assert_eq!(located.path, dir.path());
}
