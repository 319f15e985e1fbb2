//! [`BasicBlock`]: two 3x3 layers (paper Fig. 5 left), torchvision's `BasicBlock`.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::tensor::{Device, Tensor};

use super::{BlockSpec, Residual};
use crate::config::BlockKind;
use crate::conv_bn::ConvBn;
use crate::plan::{BlockPlan, ConvSpec};
use crate::shortcut::Shortcut;

/// torchvision's names (`conv<k>`, `bn<k>`, `downsample.{0,1}`) → this crate's, inside a
/// block; the bottleneck's are the same.
pub(super) const PYTORCH_KEYS: &[(&str, &str)] = &[
    (r"\.downsample\.0\.", ".shortcut.projection.conv."),
    (r"\.downsample\.1\.", ".shortcut.projection.bn."),
    (r"\.conv(\d)\.", ".conv$1.conv."),
    (r"\.bn(\d)\.", ".conv$1.bn."),
];

/// 3x3 (with the block's stride), 3x3, each followed by BN.
pub(super) fn plan(spec: &BlockSpec) -> BlockPlan {
    BlockPlan {
        kind: BlockKind::Basic,
        pre_norm: None,
        layers: vec![
            ConvSpec::new(spec.in_channels, spec.width, 3, spec.stride),
            ConvSpec::new(spec.width, spec.width, 3, 1),
        ],
        shortcut: spec.shortcut_plan(true),
        dropout: spec.dropout,
        gate: spec.gate_plan(),
    }
}

/// `y = ReLU(BN(conv2(ReLU(BN(conv1(x))))) + shortcut(x))`; without the addition in a plain
/// network; with dropout before conv2 in training, if the config asks for it; with a gate,
/// `ReLU(T F + (1 - T) shortcut(x))`.
#[derive(Module, Debug)]
pub struct BasicBlock {
    /// The first 3x3 layer + BN (carries the block's stride).
    pub conv1: ConvBn,
    /// The second 3x3 layer + BN.
    pub conv2: ConvBn,
    /// The shortcut, or `None` in a plain network.
    pub shortcut: Option<Shortcut>,
    /// A Highway gate's 1x1 convolution on the join, in a gated network ([`super::gate`]).
    pub gate: Option<Conv2d>,
    /// Dropout probability before conv2, in training.
    #[module(skip)]
    dropout: f64,
}

impl BasicBlock {
    pub(super) fn new(plan: &BlockPlan, zero_init_residual: bool, device: &Device) -> Self {
        let conv2 = ConvBn::new(&plan.layers[1], device);
        Self {
            conv1: ConvBn::new(&plan.layers[0], device),
            conv2: if zero_init_residual {
                conv2.zero_gamma()
            } else {
                conv2
            },
            shortcut: Shortcut::new(&plan.shortcut, device),
            gate: super::gate::of(plan, device),
            dropout: plan.dropout,
        }
    }

    /// The block's output. Responses (Fig. 7): each layer's output after BN, before ReLU and
    /// before the addition.
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
        let out = super::dropout(out, self.dropout);
        // The shortcut joins after the last BN, before its ReLU.
        super::join_post_activation(&self.conv2, out, shortcut, opening, responses, residual)
    }

    pub(super) fn fold_batch_norm(self) -> Self {
        Self {
            conv1: self.conv1.fold_batch_norm(),
            conv2: self.conv2.fold_batch_norm(),
            shortcut: self.shortcut.map(Shortcut::fold_batch_norm),
            dropout: self.dropout,
            gate: self.gate,
        }
    }

    pub(super) fn conv_bns(&self) -> Vec<&ConvBn> {
        let projection = self.shortcut.as_ref().and_then(Shortcut::projection);
        [&self.conv1, &self.conv2]
            .into_iter()
            .chain(projection)
            .collect()
    }
}
