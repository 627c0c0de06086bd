//! The bootstrap template passes cfn-lint (warnings count) and checkov, like the app's templates
//! in CI. The tools come from `.ci/setup`; a missing tool fails the test with that instruction.

use std::path::{Path, PathBuf};
use std::process::Command;

use snowcdk_constructs::l2::staging_bucket::{StagingBucketProps, bootstrap_stack};
use snowcdk_constructs::tree::synth_stack;

fn tool(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".venv/bin")
        .join(name);
    assert!(
        p.exists(),
        "{name} is not installed: run `bash .ci/setup` ({} is missing)",
        p.display()
    );
    p
}

fn write_template(dir: &Path, props: &StagingBucketProps) -> PathBuf {
    let stack = bootstrap_stack(props).expect("build");
    let synthesized = synth_stack(&stack).expect("synth");
    assert!(
        synthesized.warnings.is_empty(),
        "{:?}",
        synthesized.warnings
    );
    let path = dir.join(format!("{}.template.json", synthesized.name));
    std::fs::write(&path, &synthesized.body).unwrap();
    path
}

fn variants() -> Vec<StagingBucketProps> {
    vec![
        StagingBucketProps::default(),
        StagingBucketProps {
            qualifier: Some("team-a".into()),
            asset_expiration_days: Some(365),
            ..StagingBucketProps::default()
        },
    ]
}

#[test]
fn the_bootstrap_template_is_cfn_lint_clean() {
    let lint = tool("cfn-lint");
    let dir = tempfile::tempdir().unwrap();
    for props in variants() {
        let path = write_template(dir.path(), &props);
        let out = Command::new(&lint)
            .args(["--non-zero-exit-code", "warning", "--"])
            .arg(&path)
            .output()
            .expect("run cfn-lint");
        assert!(
            out.status.success(),
            "cfn-lint on {}:\n{}{}",
            path.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_bootstrap_template_passes_checkov() {
    let checkov = tool("checkov");
    let dir = tempfile::tempdir().unwrap();
    for props in variants() {
        write_template(dir.path(), &props);
    }
    let out = Command::new(&checkov)
        .args([
            "--framework",
            "cloudformation",
            "--quiet",
            "--compact",
            "--skip-download",
            "--directory",
        ])
        .arg(dir.path())
        .output()
        .expect("run checkov");
    assert!(
        out.status.success(),
        "checkov:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
