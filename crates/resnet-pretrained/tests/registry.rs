//! The registry against the networks and files it describes.

use burn::tensor::Device;
use resnet_model::zoo;
use resnet_pretrained::registry::{Dataset, published, published_file};
use resnet_pretrained::{Classifier, PUBLISHED};
use resnet_testkit::shared;

/// torchvision's `num_params` for its ImageNet weights (`meta["num_params"]`, torchvision 0.29).
const TORCHVISION_PARAMS: [(&str, u64); 10] = [
    ("resnet18.tv-in1k", 11_689_512),
    ("resnet34.tv-in1k", 21_797_672),
    ("resnet50.tv-in1k-v2", 25_557_032),
    ("resnet101.tv-in1k-v2", 44_549_160),
    ("resnet152.tv-in1k-v2", 60_192_808),
    ("resnext50_32x4d.tv-in1k-v2", 25_028_904),
    ("resnext101_32x8d.tv-in1k-v2", 88_791_336),
    ("resnext101_64x4d.tv-in1k", 83_455_272),
    ("wide_resnet50_2.tv-in1k-v2", 68_883_240),
    ("wide_resnet101_2.tv-in1k-v2", 126_886_696),
];

#[test]
fn every_entry_loads_into_a_network_of_the_zoo_with_the_published_size() {
    for w in PUBLISHED {
        let config = zoo::config_for(w.arch).unwrap();
        let classes = match w.dataset {
            Dataset::ImageNet1k => 1000,
            Dataset::Cifar10 => 10,
        };
        assert_eq!(config.num_classes, classes, "{}", w.name);
        assert_eq!(w.categories().len(), classes, "{}", w.name);
        assert_eq!(
            w.preset.preset().crop as usize,
            config.native_input_size(),
            "{}",
            w.name
        );
        assert!(w.top1 > 0.0 && w.top1 < 100.0, "{}", w.name);
        assert_eq!(published(w.name), Some(w));
        assert_eq!(published_file(w.file_name), Some(w));
    }
    for (name, params) in TORCHVISION_PARAMS {
        let w = published(name).unwrap();
        let config = zoo::config_for(w.arch).unwrap();
        assert_eq!(config.num_params().unwrap(), params, "{name}");
    }
}

/// The public CIFAR-10 checkpoints in `../shared` are the published files: they verify by
/// the registry's checksum, and a file with a published name is classified with its preset.
#[test]
fn the_shared_akamaster_files_verify_and_classify() {
    let Some(dir) = shared("weights/cifar10-akamaster") else {
        return;
    };
    let Some(images) = shared("fixtures/images") else {
        return;
    };
    for (name, file) in [
        ("resnet20.akamaster-cifar10", "resnet20.th"),
        ("resnet32.akamaster-cifar10", "resnet32.th"),
    ] {
        let w = published(name).unwrap();
        assert!(w.checksum().verifies(&dir.join(file)).unwrap(), "{name}");
        assert_eq!(
            std::fs::metadata(dir.join(file)).unwrap().len(),
            w.size_bytes.unwrap()
        );
    }
    // Under its published name, the file is recognised without --arch.
    let cache = tempfile::tempdir().unwrap();
    let w = published("resnet20.akamaster-cifar10").unwrap();
    let path = w.cached_path(cache.path());
    std::fs::copy(dir.join("resnet20.th"), &path).unwrap();
    let device = Device::flex();
    let classifier = Classifier::from_file(&path, None, &device).unwrap();
    assert_eq!(classifier.preset(), &w.preset.preset());
    let image = resnet_data::folder::decode(&images.join("chelsea.jpg")).unwrap();
    let top = classifier.classify(&image, 10);
    assert_eq!(top.len(), 10);
    let total: f32 = top.iter().map(|p| p.probability).sum();
    assert!((total - 1.0).abs() < 1e-4, "{total}");
    assert!(top.windows(2).all(|p| p[0].probability >= p[1].probability));
    println!("akamaster ResNet-20 on chelsea.jpg: {:?}", &top[..3]);
}
