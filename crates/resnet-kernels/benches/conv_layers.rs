//! The 3x3 stride-1 convolutions of the paper's networks, one at a time: the forward pass on
//! flex (the input gradient of a stride-1 convolution runs the same kernel), in ms per call
//! and useful GFLOP/s (the direct convolution's multiply-adds x 2), median of repeated calls.
//!
//! `cargo bench -p resnet-kernels --bench conv_layers`; `RESNET_CONV=direct` for the direct
//! kernel (im2col + gemm) everywhere, `RESNET_CONV=winograd` for Winograd's F(2x2, 3x3) wherever
//! it fits; by default, the rule of `winograd::applies`. Compare the two
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
        let mut times = Vec::new();
        let started = Instant::now();
        while times.len() < 5 || (started.elapsed().as_secs_f64() < 2.0 && times.len() < 200) {
            let t = Instant::now();
            let y = resnet_kernels::conv2d(x.clone(), w.clone(), None, 1, 1, 1);
            let _ = y.into_data();
            times.push(t.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let flops = 2.0 * (batch * channels * channels * 9 * side * side) as f64;
        println!(
            "{mode:8} {name:15} b{batch:<3} c{channels:<3} {side:>2}px: {:7.2} ms {:6.1} GFLOP/s",
            median * 1e3,
            flops / median / 1e9
        );
    }
}
