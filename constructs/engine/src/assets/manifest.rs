//! The asset list of `manifest.json` and the asset files next to the templates.
//!
//! `synth` writes each packaged asset once, as `<out>/assets/<sha256>.zip` (git-ignored: only
//! templates and the manifest are committed), and the manifest lists the assets under `"assets"`,
//! sorted by hash, so a reviewer sees in the diff when the code of a function changed:
//!
//! ```json
//! "assets": [
//!   { "sha256": "9f2c…", "file": "assets/9f2c….zip", "s3_key": "snowcdk/assets/9f2c….zip",
//!     "bytes": 1834, "unpacked_bytes": 5120, "files": 3, "sources": ["lambda/api"] }
//! ]
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::error::AssetError;
use super::hash::AssetHash;
use super::package::PackagedAsset;

/// One asset as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetEntry {
    /// SHA-256 of the zip: the asset's identity.
    pub sha256: String,
    /// The zip, relative to the output directory (`assets/<sha256>.zip`).
    pub file: String,
    /// Its key in the staging bucket (`snowcdk/assets/<sha256>.zip`).
    pub s3_key: String,
    /// The zip's size.
    pub bytes: u64,
    /// The size of the files once unpacked.
    pub unpacked_bytes: u64,
    /// How many files it holds.
    pub files: usize,
    /// What it was packaged from, as given (one content can come from several sources).
    pub sources: Vec<String>,
}

/// The assets of a synth, sorted by hash, each once.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AssetManifest {
    /// One entry per distinct content hash, sorted by hash so the file is stable.
    pub assets: Vec<AssetEntry>,
}

impl AssetManifest {
    /// The manifest entries of these packages (duplicates by hash merged, sources joined).
    pub fn from_packages(assets: &[PackagedAsset]) -> AssetManifest {
        let mut by_hash: BTreeMap<&AssetHash, AssetEntry> = BTreeMap::new();
        for a in assets {
            let source = a.source.display().to_string();
            let e = by_hash.entry(&a.hash).or_insert_with(|| AssetEntry {
                sha256: a.hash.to_string(),
                file: a.hash.relative_path(),
                s3_key: a.hash.s3_key(),
                bytes: a.bytes.len() as u64,
                unpacked_bytes: a.unpacked_bytes(),
                files: a.entries.len(),
                sources: Vec::new(),
            });
            if !e.sources.contains(&source) {
                e.sources.push(source);
            }
        }
        let mut assets: Vec<AssetEntry> = by_hash.into_values().collect();
        for a in &mut assets {
            a.sources.sort();
        }
        AssetManifest { assets }
    }

    /// The value of `manifest.json`'s `"assets"` key: a JSON array.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.assets).unwrap_or_else(|_| serde_json::Value::Array(Vec::new()))
    }

    /// Reads the `"assets"` key of a parsed `manifest.json` (none: no assets).
    pub fn from_manifest_json(doc: &serde_json::Value) -> Result<AssetManifest, AssetError> {
        match doc.get("assets") {
            None | Some(serde_json::Value::Null) => Ok(AssetManifest::default()),
            Some(v) => serde_json::from_value(v.clone())
                .map(|assets| AssetManifest { assets })
                .map_err(|e| AssetError::Other(format!("manifest.json: \"assets\": {e}"))),
        }
    }

    /// Whether the manifest lists no asset.
    pub fn is_empty(&self) -> bool {
        self.assets.is_empty()
    }
}
