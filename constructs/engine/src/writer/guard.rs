//! Which output directories synth refuses, before it touches anything.
//!
//! Synth only ever writes its own files into the output directory, but a directory that holds
//! the project (or the file system root) is still no place for generated files: a typo such as
//! `--out .` or `--out ..` must be an error, not a mess in the repository. The rules:
//!
//! - not `/`, the current directory, the project root (the directory of the config file and the
//!   git work tree around it), nor an ancestor of any of them;
//! - not a directory that holds the config file or a Lambda `code_path`, nor one inside a
//!   `code_path` (the package would then contain the output);
//! - not an existing non-directory (a symlink to a directory is fine: it is written through);
//! - not inside a `.git` directory, and no `..` after a directory that does not exist yet.
//!
//! Paths are compared after resolving symlinks and `..`, so `--out src/..` is the project root.

use std::path::{Component, Path, PathBuf};

use super::error::WriteError;

/// What the output directory must stay clear of.
#[derive(Debug, Clone)]
pub struct Protected {
    /// The directory the command runs in.
    pub cwd: PathBuf,
    /// The config file (`snowcdk.toml`).
    pub config_file: PathBuf,
    /// Every stage's Lambda `code_path`, as the config resolves it (relative to the config).
    pub code_paths: Vec<PathBuf>,
}

/// Resolves `path` against `cwd` as far as it exists (symlinks followed) and lexically beyond.
pub fn resolve(cwd: &Path, path: &Path) -> PathBuf {
    let abs = if path.is_absolute() {
        path.to_owned()
    } else {
        cwd.join(path)
    };
    // The longest prefix that exists is canonicalized; the rest is appended component by
    // component (`..` of a path that does not exist yet is purely lexical).
    let comps: Vec<Component> = abs.components().collect();
    for split in (0..=comps.len()).rev() {
        let head: PathBuf = comps[..split].iter().collect();
        let Ok(mut real) = head.canonicalize() else {
            continue;
        };
        for c in &comps[split..] {
            match c {
                Component::ParentDir => {
                    real.pop();
                }
                Component::CurDir => {}
                other => real.push(other.as_os_str()),
            }
        }
        return real;
    }
    abs
}

/// Whether `path` has a `..` after a component that does not exist (yet): the directory synth
/// creates there could be reached through a symlink the lexical resolution does not see.
fn has_dotdot_beyond_existing(cwd: &Path, path: &Path) -> bool {
    let abs = if path.is_absolute() {
        path.to_owned()
    } else {
        cwd.join(path)
    };
    let mut prefix = PathBuf::new();
    let mut missing = false;
    for c in abs.components() {
        if missing && c == Component::ParentDir {
            return true;
        }
        prefix.push(c.as_os_str());
        if !missing && std::fs::symlink_metadata(&prefix).is_err() {
            missing = true;
        }
    }
    false
}

/// The git work tree that contains `dir`, if any (found by its `.git`, without running git).
fn git_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|a| a.join(".git").exists())
        .map(Path::to_owned)
}

/// Checks `out` against the rules above; returns the resolved directory on success.
pub fn check_output_dir(out: &Path, p: &Protected) -> Result<PathBuf, WriteError> {
    let refuse = |why: String| WriteError::RefusedOutput {
        out: out.to_owned(),
        why,
    };
    if out.as_os_str().is_empty() {
        return Err(refuse("the path is empty".into()));
    }
    if has_dotdot_beyond_existing(&p.cwd, out) {
        return Err(refuse(
            "`..` after a directory that does not exist yet is ambiguous once it is created (a symlink in between would lead elsewhere); give the path without it".into(),
        ));
    }
    let real = resolve(&p.cwd, out);
    if real.parent().is_none() {
        return Err(refuse("it is the file system root".into()));
    }
    let cwd = resolve(&p.cwd, Path::new("."));
    // The directory the config is in as given, and (when the config is a symlink) the one its
    // target is in: both are project roots.
    let config_dir = match p.config_file.parent() {
        Some(d) if !d.as_os_str().is_empty() => resolve(&p.cwd, d),
        _ => cwd.clone(),
    };
    let config_target_dir = resolve(&p.cwd, &p.config_file)
        .parent()
        .map(Path::to_owned)
        .unwrap_or_else(|| cwd.clone());
    let mut roots: Vec<(PathBuf, &str)> = vec![
        (cwd.clone(), "the current directory"),
        (
            config_dir.clone(),
            "the project root (the config file's directory)",
        ),
        (
            config_target_dir,
            "the directory of the file the config symlink points to",
        ),
    ];
    if let Some(g) = git_root(&config_dir) {
        roots.push((g, "the project's git work tree"));
    }
    if let Some(g) = git_root(&cwd) {
        roots.push((g, "the git work tree of the current directory"));
    }
    if let Some((_, what)) = roots.iter().find(|(root, _)| root == &real) {
        return Err(refuse(format!("it is {what}")));
    }
    for (root, what) in &roots {
        if root.starts_with(&real) {
            return Err(refuse(format!("it contains {what} ({})", root.display())));
        }
    }
    if real.components().any(|c| c.as_os_str() == ".git") {
        return Err(refuse("it is inside a git directory".into()));
    }
    for code in &p.code_paths {
        let code_real = resolve(&p.cwd, code);
        if code_real == real {
            return Err(refuse(format!(
                "it is the Lambda code_path {}",
                code.display()
            )));
        }
        if code_real.starts_with(&real) {
            return Err(refuse(format!(
                "it holds the Lambda code_path {}",
                code.display()
            )));
        }
        if real.starts_with(&code_real) {
            return Err(refuse(format!(
                "it is inside the Lambda code_path {}, so the package would contain the output",
                code.display()
            )));
        }
    }
    match std::fs::symlink_metadata(out) {
        Ok(m) if m.is_dir() => {}
        Ok(m) if m.file_type().is_symlink() => match std::fs::metadata(out) {
            Ok(t) if t.is_dir() => {}
            Ok(_) => {
                return Err(refuse(
                    "it is a symlink to something that is not a directory".into(),
                ));
            }
            Err(_) => {
                return Err(refuse(
                    "it is a symlink that leads nowhere (broken, or a loop)".into(),
                ));
            }
        },
        Ok(_) => return Err(refuse("it exists and is not a directory".into())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(WriteError::io(out, "inspect", e)),
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_handles_dotdot_beyond_what_exists() {
        let t = tempfile::tempdir().expect("tempdir");
        let base = t.path().canonicalize().expect("canonical");
        assert_eq!(resolve(&base, Path::new("a/b/../c")), base.join("a/c"));
        assert_eq!(
            resolve(&base, Path::new("..")),
            base.parent().expect("parent")
        );
    }
}
