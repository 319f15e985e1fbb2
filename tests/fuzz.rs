//! Seeded fuzzing of every file format the project reads: a PyTorch checkpoint, a burn
//! record, a CIFAR batch, a CIFAR `.tar.gz`, a JPEG and a run's `run.json`. Each valid file
//! is damaged a few hundred ways (bit flips, truncations, inflated length fields); every case
//! must be a typed error or a correct read, never a panic, and never an allocation sized from a
//! damaged length (the allocator stops the process above 1 GiB; the largest allocation of each
//! format is printed). `FUZZ_CASES=N` sets the cases per format (default 300).

use std::path::Path;

use burn::tensor::Device;
use resnet::data::folder::decode;
use resnet::data::{Cifar, CifarVariant};
use resnet::model::load_model;
use resnet::train::train::Run;
use resnet_testkit::cifar::{batch, cifar10_tar, gzip};
use resnet_testkit::fuzz::{
    Encoding, Field, PeakAllocator, Rng, Tally, digit_fields, mutate, quiet_panics,
};

#[global_allocator]
static ALLOCATOR: PeakAllocator = PeakAllocator;

fn cases() -> usize {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300)
}

fn repo(relative: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn field(offset: usize, width: usize, encoding: Encoding) -> Field {
    Field {
        offset,
        width,
        encoding,
    }
}

/// A zip archive's size, length and offset fields (local headers, central directory, end
/// record): a PyTorch checkpoint is a zip whose entries are stored uncompressed.
fn zip_fields(bytes: &[u8]) -> Vec<Field> {
    let mut fields = Vec::new();
    for at in 0..bytes.len().saturating_sub(4) {
        let le = |offsets: &[(usize, usize)]| {
            offsets
                .iter()
                .map(|&(o, w)| field(at + o, w, Encoding::Le))
                .collect::<Vec<_>>()
        };
        match &bytes[at..at + 4] {
            b"PK\x03\x04" => fields.extend(le(&[(18, 4), (22, 4), (26, 2), (28, 2)])),
            b"PK\x01\x02" => fields.extend(le(&[(20, 4), (24, 4), (28, 2), (30, 2), (42, 4)])),
            b"PK\x05\x06" => fields.extend(le(&[(10, 2), (12, 4), (16, 4)])),
            b"PK\x06\x06" => fields.extend(le(&[(32, 8), (40, 8), (48, 8)])),
            _ => {}
        }
    }
    fields
}

/// A JPEG's segment lengths and its frame's height and width (big-endian).
fn jpeg_fields(bytes: &[u8]) -> Vec<Field> {
    let mut fields = Vec::new();
    let mut at = 2;
    while at + 4 <= bytes.len() && bytes[at] == 0xFF {
        let marker = bytes[at + 1];
        fields.push(field(at + 2, 2, Encoding::Be));
        if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
            fields.extend([
                field(at + 5, 2, Encoding::Be),
                field(at + 7, 2, Encoding::Be),
            ]);
        }
        if marker == 0xDA {
            break;
        }
        at += 2 + u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]) as usize;
    }
    fields
}

/// A tar archive's size fields (octal digits at offset 124 of each header block).
fn tar_fields(bytes: &[u8]) -> Vec<Field> {
    (0..bytes.len() / 512)
        .map(|block| block * 512)
        .filter(|&at| bytes.get(at + 257..at + 262) == Some(b"ustar"))
        .map(|at| field(at + 124, 11, Encoding::Digits))
        .collect()
}

/// Runs `cases()` damaged versions of `valid` through `read`, which gets the damaged bytes
/// written to `path`; prints the tally and returns it.
fn fuzz<T, E: std::fmt::Display>(
    format: &str,
    valid: &[u8],
    fields: &[Field],
    path: &Path,
    seed: u64,
    mut read: impl FnMut(&Path) -> Result<T, E>,
) -> Tally {
    let mut rng = Rng::new(seed);
    let mut tally = Tally::default();
    for index in 0..cases() {
        let (bytes, damage) = mutate(valid, fields, &mut rng, index);
        std::fs::write(path, &bytes).unwrap();
        tally.case(damage, || read(path));
    }
    println!("{}", tally.summary(format));
    tally
}

#[test]
fn damaged_inputs_are_errors_never_panics_or_huge_allocations() {
    quiet_panics();
    let dir = tempfile::tempdir().unwrap();
    let device = Device::flex();
    let mut tallies = Vec::new();

    // A PyTorch checkpoint (torch.save's zip): the public akamaster ResNet-20.
    if let Some(pth) = resnet_testkit::shared("weights/cifar10-akamaster/resnet20.th") {
        let valid = std::fs::read(&pth).unwrap();
        let path = dir.path().join("resnet20.th");
        tallies.push(fuzz(
            "PyTorch checkpoint",
            &valid,
            &zip_fields(&valid),
            &path,
            1,
            |p| load_model(Some("resnet20"), p, None, &device),
        ));
    }

    // A burn record: the built-in 30-epoch ResNet-20. Its length fields: the header's metadata
    // size, and the numbers of the network config stored in the metadata (an inflated depth or
    // width must not build a network of gigabytes).
    let valid = std::fs::read(repo("docs/training/resnet20-30ep/model.bpk")).unwrap();
    let metadata_len = u32::from_le_bytes(valid[6..10].try_into().unwrap()) as usize;
    let mut fields = vec![field(6, 4, Encoding::Le)];
    fields.extend(
        digit_fields(&valid[10..10 + metadata_len])
            .into_iter()
            .map(|mut f| {
                f.offset += 10;
                f
            }),
    );
    let path = dir.path().join("model.bpk");
    tallies.push(fuzz("burn record", &valid, &fields, &path, 2, |p| {
        load_model(None, p, None, &device)
    }));

    // A CIFAR-10 batch (20 records; no length field: labels and sizes are what can be wrong).
    let valid = batch(20, 0);
    let label_bytes: Vec<Field> = (0..20).map(|r| field(r * 3073, 1, Encoding::Le)).collect();
    let path = dir.path().join("data_batch_1.bin");
    tallies.push(fuzz("CIFAR batch", &valid, &label_bytes, &path, 3, |p| {
        CifarVariant::Cifar10.parse_batch("data_batch_1.bin", &std::fs::read(p).unwrap())
    }));

    // A CIFAR-10 .tar.gz (4 training records per batch, 4 test records): half the cases damage
    // the compressed bytes, half the tar inside (its headers' size fields) before compressing.
    let tar = cifar10_tar(4, 4);
    let valid = gzip(&tar);
    let path = dir.path().join("cifar-10-binary.tar.gz");
    let load = |p: &Path| Cifar::load(p);
    tallies.push(fuzz(
        "CIFAR .tar.gz (compressed bytes)",
        &valid,
        &[],
        &path,
        4,
        load,
    ));
    let mut rng = Rng::new(5);
    let mut inner = Tally::default();
    let fields = tar_fields(&tar);
    for index in 0..cases() {
        let (bytes, damage) = mutate(&tar, &fields, &mut rng, index);
        std::fs::write(&path, gzip(&bytes)).unwrap();
        inner.case(damage, || load(&path));
    }
    println!("{}", inner.summary("CIFAR .tar.gz (tar inside)"));
    tallies.push(inner);

    // A JPEG: the photo of the examples.
    let valid = std::fs::read(repo("examples/images/chelsea.jpg")).unwrap();
    let path = dir.path().join("chelsea.jpg");
    tallies.push(fuzz("JPEG", &valid, &jpeg_fields(&valid), &path, 6, decode));

    // run.json: the 30-epoch run's.
    let valid = std::fs::read(repo("docs/training/resnet20-30ep/run.json")).unwrap();
    let run_dir = dir.path().join("run");
    std::fs::create_dir_all(&run_dir).unwrap();
    tallies.push(fuzz(
        "run.json",
        &valid,
        &digit_fields(&valid),
        &run_dir.join("run.json"),
        7,
        |_| Run::read_config(&run_dir),
    ));

    let total: usize = tallies.iter().map(Tally::cases).sum();
    let panics: Vec<&String> = tallies.iter().flat_map(|t| &t.panics).collect();
    println!("{total} cases in all, {} panics", panics.len());
    assert!(panics.is_empty(), "panics: {panics:#?}");
    for tally in &tallies {
        assert!(tally.errors > 0, "the damage is seen");
    }
}
