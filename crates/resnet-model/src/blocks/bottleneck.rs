//! [`Bottleneck`]: 1x1 reduce, 3x3, 1x1 restore (paper Fig. 5 right), torchvision's
//! `Bottleneck`.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::tensor::{Device, Tensor};

use super::{BlockSpec, Residual};
use crate::config::BlockKind;
use crate::conv_bn::ConvBn;
use crate::plan::BlockPlan;
use crate::shortcut::Shortcut;

/// torchvision names the bottleneck's layers as the basic block's (`conv3`, `bn3` added).
pub(super) const PYTORCH_KEYS: &[(&str, &str)] = super::basic::PYTORCH_KEYS;

/// 1x1 to the stage's width, 3x3, 1x1 to 4x the width, each followed by BN; the stride on
/// the first 1x1 (the paper) or on the 3x3 (torchvision's "v1.5"). In a ResNeXt the 3x3 is
/// split into `cardinality` groups (the ResNeXt paper's Fig. 3c) and the 1x1 layers around it
/// reduce to and restore from its width; in a wide network that width is larger.
pub(super) fn plan(spec: &BlockSpec) -> BlockPlan {
    BlockPlan {
        kind: BlockKind::Bottleneck,
        pre_norm: None,
        layers: spec.bottleneck_layers(),
        shortcut: spec.shortcut_plan(true),
        dropout: 0.0,
        gate: spec.gate_plan(),
    }
}

/// `y = ReLU(BN(conv3(h)) + shortcut(x))`, `h = ReLU(BN(conv2(ReLU(BN(conv1(x))))))`; without
/// the addition in a plain network.
#[derive(Module, Debug)]
pub struct Bottleneck {
    /// 1x1 reduce + BN.
    pub conv1: ConvBn,
    /// 3x3 + BN.
    pub conv2: ConvBn,
    /// 1x1 restore (4x the width) + BN.
    pub conv3: ConvBn,
    /// The shortcut, or `None` in a plain network.
    pub shortcut: Option<Shortcut>,
    /// A Highway gate's 1x1 convolution on the join, in a gated network ([`super::gate`]).
    pub gate: Option<Conv2d>,
}

impl Bottleneck {
    pub(super) fn new(plan: &BlockPlan, zero_init_residual: bool, device: &Device) -> Self {
        let conv3 = ConvBn::new(&plan.layers[2], device);
        Self {
            conv1: ConvBn::new(&plan.layers[0], device),
            conv2: ConvBn::new(&plan.layers[1], device),
            conv3: if zero_init_residual {
                conv3.zero_gamma()
            } else {
                conv3
            },
            shortcut: Shortcut::new(&plan.shortcut, device),
            gate: super::gate::of(plan, device),
        }
    }

    /// The block's output. Response (Fig. 7): the 3x3 layer's output after BN, before ReLU.
    pub(super) fn forward(
        &self,
        x: Tensor<4>,
        responses: &mut Option<&mut Vec<Tensor<4>>>,
        residual: Residual,
    ) -> Tensor<4> {
        if residual == Residual::Skipped {
            return Shortcut::skip_post_activation(self.shortcut.as_ref(), x);
        }
        let shortcut = self.shortcut.as_ref().map(|s| s.forward(x.clone()));
        let opening = super::opening(self.gate.as_ref(), &x);
        let out = self.conv1.forward_relu(x, None, responses);
        let out = self.conv2.forward_relu(out, None, responses);
        // The shortcut joins after the last BN, before its ReLU.
        super::join_post_activation(&self.conv3, out, shortcut, opening, responses, residual)
    }

    pub(super) fn fold_batch_norm(self) -> Self {
        Self {
            conv1: self.conv1.fold_batch_norm(),
            conv2: self.conv2.fold_batch_norm(),
            conv3: self.conv3.fold_batch_norm(),
            shortcut: self.shortcut.map(Shortcut::fold_batch_norm),
            gate: self.gate,
        }
    }

    pub(super) fn conv_bns(&self) -> Vec<&ConvBn> {
        let projection = self.shortcut.as_ref().and_then(Shortcut::projection);
        let layers = [&self.conv1, &self.conv2, &self.conv3];
        layers.into_iter().chain(projection).collect()
    }
}
