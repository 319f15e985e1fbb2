//! The same networks on every compiled backend: training steps and inference, in images/s,
//! with the peak memory each measurement adds to its process.
//!
//! `cargo xtask bench [--vs-pytorch]` runs this program, one process per measurement,
//! interleaved with `benches/pytorch_reference.py`, and writes docs/benchmarks.md; run alone,
//! `cargo bench --bench backends` measures every workload once on every compiled backend and
//! prints a table. Its modes (`cargo xtask bench` uses these three):
//!
//! - `--list`: the workloads as JSON (name, network, batch, image side, MACs per image), and
//!   the backends compiled in;
//! - `--one BACKEND WORKLOAD`: one measurement, as JSON on stdout;
//! - `--peak`: this machine's single-precision ceiling, a 4096x4096 SGEMM from the `gemm`
//!   crate (what this project's flex kernels multiply with) on rayon's threads, in GFLOP/s;
//! - `--adapters` (with the `wgpu` feature): the adapters wgpu finds (name, driver, graphics
//!   API, kind) as JSON, what a wgpu measurement ran on (`benches/gpu.py`).
//!
//! Workloads: ResNet-20 train step and eval (batch 128, 32x32), ResNet-56 and ResNet-110 train
//! steps (batch 128), ResNet-50 and ResNeXt-50 32x4d eval (batch 8, 224x224) and train step
//! (batch 16), ResNet-110 train step with stochastic depth (p_L = 0.5). A train step
//! is forward, cross-entropy, backward and an SGD update (momentum 0.9, weight decay 1e-4, the
//! optimiser `resnet train` builds), as `resnet train` runs it; eval is a forward pass with BN
//! folded into the convolutions, as `resnet eval` runs it.
//!
//! The protocol, the same as `benches/pytorch_reference.py`'s: 2 warm-up steps, then steps
//! until at least 10 have run and 10 seconds have passed; the figure is the median step. A
//! warm-up step over 60 s reports that step's time alone (`too_slow`), so that a slow backend
//! has a figure instead of holding the run for minutes (`cargo xtask bench` also stops a
//! measurement of another backend than flex that runs for over 10 minutes: one step can).
//! The memory figure is the peak resident memory of the process (`VmHWM`) less its resident
//! memory before the network was built.

use std::time::{Duration, Instant};

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use resnet::model::{ResNet, ResNetConfig, zoo};
use resnet::train::DeviceSpec;
use resnet::train::memory::{peak_rss_bytes, resident_bytes};
use resnet::train::train::Recipe;
use serde_json::json;

/// One benchmarked workload.
struct Workload {
    arch: &'static str,
    train: bool,
    batch: usize,
    size: usize,
    /// Stochastic depth's p_L, for a training workload that skips blocks.
    stochastic_depth: Option<f64>,
}

const WORKLOADS: [Workload; 10] = [
    Workload {
        arch: "resnet20",
        train: true,
        batch: 128,
        size: 32,
        stochastic_depth: None,
    },
    Workload {
        arch: "resnet20",
        train: false,
        batch: 128,
        size: 32,
        stochastic_depth: None,
    },
    Workload {
        arch: "resnet56",
        train: true,
        batch: 128,
        size: 32,
        stochastic_depth: None,
    },
    Workload {
        arch: "resnet110",
        train: true,
        batch: 128,
        size: 32,
        stochastic_depth: None,
    },
    Workload {
        arch: "preact-resnet110",
        train: true,
        batch: 128,
        size: 32,
        stochastic_depth: None,
    },
    Workload {
        arch: "resnet50",
        train: false,
        batch: 8,
        size: 224,
        stochastic_depth: None,
    },
    Workload {
        arch: "resnet50",
        train: true,
        batch: 16,
        size: 224,
        stochastic_depth: None,
    },
    // The cost of cardinality: about ResNet-50's MACs, the 3x3 layers in 32 groups.
    Workload {
        arch: "resnext50_32x4d",
        train: false,
        batch: 8,
        size: 224,
        stochastic_depth: None,
    },
    Workload {
        arch: "resnext50_32x4d",
        train: true,
        batch: 16,
        size: 224,
        stochastic_depth: None,
    },
    // Stochastic depth (p_L = 0.5) skips about a quarter of the blocks of a training step.
    Workload {
        arch: "resnet110",
        train: true,
        batch: 128,
        size: 32,
        stochastic_depth: Some(0.5),
    },
];

/// Warm-up steps before timing.
const WARM_UP_STEPS: usize = 2;
/// Timed steps at least.
const MIN_STEPS: usize = 10;
/// Timed seconds at least.
const MIN_SECONDS: f64 = 10.0;
/// A warm-up step slower than this ends the measurement with that step's time.
const TOO_SLOW: Duration = Duration::from_secs(60);

impl Workload {
    fn name(&self) -> String {
        let mode = if self.train { "train" } else { "eval" };
        let sd = (self.stochastic_depth).map_or(String::new(), |p| format!("-sd{p}"));
        format!("{}-{mode}-b{}-{}px{sd}", self.arch, self.batch, self.size)
    }

    fn config(&self) -> ResNetConfig {
        let mut config = zoo::config_for(self.arch).expect("a named network");
        config.num_classes = 10;
        config.stochastic_depth = self.stochastic_depth;
        config
    }

    /// Multiply-adds of one image's forward pass.
    fn macs(&self) -> u64 {
        let cost = self.config().cost(self.size, self.size);
        cost.expect("a valid network").macs
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

/// A closure that runs one step of `w` on `device` and waits for it to finish.
fn stepper(w: &Workload, device: &Device) -> Box<dyn FnMut()> {
    if w.train {
        let device = device.clone().autodiff();
        let (x, y) = inputs(w, &device);
        let loss = CrossEntropyLossConfig::new().init(&device);
        let mut optimizer = Recipe::cifar().optimizer();
        let mut model: Option<ResNet> = Some(w.config().init(&device).expect("a valid network"));
        Box::new(move || {
            let m = model.take().expect("the model is put back each step");
            let l = loss.forward(m.forward(x.clone()), y.clone());
            let grads = GradientsParams::from_grads(l.backward(), &m);
            let m = optimizer.step(0.1, m, grads);
            // Wait for the device: read a value of the updated weights.
            let _ = m.fc.weight.val().sum().into_scalar::<f32>();
            model = Some(m);
        })
    } else {
        let model = w.config().init(device).expect("a valid network");
        let model = model.valid().fold_batch_norm();
        let (x, _) = inputs(w, device);
        Box::new(move || {
            let _ = model.forward(x.clone()).into_data();
        })
    }
}

/// One measurement of `w` on `spec`, as JSON.
fn measure(spec: DeviceSpec, w: &Workload) -> serde_json::Value {
    let baseline = resident_bytes();
    let device = spec.device().expect("compiled in");
    let mut step = stepper(w, &device);
    let mut timed = || {
        let start = Instant::now();
        step();
        start.elapsed()
    };
    for _ in 0..WARM_UP_STEPS {
        let seconds = timed();
        if seconds > TOO_SLOW {
            return json!({
                "images_per_sec": w.batch as f64 / seconds.as_secs_f64(),
                "steps": 1,
                "too_slow": true,
                "peak_mib": peak_mib(baseline),
            });
        }
    }
    let mut times = Vec::new();
    while times.len() < MIN_STEPS || times.iter().sum::<f64>() < MIN_SECONDS {
        times.push(timed().as_secs_f64());
    }
    json!({
        "images_per_sec": w.batch as f64 / median(&mut times),
        "steps": times.len(),
        "peak_mib": peak_mib(baseline),
    })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    match values.len() % 2 {
        1 => values[mid],
        _ => (values[mid - 1] + values[mid]) / 2.0,
    }
}

/// The peak resident memory added since `baseline`, in MiB, where the OS reports it.
fn peak_mib(baseline: Option<u64>) -> Option<f64> {
    let (peak, baseline) = (peak_rss_bytes()?, baseline?);
    Some(peak.saturating_sub(baseline) as f64 / (1 << 20) as f64)
}

/// GFLOP/s of the best of three 4096x4096 SGEMMs on rayon's threads.
fn peak_gflops() -> f64 {
    let n = 4096;
    let a: Vec<f32> = (0..n * n).map(|i| (i % 7) as f32 * 0.25).collect();
    let b: Vec<f32> = (0..n * n).map(|i| (i % 5) as f32 * 0.5).collect();
    let mut c = vec![0.0f32; n * n];
    let threads = rayon::current_num_threads();
    let mut best = f64::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        // SAFETY: three row-major n x n matrices, `c` aliasing neither `a` nor `b`.
        unsafe {
            gemm::gemm(
                n,
                n,
                n,
                c.as_mut_ptr(),
                1,
                n as isize,
                false,
                a.as_ptr(),
                1,
                n as isize,
                b.as_ptr(),
                1,
                n as isize,
                0.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::Rayon(threads),
            );
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    2.0 * (n as f64).powi(3) / best / 1e9
}

fn workload(name: &str) -> &'static Workload {
    WORKLOADS
        .iter()
        .find(|w| w.name() == name)
        .unwrap_or_else(|| panic!("no workload {name}; `--list` names them"))
}

/// The adapters wgpu finds on this machine, every graphics API: what burn's default wgpu device
/// chooses among (the first Vulkan one where Vulkan has any).
#[cfg(feature = "wgpu")]
fn adapters() -> serde_json::Value {
    use burn::backend::wgpu::wgpu;
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
    let adapters = block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    let infos: Vec<_> = adapters
        .iter()
        .map(|adapter| {
            let info = adapter.get_info();
            json!({
                "name": info.name,
                "driver": info.driver,
                "driver_info": info.driver_info,
                "backend": format!("{:?}", info.backend),
                "device_type": format!("{:?}", info.device_type),
            })
        })
        .collect();
    json!(infos)
}

/// Runs a future to completion on this thread (wgpu's native futures are ready at once, or soon).
#[cfg(feature = "wgpu")]
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut context) {
            Poll::Ready(output) => return output,
            Poll::Pending => std::thread::park(),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |f: &str| args.iter().position(|a| a == f);
    if flag("--list").is_some() {
        let workloads: Vec<_> = WORKLOADS
            .iter()
            .map(|w| {
                json!({
                    "name": w.name(),
                    "arch": w.arch,
                    "train": w.train,
                    "batch": w.batch,
                    "size": w.size,
                    "stochastic_depth": w.stochastic_depth,
                    "macs_per_image": w.macs(),
                })
            })
            .collect();
        let backends: Vec<String> = backends().iter().map(ToString::to_string).collect();
        let list = json!({ "workloads": workloads, "backends": backends });
        println!("{list}");
    } else if let Some(at) = flag("--one") {
        let (backend, name) = match (args.get(at + 1), args.get(at + 2)) {
            (Some(b), Some(w)) => (b, w),
            _ => panic!("usage: --one BACKEND WORKLOAD"),
        };
        let spec: DeviceSpec = backend.parse().expect("a backend name");
        println!("{}", measure(spec, workload(name)));
    } else if flag("--adapters").is_some() {
        #[cfg(feature = "wgpu")]
        println!("{}", adapters());
        #[cfg(not(feature = "wgpu"))]
        panic!("--adapters needs the wgpu feature");
    } else if flag("--peak").is_some() {
        let peak = json!({ "gflops": peak_gflops(), "threads": rayon::current_num_threads() });
        println!("{peak}");
    } else {
        // `cargo bench --bench backends`: everything once, in this process (the memory column
        // then counts from the first measurement's start; `cargo xtask bench` runs each in a
        // process of its own).
        let only = std::env::var("RESNET_BENCH_ONLY").ok();
        println!("| backend | workload | images/s | peak MiB |\n|---|---|---:|---:|");
        for spec in backends() {
            for w in WORKLOADS
                .iter()
                .filter(|w| only.as_ref().is_none_or(|o| w.name().contains(o.as_str())))
            {
                let m = measure(spec, w);
                println!(
                    "| {spec} | {} | {:.1}{} | {:.0} |",
                    w.name(),
                    m["images_per_sec"].as_f64().unwrap_or(0.0),
                    if m["too_slow"] == true {
                        " (1 step)"
                    } else {
                        ""
                    },
                    m["peak_mib"].as_f64().unwrap_or(f64::NAN),
                );
            }
        }
    }
}
