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
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::AssetError;
use super::hash::{ASSETS_DIR, AssetHash};
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

/// Writes each package as `<out_dir>/assets/<sha256>.zip` (once per hash; an existing file of
/// the right size is kept, since its name is its content) and returns the manifest entries.
/// Each file is written to a temporary name and renamed, so a reader never sees half a zip.
pub fn write_assets(out_dir: &Path, assets: &[PackagedAsset]) -> Result<AssetManifest, AssetError> {
    let dir = out_dir.join(ASSETS_DIR);
    if !assets.is_empty() {
        fs::create_dir_all(&dir).map_err(|e| AssetError::io(&dir, "create the directory", e))?;
    }
    let mut written = std::collections::BTreeSet::new();
    for a in assets {
        if !written.insert(&a.hash) {
            continue;
        }
        let path = dir.join(a.hash.file_name());
        if fs::metadata(&path).is_ok_and(|m| m.len() == a.bytes.len() as u64) {
            continue;
        }
        write_file_atomic(&dir, &path, &a.bytes)?;
    }
    Ok(AssetManifest::from_packages(assets))
}

fn write_file_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), AssetError> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".asset-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| AssetError::io(dir, "create a temporary file in", e))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| AssetError::io(tmp.path().to_owned(), "write", e))?;
    tmp.persist(path)
        .map_err(|e| AssetError::io(path, "write", e.error))?;
    Ok(())
}

/// Removes `<out_dir>/assets/<sha256>.zip` files that `keep` does not list (left by earlier
/// synths), and returns their paths. Files with other names are left alone. Call it only after a
/// synth of every stage, or it removes the other stages' assets.
pub fn prune_assets(out_dir: &Path, keep: &AssetManifest) -> Result<Vec<PathBuf>, AssetError> {
    let dir = out_dir.join(ASSETS_DIR);
    let listing = match fs::read_dir(&dir) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(AssetError::io(&dir, "list", e)),
    };
    let mut removed = Vec::new();
    for item in listing {
        let item = item.map_err(|e| AssetError::io(&dir, "list", e))?;
        let name = item.file_name().to_string_lossy().into_owned();
        let Some(hash) = name.strip_suffix(".zip").and_then(AssetHash::parse) else {
            continue;
        };
        if keep.assets.iter().any(|a| a.sha256 == hash.as_str()) {
            continue;
        }
        fs::remove_file(item.path()).map_err(|e| AssetError::io(item.path(), "remove", e))?;
        removed.push(item.path());
    }
    removed.sort();
    Ok(removed)
}
