//! The 3x3 stride-1 convolutions of the paper's networks, one at a time on flex: the forward
//! pass (the input gradient of a stride-1 convolution runs the same kernel), and the weight
//! gradient (the backward pass of a convolution whose input needs no gradient, less the
//! forward's median), in ms per call and useful GFLOP/s (the direct convolution's
//! multiply-adds x 2), median of repeated calls.
//!
//! `cargo bench -p resnet-kernels --bench conv_layers [name filter]`; `RESNET_CONV=direct` for the direct
//! kernel (im2col + gemm) everywhere, `RESNET_CONV=winograd` for Winograd's F(2x2, 3x3) wherever
//! it fits, `RESNET_CONV=winograd4x4` for F(4x4, 3x3)'s forward; by default, the rule of
//! `winograd::applies`. Compare the two
//! in alternate processes (speed drifts within minutes on a shared machine).

use std::time::Instant;

use burn::tensor::{Device, Distribution, Tensor};

/// (name, batch, channels, side).
const LAYERS: [(&str, usize, usize, usize); 9] = [
    ("cifar stage 1", 128, 16, 32),
    ("cifar stage 2", 128, 32, 16),
    ("cifar stage 3", 128, 64, 8),
    ("imagenet conv2", 16, 64, 56),
    ("imagenet conv3", 16, 128, 28),
    ("imagenet conv4", 16, 256, 14),
    ("imagenet conv5", 16, 512, 7),
    ("wrn-28-10 st. 1", 128, 160, 32),
    ("wrn-28-10 st. 3", 128, 640, 8),
];

fn main() {
    let device = Device::flex();
    let mode = std::env::var("RESNET_CONV").unwrap_or_else(|_| "default".into());
    // An argument (not a flag cargo passes) picks the layers whose name contains it.
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    for (name, batch, channels, side) in LAYERS {
        if only
            .as_ref()
            .is_some_and(|only| !name.contains(only.as_str()))
        {
            continue;
        }
        let x = Tensor::<4>::random(
            [batch, channels, side, side],
            Distribution::Normal(0.0, 1.0),
            &device,
        );
        let w = Tensor::<4>::random(
            [channels, channels, 3, 3],
            Distribution::Normal(0.0, 0.1),
            &device,
        );
        let forward = median_seconds(|| {
            let y = resnet_kernels::conv2d(x.clone(), w.clone(), None, 1, 1, 1);
            let _ = y.into_data();
        });
        // The weight gradient: a backward pass from a gradient of ones, the input constant.
        let autodiff = device.clone().autodiff();
        let (xa, wa) = (
            Tensor::<4>::from_data(x.to_data(), &autodiff),
            Tensor::<4>::from_data(w.to_data(), &autodiff),
        );
        let backward = median_seconds(|| {
            let w = wa.clone().require_grad();
            let y = resnet_kernels::conv2d(xa.clone(), w.clone(), None, 1, 1, 1);
            let grads = y.sum().backward();
            let _ = w.grad(&grads).expect("a weight gradient").into_data();
        });
        let weight_grad = (backward - forward).max(1e-9);
        let flops = 2.0 * (batch * channels * channels * 9 * side * side) as f64;
        println!(
            "{mode:8} {name:15} b{batch:<3} c{channels:<3} {side:>2}px: forward {:7.2} ms {:6.1} \
             GFLOP/s, weight gradient {:7.2} ms {:6.1} GFLOP/s",
            forward * 1e3,
            flops / forward / 1e9,
            weight_grad * 1e3,
            flops / weight_grad / 1e9
        );
    }
}

/// The median of `f`'s wall time, over at least 5 calls and up to 2 s (200 calls at most).
fn median_seconds(mut f: impl FnMut()) -> f64 {
    let mut times = Vec::new();
    let started = Instant::now();
    while times.len() < 5 || (started.elapsed().as_secs_f64() < 2.0 && times.len() < 200) {
        let t = Instant::now();
        f();
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
