//! ResNet-1202 (the paper's deepest network) trains on the CPU: one full SGD step at batch 8
//! without overflowing the stack; its peak memory is reported.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{GradientsParams, SgdConfig, momentum::MomentumConfig};
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use resnet::model::zoo;

#[test]
fn resnet1202_training_step_on_cpu() {
    let device = Device::flex().autodiff();
    let model = zoo::config_for("resnet1202")
        .unwrap()
        .init(&device)
        .unwrap();
    let before = model.stem.conv.weight.val().into_data();
    let mut optimizer = SgdConfig::new()
        .with_momentum(Some(
            MomentumConfig::new().with_momentum(0.9).with_dampening(0.0),
        ))
        .with_weight_decay(Some(burn::optim::decay::WeightDecayConfig::new(1e-4)))
        .init();
    let images = Tensor::<4>::random([8, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device);
    let labels =
        Tensor::<1, Int>::from_data(TensorData::from([0i64, 1, 2, 3, 4, 5, 6, 7]), &device);
    let start = std::time::Instant::now();
    let logits = model.forward(images);
    let loss = CrossEntropyLossConfig::new()
        .init(&device)
        .forward(logits, labels);
    let loss_value = loss.clone().into_scalar::<f32>();
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    // The gradient reaches the stem through 1202 layers: finite and not zero (weight decay
    // alone would move the weights too).
    let stem_grad = grads
        .get::<4>(model.stem.conv.weight.id)
        .expect("the stem's weight has a gradient")
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert!(
        stem_grad.iter().all(|g| g.is_finite()),
        "stem gradient not finite"
    );
    let norm = stem_grad.iter().map(|g| g * g).sum::<f32>().sqrt();
    assert!(norm > 0.0, "the stem's gradient is zero");
    let model = optimizer.step(0.1, model, grads);
    let seconds = start.elapsed().as_secs_f64();
    let after = model.stem.conv.weight.val().into_data();
    assert!(loss_value.is_finite(), "loss {loss_value}");
    assert!(
        before.try_to_vec::<f32>().unwrap() != after.try_to_vec::<f32>().unwrap(),
        "the step changed the weights"
    );
    let peak = resnet::train::memory::peak_rss_bytes();
    println!(
        "resnet1202 train step, batch 8: loss {loss_value:.3}, {seconds:.1}s, peak RSS {}",
        peak.map_or("unknown".into(), |b| format!(
            "{:.0} MiB",
            b as f64 / (1 << 20) as f64
        ))
    );
    drop(model);
}
