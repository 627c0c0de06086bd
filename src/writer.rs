//! Writes synthesized templates and `manifest.json` to the output directory, atomically, or
//! compares them with what is there (`synth --check`).
//!
//! Atomic: everything is written to a fresh sibling directory first, then swapped in with two
//! renames, so an error or Ctrl-C never leaves a half-written `templates_out/`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};
use snowcdk_constructs::template::{TemplateFormat, document::render_json_value};

use crate::app::StageStack;
use crate::assets::{AssetManifest, PackagedAsset};

/// The name of the manifest file in the output directory.
pub const MANIFEST: &str = "manifest.json";

/// One file the writer produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutFile {
    pub name: String,
    pub contents: String,
}

/// The file name of a stack's template.
pub fn template_file_name(stack: &str, format: TemplateFormat) -> String {
    match format {
        TemplateFormat::Json => format!("{stack}.template.json"),
        TemplateFormat::Yaml => format!("{stack}.template.yaml"),
    }
}

/// Every file of the output directory, manifest last, in a fixed order.
pub fn render(stacks: &[StageStack], format: TemplateFormat) -> Vec<OutFile> {
    let mut files = Vec::new();
    let mut entries = Vec::new();
    for st in stacks {
        let s = &st.synthesized;
        let name = template_file_name(&s.name, format);
        let contents = s.render(format);
        let mut types: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &s.template.resources {
            *types.entry(r.type_name).or_default() += 1;
        }
        entries.push(json!({
            "name": s.name,
            "stage": st.stage,
            "region": st.config.region,
            "file": name,
            "sha256": hex::encode(Sha256::digest(contents.as_bytes())),
            "bytes": contents.len(),
            "resources": s.template.resources.len(),
            "resource_types": types,
            "parameters": s.template.parameters.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            "outputs": s.template.outputs.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        }));
        files.push(OutFile { name, contents });
    }
    let mut manifest = json!({
        "generator": "snowcdk",
        "manifest_version": 1,
        "stacks": entries,
    });
    let assets = all_assets(stacks);
    if !assets.is_empty() {
        manifest["assets"] = AssetManifest::from_packages(&assets).to_json();
    }
    files.push(OutFile {
        name: MANIFEST.into(),
        contents: render_json_value(&manifest, TemplateFormat::Json),
    });
    files
}

/// Every stack's packaged assets, in stack order.
pub fn all_assets(stacks: &[StageStack]) -> Vec<PackagedAsset> {
    stacks
        .iter()
        .flat_map(|s| s.assets.iter().cloned())
        .collect()
}

/// Writes the assets next to the templates (`<out>/assets/<sha256>.zip`, not committed); when
/// every stage was synthesized, removes assets no stage references any more.
pub fn write_assets(out: &Path, stacks: &[StageStack], all_stages: bool) -> anyhow::Result<()> {
    let assets = all_assets(stacks);
    let manifest = crate::assets::write_assets(out, &assets)?;
    if all_stages {
        crate::assets::prune_assets(out, &manifest)?;
    }
    Ok(())
}

/// Writes the files as the whole content of `out`, atomically.
pub fn write_atomic(out: &Path, files: &[OutFile]) -> anyhow::Result<()> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent)
        .map_err(|e| anyhow::anyhow!("{}: cannot create the directory: {e}", parent.display()))?;
    let base = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "templates_out".into());
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{base}.new-"))
        .tempdir_in(&parent)
        .map_err(|e| {
            anyhow::anyhow!(
                "{}: cannot create a staging directory: {e}",
                parent.display()
            )
        })?;
    for f in files {
        let p = staging.path().join(&f.name);
        fs::write(&p, &f.contents)
            .map_err(|e| anyhow::anyhow!("{}: cannot write: {e}", p.display()))?;
    }
    // Keep files other tools put in the output directory that synth does not own (e.g. assets/).
    if out.is_dir() {
        for entry in fs::read_dir(out)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type()?.is_dir() && !files.iter().any(|f| f.name == name) {
                fs::rename(entry.path(), staging.path().join(&name))?;
            }
        }
    }
    let staged = staging.keep();
    let old = parent.join(format!(".{base}.old-{}", std::process::id()));
    if out.exists() {
        fs::rename(out, &old)
            .map_err(|e| anyhow::anyhow!("{}: cannot move aside: {e}", out.display()))?;
    }
    if let Err(e) = fs::rename(&staged, out) {
        // Put the previous output back rather than leave nothing.
        let _ = fs::rename(&old, out);
        let _ = fs::remove_dir_all(&staged);
        anyhow::bail!(
            "{}: cannot move the new output in place: {e}",
            out.display()
        );
    }
    if old.exists() {
        fs::remove_dir_all(&old)
            .map_err(|e| anyhow::anyhow!("{}: cannot remove: {e}", old.display()))?;
    }
    Ok(())
}

/// What `--check` found: files that differ, with the resources that differ inside templates.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Staleness {
    pub lines: Vec<String>,
}

impl Staleness {
    pub fn is_current(&self) -> bool {
        self.lines.is_empty()
    }
}

/// Compares the files synth would write with the content of `out`.
pub fn check(out: &Path, files: &[OutFile]) -> Staleness {
    let mut lines = Vec::new();
    for f in files {
        let p = out.join(&f.name);
        match fs::read_to_string(&p) {
            Err(_) => lines.push(format!("{}: missing", p.display())),
            Ok(old) if old == f.contents => {}
            Ok(old) => {
                let detail = resource_differences(&old, &f.contents);
                if detail.is_empty() {
                    lines.push(format!("{}: differs", p.display()));
                } else {
                    lines.push(format!("{}: differs in {}", p.display(), detail.join(", ")));
                }
            }
        }
    }
    if let Ok(rd) = fs::read_dir(out) {
        let mut extra: Vec<String> = rd
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".template.") && !files.iter().any(|f| &f.name == n))
            .collect();
        extra.sort();
        for n in extra {
            lines.push(format!("{}: no longer synthesized", out.join(n).display()));
        }
    }
    Staleness { lines }
}

/// The template sections and resources whose JSON differs between two template texts.
fn resource_differences(old: &str, new: &str) -> Vec<String> {
    let (Ok(old), Ok(new)) = (
        serde_json::from_str::<Json>(old),
        serde_json::from_str::<Json>(new),
    ) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let empty = serde_json::Map::new();
    let res = |j: &Json| j.get("Resources").and_then(Json::as_object).cloned();
    let (o, n) = (
        res(&old).unwrap_or(empty.clone()),
        res(&new).unwrap_or(empty),
    );
    for (id, v) in &n {
        match o.get(id) {
            None => out.push(format!("resource {id} (added)")),
            Some(ov) if ov != v => out.push(format!("resource {id}")),
            _ => {}
        }
    }
    for id in o.keys().filter(|id| !n.contains_key(*id)) {
        out.push(format!("resource {id} (removed)"));
    }
    for section in [
        "Description",
        "Parameters",
        "Conditions",
        "Mappings",
        "Outputs",
    ] {
        if old.get(section) != new.get(section) {
            out.push(section.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, c: &str) -> OutFile {
        OutFile {
            name: name.into(),
            contents: c.into(),
        }
    }

    #[test]
    fn atomic_write_replaces_the_directory_and_check_sees_staleness() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("templates_out");
        let t1 = "{\"Resources\": {\"A\": {\"Type\": \"X\"}}}\n";
        write_atomic(&out, &[file("S.template.json", t1), file(MANIFEST, "{}\n")]).expect("write");
        assert!(check(&out, &[file("S.template.json", t1)]).is_current());
        let t2 = "{\"Resources\": {\"A\": {\"Type\": \"Y\"}, \"B\": {\"Type\": \"X\"}}}\n";
        let stale = check(&out, &[file("S.template.json", t2)]);
        assert_eq!(stale.lines.len(), 1);
        assert!(stale.lines[0].contains("resource B (added)"), "{:?}", stale);
        assert!(stale.lines[0].contains("resource A"), "{:?}", stale);
        fs::write(out.join("Old.template.json"), "{}").expect("write extra");
        let stale = check(&out, &[file("S.template.json", t1)]);
        assert!(
            stale
                .lines
                .iter()
                .any(|l| l.contains("no longer synthesized"))
        );
        write_atomic(&out, &[file("S.template.json", t2)]).expect("rewrite");
        assert!(!out.join("Old.template.json").exists());
        assert!(!out.join(MANIFEST).exists());
        let leftovers: Vec<_> = fs::read_dir(tmp.path())
            .expect("read")
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    }
}
