//! Lambda code from a local directory, end to end through `snowcdk synth`: packaged once,
//! written next to the templates, listed in the manifest, referenced by its content-hash key.

use std::fs;
use std::path::Path;
use std::process::Command;

mod support;

/// A copy of the repository's config whose dev Lambda reads its code from `lambda/`.
fn project_with_code_dir(dir: &Path, code: &str) {
    support::project::write_with_code_dir(dir, code.as_bytes());
}

fn synth(dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_snowcdk"))
        .current_dir(dir)
        .args(["synth", "--stage", "dev"])
        .output()
        .expect("run snowcdk")
}

fn s3_key(dir: &Path) -> String {
    let t: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(dir.join("templates_out/snowex-dev.template.json")).expect("template"),
    )
    .expect("json");
    let code = &t["Resources"]["Api"]["Properties"]["Code"];
    assert_eq!(code["S3Bucket"], "snowex-staging-test", "{code}");
    code["S3Key"].as_str().expect("S3Key literal").to_owned()
}

#[test]
fn a_code_directory_becomes_a_hashed_asset_referenced_by_the_template() {
    let t = tempfile::tempdir().expect("tempdir");
    project_with_code_dir(t.path(), "def handler(e, c):\n    return 1\n");
    let o = synth(t.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let key = s3_key(t.path());
    let hash = key
        .strip_prefix("snowcdk/assets/")
        .and_then(|k| k.strip_suffix(".zip"))
        .expect("content-hash key");
    let zip = t.path().join(format!("templates_out/assets/{hash}.zip"));
    let bytes = fs::read(&zip).expect("asset written next to the templates");
    let manifest: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(t.path().join("templates_out/manifest.json")).expect("manifest"),
    )
    .expect("json");
    assert_eq!(manifest["assets"][0]["sha256"], hash);
    assert_eq!(manifest["assets"][0]["s3_key"], key);
    assert_eq!(manifest["assets"][0]["sources"][0], "lambda");

    // Same input, same bytes and key; a changed file, a new key.
    assert!(synth(t.path()).status.success());
    assert_eq!(s3_key(t.path()), key);
    assert_eq!(fs::read(&zip).expect("asset"), bytes);
    fs::write(
        t.path().join("lambda/app.py"),
        "def handler(e, c):\n    return 2\n",
    )
    .expect("edit");
    assert!(synth(t.path()).status.success());
    assert_ne!(s3_key(t.path()), key);
}

#[test]
fn a_missing_code_directory_is_an_error_naming_the_key_and_writes_nothing() {
    let t = tempfile::tempdir().expect("tempdir");
    project_with_code_dir(t.path(), "x");
    fs::remove_dir_all(t.path().join("lambda")).expect("remove");
    let o = synth(t.path());
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("lambda.code_path"), "{err}");
    assert!(err.contains("snowex-dev/Api"), "{err}");
    assert!(!t.path().join("templates_out").exists());
}
