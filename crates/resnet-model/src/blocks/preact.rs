//! [`PreActBlock`]: the pre-activation residual unit of *Identity Mappings in Deep Residual
//! Networks* (He, Zhang, Ren, Sun, 2016, Fig. 4e), basic and bottleneck: timm's `PreActBasic`
//! and `PreActBottleneck`.
//!
//! BN and ReLU come before each convolution and nothing follows the addition, so the identity
//! path runs clean from the first block to the last (section 3 of that paper).

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, BatchNormConfig};
use burn::tensor::{Device, Tensor};

use super::{BlockSpec, Residual};
use crate::config::BlockKind;
use crate::conv_bn::ConvBn;
use crate::kernels;
use crate::plan::{BlockPlan, ConvSpec};
use crate::shortcut::Shortcut;

/// timm's names (`norm<k>`, `conv<k>`, `downsample.conv`) → this crate's, inside a block. The
/// BN before convolution k+1 is stored with convolution k, which it follows (and into which
/// inference folds it).
pub(super) const PYTORCH_KEYS: &[(&str, &str)] = &[
    (r"\.downsample\.conv\.", ".shortcut.projection.conv."),
    (r"\.conv(\d)\.", ".conv$1.conv."),
    (r"\.norm2\.", ".conv1.bn."),
    (r"\.norm3\.", ".conv2.bn."),
];

/// BN on the input, then the basic block's two 3x3 or the bottleneck's 1x1-3x3-1x1, with BN
/// between the convolutions and none after the last; a projection shortcut (where there is
/// one) is a 1x1 convolution without BN.
pub(super) fn plan(spec: &BlockSpec) -> BlockPlan {
    let layers = match spec.kind {
        BlockKind::PreActBottleneck => {
            let mut layers = spec.bottleneck_layers();
            layers[2] = layers[2].without_norm();
            layers
        }
        _ => vec![
            ConvSpec::new(spec.in_channels, spec.width, 3, spec.stride),
            ConvSpec::new(spec.width, spec.width, 3, 1).without_norm(),
        ],
    };
    BlockPlan {
        kind: spec.kind,
        pre_norm: Some(spec.in_channels),
        layers,
        shortcut: spec.shortcut_plan(false),
        dropout: spec.dropout,
        gate: spec.gate_plan(),
    }
}

/// `y = F(ReLU(BN(x))) + shortcut(x)`, F = conv1, BN, ReLU, conv2 (basic) or conv1, BN, ReLU,
/// conv2, BN, ReLU, conv3 (bottleneck). A projection shortcut takes the pre-activated input
/// `ReLU(BN(x))`, as the 2016 paper's code and timm do; a parameter-free one takes `x`.
#[derive(Module, Debug)]
pub struct PreActBlock {
    /// BN of the block's input (followed by ReLU): the "pre-activation".
    pub norm1: BatchNorm,
    /// The first convolution (carries the stride, except in a bottleneck striding on its
    /// 3x3), with the BN that follows it.
    pub conv1: ConvBn,
    /// The second convolution: the last of a basic unit (no BN after it), a bottleneck's 3x3
    /// (with the BN that follows it).
    pub conv2: ConvBn,
    /// A bottleneck's last 1x1 convolution (no BN after it).
    pub conv3: Option<ConvBn>,
    /// The shortcut, or `None` in a plain network.
    pub shortcut: Option<Shortcut>,
    /// A Highway gate's 1x1 convolution on the join, in a gated network ([`super::gate`]).
    pub gate: Option<Conv2d>,
    /// Dropout probability before a basic unit's conv2, in training (Wide ResNets).
    #[module(skip)]
    dropout: f64,
}

impl PreActBlock {
    pub(super) fn new(plan: &BlockPlan, zero_init_residual: bool, device: &Device) -> Self {
        let norm1 =
            BatchNormConfig::new(plan.pre_norm.expect("a pre-activation plan")).init(device);
        let mut layers: Vec<ConvBn> = (plan.layers.iter())
            .map(|spec| ConvBn::new(spec, device))
            .collect();
        if zero_init_residual && let Some(last) = layers.pop() {
            // No BN follows the last convolution: its weights start at zero (as timm does).
            layers.push(last.zero_weight());
        }
        let mut layers = layers.into_iter();
        let (conv1, conv2) = (layers.next(), layers.next());
        Self {
            norm1,
            conv1: conv1.expect("two convolutions at least"),
            conv2: conv2.expect("two convolutions at least"),
            conv3: layers.next(),
            shortcut: Shortcut::new(&plan.shortcut, device),
            gate: super::gate::of(plan, device),
            dropout: plan.dropout,
        }
    }

    /// The block's output. Responses (Fig. 7): each 3x3 convolution's output before the
    /// addition and any ReLU: after the BN that follows it, where one does.
    pub(super) fn forward(
        &self,
        x: Tensor<4>,
        responses: &mut Option<&mut Vec<Tensor<4>>>,
        residual: Residual,
    ) -> Tensor<4> {
        let projects = self
            .shortcut
            .as_ref()
            .and_then(Shortcut::projection)
            .is_some();
        if residual == Residual::Skipped && !projects {
            // The identity (or option A) shortcut alone; no shortcut: the input itself.
            return match &self.shortcut {
                Some(shortcut) => shortcut.forward(x),
                None => x,
            };
        }
        // A skipped block with a projection needs no gate.
        let opening = match residual {
            Residual::Skipped => None,
            _ => super::opening(self.gate.as_ref(), &x),
        };
        let pre = kernels::batch_norm_relu(&self.norm1, x.clone(), None);
        let shortcut = self.shortcut.as_ref().map(|s| match s.projection() {
            Some(_) => s.forward(pre.clone()),
            None => s.forward(x),
        });
        let scale = match residual {
            // A projection of the pre-activated input alone.
            Residual::Skipped => return shortcut.expect("a projection shortcut"),
            Residual::Scaled(s) => Some(s),
            Residual::Full => None,
        };
        let out = self.conv1.forward_relu(pre, None, responses);
        let out = match &self.conv3 {
            None => self
                .conv2
                .forward_recording(super::dropout(out, self.dropout), responses),
            Some(conv3) => {
                let out = self.conv2.forward_relu(out, None, responses);
                conv3.forward_recording(out, responses)
            }
        };
        let out = match scale {
            Some(s) => out.mul_scalar(s),
            None => out,
        };
        match (shortcut, opening) {
            (Some(shortcut), Some(t)) => super::gate::join(t, out, shortcut),
            (Some(shortcut), None) => out + shortcut,
            (None, _) => out,
        }
    }

    /// Folds the BN after conv1 (and after a bottleneck's conv2) into that convolution. The
    /// input's BN stays: a ReLU stands between it and the convolution it precedes, and its
    /// input also feeds the identity shortcut.
    pub(super) fn fold_batch_norm(self) -> Self {
        Self {
            conv1: self.conv1.fold_batch_norm(),
            conv2: self.conv2.fold_batch_norm(),
            ..self
        }
    }

    pub(super) fn conv_bns(&self) -> Vec<&ConvBn> {
        let projection = self.shortcut.as_ref().and_then(Shortcut::projection);
        [&self.conv1, &self.conv2]
            .into_iter()
            .chain(&self.conv3)
            .chain(projection)
            .collect()
    }
}
