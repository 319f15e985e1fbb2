//! Generated CIFAR-10 binary data for tests that must not depend on ../shared.

use std::path::{Path, PathBuf};

/// Bytes of one CIFAR image (3 x 32 x 32).
pub const IMAGE_BYTES: usize = 3 * 32 * 32;

/// CIFAR-10's `batches.meta.txt`.
const CLASS_NAMES: &str = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n";

/// A CIFAR-10 record: label, then R, G, B planes filled with `label`, `label + 1`, ...
pub fn record(label: u8, index: usize) -> Vec<u8> {
    let mut r = vec![label];
    r.extend((0..IMAGE_BYTES).map(|i| ((i + index) % 251) as u8));
    r
}

/// `records` CIFAR-10 records, labels cycling from `offset`.
pub fn batch(records: usize, offset: usize) -> Vec<u8> {
    (0..records)
        .flat_map(|i| record(((i + offset) % 10) as u8, i + offset))
        .collect()
}

/// Writes a CIFAR-10 directory (`dir/cifar-10-batches-bin`) with `per_batch` records per
/// training batch and `test_records` test records; returns it.
pub fn write_cifar10(dir: &Path, per_batch: usize, test_records: usize) -> PathBuf {
    let root = dir.join("cifar-10-batches-bin");
    std::fs::create_dir_all(&root).unwrap();
    for i in 1..=5 {
        std::fs::write(
            root.join(format!("data_batch_{i}.bin")),
            batch(per_batch, i * 100),
        )
        .unwrap();
    }
    std::fs::write(root.join("test_batch.bin"), batch(test_records, 0)).unwrap();
    std::fs::write(root.join("batches.meta.txt"), CLASS_NAMES).unwrap();
    root
}

/// The bytes of an uncompressed tar holding a CIFAR-10 archive's files
/// (`cifar-10-batches-bin/...`), `per_batch` records per training batch.
pub fn cifar10_tar(per_batch: usize, test_records: usize) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut add = |name: &str, bytes: &[u8]| {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, format!("cifar-10-batches-bin/{name}"), bytes)
            .unwrap();
    };
    for i in 1..=5 {
        add(&format!("data_batch_{i}.bin"), &batch(per_batch, i * 100));
    }
    add("test_batch.bin", &batch(test_records, 0));
    add("batches.meta.txt", CLASS_NAMES.as_bytes());
    tar.into_inner().unwrap()
}

/// `bytes` gzip-compressed.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}
