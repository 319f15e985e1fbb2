#![cfg(feature = "flex")]
//! The crate's own kernels against burn's generic path on the same inputs: outputs and both
//! gradients, on the shapes of the paper's networks and on awkward ones.

use burn::tensor::module::{batch_norm_train, conv2d};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use resnet_kernels as kernels;
use resnet_kernels::algorithm::{self, ConvAlgorithm};

/// Largest difference relative to the largest magnitude of `expected`.
fn relative_error(actual: Tensor<4>, expected: Tensor<4>) -> f32 {
    let scale: f32 = expected.clone().abs().max().into_scalar();
    let scale = scale.max(1e-6);
    let error: f32 = (actual - expected).abs().max().into_scalar();
    error / scale
}

/// Normally distributed values from a fixed seed, the same on every run: with random draws, an
/// ill-conditioned case (two samples per BN channel) made both paths' rounding errors, and so
/// the test, depend on the draw.
fn fixed_normal(dims: [usize; 4], mean: f32, std: f32, seed: u64, device: &Device) -> Tensor<4> {
    let mut state = seed;
    let mut uniform = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 40) as f32 + 0.5) / (1u64 << 24) as f32
    };
    let values: Vec<f32> = (0..dims.iter().product())
        .map(|_| {
            let (u, v) = (uniform(), uniform());
            mean + std * (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
        })
        .collect();
    Tensor::from_data(TensorData::new(values, dims), device)
}

/// (batch, in, out, side, kernel, stride, groups)
type Case = (usize, usize, usize, usize, usize, usize, usize);

const CASES: [Case; 20] = [
    (4, 16, 16, 32, 3, 1, 1),    // CIFAR stage 1
    (3, 16, 32, 32, 3, 2, 1),    // CIFAR stage change
    (1, 3, 16, 32, 3, 1, 1),     // stem, batch 1
    (2, 7, 5, 9, 3, 2, 1),       // channels not multiples of 8, odd side
    (2, 13, 11, 10, 3, 1, 1),    // odd channels
    (2, 12, 20, 15, 1, 2, 1),    // projection shortcut, odd side
    (2, 24, 10, 6, 1, 1, 1),     // bottleneck 1x1
    (1, 3, 8, 29, 7, 2, 1),      // ImageNet stem on an odd side
    (8, 32, 64, 16, 1, 2, 1),    // projection shortcut, even side (Wide ResNet)
    (8, 16, 32, 32, 1, 1, 1),    // projection shortcut without stride (Wide ResNet's first)
    (2, 128, 128, 14, 3, 1, 32), // ResNeXt: 32 groups of 4 channels
    (2, 128, 128, 15, 3, 2, 32), // ... striding, odd side
    (1, 256, 256, 7, 3, 2, 32),  // ... batch 1
    (2, 24, 24, 11, 3, 1, 24),   // depthwise (groups = channels)
    (3, 12, 18, 9, 3, 2, 6),     // 2 channels in, 3 out per group, stride 2
    // Winograd F(2x2, 3x3) (>= 32 input channels, 16 without AVX-512; >= 512 tiles in the
    // batch), the input gradient too, and the weight gradient where >= 64 input channels, <= 256
    // tiles an image:
    (11, 64, 64, 14, 3, 1, 1), // ResNet-50's channels, 539 tiles
    (3, 64, 64, 29, 3, 1, 1),  // an odd side (a partial last tile)
    (1, 72, 96, 47, 3, 1, 1),  // batch 1, channels not multiples of 16 (direct weight gradient)
    (32, 64, 64, 8, 3, 1, 1),  // CIFAR's last stage, 512 tiles in 8 groups of 4 images
    // F(4x4, 3x3) (AVX2 without AVX-512: >= 64 channels, outputs >= 32x32), an odd side.
    (2, 64, 80, 33, 3, 1, 1),
];

#[test]
fn flex_convolution_equals_burns_forward_and_gradients() {
    let device = Device::flex().autodiff();
    assert!(kernels::runs_on_flex(&device));
    for case in CASES {
        let (_, _, _, _, kernel, stride, groups) = case;
        // The stride-1 3x3 convolutions by every algorithm, whatever this processor's rule.
        let algorithms: &[ConvAlgorithm] = match (kernel, stride, groups) {
            (3, 1, 1) => &[
                ConvAlgorithm::Measured,
                ConvAlgorithm::Direct,
                ConvAlgorithm::Winograd,
                ConvAlgorithm::Winograd4x4,
            ],
            _ => &[ConvAlgorithm::Measured],
        };
        for &algorithm in algorithms {
            algorithm::with(algorithm, || check_convolution(&device, case));
        }
    }
}

/// One case of [`CASES`], under the thread's algorithm: output, input gradient and weight
/// gradient against burn's.
fn check_convolution(device: &Device, case: Case) {
    let (batch, cin, cout, side, kernel, stride, groups) = case;
    let padding = kernel / 2;
    let case = format!(
        "batch {batch}, {cin}->{cout}, {side}x{side}, k{kernel} s{stride}, {groups} groups, {:?}",
        algorithm::current()
    );
    let x = Tensor::<4>::random(
        [batch, cin, side, side],
        Distribution::Normal(0.0, 1.0),
        device,
    );
    let w = Tensor::<4>::random(
        [cout, cin / groups, kernel, kernel],
        Distribution::Normal(0.0, 0.3),
        device,
    );
    let [oh, ow] = [side; 2].map(|s| (s + 2 * padding - kernel) / stride + 1);
    // A loss whose gradient differs at every output element.
    let loss_weights = Tensor::<4>::random(
        [batch, cout, oh, ow],
        Distribution::Normal(0.0, 1.0),
        device,
    );
    let run = |custom: bool| {
        let (x, w) = (
            x.clone().detach().require_grad(),
            w.clone().detach().require_grad(),
        );
        let y = match custom {
            true => kernels::conv2d(x.clone(), w.clone(), None, stride, padding, groups),
            false => {
                let options = ConvOptions::new([stride; 2], [padding; 2], [1, 1], groups);
                conv2d(x.clone(), w.clone(), None, options)
            }
        };
        let grads = (y.clone() * loss_weights.clone().detach()).sum().backward();
        let dx = x.grad(&grads).expect("input gradient");
        let dw = w.grad(&grads).expect("weight gradient");
        (y.detach(), dx, dw)
    };
    let (y, dx, dw) = run(true);
    let (y_ref, dx_ref, dw_ref) = run(false);
    for (what, a, b) in [
        ("output", y, y_ref),
        ("input grad", dx, dx_ref),
        ("weight grad", dw, dw_ref),
    ] {
        let error = relative_error(a, b);
        assert!(error < 1e-4, "{case}: {what} differs by {error:e}");
    }
}

#[test]
fn inference_convolution_with_bias_shortcut_and_relu_equals_burns() {
    // Plain flex (inference) and flex with autodiff (composed of tracked operations).
    for device in [Device::flex(), Device::flex().autodiff()] {
        let normal = |dims, seed| fixed_normal(dims, 0.0, 1.0, seed, &device);
        let x = normal([2, 6, 9, 9], 1);
        let b = normal([1, 1, 1, 6], 2).reshape([6]);
        let cases = [
            (3, 1, 1),
            (3, 2, 1),
            (1, 1, 1),
            (1, 2, 1),
            (3, 1, 3),
            (3, 2, 6),
        ];
        for (kernel, stride, groups) in cases {
            let padding = kernel / 2;
            let case = format!("{device:?}, k{kernel} s{stride}, {groups} groups");
            let w = normal([6, 6 / groups, kernel, kernel], 3);
            let options = ConvOptions::new([stride; 2], [padding; 2], [1, 1], groups);
            let expected = conv2d(x.clone(), w.clone(), Some(b.clone()), options);
            let [n, c, oh, ow] = expected.dims();
            let shortcut = normal([n, c, oh, ow], 4);
            // The same values laid out transposed in memory (as a strided view would be), and
            // one broadcast over the batch (burn's addition, not the fused kernel).
            let transposed = normal([n, c, ow, oh], 5).swap_dims(2, 3);
            let broadcast = normal([1, c, oh, ow], 6);
            let conv = |residual: Option<Tensor<4>>, relu: bool| match relu {
                true => kernels::conv2d_relu(
                    x.clone(),
                    w.clone(),
                    b.clone(),
                    residual,
                    stride,
                    padding,
                    groups,
                ),
                false => {
                    let b = Some(b.clone());
                    kernels::conv2d(x.clone(), w.clone(), b, stride, padding, groups)
                }
            };
            let relu = burn::tensor::activation::relu;
            let with = |r: &Tensor<4>| relu(expected.clone() + r.clone());
            for (what, actual, expected) in [
                ("bias", conv(None, false), expected.clone()),
                ("bias + ReLU", conv(None, true), relu(expected.clone())),
                (
                    "bias + shortcut + ReLU",
                    conv(Some(shortcut.clone()), true),
                    with(&shortcut),
                ),
                (
                    "strided shortcut",
                    conv(Some(transposed.clone()), true),
                    with(&transposed),
                ),
                (
                    "broadcast shortcut",
                    conv(Some(broadcast.clone()), true),
                    with(&broadcast),
                ),
            ] {
                let error = relative_error(actual, expected);
                assert!(error < 1e-5, "{case}: {what} differs by {error:e}");
            }
        }
    }
}

#[test]
fn flex_batch_norm_equals_burns_forward_statistics_and_gradients() {
    let device = Device::flex().autodiff();
    // (batch, channels, height, width); inputs off-centre, as convolution outputs are.
    for [batch, channels, h, w] in [[4, 16, 32, 32], [1, 5, 7, 9], [3, 13, 8, 8], [2, 64, 1, 1]] {
        let case = format!("{batch}x{channels}x{h}x{w}");
        let normal = |dims, mean, std, seed| fixed_normal(dims, mean, std, seed, &device);
        let x = normal([batch, channels, h, w], 3.0, 2.0, 1);
        let gamma = normal([1, 1, 1, channels], 1.0, 0.5, 2).reshape([channels]);
        let beta = normal([1, 1, 1, channels], 0.0, 0.5, 3).reshape([channels]);
        let loss_weights = normal([batch, channels, h, w], 0.0, 1.0, 4);
        let run = |custom: bool| {
            let (x, gamma, beta) = (
                x.clone().require_grad(),
                gamma.clone().require_grad(),
                beta.clone().require_grad(),
            );
            let (y, mean, var) = match custom {
                true => kernels::batch_norm_train(x.clone(), gamma.clone(), beta.clone(), 1e-5),
                false => {
                    let r = batch_norm_train(x.clone(), gamma.clone(), beta.clone(), 1e-5);
                    (r.output, r.mean, r.variance)
                }
            };
            let grads = (y.clone() * loss_weights.clone()).sum().backward();
            let as4 = |t: Tensor<1>| t.reshape([1, 1, 1, channels]);
            [
                ("output", y.detach()),
                ("mean", as4(mean.detach())),
                ("variance", as4(var.detach())),
                ("input grad", x.grad(&grads).expect("input gradient")),
                (
                    "gamma grad",
                    as4(gamma.grad(&grads).expect("gamma gradient")),
                ),
                ("beta grad", as4(beta.grad(&grads).expect("beta gradient"))),
            ]
        };
        for ((what, a), (_, b)) in run(true).into_iter().zip(run(false)) {
            let error = relative_error(a, b);
            assert!(error < 1e-4, "{case}: {what} differs by {error:e}");
        }
    }
}

#[test]
fn fused_batch_norm_shortcut_and_relu_in_training_equal_burns() {
    use burn::nn::BatchNormConfig;
    let device = Device::flex().autodiff();
    for [batch, channels, h, w] in [[4, 16, 32, 32], [1, 5, 7, 9], [3, 13, 8, 8], [2, 64, 1, 1]] {
        let normal = |dims, mean, std, seed| fixed_normal(dims, mean, std, seed, &device);
        let x = normal([batch, channels, h, w], 3.0, 2.0, 1);
        let shortcut = normal([batch, channels, h, w], 0.0, 1.0, 5);
        let loss_weights = normal([batch, channels, h, w], 0.0, 1.0, 4);
        for with_shortcut in [false, true] {
            let case = format!("{batch}x{channels}x{h}x{w}, shortcut {with_shortcut}");
            // Two identical layers (gamma and beta not at their initial 1 and 0, so that the
            // ReLU's mask cuts through the middle of the distribution).
            let layer = || {
                let mut bn = BatchNormConfig::new(channels).init(&device);
                let gamma = normal([1, 1, 1, channels], 1.0, 0.5, 2).reshape([channels]);
                let beta = normal([1, 1, 1, channels], 0.0, 0.5, 3).reshape([channels]);
                bn.gamma = burn::module::Param::from_tensor(gamma);
                bn.beta = burn::module::Param::from_tensor(beta);
                bn
            };
            let run = |fused: bool| {
                let bn = layer();
                let (x, r) = (x.clone().require_grad(), shortcut.clone().require_grad());
                let residual = with_shortcut.then(|| r.clone());
                let y = match fused {
                    true => kernels::batch_norm_relu(&bn, x.clone(), residual),
                    false => {
                        let y = bn.forward(x.clone());
                        let y = match residual {
                            Some(r) => y + r,
                            None => y,
                        };
                        burn::tensor::activation::relu(y)
                    }
                };
                let grads = (y.clone() * loss_weights.clone()).sum().backward();
                let c4 = |t: Tensor<1>| t.reshape([1, 1, 1, channels]);
                let mut out = vec![
                    ("output", y.detach()),
                    ("input grad", x.grad(&grads).expect("input gradient")),
                    ("gamma grad", c4(bn.gamma.grad(&grads).expect("gamma grad"))),
                    ("beta grad", c4(bn.beta.grad(&grads).expect("beta grad"))),
                    ("running mean", c4(bn.running_mean.value_sync())),
                    ("running var", c4(bn.running_var.value_sync())),
                ];
                if with_shortcut {
                    out.push(("shortcut grad", r.grad(&grads).expect("shortcut grad")));
                }
                out
            };
            for ((what, a), (_, b)) in run(true).into_iter().zip(run(false)) {
                let error = relative_error(a, b);
                assert!(error < 1e-4, "{case}: {what} differs by {error:e}");
            }
        }
    }
}

#[test]
fn batch_norm_layer_updates_running_statistics_as_burns() {
    use burn::nn::{BatchNorm, BatchNormConfig};
    let device = Device::flex().autodiff();
    // Two identical fresh layers: ours runs one, burn's BatchNorm::forward the other.
    let (ours, burns) = (
        BatchNormConfig::new(6).init(&device),
        BatchNormConfig::new(6).init(&device),
    );
    for step in 0..2 {
        let x = Tensor::<4>::random([5, 6, 7, 7], Distribution::Normal(2.0, 3.0), &device);
        let error = relative_error(kernels::batch_norm(&ours, x.clone()), burns.forward(x));
        assert!(error < 1e-4, "step {step}: output differs by {error:e}");
    }
    let stats = |bn: &BatchNorm| {
        let as4 = |t: Tensor<1>| t.reshape([1, 1, 1, 6]);
        [
            as4(bn.running_mean.value_sync()),
            as4(bn.running_var.value_sync()),
        ]
    };
    for (a, b) in stats(&ours).into_iter().zip(stats(&burns)) {
        let error = relative_error(a, b);
        assert!(error < 1e-5, "running statistics differ by {error:e}");
    }
}

#[test]
fn untracked_input_gets_no_gradient_and_the_weight_does() {
    // The stem's input (images) is not tracked; only the weight's gradient is computed.
    let device = Device::flex().autodiff();
    let x = Tensor::<4>::random([2, 3, 8, 8], Distribution::Normal(0.0, 1.0), &device);
    let w = Tensor::<4>::random([4, 3, 3, 3], Distribution::Normal(0.0, 1.0), &device);
    let w = w.require_grad();
    let grads = kernels::conv2d(x.clone(), w.clone(), None, 1, 1, 1)
        .sum()
        .backward();
    assert!(x.grad(&grads).is_none());
    let dw = w.grad(&grads).expect("weight gradient");
    let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
    let w_ref = w.clone().detach().require_grad();
    let grads_ref = conv2d(x, w_ref.clone(), None, options).sum().backward();
    assert!(relative_error(dw, w_ref.grad(&grads_ref).expect("weight gradient")) < 1e-4);
}

#[test]
fn flex_sigmoid_equals_burns_forward_and_gradient() {
    let device = Device::flex().autodiff();
    // A gate's pre-activations (wide, to reach the saturated ends), an odd shape, and a
    // transposed (non-contiguous) view.
    let x = fixed_normal([3, 5, 7, 9], 0.0, 20.0, 7, &device);
    for x in [x.clone(), x.swap_dims(1, 3)] {
        let upstream = fixed_normal(x.dims(), 0.0, 1.0, 8, &device);
        let (ours, burns) = (x.clone().detach().require_grad(), x.detach().require_grad());
        let y = kernels::sigmoid(ours.clone());
        let y_ref = burn::tensor::activation::sigmoid(burns.clone());
        assert!(relative_error(y.clone(), y_ref.clone()) < 1e-6);
        let grads = (y * upstream.clone()).sum().backward();
        let grads_ref = (y_ref * upstream).sum().backward();
        let (dx, dx_ref) = (ours.grad(&grads), burns.grad(&grads_ref));
        let error = relative_error(dx.expect("input gradient"), dx_ref.expect("input gradient"));
        assert!(error < 1e-5, "gradients differ by {error:e}");
    }
    // Untracked, and without autodiff.
    let x = fixed_normal([2, 3, 4, 5], 0.0, 3.0, 9, &Device::flex());
    let expected = burn::tensor::activation::sigmoid(x.clone());
    assert!(relative_error(kernels::sigmoid(x), expected) < 1e-6);
}
