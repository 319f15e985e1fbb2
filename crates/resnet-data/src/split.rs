//! The validation split, in one place: which training images a run holds out (a seeded
//! shuffle of their indices), and where a class-folder tree keeps its training and
//! validation images. Training makes the split and `resnet eval` repeats it from the run's
//! record (its seed and `held_out`), so both go through these functions.

use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::error::DataError;
use crate::folder::ImageFolder;

/// The indices `0..len` as (kept, held out): a seeded random permutation whose last
/// `held_out` indices are held out; with `held_out` 0, every index in order and none held out.
///
/// # Errors
///
/// When `held_out` is not below `len` (nothing would be left to train on).
pub fn held_out_indices(
    len: usize,
    held_out: usize,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>), DataError> {
    if held_out == 0 {
        return Ok(((0..len).collect(), Vec::new()));
    }
    if held_out >= len {
        return Err(DataError::Invalid(format!(
            "cannot hold out {held_out} of {len} images"
        )));
    }
    let mut order: Vec<usize> = (0..len).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let held = order.split_off(len - held_out);
    Ok((order, held))
}

/// Where a class-folder tree keeps its images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FolderLayout {
    /// `root/train/<class>/...` and `root/val/<class>/...` (ImageNet's layout).
    TrainVal,
    /// `root/val/<class>/...` alone: images to evaluate, none to train on.
    ValOnly,
    /// `root/train/<class>/...` alone: validation images are held out of it.
    Train,
    /// `root/<class>/...`: the tree is one set (held out of for validation when training).
    Plain,
}

impl FolderLayout {
    /// The layout of the tree at `root`.
    pub fn of(root: &Path) -> Self {
        match (root.join("train").is_dir(), root.join("val").is_dir()) {
            (true, true) => Self::TrainVal,
            (false, true) => Self::ValOnly,
            (true, false) => Self::Train,
            (false, false) => Self::Plain,
        }
    }

    /// The folder of the training images (or of the whole set): `root/train`, or `root`
    /// itself for a plain tree; none for a tree of validation images only.
    pub fn train_dir(self, root: &Path) -> Option<PathBuf> {
        match self {
            Self::TrainVal | Self::Train => Some(root.join("train")),
            Self::Plain => Some(root.to_path_buf()),
            Self::ValOnly => None,
        }
    }
}

/// A class-folder tree's training images and the validation images of a run.
#[derive(Debug, Clone)]
pub struct FolderSplit {
    /// The training images (less the held-out ones).
    pub train: ImageFolder,
    /// The validation images: `root/val`, or those held out of the training images; none
    /// when the tree has no `val/` and nothing is held out.
    pub val: Option<ImageFolder>,
    /// How many training images were held out as `val` (0 when `val` is `root/val`).
    pub held_out: usize,
}

impl FolderSplit {
    /// `root/train` and `root/val` when both exist (with the same classes), else `root/train`
    /// (or `root` itself) with `held_out` images set aside (seeded) for validation.
    ///
    /// # Errors
    ///
    /// A tree with `val/` but no `train/`, `val/` classes that differ from `train/`'s, too
    /// many images to hold out, or the folders' own errors.
    pub fn open(root: &Path, held_out: usize, seed: u64) -> Result<Self, DataError> {
        let layout = FolderLayout::of(root);
        let Some(train_dir) = layout.train_dir(root) else {
            return Err(DataError::Invalid(format!(
                "{} has a val/ folder but no train/ folder",
                root.display()
            )));
        };
        let all = ImageFolder::open(train_dir)?;
        if layout == FolderLayout::TrainVal {
            let val = ImageFolder::open(root.join("val"))?;
            same_classes(&all, &val)?;
            return Ok(Self {
                train: all,
                val: Some(val),
                held_out: 0,
            });
        }
        let (train, val) = all.hold_out(held_out, seed)?;
        Ok(Self {
            train,
            val: (held_out > 0).then_some(val),
            held_out,
        })
    }
}

/// Labels index the sorted class folders: `val/` must have exactly `train/`'s classes, or
/// every label after a missing or extra folder would silently shift.
fn same_classes(train: &ImageFolder, val: &ImageFolder) -> Result<(), DataError> {
    if train.classes == val.classes {
        return Ok(());
    }
    let others = |of: &ImageFolder, to: &ImageFolder| -> Vec<String> {
        (of.classes.iter())
            .filter(|c| !to.classes.contains(c))
            .cloned()
            .collect()
    };
    let list = |names: Vec<String>| match names.len() {
        0 => "none".to_string(),
        n if n > 5 => format!("{}, ... ({n} in all)", names[..5].join(", ")),
        _ => names.join(", "),
    };
    Err(DataError::Invalid(format!(
        "the val/ folder's classes differ from train/'s ({} and {}): missing from val/: {}; \
         only in val/: {}",
        train.classes.len(),
        val.classes.len(),
        list(others(train, val)),
        list(others(val, train))
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_held_out_keeps_the_order() {
        assert_eq!(
            held_out_indices(4, 0, 7).unwrap(),
            (vec![0, 1, 2, 3], vec![])
        );
    }

    #[test]
    fn the_split_is_a_seeded_partition() {
        let (kept, held) = held_out_indices(100, 10, 3).unwrap();
        assert_eq!((kept.len(), held.len()), (90, 10));
        let mut all: Vec<usize> = kept.iter().chain(&held).copied().collect();
        all.sort();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        assert_eq!(held_out_indices(100, 10, 3).unwrap().1, held, "seeded");
        assert_ne!(held_out_indices(100, 10, 4).unwrap().1, held);
        assert!(held_out_indices(10, 10, 0).is_err());
    }
}
