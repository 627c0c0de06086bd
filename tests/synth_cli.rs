//! `snowcdk synth` as a user runs it: deterministic output, YAML equal to JSON, `--check`, and
//! the committed `templates_out/` being exactly what synth writes now.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn snowcdk(args: &[&str], out: &Path) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_snowcdk"))
        .current_dir(repo())
        .args(args)
        .arg("--out")
        .arg(out)
        .output();
    match output {
        Ok(o) => o,
        Err(e) => panic!("cannot run snowcdk: {e}"),
    }
}

fn read_dir_sorted(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .expect("output dir exists")
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let bytes = fs::read(e.path()).expect("readable file");
            (name, bytes)
        })
        .collect();
    files.sort();
    files
}

fn tmp() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().expect("tempdir");
    let out = t.path().join("templates_out");
    (t, out)
}

#[test]
fn two_runs_write_byte_identical_files_equal_to_the_committed_ones() {
    let (_t1, a) = tmp();
    let (_t2, b) = tmp();
    assert!(snowcdk(&["synth"], &a).status.success());
    assert!(snowcdk(&["synth"], &b).status.success());
    let first = read_dir_sorted(&a);
    assert_eq!(first, read_dir_sorted(&b));
    let names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"manifest.json"), "{names:?}");
    assert!(
        names
            .iter()
            .filter(|n| n.ends_with(".template.json"))
            .count()
            >= 2,
        "{names:?}"
    );
    let committed: Vec<_> = read_dir_sorted(&repo().join("templates_out"));
    assert_eq!(
        first, committed,
        "templates_out/ is stale: run `cargo run -- synth` and commit it"
    );
    for (name, bytes) in &first {
        assert!(bytes.ends_with(b"}\n"), "{name} must end with a newline");
    }
}

#[test]
fn check_passes_on_current_output_and_names_what_is_stale() {
    let (_t, out) = tmp();
    assert!(snowcdk(&["synth"], &out).status.success());
    let ok = snowcdk(&["synth", "--check"], &out);
    assert_eq!(ok.status.code(), Some(0));

    let file = out.join("snowex-dev.template.json");
    let text = fs::read_to_string(&file).expect("template");
    fs::write(&file, text.replace("10.0.0.0/24", "10.0.9.0/24")).expect("edit");
    let stale = snowcdk(&["synth", "--check"], &out);
    assert_eq!(stale.status.code(), Some(1));
    let err = String::from_utf8_lossy(&stale.stderr);
    assert!(err.contains("snowex-dev.template.json"), "{err}");
    assert!(err.contains("resource NetworkPublicSubnet1Subnet"), "{err}");
    // --check never writes.
    assert!(
        fs::read_to_string(&file)
            .expect("template")
            .contains("10.0.9.0/24")
    );
}

#[test]
fn yaml_output_is_the_same_template() {
    let (_t1, json_dir) = tmp();
    let (_t2, yaml_dir) = tmp();
    assert!(
        snowcdk(&["synth", "--stage", "dev"], &json_dir)
            .status
            .success()
    );
    assert!(
        snowcdk(&["synth", "--stage", "dev", "--format", "yaml"], &yaml_dir)
            .status
            .success()
    );
    let json: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(json_dir.join("snowex-dev.template.json")).expect("json"),
    )
    .expect("valid json");
    let yaml: serde_json::Value = serde_yaml_ng::from_str(
        &fs::read_to_string(yaml_dir.join("snowex-dev.template.yaml")).expect("yaml"),
    )
    .expect("valid yaml");
    // YAML reads the unquoted format version as a string too.
    assert_eq!(yaml, json);
}

#[test]
fn an_unknown_stage_is_an_error_and_writes_nothing() {
    let (_t, out) = tmp();
    let o = snowcdk(&["synth", "--stage", "qa"], &out);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no stage named qa"), "{err}");
    assert!(!out.exists());
}
