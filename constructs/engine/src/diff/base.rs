//! Where the base templates come from: a directory, or the templates directory at a git
//! revision (read with `git ls-tree` / `git show`, no checkout).
//!
//! The base decides what the diff says, so it is never guessed: when the base is a git revision
//! and git cannot run (not installed, or refusing a repository with "dubious ownership" in a CI
//! container), that is an error, not a quiet comparison with the files on disk, which would show
//! "no changes" for a committed database replacement. The files on disk are the base only outside
//! a git repository when no `--base` was given, and the diff says so. Each template is read with
//! [`crate::template_read`]; one that cannot be read is reported for its stack, and the other stacks
//! are still compared.

use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value as Json;

use crate::template_read::{Format, read_template};

/// A resolved base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// A directory of `<stack>.template.json` (or `.yaml`) files.
    Dir(PathBuf),
    /// `dir` (relative to `repo`, the directory git runs in) at revision `rev`.
    Git {
        /// The directory git runs in (the config's directory, or the current one with
        /// `--templates-dir`).
        repo: PathBuf,
        /// The revision as given (`origin/main`, `HEAD`, a commit).
        rev: String,
        /// The templates directory inside the repository, relative to `repo`.
        dir: String,
    },
}

/// The base and, when it is the files on disk for lack of a git repository, a sentence saying so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// What to compare with.
    pub base: Base,
    /// Set when the default base (`HEAD`) was not available and the files on disk are used
    /// instead: the sentence is shown so the reader knows what the diff is against.
    pub fallback: Option<String>,
}

/// The base templates, by stack name.
#[derive(Debug, Clone, Default)]
pub struct BaseTemplates {
    /// E.g. `templates_out/ at origin/main (3f2a1bc)`.
    pub description: String,
    /// Each readable base template, as JSON (YAML is converted), by stack name.
    pub stacks: BTreeMap<String, Json>,
    /// Sentences for the reader about the base as a whole (e.g. the directory does not exist
    /// there, so every stack is new).
    pub notes: Vec<String>,
    /// Stacks whose base template exists but cannot be read, with the reason (file, line,
    /// column). They are not compared, and the diff fails.
    pub unreadable: BTreeMap<String, String>,
}

/// Why there is no base to compare with.
#[derive(Debug, thiserror::Error)]
pub enum BaseError {
    /// `--base` is neither a directory nor a revision git knows (often a branch not fetched).
    #[error(
        "--base {base}: neither a directory nor a git revision (for a pull request base, fetch it first: git fetch origin {short})"
    )]
    UnknownBase {
        /// `--base` as given.
        base: String,
        /// The branch name without `origin/`, for the `git fetch` hint.
        short: String,
    },
    /// `--base` is not a directory and there is no git repository to read a revision from.
    #[error(
        "--base {base}: not a directory, and {repo} is not inside a git repository to read a revision from"
    )]
    NotInRepository {
        /// `--base` as given.
        base: String,
        /// The directory git would have run in.
        repo: String,
    },
    /// The directory is inside a git repository but git cannot be run: comparing with the
    /// files on disk instead would silently diff against the wrong base.
    #[error(
        "cannot run git ({reason}), but {repo} is inside a git repository ({git_dir}): the base templates at the git revision cannot be read. Install git (or put it on PATH), or compare with a directory: --base DIR"
    )]
    GitMissing {
        /// The directory git would run in.
        repo: String,
        /// The `.git` (or `$GIT_DIR`) that shows it is in a repository.
        git_dir: String,
        /// Why git could not be started.
        reason: String,
    },
    /// git runs but refuses the repository (e.g. "dubious ownership" in a container).
    #[error(
        "git cannot read the repository at {repo}, so the base templates cannot be read: {stderr}\nFix git (for \"dubious ownership\": git config --global --add safe.directory {repo}), or compare with a directory: --base DIR"
    )]
    GitFailed {
        /// The directory git ran in.
        repo: String,
        /// git's own message.
        stderr: String,
    },
    /// The revision does not resolve to a commit.
    #[error("{rev} is not a git revision in {repo}")]
    NotARevision {
        /// The revision as given.
        rev: String,
        /// The directory git ran in.
        repo: String,
    },
    /// git could not list the templates directory at the revision.
    #[error("cannot list {dir}/ at {rev} with git: {stderr}")]
    ListFailed {
        /// The templates directory inside the repository.
        dir: String,
        /// The revision.
        rev: String,
        /// git's own message.
        stderr: String,
    },
    /// The base directory exists but cannot be listed.
    #[error("cannot read the directory {dir}: {source}")]
    ReadDir {
        /// The directory.
        dir: String,
        /// The OS error.
        source: std::io::Error,
    },
}

const SUFFIXES: &[&str] = &[".template.json", ".template.yaml", ".template.yml"];

fn stack_name(file: &str) -> Option<&str> {
    SUFFIXES.iter().find_map(|s| file.strip_suffix(s))
}

fn git(repo: &Path, args: &[&str]) -> std::io::Result<Output> {
    Command::new("git").arg("-C").arg(repo).args(args).output()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_owned()
}

/// The repository path as the user would type it in a fix.
fn shown(repo: &Path) -> String {
    fs::canonicalize(repo)
        .unwrap_or_else(|_| repo.to_owned())
        .display()
        .to_string()
}

/// The `.git` of the repository `dir` is in, found without git (`$GIT_DIR`, or a `.git` in
/// `dir` or one of its ancestors).
fn git_dir_without_git(dir: &Path) -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("GIT_DIR") {
        return Some(PathBuf::from(d));
    }
    let abs = std::path::absolute(dir).ok()?;
    abs.ancestors().map(|a| a.join(".git")).find(|g| g.exists())
}

/// Whether `repo` is in a git repository, and with a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    WithCommit,
    NoCommit,
    Outside,
}

/// Asks git whether `repo` is in a repository. Git failing where a repository exists is an error:
/// the caller would otherwise take the files on disk for the base.
fn probe(repo: &Path) -> Result<Probe, BaseError> {
    match git(repo, &["rev-parse", "--is-inside-work-tree"]) {
        Err(e) => match git_dir_without_git(repo) {
            Some(git_dir) => Err(BaseError::GitMissing {
                repo: shown(repo),
                git_dir: git_dir.display().to_string(),
                reason: if e.kind() == ErrorKind::NotFound {
                    "git is not installed or not on PATH".into()
                } else {
                    e.to_string()
                },
            }),
            None => Ok(Probe::Outside),
        },
        Ok(o) if o.status.success() => {
            let head = git(repo, &["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]);
            Ok(match head {
                Ok(h) if h.status.success() => Probe::WithCommit,
                _ => Probe::NoCommit,
            })
        }
        Ok(o) => {
            let err = stderr(&o);
            if git_dir_without_git(repo).is_some() || err.contains("safe.directory") {
                Err(BaseError::GitFailed {
                    repo: shown(repo),
                    stderr: err,
                })
            } else {
                Ok(Probe::Outside)
            }
        }
    }
}

/// The commit a revision names, or `None` when it names none (or git cannot tell).
pub fn resolve_rev(repo: &Path, rev: &str) -> Option<String> {
    if rev.starts_with('-') {
        return None;
    }
    let o = git(
        repo,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_owned())
}

/// Chooses the base from `--base`: an existing directory wins, then a git revision. Without
/// `--base`, the templates directory at `HEAD` when in a git repository (what the last commit
/// deploys); outside a git repository (or before its first commit), the templates directory on
/// disk, with [`Resolved::fallback`] saying so.
pub fn resolve(
    base: Option<&str>,
    repo: &Path,
    templates_dir: &Path,
) -> Result<Resolved, BaseError> {
    let dir = templates_dir.to_string_lossy().into_owned();
    // On disk, the directory is found where git would look: relative to `repo`.
    let on_disk = if repo == Path::new(".") {
        templates_dir.to_owned()
    } else {
        repo.join(templates_dir)
    };
    let disk = on_disk.display().to_string();
    let exact = |base| Resolved {
        base,
        fallback: None,
    };
    match base {
        Some(b) if Path::new(b).is_dir() => Ok(exact(Base::Dir(PathBuf::from(b)))),
        Some(b) => {
            let unknown = || BaseError::UnknownBase {
                base: b.to_owned(),
                short: b.trim_start_matches("origin/").to_owned(),
            };
            match probe(repo)? {
                Probe::Outside => Err(BaseError::NotInRepository {
                    base: b.to_owned(),
                    repo: shown(repo),
                }),
                Probe::NoCommit => Err(unknown()),
                Probe::WithCommit => match resolve_rev(repo, b) {
                    Some(_) => Ok(exact(Base::Git {
                        repo: repo.to_owned(),
                        rev: b.to_owned(),
                        dir,
                    })),
                    None => Err(unknown()),
                },
            }
        }
        None => Ok(match probe(repo)? {
            Probe::WithCommit => exact(Base::Git {
                repo: repo.to_owned(),
                rev: "HEAD".into(),
                dir,
            }),
            Probe::NoCommit => Resolved {
                base: Base::Dir(on_disk.clone()),
                fallback: Some(format!(
                    "the git repository has no commit yet: comparing with {disk}/ on disk"
                )),
            },
            Probe::Outside => Resolved {
                base: Base::Dir(on_disk.clone()),
                fallback: Some(format!(
                    "not inside a git repository: comparing with {disk}/ on disk (use --base to choose)"
                )),
            },
        }),
    }
}

/// Reads the base templates.
pub fn load(base: &Base) -> Result<BaseTemplates, BaseError> {
    match base {
        Base::Dir(d) => load_dir(d),
        Base::Git { repo, rev, dir } => load_git(repo, rev, dir),
    }
}

/// Reads one template into `out`, or records why its stack cannot be compared.
fn add(
    out: &mut BaseTemplates,
    stack: &str,
    file_name: &str,
    origin: &str,
    text: Result<String, String>,
) {
    let format = Format::from_file_name(file_name);
    let read = text.and_then(|t| read_template(origin, &t, format).map_err(|e| e.to_string()));
    match read {
        Ok(t) => {
            out.stacks.insert(stack.to_owned(), t);
        }
        Err(e) => {
            out.unreadable.insert(stack.to_owned(), e);
        }
    }
}

/// Reads `*.template.json|yaml` from a directory. A missing directory is an empty base.
pub fn load_dir(dir: &Path) -> Result<BaseTemplates, BaseError> {
    let mut out = BaseTemplates {
        description: format!("{}/", dir.display()),
        ..BaseTemplates::default()
    };
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            out.notes.push(format!(
                "{} does not exist: every stack is new",
                dir.display()
            ));
            return Ok(out);
        }
        Err(source) => {
            return Err(BaseError::ReadDir {
                dir: dir.display().to_string(),
                source,
            });
        }
    };
    let mut names: Vec<String> = rd
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let Some(stack) = stack_name(&name) else {
            continue;
        };
        let path = dir.join(&name);
        let origin = path.display().to_string();
        let text = fs::read(&path)
            .map_err(|e| format!("{origin}: cannot read: {e}"))
            .and_then(|b| String::from_utf8(b).map_err(|_| format!("{origin}: not UTF-8 text")));
        add(&mut out, stack, &name, &origin, text);
    }
    Ok(out)
}

/// Reads the templates directory at a git revision, without touching the work tree.
pub fn load_git(repo: &Path, rev: &str, dir: &str) -> Result<BaseTemplates, BaseError> {
    let Some(commit) = resolve_rev(repo, rev) else {
        // Tell a broken git from a missing revision.
        probe(repo)?;
        return Err(BaseError::NotARevision {
            rev: rev.to_owned(),
            repo: repo.display().to_string(),
        });
    };
    let short: String = commit.chars().take(7).collect();
    let dir = dir.trim_end_matches('/');
    let description = if commit.starts_with(rev) {
        format!("{dir}/ at {short}")
    } else {
        format!("{dir}/ at {rev} ({short})")
    };
    let mut out = BaseTemplates {
        description,
        ..BaseTemplates::default()
    };
    // `ls-tree COMMIT -- DIR/` lists the directory's entries (paths relative to the directory git
    // runs in, as the templates directory is), succeeds with nothing when the directory does not
    // exist at that revision, and fails only when git does.
    let listing = git(
        repo,
        &[
            "ls-tree",
            "-z",
            "--name-only",
            &commit,
            "--",
            &format!("{dir}/"),
        ],
    )
    .map_err(|e| BaseError::ListFailed {
        dir: dir.to_owned(),
        rev: rev.to_owned(),
        stderr: e.to_string(),
    })?;
    if !listing.status.success() {
        return Err(BaseError::ListFailed {
            dir: dir.to_owned(),
            rev: rev.to_owned(),
            stderr: stderr(&listing),
        });
    }
    let paths = String::from_utf8_lossy(&listing.stdout).into_owned();
    let mut any = false;
    for path in paths.split('\0').filter(|n| !n.is_empty()) {
        any = true;
        let name = path.rsplit('/').next().unwrap_or(path);
        let Some(stack) = stack_name(name) else {
            continue;
        };
        let origin = format!("{dir}/{name} at {rev}");
        let text = match git(repo, &["show", &format!("{commit}:./{path}")]) {
            Ok(o) if o.status.success() => {
                String::from_utf8(o.stdout).map_err(|_| format!("{origin}: not UTF-8 text"))
            }
            Ok(o) => Err(format!("{origin}: git show failed: {}", stderr(&o))),
            Err(e) => Err(format!("{origin}: cannot run git: {e}")),
        };
        add(&mut out, stack, name, &origin, text);
    }
    if !any {
        out.notes.push(format!(
            "{dir}/ does not exist at {rev}: every stack is new"
        ));
    }
    Ok(out)
}
