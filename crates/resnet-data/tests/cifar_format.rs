//! The CIFAR binary reader on generated batch files: directories, archives and bad input.

use std::io::Write;
use std::path::Path;

use resnet_data::cifar::IMAGE_BYTES;
use resnet_data::{Cifar, CifarVariant, DataError};
use resnet_testkit::cifar::{batch, record, write_cifar10};

fn tar_gz(src: &Path, archive: &Path) {
    let file = std::fs::File::create(archive).unwrap();
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    tar.append_dir_all("cifar-10-batches-bin", src).unwrap();
    tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
}

#[test]
fn reads_directory_parent_and_archive_alike() {
    let dir = tempfile::tempdir().unwrap();
    let root = write_cifar10(dir.path(), 4, 7);
    let archive = dir.path().join("cifar-10-binary.tar.gz");
    tar_gz(&root, &archive);
    let from_dir = Cifar::load(&root).unwrap();
    let from_parent = Cifar::load(dir.path()).unwrap();
    let from_archive = Cifar::load(&archive).unwrap();
    assert_eq!(from_dir.variant, CifarVariant::Cifar10);
    assert_eq!(from_dir.train.len(), 20);
    assert_eq!(from_dir.test.len(), 7);
    assert_eq!(from_dir.class_names[9], "truck");
    assert_eq!(from_dir.train, from_parent.train);
    assert_eq!(from_dir.train, from_archive.train);
    assert_eq!(from_dir.test, from_archive.test);
    // Record layout: label byte, then the planes.
    assert_eq!(from_dir.test.labels[3], 3);
    assert_eq!(from_dir.test.image(3), &record(3, 3)[1..]);
    assert!(Cifar::looks_like(&archive) && Cifar::looks_like(dir.path()));
}

#[test]
fn cifar100_uses_the_fine_label() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("cifar-100-binary");
    std::fs::create_dir_all(&root).unwrap();
    let rec = |coarse: u8, fine: u8| {
        let mut r = vec![coarse, fine];
        r.extend(std::iter::repeat_n(fine, IMAGE_BYTES));
        r
    };
    std::fs::write(root.join("train.bin"), [rec(1, 99), rec(19, 42)].concat()).unwrap();
    std::fs::write(root.join("test.bin"), rec(3, 7)).unwrap();
    let cifar = Cifar::load(dir.path()).unwrap();
    assert_eq!(cifar.variant, CifarVariant::Cifar100);
    assert_eq!(cifar.train.labels, vec![99, 42]);
    assert_eq!(cifar.test.labels, vec![7]);
    assert_eq!(cifar.train.classes, 100);
    // Beside an extracted CIFAR-10, the parent is ambiguous; each directory still reads.
    write_cifar10(dir.path(), 1, 1);
    let err = Cifar::load(dir.path()).unwrap_err();
    assert!(err.to_string().contains("holds both"), "{err}");
    assert_eq!(Cifar::load(&root).unwrap().variant, CifarVariant::Cifar100);
}

#[test]
fn truncated_batch_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = write_cifar10(dir.path(), 3, 7);
    let bytes = batch(3, 0);
    std::fs::write(root.join("data_batch_2.bin"), &bytes[..bytes.len() - 100]).unwrap();
    let err = Cifar::load(&root).unwrap_err();
    assert!(
        matches!(&err, DataError::Truncated { file, .. } if file == "data_batch_2.bin"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("whole number of 3073-byte records"),
        "{err}"
    );
}

#[test]
fn label_out_of_range() {
    let dir = tempfile::tempdir().unwrap();
    let root = write_cifar10(dir.path(), 3, 7);
    let mut bytes = batch(3, 0);
    bytes[3073] = 10;
    std::fs::write(root.join("test_batch.bin"), bytes).unwrap();
    let err = Cifar::load(&root).unwrap_err();
    assert!(
        matches!(
            err,
            DataError::BadLabel {
                record: 1,
                label: 10,
                classes: 10,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn missing_batch_and_empty_batch() {
    let dir = tempfile::tempdir().unwrap();
    let root = write_cifar10(dir.path(), 3, 7);
    std::fs::remove_file(root.join("data_batch_4.bin")).unwrap();
    let err = Cifar::load(&root).unwrap_err();
    assert!(
        matches!(&err, DataError::MissingFile { file, .. } if file == "data_batch_4.bin"),
        "{err}"
    );
    std::fs::write(root.join("data_batch_4.bin"), []).unwrap();
    assert!(matches!(
        Cifar::load(&root).unwrap_err(),
        DataError::Empty { .. }
    ));
}

/// The names file decides the classifier's size: a short list is refused, naming the file.
#[test]
fn class_names_file_of_the_wrong_length() {
    let dir = tempfile::tempdir().unwrap();
    let root = write_cifar10(dir.path(), 3, 7);
    std::fs::write(root.join("batches.meta.txt"), "airplane\nautomobile\n").unwrap();
    let err = Cifar::load(&root).unwrap_err();
    assert!(
        err.to_string().contains("batches.meta.txt in ")
            && err
                .to_string()
                .contains("2 class names, but CIFAR-10 has 10"),
        "{err}"
    );
}

/// A CIFAR-100 directory without its test batch is reported as CIFAR-100's.
#[test]
fn cifar100_without_its_test_batch() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("cifar-100-binary");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("train.bin"), vec![0u8; 2 + IMAGE_BYTES]).unwrap();
    let err = Cifar::load(dir.path()).unwrap_err();
    assert!(
        matches!(&err, DataError::MissingFile { file, dataset: "CIFAR-100", .. } if file == "test.bin"),
        "{err}"
    );
}

#[test]
fn corrupt_archive() {
    let dir = tempfile::tempdir().unwrap();
    let root = write_cifar10(dir.path(), 3, 7);
    let archive = dir.path().join("cifar-10-binary.tar.gz");
    tar_gz(&root, &archive);
    let bytes = std::fs::read(&archive).unwrap();
    let truncated = dir.path().join("truncated.tar.gz");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let err = Cifar::load(&truncated).unwrap_err();
    assert!(matches!(err, DataError::CorruptArchive { .. }), "{err}");
    let garbage = dir.path().join("garbage.tar.gz");
    std::fs::write(&garbage, b"this is not gzip data at all").unwrap();
    let err = Cifar::load(&garbage).unwrap_err();
    assert!(matches!(err, DataError::CorruptArchive { .. }), "{err}");
}

#[test]
fn absent_data_says_how_to_provide_it() {
    let err = Cifar::load("/nonexistent/cifar").unwrap_err();
    assert!(matches!(err, DataError::NotFound(_)));
    assert!(err.to_string().contains("tar.gz"), "{err}");
}

/// The real archive in ../shared: 50,000 + 10,000 images, 5,000 / 1,000 per class.
#[test]
fn shared_cifar10_archive() {
    let Some(path) = resnet_testkit::shared("data/cifar10/cifar-10-binary.tar.gz") else {
        return;
    };
    let cifar = Cifar::load(&path).unwrap();
    assert_eq!((cifar.train.len(), cifar.test.len()), (50_000, 10_000));
    let mut per_class = [0; 10];
    cifar.test.labels.iter().for_each(|&l| per_class[l] += 1);
    assert_eq!(per_class, [1000; 10]);
    assert_eq!(cifar.class_names[0], "airplane");
}
