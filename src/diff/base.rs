//! Where the base templates come from: a directory, or the templates directory at a git
//! revision (read with `git ls-tree` / `git show`, no checkout).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};
use serde_json::Value as Json;

/// A resolved base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// A directory of `<stack>.template.json` (or `.yaml`) files.
    Dir(PathBuf),
    /// `dir` (relative to `repo`, the directory git runs in) at revision `rev`.
    Git {
        repo: PathBuf,
        rev: String,
        dir: String,
    },
}

/// The base templates, by stack name.
#[derive(Debug, Clone, Default)]
pub struct BaseTemplates {
    /// E.g. `templates_out/ at origin/main (3f2a1bc)`.
    pub description: String,
    pub stacks: BTreeMap<String, Json>,
    pub notes: Vec<String>,
}

const SUFFIXES: &[&str] = &[".template.json", ".template.yaml", ".template.yml"];

fn stack_name(file: &str) -> Option<&str> {
    SUFFIXES.iter().find_map(|s| file.strip_suffix(s))
}

fn parse(file: &str, text: &str) -> anyhow::Result<Json> {
    if file.ends_with(".json") {
        serde_json::from_str(text).with_context(|| format!("{file}: not a JSON template"))
    } else {
        serde_yaml_ng::from_str(text).with_context(|| {
            format!("{file}: not a YAML template snowcdk can read (short-form tags such as !Ref are not supported)")
        })
    }
}

fn git(repo: &Path, args: &[&str]) -> anyhow::Result<std::process::Output> {
    Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .with_context(|| format!("cannot run git in {}", repo.display()))
}

/// Whether `repo` is inside a git work tree with at least one commit.
pub fn in_git_repo(repo: &Path) -> bool {
    git(repo, &["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])
        .is_ok_and(|o| o.status.success())
}

/// The commit a revision names, or `None` when it names none.
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
/// deploys), else the templates directory on disk.
pub fn resolve(base: Option<&str>, repo: &Path, templates_dir: &Path) -> anyhow::Result<Base> {
    let dir = templates_dir.to_string_lossy().into_owned();
    match base {
        Some(b) if Path::new(b).is_dir() => Ok(Base::Dir(PathBuf::from(b))),
        Some(b) => {
            if resolve_rev(repo, b).is_some() {
                Ok(Base::Git {
                    repo: repo.to_owned(),
                    rev: b.to_owned(),
                    dir,
                })
            } else {
                bail!(
                    "--base {b}: neither a directory nor a git revision (for a pull request base, fetch it first: git fetch origin {b_short})",
                    b_short = b.trim_start_matches("origin/")
                )
            }
        }
        None if in_git_repo(repo) => Ok(Base::Git {
            repo: repo.to_owned(),
            rev: "HEAD".into(),
            dir,
        }),
        None => Ok(Base::Dir(templates_dir.to_owned())),
    }
}

/// Reads the base templates.
pub fn load(base: &Base) -> anyhow::Result<BaseTemplates> {
    match base {
        Base::Dir(d) => load_dir(d),
        Base::Git { repo, rev, dir } => load_git(repo, rev, dir),
    }
}

/// Reads `*.template.json|yaml` from a directory. A missing directory is an empty base.
pub fn load_dir(dir: &Path) -> anyhow::Result<BaseTemplates> {
    let mut out = BaseTemplates {
        description: format!("{}/", dir.display()),
        ..BaseTemplates::default()
    };
    let Ok(rd) = fs::read_dir(dir) else {
        out.notes.push(format!(
            "{} does not exist: every stack is new",
            dir.display()
        ));
        return Ok(out);
    };
    let mut names: Vec<String> = rd
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let Some(stack) = stack_name(&name) else {
            continue;
        };
        let path = dir.join(&name);
        let text =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        out.stacks
            .insert(stack.to_owned(), parse(&path.to_string_lossy(), &text)?);
    }
    Ok(out)
}

/// Reads the templates directory at a git revision, without touching the work tree.
pub fn load_git(repo: &Path, rev: &str, dir: &str) -> anyhow::Result<BaseTemplates> {
    let Some(commit) = resolve_rev(repo, rev) else {
        bail!("{rev} is not a git revision in {}", repo.display());
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
    // `REV:./DIR` is relative to the directory git runs in, like the templates directory is.
    let tree = format!("{commit}:./{dir}");
    let listing = git(repo, &["ls-tree", "-z", "--name-only", &tree])?;
    if !listing.status.success() {
        out.notes.push(format!(
            "{dir}/ does not exist at {rev}: every stack is new"
        ));
        return Ok(out);
    }
    let names = String::from_utf8_lossy(&listing.stdout).into_owned();
    for name in names.split('\0').filter(|n| !n.is_empty()) {
        let Some(stack) = stack_name(name) else {
            continue;
        };
        let object = format!("{commit}:./{dir}/{name}");
        let shown = git(repo, &["show", &object])?;
        if !shown.status.success() {
            bail!(
                "git show {rev}:{dir}/{name} failed: {}",
                String::from_utf8_lossy(&shown.stderr).trim()
            );
        }
        let text = String::from_utf8(shown.stdout)
            .with_context(|| format!("{dir}/{name} at {rev} is not UTF-8"))?;
        out.stacks.insert(
            stack.to_owned(),
            parse(&format!("{dir}/{name} at {rev}"), &text)?,
        );
    }
    Ok(out)
}
