//! Images/s of the training pipelines, on one thread and on all cores:
//! CIFAR (pad-4 crop + flip of a shuffled batch) and ImageNet (JPEG decode, scale
//! augmentation, 224 crop, flip, PCA lighting) on generated ~500x375 JPEGs.
//!
//! `cargo bench -p resnet-data --bench pipelines`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use image::{Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use resnet_data::ImageSet;
use resnet_data::augment::PadCropFlip;
use resnet_data::folder::Sample;
use resnet_data::pipeline::{CifarTrainBatches, imagenet_train_batch};
use resnet_data::transforms::{PcaLighting, ScaleAugment};

fn pools() -> Vec<(String, rayon::ThreadPool)> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut sizes = vec![1];
    if cores > 1 {
        sizes.push(cores);
    }
    sizes
        .into_iter()
        .map(|n| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap();
            (format!("{n} thread(s)"), pool)
        })
        .collect()
}

fn cifar(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut images = ImageSet::with_capacity(10_000, [3, 32, 32], 10);
    let mut pixels = vec![0u8; 3072];
    for i in 0..10_000 {
        rng.fill(&mut pixels[..]);
        images.push(&pixels, i % 10);
    }
    let batches = CifarTrainBatches {
        images: &images,
        batch_size: 128,
        seed: 0,
        augment: PadCropFlip::default(),
    };
    let order = resnet_data::pipeline::epoch_order(images.len(), 0, 0);
    let mut group = c.benchmark_group("cifar_train_batch");
    group.throughput(Throughput::Elements(128));
    for (name, pool) in pools() {
        let mut b = 0;
        group.bench_function(&name, |bench| {
            bench.iter(|| {
                b = (b + 1) % batches.batches_per_epoch();
                pool.install(|| black_box(batches.batch(&order, 0, b)))
            })
        });
    }
    group.finish();
}

/// A photo-like 500x375 JPEG: smooth gradients plus noise (compresses like real images).
fn jpeg(path: &std::path::Path, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let image = RgbImage::from_fn(500, 375, |x, y| {
        let n: i32 = rng.random_range(-12..=12);
        let v = |base: u32| (base as i32 + n).clamp(0, 255) as u8;
        Rgb([v(x / 2), v(y / 2), v((x + y) / 4)])
    });
    image.save(path).unwrap();
}

fn imagenet(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let samples: Vec<Sample> = (0..32)
        .map(|i| {
            let path = dir.path().join(format!("{i}.jpg"));
            jpeg(&path, i);
            Sample {
                path,
                label: i as usize % 10,
            }
        })
        .collect();
    let scale = ScaleAugment::default();
    let lighting = PcaLighting::default();
    let mut group = c.benchmark_group("imagenet_train_batch");
    group.sample_size(10);
    group.throughput(Throughput::Elements(samples.len() as u64));
    for (name, pool) in pools() {
        group.bench_function(&name, |bench| {
            bench.iter(|| {
                pool.install(|| {
                    black_box(
                        imagenet_train_batch(&samples, 10, &scale, Some(&lighting), 1)
                            .expect("valid settings"),
                    )
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, cifar, imagenet);
criterion_main!(benches);
