//! The engine's hints name the program the user is running. This app's binary is
//! `scheduled-bucket`, so "run `snowcdk synth`" (SnowEx's binary) would send its users to a
//! command they do not have. Both cases run offline: no AWS call is made.

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs the app's binary in `dir`, with no way to reach AWS (nothing here needs it).
fn app(dir: &Path, args: &[&str]) -> (Output, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_scheduled-bucket"))
        .current_dir(dir)
        .args(args)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run scheduled-bucket");
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    (o, stderr)
}

/// A copy of the example's config and job code in a temp directory, with no `templates_out/`.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(here.join("snowcdk.toml"), dir.path().join("snowcdk.toml")).expect("config");
    std::fs::create_dir(dir.path().join("job")).expect("job dir");
    std::fs::copy(
        here.join("job/handler.py"),
        dir.path().join("job/handler.py"),
    )
    .expect("copy the job");
    dir
}

#[test]
fn a_stale_check_says_to_run_this_apps_synth() {
    let dir = project();
    let (o, e) = app(dir.path(), &["synth", "--check"]);
    assert!(!o.status.success(), "nothing synthesized yet: {e}");
    assert!(
        e.contains("is stale; run `scheduled-bucket synth` and commit the result"),
        "{e}"
    );
    assert!(!e.contains("snowcdk synth"), "{e}");
}

#[test]
fn a_missing_config_says_to_run_this_app() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (o, e) = app(dir.path(), &["synth"]);
    assert!(!o.status.success(), "no config: {e}");
    assert!(
        e.contains("no such config file; run scheduled-bucket from the repository root"),
        "{e}"
    );
    assert!(!e.contains("run snowcdk"), "{e}");
}
