//! The data through burn's own loader and `Learner` (src/dataset.rs, src/batcher.rs): the
//! batches equal the project's pipeline's, and a ResNet-20 learns from them.
#![cfg(feature = "learner")]

use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataset::Dataset;
use burn::module::Module;
use burn::optim::SgdConfig;
use burn::optim::momentum::MomentumConfig;
use burn::tensor::Device;
use burn::train::metric::{AccuracyMetric, LossMetric};
use burn::train::{InferenceStep, Learner, SupervisedTraining};
use resnet_data::augment::PadCropFlip;
use resnet_data::batch::{images_to_tensor, labels_to_tensor};
use resnet_data::batcher::ImageBatcher;
use resnet_data::pipeline::{CifarTrainBatches, batch_seed, epoch_order, imagenet_train_batch};
use resnet_data::transforms::{PcaLighting, ScaleAugment, to_chw};
use resnet_data::{Cifar, ImageFolder, ImageSet, Normalization, TestProtocol};
use resnet_model::{ClassificationBatch, ResNet, ResNetConfig};

const SEED: u64 = 11;

/// The shared CIFAR-10's training images less the paper's 5,000 validation images.
fn cifar_train() -> Option<ImageSet> {
    let path = resnet_testkit::shared("data/cifar10/cifar-10-binary.tar.gz")?;
    let cifar = Cifar::load(path).unwrap();
    Some(cifar.train.split(5000, SEED).unwrap().0)
}

fn same(a: &ClassificationBatch, b: &ClassificationBatch) {
    assert_eq!(a.images.to_data(), b.images.to_data(), "images");
    assert_eq!(a.targets.to_data(), b.targets.to_data(), "labels");
}

/// The project's pipeline's batch `b` of `epoch`, as a tensor batch.
fn pipeline_batch(
    train: &ImageSet,
    order: &[usize],
    epoch: u64,
    b: usize,
    normalization: &Normalization,
) -> ClassificationBatch {
    let batches = CifarTrainBatches {
        images: train,
        batch_size: 16,
        seed: SEED,
        augment: PadCropFlip::default(),
    };
    let set = batches.batch(order, epoch, b);
    let device = Device::flex();
    ClassificationBatch {
        images: images_to_tensor(&set.pixels, set.shape, normalization, &device),
        targets: labels_to_tensor(&set.labels, &device),
    }
}

#[test]
fn batches_equal_the_projects_pipeline() {
    let Some(train) = cifar_train() else { return };
    let normalization = Normalization::mean_image(train.mean_image());
    let device = Device::flex();

    // Any batch, given its images and seed.
    let order = epoch_order(train.len(), SEED, 1);
    let items: Vec<_> = (order[3 * 16..4 * 16].iter())
        .map(|&i| train.get(i).unwrap())
        .collect();
    let batcher = ImageBatcher::cifar_train(normalization.clone(), SEED);
    let batch = batcher.batch_seeded(&items, batch_seed(SEED, 1, 3), &device);
    same(
        &batch,
        &pipeline_batch(&train, &order, 1, 3, &normalization),
    );

    // Through burn's loader (one thread, no shuffle of its own): a dataset in epoch 0's order
    // gives epoch 0's batches, in turn.
    let order = epoch_order(train.len(), SEED, 0);
    let loader = DataLoaderBuilder::new(ImageBatcher::cifar_train(normalization.clone(), SEED))
        .batch_size(16)
        .set_device(device)
        .build(train.subset(&order[..48]));
    let batches: Vec<_> = loader.iter().map(Result::unwrap).collect();
    assert_eq!(batches.len(), 3);
    for (b, batch) in batches.iter().enumerate() {
        same(batch, &pipeline_batch(&train, &order, 0, b, &normalization));
    }
}

#[test]
fn imagenet_batches_equal_the_projects_pipeline() {
    let Some(root) = resnet_testkit::shared("data/cifar10-imagefolder-sample") else {
        return;
    };
    let folder = ImageFolder::open(&root).unwrap();
    let picked: Vec<usize> = (0..folder.samples.len()).step_by(7).take(6).collect();
    let items: Vec<_> = picked.iter().map(|&i| folder.get(i).unwrap()).collect();
    let samples: Vec<_> = picked.iter().map(|&i| folder.samples[i].clone()).collect();
    let (normalization, device) = (Normalization::imagenet(), Device::flex());

    // Training: scale augmentation, 224 crop, flip, PCA lighting, drawn from one seed.
    let (set, skipped) = imagenet_train_batch(
        &samples,
        folder.classes.len(),
        &ScaleAugment::default(),
        Some(&PcaLighting::default()),
        5,
    )
    .unwrap();
    assert!(skipped.is_empty());
    let expected = ClassificationBatch {
        images: images_to_tensor(&set.pixels, set.shape, &normalization, &device),
        targets: labels_to_tensor(&set.labels, &device),
    };
    let batcher = ImageBatcher::imagenet_train(normalization.clone(), 0);
    same(&batcher.batch_seeded(&items, 5, &device), &expected);

    // Validation: the single centre crop of the test protocol.
    let views: Vec<u8> = (items.iter())
        .flat_map(|item| to_chw(&TestProtocol::center_crop().views(&item.image)[0]))
        .collect();
    let labels: Vec<usize> = items.iter().map(|item| item.label).collect();
    let expected = ClassificationBatch {
        images: images_to_tensor(&views, [3, 224, 224], &normalization, &device),
        targets: labels_to_tensor(&labels, &device),
    };
    let batcher = ImageBatcher::imagenet_test(normalization);
    same(&batcher.batch_seeded(&items, 0, &device), &expected);
}

#[test]
fn out_of_range_and_undecodable_are_errors() {
    let set = ImageSet::with_capacity(0, [3, 2, 2], 2);
    assert!(set.get(0).unwrap_err().to_string().contains("image 0"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("cat")).unwrap();
    std::fs::write(dir.path().join("cat/broken.png"), b"not a png").unwrap();
    let folder = ImageFolder::open(dir.path()).unwrap();
    let error = folder.get(0).unwrap_err().to_string();
    assert!(error.contains("broken.png"), "{error}");
}

#[test]
fn workers_load_every_image_once() {
    let Some(train) = cifar_train() else { return };
    let subset = train.subset(&(0..200).collect::<Vec<_>>());
    let loader = DataLoaderBuilder::new(ImageBatcher::cifar_test(Normalization::unit()))
        .batch_size(32)
        .shuffle(SEED)
        .num_workers(2)
        .set_device(Device::flex())
        .build(subset.clone());
    let mut labels: Vec<i64> = Vec::new();
    for batch in loader.iter() {
        labels.extend(batch.unwrap().targets.to_data().iter::<i64>());
    }
    let mut expected: Vec<i64> = subset.labels.iter().map(|&l| l as i64).collect();
    labels.sort_unstable();
    expected.sort_unstable();
    assert_eq!(labels, expected);
}

/// Mean cross-entropy of `model` (eval mode) over `set`.
fn loss(model: &ResNet, set: &ImageSet, normalization: &Normalization) -> f32 {
    let device = Device::flex();
    let batch = ClassificationBatch {
        images: images_to_tensor(&set.pixels, set.shape, normalization, &device),
        targets: labels_to_tensor(&set.labels, &device),
    };
    InferenceStep::step(model, batch).loss.into_scalar::<f32>()
}

#[test]
fn learner_trains_resnet20_on_cifar() {
    let Some(train) = cifar_train() else { return };
    let subset = train.subset(&(0..256).collect::<Vec<_>>());
    let normalization = Normalization::mean_image(subset.mean_image());
    let device = Device::flex().autodiff();
    device.seed(SEED);
    let model = ResNetConfig::cifar(20).unwrap().init(&device).unwrap();
    let before = loss(&model.valid(), &subset, &normalization);

    let loader = DataLoaderBuilder::new(ImageBatcher::cifar_train(normalization.clone(), SEED))
        .batch_size(32)
        .shuffle(SEED)
        .build(subset.clone());
    let valid = DataLoaderBuilder::new(ImageBatcher::cifar_test(normalization.clone()))
        .batch_size(128)
        .build(subset.subset(&(0..128).collect::<Vec<_>>()));
    let sgd = SgdConfig::new()
        .with_momentum(Some(
            MomentumConfig::new().with_momentum(0.9).with_dampening(0.0),
        ))
        .with_weight_decay(Some(burn::optim::decay::WeightDecayConfig::new(1e-4)));
    let dir = tempfile::tempdir().unwrap();
    let result = SupervisedTraining::new(dir.path(), loader, valid)
        .metrics((AccuracyMetric::new(), LossMetric::new()))
        .num_epochs(6)
        // At 0.05 the eval-mode loss (BN's running statistics after 48 steps) swung between 2.1
        // and 3.9 from epoch to epoch, and the final figure with it on rounding differences
        // (`RESNET_CONV`); at 0.02 it is 2.03-2.08 whatever the convolution kernels.
        .launch(Learner::new(model, sgd.init(), 0.02));
    assert!(result.error.is_none(), "{:?}", result.error);

    let after = loss(&result.model, &subset, &normalization);
    println!("training loss (eval mode) on the 256 images: {before:.3} before, {after:.3} after");
    assert!(after < before - 0.1, "{before} -> {after}");
}
