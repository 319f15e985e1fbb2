//! [`Shortcut`]: the connection that skips a block (paper section 3.3, options A, B and C).

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorCreationOptions, s};

use crate::conv_bn::ConvBn;
use crate::plan::ShortcutPlan;

/// The shortcut of one residual block: `x` itself, or `W_s x` where dimensions change.
#[derive(Module, Debug)]
pub struct Shortcut {
    /// Projection `W_s` (1x1 convolution, + BN in the post-activation networks): option C
    /// everywhere, option B where the block changes dimensions. `None` for a parameter-free
    /// shortcut.
    pub projection: Option<ConvBn>,
    /// The shortcut's stride: a parameter-free shortcut subsamples `x[:, :, ::stride, ::stride]`,
    /// a projection convolves with this stride.
    pub stride: usize,
    /// Zero channels that a parameter-free shortcut adds before and after the input's channels.
    pub pad: [usize; 2],
}

impl Shortcut {
    /// Builds the shortcut a plan describes, or `None` for a plain network.
    pub(crate) fn new(plan: &ShortcutPlan, device: &Device) -> Option<Self> {
        match *plan {
            ShortcutPlan::None => None,
            ShortcutPlan::Identity { stride, pad } => Some(Self {
                projection: None,
                stride,
                pad,
            }),
            ShortcutPlan::Projection(spec) => Some(Self {
                projection: Some(ConvBn::new(&spec, device)),
                stride: spec.stride,
                pad: [0, 0],
            }),
        }
    }

    /// The projection, if the shortcut has one.
    pub fn projection(&self) -> Option<&ConvBn> {
        self.projection.as_ref()
    }

    /// Folds the projection's BN into its convolution ([`ConvBn::fold_batch_norm`]).
    pub fn fold_batch_norm(mut self) -> Self {
        self.projection = self.projection.map(ConvBn::fold_batch_norm);
        self
    }

    /// A post-activation block whose residual function is skipped: `ReLU(shortcut(x))` (the
    /// ReLU changes nothing on an identity of a ReLU's output), or `x` itself where the block
    /// has no shortcut.
    pub(crate) fn skip_post_activation(shortcut: Option<&Self>, x: Tensor<4>) -> Tensor<4> {
        match shortcut {
            Some(s) if s.projection.is_some() => crate::kernels::add_relu(s.forward(x), None),
            Some(s) => s.forward(x),
            None => x,
        }
    }

    /// The shortcut's output for the block input `x`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        if let Some(projection) = &self.projection {
            return projection.forward(x);
        }
        let x = match self.stride {
            1 => x,
            s => x.slice(s![.., .., ..;s, ..;s]),
        };
        match self.pad {
            [0, 0] => x,
            [before, after] => {
                let [n, _, h, w] = x.dims();
                // In the input's dtype: `cat` needs one dtype.
                let options = TensorCreationOptions::new(x.device()).with_dtype(x.dtype());
                let zeros = |c| Tensor::<4>::zeros([n, c, h, w], options.clone());
                Tensor::cat(vec![zeros(before), x, zeros(after)], 1)
            }
        }
    }
}
