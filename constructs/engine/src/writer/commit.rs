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
use std::io::{ErrorKind, Read, Write};
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
    /// `waiting` is called once if the lock is busy. While waiting, `interrupt` is polled, so
    /// Ctrl-C still stops a synth that waits.
    pub fn acquire(
        dir: &Path,
        exclusive: bool,
        waiting: &dyn Fn(),
        interrupt: &AtomicBool,
    ) -> Result<DirLock, WriteError> {
        let file = File::open(dir).map_err(|e| WriteError::io(dir, "open", e))?;
        let mut said = false;
        loop {
            let tried = if exclusive {
                file.try_lock()
            } else {
                file.try_lock_shared()
            };
            match tried {
                Ok(()) => return Ok(DirLock { _file: file }),
                Err(fs::TryLockError::WouldBlock) => {
                    if !said {
                        waiting();
                        said = true;
                    }
                    if interrupt.load(Ordering::SeqCst) {
                        return Err(WriteError::Interrupted {
                            out: dir.to_owned(),
                        });
                    }
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(fs::TryLockError::Error(e)) => return Err(WriteError::io(dir, "lock", e)),
            }
        }
    }
}

/// The largest file synth reads back from its output directory (a manifest or template; the
/// templates themselves are at most 1 MB). A bigger one, or something that is not a regular
/// file (a FIFO, `/dev/zero` behind a symlink), is never read.
pub const READ_LIMIT: u64 = 16 << 20;

/// Reads a regular file of at most [`READ_LIMIT`] bytes; `Ok(None)` when there is none.
pub fn read_bounded(path: &Path) -> Result<Option<Vec<u8>>, WriteError> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
            return Ok(None);
        }
        Err(e) => return Err(WriteError::io(path, "inspect", e)),
    };
    if !meta.is_file() {
        return Err(WriteError::NotOurs {
            path: path.to_owned(),
            why: "it is not a regular file".into(),
        });
    }
    if meta.len() > READ_LIMIT {
        return Err(WriteError::NotOurs {
            path: path.to_owned(),
            why: format!("it is larger than {} MiB", READ_LIMIT >> 20),
        });
    }
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|f| f.take(READ_LIMIT + 1).read_to_end(&mut bytes))
        .map_err(|e| WriteError::io(path, "read", e))?;
    Ok(Some(bytes))
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
pub fn same_content(path: &Path, contents: &[u8]) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == contents.len() as u64)
        && read_bounded(path).is_ok_and(|c| c.as_deref() == Some(contents))
}

/// Writes `contents` in full to a temporary file in `dir`, to become `dest`.
fn stage(dir: &Path, dest: &Path, contents: &[u8]) -> Result<NamedTempFile, WriteError> {
    let mut tmp = tempfile::Builder::new()
        .prefix(TMP_PREFIX)
        .tempfile_in(dir)
        .map_err(|e| WriteError::io(dir, "create a temporary file in", e))?;
    tmp.write_all(contents)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| WriteError::io(tmp.path().to_owned(), "write", e))?;
    // A temporary file is created owner-only; the output is for everyone who may read the
    // directory (CI containers, other users): keep the mode of the file it replaces, else 0644.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dest)
            .ok()
            .filter(fs::Metadata::is_file)
            .map_or(0o644, |m| m.permissions().mode() & 0o7777);
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))
            .map_err(|e| WriteError::io(tmp.path().to_owned(), "set the mode of", e))?;
    }
    #[cfg(not(unix))]
    let _ = dest;
    Ok(tmp)
}

/// Refuses to overwrite what synth did not write: a `manifest.json` of something else; a file
/// of the same name as one synth writes, with other content, that the previous manifest does not
/// list (a hand-written template, a file from before the directory was synth's); and anything
/// that is not a regular file where synth puts one (a directory, a FIFO).
fn check_ownership(out: &Path, plan: &Plan) -> Result<(), WriteError> {
    if let Previous::Foreign(why) = &plan.previous {
        return Err(WriteError::NotOurs {
            path: out.join(MANIFEST),
            why: why.clone(),
        });
    }
    let owned = plan.previous.owned_files();
    let assets = plan.assets.iter().map(|a| (a.hash.relative_path(), None));
    let files = plan
        .templates
        .iter()
        .chain([&plan.manifest])
        .map(|f| (f.name.clone(), Some(f.contents.as_slice())));
    for (rel, contents) in assets.chain(files) {
        let p = out.join(&rel);
        let Ok(meta) = fs::symlink_metadata(&p) else {
            continue;
        };
        let regular = meta.is_file() || fs::metadata(&p).is_ok_and(|m| m.is_file());
        if !regular {
            return Err(WriteError::NotOurs {
                path: p,
                why: "something that is not a regular file is in its place".into(),
            });
        }
        let listed = rel == MANIFEST && matches!(plan.previous, Previous::Ours(_))
            || owned.contains_key(&rel);
        // An asset is named by its content: a file of that name is only ever that content.
        if let Some(c) = contents
            && !listed
            && !same_content(&p, c)
        {
            return Err(WriteError::NotOurs {
                path: p,
                why: "no snowcdk manifest.json here lists it".into(),
            });
        }
    }
    Ok(())
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
    // Refused before anything is touched, even synth's own leftovers.
    check_ownership(out, plan)?;
    clean_temporaries(out, &mut report)?;
    clean_legacy_staging(out, &mut report);
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
            tmp: Some(stage(&assets_dir, &path, &a.bytes)?),
        });
        interrupted()?;
    }
    for f in plan.templates.iter().chain([&plan.manifest]) {
        let path = out.join(&f.name);
        let tmp = if same_content(&path, &f.contents) {
            None
        } else {
            Some(stage(out, &path, &f.contents)?)
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
    for (rel, sha256) in &plan.obsolete {
        let path = out.join(rel);
        // Only a file that is still exactly what synth wrote: an edited one is the user's now.
        let ours = fs::symlink_metadata(&path).is_ok_and(|m| m.is_file())
            && AssetHash::of_file(&path).is_ok_and(|h| Some(h.as_str()) == sha256.as_deref());
        if !ours {
            if path.exists() {
                report.notes.push(format!(
                    "{}: no longer synthesized, but changed since synth wrote it; kept (remove it yourself if it is not needed)",
                    path.display()
                ));
            }
            continue;
        }
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
