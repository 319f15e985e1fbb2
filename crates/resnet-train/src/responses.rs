//! The analysis of the paper's Fig. 7: how strongly each 3x3 layer responds.
//!
//! A layer's response is its output after BN, before ReLU and before any addition. Its
//! magnitude is the standard deviation of each channel over the images and positions of a
//! data set, averaged over the channels (`std`); `std_all` is the standard deviation of all
//! its values together. Residual functions respond less than plain layers (Fig. 7).

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor};
use resnet_data::batch::images_to_tensor;
use resnet_data::{DataError, ImageSet, Normalization};
use resnet_model::ResNet;
use serde::{Deserialize, Serialize};

use crate::figures::{self, FigureError, Panel, Series, Stroke};

/// One 3x3 layer's response statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerResponse {
    /// Position among the 3x3 layers, from 1 (input side).
    pub layer: usize,
    /// Output channels.
    pub channels: usize,
    /// Per-channel standard deviation, averaged over channels.
    pub std: f64,
    /// Standard deviation of all values of the layer.
    pub std_all: f64,
}

/// Count, mean and sum of squared deviations: merged exactly across batches and channels
/// (Chan et al.), without the cancellation of `E[x^2] - E[x]^2`.
#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    count: f64,
    mean: f64,
    m2: f64,
}

impl Stats {
    fn merge(self, other: Stats) -> Stats {
        let count = self.count + other.count;
        if count == 0.0 {
            return self;
        }
        let delta = other.mean - self.mean;
        Stats {
            count,
            mean: self.mean + delta * other.count / count,
            m2: self.m2 + other.m2 + delta * delta * self.count * other.count / count,
        }
    }

    fn std(&self) -> f64 {
        (self.m2 / self.count.max(1.0)).sqrt()
    }
}

/// One layer's statistics, per channel.
#[derive(Debug, Clone, Default)]
struct Moments(Vec<Stats>);

impl Moments {
    fn add(&mut self, response: Tensor<4>) {
        let [n, c, h, w] = response.dims();
        let per_channel = response.swap_dims(0, 1).reshape([c, n * h * w]);
        let mean = per_channel.clone().mean_dim(1);
        let m2 = (per_channel - mean.clone()).powi_scalar(2).sum_dim(1);
        let to_vec = |t: Tensor<2>| -> Vec<f32> {
            (t.into_data().convert::<f32>().try_to_vec::<f32>()).expect("f32 after convert")
        };
        let (mean, m2) = (to_vec(mean), to_vec(m2));
        self.0.resize(c, Stats::default());
        for (ch, stats) in self.0.iter_mut().enumerate() {
            let batch = Stats {
                count: (n * h * w) as f64,
                mean: mean[ch] as f64,
                m2: m2[ch] as f64,
            };
            *stats = stats.merge(batch);
        }
    }

    fn response(&self, layer: usize) -> LayerResponse {
        let c = self.0.len();
        let all = self.0.iter().fold(Stats::default(), |a, &b| a.merge(b));
        LayerResponse {
            layer,
            channels: c,
            std: self.0.iter().map(Stats::std).sum::<f64>() / c.max(1) as f64,
            std_all: all.std(),
        }
    }
}

/// Response statistics of every 3x3 layer of `model` (in eval mode) over `images`, and, for a
/// gated network, the mean opening of each block's gate over them ([`ResNet::gate_openings`];
/// empty without gates).
pub fn layer_responses(
    model: &ResNet,
    images: &ImageSet,
    normalization: &Normalization,
    batch_size: usize,
    device: &Device,
    mut progress: impl FnMut(usize),
) -> Result<(Vec<LayerResponse>, Vec<f64>), DataError> {
    normalization.check(images.shape)?;
    if batch_size == 0 {
        return Err(DataError::Invalid("the batch size must be positive".into()));
    }
    if images.shape[0] != model.config().in_channels {
        return Err(DataError::Invalid(format!(
            "the images have {} channels but the network takes {}",
            images.shape[0],
            model.config().in_channels
        )));
    }
    let mut moments: Vec<Moments> = Vec::new();
    let mut openings: Vec<f64> = Vec::new();
    let len = images.image_len();
    for start in (0..images.len()).step_by(batch_size) {
        let end = (start + batch_size).min(images.len());
        let x = images_to_tensor(
            &images.pixels[start * len..end * len],
            images.shape,
            normalization,
            device,
        );
        let gates = model.gate_openings(x.clone());
        openings.resize(gates.len(), 0.0);
        for (sum, mean) in openings.iter_mut().zip(gates) {
            *sum += f64::from(mean) * (end - start) as f64;
        }
        let (_, responses) = model.forward_responses(x);
        moments.resize(responses.len(), Moments::default());
        for (m, r) in moments.iter_mut().zip(responses) {
            m.add(r);
        }
        progress(end - start);
    }
    let responses = (moments.iter().enumerate())
        .map(|(i, m)| m.response(i + 1))
        .collect();
    let images = images.len().max(1) as f64;
    Ok((responses, openings.iter().map(|sum| sum / images).collect()))
}

/// Writes the mean gate openings of several networks as one CSV (`model,block,opening`), the
/// file replaced whole or not at all.
pub fn write_gates_csv(path: &Path, models: &[(String, Vec<f64>)]) -> Result<(), csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["model", "block", "opening"])?;
    for (name, openings) in models {
        for (block, opening) in openings.iter().enumerate() {
            writer.serialize((name, block + 1, opening))?;
        }
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    resnet_data::atomic::write(path, &bytes)?;
    Ok(())
}

/// Writes the responses of several networks as one CSV (`model,layer,channels,std,std_all`),
/// creating its directory; the file is replaced whole or not at all.
pub fn write_csv(path: &Path, models: &[(String, Vec<LayerResponse>)]) -> Result<(), csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["model", "layer", "channels", "std", "std_all"])?;
    for (name, responses) in models {
        for r in responses {
            writer.serialize((name, r.layer, r.channels, r.std, r.std_all))?;
        }
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    resnet_data::atomic::write(path, &bytes)?;
    Ok(())
}

/// Fig. 7: the std of each layer's response in network order (left) and sorted by magnitude
/// (right), several networks overlaid. Writes `stem.png` and `stem.svg`.
pub fn plot(
    models: &[(String, Vec<LayerResponse>)],
    stem: &Path,
) -> Result<[PathBuf; 2], FigureError> {
    let series = |sorted: bool| -> Vec<Series> {
        models
            .iter()
            .enumerate()
            .map(|(i, (name, responses))| {
                let mut stds: Vec<f64> = responses.iter().map(|r| r.std).collect();
                if sorted {
                    stds.sort_by(|a, b| b.total_cmp(a));
                }
                Series {
                    label: Some(name.clone()),
                    points: stds
                        .iter()
                        .enumerate()
                        .map(|(j, &s)| ((j + 1) as f64, s))
                        .collect(),
                    color: i,
                    stroke: Stroke::Thin,
                }
            })
            .collect()
    };
    let panel = |title: &str, x_label: &str, sorted| Panel {
        title: title.into(),
        x_label: x_label.into(),
        y_label: "std".into(),
        series: series(sorted),
        y_range: None,
    };
    figures::draw(
        stem,
        &[
            panel(
                "layer responses, original order",
                "layer index (original)",
                false,
            ),
            panel(
                "layer responses, sorted by magnitude",
                "layer index (sorted)",
                true,
            ),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::Stats;

    fn direct(xs: &[f64]) -> Stats {
        let count = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / count;
        let m2 = xs.iter().map(|x| (x - mean).powi(2)).sum();
        Stats { count, mean, m2 }
    }

    #[test]
    fn merged_batches_equal_the_whole() {
        // A large mean and a small spread: where E[x^2] - E[x]^2 cancels.
        let xs: Vec<f64> = (0..1000).map(|i| 1e4 + (i % 7) as f64 * 1e-2).collect();
        let merged = [&xs[..300], &xs[300..301], &xs[301..]]
            .iter()
            .map(|part| direct(part))
            .fold(Stats::default(), Stats::merge);
        let whole = direct(&xs);
        assert!((merged.mean - whole.mean).abs() < 1e-9);
        assert!((merged.std() - whole.std()).abs() < 1e-9 * whole.std().max(1.0));
        assert!(whole.std() > 0.01);
    }
}
