//! From `u8` images to the tensors a network takes.

use burn::tensor::{Device, Int, Tensor, TensorData};
use rayon::prelude::*;

use crate::normalize::Normalization;

/// Normalises `n` CHW images of `shape` (contiguous in `pixels`) into an `[n, C, H, W]` tensor,
/// in parallel.
pub fn images_to_tensor(
    pixels: &[u8],
    shape: [usize; 3],
    normalization: &Normalization,
    device: &Device,
) -> Tensor<4> {
    let len: usize = shape.iter().product();
    let n = pixels.len() / len;
    let mut values = vec![0f32; pixels.len()];
    values
        .par_chunks_exact_mut(len)
        .zip(pixels.par_chunks_exact(len))
        .for_each(|(out, image)| normalization.apply(image, shape[0], out));
    let [c, h, w] = shape;
    Tensor::from_data(TensorData::new(values, [n, c, h, w]), device)
}

/// Labels as an integer tensor.
pub fn labels_to_tensor(labels: &[usize], device: &Device) -> Tensor<1, Int> {
    let values: Vec<i64> = labels.iter().map(|&l| l as i64).collect();
    Tensor::from_data(TensorData::new(values, [labels.len()]), device)
}
