//! `snowcdk diff` never passes what it cannot read, end to end through the binary: git that
//! cannot run inside a repository is an error (not a quiet comparison with the files on disk),
//! an unreadable or non-template base file fails the diff for its stack while the other stacks
//! are still compared, and a short-form YAML base is read as CloudFormation reads it.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Map, Value as Json};

mod support;
use support::git::git;
use support::{stderr, stdout};

const CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/snowcdk.toml");

fn snowcdk(dir: &Path, path_env: Option<&Path>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_snowcdk"));
    c.args(args).args(["--config", CONFIG]).current_dir(dir);
    // These directories hold their own templates_out/, not the config's.
    match args.first() {
        Some(&"diff") => {
            c.args(["--templates-dir", "templates_out"]);
        }
        Some(&"synth") => {
            c.args(["--out", "templates_out"]);
        }
        _ => {}
    }
    if let Some(p) = path_env {
        c.env("PATH", p);
    }
    c.output().expect("snowcdk runs")
}

fn synth(dir: &Path) {
    let out = snowcdk(dir, None, &["synth"]);
    assert!(out.status.success(), "{out:?}");
}

fn dev_template(dir: &Path) -> Json {
    serde_json::from_str(
        &fs::read_to_string(dir.join("templates_out/snowex-dev.template.json")).unwrap(),
    )
    .unwrap()
}

/// The dev template with the database's `DBName` (create-only: changing it replaces the
/// instance) set to another value.
fn with_other_db_name(mut t: Json) -> Json {
    let props = t["Resources"]["Database"]["Properties"]
        .as_object_mut()
        .expect("the dev stack has a Database");
    assert_eq!(props["DBName"], "snowex");
    props.insert("DBName".into(), "legacy".into());
    t
}

/// A repository whose last commit has a database the working tree replaces; the files on disk
/// are the current synth output, so a diff against the disk says "no changes".
fn repo_with_committed_db_replacement() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    git(repo, &["init", "-q", "-b", "main"]);
    synth(repo);
    let file = repo.join("templates_out/snowex-dev.template.json");
    let old = with_other_db_name(dev_template(repo));
    fs::write(&file, serde_json::to_string_pretty(&old).unwrap()).unwrap();
    git(repo, &["add", "templates_out"]);
    git(repo, &["commit", "-q", "-m", "templates"]);
    synth(repo);
    tmp
}

/// A directory for PATH holding only a `git` that fails like git in a CI container whose
/// checkout belongs to another user.
fn dubious_git() -> tempfile::TempDir {
    let bin = tempfile::tempdir().unwrap();
    let script = bin.path().join("git");
    fs::write(
        &script,
        "#!/bin/sh\necho \"fatal: detected dubious ownership in repository at '$PWD'\" >&2\necho \"To add an exception for this directory, call:\" >&2\necho >&2\necho \"\tgit config --global --add safe.directory $PWD\" >&2\nexit 128\n",
    )
    .unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

#[test]
fn with_git_the_committed_db_replacement_is_found() {
    // The control for the two tests below: the same repository, git working.
    let tmp = repo_with_committed_db_replacement();
    let out = snowcdk(tmp.path(), None, &["diff", "--fail-on-destructive"]);
    assert_eq!(out.status.code(), Some(6), "{out:?}");
    assert!(stdout(&out).contains("Database"), "{}", stdout(&out));
}

#[test]
fn git_not_installed_inside_a_repository_is_an_error_not_a_diff_against_the_disk() {
    let tmp = repo_with_committed_db_replacement();
    let empty = tempfile::tempdir().unwrap();
    for args in [
        &["diff", "--fail-on-destructive"][..],
        &["diff", "--fail-on-destructive", "--base", "main"],
    ] {
        let out = snowcdk(tmp.path(), Some(empty.path()), args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        assert!(!stdout(&out).contains("no changes"), "{}", stdout(&out));
        assert!(
            err.contains("cannot run git (git is not installed or not on PATH)"),
            "{err}"
        );
        assert!(err.contains("inside a git repository"), "{err}");
        assert!(err.contains("--base DIR"), "{err}");
    }
}

#[test]
fn git_refusing_a_dubious_repository_is_an_error_showing_gits_message_and_the_fix() {
    let tmp = repo_with_committed_db_replacement();
    let bin = dubious_git();
    for args in [
        &["diff", "--fail-on-destructive"][..],
        &["diff", "--fail-on-destructive", "--base", "main"],
    ] {
        let out = snowcdk(tmp.path(), Some(bin.path()), args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        assert!(!stdout(&out).contains("no changes"), "{}", stdout(&out));
        assert!(
            err.contains("fatal: detected dubious ownership in repository at"),
            "{err}"
        );
        assert!(
            err.contains("git config --global --add safe.directory"),
            "{err}"
        );
        assert!(err.contains("--base DIR"), "{err}");
    }
}

#[test]
fn outside_a_repository_without_git_the_disk_is_the_base_and_stderr_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    synth(tmp.path());
    let empty = tempfile::tempdir().unwrap();
    let out = snowcdk(tmp.path(), Some(empty.path()), &["diff"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        stderr(&out)
            .contains("note: not inside a git repository: comparing with templates_out/ on disk"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("Stack snowex-dev: no changes"));
}

#[test]
fn one_unreadable_base_file_fails_the_diff_and_the_other_stacks_are_still_compared() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    synth(dir);
    let base = dir.join("base");
    fs::create_dir(&base).unwrap();
    fs::copy(
        dir.join("templates_out/snowex-prod.template.json"),
        base.join("snowex-prod.template.json"),
    )
    .unwrap();
    fs::write(
        base.join("snowex-dev.template.yaml"),
        "Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n  Db:\n    Type: AWS::S3::Bucket\n",
    )
    .unwrap();
    for format in ["text", "markdown", "json"] {
        let out = snowcdk(dir, None, &["diff", "--base", "base", "--format", format]);
        assert_eq!(out.status.code(), Some(1), "{format}: {out:?}");
        let (text, err) = (stdout(&out), stderr(&out));
        assert!(
            err.contains(
                "error: stack snowex-dev not compared: base/snowex-dev.template.yaml:4:3: duplicate key \"Db\""
            ),
            "{err}"
        );
        assert!(text.contains("snowex-prod"), "{format}: {text}");
        match format {
            "text" => {
                assert!(text.contains("Stack snowex-prod: no changes"), "{text}");
                assert!(
                    text.contains(
                        "Stack snowex-dev: NOT COMPARED, its base template cannot be read"
                    ),
                    "{text}"
                );
                assert!(!text.contains("Stack snowex-dev: new"), "{text}");
            }
            "markdown" => {
                assert!(text.contains("**1 stack not compared**"), "{text}");
                assert!(!text.contains("No changes."), "{text}");
            }
            _ => {
                let j: Json = serde_json::from_str(&text).unwrap();
                assert_eq!(j["unreadable"][0]["stack"], "snowex-dev");
                let stacks: Vec<&str> = j["stacks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s["stack"].as_str().unwrap())
                    .collect();
                assert_eq!(stacks, ["snowex-prod"]);
            }
        }
    }
}

#[test]
fn a_base_file_that_is_not_a_template_is_an_error_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    synth(dir);
    let base = dir.join("base");
    fs::create_dir(&base).unwrap();
    for (body, why) in [
        ("[]", "the document is a list"),
        ("null", "the document is empty (null)"),
        ("{\"Resources\": [1]}", "Resources is a list, not a mapping"),
        ("\"a string\"", "the document is a string"),
    ] {
        fs::write(base.join("snowex-dev.template.json"), body).unwrap();
        let out = snowcdk(dir, None, &["diff", "--base", "base", "--stage", "dev"]);
        assert_eq!(out.status.code(), Some(1), "{body}: {out:?}");
        let err = stderr(&out);
        assert!(
            err.contains(&format!(
                "base/snowex-dev.template.json: not a CloudFormation template: {why}"
            )),
            "{body}: {err}"
        );
    }
}

/// Writes a template as short-form YAML, the way people write it by hand: `!Ref`, `!GetAtt
/// a.b`, `!Sub`, `!Select`, ..., booleans as `yes`/`no`, strings double-quoted.
fn short_form(v: &Json) -> String {
    match v {
        Json::Object(m) if m.len() == 1 => {
            let (k, inner) = m.iter().next().unwrap();
            match (k.as_str(), inner) {
                ("Ref", Json::String(s)) => format!("!Ref {}", Json::String(s.clone())),
                ("Fn::GetAtt", Json::Array(a)) if a.len() == 2 && a.iter().all(Json::is_string) => {
                    format!(
                        "!GetAtt {}.{}",
                        a[0].as_str().unwrap(),
                        a[1].as_str().unwrap()
                    )
                }
                (f, inner) if f.starts_with("Fn::") => {
                    format!("!{} {}", &f[4..], short_form(inner))
                }
                _ => flow_map(m),
            }
        }
        Json::Object(m) => flow_map(m),
        Json::Array(a) => format!(
            "[{}]",
            a.iter().map(short_form).collect::<Vec<_>>().join(", ")
        ),
        Json::Bool(true) => "yes".into(),
        Json::Bool(false) => "no".into(),
        other => other.to_string(),
    }
}

fn flow_map(m: &Map<String, Json>) -> String {
    format!(
        "{{{}}}",
        m.iter()
            .map(|(k, v)| format!("{}: {}", Json::String(k.clone()), short_form(v)))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[test]
fn a_short_form_yaml_base_with_a_db_create_only_change_reports_the_replacement() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    synth(dir);
    let old = with_other_db_name(dev_template(dir));
    let mut yaml = String::new();
    for (section, body) in old.as_object().unwrap() {
        match body {
            Json::Object(entries) => {
                yaml.push_str(&format!("{section}:\n"));
                for (k, v) in entries {
                    yaml.push_str(&format!(
                        "  {}: {}\n",
                        Json::String(k.clone()),
                        short_form(v)
                    ));
                }
            }
            other => yaml.push_str(&format!("{section}: {}\n", short_form(other))),
        }
    }
    assert!(yaml.contains("!Ref ") && yaml.contains("!GetAtt ") && yaml.contains("!Sub "));
    assert!(yaml.contains("!Select [0, !GetAZs \"\"]"), "{yaml}");
    assert!(yaml.contains(": yes") && yaml.contains(": no"));
    let base = dir.join("yaml-base");
    fs::create_dir(&base).unwrap();
    fs::write(base.join("snowex-dev.template.yaml"), &yaml).unwrap();

    // The same base as JSON: the reference.
    let json_base = dir.join("json-base");
    fs::create_dir(&json_base).unwrap();
    fs::write(
        json_base.join("snowex-dev.template.json"),
        serde_json::to_string_pretty(&old).unwrap(),
    )
    .unwrap();

    let diff = |base: &str| {
        let out = snowcdk(
            dir,
            None,
            &[
                "diff",
                "--base",
                base,
                "--stage",
                "dev",
                "--fail-on-destructive",
                "--format",
                "json",
            ],
        );
        assert_eq!(out.status.code(), Some(6), "{base}: {out:?}");
        let j: Json = serde_json::from_slice(&out.stdout).unwrap();
        j["stacks"].clone()
    };
    let from_yaml = diff("yaml-base");
    let resources = from_yaml[0]["resources"].as_array().unwrap();
    let db = resources
        .iter()
        .find(|r| r["logical_id"] == "Database")
        .expect("the database changes");
    assert_eq!(db["kind"], "modified", "{db:#}");
    assert_eq!(db["replacement"], "always", "{db:#}");
    assert!(db["destructive"].is_object(), "{db:#}");
    // Read right, not merely read: the same report as from the JSON base, so nothing else
    // differs (a misread `yes`, `!GetAtt` or `!Sub` would show up as a change).
    assert_eq!(from_yaml, diff("json-base"));
}
