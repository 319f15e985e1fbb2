//! The networks' structure: shapes, stage outputs, responses, shortcuts, head replacement.

use burn::module::Module;
use burn::nn::BatchNorm;
use burn::tensor::{Device, Distribution, Tensor, TensorData, Tolerance};
use resnet_model::conv_bn::ConvBn;
use resnet_model::{BottleneckStride, ResNetConfig, ShortcutOption, zoo};

fn device() -> Device {
    Device::flex()
}

fn tiny_imagenet(block: resnet_model::BlockKind) -> ResNetConfig {
    // Table 1's layout at 1/8 width and one block per stage, so the test stays fast.
    ResNetConfig::new(
        resnet_model::Stem::ImageNet,
        block,
        vec![1, 1, 1, 1],
        vec![8, 16, 32, 64],
    )
    .with_num_classes(7)
}

/// ResNet-20 and its pre-activation version (He et al. 2016): stage outputs, the 19 3x3
/// responses, and one set of logits from every entry point.
#[test]
fn cifar_resnet20_shapes() {
    for name in ["resnet20", "preact-resnet20"] {
        let model = zoo::config_for(name).unwrap().init(&device()).unwrap();
        let x = Tensor::<4>::random([2, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device());
        let stages = model.forward_stages(x.clone());
        let dims: Vec<_> = stages.iter().map(|t| t.dims()).collect();
        assert_eq!(dims, vec![[2, 16, 32, 32], [2, 32, 16, 16], [2, 64, 8, 8]]);
        let (logits, responses) = model.forward_responses(x.clone());
        assert_eq!(logits.dims(), [2, 10]);
        // 19 3x3 layers: the first conv and two per block in 9 blocks (Fig. 7's x-axis).
        assert_eq!(responses.len(), 19, "{name}");
        assert_eq!(responses[0].dims(), [2, 16, 32, 32]);
        assert_eq!(responses[18].dims(), [2, 64, 8, 8]);
        // All three entry points compute the same logits.
        let plain_logits = model.forward(x);
        plain_logits
            .into_data()
            .assert_approx_eq::<f32>(&logits.into_data(), Tolerance::default());
    }
}

#[test]
fn imagenet_stage_outputs_are_c2_to_c5() {
    for block in [
        resnet_model::BlockKind::Basic,
        resnet_model::BlockKind::Bottleneck,
        resnet_model::BlockKind::PreActBasic,
        resnet_model::BlockKind::PreActBottleneck,
    ] {
        let config = tiny_imagenet(block);
        let e = block.expansion();
        let model = config.init(&device()).unwrap();
        let x = Tensor::<4>::random([1, 3, 64, 64], Distribution::Normal(0.0, 1.0), &device());
        let dims: Vec<_> = model
            .forward_stages(x.clone())
            .iter()
            .map(|t| t.dims())
            .collect();
        assert_eq!(
            dims,
            vec![
                [1, 8 * e, 16, 16],
                [1, 16 * e, 8, 8],
                [1, 32 * e, 4, 4],
                [1, 64 * e, 2, 2]
            ]
        );
        assert_eq!(model.forward(x).dims(), [1, 7]);
    }
}

#[test]
fn bottleneck_stride_placement() {
    let stride_of = |placement| {
        let config =
            tiny_imagenet(resnet_model::BlockKind::Bottleneck).with_bottleneck_stride(placement);
        let model = config.init(&device()).unwrap();
        let block = &model.stages[1].blocks[0];
        (block.conv_bns().iter().take(3))
            .map(|l| l.conv.stride[0])
            .collect::<Vec<_>>()
    };
    assert_eq!(stride_of(BottleneckStride::OnReduce), vec![2, 1, 1]);
    assert_eq!(stride_of(BottleneckStride::On3x3), vec![1, 2, 1]);
}

#[test]
fn shortcut_options() {
    let projections = |option| {
        let model = ResNetConfig::cifar(14)
            .unwrap()
            .with_shortcut(option)
            .init(&device())
            .unwrap();
        model
            .stages
            .iter()
            .flat_map(|s| &s.blocks)
            .map(|b| match b.shortcut() {
                None => 'x',
                Some(s) if s.projection().is_some() => 'P',
                Some(_) => 'I',
            })
            .collect::<String>()
    };
    // Two blocks per stage; dimensions change at the first block of stages 2 and 3.
    assert_eq!(projections(ShortcutOption::Plain), "xxxxxx");
    assert_eq!(projections(ShortcutOption::A), "IIIIII");
    assert_eq!(projections(ShortcutOption::B), "IIPIPI");
    assert_eq!(projections(ShortcutOption::C), "PPPPPP");
}

/// Option A: `x[:, :, ::2, ::2]` with planes/4 zero channels on each side (the public
/// PyTorch CIFAR reference's layout).
#[test]
fn option_a_subsamples_and_pads_both_sides() {
    let model = zoo::config_for("resnet20")
        .unwrap()
        .init(&device())
        .unwrap();
    let shortcut = model.stages[1].blocks[0].shortcut().unwrap();
    assert_eq!((shortcut.stride, shortcut.pad), (2, [8, 8]));
    let values: Vec<f32> = (0..16 * 4 * 4).map(|v| v as f32 + 1.0).collect();
    let x = Tensor::<4>::from_data(TensorData::new(values, [1, 16, 4, 4]), &device());
    let y = shortcut.forward(x);
    assert_eq!(y.dims(), [1, 32, 2, 2]);
    let y = y.into_data().try_to_vec::<f32>().unwrap();
    assert!(
        y[..8 * 4].iter().all(|&v| v == 0.0),
        "8 zero channels first"
    );
    assert!(
        y[24 * 4..].iter().all(|&v| v == 0.0),
        "8 zero channels last"
    );
    // Channel 0 of the input, rows/cols 0 and 2: values 1, 3, 9, 11.
    assert_eq!(&y[8 * 4..8 * 4 + 4], &[1.0, 3.0, 9.0, 11.0]);
}

#[test]
fn plain_network_has_no_shortcuts_and_same_params() {
    let residual = zoo::config_for("resnet20")
        .unwrap()
        .init(&device())
        .unwrap();
    let plain = zoo::config_for("plain20").unwrap().init(&device()).unwrap();
    assert!(
        plain
            .stages
            .iter()
            .flat_map(|s| &s.blocks)
            .all(|b| b.shortcut().is_none())
    );
    assert_eq!(residual.num_params(), plain.num_params());
}

#[test]
fn built_params_equal_the_accounting() {
    for name in [
        "resnet20",
        "resnet18",
        "resnet50",
        "preact-resnet20",
        "preact-resnet18",
        "preact-resnet50",
        "preact-resnet164",
        "resnext50_32x4d",
        "cifar-resnext11_4x16d",
        "wrn-10-2",
    ] {
        let config = zoo::config_for(name).unwrap();
        let mut model = config.init(&device()).unwrap();
        // burn counts BN running statistics as parameters too (2 per BN channel).
        let mut bn_channels = 0;
        for_each_bn(&mut model, |bn| bn_channels += bn.gamma.dims()[0]);
        assert_eq!(
            model.num_params() as u64,
            config.num_params().unwrap() + 2 * bn_channels as u64,
            "{name}"
        );
    }
}

/// Calls `f` on every BN of `model`.
fn for_each_bn(model: &mut resnet_model::ResNet, mut f: impl FnMut(&mut BatchNorm)) {
    use resnet_model::Block;
    let mut convs: Vec<&mut ConvBn> = vec![&mut model.stem];
    for block in model.stages.iter_mut().flat_map(|s| &mut s.blocks) {
        let shortcut = match block {
            Block::Basic(b) => {
                convs.extend([&mut b.conv1, &mut b.conv2]);
                &mut b.shortcut
            }
            Block::Bottleneck(b) => {
                convs.extend([&mut b.conv1, &mut b.conv2, &mut b.conv3]);
                &mut b.shortcut
            }
            Block::PreActBasic(b) | Block::PreActBottleneck(b) => {
                f(&mut b.norm1);
                convs.extend([&mut b.conv1, &mut b.conv2]);
                convs.extend(b.conv3.as_mut());
                &mut b.shortcut
            }
        };
        convs.extend(shortcut.as_mut().and_then(|s| s.projection.as_mut()));
    }
    for conv in convs {
        conv.bn.iter_mut().for_each(&mut f);
    }
    model.norm.iter_mut().for_each(f);
}

/// He initialisation: conv weights ~ N(0, 2 / fan_out).
#[test]
fn he_initialisation() {
    let model = zoo::config_for("resnet56")
        .unwrap()
        .init(&device())
        .unwrap();
    let weight = model.stages[2].blocks[3].conv_bns()[0].conv.weight.val();
    let fan_out = 64.0 * 9.0;
    let values = weight.into_data().try_to_vec::<f32>().unwrap();
    let n = values.len() as f64;
    let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = values
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    let expected = 2.0 / fan_out;
    assert!(mean.abs() < 0.01, "mean {mean}");
    assert!(
        (var / expected - 1.0).abs() < 0.1,
        "variance {var} vs {expected}"
    );
}

#[test]
fn zero_init_residual_zeroes_the_last_gamma_of_each_block() {
    let config = zoo::config_for("resnet20")
        .unwrap()
        .with_zero_init_residual(true);
    let model = config.init(&device()).unwrap();
    for block in model.stages.iter().flat_map(|s| &s.blocks) {
        let layers = block.conv_bns();
        let gamma = |layer: &ConvBn| layer.bn.as_ref().unwrap().gamma.val();
        let last = gamma(layers[1]);
        assert_eq!(last.abs().sum().into_scalar::<f32>(), 0.0);
        let first = gamma(layers[0]);
        let channels = first.dims()[0] as f32;
        assert_eq!(
            first.sum().into_scalar::<f32>(),
            channels,
            "other gammas stay 1"
        );
    }
}

#[test]
fn head_replacement_keeps_the_backbone() {
    let model = zoo::config_for("resnet20")
        .unwrap()
        .init(&device())
        .unwrap();
    let stem_before = model.stem.conv.weight.val().into_data();
    let model = model.with_num_classes(100).unwrap();
    assert_eq!(model.config().num_classes, 100);
    let x = Tensor::<4>::zeros([1, 3, 32, 32], &device());
    assert_eq!(model.forward(x).dims(), [1, 100]);
    model
        .stem
        .conv
        .weight
        .val()
        .into_data()
        .assert_eq(&stem_before, true);
    assert!(model.with_num_classes(0).is_err());
}

#[test]
fn record_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resnet20.bpk");
    let model = zoo::config_for("resnet20")
        .unwrap()
        .with_num_classes(100)
        .init(&device())
        .unwrap();
    let metadata = [("classes".to_string(), "cifar100".to_string())].into();
    model.save_record(&path, &metadata).unwrap();
    assert_eq!(
        resnet_model::record::record_metadata(&path).unwrap()["classes"],
        "cifar100"
    );
    let loaded = resnet_model::record::load_record_file(&path, &device()).unwrap();
    assert_eq!(loaded.config(), model.config());
    let x = Tensor::<4>::random([2, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device());
    let (a, b) = (model.valid().forward(x.clone()), loaded.valid().forward(x));
    a.into_data().assert_eq(&b.into_data(), true);
}

/// Gives every BN of `model` statistics and affine parameters away from their initial values,
/// so that folding them into the convolutions has something to fold.
fn with_trained_looking_bn(mut model: resnet_model::ResNet) -> resnet_model::ResNet {
    use burn::module::{Param, RunningState};
    for_each_bn(&mut model, |bn| {
        let [channels] = bn.gamma.dims();
        let device = bn.gamma.device();
        let uniform =
            |lo, hi| Tensor::<1>::random([channels], Distribution::Uniform(lo, hi), &device);
        bn.gamma = Param::from_tensor(uniform(0.5, 1.5));
        bn.beta = Param::from_tensor(uniform(-0.5, 0.5));
        bn.running_mean = RunningState::new(uniform(-0.5, 0.5));
        bn.running_var = RunningState::new(uniform(0.5, 2.0));
    });
    model
}

/// BN folded into the convolutions (what `resnet eval` and `infer` run, through the fused
/// inference kernels on flex) computes what the unfolded network computes: logits and Fig. 7's
/// responses, for basic and bottleneck blocks, options A/B/C and a plain network.
#[test]
fn folded_network_equals_the_unfolded_one() {
    use resnet_model::BlockKind;
    let configs = [
        (
            "resnet20 (option A)",
            zoo::config_for("resnet20").unwrap(),
            32,
        ),
        ("plain20", zoo::config_for("plain20").unwrap(), 32),
        (
            "bottleneck, option B",
            tiny_imagenet(BlockKind::Bottleneck).with_shortcut(ShortcutOption::B),
            64,
        ),
        (
            "basic, option C",
            tiny_imagenet(BlockKind::Basic).with_shortcut(ShortcutOption::C),
            64,
        ),
        (
            "preact-resnet20",
            zoo::config_for("preact-resnet20").unwrap(),
            32,
        ),
        (
            "pre-activation bottleneck, option B",
            tiny_imagenet(BlockKind::PreActBottleneck)
                .with_bottleneck_stride(BottleneckStride::On3x3),
            64,
        ),
        (
            "pre-activation basic, option C",
            tiny_imagenet(BlockKind::PreActBasic).with_shortcut(ShortcutOption::C),
            64,
        ),
    ];
    for (name, config, side) in configs {
        let model = with_trained_looking_bn(config.init(&device()).unwrap()).valid();
        let folded = model.clone().fold_batch_norm();
        let with_bn = |m: &resnet_model::ResNet| {
            let layers: Vec<_> = m.conv_bns().filter(|layer| layer.bn.is_some()).collect();
            layers
                .into_iter()
                .map(ConvBn::is_folded)
                .collect::<Vec<_>>()
        };
        assert!(!model.is_folded() && with_bn(&folded).into_iter().all(|f| f));
        // 2 per block, the stem, and the projections of options B and C.
        let blocks: usize = model.config().blocks_per_stage.iter().sum();
        assert!(folded.conv_bns().count() > blocks * 2, "{name}");
        let dir = tempfile::tempdir().unwrap();
        let err =
            (folded.save_record(dir.path().join("folded.bpk"), &Default::default())).unwrap_err();
        assert!(err.to_string().contains("folded"), "{name}: {err}");
        let x = Tensor::<4>::random(
            [2, 3, side, side],
            Distribution::Normal(0.0, 1.0),
            &device(),
        );
        let close = |a: Tensor<2>, b: Tensor<2>, what: &str| {
            let scale: f32 = b.clone().abs().max().into_scalar();
            let error: f32 = (a - b).abs().max().into_scalar();
            assert!(
                error <= 1e-4 * scale.max(1.0),
                "{name}: {what} differs by {error}"
            );
        };
        close(
            folded.forward(x.clone()),
            model.forward(x.clone()),
            "logits",
        );
        let (_, folded_responses) = folded.forward_responses(x.clone());
        let (_, responses) = model.forward_responses(x);
        assert_eq!(folded_responses.len(), responses.len(), "{name}");
        for (i, (a, b)) in folded_responses.into_iter().zip(responses).enumerate() {
            let flat = |t: Tensor<4>| t.flatten::<2>(1, 3);
            close(flat(a), flat(b), &format!("response {i}"));
        }
    }
}

/// A pre-activation network's record (stem without BN, a final BN) reloads bit-exactly.
#[test]
fn preact_record_round_trip() {
    let model = zoo::config_for("preact-resnet20")
        .unwrap()
        .init(&device())
        .unwrap();
    assert!(model.norm.is_some() && model.stem.bn.is_none());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("preact.bpk");
    model.save_record(&path, &Default::default()).unwrap();
    let loaded = resnet_model::record::load_record_file(&path, &device()).unwrap();
    let x = Tensor::<4>::random([2, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device());
    let (a, b) = (model.valid().forward(x.clone()), loaded.valid().forward(x));
    a.into_data().assert_eq(&b.into_data(), true);
}

/// A record of the layout before blocks had kinds (version 1: `blocks.<j>.layers.<k>`), as
/// `docs/training/resnet20-30ep/model.bpk` was written, loads into today's network.
#[test]
fn version_1_records_load() {
    let path = resnet_testkit::workspace_root().join("docs/training/resnet20-30ep/model.bpk");
    let metadata = resnet_model::record::record_metadata(&path).unwrap();
    assert!(
        !metadata.contains_key(resnet_model::record::FORMAT_KEY),
        "the committed record is a version-1 record"
    );
    let model = resnet_model::record::load_record_file(&path, &device()).unwrap();
    assert_eq!(model.config().block, resnet_model::BlockKind::Basic);
    // Loaded means trained: BN running statistics are not their initial 0 and 1.
    let stem = model.conv_bns().next().unwrap();
    let mean = stem.bn.as_ref().unwrap().running_mean.value();
    assert!(mean.abs().sum().into_scalar::<f32>() > 0.0);
}
