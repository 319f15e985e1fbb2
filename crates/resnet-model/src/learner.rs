//! The networks in burn's `Learner` (`burn::train::SupervisedTraining`): image
//! classification's train and inference steps (feature `learner`, on by default).
//!
//! This project's own runs (`resnet train`) run [`TrainStep`] in `resnet-train`'s loop, which
//! has its own iteration-based schedules, ResNet-110's warm-up, data order, checkpoints and
//! bit-exact resume. Programs that train a ResNet in a burn training pipeline of their own get
//! burn's metrics (`AccuracyMetric`, `LossMetric`, `TopKAccuracyMetric`, ...), checkpoints and
//! renderers with these steps.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::{Int, Tensor};
use burn::train::{ClassificationOutput, InferenceStep, TrainOutput, TrainStep};

use crate::resnet::ResNet;

/// A batch of images and their classes: what a `Batcher` hands the network's steps.
#[derive(Debug, Clone)]
pub struct ClassificationBatch {
    /// The images, normalised, `[N, 3, height, width]`.
    pub images: Tensor<4>,
    /// The class index of each image, `[N]`.
    pub targets: Tensor<1, Int>,
}

impl ResNet {
    /// Logits and cross-entropy loss of a batch (the paper's softmax loss).
    pub fn forward_classification(&self, batch: ClassificationBatch) -> ClassificationOutput {
        let logits = self.forward(batch.images);
        let loss = CrossEntropyLossConfig::new()
            .init(&logits.device())
            .forward(logits.clone(), batch.targets.clone());
        ClassificationOutput::new(loss, logits, batch.targets)
    }
}

/// Forward and backward pass of a training batch (the model on an autodiff device).
impl TrainStep for ResNet {
    type Input = ClassificationBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: ClassificationBatch) -> TrainOutput<ClassificationOutput> {
        let output = self.forward_classification(batch);
        TrainOutput::new(self, output.loss.backward(), output)
    }
}

/// Forward pass of a validation or test batch.
impl InferenceStep for ResNet {
    type Input = ClassificationBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: ClassificationBatch) -> ClassificationOutput {
        self.forward_classification(batch)
    }
}
