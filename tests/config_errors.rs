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
            // The lambda table's key (the database table has one too since it names its logs).
            edit(
                "url_auth = \"NONE\"\nlog_retention_days = 14",
                "url_auth = \"NONE\"\nlog_retention_days = 10",
            ),
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

/// Runs synth on `text` and expects success; returns the temporary directory (removed when
/// dropped) and the output directory in it.
fn assert_accepted(case: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("ok.toml");
    fs::write(&file, text).expect("write config");
    let out = dir.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_snowcdk"))
        .args(["synth", "--config"])
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run snowcdk");
    assert!(
        o.status.success(),
        "{case}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    (dir, out)
}

/// The shipped config with dev's tags set to `tags` (TOML lines).
fn with_dev_tags(lines: &str) -> String {
    format!("{}\n[stages.dev.tags]\n{lines}\n", shipped())
}

/// The shipped config with the stage `dev` renamed to `name` (a TOML key, quoted as needed).
fn with_dev_named(name: &str) -> String {
    shipped()
        .replace("[stages.dev]", &format!("[stages.{name}]"))
        .replace("[stages.dev.", &format!("[stages.{name}."))
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("a JSON string is a TOML basic string")
}

#[test]
fn more_than_fifty_tags_on_a_resource_are_refused_counting_built_in_tags() {
    // Project, Stage and Name are snowcdk's own: 47 of the stage's fit, 48 do not.
    let tags = |n: usize| {
        (0..n)
            .map(|i| format!("Tag{i:02} = \"v\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (_dir, out) = assert_accepted("47 tags", &with_dev_tags(&tags(47)));
    let t: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(out.join("snowex-dev.template.json")).expect("template"),
    )
    .expect("json");
    let most = t["Resources"]
        .as_object()
        .expect("resources")
        .values()
        .filter_map(|r| r["Properties"]["Tags"].as_array().map(Vec::len))
        .max();
    assert_eq!(most, Some(50), "the built-in tags are counted right");
    assert_rejected(
        "48 tags",
        &with_dev_tags(&tags(48)),
        &["stage dev: tags: 48 tags", "50"],
    );
}

#[test]
fn tag_characters_aws_refuses_are_refused() {
    for (case, key, value) in [
        ("NUL in a value", "Team", "a\u{0}b"),
        ("newline in a value", "Team", "a\nb"),
        ("emoji in a value", "Team", "snow😀"),
        ("RTL mark in a value", "Team", "a\u{200F}b"),
        ("semicolon in a value", "Team", "a;b"),
        ("emoji in a key", "Team😀", "x"),
        ("newline in a key", "Te\nam", "x"),
    ] {
        let text = with_dev_tags(&format!("{} = {}", quoted(key), quoted(value)));
        assert_rejected(case, &text, &["stage dev: tags.", "AWS allows only"]);
    }
}

#[test]
fn stage_names_that_are_not_tag_values_are_refused() {
    for (case, name) in [
        ("NUL", "dev\u{0}"),
        ("newline", "dev\nx"),
        ("emoji", "dev😀"),
        ("RTL mark", "dev\u{200F}"),
        ("empty", ""),
    ] {
        assert_rejected(
            case,
            &with_dev_named(&quoted(name)),
            &["the stage name is the Stage tag"],
        );
    }
}

#[test]
fn the_aws_tag_prefix_is_refused_in_any_case() {
    for key in ["aws:team", "AWS:team", "Aws:team", "aWs:team"] {
        assert_rejected(
            key,
            &with_dev_tags(&format!("{} = \"x\"", quoted(key))),
            &["stage dev: tags.", "reserves"],
        );
    }
}

#[test]
fn tag_lengths_count_characters_not_bytes() {
    assert_accepted(
        "256 x é (512 bytes)",
        &with_dev_tags(&format!("Team = {}", quoted(&"é".repeat(256)))),
    );
    assert_accepted(
        "128-character key of ü",
        &with_dev_tags(&format!("{} = \"x\"", quoted(&"ü".repeat(128)))),
    );
    assert_rejected(
        "257 characters",
        &with_dev_tags(&format!("Team = {}", quoted(&"é".repeat(257)))),
        &["stage dev: tags.Team", "257 characters"],
    );
}

#[test]
fn a_project_name_longer_than_a_tag_value_is_refused() {
    let text = edit(
        "name = \"snowex\"",
        &format!("name = \"{}\"", "p".repeat(300)),
    );
    assert_rejected("300 characters", &text, &["[project] name", "256"]);
    assert_rejected(
        "newline",
        &edit("name = \"snowex\"", "name = \"snow\\nex\""),
        &["[project] name"],
    );
}

#[test]
fn vpc_ranges_outside_the_private_ranges_are_refused() {
    for cidr in [
        "127.0.0.0/16",
        "0.0.0.0/16",
        "224.0.0.0/16",
        "169.254.0.0/16",
        "8.8.0.0/16",
    ] {
        let text = edit(
            "vpc_cidr = \"10.0.0.0/16\"",
            &format!("vpc_cidr = \"{cidr}\""),
        );
        assert_rejected(
            cidr,
            &text,
            &["stage dev: network.vpc_cidr", "not a private range"],
        );
    }
    for cidr in ["172.16.0.0/16", "192.168.0.0/16", "100.64.0.0/16"] {
        assert_accepted(
            cidr,
            &edit(
                "vpc_cidr = \"10.0.0.0/16\"",
                &format!("vpc_cidr = \"{cidr}\""),
            ),
        );
    }
}

#[test]
fn az_count_above_the_regions_zones_is_refused() {
    assert_rejected(
        "5 AZs in us-west-2",
        &edit("az_count = 2", "az_count = 5"),
        &["stage dev: network.az_count", "us-west-2 has 4"],
    );
    assert_accepted("4 AZs in us-west-2", &edit("az_count = 2", "az_count = 4"));
}

#[test]
fn unknown_regions_are_refused() {
    for region in ["us-west-9", "eu-moon-1", "US-WEST-2"] {
        assert_rejected(
            region,
            &edit("region = \"us-west-2\"", &format!("region = \"{region}\"")),
            &["stage dev: region", "not an AWS region snowcdk knows"],
        );
    }
}

#[test]
fn staging_bucket_names_s3_refuses_are_refused() {
    for bucket in [
        "Snowex-Staging",
        "ab",
        "snow..ex",
        "192.168.1.1",
        "xn--snowex",
        "snowex-s3alias",
        "snow_ex",
    ] {
        let text = edit(
            "region = \"us-west-2\"",
            &format!(
                "region = \"us-west-2\"\nstaging_bucket = {}",
                quoted(bucket)
            ),
        );
        assert_rejected(bucket, &text, &["stage dev: staging_bucket"]);
    }
}

#[test]
fn engine_majors_rds_does_not_offer_are_refused() {
    for v in ["19", "99.1", "11.22", "21"] {
        let text = edit(
            "engine_version = \"17.11\"",
            &format!("engine_version = \"{v}\""),
        );
        assert_rejected(
            v,
            &text,
            &["stage dev: database.engine_version", "does not offer"],
        );
    }
}

#[test]
fn postgres_reserved_words_are_refused_as_database_names() {
    for (key, word) in [
        ("master_username", "user"),
        ("master_username", "Select"),
        ("db_name", "table"),
        ("db_name", "ORDER"),
    ] {
        let text = edit(
            "multi_az = false",
            &format!("multi_az = false\n{key} = \"{word}\""),
        );
        assert_rejected(
            word,
            &text,
            &[&format!("stage dev: database.{key}"), "reserved word"],
        );
    }
}

#[test]
fn an_image_in_another_region_than_the_stage_is_refused() {
    let text = edit(
        "123456789012.dkr.ecr.us-west-2.amazonaws.com/snowex-api:latest",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/snowex-api:latest",
    );
    assert_rejected(
        "eu-west-1 image",
        &text,
        &["stage dev: lambda.image_uri", "eu-west-1", "us-west-2"],
    );
}

#[test]
fn stack_names_that_differ_only_in_case_are_refused() {
    assert_rejected(
        "snowex-DEV",
        &edit(
            "stack_name = \"snowex-prod\"",
            "stack_name = \"snowex-DEV\"",
        ),
        &["stack_name", "differing only in case"],
    );
}

#[test]
fn a_stage_named_like_another_stages_stack_is_refused() {
    assert_rejected(
        "prod's stack is called dev",
        &edit("stack_name = \"snowex-prod\"", "stack_name = \"dev\""),
        &["stage dev: stack_name", "stack \"dev\" of stage prod"],
    );
}

#[test]
fn a_deletion_protected_stage_must_name_its_account() {
    assert_rejected(
        "prod without account",
        &edit("account = \"123456789012\"\n", ""),
        &["stage prod: account: missing", "deletion_protection"],
    );
    assert_rejected(
        "dev protected without account",
        &edit("deletion_protection = false", "deletion_protection = true"),
        &["stage dev: account: missing"],
    );
    assert_accepted(
        "dev protected with its account",
        &edit("deletion_protection = false", "deletion_protection = true").replacen(
            "region = \"us-west-2\"",
            "region = \"us-west-2\"\naccount = \"210987654321\"",
            1,
        ),
    );
}

/// Runs `snowcdk synth --config <path>` with a deadline: reading the config must end quickly.
fn synth_with_config(config: &Path) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_snowcdk"))
        .args(["synth", "--config"])
        .arg(config)
        .arg("--out")
        .arg(dir.path().join("out"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run snowcdk");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("synth --config {} still runs after 30 s", config.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let o = child.wait_with_output().expect("output");
    assert!(!dir.path().join("out").exists());
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn config_paths_that_are_not_regular_files_are_refused_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    for path in [Path::new("/dev/zero"), dir.path()] {
        let (code, err) = synth_with_config(path);
        assert_eq!(code, Some(1), "{err}");
        assert!(
            err.contains(&format!("{}: not a regular file", path.display())),
            "{err}"
        );
    }
}

#[test]
fn an_oversized_config_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("big.toml");
    let padding = "# padding\n".repeat(110_000);
    fs::write(&file, format!("{}{padding}", shipped())).expect("write");
    let (code, err) = synth_with_config(&file);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("over 1048576 bytes"), "{err}");
}

#[test]
fn a_config_that_is_not_utf8_says_so_without_the_repository_root_hint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("latin1.toml");
    fs::write(&file, b"[project]\nname = \"caf\xe9\"\n").expect("write");
    let (code, err) = synth_with_config(&file);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("not UTF-8"), "{err}");
    assert!(!err.contains("repository root"), "{err}");
}

#[test]
fn read_errors_name_the_path_and_say_the_os_error_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("config.toml");
    fs::write(&file, shipped()).expect("write");
    // A path through a regular file: ENOTDIR, not "not found".
    let through = file.join("snowcdk.toml");
    let (code, err) = synth_with_config(&through);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(&through.display().to_string()), "{err}");
    assert_eq!(err.matches("os error").count(), 1, "{err}");
    let missing = dir.path().join("missing.toml");
    let (code, err) = synth_with_config(&missing);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(err.contains("pass --config"), "{err}");
    assert!(err.matches("os error").count() <= 1, "{err}");
}

#[test]
fn a_table_defined_twice_is_named() {
    let text = format!("{}\n[stages.dev]\nregion = \"us-west-2\"\n", shipped());
    assert_rejected(
        "[stages.dev] twice",
        &text,
        &["stage dev: [stages.dev]: duplicate key; the table appears twice"],
    );
    let text = format!("{}\n[stages.dev.tags]\nA = \"1\"\nA = \"2\"\n", shipped());
    assert_rejected("key twice", &text, &["stage dev: tags.A: duplicate key"]);
}
