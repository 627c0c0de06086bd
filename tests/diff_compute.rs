//! `snowcdk diff`: one test per kind of change (added, removed, modified, replaced, IAM, SG,
//! sections), destructive classification and `--allow-destroy`.

use serde_json::{Value as Json, json};
use snowcdk::diff::{ChangeKind, Replacement, StackStatus};
use snowcdk::diff::{Context, StackDiff, diff_stack};

fn t(resources: Json) -> Json {
    json!({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})
}

fn diff(old: &Json, new: &Json) -> StackDiff {
    diff_stack("s", Some(old), Some(new), &Context::default())
}

fn diff_allowing(old: &Json, new: &Json, allow: &[&str]) -> StackDiff {
    let allow: Vec<String> = allow.iter().map(|s| (*s).to_owned()).collect();
    let cx = Context {
        paths: None,
        allow_destroy: &allow,
    };
    diff_stack("s", Some(old), Some(new), &cx)
}

fn db(props: Json) -> Json {
    json!({"Type": "AWS::RDS::DBInstance", "DeletionPolicy": "Snapshot",
        "UpdateReplacePolicy": "Snapshot", "Properties": props})
}

fn db_props() -> Json {
    json!({
        "DBInstanceClass": "db.t4g.micro",
        "Engine": "postgres",
        "EngineVersion": "16.4",
        "DBSubnetGroupName": {"Ref": "DbSubnets"},
        "StorageEncrypted": true,
        "PubliclyAccessible": false
    })
}

#[test]
fn identical_templates_have_no_changes() {
    let a = t(json!({"Db": db(db_props())}));
    let d = diff(&a, &a);
    assert_eq!(d.status, StackStatus::Unchanged);
    assert!(d.resources.is_empty());
}

#[test]
fn added_and_removed_resources() {
    let old = t(json!({"Topic": {"Type": "AWS::SNS::Topic"}}));
    let new = t(json!({"Queue": {"Type": "AWS::SQS::Queue"}}));
    let d = diff(&old, &new);
    assert_eq!(d.status, StackStatus::Changed);
    let kinds: Vec<_> = d
        .resources
        .iter()
        .map(|r| (r.logical_id.as_str(), r.kind, r.destructive.is_some()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("Topic", ChangeKind::Removed, false),
            ("Queue", ChangeKind::Added, false)
        ]
    );
    let c = d.counts();
    assert_eq!((c.add, c.remove, c.destructive), (1, 1, 0));
}

#[test]
fn instance_class_change_is_an_update_in_place_with_the_property_path() {
    let old = t(json!({"Db": db(db_props())}));
    let mut props = db_props();
    props["DBInstanceClass"] = json!("db.t4g.small");
    let new = t(json!({"Db": db(props)}));
    let d = diff(&old, &new);
    let r = &d.resources[0];
    assert_eq!(r.kind, ChangeKind::Modified);
    assert_eq!(r.replacement, Replacement::Never);
    assert_eq!(r.action(), "update");
    assert!(r.destructive.is_none());
    assert_eq!(r.changes.len(), 1);
    assert_eq!(r.changes[0].path, "Properties.DBInstanceClass");
    assert_eq!(r.changes[0].old, Some(json!("db.t4g.micro")));
    assert_eq!(r.changes[0].new, Some(json!("db.t4g.small")));
}

#[test]
fn subnet_group_change_replaces_the_database_and_is_destructive() {
    let old = t(json!({"Db": db(db_props())}));
    let mut props = db_props();
    props["DBSubnetGroupName"] = json!({"Ref": "DbSubnetsV2"});
    let new = t(json!({"Db": db(props)}));
    let d = diff(&old, &new);
    let r = &d.resources[0];
    assert_eq!(r.replacement, Replacement::Always);
    assert_eq!(r.action(), "replace");
    let dd = r.destructive.as_ref().expect("destructive");
    assert!(!dd.allowed);
    assert_eq!(
        dd.reason,
        "replaced by DBSubnetGroupName: CloudFormation creates a new, empty one and deletes the old one after a final snapshot"
    );
    assert_eq!(d.counts().blocking, 1);

    let d = diff_allowing(&old, &new, &["AWS::RDS::*"]);
    assert!(d.resources[0].destructive.as_ref().unwrap().allowed);
    assert_eq!(d.counts().blocking, 0);
}

#[test]
fn engine_change_may_replace() {
    let old = t(json!({"Db": db(db_props())}));
    let mut props = db_props();
    props["Engine"] = json!("mysql");
    let d = diff(&old, &t(json!({"Db": db(props)})));
    let r = &d.resources[0];
    assert_eq!(r.replacement, Replacement::Conditional);
    assert_eq!(r.action(), "may replace");
    assert!(
        r.destructive
            .as_ref()
            .unwrap()
            .reason
            .starts_with("may be replaced by Engine")
    );
}

#[test]
fn removing_stateful_resources_is_destructive_and_says_what_happens_to_the_data() {
    let old = t(json!({
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30}},
        "Kept": {"Type": "AWS::SNS::Topic", "DeletionPolicy": "Retain"},
        "Db": db(db_props()),
        "Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "x"}}
    }));
    let d = diff_allowing(&old, &t(json!({})), &["AWS::Logs::LogGroup"]);
    let got: Vec<_> = d
        .resources
        .iter()
        .map(|r| {
            (
                r.logical_id.as_str(),
                r.destructive
                    .as_ref()
                    .map(|d| (d.reason.as_str(), d.allowed)),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "Db",
                Some(("removed: deleted after a final snapshot", false))
            ),
            ("Logs", Some(("removed: deleted with the log events", true))),
            ("Kept", None),
            ("Sg", None),
        ]
    );
    // A retained resource is kept in AWS: shown as such, not destructive.
    let kept = d.resources.iter().find(|r| r.logical_id == "Kept").unwrap();
    assert!(kept.kept);
    assert_eq!(kept.action(), "kept, no longer managed");
    assert_eq!(
        kept.notes,
        ["kept in AWS, no longer managed by the stack (DeletionPolicy Retain)"]
    );
}

#[test]
fn a_type_change_replaces() {
    let old = t(json!({"Q": {"Type": "AWS::SQS::Queue"}}));
    let new = t(json!({"Q": {"Type": "AWS::SNS::Topic"}}));
    let r = &diff(&old, &new).resources[0];
    assert_eq!(r.replacement, Replacement::Always);
    assert_eq!(r.changes[0].path, "Type");
}

#[test]
fn unknown_types_are_reported_as_such_and_stateful_ones_count_as_destructive() {
    let old = t(
        json!({"Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"BillingMode": "PROVISIONED"}}}),
    );
    let new = t(
        json!({"Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"BillingMode": "PAY_PER_REQUEST"}}}),
    );
    let r = &diff(&old, &new).resources[0];
    assert_eq!(r.replacement, Replacement::Unknown);
    assert_eq!(
        r.destructive.as_ref().unwrap().reason,
        "may be replaced: snowcdk has no schema for AWS::DynamoDB::Table to tell"
    );
}

#[test]
fn tags_are_compared_by_key_and_policies_as_attributes() {
    let old = t(
        json!({"Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {
        "RetentionInDays": 30,
        "Tags": [{"Key": "Project", "Value": "snowex"}, {"Key": "Stage", "Value": "dev"}]}}}),
    );
    let new = t(
        json!({"Logs": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain", "Properties": {
        "RetentionInDays": 30,
        "Tags": [{"Key": "Owner", "Value": "geo"}, {"Key": "Project", "Value": "snowex"}, {"Key": "Stage", "Value": "prod"}]}}}),
    );
    let r = &diff(&old, &new).resources[0];
    let paths: Vec<_> = r.changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "DeletionPolicy",
            "Properties.Tags[Key=Owner]",
            "Properties.Tags[Key=Stage].Value"
        ]
    );
    assert_eq!(r.replacement, Replacement::Never);
}

#[test]
fn replacement_propagates_through_references() {
    // The subnet group gets a new name (create-only): replaced. The database refers to it in
    // DBSubnetGroupName (create-only): replaced too, though its own properties did not change.
    let group = |name: &str| {
        json!({"Type": "AWS::RDS::DBSubnetGroup", "Properties": {"DBSubnetGroupName": name,
        "DBSubnetGroupDescription": "db", "SubnetIds": [{"Ref": "A"}, {"Ref": "B"}]}})
    };
    let old = t(
        json!({"DbSubnets": group("snowex-db"), "Db": db(db_props()),
        "Alarm": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": {"Ref": "Db"}}}}),
    );
    let new = t(
        json!({"DbSubnets": group("snowex-db-v2"), "Db": db(db_props()),
        "Alarm": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": {"Ref": "Db"}}}}),
    );
    let d = diff(&old, &new);
    let by_id = |id: &str| d.resources.iter().find(|r| r.logical_id == id).unwrap();
    assert_eq!(by_id("DbSubnets").replacement, Replacement::Always);
    let db = by_id("Db");
    assert_eq!(db.replacement, Replacement::Always);
    assert_eq!(db.changes[0].path, "Properties.DBSubnetGroupName");
    assert_eq!(
        db.changes[0].note.as_deref(),
        Some("refers to DbSubnets, which is replaced")
    );
    assert!(db.destructive.is_some());
    // The parameter's value changes (the new instance's id) but in place.
    let alarm = by_id("Alarm");
    assert_eq!(alarm.replacement, Replacement::Never);
    assert_eq!(
        alarm.changes[0].note.as_deref(),
        Some("refers to Db, which is replaced")
    );
    // Destructive first.
    assert_eq!(d.resources[0].logical_id, "Db");
}

#[test]
fn custom_named_replacements_are_flagged() {
    let mut old_props = db_props();
    old_props["DBInstanceIdentifier"] = json!("snowex-dev");
    let mut new_props = old_props.clone();
    new_props["DBSubnetGroupName"] = json!({"Ref": "Other"});
    let r = &diff(
        &t(json!({"Db": db(old_props)})),
        &t(json!({"Db": db(new_props)})),
    )
    .resources[0];
    assert_eq!(r.notes.len(), 1);
    assert!(r.notes[0].starts_with("DBInstanceIdentifier is a custom name"));
}

#[test]
fn switching_a_named_function_between_image_and_zip_is_explained() {
    // The SnowEx API's shape: a fixed FunctionName; PackageType is create-only.
    let function = |package: &str| {
        json!({"Type": "AWS::Lambda::Function", "Properties": {
            "FunctionName": {"Fn::Sub": "${AWS::StackName}-api"},
            "PackageType": package, "Role": {"Fn::GetAtt": ["Role", "Arn"]}}})
    };
    let r = &diff(
        &t(json!({"Api": function("Image")})),
        &t(json!({"Api": function("Zip")})),
    )
    .resources[0];
    assert_eq!(r.replacement, Replacement::Always);
    assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
    assert_eq!(
        r.notes[0],
        "FunctionName is a custom name ({\"Fn::Sub\":\"${AWS::StackName}-api\"}): CloudFormation cannot replace a custom-named resource, so this update fails (and rolls back) unless FunctionName changes too"
    );
}

#[test]
fn security_group_changes_say_who_can_reach_what() {
    let sg = |ingress: Json| {
        json!({"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "db",
        "VpcId": {"Ref": "Vpc"}, "SecurityGroupIngress": ingress}})
    };
    let api = json!({"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
        "SourceSecurityGroupId": {"Fn::GetAtt": ["ApiSg", "GroupId"]}, "Description": "api"});
    let old = t(json!({"DbSg": sg(json!([api.clone()]))}));
    let new = t(json!({"DbSg": sg(json!([api])),
        "DbFromAdmin": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
            "GroupId": {"Ref": "DbSg"}, "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
            "SourceSecurityGroupId": {"Ref": "AdminSg"}, "Description": "admin"}}}));
    let d = diff(&old, &new);
    assert_eq!(
        d.security.sg_added,
        ["ingress to DbSg: tcp 5432 from sg AdminSg"]
    );
    assert!(d.security.sg_removed.is_empty());
    let back = diff(&new, &old);
    assert_eq!(
        back.security.sg_removed,
        ["ingress to DbSg: tcp 5432 from sg AdminSg"]
    );
}

#[test]
fn iam_changes_list_statements_added_and_removed() {
    let role = |statements: Json| {
        json!({"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        "ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"}],
        "Policies": [{"PolicyName": "db", "PolicyDocument": {"Statement": statements}}]}})
    };
    let secret = json!({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": {"Ref": "DbSecret"}});
    let ssm = json!({"Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": {"Fn::Sub":
        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/snowex/*"}});
    let old = t(json!({"ApiRole": role(json!([secret.clone()]))}));
    let new = t(json!({"ApiRole": role(json!([secret, ssm])),
        "Url": {"Type": "AWS::Lambda::Url", "Properties": {"AuthType": "NONE", "TargetFunctionArn": {"Fn::GetAtt": ["Api", "Arn"]}}}}));
    let d = diff(&old, &new);
    assert_eq!(
        d.security.iam_added,
        [
            "function URL Url: Allow anyone on the internet (AuthType NONE) lambda:InvokeFunctionUrl on ${Api.Arn}",
            "role ApiRole: Allow ssm:GetParameter on arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/snowex/*",
        ]
    );
    assert!(d.security.iam_removed.is_empty());
}

#[test]
fn parameters_outputs_conditions_and_description() {
    let old = json!({"Description": "v1",
        "Parameters": {"Stage": {"Type": "String"}},
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
        "Resources": {},
        "Outputs": {"DbEndpoint": {"Value": {"Fn::GetAtt": ["Db", "Endpoint.Address"]}}}});
    let new = json!({"Description": "v2",
        "Parameters": {"Stage": {"Type": "String"}, "AdminCidr": {"Type": "String"}},
        "Resources": {},
        "Outputs": {"DbEndpoint": {"Value": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
            "Export": {"Name": "snowex-db"}}}});
    let d = diff(&old, &new);
    assert_eq!(d.status, StackStatus::Changed);
    let names = |v: &[snowcdk::diff::SectionChange]| {
        v.iter()
            .map(|c| (c.name.clone(), c.kind))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(&d.parameters),
        [("AdminCidr".to_owned(), ChangeKind::Added)]
    );
    assert_eq!(
        names(&d.conditions),
        [("IsProd".to_owned(), ChangeKind::Removed)]
    );
    assert_eq!(
        names(&d.outputs),
        [("DbEndpoint".to_owned(), ChangeKind::Modified)]
    );
    assert_eq!(
        names(&d.other),
        [("Description".to_owned(), ChangeKind::Modified)]
    );
}

#[test]
fn new_stacks_add_everything_and_dropped_stacks_destroy_nothing() {
    let a = t(json!({"Db": db(db_props())}));
    let d = diff_stack("s", None, Some(&a), &Context::default());
    assert_eq!(d.status, StackStatus::New);
    assert_eq!(d.counts().add, 1);
    let d = diff_stack("s", Some(&a), None, &Context::default());
    assert_eq!(d.status, StackStatus::NoLongerSynthesized);
    assert!(d.resources.is_empty());
    assert_eq!(d.counts().destructive, 0);
}

#[test]
fn list_items_added_or_removed_are_shown_one_by_one() {
    let fun = |subnets: Json| {
        t(
            json!({"Fn": {"Type": "AWS::Lambda::Function", "Properties": {
        "Role": "arn:aws:iam::1:role/r", "VpcConfig": {"SubnetIds": subnets}}}}),
        )
    };
    let d = diff(
        &fun(json!([{"Ref": "A"}, {"Ref": "B"}])),
        &fun(json!([{"Ref": "B"}, {"Ref": "C"}, {"Ref": "D"}])),
    );
    let got: Vec<_> = d.resources[0]
        .changes
        .iter()
        .map(|c| (c.path.as_str(), c.old.clone(), c.new.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "Properties.VpcConfig.SubnetIds[0]",
                Some(json!({"Ref": "A"})),
                None
            ),
            (
                "Properties.VpcConfig.SubnetIds[1]",
                None,
                Some(json!({"Ref": "C"}))
            ),
            (
                "Properties.VpcConfig.SubnetIds[2]",
                None,
                Some(json!({"Ref": "D"}))
            ),
        ]
    );
}

#[test]
fn reordered_lists_are_one_change_marked_as_such() {
    let fun = |subnets: Json| {
        t(
            json!({"Fn": {"Type": "AWS::Lambda::Function", "Properties": {
        "Role": "arn:aws:iam::1:role/r", "VpcConfig": {"SubnetIds": subnets}}}}),
        )
    };
    let d = diff(
        &fun(json!([{"Ref": "A"}, {"Ref": "B"}])),
        &fun(json!([{"Ref": "B"}, {"Ref": "A"}])),
    );
    let c = &d.resources[0].changes;
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].path, "Properties.VpcConfig.SubnetIds");
    assert_eq!(c[0].note.as_deref(), Some("same items, reordered"));
}

#[test]
fn new_secret_generation_options_are_destructive_though_nothing_is_replaced() {
    let secret = |length: u32| {
        json!({"Type": "AWS::SecretsManager::Secret", "Properties": {
            "Description": "db",
            "GenerateSecretString": {
                "SecretStringTemplate": "{\"username\":\"snowex\"}",
                "GenerateStringKey": "password",
                "PasswordLength": length,
                "ExcludeCharacters": "\"@/\\"
            }
        }})
    };
    let d = diff(&t(json!({"S": secret(30)})), &t(json!({"S": secret(40)})));
    let r = &d.resources[0];
    assert_eq!(r.replacement, Replacement::Never);
    let why = &r.destructive.as_ref().expect("destructive").reason;
    assert!(why.contains("GenerateSecretString"), "{why}");
    assert!(why.contains("old password"), "{why}");
    // Its description is not.
    let mut other = secret(30);
    other["Properties"]["Description"] = json!("the database's credentials");
    let d = diff(&t(json!({"S": secret(30)})), &t(json!({"S": other})));
    assert!(d.resources[0].destructive.is_none());
}
