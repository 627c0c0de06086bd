//! Snapshots of the text, markdown and JSON renderings of realistic SnowEx changes:
//! a DB instance class change (update in place) and a pull request that moves the database to a
//! new subnet group (replacement, destructive), opens the database to the admin host, grants the
//! API an SSM read, drops a log group and adds a parameter.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};
use snowcdk::diff::base::BaseTemplates;
use snowcdk::diff::{Current, DiffReport, render_json, render_markdown, render_text};

/// The SnowEx stack as deployed on main (abridged to what the review is about).
fn base() -> Json {
    json!({
      "AWSTemplateFormatVersion": "2010-09-09",
      "Description": "SnowEx database (dev)",
      "Resources": {
        "NetworkPrivateSubnet1Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {
          "VpcId": {"Ref": "Network"}, "CidrBlock": "10.0.2.0/24"}},
        "NetworkPrivateSubnet2Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {
          "VpcId": {"Ref": "Network"}, "CidrBlock": "10.0.3.0/24"}},
        "DatabaseSubnetGroup": {"Type": "AWS::RDS::DBSubnetGroup", "Properties": {
          "DBSubnetGroupDescription": "SnowEx database subnets",
          "SubnetIds": [{"Ref": "NetworkPrivateSubnet1Subnet"}, {"Ref": "NetworkPrivateSubnet2Subnet"}]}},
        "DatabaseSecurityGroup": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
          "GroupDescription": "SnowEx PostgreSQL",
          "VpcId": {"Ref": "Network"},
          "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
            "SourceSecurityGroupId": {"Fn::GetAtt": ["ApiSecurityGroup", "GroupId"]},
            "Description": "Lambda API to PostgreSQL"}]}},
        "DatabaseSecret": {"Type": "AWS::SecretsManager::Secret", "DeletionPolicy": "Retain",
          "UpdateReplacePolicy": "Retain", "Properties": {
          "GenerateSecretString": {"SecretStringTemplate": "{\"username\":\"snowex\"}",
            "GenerateStringKey": "password", "ExcludePunctuation": true}}},
        "DatabaseInstance": {"Type": "AWS::RDS::DBInstance", "DeletionPolicy": "Snapshot",
          "UpdateReplacePolicy": "Snapshot", "Properties": {
          "DBInstanceClass": "db.t4g.micro",
          "DBSubnetGroupName": {"Ref": "DatabaseSubnetGroup"},
          "Engine": "postgres",
          "EngineVersion": "16.4",
          "MasterUsername": "snowex",
          "MasterUserPassword": {"Fn::Sub": "{{resolve:secretsmanager:${DatabaseSecret}:SecretString:password}}"},
          "PubliclyAccessible": false,
          "StorageEncrypted": true,
          "VPCSecurityGroups": [{"Fn::GetAtt": ["DatabaseSecurityGroup", "GroupId"]}],
          "Tags": [{"Key": "Project", "Value": "snowex"}, {"Key": "Stage", "Value": "dev"}]}},
        "ApiSecurityGroup": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
          "GroupDescription": "SnowEx API", "VpcId": {"Ref": "Network"}}},
        "ApiRole": {"Type": "AWS::IAM::Role", "Properties": {
          "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
          "Policies": [{"PolicyName": "database", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": {"Ref": "DatabaseSecret"}}]}}]}},
        "ApiLogGroup": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30}}
      },
      "Outputs": {
        "DatabaseEndpoint": {"Value": {"Fn::GetAtt": ["DatabaseInstance", "Endpoint.Address"]}}
      }
    })
}

fn paths() -> BTreeMap<String, String> {
    [
        ("DatabaseInstance", "snowex-dev/Database/Instance"),
        ("DatabaseSubnetGroup", "snowex-dev/Database/SubnetGroup"),
        ("DatabaseSubnetGroupV2", "snowex-dev/Database/SubnetGroupV2"),
        ("DatabaseSecurityGroup", "snowex-dev/Database/SecurityGroup"),
        ("DatabaseFromAdmin", "snowex-dev/Database/FromAdmin"),
        ("ApiRole", "snowex-dev/Api/Role"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect()
}

fn report(new: Json, allow: &[&str]) -> DiffReport {
    let mut b = BaseTemplates {
        description: "templates_out/ at origin/main (3f2a1bc)".into(),
        ..BaseTemplates::default()
    };
    b.stacks.insert("snowex-dev".into(), base());
    b.stacks
        .insert("snowex-prod".into(), json!({"Resources": {}}));
    let current = [
        Current {
            stack: "snowex-dev".into(),
            template: new,
            paths: paths(),
        },
        Current {
            stack: "snowex-prod".into(),
            template: json!({"Resources": {}}),
            paths: BTreeMap::new(),
        },
    ];
    let allow: Vec<String> = allow.iter().map(|s| (*s).to_owned()).collect();
    snowcdk::diff::diff(&b, &current, true, &allow)
}

fn class_change() -> Json {
    let mut t = base();
    t["Resources"]["DatabaseInstance"]["Properties"]["DBInstanceClass"] = json!("db.t4g.small");
    t
}

fn subnet_group_pr() -> Json {
    let mut t = base();
    let r = t["Resources"].as_object_mut().unwrap();
    let group = r.remove("DatabaseSubnetGroup").unwrap();
    r.insert("DatabaseSubnetGroupV2".into(), group);
    r.remove("ApiLogGroup");
    r.insert(
        "DatabaseFromAdmin".into(),
        json!({"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
            "GroupId": {"Fn::GetAtt": ["DatabaseSecurityGroup", "GroupId"]},
            "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
            "SourceSecurityGroupId": {"Fn::GetAtt": ["AdminSecurityGroup", "GroupId"]},
            "Description": "Admin host (SSM tunnel) to PostgreSQL"}}),
    );
    let db = &mut r["DatabaseInstance"]["Properties"];
    db["DBSubnetGroupName"] = json!({"Ref": "DatabaseSubnetGroupV2"});
    db["DBInstanceClass"] = json!("db.t4g.small");
    r["ApiRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array_mut()
        .unwrap()
        .push(json!({"Effect": "Allow", "Action": ["ssm:GetParameter", "ssm:GetParameters"],
            "Resource": {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/snowex/dev/*"}}));
    t["Parameters"] = json!({"AdminCidr": {"Type": "String", "Default": "10.0.0.0/16"}});
    t["Outputs"]["DatabasePort"] =
        json!({"Value": {"Fn::GetAtt": ["DatabaseInstance", "Endpoint.Port"]}});
    t
}

#[test]
fn class_change_text() {
    let r = report(class_change(), &[]);
    assert_eq!(r.blocking().count(), 0);
    insta::assert_snapshot!("class_change_text", render_text::render(&r));
}

#[test]
fn class_change_markdown() {
    let r = report(class_change(), &[]);
    insta::assert_snapshot!("class_change_markdown", render_markdown::render(&r));
}

#[test]
fn subnet_group_pr_text() {
    let r = report(subnet_group_pr(), &["AWS::Logs::LogGroup"]);
    let blocking: Vec<&str> = r.blocking().map(|(_, c)| c.logical_id.as_str()).collect();
    assert_eq!(blocking, ["DatabaseInstance"]);
    insta::assert_snapshot!("subnet_group_pr_text", render_text::render(&r));
}

#[test]
fn subnet_group_pr_markdown() {
    let r = report(subnet_group_pr(), &["AWS::Logs::LogGroup"]);
    let md = render_markdown::render(&r);
    assert!(md.starts_with(render_markdown::MARKER));
    // Stable across runs: the same input renders the same comment.
    assert_eq!(
        md,
        render_markdown::render(&report(subnet_group_pr(), &["AWS::Logs::LogGroup"]))
    );
    insta::assert_snapshot!("subnet_group_pr_markdown", md);
}

#[test]
fn subnet_group_pr_json() {
    let r = report(subnet_group_pr(), &[]);
    let j: Json = serde_json::from_str(&render_json::render(&r)).expect("valid JSON");
    let dev = &j["stacks"][0];
    assert_eq!(dev["stack"], "snowex-dev");
    assert_eq!(dev["resources"][0]["logical_id"], "ApiLogGroup");
    assert_eq!(dev["resources"][0]["destructive"]["allowed"], false);
    insta::assert_json_snapshot!("subnet_group_pr_json", j["stacks"][0]["resources"]);
}

#[test]
fn oversized_comments_drop_the_details() {
    let mut t = base();
    let r = t["Resources"].as_object_mut().unwrap();
    for i in 0..400 {
        r.insert(
            format!("Param{i}"),
            json!({"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": "x".repeat(150)}}),
        );
    }
    let mut new = t.clone();
    for (_, v) in new["Resources"].as_object_mut().unwrap().iter_mut() {
        if v["Type"] == "AWS::SSM::Parameter" {
            v["Properties"]["Value"] = json!("y".repeat(150));
        }
    }
    let mut b = BaseTemplates::default();
    b.stacks.insert("snowex-dev".into(), t);
    let r = snowcdk::diff::diff(
        &b,
        &[Current {
            stack: "snowex-dev".into(),
            template: new,
            paths: BTreeMap::new(),
        }],
        true,
        &[],
    );
    let md = render_markdown::render(&r);
    assert!(
        md.len() <= render_markdown::MAX_COMMENT + 200,
        "{}",
        md.len()
    );
    assert!(md.contains("Details left out"));
}
