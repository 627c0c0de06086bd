//! `snowcdk diff` judges changes as CloudFormation will make them (issue 9, section 3):
//! values equal to CloudFormation are no change, a create-only property under a condition
//! "may" replace, `Fn::ForEach` loops are expanded (or reported as not analysable), and the
//! custom-name note names the property that really fixes the physical name.

use std::path::Path;

use serde_json::{Value as Json, json};
use snowcdk::diff::{ChangeKind, Replacement, ResourceChange, StackStatus};
use snowcdk::diff::{Context, StackDiff, diff_stack};

fn t(resources: Json) -> Json {
    json!({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})
}

fn diff(old: &Json, new: &Json) -> StackDiff {
    diff_stack("s", Some(old), Some(new), &Context::default())
}

fn by_id<'a>(d: &'a StackDiff, id: &str) -> &'a ResourceChange {
    d.resources
        .iter()
        .find(|r| r.logical_id == id)
        .unwrap_or_else(|| panic!("{id} not in {:#?}", d.resources))
}

fn db(props: Json) -> Json {
    json!({"Type": "AWS::RDS::DBInstance", "DeletionPolicy": "Snapshot",
        "UpdateReplacePolicy": "Snapshot", "Properties": props})
}

/// The SnowEx dev template as synthesized (committed in templates_out/).
fn snowex_dev() -> Json {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates_out/snowex-dev.template.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("template")).expect("json")
}

#[test]
fn string_true_in_the_base_against_boolean_true_is_no_change_not_a_db_replacement() {
    let new = snowex_dev();
    let mut base = new.clone();
    base["Resources"]["Database"]["Properties"]["StorageEncrypted"] = json!("true");
    let d = diff(&base, &new);
    assert_eq!(d.status, StackStatus::Unchanged, "{:#?}", d.resources);
    assert_eq!(d.counts().destructive, 0);
}

#[test]
fn numbers_and_numeric_strings_are_equal_and_keep_their_written_form() {
    let props = |port: Json, storage: Json| {
        json!({"Engine": "postgres", "DBInstanceClass": "db.t4g.micro", "Port": port,
            "AllocatedStorage": storage, "StorageEncrypted": true})
    };
    let old = t(json!({"Db": db(props(json!(5432), json!("20")))}));
    let same = t(json!({"Db": db(props(json!("5432"), json!(20)))}));
    assert_eq!(diff(&old, &same).status, StackStatus::Unchanged);
    // 5.0 and "5.0" are the same text; 5 and 5.0 are not (a string property would receive
    // "5" and "5.0"), so that stays a change.
    let p = |v: Json| {
        t(
            json!({"P": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": v}}}),
        )
    };
    assert_eq!(
        diff(&p(json!(5.0)), &p(json!("5.0"))).status,
        StackStatus::Unchanged
    );
    assert_eq!(
        diff(&p(json!(5)), &p(json!(5.0))).status,
        StackStatus::Changed
    );
}

#[test]
fn get_att_string_and_list_forms_are_equal_in_properties_and_outputs() {
    let make = |att: Json| {
        json!({"Resources": {"P": {"Type": "AWS::SSM::Parameter", "Properties": {
            "Type": "String", "Value": att.clone()}}},
            "Outputs": {"Endpoint": {"Value": att}}})
    };
    let d = diff(
        &make(json!({"Fn::GetAtt": "Database.Endpoint.Address"})),
        &make(json!({"Fn::GetAtt": ["Database", "Endpoint.Address"]})),
    );
    assert_eq!(d.status, StackStatus::Unchanged, "{d:#?}");
}

#[test]
fn depends_on_string_list_and_order_are_equal() {
    let q = |dep: Json| t(json!({"Q": {"Type": "AWS::SQS::Queue", "DependsOn": dep}}));
    assert_eq!(
        diff(&q(json!("X")), &q(json!(["X"]))).status,
        StackStatus::Unchanged
    );
    assert_eq!(
        diff(&q(json!(["X", "Y"])), &q(json!(["Y", "X"]))).status,
        StackStatus::Unchanged
    );
    assert_eq!(
        diff(&q(json!("X")), &q(json!(["X", "Y"]))).status,
        StackStatus::Changed
    );
}

#[test]
fn a_create_only_property_under_a_condition_may_replace() {
    let props = |group: Json| json!({"Engine": "postgres", "DBSubnetGroupName": group});
    let old = t(json!({"Db": db(props(json!({"Ref": "GroupA"})))}));
    let new = t(json!({"Db": db(props(
        json!({"Fn::If": ["IsProd", {"Ref": "GroupA"}, {"Ref": "GroupB"}]})
    ))}));
    let d = diff(&old, &new);
    let r = by_id(&d, "Db");
    assert_eq!(r.replacement, Replacement::Conditional);
    assert_eq!(r.action(), "may replace");
    assert_eq!(r.changes[0].replacement, Replacement::Conditional);
    assert!(
        r.changes[0]
            .note
            .as_deref()
            .unwrap_or_default()
            .contains("Fn::If"),
        "{:?}",
        r.changes[0]
    );
    let why = &r.destructive.as_ref().expect("destructive").reason;
    assert!(
        why.starts_with("may be replaced by DBSubnetGroupName"),
        "{why}"
    );
    // The other way round too: the old value was conditional.
    let back = diff(&new, &old);
    assert_eq!(by_id(&back, "Db").replacement, Replacement::Conditional);
    // A new value none of the branches can take is a replacement whatever the condition.
    let elsewhere = t(json!({"Db": db(props(json!({"Ref": "GroupC"})))}));
    assert_eq!(
        by_id(&diff(&new, &elsewhere), "Db").replacement,
        Replacement::Always
    );
}

fn tables_loop(collection: Json) -> Json {
    json!({"Transform": "AWS::LanguageExtensions", "Resources": {
        "Fn::ForEach::Tables": ["Name", collection, {
            "${Name}Table": {"Type": "AWS::DynamoDB::Table", "Properties": {
                "TableName": {"Fn::Sub": "snowex-${Name}"},
                "BillingMode": "PAY_PER_REQUEST"}}}],
        "Api": {"Type": "AWS::SQS::Queue"}}})
}

#[test]
fn removing_a_for_each_loop_of_four_tables_flags_each_table() {
    let old = tables_loop(json!(["Points", "Sites", "Pits", "Flights"]));
    let new = json!({"Transform": "AWS::LanguageExtensions",
        "Resources": {"Api": {"Type": "AWS::SQS::Queue"}}});
    let d = diff(&old, &new);
    let removed: Vec<(&str, &str)> = d
        .resources
        .iter()
        .map(|r| {
            assert_eq!(r.kind, ChangeKind::Removed);
            assert_eq!(r.type_name, "AWS::DynamoDB::Table");
            (
                r.logical_id.as_str(),
                r.destructive.as_ref().expect("destructive").reason.as_str(),
            )
        })
        .collect();
    assert_eq!(
        removed,
        [
            (
                "FlightsTable",
                "removed: deleted with the items in the table"
            ),
            ("PitsTable", "removed: deleted with the items in the table"),
            (
                "PointsTable",
                "removed: deleted with the items in the table"
            ),
            ("SitesTable", "removed: deleted with the items in the table"),
        ]
    );
}

#[test]
fn a_for_each_loop_and_the_resources_it_expands_to_are_the_same() {
    let looped = tables_loop(json!(["Points", "Sites"]));
    let mut written = json!({"Transform": "AWS::LanguageExtensions", "Resources": {}});
    for name in ["Points", "Sites"] {
        written["Resources"][format!("{name}Table")] = json!({"Type": "AWS::DynamoDB::Table",
            "Properties": {"TableName": {"Fn::Sub": format!("snowex-{name}")},
                "BillingMode": "PAY_PER_REQUEST"}});
    }
    written["Resources"]["Api"] = json!({"Type": "AWS::SQS::Queue"});
    assert_eq!(diff(&looped, &written).status, StackStatus::Unchanged);
    // Dropping one item removes that table only.
    let d = diff(&looped, &tables_loop(json!(["Points"])));
    assert_eq!(d.resources.len(), 1);
    assert_eq!(d.resources[0].logical_id, "SitesTable");
    assert!(d.resources[0].destructive.is_some());
}

#[test]
fn a_for_each_loop_over_a_parameter_is_not_analysable_and_its_removal_is_destructive() {
    let old = tables_loop(json!({"Ref": "TableNames"}));
    let new = json!({"Resources": {"Api": {"Type": "AWS::SQS::Queue"}}});
    let d = diff(&old, &new);
    let r = by_id(&d, "Fn::ForEach::Tables");
    assert_eq!(r.kind, ChangeKind::Removed);
    assert!(r.notes[0].starts_with("not analysable"), "{:?}", r.notes);
    assert!(r.notes[0].contains("AWS::DynamoDB::Table"), "{:?}", r.notes);
    let dd = r.destructive.as_ref().expect("destructive");
    assert!(!dd.allowed);
    assert_eq!(d.counts().blocking, 1);
    // Allowing the types inside allows the loop.
    let allow = vec!["AWS::DynamoDB::*".to_owned()];
    let cx = Context {
        paths: None,
        allow_destroy: &allow,
    };
    let d = diff_stack("s", Some(&old), Some(&new), &cx);
    assert_eq!(d.counts().blocking, 0);
    // Unchanged, it is no change at all.
    assert_eq!(diff(&old, &old).status, StackStatus::Unchanged);
}

#[test]
fn the_db_replacement_note_names_db_instance_identifier_never_db_name() {
    // A SnowEx database with DBName (the database inside) but no DBInstanceIdentifier (prod's
    // shape; dev now names its instance): the replacement goes through and loses the data, so
    // no note may say the update fails.
    let mut base = snowex_dev();
    if let Some(p) = base["Resources"]["Database"]["Properties"].as_object_mut() {
        p.remove("DBInstanceIdentifier");
    }
    let mut new = base.clone();
    new["Resources"]["Database"]["Properties"]["DBSubnetGroupName"] = json!({"Ref": "Other"});
    let d = diff(&base, &new);
    let r = by_id(&d, "Database");
    assert_eq!(r.replacement, Replacement::Always);
    assert!(r.destructive.is_some());
    assert!(
        r.notes.iter().all(|n| !n.contains("DBName")),
        "{:?}",
        r.notes
    );
    assert!(
        r.notes.iter().all(|n| !n.contains("fails")),
        "{:?}",
        r.notes
    );

    // With a fixed instance identifier, the note names it.
    let mut base = base;
    base["Resources"]["Database"]["Properties"]["DBInstanceIdentifier"] = json!("snowex-dev");
    let mut new = new;
    new["Resources"]["Database"]["Properties"]["DBInstanceIdentifier"] = json!("snowex-dev");
    let d = diff(&base, &new);
    let notes = &by_id(&d, "Database").notes;
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with("DBInstanceIdentifier is a custom name (\"snowex-dev\")"),
        "{notes:?}"
    );
}

#[test]
fn a_replaced_api_function_with_a_sub_function_name_gets_the_custom_name_note() {
    let base = snowex_dev();
    let mut new = base.clone();
    new["Resources"]["Api"]["Properties"]["PackageType"] = json!("Zip");
    let d = diff(&base, &new);
    let r = by_id(&d, "Api");
    assert_eq!(r.replacement, Replacement::Always);
    assert!(
        r.notes.iter().any(|n| n.starts_with(
            "FunctionName is a custom name ({\"Fn::Sub\":\"${AWS::StackName}-api\"})"
        )),
        "{:?}",
        r.notes
    );
    // Renaming it in the same change lets the replacement through: no note.
    new["Resources"]["Api"]["Properties"]["FunctionName"] =
        json!({"Fn::Sub": "${AWS::StackName}-api2"});
    let d = diff(&base, &new);
    assert!(by_id(&d, "Api").notes.is_empty());
}

#[test]
fn removing_with_retain_except_on_create_is_kept_and_snapshot_on_a_table_still_loses_it() {
    let old = t(json!({
        "Kept": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "RetainExceptOnCreate"},
        "Snap": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Snapshot"},
        "Vol": {"Type": "AWS::EC2::Volume", "DeletionPolicy": "Snapshot"}
    }));
    let d = diff(&old, &t(json!({})));
    let kept = by_id(&d, "Kept");
    assert!(kept.kept && kept.destructive.is_none());
    assert_eq!(kept.action(), "kept, no longer managed");
    let snap = by_id(&d, "Snap");
    assert_eq!(
        snap.destructive.as_ref().unwrap().reason,
        "removed: deleted with the items in the table: DeletionPolicy Snapshot, but AWS::DynamoDB::Table is not a type CloudFormation snapshots"
    );
    assert_eq!(
        by_id(&d, "Vol").destructive.as_ref().unwrap().reason,
        "removed: deleted after a final snapshot"
    );
}
