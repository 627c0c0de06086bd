//! Tests of the generated L1 layer: constructors, literal checks, schema facts, attributes, synth.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};
use snowcdk_constructs::l1::{self, ec2, iam, lambda, logs, rds, s3, secretsmanager, ssm};
use snowcdk_constructs::template::{Checker, Resource, Tagging};
use snowcdk_constructs::tree::synth_stack;
use snowcdk_constructs::{Handle, Stack, Value};

fn issues<R: Resource>(r: &R) -> Vec<(String, String)> {
    let mut c = Checker::new();
    r.validate(&mut c);
    c.issues
        .into_iter()
        .map(|i| (i.property, i.message))
        .collect()
}

fn props<R: Resource>(r: &R) -> Json {
    r.properties().to_json()
}

#[test]
fn required_properties_are_constructor_arguments() {
    let subnet = ec2::Subnet::new("vpc-123").cidr_block("10.0.0.0/24");
    assert_eq!(
        props(&subnet),
        json!({"CidrBlock": "10.0.0.0/24", "VpcId": "vpc-123"})
    );
    // Required properties render even when nothing else is set, in schema order.
    let attach =
        secretsmanager::SecretTargetAttachment::new("secret", "db", "AWS::RDS::DBInstance");
    assert_eq!(
        props(&attach),
        json!({"SecretId": "secret", "TargetId": "db", "TargetType": "AWS::RDS::DBInstance"})
    );
    // Free-form JSON properties take any value, intrinsics included.
    let role = iam::Role::new(Value::map([("Version", Value::str("2012-10-17"))]))
        .managed_policy_arns(vec!["arn:aws:iam::aws:policy/ReadOnlyAccess"]);
    assert_eq!(
        props(&role),
        json!({
            "AssumeRolePolicyDocument": {"Version": "2012-10-17"},
            "ManagedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
        })
    );
    // Types without required properties start empty and implement Default.
    assert_eq!(props(&ec2::Vpc::default()), json!({}));
    assert_eq!(ec2::Vpc::new(), ec2::Vpc::default());
}

#[test]
fn nested_types_maps_and_expressions() {
    let f = lambda::Function::new(
        lambda::FunctionCode::new().zip_file("exports.handler = async () => 1;"),
        Value::param_ref("RoleArn"),
    )
    .runtime("nodejs20.x")
    .environment(
        lambda::FunctionEnvironment::new().variables(BTreeMap::from([(
            "TABLE".to_owned(),
            Value::sub("${AWS::StackName}-t"),
        )])),
    )
    .tags(vec![lambda::FunctionTag::new("team").value("snow")]);
    assert!(issues(&f).is_empty(), "{:?}", issues(&f));
    assert_eq!(
        props(&f),
        json!({
            "Code": {"ZipFile": "exports.handler = async () => 1;"},
            "Environment": {"Variables": {"TABLE": {"Fn::Sub": "${AWS::StackName}-t"}}},
            "Role": {"Ref": "RoleArn"},
            "Runtime": "nodejs20.x",
            "Tags": [{"Key": "team", "Value": "snow"}]
        })
    );
    let p = ssm::Parameter::new("String", "v").tags(BTreeMap::from([("team".to_owned(), "snow")]));
    assert_eq!(props(&p)["Tags"], json!({"team": "snow"}));
}

#[test]
fn literals_failing_the_schema_are_reported_by_property_path() {
    // enum
    let p = ssm::Parameter::new("Strin", "v");
    let got = issues(&p);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "Type");
    assert!(
        got[0].1.contains("not one of String, StringList"),
        "{got:?}"
    );
    // expressions are not checked
    assert!(issues(&ssm::Parameter::new(Value::param_ref("T"), "v")).is_empty());
    // pattern and length
    let pol = iam::Policy::new(
        Value::map([("Version", Value::str("2012-10-17"))]),
        "bad name!",
    );
    let got = issues(&pol);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "PolicyName");
    assert!(got[0].1.contains("does not match the pattern"), "{got:?}");
    let got = issues(&ssm::Parameter::new("String", "v").name(""));
    assert_eq!(got[0].0, "Name");
    // integer range, inside a list of nested structs
    let sg = ec2::SecurityGroup::new("web").security_group_ingress(vec![
        ec2::SecurityGroupIngressProperty::new("tcp")
            .from_port(443)
            .to_port(443),
        ec2::SecurityGroupIngressProperty::new("tcp")
            .from_port(-7)
            .to_port(80),
    ]);
    let got = issues(&sg);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "SecurityGroupIngress.[1].FromPort");
    // integer enum
    let got = issues(&logs::LogGroup::new().retention_in_days(10));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "RetentionInDays");
    assert!(issues(&logs::LogGroup::new().retention_in_days(14)).is_empty());
    // string enum inside a list, and the list's item count
    let f = |arch: Vec<&str>| {
        issues(
            &lambda::Function::new(
                lambda::FunctionCode::new(),
                "arn:aws:iam::123456789012:role/r",
            )
            .architectures(arch),
        )
    };
    let got = f(vec!["sparc"]);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "Architectures.[0]");
    let got = f(vec!["x86_64", "arm64"]);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "Architectures");
    assert!(f(vec!["arm64"]).is_empty());
}

#[test]
fn spec_facts() {
    let subnet = l1::spec("AWS::EC2::Subnet").expect("subnet spec");
    assert!(subnet.create_only.contains(&"VpcId"));
    assert!(subnet.create_only.contains(&"CidrBlock"));
    assert_eq!(subnet.required, ["VpcId"]);
    assert_eq!(subnet.replacement_for("VpcId"), Some(true));
    assert!(std::ptr::eq(subnet, ec2::Subnet::SPEC));

    let db = l1::spec("AWS::RDS::DBInstance").expect("db spec");
    assert!(db.has_attribute("Endpoint.Address"));
    assert!(db.has_attribute("Endpoint.Port"));
    assert!(db.write_only.contains(&"MasterUserPassword"));
    // Read-only paths inside lists are not attributes.
    assert!(
        db.attributes
            .iter()
            .all(|a| !a.contains('*') && !a.contains('/'))
    );

    assert_eq!(
        l1::spec("AWS::SSM::Parameter").unwrap().tagging,
        Tagging::Map("Tags")
    );
    assert!(l1::spec("AWS::EC2::Foo").is_none());
}

#[test]
fn every_type_is_listed_sorted_with_its_tag_format() {
    use Tagging::{List, Map, None};
    let expected = [
        ("AWS::EC2::EIP", List("Tags")),
        ("AWS::EC2::Instance", List("Tags")),
        ("AWS::EC2::InternetGateway", List("Tags")),
        ("AWS::EC2::LaunchTemplate", None),
        ("AWS::EC2::NatGateway", List("Tags")),
        ("AWS::EC2::Route", None),
        ("AWS::EC2::RouteTable", List("Tags")),
        ("AWS::EC2::SecurityGroup", List("Tags")),
        ("AWS::EC2::SecurityGroupEgress", None),
        ("AWS::EC2::SecurityGroupIngress", None),
        ("AWS::EC2::Subnet", List("Tags")),
        ("AWS::EC2::SubnetRouteTableAssociation", None),
        ("AWS::EC2::VPC", List("Tags")),
        ("AWS::EC2::VPCGatewayAttachment", None),
        ("AWS::IAM::InstanceProfile", None),
        ("AWS::IAM::ManagedPolicy", None),
        ("AWS::IAM::Policy", None),
        ("AWS::IAM::Role", List("Tags")),
        ("AWS::Lambda::Function", List("Tags")),
        ("AWS::Lambda::Permission", None),
        ("AWS::Lambda::Url", None),
        ("AWS::Logs::LogGroup", List("Tags")),
        ("AWS::RDS::DBInstance", List("Tags")),
        ("AWS::RDS::DBParameterGroup", List("Tags")),
        ("AWS::RDS::DBSubnetGroup", List("Tags")),
        ("AWS::S3::Bucket", List("Tags")),
        ("AWS::S3::BucketPolicy", None),
        ("AWS::SSM::Parameter", Map("Tags")),
        ("AWS::SecretsManager::Secret", List("Tags")),
        ("AWS::SecretsManager::SecretTargetAttachment", None),
    ];
    let got: Vec<_> = l1::SPECS.iter().map(|s| (s.type_name, s.tagging)).collect();
    assert_eq!(got, expected);
}

#[test]
fn attribute_methods_name_real_attributes() {
    let mut stack = Stack::new("T");
    let mut root = stack.root();
    let db = root.add(
        "Db",
        rds::DbInstance::new()
            .engine("postgres")
            .db_instance_class("db.t3.micro"),
    );
    // The attr_* methods are reached through Deref to the generated attributes type.
    let addr: fn(&Handle<rds::DbInstance>) -> Value = |h| h.attr_endpoint_address();
    assert_eq!(
        addr(&db).to_json(),
        json!({"Fn::GetAtt": ["Db", "Endpoint.Address"]})
    );
    for (h, name) in [
        (db.attr_endpoint_port(), "Endpoint.Port"),
        (db.attr_db_instance_arn(), "DBInstanceArn"),
    ] {
        assert!(rds::DbInstance::SPEC.has_attribute(name));
        assert_eq!(h.to_json(), json!({"Fn::GetAtt": ["Db", name]}));
    }
    let bucket = root.add("Assets", s3::Bucket::new());
    assert_eq!(
        bucket.attr_arn().to_json(),
        json!({"Fn::GetAtt": ["Assets", "Arn"]})
    );
}

#[test]
fn synth_a_small_network() {
    let mut stack = Stack::new("T");
    stack.add_tag("app", "snow");
    let mut root = stack.root();
    let vpc = root.add(
        "Vpc",
        ec2::Vpc::new()
            .cidr_block("10.0.0.0/16")
            .enable_dns_hostnames(true),
    );
    let subnet = root.add(
        "Subnet",
        ec2::Subnet::new(vpc.ref_())
            .cidr_block(Value::select(0, Value::cidr(vpc.attr_cidr_block(), 4, 8)))
            .availability_zone(Value::select(0, Value::azs())),
    );
    let sg = root.add(
        "Web",
        ec2::SecurityGroup::new("web")
            .vpc_id(vpc.attr_vpc_id())
            .security_group_ingress(vec![
                ec2::SecurityGroupIngressProperty::new("tcp")
                    .cidr_ip("10.0.0.0/16")
                    .description("HTTPS from inside the VPC")
                    .from_port(443)
                    .to_port(443),
            ]),
    );
    root.add(
        "Param",
        ssm::Parameter::new("String", subnet.ref_()).name("/t/subnet"),
    );
    let _ = sg;
    let out = synth_stack(&stack).expect("synth succeeds");
    let t: Json = serde_json::from_str(&out.body).expect("JSON body");
    let r = &t["Resources"];
    assert_eq!(r["Vpc"]["Type"], "AWS::EC2::VPC");
    assert_eq!(
        r["Vpc"]["Properties"],
        json!({
            "CidrBlock": "10.0.0.0/16",
            "EnableDnsHostnames": true,
            "Tags": [{"Key": "app", "Value": "snow"}]
        })
    );
    assert_eq!(r["Subnet"]["Properties"]["VpcId"], json!({"Ref": "Vpc"}));
    assert_eq!(
        r["Subnet"]["Properties"]["CidrBlock"],
        json!({"Fn::Select": [0, {"Fn::Cidr": [{"Fn::GetAtt": ["Vpc", "CidrBlock"]}, 4, 8]}]})
    );
    assert_eq!(
        r["Web"]["Properties"]["SecurityGroupIngress"],
        json!([{"CidrIp": "10.0.0.0/16", "Description": "HTTPS from inside the VPC", "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}])
    );
    assert_eq!(
        r["Web"]["Properties"]["VpcId"],
        json!({"Fn::GetAtt": ["Vpc", "VpcId"]})
    );
    // SSM parameters take tags as a map.
    assert_eq!(r["Param"]["Properties"]["Tags"], json!({"app": "snow"}));
    assert_eq!(r["Param"]["Properties"]["Value"], json!({"Ref": "Subnet"}));
}

#[test]
fn invalid_literals_fail_synth() {
    let mut stack = Stack::new("T");
    let mut root = stack.root();
    root.add("Logs", logs::LogGroup::new().retention_in_days(10));
    let errs = synth_stack(&stack).expect_err("synth fails");
    let text = format!("{errs:?}");
    assert!(text.contains("RetentionInDays"), "{text}");
}
