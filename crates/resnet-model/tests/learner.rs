//! burn's Learner (`SupervisedTraining`) trains a ResNet through the network's train and
//! inference steps, with burn's own data loaders and metrics.
#![cfg(feature = "learner")]

use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::InMemDataset;
use burn::module::Module;
use burn::optim::SgdConfig;
use burn::optim::momentum::MomentumConfig;
use burn::tensor::{Device, Tensor, TensorData};
use burn::train::metric::{AccuracyMetric, LossMetric};
use burn::train::{InferenceStep, Learner, SupervisedTraining};
use resnet_model::{ClassificationBatch, ResNetConfig};

const SIDE: usize = 8;

/// An 8x8 image of one of two classes: class 0 leans red, class 1 blue, under noise.
#[derive(Debug, Clone)]
struct Item {
    pixels: Vec<f32>,
    label: i64,
}

fn items(n: usize, seed: u64) -> Vec<Item> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut noise = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    (0..n)
        .map(|i| {
            let label = (i % 2) as i64;
            let lean = |channel: usize| match (channel, label) {
                (0, 0) | (2, 1) => 0.5,
                (0, 1) | (2, 0) => -0.5,
                _ => 0.0,
            };
            let pixels = (0..3 * SIDE * SIDE)
                .map(|p| lean(p / (SIDE * SIDE)) + noise())
                .collect();
            Item { pixels, label }
        })
        .collect()
}

struct ItemBatcher;

impl Batcher<Item, ClassificationBatch> for ItemBatcher {
    fn batch(&self, items: Vec<Item>, device: &Device) -> ClassificationBatch {
        let n = items.len();
        let pixels: Vec<f32> = items.iter().flat_map(|i| i.pixels.clone()).collect();
        let labels: Vec<i64> = items.iter().map(|i| i.label).collect();
        ClassificationBatch {
            images: Tensor::from_data(TensorData::new(pixels, [n, 3, SIDE, SIDE]), device),
            targets: Tensor::from_data(TensorData::new(labels, [n]), device),
        }
    }
}

/// Accuracy of `model` on `items`, through its inference step.
fn accuracy(model: &resnet_model::ResNet, items: Vec<Item>) -> f64 {
    let n = items.len();
    let output = InferenceStep::step(model, ItemBatcher.batch(items, &Device::flex()));
    let predicted = output.output.argmax(1).flatten::<1>(0, 1);
    let correct = predicted
        .equal(output.targets)
        .int()
        .sum()
        .into_scalar::<i64>();
    correct as f64 / n as f64
}

#[test]
fn burns_learner_trains_a_resnet() {
    let device = Device::flex().autodiff();
    device.seed(3);
    let model = ResNetConfig::cifar(8)
        .unwrap()
        .with_num_classes(2)
        .init(&device)
        .unwrap();
    let before = accuracy(&model.valid(), items(64, 2));

    let train = DataLoaderBuilder::new(ItemBatcher)
        .batch_size(16)
        .shuffle(5)
        .build(InMemDataset::new(items(128, 1)));
    let valid = DataLoaderBuilder::new(ItemBatcher)
        .batch_size(32)
        .build(InMemDataset::new(items(64, 2)));
    let dir = tempfile::tempdir().unwrap();
    let sgd = SgdConfig::new().with_momentum(Some(
        MomentumConfig::new().with_momentum(0.9).with_dampening(0.0),
    ));
    let result = SupervisedTraining::new(dir.path(), train, valid)
        .metrics((AccuracyMetric::new(), LossMetric::new()))
        .num_epochs(3)
        .launch(Learner::new(model, sgd.init(), 0.05));
    assert!(result.error.is_none(), "{:?}", result.error);

    // The returned model (in eval mode) separates the held-out images it could not before.
    let after = accuracy(&result.model, items(64, 2));
    println!("held-out accuracy: {before:.2} before, {after:.2} after 3 epochs");
    assert!(after >= 0.9, "accuracy {after} after training");
}
