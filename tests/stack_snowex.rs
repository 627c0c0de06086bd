//! The SnowEx stack as synthesized from the repository's `snowcdk.toml`: insta snapshots of both
//! stages, and one test per rule of the seed design (`aws-architecture.txt`) and of the running
//! system's facts, asserted on the template JSON itself.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Value as Json, json};
use snowcdk::app;
use snowcdk::snowex::{SnowEx, SnowexConfig};
use snowcdk_constructs::l1;
use snowcdk_constructs::template::Tagging;

/// Every stage's template, by stage name.
fn templates() -> BTreeMap<String, Json> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = SnowexConfig::load(&root.join("snowcdk.toml")).expect("the shipped config loads");
    app::synth(&SnowEx, &config, &[])
        .expect("every stage synthesizes")
        .stacks
        .into_iter()
        .map(|s| {
            let body: Json = serde_json::from_str(&s.body).expect("JSON body");
            (s.stage, body)
        })
        .collect()
}

fn resources(t: &Json) -> &serde_json::Map<String, Json> {
    t["Resources"].as_object().expect("Resources")
}

fn of_type<'a>(t: &'a Json, ty: &str) -> Vec<(&'a String, &'a Json)> {
    resources(t)
        .iter()
        .filter(|(_, r)| r["Type"] == ty)
        .collect()
}

fn one<'a>(t: &'a Json, ty: &str) -> (&'a String, &'a Json) {
    let all = of_type(t, ty);
    assert_eq!(all.len(), 1, "exactly one {ty}");
    all[0]
}

fn props<'a>(t: &'a Json, id: &str) -> &'a Json {
    &t["Resources"][id]["Properties"]
}

/// `{"Fn::GetAtt": [X, "GroupId"]}` or `{"Ref": X}` -> X.
fn target(v: &Json) -> String {
    if let Some(id) = v.get("Ref").and_then(Json::as_str) {
        return id.to_owned();
    }
    if let Some(a) = v.get("Fn::GetAtt").and_then(Json::as_array) {
        return a[0].as_str().unwrap_or_default().to_owned();
    }
    panic!("not a reference: {v}")
}

#[test]
fn snapshots_of_both_stages() {
    let all = templates();
    assert_eq!(
        all.keys().map(String::as_str).collect::<Vec<_>>(),
        ["dev", "prod"]
    );
    for (stage, t) in &all {
        insta::assert_json_snapshot!(format!("snowex-{stage}"), t);
    }
}

/// One security group rule: (group, direction, protocol, from, to, peer), peer being a group's
/// logical id or a CIDR.
type Rule = (String, &'static str, String, i64, i64, String);

fn sg_rules(t: &Json) -> BTreeSet<Rule> {
    let mut rules = BTreeSet::new();
    let port = |r: &Json, k: &str| r.get(k).and_then(Json::as_i64).unwrap_or(-1);
    let proto = |r: &Json| r["IpProtocol"].as_str().expect("IpProtocol").to_owned();
    let described = |r: &Json| {
        let d = r["Description"].as_str().unwrap_or_default();
        assert!(!d.is_empty(), "every rule is described: {r}");
    };
    for (id, r) in of_type(t, "AWS::EC2::SecurityGroup") {
        let p = &r["Properties"];
        assert!(
            p.get("SecurityGroupIngress").is_none(),
            "{id}: no inline ingress (rules are standalone resources)"
        );
        let egress = p["SecurityGroupEgress"]
            .as_array()
            .unwrap_or_else(|| panic!("{id}: egress declared inline, or EC2 adds allow-all"));
        assert!(!egress.is_empty(), "{id}: at least one inline egress rule");
        for e in egress {
            described(e);
            assert!(
                e.get("DestinationSecurityGroupId").is_none(),
                "{id}: no inline group references (cycles)"
            );
            let peer = e["CidrIp"].as_str().expect("CidrIp").to_owned();
            rules.insert((
                id.clone(),
                "out",
                proto(e),
                port(e, "FromPort"),
                port(e, "ToPort"),
                peer,
            ));
        }
    }
    for (_, r) in of_type(t, "AWS::EC2::SecurityGroupIngress") {
        let p = &r["Properties"];
        described(p);
        rules.insert((
            target(&p["GroupId"]),
            "in",
            proto(p),
            port(p, "FromPort"),
            port(p, "ToPort"),
            target(&p["SourceSecurityGroupId"]),
        ));
    }
    for (_, r) in of_type(t, "AWS::EC2::SecurityGroupEgress") {
        let p = &r["Properties"];
        described(p);
        rules.insert((
            target(&p["GroupId"]),
            "out",
            proto(p),
            port(p, "FromPort"),
            port(p, "ToPort"),
            target(&p["DestinationSecurityGroupId"]),
        ));
    }
    rules
}

#[test]
fn security_group_rules_are_exactly_the_seeds() {
    let rule = |g: &str, d: &'static str, p: &str, from: i64, to: i64, peer: &str| -> Rule {
        (g.into(), d, p.into(), from, to, peer.into())
    };
    let expected: BTreeSet<Rule> = [
        // RDS SG. Inbound: PostgreSQL (TCP 5432) from Lambda SG and EC2 SG. Outbound: default
        // (allow all), declared explicitly.
        rule(
            "DatabaseSecurityGroup",
            "in",
            "tcp",
            5432,
            5432,
            "ApiSecurityGroup",
        ),
        rule(
            "DatabaseSecurityGroup",
            "in",
            "tcp",
            5432,
            5432,
            "BastionSecurityGroup",
        ),
        rule("DatabaseSecurityGroup", "out", "-1", -1, -1, "0.0.0.0/0"),
        // Lambda SG. Inbound: none. Outbound: PostgreSQL to RDS SG, HTTPS via the NAT gateway.
        rule(
            "ApiSecurityGroup",
            "out",
            "tcp",
            5432,
            5432,
            "DatabaseSecurityGroup",
        ),
        rule("ApiSecurityGroup", "out", "tcp", 443, 443, "0.0.0.0/0"),
        // EC2 SG. Inbound: none (no SSH). Outbound: PostgreSQL to RDS SG, HTTPS for SSM.
        rule(
            "BastionSecurityGroup",
            "out",
            "tcp",
            5432,
            5432,
            "DatabaseSecurityGroup",
        ),
        rule("BastionSecurityGroup", "out", "tcp", 443, 443, "0.0.0.0/0"),
    ]
    .into_iter()
    .collect();
    for (stage, t) in templates() {
        assert_eq!(sg_rules(&t), expected, "stage {stage}");
        assert_eq!(of_type(&t, "AWS::EC2::SecurityGroup").len(), 3, "{stage}");
    }
}

#[test]
fn each_resource_uses_its_own_group() {
    for (_, t) in templates() {
        let (db, _) = one(&t, "AWS::RDS::DBInstance");
        assert_eq!(
            props(&t, db)["VPCSecurityGroups"],
            json!([{"Fn::GetAtt": ["DatabaseSecurityGroup", "GroupId"]}])
        );
        let (f, _) = one(&t, "AWS::Lambda::Function");
        assert_eq!(
            props(&t, f)["VpcConfig"]["SecurityGroupIds"],
            json!([{"Fn::GetAtt": ["ApiSecurityGroup", "GroupId"]}])
        );
        let (i, _) = one(&t, "AWS::EC2::Instance");
        assert_eq!(
            props(&t, i)["SecurityGroupIds"],
            json!([{"Fn::GetAtt": ["BastionSecurityGroup", "GroupId"]}])
        );
    }
}

#[test]
fn subnets_and_routes() {
    for (stage, t) in templates() {
        let subnets = of_type(&t, "AWS::EC2::Subnet");
        let (public, private): (Vec<_>, Vec<_>) =
            subnets.iter().partition(|(id, _)| id.contains("Public"));
        assert_eq!((public.len(), private.len()), (2, 2), "{stage}: 2 AZs");
        for (id, s) in &subnets {
            assert_eq!(s["Properties"]["MapPublicIpOnLaunch"], json!(false), "{id}");
        }
        // Route table of each subnet, through its association.
        let table_of: BTreeMap<String, String> =
            of_type(&t, "AWS::EC2::SubnetRouteTableAssociation")
                .iter()
                .map(|(_, a)| {
                    (
                        target(&a["Properties"]["SubnetId"]),
                        target(&a["Properties"]["RouteTableId"]),
                    )
                })
                .collect();
        let routes = of_type(&t, "AWS::EC2::Route");
        let default_route = |table: &str| -> &Json {
            let r: Vec<_> = routes
                .iter()
                .filter(|(_, r)| {
                    target(&r["Properties"]["RouteTableId"]) == table
                        && r["Properties"]["DestinationCidrBlock"] == "0.0.0.0/0"
                })
                .collect();
            assert_eq!(r.len(), 1, "{table}: one default route");
            &r[0].1["Properties"]
        };
        let (igw, _) = one(&t, "AWS::EC2::InternetGateway");
        let nats = of_type(&t, "AWS::EC2::NatGateway");
        // prod: one NAT gateway per AZ (its database is Multi-AZ); dev: one shared.
        assert_eq!(nats.len(), if stage == "prod" { 2 } else { 1 }, "{stage}");
        let az_of = |id: &str| -> Json { props(&t, id)["AvailabilityZone"].clone() };
        for (id, _) in &public {
            let r = default_route(&table_of[*id]);
            assert_eq!(
                target(&r["GatewayId"]),
                *igw,
                "{id} routes to the internet gateway"
            );
        }
        for (id, _) in &private {
            let r = default_route(&table_of[*id]);
            let nat = target(&r["NatGatewayId"]);
            assert!(
                nats.iter().any(|(n, _)| **n == nat),
                "{id} routes to a NAT gateway"
            );
            assert!(r.get("GatewayId").is_none());
            // With a gateway per AZ, each private subnet uses the one in its own AZ.
            let nat_subnet = target(&props(&t, &nat)["SubnetId"]);
            if nats.len() > 1 {
                assert_eq!(az_of(&nat_subnet), az_of(id), "{stage}: {id} via {nat}");
            }
        }
        // The NAT gateways sit in public subnets, each waiting for its subnet's default route
        // to the internet gateway (the AWS CDK's ordering), in different AZs.
        let mut nat_azs = BTreeSet::new();
        for (nat, n) in &nats {
            let nat_subnet = target(&n["Properties"]["SubnetId"]);
            assert!(public.iter().any(|(id, _)| **id == nat_subnet));
            let public_route = routes
                .iter()
                .find(|(_, r)| target(&r["Properties"]["RouteTableId"]) == table_of[&nat_subnet])
                .map(|(id, _)| (*id).clone())
                .expect("public route");
            assert_eq!(n["DependsOn"], json!([public_route]), "{stage}: {nat}");
            nat_azs.insert(az_of(&nat_subnet).to_string());
        }
        assert_eq!(nat_azs.len(), nats.len(), "{stage}: one gateway per AZ");
        // Turning per-AZ gateways on kept the first one's logical id (and so its Elastic IP).
        assert!(resources(&t).contains_key("NatGateway"), "{stage}");
        // RDS, Lambda and the bastion are in private subnets only.
        let private_ids: BTreeSet<String> = private.iter().map(|(id, _)| (*id).clone()).collect();
        let (sg, g) = one(&t, "AWS::RDS::DBSubnetGroup");
        let in_group: BTreeSet<String> = g["Properties"]["SubnetIds"]
            .as_array()
            .expect("SubnetIds")
            .iter()
            .map(target)
            .collect();
        assert_eq!(in_group, private_ids, "{sg}");
        let (f, _) = one(&t, "AWS::Lambda::Function");
        let lambda_subnets: BTreeSet<String> = props(&t, f)["VpcConfig"]["SubnetIds"]
            .as_array()
            .expect("SubnetIds")
            .iter()
            .map(target)
            .collect();
        assert_eq!(lambda_subnets, private_ids);
        let (i, _) = one(&t, "AWS::EC2::Instance");
        assert!(private_ids.contains(&target(&props(&t, i)["SubnetId"])));
        assert!(
            props(&t, i).get("NetworkInterfaces").is_none(),
            "no public IP"
        );
    }
}

/// Every string in the template, with its JSON path.
fn strings<'a>(v: &'a Json, path: String, out: &mut Vec<(String, &'a str)>) {
    match v {
        Json::String(s) => out.push((path, s)),
        Json::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| strings(x, format!("{path}[{i}]"), out)),
        Json::Object(o) => o
            .iter()
            .for_each(|(k, x)| strings(x, format!("{path}.{k}"), out)),
        _ => {}
    }
}

#[test]
fn no_plaintext_secret() {
    for (stage, t) in templates() {
        let (db, _) = one(&t, "AWS::RDS::DBInstance");
        assert_eq!(
            props(&t, db)["MasterUserPassword"],
            json!({"Fn::Sub": "{{resolve:secretsmanager:${DatabaseSecret}:SecretString:password}}"}),
            "{stage}"
        );
        let (secret, s) = one(&t, "AWS::SecretsManager::Secret");
        let p = &s["Properties"];
        assert!(
            p.get("SecretString").is_none(),
            "{secret}: generated, not given"
        );
        let generated = &p["GenerateSecretString"];
        assert_eq!(generated["GenerateStringKey"], "password");
        let template: Json = serde_json::from_str(
            generated["SecretStringTemplate"]
                .as_str()
                .expect("template"),
        )
        .expect("the template is JSON");
        assert_eq!(
            template,
            json!({"username": "snowex_admin", "dbname": "snowex"})
        );
        let excluded = generated["ExcludeCharacters"].as_str().expect("excluded");
        for c in ['/', '@', '"', ' '] {
            assert!(excluded.contains(c), "RDS rejects {c:?} in passwords");
        }
        // The attachment adds host, port, engine and dbInstanceIdentifier.
        let (_, a) = one(&t, "AWS::SecretsManager::SecretTargetAttachment");
        assert_eq!(
            a["Properties"],
            json!({"SecretId": {"Ref": "DatabaseSecret"}, "TargetId": {"Ref": "Database"},
                   "TargetType": "AWS::RDS::DBInstance"})
        );
        // No parameter carries a secret, and no string anywhere looks like a password value.
        assert!(
            t["Parameters"]
                .as_object()
                .expect("parameters")
                .values()
                .all(|p| p.get("NoEcho").is_none())
        );
        let mut all = Vec::new();
        strings(&t, String::new(), &mut all);
        for (path, s) in all {
            if path.to_ascii_lowercase().contains("password") {
                assert!(
                    s.starts_with("{{resolve:secretsmanager:")
                        || path.ends_with("GenerateStringKey"),
                    "{stage}: {path} = {s:?}"
                );
            }
        }
    }
}

#[test]
fn database_follows_the_seed_and_the_facts() {
    for (stage, t) in templates() {
        let (db, r) = one(&t, "AWS::RDS::DBInstance");
        assert_eq!(r["DeletionPolicy"], "Snapshot");
        assert_eq!(r["UpdateReplacePolicy"], "Snapshot");
        let p = &r["Properties"];
        assert_eq!(p["Engine"], "postgres");
        assert!(
            p["EngineVersion"]
                .as_str()
                .expect("version")
                .starts_with("17.")
        );
        assert_eq!(p["PubliclyAccessible"], json!(false), "{db}: not public");
        assert_eq!(p["StorageEncrypted"], json!(true));
        assert_eq!(p["StorageType"], "gp3");
        assert!(p["BackupRetentionPeriod"].as_i64().expect("backups") >= 1);
        assert_eq!(p["DBName"], "snowex");
        assert_eq!(p["Port"], "5432");
        assert_eq!(
            p["EnableCloudwatchLogsExports"],
            json!(["postgresql", "upgrade"])
        );
        let (pg, g) = one(&t, "AWS::RDS::DBParameterGroup");
        assert_eq!(target(&p["DBParameterGroupName"]), *pg);
        assert_eq!(g["Properties"]["Family"], "postgres17");
        assert_eq!(g["Properties"]["Parameters"], json!({"rds.force_ssl": "1"}));
        let prod = stage == "prod";
        assert_eq!(p["DeletionProtection"], json!(prod), "{stage}");
        assert_eq!(p["MultiAZ"], json!(prod), "{stage}");
        // A single-AZ instance sits in the bastion's AZ; a Multi-AZ one cannot be pinned.
        assert_eq!(p.get("AvailabilityZone").is_some(), !prod);
        if prod {
            assert!(p["BackupRetentionPeriod"].as_i64() >= Some(7));
        }
    }
}

/// Every policy statement in the template, with the resource it is in.
fn statements(t: &Json) -> Vec<(String, Json)> {
    let mut out = Vec::new();
    for (id, r) in resources(t) {
        if r["Type"] != "AWS::IAM::Role" {
            continue;
        }
        for p in r["Properties"]["Policies"].as_array().into_iter().flatten() {
            for s in p["PolicyDocument"]["Statement"]
                .as_array()
                .expect("statements")
            {
                out.push((id.clone(), s.clone()));
            }
        }
    }
    out
}

#[test]
fn iam_is_least_privilege() {
    for (_, t) in templates() {
        for (id, s) in statements(&t) {
            assert_ne!(s["Resource"], json!("*"), "{id}: no Resource *");
            assert!(
                s["Resource"]
                    .as_array()
                    .is_none_or(|a| !a.contains(&json!("*"))),
                "{id}: no Resource *"
            );
        }
        assert_eq!(
            statements(&t),
            [(
                "ApiServiceRole".to_owned(),
                json!({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                       "Resource": [{"Ref": "DatabaseSecret"}]})
            )]
        );
        let managed = |id: &str| props(&t, id)["ManagedPolicyArns"].clone();
        assert_eq!(
            managed("ApiServiceRole"),
            json!([{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"}])
        );
        assert_eq!(
            managed("BastionRole"),
            json!([{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"}])
        );
        let principal = |id: &str| {
            props(&t, id)["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"]
                .clone()
        };
        assert_eq!(principal("ApiServiceRole"), "lambda.amazonaws.com");
        assert_eq!(principal("BastionRole"), "ec2.amazonaws.com");
        let (_, profile) = one(&t, "AWS::IAM::InstanceProfile");
        assert_eq!(
            profile["Properties"]["Roles"],
            json!([{"Ref": "BastionRole"}])
        );
    }
}

#[test]
fn lambda_matches_the_running_api() {
    for (stage, t) in templates() {
        let (f, r) = one(&t, "AWS::Lambda::Function");
        let p = &r["Properties"];
        assert_eq!(
            p["Environment"]["Variables"],
            json!({"DB_AWS_REGION": {"Ref": "AWS::Region"}, "DB_SECRET_NAME": {"Ref": "DatabaseSecret"}})
        );
        assert_eq!(p["PackageType"], "Image");
        assert_eq!(p["Code"], json!({"ImageUri": {"Ref": "LambdaImageUri"}}));
        let param = &t["Parameters"]["LambdaImageUri"];
        assert_eq!(param["Type"], "String");
        assert!(
            param["Default"]
                .as_str()
                .expect("default")
                .contains(".dkr.ecr.")
        );
        assert!(param["AllowedPattern"].is_string());
        assert_eq!(p["Timeout"], 30, "the client gives up after 30 s");
        // The secret must hold host and port, and the private subnets must reach the internet
        // through the NAT (the function fetches the secret at start).
        assert_eq!(
            r["DependsOn"],
            json!([
                "DatabaseSecretAttachment",
                "NatDefaultRoutePrivate1",
                "NatDefaultRoutePrivate2"
            ])
        );
        // The log group is the function's, made first, with a retention.
        let lg = p["LoggingConfig"]["LogGroup"]["Ref"]
            .as_str()
            .expect("log group ref")
            .to_owned();
        let l = &t["Resources"][&lg];
        assert_eq!(l["Type"], "AWS::Logs::LogGroup");
        assert_eq!(
            p["FunctionName"],
            json!({"Fn::Sub": "${AWS::StackName}-api"})
        );
        assert_eq!(
            l["Properties"]["LogGroupName"],
            json!({"Fn::Sub": "/aws/lambda/${AWS::StackName}-api"})
        );
        let days = l["Properties"]["RetentionInDays"]
            .as_i64()
            .expect("retention");
        assert_eq!(days, if stage == "prod" { 365 } else { 14 });
        // A public Function URL, and exactly the two statements a public URL needs.
        let (_, url) = one(&t, "AWS::Lambda::Url");
        assert_eq!(url["Properties"]["AuthType"], "NONE");
        assert_eq!(target(&url["Properties"]["TargetFunctionArn"]), *f);
        let perms: BTreeSet<String> = of_type(&t, "AWS::Lambda::Permission")
            .iter()
            .map(|(_, p)| p["Properties"].to_string())
            .collect();
        let expected: BTreeSet<String> = [
            json!({"Action": "lambda:InvokeFunctionUrl", "FunctionName": {"Fn::GetAtt": ["Api", "Arn"]},
                   "FunctionUrlAuthType": "NONE", "Principal": "*"}),
            json!({"Action": "lambda:InvokeFunction", "FunctionName": {"Fn::GetAtt": ["Api", "Arn"]},
                   "InvokedViaFunctionUrl": true, "Principal": "*"}),
        ]
        .iter()
        .map(Json::to_string)
        .collect();
        assert_eq!(perms, expected);
    }
}

#[test]
fn bastion_is_ssm_only() {
    for (_, t) in templates() {
        let (_, r) = one(&t, "AWS::EC2::Instance");
        let p = &r["Properties"];
        assert!(p.get("KeyName").is_none(), "no key pair");
        assert_eq!(p["ImageId"], json!({"Ref": "BastionImageId"}));
        let ami = &t["Parameters"]["BastionImageId"];
        // Pinned: a plain AMI id that deploy looks up once (not an SSM-typed parameter, which
        // CloudFormation resolves again on every update and so replaces the host).
        assert_eq!(ami["Type"], "AWS::EC2::Image::Id");
        assert!(ami.get("Default").is_none());
        // t4g.micro is Graviton: the arm64 image.
        assert_eq!(
            t["Metadata"]["snowcdk:pinned-parameters"]["BastionImageId"]["SsmParameter"],
            "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
        );
        assert_eq!(p["MetadataOptions"]["HttpTokens"], "required", "IMDSv2");
        let root = &p["BlockDeviceMappings"][0]["Ebs"];
        assert_eq!(root["Encrypted"], json!(true));
        assert_eq!(root["VolumeType"], "gp3");
        assert_eq!(target(&p["IamInstanceProfile"]), "BastionInstanceProfile");
        assert!(p.get("UserData").is_none());
    }
}

#[test]
fn outputs_are_the_interface_the_tools_read() {
    for (stage, t) in templates() {
        let names: Vec<&String> = t["Outputs"].as_object().expect("outputs").keys().collect();
        assert_eq!(
            names,
            [
                "VpcId",
                "DbEndpointAddress",
                "DbEndpointPort",
                "DbSecretArn",
                "FunctionUrl",
                "BastionInstanceId",
                "TunnelCommand"
            ],
            "{stage}"
        );
        let o = &t["Outputs"];
        assert_eq!(o["VpcId"]["Value"], json!({"Ref": "Network"}));
        assert_eq!(
            o["DbEndpointAddress"]["Value"],
            json!({"Fn::GetAtt": ["Database", "Endpoint.Address"]})
        );
        assert_eq!(
            o["DbEndpointPort"]["Value"],
            json!({"Fn::GetAtt": ["Database", "Endpoint.Port"]})
        );
        assert_eq!(o["DbSecretArn"]["Value"], json!({"Ref": "DatabaseSecret"}));
        assert_eq!(
            o["FunctionUrl"]["Value"],
            json!({"Fn::GetAtt": ["ApiUrl", "FunctionUrl"]})
        );
        assert_eq!(
            o["BastionInstanceId"]["Value"],
            json!({"Ref": "BastionInstance"})
        );
        let sub = o["TunnelCommand"]["Value"]["Fn::Sub"]
            .as_array()
            .expect("Fn::Sub with variables");
        let command = sub[0].as_str().expect("command");
        assert!(
            command.starts_with("aws ssm start-session --target ${Bastion} "),
            "{command}"
        );
        assert!(command.contains("--document-name AWS-StartPortForwardingSessionToRemoteHost"));
        assert!(command.ends_with("--region ${AWS::Region}"));
        let params = command
            .split("--parameters '")
            .nth(1)
            .and_then(|r| r.split('\'').next())
            .expect("quoted --parameters");
        let filled = params
            .replace("${Port}", "5432")
            .replace("${Host}", "db.example");
        assert_eq!(
            serde_json::from_str::<Json>(&filled).expect("--parameters is JSON"),
            json!({"portNumber": ["5432"], "localPortNumber": ["5432"], "host": ["db.example"]})
        );
        assert_eq!(sub[1]["Bastion"], json!({"Ref": "BastionInstance"}));
        assert_eq!(sub[1]["Host"], o["DbEndpointAddress"]["Value"]);
        assert_eq!(sub[1]["Port"], o["DbEndpointPort"]["Value"]);
    }
}

#[test]
fn every_taggable_resource_carries_project_and_stage() {
    for (stage, t) in templates() {
        for (id, r) in resources(&t) {
            let ty = r["Type"].as_str().expect("type");
            let spec = l1::spec(ty).unwrap_or_else(|| panic!("{id}: unknown type {ty}"));
            let tags: BTreeMap<String, String> = match spec.tagging {
                Tagging::None => continue,
                Tagging::List(p) => r["Properties"][p]
                    .as_array()
                    .unwrap_or_else(|| panic!("{id}: no {p}"))
                    .iter()
                    .map(|kv| {
                        (
                            kv["Key"].as_str().unwrap_or_default().to_owned(),
                            kv["Value"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect(),
                Tagging::Map(p) => r["Properties"][p]
                    .as_object()
                    .unwrap_or_else(|| panic!("{id}: no {p}"))
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect(),
            };
            assert_eq!(
                tags.get("Project").map(String::as_str),
                Some("snowex"),
                "{id}"
            );
            assert_eq!(tags.get("Stage"), Some(&stage), "{id}");
        }
    }
}

/// Stateful resources (what the engine's risk module calls stateful) by logical id.
fn stateful(t: &Json) -> Vec<(&String, &Json)> {
    resources(t)
        .iter()
        .filter(|(_, r)| snowcdk::risk::is_stateful(r["Type"].as_str().unwrap_or_default()))
        .collect()
}

#[test]
fn every_stateful_resource_has_explicit_removal_policies() {
    for (stage, t) in templates() {
        let prod = stage == "prod";
        let all = stateful(&t);
        assert!(all.len() >= 3, "{stage}: database, secret, log group");
        for (id, r) in all {
            let policy = r["DeletionPolicy"].as_str();
            assert!(policy.is_some(), "{stage}: {id} has no DeletionPolicy");
            assert_eq!(r["UpdateReplacePolicy"].as_str(), policy, "{stage}: {id}");
            let expected = match r["Type"].as_str().unwrap_or_default() {
                "AWS::RDS::DBInstance" => "Snapshot",
                // prod keeps the final snapshot's password and its logs (a year of the API's)
                // when the stack is deleted; dev deletes them on purpose.
                _ if prod => "Retain",
                _ => "Delete",
            };
            assert_eq!(policy, Some(expected), "{stage}: {id}");
        }
        assert_eq!(
            t["Resources"]["DatabaseSecret"]["DeletionPolicy"],
            if prod { "Retain" } else { "Delete" }
        );
        assert_eq!(
            t["Resources"]["ApiLogGroup"]["DeletionPolicy"],
            if prod { "Retain" } else { "Delete" }
        );
    }
}

#[test]
fn the_database_logs_go_to_groups_the_stack_owns_when_its_identifier_is_known() {
    for (stage, t) in templates() {
        let (db, r) = one(&t, "AWS::RDS::DBInstance");
        let groups: Vec<(&String, &Json)> = of_type(&t, "AWS::Logs::LogGroup")
            .into_iter()
            .filter(|(id, _)| id.starts_with(db.as_str()))
            .collect();
        match r["Properties"]["DBInstanceIdentifier"].as_str() {
            // dev names its database, so the stack creates the exported logs' groups first,
            // with a retention, and the instance waits for them.
            Some(id) => {
                assert_eq!((stage.as_str(), id), ("dev", "snowex-dev"));
                let names: BTreeSet<String> = groups
                    .iter()
                    .map(|(_, g)| {
                        g["Properties"]["LogGroupName"]
                            .as_str()
                            .expect("name")
                            .to_owned()
                    })
                    .collect();
                assert_eq!(
                    names,
                    BTreeSet::from([
                        "/aws/rds/instance/snowex-dev/postgresql".to_owned(),
                        "/aws/rds/instance/snowex-dev/upgrade".to_owned()
                    ])
                );
                for (gid, g) in &groups {
                    assert_eq!(g["Properties"]["RetentionInDays"], 14, "{gid}");
                    let waits = r["DependsOn"].as_array().expect("DependsOn");
                    assert!(waits.contains(&json!(gid)), "{db} waits for {gid}");
                }
            }
            // prod keeps the identifier CloudFormation generated (setting one replaces the
            // database), so RDS creates the groups: the stack cannot name them.
            None => {
                assert_eq!(stage, "prod");
                assert!(groups.is_empty());
            }
        }
    }
}

#[test]
fn the_public_api_cannot_exhaust_the_databases_connections_in_prod() {
    for (stage, t) in templates() {
        let (_, f) = one(&t, "AWS::Lambda::Function");
        let reserved = f["Properties"]["ReservedConcurrentExecutions"].as_i64();
        let class = props(&t, "Database")["DBInstanceClass"]
            .as_str()
            .expect("class")
            .to_owned();
        if stage == "prod" {
            let limit = snowcdk_constructs::l2::postgres_rds::default_max_connections(&class)
                .expect("known class");
            assert_eq!(class, "db.t4g.medium");
            // 4 GiB at 75 % / 9531392 bytes per connection = 337, less 10 for administrators.
            assert_eq!(limit, 337);
            assert_eq!(reserved, Some(i64::from(limit) - 10));
            assert!(
                f["Metadata"]["checkov"]["skip"]
                    .as_array()
                    .expect("skips")
                    .iter()
                    .all(|s| s["id"] != "CKV_AWS_115")
            );
        } else {
            assert_eq!(
                reserved, None,
                "{stage}: unreserved, with the reason recorded"
            );
        }
    }
}

#[test]
fn instances_wait_for_egress_through_the_nat() {
    for (stage, t) in templates() {
        let (_, b) = one(&t, "AWS::EC2::Instance");
        let waits = b["DependsOn"].as_array().cloned().unwrap_or_default();
        assert!(
            waits.contains(&json!("NatDefaultRoutePrivate1")),
            "{stage}: the bastion's SSM agent needs its subnet's route through the NAT"
        );
    }
}

#[test]
fn checkov_suppressions_carry_reasons() {
    for (_, t) in templates() {
        for (id, r) in resources(&t) {
            for s in r["Metadata"]["checkov"]["skip"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let check = s["id"].as_str().expect("id");
                assert!(check.starts_with("CKV"), "{id}: {check}");
                assert!(
                    s["comment"].as_str().is_some_and(|c| c.len() > 20),
                    "{id}: {check} needs a reason"
                );
            }
        }
    }
}
