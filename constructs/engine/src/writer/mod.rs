//! Writes the synthesized templates, `manifest.json` and asset zips to the output directory, or
//! compares them with what is there (`synth --check`).
//!
//! Synth owns exactly the files a snowcdk manifest lists and never moves, replaces or removes
//! the directory itself or anything else in it:
//! - the guard ([`check_output_dir`]) refuses output directories that hold the project (`/`, `.`, `..`, the config's
//!   directory, a Lambda `code_path`) before anything is touched;
//! - the [`Plan`] decides the files from the stacks and the manifest already there (`--stage`
//!   replaces only its own entries);
//! - the commit writes them under a lock, each file atomically, assets before the templates and
//!   the manifest that name them, so a killed synth leaves the old set, the new set, or a mix
//!   that `--check` reports.

mod commit;
mod error;
mod guard;
mod plan;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use serde_json::Value as Json;
use snowcdk_constructs::template::TemplateFormat;

use crate::assembly::AssemblyStack;
use crate::assets::AssetHash;
pub use commit::{DirLock, WriteReport};
pub use error::WriteError;
pub use guard::{Protected, check_output_dir};
pub use plan::{MANIFEST, OutFile, Plan, Previous, template_file_name};

/// The default output directory's name, next to the config file.
pub const DEFAULT_OUT: &str = "templates_out";

/// The default output directory: `templates_out/` in the config file's directory, as
/// `code_path` is resolved (so `--config path/to/snowcdk.toml` writes `path/to/templates_out/`,
/// and `diff` reads it there).
pub fn default_output_dir(config_path: &Path) -> PathBuf {
    match config_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.join(DEFAULT_OUT),
        _ => PathBuf::from(DEFAULT_OUT),
    }
}

/// Writes the stacks (all stages when `only` is empty, else exactly those) into `out`, which
/// must have passed [`check_output_dir`]. `waiting` is called if another synth holds the
/// directory; `interrupt` aborts the write while nothing is changed yet.
pub fn write(
    out: &Path,
    stacks: &[AssemblyStack],
    format: TemplateFormat,
    only: &[String],
    interrupt: &AtomicBool,
    waiting: &dyn Fn(),
) -> Result<(Plan, WriteReport), WriteError> {
    commit::ensure_dir(out)?;
    let _lock = DirLock::acquire(out, true, waiting, interrupt)?;
    let previous = Previous::read(out)?;
    let plan = plan::plan(stacks, format, only, previous);
    let report = commit::write(out, &plan, interrupt)?;
    Ok((plan, report))
}

/// What `--check` found: files that differ, with the resources that differ inside templates.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Staleness {
    /// One line per difference, ready to print under "is stale".
    pub lines: Vec<String>,
}

impl Staleness {
    /// Whether the directory holds exactly what synth would write.
    pub fn is_current(&self) -> bool {
        self.lines.is_empty()
    }
}

/// Compares what synth would write with the content of `out`: every template, the manifest,
/// every asset the manifest lists (present, and with its hash), and no file left that the
/// manifest on disk lists but synth no longer writes.
pub fn check(
    out: &Path,
    stacks: &[AssemblyStack],
    format: TemplateFormat,
    only: &[String],
) -> Result<Staleness, WriteError> {
    let _lock = if out.is_dir() {
        let waiting = || {
            eprintln!(
                "waiting for a {} synth writing {} to finish...",
                crate::app::program_name(),
                out.display()
            )
        };
        Some(DirLock::acquire(
            out,
            false,
            &waiting,
            &AtomicBool::new(false),
        )?)
    } else {
        None
    };
    let previous = Previous::read(out)?;
    let mut lines = Vec::new();
    if let Previous::Foreign(why) = &previous {
        lines.push(format!(
            "{}: not a manifest snowcdk wrote ({why})",
            out.join(MANIFEST).display()
        ));
    }
    let plan = plan::plan(stacks, format, only, previous);
    for f in plan.templates.iter().chain([&plan.manifest]) {
        let p = out.join(&f.name);
        match commit::read_bounded(&p) {
            Ok(None) => lines.push(format!("{}: missing", p.display())),
            Err(e) => lines.push(e.to_string()),
            Ok(Some(old)) if old == f.contents => {}
            Ok(Some(old)) => {
                let detail = resource_differences(&old, &f.contents);
                if detail.is_empty() {
                    lines.push(format!("{}: differs", p.display()));
                } else {
                    lines.push(format!("{}: differs in {}", p.display(), detail.join(", ")));
                }
            }
        }
    }
    for a in &plan.asset_entries {
        let p = out.join(&a.file);
        match AssetHash::of_file(&p) {
            Err(_) => lines.push(format!("{}: missing (the manifest lists it)", p.display())),
            Ok(h) if h.as_str() == a.sha256 => {}
            Ok(h) => lines.push(format!(
                "{}: its content has sha256 {h}, not the {} the manifest lists",
                p.display(),
                a.sha256
            )),
        }
    }
    for (rel, _) in &plan.obsolete {
        let p = out.join(rel);
        if p.exists() {
            lines.push(format!("{}: no longer synthesized", p.display()));
        }
    }
    Ok(Staleness { lines })
}

/// The template sections and resources whose JSON differs between two template texts.
fn resource_differences(old: &[u8], new: &[u8]) -> Vec<String> {
    let (Ok(old), Ok(new)) = (
        serde_json::from_slice::<Json>(old),
        serde_json::from_slice::<Json>(new),
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
