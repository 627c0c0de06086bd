//! `snowcdk import --dry-run --write-config` against a SnowEx system built by hand in the
//! emulator, the way an administrator would with the console or the CLI: a VPC with two public
//! and two private subnets in two AZs, an internet gateway, a NAT gateway with its Elastic IP,
//! route tables, security groups and the PostgreSQL rules between them, a DB subnet group and
//! parameter group, a PostgreSQL instance `snowexdb`, a secret with the credentials, an IAM role
//! and a container-image Lambda with a Function URL, and an admin instance with a profile.
//! The test asserts the mapping (each logical id -> the live id), the config keys written, and
//! the preview.

mod support;

use std::collections::BTreeMap;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, Filter, IpPermission, IpRange, ResourceType, Tag, TagSpecification,
    UserIdGroupPair,
};
use serde_json::Value as Json;
use support::{Moto, config_dir, run, snowcdk};

const REGION: &str = "us-west-2";
const IMAGE: &str = "123456789012.dkr.ecr.us-west-2.amazonaws.com/snowex-api:v1";

/// The ids of what the administrator built.
#[derive(Debug, Default)]
struct Built {
    ids: BTreeMap<&'static str, String>,
}

impl Built {
    fn id(&self, k: &str) -> &str {
        self.ids.get(k).map(String::as_str).unwrap_or_default()
    }
}

fn named(kind: ResourceType, name: &str) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .tags(Tag::builder().key("Name").value(name).build())
        .build()
}

async fn build_system(url: &str) -> Built {
    let conf = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(url)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .load()
        .await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let rds = aws_sdk_rds::Client::new(&conf);
    let iam = aws_sdk_iam::Client::new(&conf);
    let lambda = aws_sdk_lambda::Client::new(&conf);
    let secrets = aws_sdk_secretsmanager::Client::new(&conf);
    let mut b = Built::default();

    // The network.
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .tag_specifications(named(ResourceType::Vpc, "snowex-vpc"))
        .send()
        .await
        .expect("vpc");
    let vpc = vpc
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("vpc id")
        .to_owned();
    ec2.modify_vpc_attribute()
        .vpc_id(&vpc)
        .enable_dns_hostnames(AttributeBooleanValue::builder().value(true).build())
        .send()
        .await
        .expect("dns hostnames");
    let igw = ec2
        .create_internet_gateway()
        .send()
        .await
        .expect("igw")
        .internet_gateway()
        .and_then(|g| g.internet_gateway_id())
        .expect("igw id")
        .to_owned();
    ec2.attach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&vpc)
        .send()
        .await
        .expect("attach igw");
    let mut subnets = Vec::new();
    for (name, cidr, az) in [
        ("public-a", "10.0.1.0/24", "us-west-2a"),
        ("public-c", "10.0.2.0/24", "us-west-2c"),
        ("private-a", "10.0.11.0/24", "us-west-2a"),
        ("private-c", "10.0.12.0/24", "us-west-2c"),
    ] {
        let s = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(cidr)
            .availability_zone(az)
            .tag_specifications(named(ResourceType::Subnet, &format!("snowex-{name}")))
            .send()
            .await
            .expect("subnet");
        subnets.push(
            s.subnet()
                .and_then(|s| s.subnet_id())
                .expect("id")
                .to_owned(),
        );
    }
    // One route table per subnet, as the console's VPC wizard makes them.
    let mut tables = Vec::new();
    for s in &subnets {
        let rt = ec2
            .create_route_table()
            .vpc_id(&vpc)
            .send()
            .await
            .expect("route table")
            .route_table()
            .and_then(|t| t.route_table_id())
            .expect("rt id")
            .to_owned();
        let assoc = ec2
            .associate_route_table()
            .route_table_id(&rt)
            .subnet_id(s)
            .send()
            .await
            .expect("associate")
            .association_id()
            .expect("association id")
            .to_owned();
        tables.push((rt, assoc));
    }
    for (rt, _) in &tables[..2] {
        ec2.create_route()
            .route_table_id(rt)
            .destination_cidr_block("0.0.0.0/0")
            .gateway_id(&igw)
            .send()
            .await
            .expect("igw route");
    }
    let eip = ec2
        .allocate_address()
        .domain(aws_sdk_ec2::types::DomainType::Vpc)
        .send()
        .await
        .expect("eip");
    let alloc = eip.allocation_id().expect("allocation").to_owned();
    let public_ip = eip.public_ip().expect("ip").to_owned();
    let nat = ec2
        .create_nat_gateway()
        .subnet_id(&subnets[0])
        .allocation_id(&alloc)
        .send()
        .await
        .expect("nat")
        .nat_gateway()
        .and_then(|n| n.nat_gateway_id())
        .expect("nat id")
        .to_owned();
    for (rt, _) in &tables[2..] {
        ec2.create_route()
            .route_table_id(rt)
            .destination_cidr_block("0.0.0.0/0")
            .nat_gateway_id(&nat)
            .send()
            .await
            .expect("nat route");
    }

    // Security groups: the database's, the API's and the admin host's, and 5432 between them.
    let mut groups = BTreeMap::new();
    for (key, name, description) in [
        ("db", "snowex-db-sg", "SnowEx PostgreSQL"),
        ("api", "snowex-lambda-sg", "SnowEx API Lambda"),
        ("admin", "snowex-admin-sg", "SnowEx admin host"),
    ] {
        let g = ec2
            .create_security_group()
            .vpc_id(&vpc)
            .group_name(name)
            .description(description)
            .send()
            .await
            .expect("group")
            .group_id()
            .expect("group id")
            .to_owned();
        groups.insert(key, g);
    }
    for client in ["api", "admin"] {
        ec2.authorize_security_group_ingress()
            .group_id(&groups["db"])
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(5432)
                    .to_port(5432)
                    .user_id_group_pairs(
                        UserIdGroupPair::builder().group_id(&groups[client]).build(),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("ingress 5432");
        // The clients' default allow-all egress stays: the administrator did not touch it.
        let _ = IpRange::builder().cidr_ip("0.0.0.0/0").build();
    }

    // The database.
    rds.create_db_subnet_group()
        .db_subnet_group_name("snowex-db-subnets")
        .db_subnet_group_description("SnowEx private subnets")
        .subnet_ids(&subnets[2])
        .subnet_ids(&subnets[3])
        .send()
        .await
        .expect("subnet group");
    rds.create_db_parameter_group()
        .db_parameter_group_name("snowex-pg17")
        .db_parameter_group_family("postgres17")
        .description("SnowEx PostgreSQL 17")
        .send()
        .await
        .expect("parameter group");
    let db = rds
        .create_db_instance()
        .db_instance_identifier("snowexdb")
        .db_instance_class("db.t4g.small")
        // Not the first private subnet's zone: recorded as database.availability_zone.
        .availability_zone("us-west-2c")
        .engine("postgres")
        .engine_version("17.11")
        .allocated_storage(20)
        .storage_type("gp2")
        .storage_encrypted(true)
        .db_name("snowex")
        .master_username("snowex_admin")
        .master_user_password("hand-made-password-1")
        .db_subnet_group_name("snowex-db-subnets")
        .db_parameter_group_name("snowex-pg17")
        .vpc_security_group_ids(&groups["db"])
        .backup_retention_period(7)
        .publicly_accessible(false)
        .send()
        .await
        .expect("db instance");
    let endpoint = db
        .db_instance()
        .and_then(|d| d.endpoint())
        .and_then(|e| e.address())
        .unwrap_or("snowexdb.local")
        .to_owned();
    let secret = secrets
        .create_secret()
        .name("snowex/db-credentials")
        .secret_string(
            serde_json::json!({
                "username": "snowex_admin",
                "password": "hand-made-password-1",
                "host": endpoint,
                "port": 5432,
                "dbname": "snowex"
            })
            .to_string(),
        )
        .send()
        .await
        .expect("secret");
    let secret_arn = secret.arn().expect("secret arn").to_owned();

    // The API's image, in the account's ECR (the function runs it; deploy's preflight looks it up).
    let ecr = aws_sdk_ecr::Client::new(&conf);
    ecr.create_repository()
        .repository_name("snowex-api")
        .send()
        .await
        .expect("repository");
    ecr.put_image()
        .repository_name("snowex-api")
        .image_tag("v1")
        .image_manifest(
            serde_json::json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": "sha256:0000000000000000000000000000000000000000000000000000000000000001"},
                "layers": []
            })
            .to_string(),
        )
        .send()
        .await
        .expect("image");

    // The API: a role, a container-image function in the private subnets, its URL.
    let trust = |service: &str| {
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}).to_string()
    };
    let role = iam
        .create_role()
        .role_name("snowex-api-role")
        .assume_role_policy_document(trust("lambda.amazonaws.com"))
        .send()
        .await
        .expect("role");
    let role_arn = role.role().map(|r| r.arn().to_owned()).expect("role arn");
    iam.attach_role_policy()
        .role_name("snowex-api-role")
        .policy_arn("arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole")
        .send()
        .await
        .expect("attach policy");
    lambda
        .create_function()
        .function_name("snowex-api")
        .package_type(aws_sdk_lambda::types::PackageType::Image)
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .image_uri(IMAGE)
                .build(),
        )
        .role(&role_arn)
        .memory_size(512)
        .timeout(30)
        .vpc_config(
            aws_sdk_lambda::types::VpcConfig::builder()
                .subnet_ids(&subnets[2])
                .subnet_ids(&subnets[3])
                .security_group_ids(&groups["api"])
                .build(),
        )
        .environment(
            aws_sdk_lambda::types::Environment::builder()
                .variables("DB_SECRET_NAME", &secret_arn)
                .variables("DB_AWS_REGION", REGION)
                .build(),
        )
        .send()
        .await
        .expect("function");
    lambda
        .create_function_url_config()
        .function_name("snowex-api")
        .auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::None)
        .send()
        .await
        .expect("function url");
    lambda
        .add_permission()
        .function_name("snowex-api")
        .statement_id("FunctionURLAllowPublicAccess")
        .action("lambda:InvokeFunctionUrl")
        .principal("*")
        .function_url_auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::None)
        .send()
        .await
        .expect("url permission");

    // The admin host with an instance profile.
    iam.create_role()
        .role_name("snowex-admin-role")
        .assume_role_policy_document(trust("ec2.amazonaws.com"))
        .send()
        .await
        .expect("admin role");
    iam.attach_role_policy()
        .role_name("snowex-admin-role")
        .policy_arn("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
        .send()
        .await
        .expect("attach ssm policy");
    iam.create_instance_profile()
        .instance_profile_name("snowex-admin-profile")
        .send()
        .await
        .expect("profile");
    iam.add_role_to_instance_profile()
        .instance_profile_name("snowex-admin-profile")
        .role_name("snowex-admin-role")
        .send()
        .await
        .expect("profile role");
    let images = ec2
        .describe_images()
        .filters(
            Filter::builder()
                .name("architecture")
                .values("arm64")
                .build(),
        )
        .send()
        .await
        .expect("images");
    let ami = images
        .images()
        .first()
        .and_then(|i| i.image_id())
        .unwrap_or("ami-12c6146b")
        .to_owned();
    let instance = ec2
        .run_instances()
        .image_id(&ami)
        .instance_type(aws_sdk_ec2::types::InstanceType::T4gMicro)
        .min_count(1)
        .max_count(1)
        .subnet_id(&subnets[2])
        .security_group_ids(&groups["admin"])
        // What AWS gives a t4g instance by default (moto's default is false).
        .ebs_optimized(true)
        .iam_instance_profile(
            aws_sdk_ec2::types::IamInstanceProfileSpecification::builder()
                .name("snowex-admin-profile")
                .build(),
        )
        .send()
        .await
        .expect("instance");
    let instance = instance
        .instances()
        .first()
        .and_then(|i| i.instance_id())
        .expect("instance id")
        .to_owned();

    for (k, v) in [
        ("vpc", vpc),
        ("igw", igw),
        ("public1", subnets[0].clone()),
        ("public2", subnets[1].clone()),
        ("private1", subnets[2].clone()),
        ("private2", subnets[3].clone()),
        ("rt_public1", tables[0].0.clone()),
        ("rt_private2", tables[3].0.clone()),
        ("assoc_private1", tables[2].1.clone()),
        ("nat", nat),
        ("eip", public_ip),
        ("sg_db", groups["db"].clone()),
        ("sg_api", groups["api"].clone()),
        ("sg_admin", groups["admin"].clone()),
        ("secret", secret_arn),
        ("instance", instance),
        ("ami", ami),
    ] {
        b.ids.insert(k, v);
    }
    b
}

/// AWS's managed policies (the roles attach AWSLambdaVPCAccessExecutionRole and
/// AmazonSSMManagedInstanceCore): moto loads them only when asked. Set once, before either test
/// starts its moto (the other test waits on the `Once` before it spawns anything).
fn managed_policies() {
    static SET: std::sync::Once = std::sync::Once::new();
    SET.call_once(|| unsafe { std::env::set_var("MOTO_IAM_LOAD_MANAGED_POLICIES", "true") });
}

#[test]
fn import_dry_run_maps_the_hand_built_system_and_records_its_values() {
    managed_policies();
    let moto = Moto::start_patched();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let built = rt.block_on(build_system(&moto.url));
    let dir = config_dir(
        "snowex-dev",
        REGION,
        &format!(
            "\n[stages.dev.database]\n# the hand-built instance\ninstance_class = \"db.t4g.micro\"\ndeletion_protection = false\n\n[stages.dev.lambda]\nimage_uri = \"{IMAGE}\"\n"
        ),
    );
    let mut c = snowcdk(dir.path());
    c.args([
        "import",
        "--stage",
        "dev",
        "--from-db",
        "snowexdb",
        "--from-function",
        "snowex-api",
        "--from-instance",
        built.id("instance"),
        "--dry-run",
        "--write-config",
        "--json",
        "--endpoint-url",
        &moto.url,
    ]);
    let (out, stdout, stderr) = run(c);
    let report: Json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("JSON report ({e}):\n{stdout}\n{stderr}"));
    let mapping: BTreeMap<String, String> = report["plan"]["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|a| {
            (
                a["logical_id"].as_str().unwrap_or_default().to_owned(),
                a["physical_id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    eprintln!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
    eprintln!("{stderr}");
    for (logical, key) in [
        ("Network", "vpc"),
        ("NetworkInternetGateway", "igw"),
        ("NetworkPublicSubnet1Subnet", "public1"),
        ("NetworkPublicSubnet2Subnet", "public2"),
        ("NetworkPrivateSubnet1Subnet", "private1"),
        ("NetworkPrivateSubnet2Subnet", "private2"),
        ("NetworkPublicSubnet1RouteTable", "rt_public1"),
        ("NetworkPrivateSubnet2RouteTable", "rt_private2"),
        (
            "NetworkPrivateSubnet1RouteTableAssociation",
            "assoc_private1",
        ),
        ("NatGateway", "nat"),
        ("NatGatewayEip", "eip"),
        ("DatabaseSecurityGroup", "sg_db"),
        ("ApiSecurityGroup", "sg_api"),
        ("BastionSecurityGroup", "sg_admin"),
        ("DatabaseSecret", "secret"),
        ("BastionInstance", "instance"),
    ] {
        assert_eq!(
            mapping.get(logical).map(String::as_str),
            Some(built.id(key)),
            "{logical}"
        );
    }
    for (logical, id) in [
        ("Database", "snowexdb"),
        ("DatabaseSubnetGroup", "snowex-db-subnets"),
        ("DatabaseParameterGroup", "snowex-pg17"),
        ("Api", "snowex-api"),
        ("ApiServiceRole", "snowex-api-role"),
        ("BastionRole", "snowex-admin-role"),
        ("BastionInstanceProfile", "snowex-admin-profile"),
    ] {
        assert_eq!(
            mapping.get(logical).map(String::as_str),
            Some(id),
            "{logical}"
        );
    }
    // The 5432 rules into the database from the API and the admin host.
    for logical in [
        "DatabaseSecurityGroupFromApiSecurityGroupTcp5432",
        "DatabaseSecurityGroupFromBastionSecurityGroupTcp5432",
    ] {
        assert!(
            mapping
                .get(logical)
                .is_some_and(|id| id.starts_with("sgr-")),
            "{logical}: {mapping:?}"
        );
    }
    // The written config: the live names and the values the hand-built system differs in,
    // in the stage's tables, the file's own comment kept.
    let written = std::fs::read_to_string(dir.path().join("snowcdk.toml")).expect("config");
    assert!(written.contains("# the hand-built instance\n"), "{written}");
    let doc: toml::Table = written.parse().expect("TOML");
    let dev = &doc["stages"]["dev"];
    let expect = [
        ("database", "instance_identifier", "snowexdb"),
        ("database", "instance_class", "db.t4g.small"),
        ("database", "storage_type", "gp2"),
        ("database", "security_group_name", "snowex-db-sg"),
        (
            "database",
            "security_group_description",
            "SnowEx PostgreSQL",
        ),
        ("database", "subnet_group_name", "snowex-db-subnets"),
        (
            "database",
            "subnet_group_description",
            "SnowEx private subnets",
        ),
        ("database", "parameter_group_name", "snowex-pg17"),
        (
            "database",
            "parameter_group_description",
            "SnowEx PostgreSQL 17",
        ),
        ("database", "secret_name", "snowex/db-credentials"),
        ("database", "availability_zone", "us-west-2c"),
        ("lambda", "function_name", "snowex-api"),
        ("lambda", "role_name", "snowex-api-role"),
        ("lambda", "security_group_name", "snowex-lambda-sg"),
        ("lambda", "security_group_description", "SnowEx API Lambda"),
        ("bastion", "image_id", built.id("ami")),
        ("bastion", "role_name", "snowex-admin-role"),
        ("bastion", "instance_profile_name", "snowex-admin-profile"),
        ("bastion", "security_group_name", "snowex-admin-sg"),
        ("bastion", "security_group_description", "SnowEx admin host"),
    ];
    for (table, key, value) in expect {
        assert_eq!(
            dev[table].get(key).and_then(toml::Value::as_str),
            Some(value),
            "{table}.{key} in\n{written}"
        );
    }
    assert_eq!(dev["lambda"]["memory_mb"].as_integer(), Some(512));
    let list = |key: &str| -> Vec<String> {
        dev["network"]
            .get(key)
            .and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(list("public_subnet_cidrs"), ["10.0.1.0/24", "10.0.2.0/24"]);
    assert_eq!(
        list("private_subnet_cidrs"),
        ["10.0.11.0/24", "10.0.12.0/24"]
    );
    assert_eq!(list("availability_zones"), ["us-west-2a", "us-west-2c"]);
    let config_keys: Vec<String> = report["config"]
        .as_array()
        .expect("config")
        .iter()
        .map(|c| {
            format!(
                "{}.{}",
                c["table"].as_str().unwrap_or_default(),
                c["key"].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(config_keys.len(), expect.len() + 4, "{config_keys:?}");
    assert_eq!(report["config_written"], Json::Bool(true));

    // The preview after the config was written: nothing blocking is left (every name, the
    // storage type, the secret and the AMI now come from the config). What remains are the
    // constructs' hardening and descriptions the hand-built system lacks, each acceptable:
    // narrower egress, exported logs, the read-secret policy, descriptions, tags copied to
    // snapshots, IMDSv2.
    let remaining: Vec<(String, bool)> = report["preview"]["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .map(|d| {
            (
                format!(
                    "{}.{}",
                    d["logical_id"].as_str().unwrap_or_default(),
                    d["path"].as_str().unwrap_or_default()
                ),
                d["blocking"].as_bool().unwrap_or(true),
            )
        })
        .collect();
    let acceptable = [
        "DatabaseSecurityGroup.SecurityGroupEgress",
        "ApiSecurityGroup.SecurityGroupEgress",
        "BastionSecurityGroup.SecurityGroupEgress",
        "Database.CopyTagsToSnapshot",
        "Database.EnableCloudwatchLogsExports",
        "Api.Description",
        "ApiServiceRole.Description",
        "ApiServiceRole.Policies",
        "BastionInstance.MetadataOptions/HttpTokens",
        "BastionRole.Description",
        "DatabaseSecurityGroupFromApiSecurityGroupTcp5432.Description",
        "DatabaseSecurityGroupFromBastionSecurityGroupTcp5432.Description",
    ];
    let want: Vec<(String, bool)> = acceptable
        .iter()
        .map(|k| ((*k).to_owned(), false))
        .collect();
    assert_eq!(remaining, want, "{stdout}");
    // Not accepted: refused (3), naming them.
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("12 difference(s) not accepted"), "{stderr}");

    // Again, the config now written: it already describes what runs, and with the remaining
    // changes accepted the dry run passes.
    let mut c = snowcdk(dir.path());
    c.args([
        "import",
        "--stage",
        "dev",
        "--from-db",
        "snowexdb",
        "--from-function",
        "snowex-api",
        "--from-instance",
        built.id("instance"),
        "--dry-run",
        "--endpoint-url",
        &moto.url,
        "--accept-changes",
    ])
    .args(acceptable);
    let (out, stdout, stderr) = run(c);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("already describes what runs"), "{stdout}");
    assert!(
        stdout.contains("  Database ") && stdout.contains("snowexdb"),
        "{stdout}"
    );
    // Without --write-config nothing is written: the values are shown, and the preview
    // assumes them (the storage type set back to gp3 by hand is a value to record, not a
    // difference to accept).
    let edited = written.replace("storage_type = \"gp2\"", "storage_type = \"gp3\"");
    std::fs::write(dir.path().join("snowcdk.toml"), &edited).expect("edit");
    let mut c = snowcdk(dir.path());
    c.args([
        "import",
        "--stage",
        "dev",
        "--from-db",
        "snowexdb",
        "--dry-run",
        "--endpoint-url",
        &moto.url,
        "--accept-changes",
        "CopyTagsToSnapshot",
        "EnableCloudwatchLogsExports",
        "DatabaseSecurityGroup.SecurityGroupEgress",
    ]);
    let (out, stdout, stderr) = run(c);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("--write-config would write")
            && stdout.contains("storage_type = \"gp2\"    # DBInstance StorageType"),
        "{stdout}"
    );
    let after = std::fs::read_to_string(dir.path().join("snowcdk.toml")).expect("config");
    assert_eq!(after, edited);

    // Credentials in no secret discovery can find (no function anchor, no secret_name): the
    // dry run says the import will create one from the current password, and records its name.
    let without = edited
        .lines()
        .filter(|l| !l.starts_with("secret_name"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.path().join("snowcdk.toml"), &without).expect("edit");
    let base = [
        "import",
        "--stage",
        "dev",
        "--from-db",
        "snowexdb",
        "--endpoint-url",
        &moto.url,
        "--accept-changes",
        "CopyTagsToSnapshot",
        "EnableCloudwatchLogsExports",
        "DatabaseSecurityGroup.SecurityGroupEgress",
    ];
    let mut c = snowcdk(dir.path());
    c.args(base).arg("--dry-run");
    let (out, stdout, stderr) = run(c);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("secret_name = \"snowex-dev/db-credentials\"")
            && stdout.contains("reads the current master password from standard input"),
        "{stdout}"
    );
    // Outside --dry-run, with the config written: the secret is created from the password on
    // stdin (never a flag) before the import. The IMPORT change set is then made and shown, but
    // importing always asks: without a terminal and without --yes it is refused (3), the change
    // set and the empty stack it made deleted.
    let mut c = snowcdk(dir.path());
    c.args(base)
        .arg("--write-config")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().expect("spawn import");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(b"hand-made-password-1\n")
            .expect("write password");
    }
    let out = child.wait_with_output().expect("import");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("created secret snowex-dev/db-credentials"),
        "{stderr}"
    );
    assert!(
        format!("{stdout}{stderr}").contains("there is no terminal to ask on"),
        "{stdout}\n{stderr}"
    );
    let stacks = rt.block_on(async {
        aws_sdk_cloudformation::Client::new(&sdk(&moto.url).await)
            .describe_stacks()
            .stack_name("snowex-dev")
            .send()
            .await
    });
    assert!(stacks.is_err(), "the refused import left no stack");
    let value = rt.block_on(async {
        let conf = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(&moto.url)
            .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
            .load()
            .await;
        aws_sdk_secretsmanager::Client::new(&conf)
            .get_secret_value()
            .secret_id("snowex-dev/db-credentials")
            .send()
            .await
            .expect("the created secret")
            .secret_string()
            .map(str::to_owned)
            .unwrap_or_default()
    });
    let value: Json = serde_json::from_str(&value).expect("secret JSON");
    assert_eq!(value["password"], "hand-made-password-1");
    assert_eq!(value["username"], "snowex_admin");
    assert_eq!(value["dbname"], "snowex");
    assert_eq!(value["port"], 5432);
}

/// The SDK configuration for the emulator.
async fn sdk(url: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(url)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .load()
        .await
}

/// The stack's resources: logical id -> (type, physical id).
async fn stack_resources(url: &str, stack: &str) -> BTreeMap<String, (String, String)> {
    let cfn = aws_sdk_cloudformation::Client::new(&sdk(url).await);
    let out = cfn
        .describe_stack_resources()
        .stack_name(stack)
        .send()
        .await
        .expect("DescribeStackResources");
    out.stack_resources()
        .iter()
        .map(|r| {
            (
                r.logical_resource_id().unwrap_or_default().to_owned(),
                (
                    r.resource_type().unwrap_or_default().to_owned(),
                    r.physical_resource_id().unwrap_or_default().to_owned(),
                ),
            )
        })
        .collect()
}

/// The README's steps on the hand-built system: a dry run that records the config, the import
/// (IMPORT change set, then the update, then the drift detection that verifies), a re-run that
/// finds everything managed, and a manual change that `snowcdk drift` reports.
#[test]
fn import_adopts_the_hand_built_system_end_to_end() {
    managed_policies();
    let moto = Moto::start_patched();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let built = rt.block_on(build_system(&moto.url));
    let dir = config_dir(
        "snowex-dev",
        REGION,
        &format!(
            "\n[stages.dev.database]\ninstance_class = \"db.t4g.micro\"\ndeletion_protection = false\n\n[stages.dev.lambda]\nimage_uri = \"{IMAGE}\"\n"
        ),
    );
    let acceptable = [
        "DatabaseSecurityGroup.SecurityGroupEgress",
        "ApiSecurityGroup.SecurityGroupEgress",
        "BastionSecurityGroup.SecurityGroupEgress",
        "Database.CopyTagsToSnapshot",
        "Database.EnableCloudwatchLogsExports",
        "Api.Description",
        "ApiServiceRole.Description",
        "ApiServiceRole.Policies",
        "BastionInstance.MetadataOptions/HttpTokens",
        "BastionRole.Description",
        "DatabaseSecurityGroupFromApiSecurityGroupTcp5432.Description",
        "DatabaseSecurityGroupFromBastionSecurityGroupTcp5432.Description",
    ];
    let import = |extra: &[&str]| {
        let mut c = snowcdk(dir.path());
        c.args([
            "import",
            "--stage",
            "dev",
            "--from-db",
            "snowexdb",
            "--from-function",
            "snowex-api",
            "--from-instance",
            built.id("instance"),
            "--endpoint-url",
            &moto.url,
        ])
        .args(extra)
        .arg("--accept-changes")
        .args(acceptable);
        run(c)
    };

    // 1. The dry run records what runs in the config; nothing is created.
    let (out, stdout, stderr) = import(&["--dry-run", "--write-config", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let report: Json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("JSON report ({e}):\n{stdout}\n{stderr}"));
    let planned: BTreeMap<String, (String, String)> = report["plan"]["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|a| {
            let s = |k: &str| a[k].as_str().unwrap_or_default().to_owned();
            (s("logical_id"), (s("resource_type"), s("physical_id")))
        })
        .collect();
    assert_eq!(planned.len(), 37, "{planned:?}");
    let written = std::fs::read_to_string(dir.path().join("snowcdk.toml")).expect("config");
    assert!(
        written.contains("instance_identifier = \"snowexdb\""),
        "{written}"
    );
    let listed = rt.block_on(async {
        aws_sdk_cloudformation::Client::new(&sdk(&moto.url).await)
            .describe_stacks()
            .stack_name("snowex-dev")
            .send()
            .await
    });
    assert!(listed.is_err(), "the dry run made no stack");

    // 2. The import: the IMPORT change set, the update, the verification.
    let (out, stdout, stderr) = import(&["--yes"]);
    eprintln!("{stdout}\n{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let resources = rt.block_on(stack_resources(&moto.url, "snowex-dev"));
    let physical = |logical: &str| {
        resources
            .get(logical)
            .map(|(_, p)| p.as_str())
            .unwrap_or_default()
    };
    // Every adopted resource is the stack's under the live id the plan found: nothing was
    // replaced, not even by the update that followed the import.
    for (logical, (ty, id)) in &planned {
        assert_eq!(
            resources.get(logical),
            Some(&(ty.clone(), id.clone())),
            "{logical}"
        );
    }
    // ... and those are the ids the administrator's calls returned.
    for (logical, key) in [
        ("Network", "vpc"),
        ("NetworkInternetGateway", "igw"),
        ("NetworkPublicSubnet1Subnet", "public1"),
        ("NetworkPublicSubnet2Subnet", "public2"),
        ("NetworkPrivateSubnet1Subnet", "private1"),
        ("NetworkPrivateSubnet2Subnet", "private2"),
        ("NetworkPublicSubnet1RouteTable", "rt_public1"),
        ("NetworkPrivateSubnet2RouteTable", "rt_private2"),
        (
            "NetworkPrivateSubnet1RouteTableAssociation",
            "assoc_private1",
        ),
        ("NatGateway", "nat"),
        ("NatGatewayEip", "eip"),
        ("DatabaseSecurityGroup", "sg_db"),
        ("ApiSecurityGroup", "sg_api"),
        ("BastionSecurityGroup", "sg_admin"),
        ("DatabaseSecret", "secret"),
        ("BastionInstance", "instance"),
    ] {
        assert_eq!(physical(logical), built.id(key), "{logical}: {resources:?}");
    }
    for (logical, id) in [
        ("Database", "snowexdb"),
        ("DatabaseSubnetGroup", "snowex-db-subnets"),
        ("DatabaseParameterGroup", "snowex-pg17"),
        ("Api", "snowex-api"),
        ("ApiServiceRole", "snowex-api-role"),
        ("BastionRole", "snowex-admin-role"),
        ("BastionInstanceProfile", "snowex-admin-profile"),
    ] {
        assert_eq!(physical(logical), id, "{logical}: {resources:?}");
    }
    // The update added what the hand-built system lacked: the function's log group and the
    // secret's attachment to the instance, and the stack's outputs.
    for (logical, ty) in [
        ("ApiLogGroup", "AWS::Logs::LogGroup"),
        (
            "DatabaseSecretAttachment",
            "AWS::SecretsManager::SecretTargetAttachment",
        ),
    ] {
        assert_eq!(
            resources.get(logical).map(|(t, _)| t.as_str()),
            Some(ty),
            "{logical}: {resources:?}"
        );
    }
    assert!(
        stdout.contains("in sync") || stderr.contains("in sync"),
        "{stdout}\n{stderr}"
    );
    // The live objects are the ones the administrator made.
    rt.block_on(async {
        let conf = sdk(&moto.url).await;
        let rds = aws_sdk_rds::Client::new(&conf);
        let dbs = rds.describe_db_instances().send().await.expect("dbs");
        let ids: Vec<&str> = dbs
            .db_instances()
            .iter()
            .filter_map(|d| d.db_instance_identifier())
            .collect();
        assert_eq!(ids, ["snowexdb"], "one database, the hand-built one");
        let ec2 = aws_sdk_ec2::Client::new(&conf);
        let vpcs = ec2.describe_vpcs().send().await.expect("vpcs");
        let non_default: Vec<&str> = vpcs
            .vpcs()
            .iter()
            .filter(|v| v.is_default() != Some(true))
            .filter_map(|v| v.vpc_id())
            .collect();
        assert_eq!(non_default, [built.id("vpc")], "no second VPC");
        let lambda = aws_sdk_lambda::Client::new(&conf);
        let f = lambda
            .get_function_configuration()
            .function_name("snowex-api")
            .send()
            .await
            .expect("function");
        assert_eq!(f.memory_size(), Some(512));
    });

    // 3. A re-run: the stack already manages everything.
    let (out, stdout, stderr) = import(&["--yes"]);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains("already manages all"),
        "{stdout}\n{stderr}"
    );
    assert_eq!(
        rt.block_on(stack_resources(&moto.url, "snowex-dev")),
        resources
    );

    // 4. A manual change shows in `snowcdk drift`.
    rt.block_on(async {
        aws_sdk_lambda::Client::new(&sdk(&moto.url).await)
            .update_function_configuration()
            .function_name("snowex-api")
            .memory_size(1024)
            .send()
            .await
            .expect("manual change")
    });
    let mut c = snowcdk(dir.path());
    c.args(["drift", "--stage", "dev", "--endpoint-url", &moto.url]);
    let (out, stdout, stderr) = run(c);
    assert_eq!(out.status.code(), Some(7), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Api") && stdout.contains("MemorySize") && stdout.contains("1024"),
        "{stdout}"
    );
}
