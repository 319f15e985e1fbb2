//! torchvision's ImageNet presets reproduced on real photographs: the inputs this crate makes
//! from `../shared/fixtures/images` against torchvision's own (`weights.transforms()` on the
//! PIL image, `../shared/fixtures/torchvision/torchvision_transforms.safetensors`).

use resnet_data::Preset;
use resnet_data::folder::decode;
use resnet_testkit::shared;

const IMAGES: [&str; 4] = ["chelsea.jpg", "coffee.jpg", "rocket.jpg", "astronaut.png"];

#[test]
fn presets_match_torchvision_on_real_photos() {
    let (Some(images), Some(fixture)) = (
        shared("fixtures/images"),
        shared("fixtures/torchvision/torchvision_transforms.safetensors"),
    ) else {
        return;
    };
    let bytes = std::fs::read(&fixture).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let (mut worst, mut sum, mut count) = (0f32, 0f64, 0usize);
    for (version, resize) in [("v1", 256), ("v2", 232)] {
        let preset = Preset::imagenet(resize);
        preset.check().unwrap();
        for name in IMAGES {
            let stem = name.rsplit_once('.').unwrap().0;
            let view = tensors.tensor(&format!("{version}/{stem}")).unwrap();
            assert_eq!(view.shape(), [3, 224, 224]);
            let expected: Vec<f32> = (view.data().chunks_exact(4))
                .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                .collect();
            let image = decode(&images.join(name)).unwrap();
            let ours = preset.apply(&image);
            assert_eq!(ours.len(), expected.len());
            let diffs: Vec<f32> = (ours.iter().zip(&expected))
                .map(|(a, b)| (a - b).abs())
                .collect();
            let max = diffs.iter().copied().fold(0f32, f32::max);
            let mean = diffs.iter().map(|&d| d as f64).sum::<f64>() / diffs.len() as f64;
            println!("{version} {name:<14} max {max:.4}, mean {mean:.5}");
            // The resize, crop and normalisation are torchvision's exactly: a PNG, which both
            // decode alike, gives the same values to f32 rounding.
            if name.ends_with(".png") {
                assert!(max < 1e-5, "{version} {name}: max {max}");
            }
            worst = worst.max(max);
            sum += mean * diffs.len() as f64;
            count += diffs.len();
        }
    }
    let mean = sum / count as f64;
    println!("all: max {worst:.4}, mean {mean:.5} (per value, normalised units)");
    // The JPEGs differ by what the decoders differ by (the `image` crate's and Pillow's
    // libjpeg-turbo): at most 4 levels of 255 on a few pixels.
    assert!(mean < 0.005, "mean absolute difference {mean}");
    assert!(worst < 0.08, "max absolute difference {worst}");
}
