//! The class-folder loader on generated image files, and its bad input.

use std::path::Path;

use image::{Rgb, RgbImage};
use resnet_data::folder::decode;
use resnet_data::{DataError, ImageFolder};

fn write_image(path: &Path, shade: u8) {
    RgbImage::from_pixel(8, 6, Rgb([shade, 0, 255 - shade]))
        .save(path)
        .unwrap();
}

fn tree(root: &Path) {
    for (class, files) in [("cat", 3), ("ant", 2), ("bee", 1)] {
        std::fs::create_dir_all(root.join(class)).unwrap();
        for i in 0..files {
            write_image(&root.join(class).join(format!("{i}.png")), 10 * i as u8);
        }
    }
    std::fs::write(root.join("cat/notes.txt"), "not an image").unwrap();
    std::fs::write(root.join("README"), "top-level file").unwrap();
}

#[test]
fn classes_sorted_and_non_images_ignored() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    let folder = ImageFolder::open(dir.path()).unwrap();
    assert_eq!(folder.classes, ["ant", "bee", "cat"]);
    let labels: Vec<usize> = folder.samples.iter().map(|s| s.label).collect();
    assert_eq!(labels, [0, 0, 1, 2, 2, 2]);
    assert_eq!(folder.ignored.len(), 2);
    let image = decode(&folder.samples[1].path).unwrap();
    assert_eq!(image.dimensions(), (8, 6));
    assert_eq!(image.get_pixel(0, 0).0, [10, 0, 245]);
}

#[test]
fn empty_class_and_empty_root() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    std::fs::create_dir(dir.path().join("dog")).unwrap();
    let err = ImageFolder::open(dir.path()).unwrap_err();
    assert!(
        matches!(&err, DataError::EmptyClass(p) if p.ends_with("dog")),
        "{err}"
    );
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        ImageFolder::open(empty.path()),
        Err(DataError::NoClasses(_))
    ));
    assert!(matches!(
        ImageFolder::open("/nonexistent"),
        Err(DataError::NotFound(_))
    ));
}

#[test]
fn corrupt_jpeg_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.jpg");
    RgbImage::from_pixel(16, 16, Rgb([1, 2, 3]))
        .save(&good)
        .unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let bad = dir.path().join("bad.jpg");
    std::fs::write(&bad, &bytes[..bytes.len() / 3]).unwrap();
    let err = decode(&bad).unwrap_err();
    assert!(
        matches!(&err, DataError::CorruptImage { path, .. } if path == &bad),
        "{err}"
    );
    let text = dir.path().join("text.jpg");
    std::fs::write(&text, "hello").unwrap();
    assert!(matches!(decode(&text), Err(DataError::CorruptImage { .. })));
}

#[test]
fn flat_layout_with_ground_truth() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..3 {
        write_image(&dir.path().join(format!("val_{i}.png")), i);
    }
    let classes = vec!["ant".to_string(), "bee".to_string()];
    // ILSVRC style: one 1-based label per line, images in sorted order.
    let gt = dir.path().join("gt.txt");
    std::fs::write(&gt, "2\n1\n2\n").unwrap();
    let folder = ImageFolder::open_flat(dir.path(), &gt, classes.clone()).unwrap();
    let labels: Vec<usize> = folder.samples.iter().map(|s| s.label).collect();
    assert_eq!(labels, [1, 0, 1]);
    // `<file> <class>` pairs.
    std::fs::write(&gt, "val_2.png ant\nval_0.png bee\n").unwrap();
    let folder = ImageFolder::open_flat(dir.path(), &gt, classes.clone()).unwrap();
    assert_eq!(folder.samples[0].label, 0);
    assert!(folder.samples[0].path.ends_with("val_2.png"));
    // Bad label and wrong count.
    std::fs::write(&gt, "val_0.png wasp\n").unwrap();
    assert!(ImageFolder::open_flat(dir.path(), &gt, classes.clone()).is_err());
    std::fs::write(&gt, "1\n").unwrap();
    assert!(ImageFolder::open_flat(dir.path(), &gt, classes.clone()).is_err());
    // Unlisted images are reported as ignored; a listed file that is not there is an error.
    std::fs::write(&gt, "val_2.png ant\n").unwrap();
    let folder = ImageFolder::open_flat(dir.path(), &gt, classes.clone()).unwrap();
    assert_eq!(folder.samples.len(), 1);
    assert!(folder.ignored.iter().any(|p| p.ends_with("val_0.png")));
    std::fs::write(&gt, "val_2.png ant\nval_9.png bee\n").unwrap();
    let err = ImageFolder::open_flat(dir.path(), &gt, classes.clone()).unwrap_err();
    assert!(err.to_string().contains("val_9.png"), "{err}");
    std::fs::write(&gt, "").unwrap();
    assert!(ImageFolder::open_flat(dir.path(), &gt, classes).is_err());
    // Class names that are numbers are names first ("2" is class "2", not the third class);
    // file names may hold spaces.
    write_image(&dir.path().join("val 3.png"), 3);
    let numbers: Vec<String> = ["0", "1", "10", "2"].map(String::from).to_vec();
    std::fs::write(&gt, "val 3.png 2\nval_0.png 10\n").unwrap();
    let folder = ImageFolder::open_flat(dir.path(), &gt, numbers).unwrap();
    let labels: Vec<usize> = folder.samples.iter().map(|s| s.label).collect();
    assert_eq!(labels, [3, 2]);
    assert!(folder.samples[0].path.ends_with("val 3.png"));
}

/// The 32x32 JPEG sample in ../shared: 10 classes x 50 images.
#[test]
fn shared_imagefolder_sample() {
    let Some(root) = resnet_testkit::shared("data/cifar10-imagefolder-sample") else {
        return;
    };
    let folder = ImageFolder::open(&root).unwrap();
    assert_eq!(folder.classes.len(), 10);
    assert_eq!(folder.samples.len(), 500);
    assert_eq!(
        decode(&folder.samples[0].path).unwrap().dimensions(),
        (32, 32)
    );
}
