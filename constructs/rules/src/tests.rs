//! One test per rule (and its near misses), suppressions, and the synth integration.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use super::*;

fn run(resources: Json) -> Report {
    run_template(json!({ "Resources": resources }))
}

fn run_template(t: Json) -> Report {
    check_json(&t, &BTreeMap::new())
}

/// `(rule, logical id, property)` of every active finding.
fn hits(r: &Report) -> Vec<(&str, &str, &str)> {
    r.findings
        .iter()
        .map(|f| (f.rule, f.logical_id.as_str(), f.property.as_str()))
        .collect()
}

fn rules_of(r: &Report) -> Vec<&str> {
    let mut v: Vec<&str> = r.findings.iter().map(|f| f.rule).collect();
    v.sort();
    v.dedup();
    v
}

fn sg(ingress: Json) -> Json {
    json!({"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
        "GroupDescription": "test", "VpcId": {"Ref": "Vpc"},
        "SecurityGroupIngress": [ingress]
    }}})
}

#[test]
fn sg_001_ingress_from_anywhere() {
    let r = run(sg(
        json!({"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0", "Description": "https"}),
    ));
    assert_eq!(hits(&r), [("SNX-SG-001", "Sg", "SecurityGroupIngress[0]")]);
    assert!(r.findings[0].message.contains("tcp 443 from 0.0.0.0/0"));
    let r = run(sg(
        json!({"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIpv6": "::/0", "Description": "https"}),
    ));
    assert_eq!(rules_of(&r), ["SNX-SG-001"]);
    let r = run(sg(
        json!({"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/16", "Description": "vpc"}),
    ));
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    // Egress to anywhere is normal (NAT, AWS APIs).
    let r = run(
        json!({"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
            "GroupDescription": "t",
            "SecurityGroupEgress": [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0", "Description": "out"}]
        }}}),
    );
    assert!(r.findings.is_empty(), "{:?}", r.findings);
}

#[test]
fn sg_002_ssh_and_rdp() {
    let r = run(sg(
        json!({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "SourceSecurityGroupId": {"Ref": "Admin"}, "Description": "ssh"}),
    ));
    assert_eq!(rules_of(&r), ["SNX-SG-002"]);
    assert!(r.findings[0].message.ends_with("opens SSH"));
    let r = run(sg(
        json!({"IpProtocol": "6", "FromPort": "0", "ToPort": "65535", "CidrIp": "10.0.0.0/8", "Description": "all tcp"}),
    ));
    assert!(r.findings[0].message.ends_with("opens SSH and RDP"));
    let r = run(sg(
        json!({"IpProtocol": "udp", "FromPort": 3389, "ToPort": 3389, "CidrIp": "10.0.0.0/8", "Description": "rdp"}),
    ));
    assert_eq!(rules_of(&r), ["SNX-SG-002"]);
    // All traffic from an address range includes SSH; from a security group it is a peer link.
    let r = run(sg(
        json!({"IpProtocol": "-1", "CidrIp": "10.0.0.0/8", "Description": "all"}),
    ));
    assert_eq!(rules_of(&r), ["SNX-SG-002"]);
    let r = run(sg(
        json!({"IpProtocol": "-1", "SourceSecurityGroupId": {"Fn::GetAtt": ["Sg", "GroupId"]}, "Description": "self"}),
    ));
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    let r = run(sg(
        json!({"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "SourceSecurityGroupId": {"Ref": "Api"}, "Description": "api"}),
    ));
    assert!(r.findings.is_empty());
}

#[test]
fn sg_003_rules_need_a_description_inline_and_standalone() {
    let r = run(json!({
        "Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "t",
            "SecurityGroupEgress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/8"}]}},
        "In": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
            "GroupId": {"Ref": "Sg"}, "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
            "SourceSecurityGroupId": {"Ref": "Api"}, "Description": " "}},
        "Ok": {"Type": "AWS::EC2::SecurityGroupEgress", "Properties": {
            "GroupId": {"Ref": "Sg"}, "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
            "DestinationSecurityGroupId": {"Ref": "Db"}, "Description": "to db"}}
    }));
    assert_eq!(
        hits(&r),
        [
            ("SNX-SG-003", "Sg", "SecurityGroupEgress[0]"),
            ("SNX-SG-003", "In", ""),
        ]
    );
    assert!(r.findings.iter().all(|f| f.severity == Severity::Warning));
    assert_eq!(r.errors().count(), 0);
}

fn db(props: Json, policies: bool) -> Json {
    let mut r = json!({"Type": "AWS::RDS::DBInstance", "Properties": props});
    if policies {
        r["DeletionPolicy"] = json!("Snapshot");
        r["UpdateReplacePolicy"] = json!("Snapshot");
    }
    json!({ "Db": r })
}

#[test]
fn rds_rules() {
    let good = json!({"Engine": "postgres", "DBInstanceClass": "db.t4g.micro",
        "PubliclyAccessible": false, "StorageEncrypted": true,
        "MasterUserPassword": "{{resolve:secretsmanager:snowex/db:SecretString:password}}"});
    assert!(run(db(good.clone(), true)).findings.is_empty());

    let mut public = good.clone();
    public["PubliclyAccessible"] = json!(true);
    assert_eq!(
        hits(&run(db(public, true))),
        [("SNX-RDS-001", "Db", "PubliclyAccessible")]
    );
    let mut unset = good.clone();
    unset.as_object_mut().unwrap().remove("PubliclyAccessible");
    let r = run(db(unset, true));
    assert_eq!(rules_of(&r), ["SNX-RDS-001"]);
    assert!(r.findings[0].message.contains("internet gateway"));

    let mut plain = good.clone();
    plain.as_object_mut().unwrap().remove("StorageEncrypted");
    assert_eq!(rules_of(&run(db(plain, true))), ["SNX-RDS-002"]);
    let mut off = good.clone();
    off["StorageEncrypted"] = json!("false");
    assert_eq!(rules_of(&run(db(off, true))), ["SNX-RDS-002"]);

    let r = run(db(good.clone(), false));
    assert_eq!(rules_of(&r), ["SNX-RDS-003"]);
    assert!(
        r.findings[0].message.contains(
            "DeletionPolicy is not set (Delete), UpdateReplacePolicy is not set (Delete)"
        )
    );

    // An Aurora cluster member: the cluster holds encryption and snapshots.
    let member = json!({"Engine": "aurora-postgresql", "DBClusterIdentifier": {"Ref": "Cluster"},
        "DBInstanceClass": "db.r6g.large", "PubliclyAccessible": false});
    let mut t = db(member, false);
    t["Cluster"] = json!({"Type": "AWS::RDS::DBCluster", "DeletionPolicy": "Snapshot",
        "Properties": {"Engine": "aurora-postgresql"}});
    assert_eq!(
        hits(&run(t)),
        [
            ("SNX-RDS-002", "Cluster", "StorageEncrypted"),
            ("SNX-RDS-003", "Cluster", "")
        ]
    );
}

#[test]
fn secret_001_plaintext_properties() {
    let t = json!({
        "Parameters": {
            "Hidden": {"Type": "String", "NoEcho": true},
            "Visible": {"Type": "String"}
        },
        "Resources": {
            "Literal": {"Type": "AWS::RDS::DBInstance", "Properties": {"MasterUserPassword": "hunter2"}},
            "Dynamic": {"Type": "AWS::RDS::DBInstance", "Properties": {
                "MasterUserPassword": {"Fn::Sub": "{{resolve:secretsmanager:${Secret}:SecretString:password}}"}}},
            "Joined": {"Type": "AWS::RDS::DBInstance", "Properties": {
                "MasterUserPassword": {"Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": "Secret"}, ":SecretString:password}}"]]}}},
            "NoEcho": {"Type": "AWS::RDS::DBInstance", "Properties": {"MasterUserPassword": {"Ref": "Hidden"}}},
            "Echo": {"Type": "AWS::RDS::DBInstance", "Properties": {"MasterUserPassword": {"Ref": "Visible"}}},
            "Managed": {"Type": "AWS::RDS::DBInstance", "Properties": {"ManageMasterUserPassword": true}},
            "SecretLiteral": {"Type": "AWS::SecretsManager::Secret", "Properties": {"SecretString": "{\"password\":\"x\"}"}},
            "SecretGenerated": {"Type": "AWS::SecretsManager::Secret", "Properties": {"GenerateSecretString": {
                "SecretStringTemplate": "{\"username\":\"snowex\"}", "GenerateStringKey": "password", "PasswordLength": 32}}}
        }
    });
    let r = run_template(t);
    let secret: Vec<_> = hits(&r)
        .into_iter()
        .filter(|h| h.0 == "SNX-SECRET-001")
        .collect();
    assert_eq!(
        secret,
        [
            ("SNX-SECRET-001", "Literal", "MasterUserPassword"),
            ("SNX-SECRET-001", "Echo", "MasterUserPassword"),
            ("SNX-SECRET-001", "SecretLiteral", "SecretString"),
        ]
    );
    let echo = r
        .findings
        .iter()
        .find(|f| f.logical_id == "Echo" && f.rule == "SNX-SECRET-001")
        .unwrap();
    assert!(
        echo.message
            .contains("parameter Visible, which is not NoEcho")
    );
}

#[test]
fn secret_002_and_003_lambda_environment() {
    let r = run(
        json!({"Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "Role": {"Fn::GetAtt": ["Role", "Arn"]},
            "Environment": {"Variables": {
                "DB_PASSWORD": "hunter2",
                "API_TOKEN": "",
                "DB_SECRET_ARN": {"Ref": "Secret"},
                "DB_SECRET_NAME": "snowex/dev/db",
                "LOG_LEVEL": "debug",
                "DB_PASS": "{{resolve:secretsmanager:snowex/db:SecretString:password}}"
            }}
        }}}),
    );
    assert_eq!(
        hits(&r),
        [
            ("SNX-SECRET-002", "Fn", "Environment.Variables.DB_PASSWORD"),
            ("SNX-SECRET-003", "Fn", "Environment.Variables.DB_PASS"),
        ]
    );
    assert_eq!(r.errors().count(), 1);
}

#[test]
fn ec2_001_imdsv2() {
    let r = run(json!({
        "Bare": {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": "ami-1"}},
        "Direct": {"Type": "AWS::EC2::Instance", "Properties": {"MetadataOptions": {"HttpTokens": "required"}}},
        "Optional": {"Type": "AWS::EC2::Instance", "Properties": {"MetadataOptions": {"HttpTokens": "optional"}}},
        "ViaLt": {"Type": "AWS::EC2::Instance", "Properties": {"LaunchTemplate": {
            "LaunchTemplateId": {"Ref": "Lt"}, "Version": {"Fn::GetAtt": ["Lt", "LatestVersionNumber"]}}}},
        "ViaWeakLt": {"Type": "AWS::EC2::Instance", "Properties": {"LaunchTemplate": {
            "LaunchTemplateId": {"Ref": "WeakLt"}, "Version": "1"}}},
        "External": {"Type": "AWS::EC2::Instance", "Properties": {"LaunchTemplate": {
            "LaunchTemplateId": "lt-0123", "Version": "1"}}},
        "Lt": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateData": {
            "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 1}}}},
        "WeakLt": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateData": {}}}
    }));
    assert_eq!(
        hits(&r),
        [
            ("SNX-EC2-001", "Bare", "MetadataOptions"),
            ("SNX-EC2-001", "Optional", "MetadataOptions.HttpTokens"),
            ("SNX-EC2-001", "External", "LaunchTemplate"),
            (
                "SNX-EC2-001",
                "WeakLt",
                "LaunchTemplateData.MetadataOptions.HttpTokens"
            ),
        ]
    );
}

fn role(statement: Json) -> Json {
    json!({"Role": {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        "Policies": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": [statement]}}]
    }}})
}

#[test]
fn iam_001_data_actions_on_every_resource() {
    let flagged = [
        json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
        json!({"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": "*"}),
        json!({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::*"}),
        json!({"Effect": "Allow", "Action": "ssm:GetParameter*",
            "Resource": {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/*"}}),
        json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
        json!({"Effect": "Allow", "Action": "*", "Resource": ["arn:aws:s3:::bucket", "*"]}),
    ];
    for st in flagged {
        let r = run(role(st.clone()));
        assert_eq!(
            hits(&r),
            [(
                "SNX-IAM-001",
                "Role",
                "Policies[0].PolicyDocument.Statement[0]"
            )],
            "{st}"
        );
    }
    let fine = [
        // Actions that need "*" (Lambda in a VPC, log groups, tracing).
        json!({"Effect": "Allow", "Action": ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
            "ec2:DeleteNetworkInterface", "logs:CreateLogGroup", "xray:PutTraceSegments"], "Resource": "*"}),
        json!({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": {"Ref": "DbSecret"}}),
        json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::snowex-data/*"}),
        json!({"Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": "*"}),
        json!({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}),
    ];
    for st in fine {
        let r = run(role(st.clone()));
        assert!(r.findings.is_empty(), "{st}: {:?}", r.findings);
    }
    let r = run(
        json!({"P": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
        "Roles": [{"Ref": "Role"}],
        "PolicyDocument": {"Statement": {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}}}}}),
    );
    assert_eq!(rules_of(&r), ["SNX-IAM-001"]);
    assert!(
        r.findings[0]
            .message
            .starts_with("policy P of role Role allows kms:Decrypt on *")
    );
}

#[test]
fn lambda_001_functions_in_the_vpc() {
    let function = |vpc: Json| {
        let mut f = json!({"Type": "AWS::Lambda::Function", "Properties": {"Role": "arn:aws:iam::1:role/r"}});
        if !vpc.is_null() {
            f["Properties"]["VpcConfig"] = vpc;
        }
        f
    };
    let r = run(
        json!({"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
        "Out": function(Json::Null),
        "In": function(json!({"SubnetIds": [{"Ref": "Private1"}], "SecurityGroupIds": [{"Ref": "Sg"}]}))}),
    );
    assert_eq!(hits(&r), [("SNX-LAMBDA-001", "Out", "VpcConfig")]);
    assert_eq!(r.findings[0].severity, Severity::Warning);
    let r = run(json!({"Out": function(Json::Null)}));
    assert!(r.findings.is_empty());
}

#[test]
fn logs_001_retention() {
    let r = run(json!({
        "Forever": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/snowex/api"}},
        "Month": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30}},
        "Empty": {"Type": "AWS::Logs::LogGroup"}
    }));
    assert_eq!(
        hits(&r),
        [
            ("SNX-LOGS-001", "Forever", "RetentionInDays"),
            ("SNX-LOGS-001", "Empty", "RetentionInDays")
        ]
    );
}

#[test]
fn suppressions_in_metadata_switch_a_rule_off_for_one_resource() {
    let r = run(json!({
        "Forever": {"Type": "AWS::Logs::LogGroup",
            "Metadata": {"snowcdk": {"suppressions": [
                {"id": "SNX-LOGS-001", "reason": "audit log, kept by policy"},
                {"id": "SNX-SG-001", "reason": "stale"}
            ]}}},
        "Other": {"Type": "AWS::Logs::LogGroup"}
    }));
    assert_eq!(hits(&r), [("SNX-LOGS-001", "Other", "RetentionInDays")]);
    assert_eq!(r.suppressed.len(), 1);
    assert_eq!(r.suppressed[0].1.reason, "audit log, kept by policy");
    let unused: Vec<_> = r.unused().map(|u| u.rule.as_str()).collect();
    assert_eq!(unused, ["SNX-SG-001"]);
    assert_eq!(r.suppressions.len(), 2);
}

mod synth {
    use crate as rules;
    use crate::synth_stack;
    use snowcdk_constructs_core::error::SynthError;
    use snowcdk_constructs_core::template::Value;
    use snowcdk_constructs_core::tree::Stack;
    use snowcdk_constructs_l1::{ec2, logs};

    #[test]
    fn suppress_records_metadata_merges_and_replaces() {
        let mut stack = Stack::new("T");
        let mut root = stack.root();
        let lg = root.add("Audit", logs::LogGroup::new());
        root.entry(&lg).metadata.push((
            "snowcdk".into(),
            Value::Map(vec![("owner".into(), "x".into())]),
        ));
        rules::suppress(&mut root, &lg, "SNX-LOGS-001", "first");
        rules::suppress(
            &mut root,
            &lg,
            "SNX-LOGS-001",
            "  kept forever by the audit policy ",
        );
        rules::suppress(&mut root, &lg, "SNX-SG-003", "no rules here");
        let out = synth_stack(&stack).expect("synth");
        let body: serde_json::Value = serde_json::from_str(&out.body).unwrap();
        assert_eq!(
            body["Resources"]["Audit"]["Metadata"],
            serde_json::json!({"snowcdk": {"owner": "x", "suppressions": [
                {"id": "SNX-LOGS-001", "reason": "kept forever by the audit policy"},
                {"id": "SNX-SG-003", "reason": "no rules here"}
            ]}})
        );
        // The retention warning is suppressed; the unused suppression is reported instead.
        assert_eq!(
            out.warnings,
            ["T/Audit: the suppression of SNX-SG-003 matches no finding; remove it"]
        );
    }

    #[test]
    fn a_suppression_needs_a_reason_and_a_known_rule() {
        let mut stack = Stack::new("T");
        let mut root = stack.root();
        let lg = root.add("Audit", logs::LogGroup::new().retention_in_days(30));
        rules::suppress(&mut root, &lg, "SNX-LOGS-001", "  ");
        rules::suppress(&mut root, &lg, "SNX-LOG-001", "typo");
        let errors = synth_stack(&stack).expect_err("synth must fail");
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].to_string().contains("has no reason"));
        assert!(
            errors[1]
                .to_string()
                .contains("unknown rule \"SNX-LOG-001\"")
        );
    }

    #[test]
    fn error_findings_stop_synth_and_warnings_print() {
        let mut stack = Stack::new("T");
        let mut root = stack.root();
        let vpc = root.add("Vpc", ec2::Vpc::new().cidr_block("10.0.0.0/16"));
        let ingress = ec2::SecurityGroupIngressProperty::new("tcp")
            .from_port(22)
            .to_port(22)
            .cidr_ip("0.0.0.0/0");
        let sg = root.add(
            "Admin",
            ec2::SecurityGroup::new("admin")
                .vpc_id(vpc.ref_())
                .security_group_ingress(vec![ingress]),
        );
        root.add("Logs", logs::LogGroup::new());
        let errors = synth_stack(&stack).expect_err("open SSH must stop synth");
        let rules: Vec<&str> = errors
            .iter()
            .filter_map(|e| match e {
                SynthError::Rule { rule, path, .. } => {
                    assert_eq!(path, "T/Admin");
                    Some(rule.as_str())
                }
                _ => None,
            })
            .collect();
        assert_eq!(rules, ["SNX-SG-001", "SNX-SG-002"]);
        assert!(errors[0].to_string().starts_with(
            "T/Admin: [SNX-SG-001] SecurityGroupIngress[0]: ingress to Admin: tcp 22 from 0.0.0.0/0 is open to the internet"
        ));

        let mut root = stack.root();
        rules::suppress(&mut root, &sg, "SNX-SG-001", "test fixture");
        rules::suppress(&mut root, &sg, "SNX-SG-002", "test fixture");
        let out = synth_stack(&stack).expect("suppressed");
        assert_eq!(
            out.warnings,
            [
                "T/Admin: [SNX-SG-003] SecurityGroupIngress[0]: ingress to Admin: tcp 22 from 0.0.0.0/0 has no Description",
                "T/Logs: [SNX-LOGS-001] RetentionInDays: the log group keeps its logs forever",
            ]
        );
        let report = rules::check_stack(&stack);
        assert_eq!(report.suppressed.len(), 2);
        assert_eq!(report.warnings().count(), 2);
    }
}
