//! Augmentation, normalisation, splits and test-time views on small generated data.

use image::{Rgb, RgbImage, imageops};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use resnet_data::augment::{CropFlip, PadCropFlip};
use resnet_data::folder::Sample;
use resnet_data::pipeline::imagenet_train_batch;
use resnet_data::resample::resized_crop;
use resnet_data::transforms::{
    PcaLighting, ScaleAugment, center_crop, resize_shorter, ten_crop, to_chw,
};
use resnet_data::{ImageSet, Normalization, TestProtocol};

/// A 1-channel h x w "image" whose pixel (y, x) is 10*y + x + 1.
fn ramp(h: usize, w: usize) -> Vec<u8> {
    (0..h * w)
        .map(|i| (10 * (i / w) + i % w + 1) as u8)
        .collect()
}

#[test]
fn pad_crop_flip_geometry() {
    let aug = PadCropFlip { pad: 4 };
    let image = ramp(8, 8);
    let mut out = vec![0u8; 64];
    // Offset (4, 4) is the original image.
    aug.apply(
        &image,
        [1, 8, 8],
        CropFlip {
            offset: [4, 4],
            flip: false,
        },
        &mut out,
    );
    assert_eq!(out, image);
    // Offset (0, 0): 4 rows and 4 columns of zero padding, then the image's top-left corner.
    aug.apply(
        &image,
        [1, 8, 8],
        CropFlip {
            offset: [0, 0],
            flip: false,
        },
        &mut out,
    );
    assert!(out[..32].iter().all(|&v| v == 0));
    assert_eq!(&out[32..40], &[0, 0, 0, 0, 1, 2, 3, 4]);
    // Offset (8, 8): the bottom-right corner, then padding.
    aug.apply(
        &image,
        [1, 8, 8],
        CropFlip {
            offset: [8, 8],
            flip: false,
        },
        &mut out,
    );
    assert_eq!(&out[..8], &[45, 46, 47, 48, 0, 0, 0, 0]);
    // Flip mirrors the crop.
    aug.apply(
        &image,
        [1, 8, 8],
        CropFlip {
            offset: [4, 4],
            flip: true,
        },
        &mut out,
    );
    assert_eq!(&out[..8], &[8, 7, 6, 5, 4, 3, 2, 1]);
}

#[test]
fn pad_crop_flip_draws_are_seeded_and_in_bounds() {
    let aug = PadCropFlip::default();
    let draws = aug.draw(10_000, 7);
    assert_eq!(draws, aug.draw(10_000, 7));
    assert_ne!(draws, aug.draw(10_000, 8));
    assert!(draws.iter().all(|d| d.offset[0] <= 8 && d.offset[1] <= 8));
    for v in 0..=8 {
        assert!(draws.iter().any(|d| d.offset[0] == v), "offset {v} occurs");
    }
    let flips = draws.iter().filter(|d| d.flip).count();
    assert!((4_500..5_500).contains(&flips), "{flips} flips");
    // Batch application equals image-by-image application.
    let images: Vec<u8> = (0..4).flat_map(|_| ramp(8, 8)).collect();
    let mut batch = vec![0u8; images.len()];
    aug.apply_batch(&images, [1, 8, 8], &draws[..4], &mut batch);
    for i in 0..4 {
        let mut one = vec![0u8; 64];
        aug.apply(&images[i * 64..(i + 1) * 64], [1, 8, 8], draws[i], &mut one);
        assert_eq!(&batch[i * 64..(i + 1) * 64], &one[..]);
    }
}

fn set_of(images: &[&[u8]], labels: &[usize]) -> ImageSet {
    let mut set = ImageSet::with_capacity(images.len(), [1, 2, 2], 10);
    images.iter().zip(labels).for_each(|(i, &l)| set.push(i, l));
    set
}

#[test]
fn mean_image_and_normalisation() {
    let set = set_of(&[&[0, 255, 51, 102], &[255, 255, 153, 0]], &[0, 1]);
    let mean = set.mean_image();
    let expected = [0.5, 1.0, 0.4, 0.2];
    mean.iter()
        .zip(expected)
        .for_each(|(m, e)| assert!((m - e).abs() < 1e-6));
    let norm = Normalization::mean_image(mean);
    let mut out = [0f32; 4];
    norm.apply(set.image(0), 1, &mut out);
    let expected = [-0.5, 0.0, -0.2, 0.2];
    out.iter()
        .zip(expected)
        .for_each(|(o, e)| assert!((o - e).abs() < 1e-6));
    let per_channel = Normalization::per_channel([0.5; 3], [0.25; 3]);
    let mut rgb = [0f32; 3];
    per_channel.apply(&[0, 255, 128], 3, &mut rgb);
    assert!((rgb[0] + 2.0).abs() < 1e-6 && (rgb[1] - 2.0).abs() < 1e-6);
    assert!(
        per_channel.check([1, 2, 2]).is_err(),
        "3 channel stats for 1 channel"
    );
    assert!(
        norm.check([1, 4, 4]).is_err(),
        "mean image of the wrong size"
    );
}

#[test]
fn train_val_split() {
    let mut set = ImageSet::with_capacity(100, [1, 1, 1], 10);
    (0..100).for_each(|i| set.push(&[i as u8], i % 10));
    let (train, val) = set.split(10, 0).unwrap();
    assert_eq!((train.len(), val.len()), (90, 10));
    let mut all: Vec<u8> = train.pixels.iter().chain(&val.pixels).copied().collect();
    all.sort();
    assert_eq!(
        all,
        (0..100).map(|i| i as u8).collect::<Vec<_>>(),
        "a partition"
    );
    assert_eq!(set.split(10, 0).unwrap().1, val, "seeded");
    assert_ne!(set.split(10, 1).unwrap().1, val);
    assert!(set.split(100, 0).is_err());
    // Labels travel with their images.
    assert!(
        val.pixels
            .iter()
            .zip(&val.labels)
            .all(|(&p, &l)| p as usize % 10 == l)
    );
}

fn gradient(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| Rgb([x as u8, y as u8, 7]))
}

#[test]
fn resize_and_crops() {
    let image = gradient(200, 100);
    let resized = resize_shorter(&image, 50);
    assert_eq!(resized.dimensions(), (100, 50));
    assert_eq!(
        resize_shorter(&gradient(100, 300), 256).dimensions(),
        (256, 768)
    );
    // torchvision's geometry: the longer side truncated (201x100 to 51: 102.51 -> 102), the
    // centre offset rounded half to even (margins 31 and 33: 16; 29: 14).
    assert_eq!(
        resize_shorter(&gradient(99, 101), 50).dimensions(),
        (50, 51)
    );
    assert_eq!(
        resize_shorter(&gradient(201, 100), 51).dimensions(),
        (102, 51)
    );
    assert_eq!(
        center_crop(&gradient(71, 73), 40).get_pixel(0, 0).0,
        [16, 16, 7]
    );
    assert_eq!(
        center_crop(&gradient(69, 72), 40).get_pixel(0, 0).0,
        [14, 16, 7]
    );
    let center = center_crop(&image, 40);
    assert_eq!(center.dimensions(), (40, 40));
    assert_eq!(center.get_pixel(0, 0).0, [80, 30, 7]);
    let crops = ten_crop(&image, 40);
    assert_eq!(crops.len(), 10);
    let corner = |i: usize| crops[i].get_pixel(0, 0).0;
    assert_eq!(corner(0), [0, 0, 7]);
    assert_eq!(corner(1), [160, 0, 7]);
    assert_eq!(corner(2), [0, 60, 7]);
    assert_eq!(corner(3), [160, 60, 7]);
    assert_eq!(corner(4), [80, 30, 7]);
    // The last five are the first five mirrored.
    for i in 0..5 {
        assert_eq!(crops[i + 5].get_pixel(39, 0), crops[i].get_pixel(0, 0));
    }
    let chw = to_chw(&center);
    assert_eq!(chw.len(), 3 * 40 * 40);
    assert_eq!((chw[0], chw[1600], chw[3200]), (80, 30, 7));
}

#[test]
fn scale_augmentation_range() {
    let aug = ScaleAugment {
        min: 256,
        max: 480,
        crop: 224,
    };
    let image = gradient(250, 250);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    // The red channel holds the source column, so a crop's span of source columns,
    // 223 * 250 / scale, tells the scale it was taken at: 116 (scale 480) to 218 (scale 256).
    let spans: Vec<i32> = (0..60)
        .map(|_| {
            let out = aug.apply(&image, &mut rng);
            assert_eq!(out.dimensions(), (224, 224));
            let (a, b) = (
                out.get_pixel(0, 0).0[0] as i32,
                out.get_pixel(223, 0).0[0] as i32,
            );
            (a - b).abs()
        })
        .collect();
    let (lo, hi) = (*spans.iter().min().unwrap(), *spans.iter().max().unwrap());
    assert!(
        lo >= 114 && hi <= 220,
        "spans {lo}..{hi} outside the scale range"
    );
    assert!(
        lo < 135 && hi > 190,
        "spans {lo}..{hi} do not cover the scale range"
    );
}

/// Scale augmentation's crop of a virtual resize equals resizing the whole image (Triangle,
/// as `image` does) and cropping, enlarging and shrinking, at the edges and inside.
#[test]
fn resized_crop_equals_resize_then_crop() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let image = RgbImage::from_fn(97, 61, |_, _| Rgb(rng.random::<[u8; 3]>()));
    for (size, at, crop) in [
        ((300, 189), (0, 0), 64),
        ((300, 189), (236, 125), 64),
        ((155, 97), (40, 17), 57),
        ((48, 30), (5, 3), 20),
        ((97, 61), (10, 10), 30),
        ((31, 20), (0, 0), 20),
    ] {
        let whole = imageops::resize(&image, size.0, size.1, imageops::FilterType::Triangle);
        let expected = imageops::crop_imm(&whole, at.0, at.1, crop, crop).to_image();
        let ours = resized_crop(&image, size, at, crop);
        let diff = (expected.as_raw().iter().zip(ours.as_raw()))
            .map(|(&a, &b)| (a as i32 - b as i32).abs())
            .max()
            .unwrap();
        assert!(diff <= 1, "{size:?} at {at:?}: differs by {diff}");
    }
}

#[test]
fn pca_lighting_refuses_a_bad_sigma() {
    let mut image = RgbImage::from_pixel(2, 2, Rgb([128, 128, 128]));
    for sigma in [-0.1, f32::NAN, f32::INFINITY] {
        let pca = PcaLighting {
            sigma,
            ..PcaLighting::default()
        };
        let err = pca.apply(&mut image, &mut ChaCha8Rng::seed_from_u64(0));
        assert!(err.unwrap_err().to_string().contains("sigma"), "{sigma}");
    }
    assert_eq!(image, RgbImage::from_pixel(2, 2, Rgb([128, 128, 128])));
}

/// A training batch refuses unusable settings once, before decoding anything (they used to
/// leave out every image, one warning each).
#[test]
fn imagenet_batches_refuse_unusable_settings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.png");
    RgbImage::from_pixel(40, 30, Rgb([9, 9, 9]))
        .save(&path)
        .unwrap();
    let samples = [Sample { path, label: 0 }];
    let scale = ScaleAugment {
        min: 32,
        max: 48,
        crop: 24,
    };
    let batch = |scale: &ScaleAugment, lighting: &PcaLighting| {
        imagenet_train_batch(&samples, 2, scale, Some(lighting), 0)
    };
    let (set, left_out) = batch(&scale, &PcaLighting::default()).unwrap();
    assert_eq!((set.len(), set.shape, left_out.len()), (1, [3, 24, 24], 0));
    let bad_sigma = PcaLighting {
        sigma: -1.0,
        ..PcaLighting::default()
    };
    assert!(
        batch(&scale, &bad_sigma)
            .unwrap_err()
            .to_string()
            .contains("sigma")
    );
    for bad in [(48, 32, 24), (0, 48, 24), (32, 48, 0)] {
        let (min, max, crop) = bad;
        let err = batch(&ScaleAugment { min, max, crop }, &PcaLighting::default()).unwrap_err();
        assert!(
            err.to_string().contains("scale augmentation"),
            "{bad:?}: {err}"
        );
    }
}

#[test]
fn pca_lighting_statistics() {
    let pca = PcaLighting::default();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let n = 4000;
    let offsets: Vec<[f32; 3]> = (0..n)
        .map(|_| {
            let mut image = RgbImage::from_pixel(2, 2, Rgb([128, 128, 128]));
            pca.apply(&mut image, &mut rng).unwrap()
        })
        .collect();
    // Offsets are zero-mean; along the first eigenvector their std is sigma * eigenvalue.
    let v = [-0.5675f32, -0.5808, -0.5836];
    let proj: Vec<f32> = offsets
        .iter()
        .map(|o| (0..3).map(|c| o[c] * v[c]).sum::<f32>() / 255.0)
        .collect();
    let mean = proj.iter().sum::<f32>() / n as f32;
    let std = (proj.iter().map(|p| (p - mean).powi(2)).sum::<f32>() / n as f32).sqrt();
    assert!(mean.abs() < 0.002, "mean {mean}");
    let expected = 0.1 * 0.2175;
    assert!(
        (std / expected - 1.0).abs() < 0.08,
        "std {std} vs {expected}"
    );
}

#[test]
fn test_protocol_views() {
    let image = gradient(300, 260);
    assert_eq!(
        TestProtocol::center_crop().views(&image)[0].dimensions(),
        (224, 224)
    );
    let ten = TestProtocol::ten_crop().views(&image);
    assert_eq!(ten.len(), 10);
    let scales = TestProtocol::multi_scale().views(&image);
    let shorter: Vec<u32> = scales.iter().map(|s| s.height().min(s.width())).collect();
    assert_eq!(shorter, vec![224, 256, 384, 480, 640]);
    assert_eq!(TestProtocol::AsIs.views(&image)[0], image);
}

#[test]
fn cifar_training_batches_are_seeded_and_cover_the_epoch() {
    use resnet_data::pipeline::{CifarTrainBatches, epoch_order};
    let mut set = ImageSet::with_capacity(10, [1, 8, 8], 10);
    (0..10u8).for_each(|i| set.push(&[i + 1; 64], i as usize));
    let batches = CifarTrainBatches {
        images: &set,
        batch_size: 4,
        seed: 5,
        augment: PadCropFlip::default(),
    };
    assert_eq!(batches.batches_per_epoch(), 2);
    let order = epoch_order(set.len(), 5, 0);
    assert_eq!(order, epoch_order(set.len(), 5, 0));
    assert_ne!(order, epoch_order(set.len(), 5, 1));
    let first = batches.batch(&order, 0, 0);
    assert_eq!(first, batches.batch(&order, 0, 0), "reproducible");
    assert_eq!(first.labels, order[..4].to_vec());
    // Each augmented image holds only its own value and padding zeros.
    for (i, &label) in first.labels.iter().enumerate() {
        let own = label as u8 + 1;
        assert!(first.image(i).iter().all(|&p| p == own || p == 0));
        assert!(first.image(i).contains(&own));
    }
}

/// Pillow 13's `Image.resize(size, BILINEAR)` (what torchvision's `Resize` runs on PIL images)
/// of a synthetic 41x29 image to six sizes, made by a few lines of Python with Pillow
/// (`tests/fixtures/pil_bilinear.bin`: the RGB bytes of each result, in order): equal byte for
/// byte.
#[test]
fn antialiased_resize_is_pillows_bit_for_bit() {
    use resnet_data::antialias::resize_bilinear;
    let image = RgbImage::from_fn(41, 29, |x, y| {
        Rgb([0, 1, 2].map(|c| ((37 * x + 91 * y + 53 * c + (x * y) % 17) % 256) as u8))
    });
    let expected = include_bytes!("fixtures/pil_bilinear.bin");
    let mut at = 0;
    for (w, h) in [(20, 14), (97, 61), (41, 7), (13, 29), (3, 2), (41, 29)] {
        let len = (w * h * 3) as usize;
        let ours = resize_bilinear(&image, w, h);
        let differing = (ours.as_raw().iter().zip(&expected[at..at + len]))
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(
            differing, 0,
            "{w}x{h}: {differing} of {len} values differ from Pillow's"
        );
        at += len;
    }
    assert_eq!(at, expected.len());
}
