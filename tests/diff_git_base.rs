//! `snowcdk diff --base <git ref>`: templates are read from the revision with git (no checkout),
//! on a temporary repository.

use std::fs;
use std::path::Path;

use serde_json::json;
use snowcdk::diff::base::{self, Base};

mod support;
use support::git::git;

fn write(dir: &Path, file: &str, v: &serde_json::Value) {
    let p = dir.join(file);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, serde_json::to_string_pretty(v).unwrap()).unwrap();
}

fn template(class: &str) -> serde_json::Value {
    json!({"Resources": {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"DBInstanceClass": class}}}})
}

#[test]
fn reads_templates_out_at_a_revision_without_touching_the_work_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    git(repo, &["init", "-q", "-b", "main"]);
    // A first commit without templates: every stack is new at that revision.
    fs::write(repo.join("README"), "x").unwrap();
    git(repo, &["add", "README"]);
    git(repo, &["commit", "-q", "-m", "init"]);
    git(repo, &["tag", "empty"]);

    write(
        repo,
        "templates_out/app-dev.template.json",
        &template("db.t4g.micro"),
    );
    write(repo, "templates_out/manifest.json", &json!({"stacks": []}));
    git(repo, &["add", "templates_out"]);
    git(repo, &["commit", "-q", "-m", "templates"]);
    // The work tree moves on; the revision keeps what was committed.
    write(
        repo,
        "templates_out/app-dev.template.json",
        &template("db.t4g.large"),
    );

    let dir = Path::new("templates_out");
    let b = base::resolve(Some("main"), repo, dir).unwrap().base;
    assert_eq!(
        b,
        Base::Git {
            repo: repo.to_owned(),
            rev: "main".into(),
            dir: "templates_out".into()
        }
    );
    let loaded = base::load(&b).unwrap();
    assert_eq!(loaded.stacks.keys().collect::<Vec<_>>(), ["app-dev"]);
    assert_eq!(loaded.stacks["app-dev"], template("db.t4g.micro"));
    assert!(loaded.description.starts_with("templates_out/ at main ("));
    assert!(loaded.notes.is_empty());

    // No --base in a git repository: HEAD.
    let b = base::resolve(None, repo, dir).unwrap();
    assert!(matches!(&b.base, Base::Git { rev, .. } if rev == "HEAD"));
    assert_eq!(b.fallback, None);

    // A revision without the directory: an empty base, said so.
    let loaded = base::load(&base::resolve(Some("empty"), repo, dir).unwrap().base).unwrap();
    assert!(loaded.stacks.is_empty());
    assert_eq!(
        loaded.notes,
        ["templates_out/ does not exist at empty: every stack is new"]
    );

    // Neither a directory nor a revision.
    let err = base::resolve(Some("origin/nope"), repo, dir).unwrap_err();
    assert!(
        err.to_string()
            .contains("neither a directory nor a git revision")
    );

    // An existing directory wins over a revision name.
    let on_disk = repo.join("templates_out");
    let b = base::resolve(Some(on_disk.to_str().unwrap()), repo, dir)
        .unwrap()
        .base;
    assert_eq!(b, Base::Dir(on_disk.clone()));
    assert_eq!(
        base::load(&b).unwrap().stacks["app-dev"],
        template("db.t4g.large")
    );

    // And the diff against the revision sees the work tree's change.
    let current = [snowcdk::diff::Current {
        stack: "app-dev".into(),
        template: template("db.t4g.large"),
        paths: Default::default(),
    }];
    let report = snowcdk::diff::diff(
        &base::load(&base::resolve(Some("main"), repo, dir).unwrap().base).unwrap(),
        &current,
        true,
        &[],
    );
    assert_eq!(report.stacks[0].counts().update, 1);
}

#[test]
fn outside_a_git_repository_the_default_is_the_directory_on_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("templates_out");
    let b = base::resolve(None, tmp.path(), &dir).unwrap();
    assert_eq!(b.base, Base::Dir(dir.clone()));
    // Said, not silent.
    assert!(
        b.fallback
            .as_deref()
            .is_some_and(|f| f.starts_with("not inside a git repository: comparing with")),
        "{b:?}"
    );
    let loaded = base::load(&b.base).unwrap();
    assert!(loaded.stacks.is_empty());
    assert_eq!(loaded.notes.len(), 1);
}
