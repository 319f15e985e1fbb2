//! Evaluation under each test protocol, on generated class folders and a small ImageNet-style
//! network (Table 1's layout at 1/8 width).

use burn::module::Module;
use burn::tensor::Device;
use image::{Rgb, RgbImage};
use resnet_data::{ImageFolder, ImageSet, Normalization, TestProtocol};
use resnet_model::{BlockKind, ResNet, ResNetConfig, Stem};
use resnet_train::eval::{EvalError, EvalSettings, OnCorrupt, evaluate_folder, evaluate_images};

fn tiny_imagenet_net(device: &Device) -> ResNet {
    ResNetConfig::new(
        Stem::ImageNet,
        BlockKind::Basic,
        vec![1; 4],
        vec![8, 16, 32, 64],
    )
    .with_num_classes(2)
    .init(device)
    .unwrap()
    .valid()
}

fn folder(dir: &std::path::Path) -> ImageFolder {
    for (class, shade) in [("dark", 40u8), ("light", 200)] {
        std::fs::create_dir_all(dir.join(class)).unwrap();
        for i in 0..2u32 {
            let image = RgbImage::from_fn(300 + 20 * i, 260, |x, y| {
                Rgb([shade, (x % 256) as u8, (y % 256) as u8])
            });
            image
                .save(dir.join(class).join(format!("{i}.png")))
                .unwrap();
        }
    }
    ImageFolder::open(dir).unwrap()
}

fn settings(protocol: TestProtocol) -> EvalSettings {
    EvalSettings {
        normalization: Normalization::imagenet(),
        protocol,
        batch_size: 3,
        on_corrupt: OnCorrupt::Fail,
    }
}

#[test]
fn every_protocol_scores_every_image() {
    let device = Device::flex();
    let model = tiny_imagenet_net(&device);
    let dir = tempfile::tempdir().unwrap();
    let folder = folder(dir.path());
    for protocol in [
        TestProtocol::center_crop(),
        TestProtocol::ten_crop(),
        TestProtocol::MultiScale {
            scales: vec![224, 256],
        },
    ] {
        let report = evaluate_folder(
            std::slice::from_ref(&model),
            &folder,
            &settings(protocol.clone()),
            &device,
            |_| (),
        )
        .unwrap();
        assert_eq!(report.total, 4, "{protocol:?}");
        assert_eq!(report.top5_correct, 4, "2 classes: always in the top 5");
    }
    // Images of different sizes cannot be batched as they are.
    let err = evaluate_folder(
        &[model],
        &folder,
        &settings(TestProtocol::AsIs),
        &device,
        |_| (),
    );
    assert!(err.unwrap_err().to_string().contains("different sizes"));
}

#[test]
fn corrupt_files_fail_or_are_skipped() {
    let device = Device::flex();
    let model = tiny_imagenet_net(&device);
    let dir = tempfile::tempdir().unwrap();
    folder(dir.path());
    std::fs::write(
        dir.path().join("dark/broken.jpg"),
        b"\xff\xd8\xff truncated",
    )
    .unwrap();
    let folder = ImageFolder::open(dir.path()).unwrap();
    let models = [model];
    let mut s = settings(TestProtocol::center_crop());
    let err = evaluate_folder(&models, &folder, &s, &device, |_| ()).unwrap_err();
    assert!(err.to_string().contains("broken.jpg"), "{err}");
    s.on_corrupt = OnCorrupt::Skip;
    let report = evaluate_folder(&models, &folder, &s, &device, |_| ()).unwrap();
    assert_eq!(report.total, 4);
    assert_eq!(report.skipped.len(), 1);
}

/// An ensemble of two copies of a network scores exactly as the network alone; counts and
/// errors are consistent.
#[test]
fn ensembles_average_softmax() {
    let device = Device::flex();
    let model = resnet_model::zoo::config_for("cifar-resnet8")
        .unwrap()
        .init(&device)
        .unwrap()
        .valid();
    let mut set = ImageSet::with_capacity(10, [3, 32, 32], 10);
    for i in 0..10u8 {
        set.push(&vec![i * 20; 3072], i as usize);
    }
    let s = settings(TestProtocol::AsIs);
    let single = evaluate_images(std::slice::from_ref(&model), &set, &s, &device, |_| ()).unwrap();
    let pair = evaluate_images(&[model.clone(), model.clone()], &set, &s, &device, |_| ()).unwrap();
    assert_eq!(
        (single.correct, single.top5_correct),
        (pair.correct, pair.top5_correct)
    );
    assert_eq!(single.total, 10);
    assert!((single.top1_error - (1.0 - single.correct as f64 / 10.0)).abs() < 1e-12);

    // Two different networks: labelled with the argmax of their mean softmax, every image is
    // right (averaging logits or voting would disagree somewhere).
    let other = resnet_model::zoo::config_for("cifar-resnet8")
        .unwrap()
        .init(&device)
        .unwrap()
        .valid();
    let (models, mut set) = ([model, other], set);
    let x = resnet_data::batch::images_to_tensor(&set.pixels, set.shape, &s.normalization, &device);
    let softmax = |m: &ResNet| burn::tensor::activation::softmax(m.forward(x.clone()), 1);
    let mean = (softmax(&models[0]) + softmax(&models[1])).argmax(1);
    set.labels = (mean.into_data().iter::<i64>())
        .map(|l| l as usize)
        .collect();
    let report = evaluate_images(&models, &set, &s, &device, |_| ()).unwrap();
    assert_eq!(report.correct, 10);
}

/// Both evaluations refuse, before reading an image, what cannot be scored: no network, a
/// network with other classes, a zero batch size.
#[test]
fn unusable_inputs_are_typed_errors() {
    let device = Device::flex();
    let model = tiny_imagenet_net(&device);
    let dir = tempfile::tempdir().unwrap();
    let folder = folder(dir.path());
    let mut set = ImageSet::with_capacity(1, [3, 32, 32], 2);
    set.push(&[0; 3072], 0);
    let s = settings(TestProtocol::AsIs);
    let zero = EvalSettings {
        batch_size: 0,
        ..settings(TestProtocol::AsIs)
    };
    let ten_classes = resnet_model::zoo::config_for("cifar-resnet8")
        .unwrap()
        .init(&device)
        .unwrap()
        .valid();
    let models = std::slice::from_ref(&model);
    let folder_err = |models: &[ResNet], s: &EvalSettings| {
        evaluate_folder(models, &folder, s, &device, |_| ()).unwrap_err()
    };
    let images_err = |models: &[ResNet], s: &EvalSettings| {
        evaluate_images(models, &set, s, &device, |_| ()).unwrap_err()
    };
    for err in [folder_err(models, &zero), images_err(models, &zero)] {
        assert!(matches!(err, EvalError::ZeroBatch), "{err}");
    }
    for err in [folder_err(&[], &s), images_err(&[], &s)] {
        assert!(matches!(err, EvalError::NoNetwork), "{err}");
    }
    let wrong = std::slice::from_ref(&ten_classes);
    for err in [folder_err(wrong, &s), images_err(wrong, &s)] {
        assert!(
            matches!(
                err,
                EvalError::Classes {
                    data: 2,
                    network: 10,
                    ..
                }
            ),
            "{err}"
        );
    }
}
