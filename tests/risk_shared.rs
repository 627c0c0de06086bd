//! `diff`, `deploy` (the change table) and `destroy` judge data loss from the one list in
//! `snowcdk::risk`: each calls the same removals destructive, and each shows a retained one as
//! kept (issue 9, section 3).

use serde_json::{Value as Json, json};
use snowcdk::assembly::TemplateFacts;
use snowcdk::deploy::DeployedResource;
use snowcdk::deploy::destroy::{Fate, rows};
use snowcdk::deploy::{Action, Change, classify};
use snowcdk::diff::{Context, diff_stack};
use snowcdk::risk;

fn template(resource: Json) -> Json {
    json!({"Resources": {"X": resource}})
}

/// What diff says about removing `X`: `(destructive, kept)`.
fn diff_removal(resource: &Json) -> (bool, bool) {
    let d = diff_stack(
        "s",
        Some(&template(resource.clone())),
        Some(&json!({"Resources": {}})),
        &Context::default(),
    );
    let r = &d.resources[0];
    (r.destructive.is_some(), r.kept)
}

/// What deploy's change table says about a `Remove` row for `X`: `(destructive, kept)`.
fn deploy_removal(resource: &Json) -> (bool, bool) {
    let old = TemplateFacts::from_json(&template(resource.clone()));
    let new = TemplateFacts::from_json(&json!({"Resources": {}}));
    let change = Change {
        action: Action::Remove,
        logical_id: "X".into(),
        physical_id: None,
        resource_type: resource["Type"].as_str().unwrap_or_default().into(),
        replacement: None,
        causes: vec![],
    };
    let r = classify(&change, Some(&old), &new);
    (r.destructive.is_some(), r.kept.is_some())
}

/// What destroy says about `X`: `(data lost, fate)`.
fn destroy_removal(resource: &Json) -> (bool, Fate) {
    let facts = TemplateFacts::from_json(&template(resource.clone()));
    let row = &rows(
        &[DeployedResource {
            logical_id: "X".into(),
            physical_id: None,
            type_name: resource["Type"].as_str().unwrap_or_default().into(),
            status: "CREATE_COMPLETE".into(),
        }],
        &facts,
    )[0];
    (row.data_loss, row.fate)
}

#[test]
fn diff_deploy_and_destroy_all_call_removing_an_sqs_queue_destructive() {
    let q = json!({"Type": "AWS::SQS::Queue"});
    assert_eq!(diff_removal(&q), (true, false));
    assert_eq!(deploy_removal(&q), (true, false));
    assert_eq!(destroy_removal(&q), (true, Fate::Deleted));
}

#[test]
fn every_stateful_type_is_destructive_to_remove_in_diff_deploy_and_destroy() {
    for s in risk::STATEFUL_TYPES {
        let r = json!({"Type": s.type_name, "DeletionPolicy": "Delete"});
        assert_eq!(diff_removal(&r), (true, false), "diff: {}", s.type_name);
        assert_eq!(deploy_removal(&r), (true, false), "deploy: {}", s.type_name);
        assert_eq!(
            destroy_removal(&r),
            (true, Fate::Deleted),
            "destroy: {}",
            s.type_name
        );
    }
    // And a type that holds nothing is not, in any of them.
    let sg = json!({"Type": "AWS::EC2::SecurityGroup"});
    assert_eq!(diff_removal(&sg), (false, false));
    assert_eq!(deploy_removal(&sg), (false, false));
    assert_eq!(destroy_removal(&sg), (false, Fate::Deleted));
}

#[test]
fn diff_deploy_and_destroy_all_show_a_retained_removal_as_kept() {
    for policy in ["Retain", "RetainExceptOnCreate"] {
        let r = json!({"Type": "AWS::ECR::Repository", "DeletionPolicy": policy});
        assert_eq!(diff_removal(&r), (false, true), "{policy}");
        assert_eq!(deploy_removal(&r), (false, true), "{policy}");
        assert_eq!(destroy_removal(&r), (false, Fate::Retained), "{policy}");
    }
}

#[test]
fn an_rds_instance_without_a_policy_is_snapshotted_in_diff_deploy_and_destroy() {
    // CloudFormation's default for an instance outside a cluster is Snapshot.
    let db = json!({"Type": "AWS::RDS::DBInstance", "Properties": {"Engine": "postgres"}});
    assert_eq!(diff_removal(&db), (true, false));
    assert_eq!(deploy_removal(&db), (true, false));
    assert_eq!(destroy_removal(&db), (false, Fate::Snapshot));
}
