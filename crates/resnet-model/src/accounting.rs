//! Parameter and multiply-add counts, computed from the plan without building the model.
//!
//! Conventions (those of the paper's Table 1 and of torchvision/fvcore): parameters are the
//! learnable ones (conv weights, BN gamma and beta, classifier weight and bias; BN running
//! statistics are buffers). Multiply-adds (MACs) count convolutions and the classifier, one per
//! weight use (a grouped convolution's fewer weights, fewer uses); BN, ReLU, pooling and shortcut additions are not counted.

use crate::config::ResNetConfig;
use crate::error::ConfigError;
use crate::plan::{ConvSpec, NetworkPlan, ShortcutPlan};

/// Size of a network: learnable parameters and multiply-adds for one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Cost {
    /// Learnable parameters.
    pub params: u64,
    /// Multiply-adds for one image of the given size.
    pub macs: u64,
}

impl ResNetConfig {
    /// Parameters and MACs of the network for one `height` x `width` image, without building
    /// it; an error if the config is invalid.
    pub fn cost(&self, height: usize, width: usize) -> Result<Cost, ConfigError> {
        Ok(self.plan()?.cost(height, width))
    }

    /// Number of learnable parameters (they do not depend on the input size).
    pub fn num_params(&self) -> Result<u64, ConfigError> {
        Ok(self.cost(1, 1)?.params)
    }
}

impl NetworkPlan {
    /// Parameters and MACs for one `height` x `width` image.
    fn cost(&self, height: usize, width: usize) -> Cost {
        let mut cost = Cost { params: 0, macs: 0 };
        let mut size = [height, width];
        size = conv_cost(&self.stem, size, &mut cost);
        if self.stem_pool {
            // 3x3/2 max pool, padding 1.
            size = size.map(|s| (s + 2 - 3) / 2 + 1);
        }
        for block in self.stages.iter().flatten() {
            let input = size;
            cost.params += block.pre_norm.map_or(0, norm_params);
            for layer in &block.layers {
                size = conv_cost(layer, size, &mut cost);
            }
            if let ShortcutPlan::Projection(projection) = &block.shortcut {
                conv_cost(projection, input, &mut cost);
            }
            if let Some((gate, _)) = &block.gate {
                conv_cost(gate, input, &mut cost);
                cost.params += gate.out_channels as u64; // its bias
            }
        }
        cost.params += self.head_norm.map_or(0, norm_params);
        let fc = (self.features * self.classes) as u64;
        cost.params += fc + self.classes as u64;
        cost.macs += fc;
        cost
    }
}

/// BN's gamma and beta.
fn norm_params(channels: usize) -> u64 {
    2 * channels as u64
}

/// Adds one convolution (and its BN) to `cost`; returns the output size.
fn conv_cost(conv: &ConvSpec, [h, w]: [usize; 2], cost: &mut Cost) -> [usize; 2] {
    let (oh, ow) = (conv.output_size(h), conv.output_size(w));
    let weights = conv.weights();
    cost.params += weights
        + if conv.norm {
            norm_params(conv.out_channels)
        } else {
            0
        };
    cost.macs += weights * (oh * ow) as u64;
    [oh, ow]
}
