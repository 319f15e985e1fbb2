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

/// Running sums of one layer's responses, per channel.
#[derive(Debug, Clone)]
struct Moments {
    count: f64,
    sum: Vec<f64>,
    sum_sq: Vec<f64>,
}

impl Moments {
    fn add(&mut self, response: Tensor<4>) {
        let [n, c, h, w] = response.dims();
        let per_channel = response.swap_dims(0, 1).reshape([c, n * h * w]);
        let to_vec = |t: Tensor<2>| -> Vec<f32> {
            t.into_data().try_to_vec::<f32>().expect("f32 responses")
        };
        let sum = to_vec(per_channel.clone().sum_dim(1));
        let sum_sq = to_vec(per_channel.powi_scalar(2).sum_dim(1));
        if self.sum.is_empty() {
            self.sum = vec![0.0; c];
            self.sum_sq = vec![0.0; c];
        }
        for ch in 0..c {
            self.sum[ch] += sum[ch] as f64;
            self.sum_sq[ch] += sum_sq[ch] as f64;
        }
        self.count += (n * h * w) as f64;
    }

    fn response(&self, layer: usize) -> LayerResponse {
        let c = self.sum.len();
        let var = |s: f64, sq: f64, n: f64| (sq / n - (s / n).powi(2)).max(0.0);
        let std = (0..c)
            .map(|ch| var(self.sum[ch], self.sum_sq[ch], self.count).sqrt())
            .sum::<f64>()
            / c as f64;
        let total: f64 = self.sum.iter().sum();
        let total_sq: f64 = self.sum_sq.iter().sum();
        LayerResponse {
            layer,
            channels: c,
            std,
            std_all: var(total, total_sq, self.count * c as f64).sqrt(),
        }
    }
}

/// Response statistics of every 3x3 layer of `model` (in eval mode) over `images`.
pub fn layer_responses(
    model: &ResNet,
    images: &ImageSet,
    normalization: &Normalization,
    batch_size: usize,
    device: &Device,
    mut progress: impl FnMut(usize),
) -> Result<Vec<LayerResponse>, DataError> {
    normalization.check(images.shape)?;
    let mut moments: Vec<Moments> = Vec::new();
    let len = images.image_len();
    for start in (0..images.len()).step_by(batch_size.max(1)) {
        let end = (start + batch_size).min(images.len());
        let x = images_to_tensor(
            &images.pixels[start * len..end * len],
            images.shape,
            normalization,
            device,
        );
        let (_, responses) = model.forward_responses(x);
        if moments.is_empty() {
            moments = vec![
                Moments {
                    count: 0.0,
                    sum: Vec::new(),
                    sum_sq: Vec::new()
                };
                responses.len()
            ];
        }
        for (m, r) in moments.iter_mut().zip(responses) {
            m.add(r);
        }
        progress(end - start);
    }
    Ok(moments
        .iter()
        .enumerate()
        .map(|(i, m)| m.response(i + 1))
        .collect())
}

/// Writes the responses of several networks as one CSV (`model,layer,channels,std,std_all`).
pub fn write_csv(path: &Path, models: &[(String, Vec<LayerResponse>)]) -> Result<(), csv::Error> {
    let mut writer = csv::Writer::from_path(path)?;
    writer.write_record(["model", "layer", "channels", "std", "std_all"])?;
    for (name, responses) in models {
        for r in responses {
            writer.serialize((name, r.layer, r.channels, r.std, r.std_all))?;
        }
    }
    writer.flush()?;
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
