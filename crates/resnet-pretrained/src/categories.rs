//! The class names of a network's outputs, in output order.

use std::sync::Arc;

/// ImageNet-1k's 1000 class names in class-index order: torchvision 0.29's
/// `meta["categories"]` (short names, made unique: `crane bird` at 134, `crane` at 517).
const IMAGENET1K: &str = include_str!("../data/imagenet_categories.txt");

/// CIFAR-10's classes, by label (the official `batches.meta.txt`).
const CIFAR10: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// Names of a classifier's outputs, cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Categories(Arc<[String]>);

impl Categories {
    /// ImageNet-1k's 1000 classes.
    pub fn imagenet1k() -> Self {
        Self::new(IMAGENET1K.lines().map(str::to_string).collect())
    }

    /// CIFAR-10's 10 classes.
    pub fn cifar10() -> Self {
        Self::new(CIFAR10.iter().map(|s| s.to_string()).collect())
    }

    /// `class 0`, `class 1`, ...: for weights that do not name their classes.
    pub fn numbered(count: usize) -> Self {
        Self::new((0..count).map(|i| format!("class {i}")).collect())
    }

    /// The given names, by output index.
    pub fn new(names: Vec<String>) -> Self {
        Self(names.into())
    }

    /// The name of output `index`.
    pub fn name(&self, index: usize) -> Option<&str> {
        self.0.get(index).map(String::as_str)
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The names, by output index.
    pub fn names(&self) -> &[String] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imagenet_has_its_thousand_classes_in_index_order() {
        let names = Categories::imagenet1k();
        assert_eq!(names.len(), 1000);
        assert_eq!(names.name(0), Some("tench"));
        assert_eq!(names.name(281), Some("tabby"));
        assert_eq!(
            (names.name(134), names.name(517)),
            (Some("crane bird"), Some("crane"))
        );
        let unique: std::collections::BTreeSet<&String> = names.names().iter().collect();
        assert_eq!(unique.len(), 1000);
        assert_eq!(names.name(999), Some("toilet tissue"));
        assert!(names.names().iter().all(|n| !n.is_empty() && n.trim() == n));
    }
}
