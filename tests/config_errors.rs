//! Every kind of bad stage config, through the real binary: `snowcdk synth --config <bad> --out
//! <dir>` fails with one message naming the file, the stage and the key, and writes nothing (an
//! absent output directory stays absent, an existing one is left byte for byte as it was).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's config: every case below is one edit of it.
fn shipped() -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("snowcdk.toml"))
        .expect("snowcdk.toml")
}

/// Replaces exactly the first occurrence of `from` (which must exist) in the shipped config.
fn edit(from: &str, to: &str) -> String {
    let text = shipped();
    assert!(text.contains(from), "the shipped config has {from:?}");
    text.replacen(from, to, 1)
}

struct Run {
    code: Option<i32>,
    stderr: String,
    file: PathBuf,
}

/// Runs synth on `text` with an output directory that does not exist yet.
fn synth(dir: &Path, text: &str) -> Run {
    let file = dir.join("bad.toml");
    fs::write(&file, text).expect("write config");
    let out = dir.join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_snowcdk"))
        .args(["synth", "--config"])
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run snowcdk");
    assert!(!out.exists(), "nothing is written for a bad config");
    Run {
        code: o.status.code(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        file,
    }
}

fn assert_rejected(case: &str, text: &str, wants: &[&str]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = synth(dir.path(), text);
    assert_eq!(r.code, Some(1), "{case}: exit code; stderr: {}", r.stderr);
    assert!(
        r.stderr.contains(&r.file.display().to_string()),
        "{case}: names the file: {}",
        r.stderr
    );
    for w in wants {
        assert!(r.stderr.contains(w), "{case}: wants {w:?} in: {}", r.stderr);
    }
}

#[test]
fn the_shipped_config_synthesizes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_snowcdk"))
        .args(["synth", "--out"])
        .arg(&out)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run snowcdk");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in [
        "snowex-dev.template.json",
        "snowex-prod.template.json",
        "manifest.json",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
}

#[test]
fn unknown_keys() {
    let cases = [
        (
            "database key",
            edit(
                "instance_class = \"db.t4g.micro\"",
                "instance_klass = \"db.t4g.micro\"",
            ),
            "stage dev: database.instance_klass: unknown field `instance_klass`",
        ),
        (
            "lambda key",
            edit("memory_mb = 1024", "memory = 1024"),
            "stage dev: lambda.memory: unknown field `memory`",
        ),
        (
            "bastion key",
            edit("instance_type = \"t4g.micro\"", "type = \"t4g.micro\""),
            "stage dev: bastion.type: unknown field `type`",
        ),
        (
            "stage section",
            edit("[stages.dev.bastion]", "[stages.dev.bastions]"),
            "stage dev: bastions: unknown field `bastions`",
        ),
        (
            "network key",
            edit("az_count = 2", "az_count = 2\nazs = 3"),
            "stage dev: network.azs: unknown field `azs`",
        ),
    ];
    for (case, text, want) in cases {
        assert_rejected(case, &text, &[want]);
    }
}

#[test]
fn wrong_types() {
    let cases = [
        (
            "string for a number",
            edit("memory_mb = 1024", "memory_mb = \"1GB\""),
            "stage dev: lambda.memory_mb: invalid type: string",
        ),
        (
            "number for a bool",
            edit("deletion_protection = false", "deletion_protection = 0"),
            "stage dev: database.deletion_protection: invalid type: integer",
        ),
        (
            "negative count",
            edit("backup_retention_days = 1", "backup_retention_days = -1"),
            "stage dev: database.backup_retention_days",
        ),
        (
            "unknown architecture",
            edit("architecture = \"x86_64\"", "architecture = \"amd64\""),
            "stage dev: lambda.architecture: unknown variant `amd64`",
        ),
        (
            "unknown auth type",
            edit("url_auth = \"NONE\"", "url_auth = \"PUBLIC\""),
            "stage dev: lambda.url_auth: unknown variant `PUBLIC`",
        ),
    ];
    for (case, text, want) in cases {
        assert_rejected(case, &text, &[want]);
    }
}

#[test]
fn bad_cidrs() {
    let cases = [
        ("not a CIDR", "10.0.0.0/33", "network.vpc_cidr"),
        ("host bits", "10.0.0.1/16", "host bits set"),
        ("too large", "10.0.0.0/8", "between /16 and /28"),
        ("garbage", "ten-dot-zero", "network.vpc_cidr"),
    ];
    for (case, cidr, want) in cases {
        let text = edit(
            "vpc_cidr = \"10.0.0.0/16\"",
            &format!("vpc_cidr = \"{cidr}\""),
        );
        assert_rejected(case, &text, &["stage dev: network.vpc_cidr", want]);
    }
}

#[test]
fn wrong_shapes() {
    let cases = [
        (
            "class without db.",
            edit("\"db.t4g.micro\"", "\"t4g.micro\""),
            "stage dev: database.instance_class",
        ),
        (
            "class without size",
            edit("\"db.t4g.micro\"", "\"db.t4g\""),
            "stage dev: database.instance_class",
        ),
        (
            "serverless is Aurora only",
            edit("\"db.t4g.micro\"", "\"db.serverless\""),
            "stage dev: database.instance_class",
        ),
        (
            "prod class upper case",
            edit("\"db.t4g.medium\"", "\"db.T4G.medium\""),
            "stage prod: database.instance_class",
        ),
        (
            "image without tag",
            edit(
                "image_uri = \"123456789012.dkr.ecr.us-west-2.amazonaws.com/snowex-api:latest\"",
                "image_uri = \"123456789012.dkr.ecr.us-west-2.amazonaws.com/snowex-api\"",
            ),
            "stage dev: lambda.image_uri",
        ),
        (
            "image from Docker Hub",
            edit(
                "image_uri = \"123456789012.dkr.ecr.us-west-2.amazonaws.com/snowex-api:latest\"",
                "image_uri = \"python:3.13\"",
            ),
            "stage dev: lambda.image_uri",
        ),
        (
            "engine version",
            edit("engine_version = \"17.11\"", "engine_version = \"latest\""),
            "stage dev: database.engine_version",
        ),
        (
            "bastion type",
            edit("instance_type = \"t4g.micro\"", "instance_type = \"micro\""),
            "stage dev: bastion.instance_type",
        ),
        (
            "storage below gp3's minimum",
            edit("allocated_storage_gb = 20", "allocated_storage_gb = 5"),
            "stage dev: database.allocated_storage_gb",
        ),
        (
            "autoscaling limit below the storage",
            edit(
                "max_allocated_storage_gb = 200",
                "max_allocated_storage_gb = 40",
            ),
            "stage prod: database.max_allocated_storage_gb",
        ),
        (
            "backups off",
            edit("backup_retention_days = 1", "backup_retention_days = 0"),
            "stage dev: database.backup_retention_days",
        ),
        (
            "memory",
            edit("memory_mb = 1024", "memory_mb = 64"),
            "stage dev: lambda.memory_mb",
        ),
        (
            "timeout",
            edit("timeout_seconds = 30", "timeout_seconds = 1000"),
            "stage dev: lambda.timeout_seconds",
        ),
        (
            "log retention",
            edit("log_retention_days = 14", "log_retention_days = 10"),
            "stage dev: lambda.log_retention_days",
        ),
        (
            "both image and S3",
            edit(
                "url_auth = \"NONE\"",
                "url_auth = \"NONE\"\ns3_bucket = \"b-u-c\"\ns3_key = \"k.zip\"",
            ),
            "stage dev: lambda.image_uri: give either",
        ),
        (
            "region",
            edit("region = \"us-west-2\"", "region = \"oregon\""),
            "stage dev: region",
        ),
        (
            "stack name",
            edit("stack_name = \"snowex-dev\"", "stack_name = \"snowex_dev\""),
            "stage dev: stack_name",
        ),
    ];
    for (case, text, want) in cases {
        assert_rejected(case, &text, &[want]);
    }
}

#[test]
fn missing_required_values() {
    let cases = [
        (
            "instance class",
            edit("instance_class = \"db.t4g.micro\"\n", ""),
            "stage dev: database.instance_class: missing field `instance_class`",
        ),
        (
            "lambda code",
            edit(
                "image_uri = \"123456789012.dkr.ecr.us-west-2.amazonaws.com/snowex-api:latest\"\n",
                "",
            ),
            "stage dev: lambda.image_uri: missing",
        ),
        (
            "S3 key without bucket",
            edit(
                "image_uri = \"123456789012.dkr.ecr.us-west-2.amazonaws.com/snowex-api:latest\"\n",
                "s3_key = \"api.zip\"\n",
            ),
            "stage dev: lambda.s3_bucket: missing",
        ),
        (
            "S3 package without runtime",
            edit(
                "image_uri = \"123456789012.dkr.ecr.us-west-2.amazonaws.com/snowex-api:latest\"\n",
                "s3_bucket = \"snowex-code\"\ns3_key = \"api.zip\"\nhandler = \"app.handler\"\n",
            ),
            "stage dev: lambda.runtime: missing",
        ),
        (
            "stack name",
            edit("stack_name = \"snowex-prod\"\n", ""),
            "stage prod: stack_name: missing field `stack_name`",
        ),
        (
            "database section",
            {
                let t = shipped();
                let start = t.find("[stages.dev.database]").expect("dev database");
                let end = t.find("[stages.dev.lambda]").expect("dev lambda");
                format!("{}{}", &t[..start], &t[end..])
            },
            "stage dev: database: missing field `database`",
        ),
    ];
    for (case, text, want) in cases {
        assert_rejected(case, &text, &[want]);
    }
}

#[test]
fn an_existing_output_directory_is_left_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    fs::create_dir(&out).expect("mkdir");
    fs::write(out.join("snowex-dev.template.json"), "previous").expect("write");
    let file = dir.path().join("bad.toml");
    fs::write(&file, edit("\"db.t4g.micro\"", "\"db.t4g\"")).expect("write config");
    let o = Command::new(env!("CARGO_BIN_EXE_snowcdk"))
        .args(["synth", "--config"])
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run snowcdk");
    assert_eq!(o.status.code(), Some(1));
    let names: Vec<_> = fs::read_dir(&out)
        .expect("read out")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["snowex-dev.template.json"]);
    assert_eq!(
        fs::read_to_string(out.join("snowex-dev.template.json")).expect("read"),
        "previous"
    );
    // No sibling staging directory was left behind either.
    let siblings: Vec<_> = fs::read_dir(dir.path())
        .expect("read dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(siblings.len(), 2, "{siblings:?}");
}
