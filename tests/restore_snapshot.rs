//! A stage with `[stages.NAME.database] restore_from_snapshot`: what the synthesized database
//! holds (`DBSnapshotIdentifier`, the password from the stack's secret) and leaves out (what a
//! restore inherits from the snapshot), that nothing else in the stack changes, and that the
//! template passes cfn-lint and checkov like the shipped ones (the tools come from
//! `.ci/setup`; a missing tool fails the test with that instruction).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;
use snowcdk::app;
use snowcdk::snowex::{SnowEx, SnowexConfig};

const ARN: &str = "arn:aws:rds:us-west-2:123456789012:snapshot:snowexdb-20261203-183924";

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

/// The repository's config with `extra` added to the dev database section.
fn config_with(dir: &Path, extra: &str) -> SnowexConfig {
    let config = support::project::repo_config().replacen(
        "[stages.dev.database]\n",
        &format!("[stages.dev.database]\n{extra}\n"),
        1,
    );
    let path = dir.join("snowcdk.toml");
    std::fs::write(&path, config).expect("config");
    SnowexConfig::load(&path).expect("the config loads")
}

/// The dev stage's template.
fn dev_template(config: &SnowexConfig) -> Json {
    let s = app::synth(&SnowEx, config, &[])
        .expect("synth")
        .stacks
        .into_iter()
        .find(|s| s.stage == "dev")
        .expect("dev");
    serde_json::from_str(&s.body).expect("JSON")
}

fn shipped(name: &str) -> Json {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("templates_out/{name}"));
    serde_json::from_str(&std::fs::read_to_string(p).expect("template")).expect("JSON")
}

fn db_instance(t: &Json) -> (String, Json) {
    let all: Vec<(&String, &Json)> = t["Resources"]
        .as_object()
        .expect("Resources")
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::RDS::DBInstance")
        .collect();
    assert_eq!(all.len(), 1);
    (all[0].0.clone(), all[0].1.clone())
}

#[test]
fn a_restored_database_names_the_snapshot_and_leaves_out_what_the_snapshot_brings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let t = dev_template(&config_with(
        dir.path(),
        &format!("restore_from_snapshot = \"{ARN}\""),
    ));
    let (id, db) = db_instance(&t);
    let p = &db["Properties"];
    assert_eq!(p["DBSnapshotIdentifier"], ARN);
    for gone in ["DBName", "MasterUsername", "StorageEncrypted", "KmsKeyId"] {
        assert!(p.get(gone).is_none(), "{gone} must be left out: {p}");
    }
    // What the restore takes from the template.
    assert_eq!(p["Engine"], "postgres");
    assert_eq!(p["EngineVersion"], "17.11");
    assert_eq!(p["AllocatedStorage"], "20");
    assert_eq!(p["DBInstanceIdentifier"], "snowex-dev");
    // The password stays a reference to the stack's secret, so CloudFormation sets the
    // restored instance's master password to it.
    let password = serde_json::to_string(&p["MasterUserPassword"]).expect("json");
    assert!(
        password.contains("{{resolve:secretsmanager:${DatabaseSecret")
            && password.contains(":SecretString:password}}"),
        "{password}"
    );
    // The secret still names the master user, which preflight compares with the snapshot's.
    let secret_id = password
        .split("${")
        .nth(1)
        .and_then(|s| s.split('}').next())
        .expect("secret logical id");
    let template =
        t["Resources"][secret_id]["Properties"]["GenerateSecretString"]["SecretStringTemplate"]
            .as_str()
            .expect("secret template");
    let doc: Json = serde_json::from_str(template).expect("JSON");
    // The same user the shipped (non-restored) dev database is created with.
    let shipped_user =
        shipped("snowex-dev.template.json")["Resources"][&id]["Properties"]["MasterUsername"]
            .clone();
    assert_eq!(doc["username"], shipped_user);
    // Encryption comes from the snapshot: the checkov skip says so.
    let skips = serde_json::to_string(&db["Metadata"]).expect("json");
    assert!(skips.contains("CKV_AWS_16"), "{skips}");

    // Nothing else in the stack differs from the shipped dev template.
    let mut before = shipped("snowex-dev.template.json");
    let mut after = t.clone();
    before["Resources"]
        .as_object_mut()
        .expect("Resources")
        .remove(&id);
    after["Resources"]
        .as_object_mut()
        .expect("Resources")
        .remove(&id);
    assert_eq!(before, after);
    // And the database differs only in what the restore changes.
    let mut shipped_db = shipped("snowex-dev.template.json")["Resources"][&id].clone();
    let mut restored = db.clone();
    for k in ["DBName", "MasterUsername", "StorageEncrypted"] {
        shipped_db["Properties"]
            .as_object_mut()
            .expect("props")
            .remove(k);
    }
    restored["Properties"]
        .as_object_mut()
        .expect("props")
        .remove("DBSnapshotIdentifier");
    shipped_db.as_object_mut().expect("db").remove("Metadata");
    restored.as_object_mut().expect("db").remove("Metadata");
    assert_eq!(shipped_db, restored);
}

#[test]
fn a_restored_database_passes_cfn_lint_and_checkov() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).expect("out");
    for (n, reference) in [ARN, "snowexdb-20261203-183924"].iter().enumerate() {
        let t = dev_template(&config_with(
            dir.path(),
            &format!("restore_from_snapshot = \"{reference}\""),
        ));
        let path = out.join(format!("restored-{n}.template.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&t).expect("json")).expect("write");
        let lint = Command::new(tool("cfn-lint"))
            .args(["--non-zero-exit-code", "warning", "--"])
            .arg(&path)
            .output()
            .expect("run cfn-lint");
        assert!(
            lint.status.success(),
            "cfn-lint on the restored stage ({reference}):\n{}{}",
            String::from_utf8_lossy(&lint.stdout),
            String::from_utf8_lossy(&lint.stderr)
        );
    }
    let checkov = Command::new(tool("checkov"))
        .args([
            "--framework",
            "cloudformation",
            "--quiet",
            "--compact",
            "--skip-download",
            "--directory",
        ])
        .arg(&out)
        .output()
        .expect("run checkov");
    assert!(
        checkov.status.success(),
        "checkov on the restored stage:\n{}{}",
        String::from_utf8_lossy(&checkov.stdout),
        String::from_utf8_lossy(&checkov.stderr)
    );
}

#[test]
fn a_malformed_snapshot_reference_is_refused_under_its_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = support::project::repo_config().replacen(
        "[stages.dev.database]\n",
        "[stages.dev.database]\nrestore_from_snapshot = \"arn:aws:rds:us-west-2:1234:snapshot:x\"\n",
        1,
    );
    let path = dir.path().join("snowcdk.toml");
    std::fs::write(&path, config).expect("config");
    let err = match SnowexConfig::load(&path) {
        Ok(_) => panic!("a malformed ARN must be refused"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        err.contains("stage dev: database.restore_from_snapshot"),
        "{err}"
    );
    assert!(err.contains("is neither a DB snapshot ARN"), "{err}");
}
