//! ImageNet-style class-folder trees (`<root>/<class>/<image>`), and the flat `val/` layout
//! with a ground-truth file.

use std::path::{Path, PathBuf};

use image::{ImageDecoder, RgbImage};

use crate::error::DataError;
use crate::split::held_out_indices;

/// File extensions read as images (case-insensitive).
pub const IMAGE_EXTENSIONS: [&str; 6] = ["jpg", "jpeg", "png", "bmp", "webp", "ppm"];

/// One image file and its class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The file.
    pub path: PathBuf,
    /// Index into the folder's classes.
    pub label: usize,
}

/// A labelled image collection on disk.
#[derive(Debug, Clone)]
pub struct ImageFolder {
    /// Class names, sorted; a label is an index into this list.
    pub classes: Vec<String>,
    /// Every image file: by class, then by file name ([`ImageFolder::open`]); in the ground
    /// truth's order ([`ImageFolder::open_flat`]).
    pub samples: Vec<Sample>,
    /// Files that are not read (reported): not images by their extension, or images that the
    /// ground truth of [`ImageFolder::open_flat`] does not list.
    pub ignored: Vec<PathBuf>,
}

/// Whether `path` names an image by its extension (one of [`IMAGE_EXTENSIONS`], any case).
pub fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The image files of `dir` and its other entries, each sorted by name.
fn images_in(dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), DataError> {
    Ok(sorted_entries(dir)?
        .into_iter()
        .partition(|path| path.is_file() && is_image(path)))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let mut entries = std::fs::read_dir(dir)
        .map_err(DataError::io(dir))?
        .map(|e| e.map(|e| e.path()).map_err(DataError::io(dir)))
        .collect::<Result<Vec<_>, _>>()?;
    entries.sort();
    Ok(entries)
}

impl ImageFolder {
    /// Sets `held_out` of the images aside ([`held_out_indices`]): (the rest, the held-out
    /// ones), each with all the classes. The split of a tree without `val/`
    /// ([`FolderSplit`](crate::FolderSplit)), which `resnet eval` repeats.
    pub fn hold_out(&self, held_out: usize, seed: u64) -> Result<(Self, Self), DataError> {
        let (kept, held) = held_out_indices(self.samples.len(), held_out, seed)?;
        let part = |indices: Vec<usize>| Self {
            classes: self.classes.clone(),
            samples: indices
                .into_iter()
                .map(|i| self.samples[i].clone())
                .collect(),
            ignored: self.ignored.clone(),
        };
        Ok((part(kept), part(held)))
    }

    /// Reads a class-folder tree: one sub-directory per class (sorted by name), images inside.
    /// Non-image files are listed in [`ignored`](Self::ignored); a class folder without images
    /// is an error.
    pub fn open(root: impl AsRef<Path>) -> Result<Self, DataError> {
        let root = root.as_ref();
        if !root.is_dir() {
            return Err(DataError::NotFound(format!(
                "{} is not a directory of class folders",
                root.display()
            )));
        }
        let mut folder = Self {
            classes: Vec::new(),
            samples: Vec::new(),
            ignored: Vec::new(),
        };
        for dir in sorted_entries(root)? {
            if !dir.is_dir() {
                folder.ignored.push(dir);
                continue;
            }
            let label = folder.classes.len();
            let (images, others) = images_in(&dir)?;
            if images.is_empty() {
                return Err(DataError::EmptyClass(dir));
            }
            (folder.samples).extend(images.into_iter().map(|path| Sample { path, label }));
            folder.ignored.extend(others);
            let name = dir.file_name().unwrap_or_default().to_string_lossy();
            folder.classes.push(name.into_owned());
        }
        if folder.classes.is_empty() {
            return Err(DataError::NoClasses(root.to_path_buf()));
        }
        Ok(folder)
    }

    /// Reads a flat directory of images labelled by a ground-truth file: either one
    /// `<file name> <class>` pair per line (class as a name from `classes` or a 0-based index
    /// into it), or one 1-based index into `classes` per line for the images in sorted order.
    ///
    /// ILSVRC2012's devkit ground truth is of the second form, but its indices are
    /// ILSVRC2012_IDs, numbered in the order of the devkit's `meta.mat`, not of the sorted
    /// WNIDs that class folders (and torchvision's outputs) use: pass `classes` in
    /// `meta.mat`'s order and the labels index that order, or, for labels that match a
    /// torchvision network, write the ground truth as `<file name> <wnid>` lines with
    /// `classes` the sorted WNIDs.
    pub fn open_flat(
        dir: impl AsRef<Path>,
        ground_truth: impl AsRef<Path>,
        classes: Vec<String>,
    ) -> Result<Self, DataError> {
        let (dir, gt) = (dir.as_ref(), ground_truth.as_ref());
        let text = std::fs::read_to_string(gt).map_err(DataError::io(gt))?;
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let (images, mut ignored) = images_in(dir)?;
        let bad = |line: &str| DataError::Invalid(format!("{}: bad line `{line}`", gt.display()));
        // A class name first: names may be numbers ("10" sorts before "2").
        let class_of = |token: &str, one_based: bool| -> Option<usize> {
            let index = || match token.parse::<usize>().ok()? {
                i if one_based => i.checked_sub(1),
                i => Some(i),
            };
            (classes.iter().position(|c| c == token))
                .or_else(index)
                .filter(|&i| i < classes.len())
        };
        let samples = if lines.iter().all(|l| !l.contains(char::is_whitespace)) {
            if lines.len() != images.len() {
                return Err(DataError::Invalid(format!(
                    "{} has {} labels for {} images",
                    gt.display(),
                    lines.len(),
                    images.len()
                )));
            }
            images
                .into_iter()
                .zip(&lines)
                .map(|(path, line)| {
                    let label = class_of(line, true).ok_or_else(|| bad(line))?;
                    Ok(Sample { path, label })
                })
                .collect::<Result<Vec<_>, DataError>>()?
        } else {
            let mut unlisted: std::collections::BTreeSet<PathBuf> = images.into_iter().collect();
            let samples = lines
                .iter()
                .map(|line| {
                    // The class is the last token: file names may hold spaces.
                    let (name, class) = line
                        .rsplit_once(char::is_whitespace)
                        .ok_or_else(|| bad(line))?;
                    let label = class_of(class, false).ok_or_else(|| bad(line))?;
                    let path = dir.join(name.trim());
                    if !unlisted.remove(&path) {
                        return Err(DataError::Invalid(format!(
                            "{} lists {}, which is not an image in {}",
                            gt.display(),
                            name.trim(),
                            dir.display()
                        )));
                    }
                    Ok(Sample { path, label })
                })
                .collect::<Result<Vec<_>, DataError>>()?;
            ignored.extend(unlisted);
            samples
        };
        if samples.is_empty() {
            return Err(DataError::Invalid(format!(
                "{} labels no images",
                gt.display()
            )));
        }
        Ok(Self {
            classes,
            samples,
            ignored,
        })
    }
}

/// Decodes an image file to RGB, turned upright as its EXIF orientation says (as a camera
/// photo is shown); a file that is not a decodable image is an error naming it.
pub fn decode(path: &Path) -> Result<RgbImage, DataError> {
    let bytes = std::fs::read(path).map_err(DataError::io(path))?;
    let corrupt = |e: image::ImageError| DataError::CorruptImage {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(DataError::io(path))?;
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    // An unreadable orientation tag is no reason to refuse the pixels.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = image::DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    image.apply_orientation(orientation);
    Ok(image.into_rgb8())
}
