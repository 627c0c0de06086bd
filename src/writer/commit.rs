//! Putting a [`Plan`] on disk so that the output directory is never missing and never half
//! written, whatever happens to the process.
//!
//! The directory itself is never moved, replaced or removed (that is what once let
//! `synth --out .` take the repository with it, and left `templates_out/` absent when a synth was
//! killed between two renames). Instead:
//!
//! 1. An exclusive lock on the directory (`flock` on the directory itself, so no lock file is
//!    left behind): a second synth waits, saying so, instead of failing or interleaving.
//! 2. Temporary files (`.snowcdk-tmp-*`) left by a synth that was killed are removed.
//! 3. Every new file is written in full, with `fsync`, under a temporary name in its final
//!    directory. Ctrl-C, SIGTERM or SIGHUP in this phase removes the temporary files and leaves
//!    the previous output untouched.
//! 4. Then, with signals held off, the renames: assets first, then templates, then the files the
//!    previous manifest listed that are no longer synthesized are removed, and the manifest
//!    last. A rename replaces a file atomically, so every file is at all times either its old or
//!    its new content; a SIGKILL inside this short phase can leave old and new files side by
//!    side, which `synth --check` reports and the next synth repairs.
//!
//! A symlinked output directory is written through, never replaced.

use std::fs::{self, File};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use tempfile::NamedTempFile;

use super::error::WriteError;
use super::plan::{MANIFEST, Plan, Previous};
use crate::assets::{ASSETS_DIR, AssetHash};

/// The prefix of every temporary file the writer creates.
pub const TMP_PREFIX: &str = ".snowcdk-tmp-";

/// Prefix of the temporary asset files of earlier snowcdk versions (also cleaned up).
const LEGACY_ASSET_TMP: &str = ".asset-";

/// What a write did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WriteReport {
    /// Files whose content changed (or that are new), relative to the output directory.
    pub written: Vec<String>,
    /// Files removed because the new manifest no longer lists them.
    pub removed: Vec<String>,
    /// Leftovers of interrupted synths that were cleaned up.
    pub cleaned: Vec<PathBuf>,
    /// Things the user should know (e.g. a leftover that was not removed, and why).
    pub notes: Vec<String>,
}

/// The lock on an output directory, held while it lives.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DirLock {
    /// Locks `dir` (exclusive for writers, shared for `--check`), waiting for another synth;
    /// `waiting` is called once if the lock is busy.
    pub fn acquire(dir: &Path, exclusive: bool, waiting: &dyn Fn()) -> Result<DirLock, WriteError> {
        let file = File::open(dir).map_err(|e| WriteError::io(dir, "open", e))?;
        let tried = if exclusive {
            file.try_lock()
        } else {
            file.try_lock_shared()
        };
        match tried {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                waiting();
                let locked = if exclusive {
                    file.lock()
                } else {
                    file.lock_shared()
                };
                locked.map_err(|e| WriteError::io(dir, "lock", e))?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(WriteError::io(dir, "lock", e)),
        }
        Ok(DirLock { _file: file })
    }
}

/// Removes temporary files of killed synths in `dir` (and `dir/assets`). Only names this
/// writer (or an earlier version of it) creates are touched.
fn clean_temporaries(dir: &Path, report: &mut WriteReport) -> Result<(), WriteError> {
    for (d, legacy) in [(dir.to_owned(), false), (dir.join(ASSETS_DIR), true)] {
        let listing = match fs::read_dir(&d) {
            Ok(l) => l,
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                continue;
            }
            Err(e) => return Err(WriteError::io(&d, "list", e)),
        };
        for item in listing {
            let item = item.map_err(|e| WriteError::io(&d, "list", e))?;
            let name = item.file_name().to_string_lossy().into_owned();
            let ours = name.starts_with(TMP_PREFIX)
                || (legacy && name.starts_with(LEGACY_ASSET_TMP) && name.ends_with(".tmp"));
            if !ours || !item.file_type().is_ok_and(|t| t.is_file()) {
                continue;
            }
            match fs::remove_file(item.path()) {
                Ok(()) => report.cleaned.push(item.path()),
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(WriteError::io(item.path(), "remove", e)),
            }
        }
    }
    Ok(())
}

/// Earlier snowcdk versions staged the whole output in `.<name>.new-XXXXXX` and moved the old
/// one to `.<name>.old-<pid>`, next to the output directory; a killed synth left them behind.
/// They are removed only when they hold nothing but files synth writes (templates, manifest,
/// asset zips); anything else in them (those versions could move other directories in) is left
/// for the user, with a note.
fn clean_legacy_staging(out: &Path, report: &mut WriteReport) {
    let (Some(parent), Some(base)) = (out.parent(), out.file_name()) else {
        return;
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let base = base.to_string_lossy();
    let (new_prefix, old_prefix) = (format!(".{base}.new-"), format!(".{base}.old-"));
    let Ok(listing) = fs::read_dir(parent) else {
        return;
    };
    for item in listing.filter_map(Result::ok) {
        let name = item.file_name().to_string_lossy().into_owned();
        let is_new = name
            .strip_prefix(&new_prefix)
            .is_some_and(|r| r.len() == 6 && r.chars().all(|c| c.is_ascii_alphanumeric()));
        let is_old = name
            .strip_prefix(&old_prefix)
            .is_some_and(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_digit()));
        if !(is_new || is_old) || !item.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let path = item.path();
        if only_synth_files(&path) {
            if fs::remove_dir_all(&path).is_ok() {
                report.cleaned.push(path);
            }
        } else {
            report.notes.push(format!(
                "{}: left by an interrupted synth of an earlier snowcdk version and holds files synth does not write; look inside and remove it yourself",
                path.display()
            ));
        }
    }
}

/// Whether `dir` holds only templates, manifests and `assets/<sha256>.zip` files.
fn only_synth_files(dir: &Path) -> bool {
    let Ok(listing) = fs::read_dir(dir) else {
        return false;
    };
    listing.filter_map(Result::ok).all(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(t) = e.file_type() else {
            return false;
        };
        if t.is_file() {
            name == MANIFEST || super::plan::is_template_name(&name)
        } else if t.is_dir() && name == ASSETS_DIR {
            fs::read_dir(e.path()).is_ok_and(|l| {
                l.filter_map(Result::ok).all(|a| {
                    a.file_type().is_ok_and(|t| t.is_file())
                        && super::plan::is_asset_name(&format!(
                            "{ASSETS_DIR}/{}",
                            a.file_name().to_string_lossy()
                        ))
                })
            })
        } else {
            false
        }
    })
}

/// Whether `path` already holds exactly `contents`.
fn same_content(path: &Path, contents: &[u8]) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == contents.len() as u64)
        && fs::read(path).is_ok_and(|c| c == contents)
}

/// Writes `contents` in full to a temporary file in `dir`.
fn stage(dir: &Path, contents: &[u8]) -> Result<NamedTempFile, WriteError> {
    let mut tmp = tempfile::Builder::new()
        .prefix(TMP_PREFIX)
        .tempfile_in(dir)
        .map_err(|e| WriteError::io(dir, "create a temporary file in", e))?;
    tmp.write_all(contents)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| WriteError::io(tmp.path().to_owned(), "write", e))?;
    Ok(tmp)
}

/// Refuses to overwrite files synth did not write: a `manifest.json` of something else, or,
/// in a directory without a snowcdk manifest, a file of the same name as one synth would write
/// with other content.
fn check_ownership(out: &Path, plan: &Plan) -> Result<(), WriteError> {
    match &plan.previous {
        Previous::Foreign(why) => Err(WriteError::NotOurs {
            path: out.join(MANIFEST),
            why: why.clone(),
        }),
        Previous::Ours(_) => Ok(()),
        Previous::None => {
            for f in plan.templates.iter().chain([&plan.manifest]) {
                let p = out.join(&f.name);
                if fs::symlink_metadata(&p).is_ok() && !same_content(&p, &f.contents) {
                    return Err(WriteError::NotOurs {
                        path: p,
                        why: "the directory has no snowcdk manifest.json listing it".into(),
                    });
                }
            }
            Ok(())
        }
    }
}

/// One file to put in place: a staged temporary, or `None` when the content is already there.
struct Pending {
    rel: String,
    tmp: Option<NamedTempFile>,
}

/// Writes `plan` into `out` (see the module comment for the order). `interrupt` is polled
/// between files while staging; once it is set, the temporary files are removed and
/// [`WriteError::Interrupted`] returned with nothing changed.
pub fn write(out: &Path, plan: &Plan, interrupt: &AtomicBool) -> Result<WriteReport, WriteError> {
    let mut report = WriteReport::default();
    clean_temporaries(out, &mut report)?;
    clean_legacy_staging(out, &mut report);
    check_ownership(out, plan)?;
    let interrupted = || {
        if interrupt.load(Ordering::SeqCst) {
            Err(WriteError::Interrupted {
                out: out.to_owned(),
            })
        } else {
            Ok(())
        }
    };

    // Stage: assets, templates, manifest; nothing visible changes yet.
    let mut pending: Vec<Pending> = Vec::new();
    let assets_dir = out.join(ASSETS_DIR);
    for a in &plan.assets {
        let rel = a.hash.relative_path();
        let path = out.join(&rel);
        // An asset is named by its content: one with the right hash is already right.
        if AssetHash::of_file(&path).is_ok_and(|h| h == a.hash) {
            continue;
        }
        fs::create_dir_all(&assets_dir)
            .map_err(|e| WriteError::io(&assets_dir, "create the directory", e))?;
        pending.push(Pending {
            rel,
            tmp: Some(stage(&assets_dir, &a.bytes)?),
        });
        interrupted()?;
    }
    for f in plan.templates.iter().chain([&plan.manifest]) {
        let path = out.join(&f.name);
        let tmp = if same_content(&path, &f.contents) {
            None
        } else {
            Some(stage(out, &f.contents)?)
        };
        pending.push(Pending {
            rel: f.name.clone(),
            tmp,
        });
        interrupted()?;
    }
    interrupted()?;

    // Commit: renames only, manifest last. Signals are only looked at above, so a Ctrl-C from
    // here on waits until the set is complete.
    let (manifest, files) = pending
        .split_last_mut()
        .ok_or_else(|| WriteError::io(out, "write", ErrorKind::InvalidInput.into()))?;
    for p in files.iter_mut() {
        persist(out, p, &mut report)?;
    }
    for rel in &plan.obsolete {
        let path = out.join(rel);
        match fs::remove_file(&path) {
            Ok(()) => report.removed.push(rel.clone()),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(WriteError::io(&path, "remove", e)),
        }
    }
    persist(out, manifest, &mut report)?;
    // Make the renames durable; a failure here changes nothing the user can see.
    if let Ok(d) = File::open(out) {
        let _ = d.sync_all();
    }
    Ok(report)
}

fn persist(out: &Path, p: &mut Pending, report: &mut WriteReport) -> Result<(), WriteError> {
    let Some(tmp) = p.tmp.take() else {
        return Ok(());
    };
    let dest = out.join(&p.rel);
    tmp.persist(&dest)
        .map_err(|e| WriteError::io(&dest, "replace", e.error))?;
    report.written.push(p.rel.clone());
    Ok(())
}

/// Creates the output directory (and its parents) if needed.
pub fn ensure_dir(out: &Path) -> Result<(), WriteError> {
    fs::create_dir_all(out).map_err(|e| WriteError::io(out, "create the directory", e))
}
