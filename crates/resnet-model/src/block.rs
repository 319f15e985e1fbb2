//! [`Block`]: the building block of the paper (Fig. 2, Fig. 5), residual or plain.

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use crate::conv_bn::ConvBn;
use crate::plan::BlockPlan;
use crate::shortcut::Shortcut;

/// `y = ReLU(F(x) + shortcut(x))`, or `y = ReLU(F(x))` in a plain network.
///
/// F is two 3x3 layers (basic block) or 1x1 reduce, 3x3, 1x1 restore (bottleneck), each
/// conv + BN, with ReLU between them.
#[derive(Module, Debug)]
pub struct Block {
    /// The layers of the residual function F.
    pub layers: Vec<ConvBn>,
    /// The shortcut, or `None` in a plain network.
    pub shortcut: Option<Shortcut>,
}

impl Block {
    /// Builds the block a plan describes; `zero_init_residual` zeroes the last BN's gamma of
    /// residual blocks.
    pub fn new(plan: &BlockPlan, zero_init_residual: bool, device: &Device) -> Self {
        let shortcut = Shortcut::new(&plan.shortcut, device);
        let last = plan.layers.len() - 1;
        let layers = plan
            .layers
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let layer = ConvBn::new(spec, device);
                match i == last && zero_init_residual && shortcut.is_some() {
                    true => layer.zero_gamma(),
                    false => layer,
                }
            })
            .collect();
        Self { layers, shortcut }
    }

    /// The block's output.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_recording(x, &mut None)
    }

    /// The block's output; pushes onto `responses` (when given) the response of every 3x3
    /// layer: its output after BN, before ReLU and before the addition (paper Fig. 7).
    pub fn forward_recording(
        &self,
        x: Tensor<4>,
        responses: &mut Option<&mut Vec<Tensor<4>>>,
    ) -> Tensor<4> {
        let last = self.layers.len() - 1;
        let mut shortcut = self.shortcut.as_ref().map(|s| s.forward(x.clone()));
        let mut out = x;
        for (i, layer) in self.layers.iter().enumerate() {
            // The shortcut joins after the last layer's BN, before its ReLU.
            let residual = if i == last { shortcut.take() } else { None };
            out = layer.forward_relu(out, residual, responses);
        }
        out
    }
}
