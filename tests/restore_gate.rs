//! Once a database is restored from a snapshot, `restore_from_snapshot` (its
//! `DBSnapshotIdentifier`) must stay: removing it, changing it, or adding it to an existing
//! instance replaces the database. `diff` and `deploy` (the change table and the gate) both call
//! each of those edits a destructive replacement with the same message, deploy refuses it
//! without `--allow-replacement AWS::RDS::DBInstance`, and `diff --fail-on-destructive` exits 6.

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::{Value as Json, json};
use snowcdk::assembly::TemplateFacts;
use snowcdk::deploy::{
    Action, ApprovalPolicy, Change, ClassifiedChange, Decision, RequireApproval, classify, decide,
};
use snowcdk::diff::{Context, diff_stack};
use snowcdk::risk::Replacement;

const DB: &str = "AWS::RDS::DBInstance";

/// A template with one database `Db` (restored from `snapshot` when given), snapshotted on
/// replacement like `PostgresRds` makes it.
fn template(snapshot: Option<&str>) -> Json {
    let mut props = json!({
        "Engine": "postgres", "EngineVersion": "17.11", "DBInstanceClass": "db.t4g.micro",
        "AllocatedStorage": "20"
    });
    if let Some(s) = snapshot {
        props["DBSnapshotIdentifier"] = json!(s);
    }
    json!({"Resources": {"Db": {
        "Type": DB, "DeletionPolicy": "Snapshot", "UpdateReplacePolicy": "Snapshot",
        "Properties": props
    }}})
}

const REMOVED: &str = "replaced: removing restore_from_snapshot (DBSnapshotIdentifier snap-a) replaces the database with a new, empty one; its data stays only in the final snapshot";
const CHANGED: &str = "replaced: changing restore_from_snapshot (DBSnapshotIdentifier snap-a -> snap-b) replaces the database with one restored from snap-b; its data stays only in the final snapshot";
const ADDED: &str = "replaced: adding restore_from_snapshot (DBSnapshotIdentifier snap-b) to the existing database replaces it with one restored from snap-b; its data stays only in the final snapshot";

/// The three edits, with the message each must carry.
fn edits() -> [(Option<&'static str>, Option<&'static str>, &'static str); 3] {
    [
        (Some("snap-a"), None, REMOVED),
        (Some("snap-a"), Some("snap-b"), CHANGED),
        (None, Some("snap-b"), ADDED),
    ]
}

#[test]
fn diff_calls_every_edit_of_the_snapshot_a_destructive_replacement() {
    for (old, new, message) in edits() {
        let d = diff_stack(
            "s",
            Some(&template(old)),
            Some(&template(new)),
            &Context::default(),
        );
        let r = &d.resources[0];
        assert_eq!(
            r.replacement,
            snowcdk::diff::Replacement::Always,
            "{old:?} -> {new:?}"
        );
        let destruction = r.destructive.as_ref().expect("destructive");
        assert_eq!(destruction.reason, message);
        assert!(!destruction.allowed, "--fail-on-destructive flags it");
        let prop = r
            .changes
            .iter()
            .find(|p| p.path == "Properties.DBSnapshotIdentifier")
            .expect("the property change");
        assert_eq!(prop.replacement, snowcdk::diff::Replacement::Always);
        // `--allow-destroy AWS::RDS::DBInstance` accepts it.
        let allow = [DB.to_owned()];
        let d = diff_stack(
            "s",
            Some(&template(old)),
            Some(&template(new)),
            &Context {
                paths: None,
                allow_destroy: &allow,
            },
        );
        assert!(
            d.resources[0]
                .destructive
                .as_ref()
                .expect("still shown")
                .allowed
        );
    }
    // The same snapshot: nothing changes.
    let same = diff_stack(
        "s",
        Some(&template(Some("snap-a"))),
        Some(&template(Some("snap-a"))),
        &Context::default(),
    );
    assert!(same.resources.is_empty(), "{:?}", same.resources);
}

#[test]
fn deploy_refuses_every_edit_of_the_snapshot_without_allow_replacement() {
    for (old, new, message) in edits() {
        let (old_facts, new_facts) = (
            TemplateFacts::from_json(&template(old)),
            TemplateFacts::from_json(&template(new)),
        );
        // What a change set says (Conditional), and what an emulator says (nothing).
        for replacement in [Some(Replacement::Conditional), None] {
            let change = Change {
                action: Action::Modify,
                logical_id: "Db".into(),
                physical_id: Some("snowexdb".into()),
                resource_type: DB.into(),
                replacement,
                causes: vec!["DBSnapshotIdentifier".into()],
            };
            let risk = classify(&change, Some(&old_facts), &new_facts);
            assert_eq!(risk.destructive.as_deref(), Some(message));
            let classified = [ClassifiedChange { change, risk }];
            let refused = decide(
                &classified,
                &ApprovalPolicy {
                    require: RequireApproval::Never,
                    yes: true,
                    allow_replacement: Default::default(),
                },
            );
            assert!(
                matches!(&refused, Decision::Refuse { reason } if reason.contains("--allow-replacement AWS::RDS::DBInstance")),
                "{refused:?}"
            );
            let allowed = decide(
                &classified,
                &ApprovalPolicy {
                    require: RequireApproval::Never,
                    yes: true,
                    allow_replacement: [DB.to_owned()].into_iter().collect(),
                },
            );
            assert_eq!(allowed, Decision::Proceed);
        }
    }
}

/// `snowcdk diff --fail-on-destructive` of the repository's stages (written to `dir` with
/// `extra` in the dev database) against the templates in `base`.
fn diff_cli(dir: &Path, extra: &str, base: &Path) -> std::process::Output {
    let config = support::project::repo_config().replacen(
        "[stages.dev.database]\n",
        &format!("[stages.dev.database]\n{extra}\n"),
        1,
    );
    std::fs::write(dir.join("snowcdk.toml"), config).expect("config");
    Command::new(env!("CARGO_BIN_EXE_snowcdk"))
        .args(["--config"])
        .arg(dir.join("snowcdk.toml"))
        .args(["diff", "--stage", "dev", "--fail-on-destructive", "--base"])
        .arg(base)
        .current_dir(dir)
        .output()
        .expect("snowcdk runs")
}

#[test]
fn diff_fail_on_destructive_exits_6_when_the_key_is_added_or_removed() {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates_out");
    // Added to the deployed (shipped) dev database.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = diff_cli(dir.path(), "restore_from_snapshot = \"snap-b\"", &shipped);
    let text = support::stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(6),
        "{text}{}",
        support::stderr(&out)
    );
    assert!(
        text.contains("adding restore_from_snapshot (DBSnapshotIdentifier snap-b) to the existing database replaces it with one restored from snap-b"),
        "{text}"
    );
    // Removed again: the restored templates are the base, the shipped config the new state.
    let restored = dir.path().join("restored");
    let synth = Command::new(env!("CARGO_BIN_EXE_snowcdk"))
        .args(["--config"])
        .arg(dir.path().join("snowcdk.toml"))
        .args(["synth", "--out"])
        .arg(&restored)
        .output()
        .expect("synth");
    assert!(synth.status.success(), "{synth:?}");
    let again = tempfile::tempdir().expect("tempdir");
    let out = diff_cli(again.path(), "", &restored);
    let text = support::stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(6),
        "{text}{}",
        support::stderr(&out)
    );
    assert!(
        text.contains("removing restore_from_snapshot (DBSnapshotIdentifier snap-b) replaces the database with a new, empty one; its data stays only in the final snapshot"),
        "{text}"
    );
}
