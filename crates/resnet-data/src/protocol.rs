//! Test-time protocols: which views of an image the network scores (their softmax outputs
//! are averaged).

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::transforms::{MULTI_SCALES, resize_shorter, resized_center_crop, ten_crop};

/// How a test image is presented to the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TestProtocol {
    /// The image as it is (CIFAR's single original 32x32 view).
    AsIs,
    /// Shorter side resized to `resize`, central `crop` x `crop` (ImageNet single crop).
    CenterCrop {
        /// Shorter side after resizing.
        resize: u32,
        /// Side of the crop.
        crop: u32,
    },
    /// The standard 10-crop (corners, centre, and their mirror images) after resizing.
    TenCrop {
        /// Shorter side after resizing.
        resize: u32,
        /// Side of the crops.
        crop: u32,
    },
    /// Fully-convolutional testing at several scales (shorter side), whole image.
    MultiScale {
        /// The shorter sides.
        scales: Vec<u32>,
    },
}

impl TestProtocol {
    /// ImageNet single crop: resize 256, crop 224.
    pub fn center_crop() -> Self {
        Self::CenterCrop {
            resize: 256,
            crop: 224,
        }
    }

    /// ImageNet 10-crop: resize 256, crops of 224.
    pub fn ten_crop() -> Self {
        Self::TenCrop {
            resize: 256,
            crop: 224,
        }
    }

    /// The paper's multi-scale testing: {224, 256, 384, 480, 640}.
    pub fn multi_scale() -> Self {
        Self::MultiScale {
            scales: MULTI_SCALES.to_vec(),
        }
    }

    /// The views of `image` to score.
    pub fn views(&self, image: &RgbImage) -> Vec<RgbImage> {
        match self {
            Self::AsIs => vec![image.clone()],
            Self::CenterCrop { resize, crop } => {
                vec![resized_center_crop(image, *resize, *crop)]
            }
            Self::TenCrop { resize, crop } => {
                ten_crop(&resize_shorter(image, (*resize).max(*crop)), *crop)
            }
            Self::MultiScale { scales } => {
                scales.iter().map(|&s| resize_shorter(image, s)).collect()
            }
        }
    }
}
