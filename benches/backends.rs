//! The same networks on every compiled backend: training steps and inference, in images/s,
//! with each workload's peak heap memory (host memory: CPU backends).
//!
//! `cargo bench --bench backends` (add `--features wgpu` etc. for more backends);
//! `cargo xtask bench` runs it and writes docs/benchmarks.md. Workloads: ResNet-20 train step
//! and eval (batch 128, 32x32), ResNet-56 and ResNet-110 train steps (batch 128), ResNet-50
//! eval (batch 8, 224x224) and train step (batch 16). A train step is forward, cross-entropy,
//! backward and an SGD update (momentum 0.9, weight decay 1e-4), as in training.
//! `RESNET_BENCH_ONLY=resnet20-train` keeps the workloads whose name contains that text.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use resnet::model::{ResNet, zoo};
use resnet::train::DeviceSpec;
use resnet::train::train::Recipe;

/// One benchmarked workload.
struct Workload {
    arch: &'static str,
    train: bool,
    batch: usize,
    size: usize,
}

const WORKLOADS: [Workload; 6] = [
    Workload {
        arch: "resnet20",
        train: true,
        batch: 128,
        size: 32,
    },
    Workload {
        arch: "resnet20",
        train: false,
        batch: 128,
        size: 32,
    },
    Workload {
        arch: "resnet56",
        train: true,
        batch: 128,
        size: 32,
    },
    Workload {
        arch: "resnet110",
        train: true,
        batch: 128,
        size: 32,
    },
    Workload {
        arch: "resnet50",
        train: false,
        batch: 8,
        size: 224,
    },
    Workload {
        arch: "resnet50",
        train: true,
        batch: 16,
        size: 224,
    },
];

impl Workload {
    fn name(&self) -> String {
        let mode = if self.train { "train" } else { "eval" };
        format!("{}-{mode}-b{}-{}px", self.arch, self.batch, self.size)
    }
}

/// The backends compiled into this build.
fn backends() -> Vec<DeviceSpec> {
    ["flex", "ndarray", "wgpu", "vulkan", "cuda"]
        .iter()
        .filter_map(|name| name.parse::<DeviceSpec>().ok())
        .filter(|spec| spec.device().is_ok())
        .collect()
}

/// The system allocator, counting live bytes and their peak: each workload's peak heap, which
/// the process's peak RSS cannot give once an earlier workload has grown the heap.
struct CountingAllocator;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Counts `size` new live bytes when `ptr` is an allocation.
fn counted(ptr: *mut u8, size: usize) -> *mut u8 {
    if !ptr.is_null() {
        let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
        PEAK.fetch_max(live, Ordering::Relaxed);
    }
    ptr
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        counted(unsafe { System.alloc(layout) }, layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        counted(unsafe { System.alloc_zeroed(layout) }, layout.size())
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let new = counted(unsafe { System.realloc(ptr, layout, new_size) }, new_size);
        if !new.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        new
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Starts a workload's peak at the bytes live now.
fn reset_peak_memory() {
    PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
}

fn inputs(w: &Workload, device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
    let x = Tensor::random(
        [w.batch, 3, w.size, w.size],
        Distribution::Normal(0.0, 1.0),
        device,
    );
    let labels: Vec<i64> = (0..w.batch as i64).map(|i| i % 10).collect();
    (
        x,
        Tensor::from_data(TensorData::new(labels, [w.batch]), device),
    )
}

fn network(w: &Workload, device: &Device) -> ResNet {
    let mut config = zoo::config_for(w.arch).expect("a named network");
    config.num_classes = 10;
    config.init(device).expect("a valid network")
}

fn bench(c: &mut Criterion) {
    let only = std::env::var("RESNET_BENCH_ONLY").ok();
    let mut peaks: BTreeMap<String, u64> = BTreeMap::new();
    for spec in backends() {
        let device = spec.device().expect("compiled in");
        let mut group = c.benchmark_group(spec.to_string());
        // Flat sampling: ten samples of equal length; criterion's default (linear) would run a
        // seconds-long training step 55 times at least.
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(20));
        for w in WORKLOADS
            .iter()
            .filter(|w| only.as_ref().is_none_or(|o| w.name().contains(o.as_str())))
        {
            group.throughput(Throughput::Elements(w.batch as u64));
            reset_peak_memory();
            if w.train {
                let device = device.clone().autodiff();
                let (x, y) = inputs(w, &device);
                let loss = CrossEntropyLossConfig::new().init(&device);
                // The paper's SGD (momentum 0.9, weight decay 1e-4) as `resnet train` builds
                // it; the step leaves out the data pipeline and the run's bookkeeping.
                let mut optimizer = Recipe::cifar().optimizer();
                let mut model = Some(network(w, &device));
                group.bench_function(BenchmarkId::from_parameter(w.name()), |b| {
                    b.iter(|| {
                        let m = model.take().expect("the model is put back each step");
                        let l = loss.forward(m.forward(x.clone()), y.clone());
                        let grads = GradientsParams::from_grads(l.backward(), &m);
                        let m = optimizer.step(0.1, m, grads);
                        // Wait for the device: read a value of the updated weights.
                        let _ = m.fc.weight.val().sum().into_scalar::<f32>();
                        model = Some(m);
                    })
                });
            } else {
                // As `resnet eval` runs it: BN folded into the convolutions.
                let model = network(w, &device).valid().fold_batch_norm();
                let (x, _) = inputs(w, &device);
                group.bench_function(BenchmarkId::from_parameter(w.name()), |b| {
                    b.iter(|| model.forward(x.clone()).into_data())
                });
            }
            peaks.insert(
                format!("{spec}/{}", w.name()),
                PEAK.load(Ordering::Relaxed) as u64,
            );
        }
        group.finish();
    }
    // Criterion records times only: peak heap sizes go to stdout, and to $RESNET_BENCH_MEMORY (JSON)
    // for `cargo xtask bench`.
    for (name, bytes) in &peaks {
        println!(
            "peak heap {name}: {:.0} MiB",
            *bytes as f64 / (1 << 20) as f64
        );
    }
    if let Some(path) = std::env::var_os("RESNET_BENCH_MEMORY") {
        let json = serde_json::to_string_pretty(&peaks).expect("a map serialises");
        std::fs::write(&path, json).expect("the memory report is writable");
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
