//! What a synth puts in the output directory, decided from the synthesized stacks and the
//! manifest already there.
//!
//! Synth owns exactly the files a snowcdk `manifest.json` lists: the stack templates, the
//! manifest itself and the asset zips. So the previous manifest says which files a synth may
//! replace or remove, and everything else in the directory (a README, a hand-written template,
//! a `.gitignore`) is never touched. `synth --stage NAME` replaces only that stage's entries and
//! files; the other stages' entries are carried over unchanged, in the order a full synth writes
//! them, so a later full synth of unchanged code writes the same bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};
use snowcdk_constructs::template::{TemplateFormat, document::render_json_value};

use super::error::WriteError;
use crate::assembly::AssemblyStack;
use crate::assets::{AssetEntry, AssetHash, AssetManifest, PackagedAsset};

/// The name of the manifest file in the output directory.
pub const MANIFEST: &str = "manifest.json";

/// The `generator` a manifest must name for synth to treat the directory as its own.
const GENERATOR: &str = "snowcdk";

/// One file the writer produces, relative to the output directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutFile {
    /// The file name inside the output directory (`<stack>.template.json`, `manifest.json`).
    pub name: String,
    /// The exact bytes to write.
    pub contents: Vec<u8>,
}

/// The file name of a stack's template.
pub fn template_file_name(stack: &str, format: TemplateFormat) -> String {
    match format {
        TemplateFormat::Json => format!("{stack}.template.json"),
        TemplateFormat::Yaml => format!("{stack}.template.yaml"),
    }
}

/// The manifest found in the output directory.
#[derive(Debug, Clone)]
pub enum Previous {
    /// No `manifest.json`: synth never wrote here (or everything was removed).
    None,
    /// A snowcdk manifest.
    Ours(Json),
    /// A `manifest.json` that is not a snowcdk manifest (or cannot be read as one).
    Foreign(String),
}

impl Previous {
    /// Reads `<out>/manifest.json`.
    pub fn read(out: &Path) -> Result<Previous, WriteError> {
        let path = out.join(MANIFEST);
        let Some(text) = super::commit::read_bounded(&path)? else {
            return Ok(Previous::None);
        };
        let doc: Json = match serde_json::from_slice(&text) {
            Ok(d) => d,
            Err(e) => return Ok(Previous::Foreign(format!("not JSON: {e}"))),
        };
        if doc.get("generator").and_then(Json::as_str) != Some(GENERATOR)
            || !doc.get("stacks").is_some_and(Json::is_array)
        {
            return Ok(Previous::Foreign(
                "it has no \"generator\": \"snowcdk\" and \"stacks\" list".into(),
            ));
        }
        Ok(Previous::Ours(doc))
    }

    fn entries(&self) -> &[Json] {
        match self {
            Previous::Ours(doc) => doc
                .get("stacks")
                .and_then(Json::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[]),
            _ => &[],
        }
    }

    fn assets(&self) -> Vec<AssetEntry> {
        match self {
            Previous::Ours(doc) => AssetManifest::from_manifest_json(doc)
                .map(|m| m.assets)
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// The files this manifest says synth wrote, relative to the output directory, with the
    /// SHA-256 it recorded. Only names synth could have written count: a manifest can never
    /// make synth remove `../x` or a README.
    pub fn owned_files(&self) -> BTreeMap<String, Option<String>> {
        owned_files(self.entries(), &self.assets())
    }
}

/// Whether `name` is a file name synth writes for a template: one plain component.
pub fn is_template_name(name: &str) -> bool {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && name != MANIFEST;
    plain
        && [".template.json", ".template.yaml", ".template.yml"]
            .iter()
            .any(|s| name.len() > s.len() && name.ends_with(s))
}

/// Whether `name` is an asset file synth writes: `assets/<sha256>.zip`.
pub fn is_asset_name(name: &str) -> bool {
    name.strip_prefix("assets/")
        .and_then(|f| f.strip_suffix(".zip"))
        .and_then(AssetHash::parse)
        .is_some()
}

fn owned_files(entries: &[Json], assets: &[AssetEntry]) -> BTreeMap<String, Option<String>> {
    let mut owned: BTreeMap<String, Option<String>> = entries
        .iter()
        .filter_map(|e| {
            let file = e.get("file").and_then(Json::as_str)?;
            let sha = e.get("sha256").and_then(Json::as_str).map(str::to_owned);
            is_template_name(file).then(|| (file.to_owned(), sha))
        })
        .collect();
    owned.extend(
        assets
            .iter()
            .filter(|a| is_asset_name(&a.file))
            .map(|a| (a.file.clone(), Some(a.sha256.clone()))),
    );
    owned
}

/// Everything one synth writes or removes.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The templates of the stacks synthesized now.
    pub templates: Vec<OutFile>,
    /// The manifest, written last.
    pub manifest: OutFile,
    /// The assets the new manifest lists that this synth packaged (written first).
    pub assets: Vec<PackagedAsset>,
    /// Every asset the new manifest lists (with its hash, for `--check`).
    pub asset_entries: Vec<AssetEntry>,
    /// Files the previous manifest listed that the new one does not, with the SHA-256 it
    /// recorded: synth removes them if they still have it.
    pub obsolete: Vec<(String, Option<String>)>,
    /// The manifest that was there.
    pub previous: Previous,
}

/// A stack's manifest entry.
fn entry(st: &AssemblyStack, file: &str, contents: &[u8]) -> Json {
    let facts = &st.facts;
    let mut types: BTreeMap<&str, usize> = BTreeMap::new();
    for r in facts.resources.values() {
        *types.entry(r.type_name.as_str()).or_default() += 1;
    }
    let mut e = json!({
        "name": st.stack_name,
        "stage": st.stage,
        "region": st.environment.region,
        "file": file,
        "sha256": hex::encode(Sha256::digest(contents)),
        "bytes": contents.len(),
        "resources": facts.resources.len(),
        "resource_types": types,
        "parameters": facts.parameter_names(),
        "outputs": facts.outputs,
    });
    if !st.assets.is_empty() {
        // Which assets belong to which stack, so `synth --stage` keeps the others' assets.
        let hashes: BTreeSet<String> = st.assets.iter().map(|a| a.hash.to_string()).collect();
        e["assets"] = json!(hashes);
    }
    e
}

/// Merges asset entries by hash (sources joined), sorted by hash.
fn merge_assets(lists: impl IntoIterator<Item = AssetEntry>) -> Vec<AssetEntry> {
    let mut by_hash: BTreeMap<String, AssetEntry> = BTreeMap::new();
    for a in lists {
        match by_hash.get_mut(&a.sha256) {
            Some(e) => {
                for s in a.sources {
                    if !e.sources.contains(&s) {
                        e.sources.push(s);
                    }
                }
                e.sources.sort();
            }
            None => {
                by_hash.insert(a.sha256.clone(), a);
            }
        }
    }
    by_hash.into_values().collect()
}

/// Decides what to write, given the stacks synthesized now (all stages when `only` is empty,
/// else exactly the stages in `only`) and the manifest already in the output directory.
pub fn plan(
    stacks: &[AssemblyStack],
    format: TemplateFormat,
    only: &[String],
    previous: Previous,
) -> Plan {
    let mut templates = Vec::new();
    let mut new_entries: Vec<(String, Json)> = Vec::new();
    for st in stacks {
        let name = template_file_name(&st.stack_name, format);
        let contents = st.render(format).into_bytes();
        new_entries.push((st.stage.clone(), entry(st, &name, &contents)));
        templates.push(OutFile { name, contents });
    }
    let new_assets = AssetManifest::from_packages(
        &stacks
            .iter()
            .flat_map(|s| s.assets.iter().cloned())
            .collect::<Vec<_>>(),
    )
    .assets;

    // Carried over from the previous manifest: the entries of stages not synthesized now.
    let mut entries = new_entries;
    let mut assets = new_assets;
    if !only.is_empty() {
        let old_assets = previous.assets();
        let mut legacy = false;
        for e in previous.entries() {
            let stage = e.get("stage").and_then(Json::as_str).unwrap_or_default();
            if only.iter().any(|o| o == stage) {
                continue;
            }
            match e.get("assets").and_then(Json::as_array) {
                Some(hashes) => assets.extend(
                    old_assets
                        .iter()
                        .filter(|a| hashes.iter().any(|h| h.as_str() == Some(&a.sha256)))
                        .cloned(),
                ),
                // An older manifest did not say which stack uses which asset: keep them all.
                None => legacy = true,
            }
            entries.push((stage.to_owned(), e.clone()));
        }
        if legacy {
            assets.extend(old_assets);
        }
        // A full synth writes stages in name order (the config's stages are a sorted map).
        entries.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let assets = merge_assets(assets);
    let entries: Vec<Json> = entries.into_iter().map(|(_, e)| e).collect();

    let new_owned = owned_files(&entries, &assets);
    let obsolete = previous
        .owned_files()
        .into_iter()
        .filter(|(f, _)| !new_owned.contains_key(f))
        .collect();

    let mut manifest = json!({
        "generator": GENERATOR,
        "manifest_version": 1,
        "stacks": entries,
    });
    if !assets.is_empty() {
        manifest["assets"] = AssetManifest {
            assets: assets.clone(),
        }
        .to_json();
    }
    let wanted: BTreeSet<&str> = assets.iter().map(|a| a.sha256.as_str()).collect();
    let mut packaged: Vec<PackagedAsset> = Vec::new();
    for a in stacks.iter().flat_map(|s| s.assets.iter()) {
        if wanted.contains(a.hash.as_str()) && !packaged.iter().any(|p| p.hash == a.hash) {
            packaged.push(a.clone());
        }
    }
    Plan {
        templates,
        manifest: OutFile {
            name: MANIFEST.into(),
            contents: render_json_value(&manifest, TemplateFormat::Json).into_bytes(),
        },
        assets: packaged,
        asset_entries: assets,
        obsolete,
        previous,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_template_and_asset_names_are_owned() {
        assert!(is_template_name("snowex-dev.template.json"));
        assert!(is_template_name("a.template.yml"));
        for bad in [
            "../x.template.json",
            "/etc/passwd",
            "src/main.rs",
            ".template.json",
            "README.md",
            ".hidden.template.json",
            "manifest.json",
        ] {
            assert!(!is_template_name(bad), "{bad}");
        }
        let h = "a".repeat(64);
        assert!(is_asset_name(&format!("assets/{h}.zip")));
        assert!(!is_asset_name("assets/../../x.zip"));
        assert!(!is_asset_name(&format!("assets/{h}.zip/..")));
    }

    #[test]
    fn a_manifest_cannot_make_synth_own_files_outside_its_names() {
        let doc = json!({
            "generator": "snowcdk",
            "stacks": [
                {"stage": "a", "file": "../../etc/passwd"},
                {"stage": "b", "file": "README.md"},
                {"stage": "c", "file": "c.template.json"},
            ],
            "assets": [],
        });
        let owned = Previous::Ours(doc).owned_files();
        assert_eq!(
            owned.into_keys().collect::<Vec<_>>(),
            vec!["c.template.json"]
        );
    }
}
