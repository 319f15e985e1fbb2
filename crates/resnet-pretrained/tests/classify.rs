//! Photos in, labels out: the torchvision ResNet-18 fixture (random weights, so the labels
//! mean nothing; the pipeline is what is checked) and the built-in CIFAR-10 ResNet-20.

use burn::tensor::{Device, Tensor, TensorData};
use resnet_data::Preset;
use resnet_data::folder::decode;
use resnet_pretrained::{Categories, Classifier, embedded};
use resnet_testkit::shared;

#[test]
fn a_torchvision_checkpoint_classifies_photos_as_its_logits_say() {
    let (Some(weights), Some(images)) = (
        shared("fixtures/torchvision/resnet18.pth"),
        shared("fixtures/images"),
    ) else {
        return;
    };
    let device = Device::flex();
    let classifier = Classifier::from_file(&weights, Some("resnet18"), &device).unwrap();
    assert_eq!(classifier.preset(), &Preset::imagenet(256));
    assert_eq!(classifier.categories(), &Categories::imagenet1k());
    let photos: Vec<_> = ["chelsea.jpg", "coffee.jpg", "rocket.jpg", "astronaut.png"]
        .iter()
        .map(|name| decode(&images.join(name)).unwrap())
        .collect();
    let batch = classifier.classify_batch(&photos, 5);
    for (photo, top) in photos.iter().zip(&batch) {
        // One image alone gives the same answer as in a batch.
        let alone = classifier.classify(photo, 5);
        for (a, b) in alone.iter().zip(top) {
            assert_eq!(a.index, b.index);
            assert!((a.probability - b.probability).abs() < 1e-5);
        }
        // The best class is the argmax of the network's logits on the preset's input.
        let input = classifier.preset().apply(photo);
        let logits = classifier.model().forward(Tensor::from_data(
            TensorData::new(input, [1, 3, 224, 224]),
            &device,
        ));
        let best = logits.argmax(1).into_scalar::<i64>() as usize;
        assert_eq!(top[0].index, best);
        assert_eq!(top[0].label, Categories::imagenet1k().name(best).unwrap());
    }
}

#[test]
fn the_built_in_resnet20_ranks_cat_first_for_the_cat() {
    let Some(images) = shared("fixtures/images") else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let device = Device::flex();
    let record = embedded::record_path_in(cache.path()).unwrap();
    assert_eq!(
        embedded::record_path_in(cache.path()).unwrap(),
        record,
        "written once"
    );
    let classifier = Classifier::from_file(&record, None, &device).unwrap();
    assert_eq!(classifier.categories(), &Categories::cifar10());
    assert_eq!(classifier.preset().crop, 32);
    let top = classifier.classify(&decode(&images.join("chelsea.jpg")).unwrap(), 3);
    println!("built-in ResNet-20 on chelsea.jpg: {top:?}");
    // The full recipe's network (87.8% on the shared test set) ranks cat first; the 30-epoch
    // one it replaced (84%) ranked it second, after dog (CIFAR-10's hardest pair).
    assert_eq!(top[0].label, "cat", "{top:?}");
    // The record was written into the cache once, whole.
    let written: Vec<_> = std::fs::read_dir(cache.path()).unwrap().collect();
    assert_eq!(written.len(), 1);
}
