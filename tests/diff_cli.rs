//! `snowcdk diff` end to end: the SnowEx app against `templates_out/` committed in a temporary
//! git repository, the destructive-change gate and its exit code, the three formats.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value as Json, json};

mod support;
use support::git::git;
use support::stdout;

const CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/snowcdk.toml");

fn snowcdk(dir: &Path, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_snowcdk"));
    c.args(args).args(["--config", CONFIG]).current_dir(dir);
    if args.first() == Some(&"diff") {
        // This repository holds its own templates_out/, not the config's.
        c.args(["--templates-dir", "templates_out"]);
    }
    c.output().expect("snowcdk runs")
}

#[test]
fn diff_against_a_git_ref_and_the_destructive_gate() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    git(repo, &["init", "-q", "-b", "main"]);
    // The templates go into this repository, not next to the config (the default).
    let synth = snowcdk(repo, &["synth", "--out", "templates_out"]);
    assert!(synth.status.success(), "{synth:?}");
    git(repo, &["add", "templates_out"]);
    git(repo, &["commit", "-q", "-m", "templates"]);

    // Same code, same templates: no changes, against the default base (HEAD) and a branch.
    for args in [&["diff"][..], &["diff", "--base", "main"]] {
        let out = snowcdk(repo, args);
        assert!(out.status.success(), "{out:?}");
        let text = stdout(&out);
        assert!(
            text.starts_with("Comparing with templates_out/ at "),
            "{text}"
        );
        assert!(text.contains("Stack snowex-dev: no changes"), "{text}");
    }

    // The committed template has a bucket and a log group the code no longer makes: removing
    // them destroys data. A retained bucket is kept in AWS: reported, not destructive.
    let file = repo.join("templates_out/snowex-dev.template.json");
    let mut t: Json = serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    let resources = t["Resources"].as_object_mut().unwrap();
    resources.insert("Uploads".into(), json!({"Type": "AWS::S3::Bucket"}));
    resources.insert(
        "Archive".into(),
        json!({"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"}),
    );
    resources.insert(
        "OldLogs".into(),
        json!({"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}}),
    );
    fs::write(&file, serde_json::to_string_pretty(&t).unwrap()).unwrap();
    git(repo, &["commit", "-q", "-am", "a bucket"]);
    git(repo, &["checkout", "-q", "-b", "feature"]);

    let out = snowcdk(repo, &["diff", "--base", "main", "--fail-on-destructive"]);
    assert_eq!(out.status.code(), Some(6), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.contains(
            "[-] AWS::S3::Bucket Uploads: remove\n      DESTRUCTIVE: removed: deleted with the objects"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "[-] AWS::S3::Bucket Archive: kept, no longer managed\n      NOTE: kept in AWS, no longer managed by the stack (DeletionPolicy Retain)"
        ),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("2 destructive changes not allowed"));

    // Without the flag the diff only reports.
    let out = snowcdk(repo, &["diff", "--base", "main"]);
    assert_eq!(out.status.code(), Some(0));

    // Allowing the types (repeatable, comma-separated, wildcards) passes the gate.
    let out = snowcdk(
        repo,
        &[
            "diff",
            "--base",
            "main",
            "--fail-on-destructive",
            "--allow-destroy",
            "AWS::S3::Bucket,AWS::Logs::*",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    let out = snowcdk(
        repo,
        &[
            "diff",
            "--allow-destroy",
            "AWS::S3::Bucket",
            "AWS::Logs::LogGroup",
            "--fail-on-destructive",
            "--base",
            "main",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = snowcdk(
        repo,
        &[
            "diff",
            "--base",
            "main",
            "--fail-on-destructive",
            "--allow-destroy",
            "AWS::S3::Bucket",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(6),
        "the log group is still not allowed"
    );

    let out = snowcdk(repo, &["diff", "--base", "main", "--format", "markdown"]);
    let md = stdout(&out);
    assert!(md.starts_with("<!-- snowcdk-diff -->\n"), "{md}");
    assert!(md.contains("**2 destructive changes**"), "{md}");

    let out = snowcdk(
        repo,
        &[
            "diff", "--base", "main", "--format", "json", "--stage", "dev",
        ],
    );
    let j: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["stacks"].as_array().unwrap().len(), 1);
    assert_eq!(j["stacks"][0]["stack"], "snowex-dev");

    // A directory base.
    let out = snowcdk(repo, &["diff", "--base", "templates_out"]);
    assert!(stdout(&out).starts_with("Comparing with templates_out/\n"));

    let out = snowcdk(repo, &["diff", "--base", "no-such-ref"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("neither a directory nor a git revision")
    );
}

#[test]
fn diff_reads_the_templates_next_to_the_config_as_synth_writes_them() {
    // `--config infra/snowcdk.toml`: synth writes infra/templates_out/, and diff must compare
    // with that directory (at HEAD), wherever it runs from; not with ./templates_out, which
    // does not exist and would make every stack look new.
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    git(repo, &["init", "-q", "-b", "main"]);
    fs::create_dir_all(repo.join("infra")).unwrap();
    fs::copy(CONFIG, repo.join("infra/snowcdk.toml")).unwrap();
    let run = |cwd: &Path, config: &str, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_snowcdk"))
            .args(["--config", config])
            .args(args)
            .current_dir(cwd)
            .output()
            .expect("snowcdk runs")
    };
    let synth = run(repo, "infra/snowcdk.toml", &["synth"]);
    assert!(synth.status.success(), "{synth:?}");
    assert!(repo.join("infra/templates_out/manifest.json").is_file());
    git(repo, &["add", "infra"]);
    git(repo, &["commit", "-q", "-m", "templates"]);
    let elsewhere = tempfile::tempdir().unwrap();
    let abs = repo.join("infra/snowcdk.toml");
    for (cwd, config) in [
        (repo, "infra/snowcdk.toml"),
        (elsewhere.path(), abs.to_str().unwrap()),
    ] {
        let out = run(cwd, config, &["diff", "--fail-on-destructive"]);
        assert!(out.status.success(), "{out:?}");
        let text = stdout(&out);
        assert!(text.contains("Stack snowex-dev: no changes"), "{text}");
        assert!(text.contains("Stack snowex-prod: no changes"), "{text}");
    }
}
