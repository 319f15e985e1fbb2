//! What a trained network's record says about its data, written and read by the same code.
//!
//! `resnet train` stores it in the burn record beside the network's config; `resnet eval`,
//! `analyze`, `classify` and the examples read it back. A record whose metadata cannot be read
//! is an error naming the key, never a default: a damaged record must not be scored with
//! another normalisation or split than it was trained with.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::normalize::Normalization;

/// The metadata format this code writes; records without the key are version 1 (the same
/// keys, written before the version was).
pub const FORMAT_VERSION: u32 = 1;

const VERSION_KEY: &str = "resnet.metadata_version";
const ARCH_KEY: &str = "resnet.arch";
const CLASSES_KEY: &str = "resnet.classes";
const NORMALIZATION_KEY: &str = "resnet.normalization";
const SEED_KEY: &str = "resnet.seed";
const HELD_OUT_KEY: &str = "resnet.held_out";

/// A trained network's data: its classes, how its inputs were made, the split it learnt from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMetadata {
    /// The `--arch` the network was trained as (a model name or config file).
    pub arch: String,
    /// Class names, by output index.
    pub classes: Vec<String>,
    /// From pixels to network inputs.
    pub normalization: Normalization,
    /// Seed of the train/val split (and of the run).
    pub seed: u64,
    /// Training images held out for validation.
    pub held_out: usize,
}

/// Metadata that is not a [`RunMetadata`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// A key the format requires is absent.
    #[error("the record has no `{0}` metadata (not written by `resnet train`?)")]
    Missing(&'static str),
    /// A key whose value does not parse.
    #[error("the record's `{key}` metadata is invalid: {reason}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
    /// Written by a newer version of this program.
    #[error("the record's metadata is version {found}; this program reads up to {FORMAT_VERSION}")]
    Version {
        /// The version found.
        found: u32,
    },
}

impl RunMetadata {
    /// The record metadata entries (keys `resnet.*`).
    pub fn to_map(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (VERSION_KEY.into(), FORMAT_VERSION.to_string()),
            (ARCH_KEY.into(), self.arch.clone()),
            (CLASSES_KEY.into(), to_json(&self.classes)),
            (NORMALIZATION_KEY.into(), to_json(&self.normalization)),
            (SEED_KEY.into(), self.seed.to_string()),
            (HELD_OUT_KEY.into(), self.held_out.to_string()),
        ])
    }

    /// Whether a record's metadata holds a run's (any of its keys is present): records
    /// converted from elsewhere have none, and are no error.
    pub fn present(map: &BTreeMap<String, String>) -> bool {
        [
            VERSION_KEY,
            CLASSES_KEY,
            NORMALIZATION_KEY,
            SEED_KEY,
            HELD_OUT_KEY,
        ]
        .iter()
        .any(|key| map.contains_key(*key))
    }

    /// Reads the entries [`RunMetadata::to_map`] writes; every key is required.
    pub fn from_map(map: &BTreeMap<String, String>) -> Result<Self, MetadataError> {
        let get = |key: &'static str| map.get(key).ok_or(MetadataError::Missing(key));
        let invalid = |key: &'static str| {
            move |e: &dyn std::fmt::Display| MetadataError::Invalid {
                key,
                reason: e.to_string(),
            }
        };
        let version = match map.get(VERSION_KEY) {
            None => 1,
            Some(v) => v.parse::<u32>().map_err(|e| invalid(VERSION_KEY)(&e))?,
        };
        if version > FORMAT_VERSION {
            return Err(MetadataError::Version { found: version });
        }
        let classes: Vec<String> =
            serde_json::from_str(get(CLASSES_KEY)?).map_err(|e| invalid(CLASSES_KEY)(&e))?;
        let normalization: Normalization = serde_json::from_str(get(NORMALIZATION_KEY)?)
            .map_err(|e| invalid(NORMALIZATION_KEY)(&e))?;
        let metadata = Self {
            arch: get(ARCH_KEY)?.clone(),
            classes,
            normalization,
            seed: get(SEED_KEY)?.parse().map_err(|e| invalid(SEED_KEY)(&e))?,
            held_out: (get(HELD_OUT_KEY)?.parse()).map_err(|e| invalid(HELD_OUT_KEY)(&e))?,
        };
        if metadata.classes.is_empty() {
            return Err(invalid(CLASSES_KEY)(&"no class names"));
        }
        Ok(metadata)
    }
}

fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("metadata values serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run() -> RunMetadata {
        RunMetadata {
            arch: "resnet20".into(),
            classes: vec!["cat".into(), "dog".into()],
            normalization: Normalization::mean_image(vec![0.25; 3 * 2 * 2]),
            seed: 7,
            held_out: 5000,
        }
    }

    #[test]
    fn round_trip() {
        let map = run().to_map();
        assert!(RunMetadata::present(&map));
        assert_eq!(RunMetadata::from_map(&map).unwrap(), run());
        // Records written before the version key are version 1.
        let mut old = map.clone();
        old.remove(VERSION_KEY);
        assert_eq!(RunMetadata::from_map(&old).unwrap(), run());
        assert!(!RunMetadata::present(&BTreeMap::new()));
    }

    #[test]
    fn a_damaged_record_is_refused_naming_the_key() {
        for key in [
            ARCH_KEY,
            CLASSES_KEY,
            NORMALIZATION_KEY,
            SEED_KEY,
            HELD_OUT_KEY,
        ] {
            let mut map = run().to_map();
            map.remove(key);
            let err = RunMetadata::from_map(&map).unwrap_err();
            assert_eq!(err, MetadataError::Missing(key));
            assert!(err.to_string().contains(key));
        }
        for (key, value) in [
            (CLASSES_KEY, "[\"cat\""),
            (CLASSES_KEY, "[]"),
            (NORMALIZATION_KEY, "{\"mean\": [0.5]}"),
            (SEED_KEY, "-1"),
            (HELD_OUT_KEY, "many"),
            (VERSION_KEY, "one"),
        ] {
            let mut map = run().to_map();
            map.insert(key.into(), value.into());
            let err = RunMetadata::from_map(&map).unwrap_err();
            assert!(
                matches!(&err, MetadataError::Invalid { key: k, .. } if *k == key),
                "{key}={value}: {err}"
            );
        }
        let mut map = run().to_map();
        map.insert(VERSION_KEY.into(), (FORMAT_VERSION + 1).to_string());
        assert!(matches!(
            RunMetadata::from_map(&map),
            Err(MetadataError::Version { .. })
        ));
    }
}
