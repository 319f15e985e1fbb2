//! [`ResNet`]: stem, stages of blocks, global average pooling and a fully-connected classifier.

use burn::module::Module;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::{Device, Distribution, Tensor};

use crate::blocks::{Block, Residual};
use crate::config::ResNetConfig;
use crate::conv_bn::ConvBn;
use crate::error::ConfigError;
use crate::kernels;

/// One stage: blocks on the same feature-map size (the paper's `conv2_x` ... `conv5_x`, or the
/// 32/16/8 stages of the CIFAR nets). Its first block may halve the resolution.
#[derive(Module, Debug)]
pub struct Stage {
    /// The stage's blocks, in order.
    pub blocks: Vec<Block>,
}

impl Stage {
    /// The stage's output; `residuals` says what each block does with its residual function
    /// (taken from the front, one per block).
    fn forward_recording(
        &self,
        x: Tensor<4>,
        responses: &mut Option<&mut Vec<Tensor<4>>>,
        residuals: &mut impl Iterator<Item = Residual>,
    ) -> Tensor<4> {
        self.blocks.iter().fold(x, |x, block| {
            let residual = residuals.next().unwrap_or(Residual::Full);
            block.forward_recording(x, responses, residual)
        })
    }
}

/// A ResNet or plain network of the paper, or a pre-activation one, for any [`ResNetConfig`].
///
/// The input is an `[N, C, H, W]` batch, already normalised. The head is global average
/// pooling and a linear classifier, so any input size works (the fully-convolutional form the
/// paper uses for multi-scale testing averages the same scores).
#[derive(Module, Debug)]
pub struct ResNet {
    /// First convolution + BN (followed by ReLU); in a pre-activation network the convolution
    /// alone.
    pub stem: ConvBn,
    /// 3x3/2 max pool after the stem (ImageNet networks only).
    pub stem_pool: Option<MaxPool2d>,
    /// The stages.
    pub stages: Vec<Stage>,
    /// BN (followed by ReLU) after the last stage: pre-activation networks only (timm's
    /// `norm`), whose blocks leave their sum unnormalised.
    pub norm: Option<BatchNorm>,
    /// The classifier.
    pub fc: Linear,
    /// The description this network was built from.
    #[module(skip)]
    config: ResNetConfig,
}

impl ResNetConfig {
    /// Builds the network with freshly initialised weights on `device`.
    pub fn init(&self, device: &Device) -> Result<ResNet, ConfigError> {
        let plan = self.plan()?;
        let stem = ConvBn::new(&plan.stem, device);
        let stem_pool = plan.stem_pool.then(|| {
            MaxPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init()
        });
        let stages = plan
            .stages
            .iter()
            .map(|blocks| Stage {
                blocks: blocks
                    .iter()
                    .map(|b| Block::new(b, self.zero_init_residual, device))
                    .collect(),
            })
            .collect();
        let norm = plan
            .head_norm
            .map(|channels| BatchNormConfig::new(channels).init(device));
        let fc = LinearConfig::new(plan.features, plan.classes).init(device);
        Ok(ResNet {
            stem,
            stem_pool,
            stages,
            norm,
            fc,
            config: self.clone(),
        })
    }
}

impl ResNet {
    /// Class scores (logits), `[N, classes]`. In training (on a device that records
    /// gradients), a network with stochastic depth draws which blocks run
    /// ([`ResNet::stochastic_depth_draw`]).
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let residuals = self.stochastic_depth_draw(&x.device());
        self.forward_residuals(x, &residuals)
    }

    /// Class scores with each block's residual function as `residuals` says, in network order
    /// (blocks beyond its end run in full): a fixed stochastic-depth pattern, or a lesion
    /// study's blocks left out at test time (Veit et al. 2016, `Residual::Skipped`).
    pub fn forward_residuals(&self, x: Tensor<4>, residuals: &[Residual]) -> Tensor<2> {
        let mut residuals = residuals.iter().copied();
        self.head_of_stages(self.forward_stages_recording(x, &mut None, &mut residuals))
    }

    /// The output of every stage (for a backbone: C2–C5 of the ImageNet nets, the 32x32,
    /// 16x16 and 8x8 maps of the CIFAR nets). A pre-activation network's last output is after
    /// its final BN + ReLU (as timm's features are). Stochastic depth as in [`ResNet::forward`].
    pub fn forward_stages(&self, x: Tensor<4>) -> Vec<Tensor<4>> {
        let residuals = self.stochastic_depth_draw(&x.device());
        self.forward_stages_recording(x, &mut None, &mut residuals.into_iter())
    }

    /// Logits, and the response of every 3x3 layer in network order: its output after BN,
    /// before ReLU and before any addition (what the paper's Fig. 7 measures). Every block runs.
    pub fn forward_responses(&self, x: Tensor<4>) -> (Tensor<2>, Vec<Tensor<4>>) {
        let mut responses = Vec::new();
        let mut all = std::iter::empty();
        let features = self.forward_stages_recording(x, &mut Some(&mut responses), &mut all);
        let logits = self.head_of_stages(features);
        (logits, responses)
    }

    /// The mean opening `T(x)` of each gated block's gate ([`crate::blocks::gate`]) over the
    /// batch `x`, in network order; empty for a network without gates. Whether gates close
    /// (`T` near 0: the block passes its shortcut on) is what the 2016 paper's Table 1 asks.
    pub fn gate_openings(&self, x: Tensor<4>) -> Vec<f32> {
        if self.config.gate_bias.is_none() {
            return Vec::new();
        }
        let mut x = self.stem_forward(x, &mut None);
        let mut openings = Vec::new();
        for block in self.stages.iter().flat_map(|stage| &stage.blocks) {
            if let Some(gate) = block.gate() {
                let opening = crate::blocks::gate::opening(gate, x.clone());
                openings.push(opening.mean().into_scalar::<f32>());
            }
            x = block.forward(x);
        }
        openings
    }

    /// Stochastic depth's draw for one training pass (Huang et al. 2016, section 3): block `l`
    /// of `L` runs with probability `p_l = 1 - l / L * (1 - p_L)` (`p_L` is
    /// [`ResNetConfig::stochastic_depth`]), its function scaled by `1 / p_l` when it runs
    /// (timm's rule: inference runs every block unscaled, where the paper scales by `p_l`
    /// instead; the two are the same network). The uniform draws come from `device`'s
    /// generator, which training seeds at every step, so that a resumed run draws the same
    /// blocks. Empty (every block in full) without stochastic depth or outside training.
    pub fn stochastic_depth_draw(&self, device: &Device) -> Vec<Residual> {
        let Some(last) = self.config.stochastic_depth else {
            return Vec::new();
        };
        if !device.is_autodiff() {
            return Vec::new();
        }
        let blocks = self.stages.iter().map(|s| s.blocks.len()).sum::<usize>();
        let draws = Tensor::<1>::random([blocks], Distribution::Default, &device.clone().inner());
        let draws = draws.into_data().try_to_vec::<f32>().expect("f32 draws");
        (draws.into_iter().enumerate())
            .map(|(i, u)| {
                let survival = survival_probability(i + 1, blocks, last);
                match (survival >= 1.0, f64::from(u) < survival) {
                    (true, _) => Residual::Full,
                    (false, true) => Residual::Scaled((1.0 / survival) as f32),
                    (false, false) => Residual::Skipped,
                }
            })
            .collect()
    }

    fn head_of_stages(&self, features: Vec<Tensor<4>>) -> Tensor<2> {
        self.head(features.into_iter().last().expect("a network has stages"))
    }

    /// Global average pooling and the classifier, on the last stage's output (after the final
    /// BN + ReLU of a pre-activation network).
    pub fn head(&self, features: Tensor<4>) -> Tensor<2> {
        let [n, c, _, _] = features.dims();
        let pooled = features.mean_dim(3).mean_dim(2).reshape([n, c]);
        self.fc.forward(pooled)
    }

    /// Folds every BN into the convolution before it ([`ConvBn::fold_batch_norm`]): the same
    /// outputs in inference, fewer passes over memory. Call it on a [`Module::valid`] network
    /// that will only run inference. A pre-activation network keeps the BN before each unit
    /// and the final one (a ReLU stands between each and the convolution it precedes); the
    /// BN between a unit's convolutions folds.
    pub fn fold_batch_norm(mut self) -> Self {
        self.stem = self.stem.fold_batch_norm();
        for stage in &mut self.stages {
            stage.blocks = std::mem::take(&mut stage.blocks)
                .into_iter()
                .map(Block::fold_batch_norm)
                .collect();
        }
        self
    }

    /// Every convolution (with the BN after it, if any) of the network: the stem, then each
    /// block's main-path convolutions and projection shortcut, in order.
    pub fn conv_bns(&self) -> impl Iterator<Item = &ConvBn> {
        let blocks = self.stages.iter().flat_map(|stage| &stage.blocks);
        std::iter::once(&self.stem).chain(blocks.flat_map(Block::conv_bns))
    }

    /// Whether any BN has been folded into its convolution ([`ResNet::fold_batch_norm`]).
    pub fn is_folded(&self) -> bool {
        self.conv_bns().any(ConvBn::is_folded)
    }

    /// Replaces the classifier with a freshly initialised one for `classes` classes
    /// (fine-tuning on a new dataset); the rest of the network keeps its weights.
    pub fn with_num_classes(mut self, classes: usize) -> Result<Self, ConfigError> {
        if classes == 0 {
            return Err(ConfigError::NoClasses);
        }
        let [features, _] = self.fc.weight.dims();
        let device = self.fc.weight.device();
        self.fc = LinearConfig::new(features, classes).init(&device);
        self.config.num_classes = classes;
        Ok(self)
    }

    /// Freezes the stem and the first `n` stages for fine-tuning (`n = 0`: the stem alone):
    /// their parameters get no gradient, so the optimizer leaves them (weight decay included),
    /// and their BN layers normalise with their running statistics, which stay as they are
    /// (burn's [`Module::freeze`]). The classifier and the later stages train.
    pub fn freeze_stages(mut self, n: usize) -> Self {
        self.stem = self.stem.freeze();
        self.stages = (self.stages.into_iter().enumerate())
            .map(|(i, stage)| if i < n { stage.freeze() } else { stage })
            .collect();
        self
    }

    /// The description this network was built from.
    pub fn config(&self) -> &ResNetConfig {
        &self.config
    }

    /// The stem's output: convolution, BN and ReLU (the convolution alone in a pre-activation
    /// network), then the max pool of the ImageNet networks.
    fn stem_forward(&self, x: Tensor<4>, responses: &mut Option<&mut Vec<Tensor<4>>>) -> Tensor<4> {
        let x = match &self.norm {
            // Pre-activation: the first block normalises the stem's output.
            Some(_) => self.stem.forward_recording(x, responses),
            None => self.stem.forward_relu(x, None, responses),
        };
        match &self.stem_pool {
            Some(pool) => pool.forward(x),
            None => x,
        }
    }

    fn forward_stages_recording(
        &self,
        x: Tensor<4>,
        responses: &mut Option<&mut Vec<Tensor<4>>>,
        residuals: &mut impl Iterator<Item = Residual>,
    ) -> Vec<Tensor<4>> {
        let mut x = self.stem_forward(x, responses);
        let mut outputs = Vec::with_capacity(self.stages.len());
        for stage in &self.stages {
            x = stage.forward_recording(x, responses, residuals);
            outputs.push(x.clone());
        }
        if let Some(norm) = &self.norm
            && let Some(last) = outputs.pop()
        {
            outputs.push(kernels::batch_norm_relu(norm, last, None));
        }
        outputs
    }
}

/// Stochastic depth's linear rule: the probability that block `l` (1-based) of `blocks` runs
/// in a training pass, from 1 before the first block to `last` at the last.
pub fn survival_probability(l: usize, blocks: usize, last: f64) -> f64 {
    1.0 - l as f64 / blocks as f64 * (1.0 - last)
}
