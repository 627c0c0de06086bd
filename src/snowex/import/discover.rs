//! Discovery: what runs, read with Describe/Get/List calls only, starting from the anchors the
//! user gives (`--from-db`, `--from-function`, `--from-instance`, `--from-vpc`). Nothing here
//! writes, and nothing reads a secret's value: the secret is described, not opened.
//!
//! The result, [`LiveSystem`], is plain data so that mapping it onto the template
//! ([`super::map`]) is a pure function the unit tests drive without AWS.

use std::collections::BTreeMap;

use anyhow::{Context, anyhow};
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::Filter;

use crate::deploy::{AwsTarget, Clients, describe};

/// The SDK clients discovery uses (read-only calls only).
#[derive(Debug, Clone)]
pub struct Sdk {
    /// EC2: VPC, subnets, routes, gateways, addresses, security groups, the instance.
    pub ec2: aws_sdk_ec2::Client,
    /// RDS: the instance, its subnet and parameter groups.
    pub rds: aws_sdk_rds::Client,
    /// Lambda: the function, its URL and resource policy.
    pub lambda: aws_sdk_lambda::Client,
    /// IAM: the roles and the instance profile.
    pub iam: aws_sdk_iam::Client,
    /// Secrets Manager: the credentials' secret (described, never read).
    pub secrets: aws_sdk_secretsmanager::Client,
    /// CloudWatch Logs: whether the log groups the stack would create exist.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// STS: the account.
    pub sts: aws_sdk_sts::Client,
    /// The engine's clients for the same target: they word errors as every command does.
    pub clients: Clients,
}

impl Sdk {
    /// Checks the target as every command does ([`Clients::connect`]: endpoint on loopback,
    /// region, profile), then builds the discovery clients with the same settings.
    pub async fn connect(target: &AwsTarget) -> anyhow::Result<Sdk> {
        let clients = Clients::connect(target).await?;
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(target.region.clone()))
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .operation_timeout(target.timeout())
                    .build(),
            );
        if let Some(p) = &target.profile {
            loader = loader.profile_name(p).credentials_provider(
                aws_config::profile::ProfileFileCredentialsProvider::builder()
                    .profile_name(p)
                    .build(),
            );
        }
        if let Some(url) = &target.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let c = loader.load().await;
        Ok(Sdk::from_sdk_config(&c, clients))
    }

    /// The discovery clients from an SDK config, with the engine's `clients` for the same target.
    pub fn from_sdk_config(c: &aws_config::SdkConfig, clients: Clients) -> Sdk {
        Sdk {
            clients,
            ec2: aws_sdk_ec2::Client::new(c),
            rds: aws_sdk_rds::Client::new(c),
            lambda: aws_sdk_lambda::Client::new(c),
            iam: aws_sdk_iam::Client::new(c),
            secrets: aws_sdk_secretsmanager::Client::new(c),
            logs: aws_sdk_cloudwatchlogs::Client::new(c),
            sts: aws_sdk_sts::Client::new(c),
        }
    }
}

/// Where discovery starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Anchors {
    /// `DBInstanceIdentifier`.
    pub db: Option<String>,
    /// Instance id of the admin host.
    pub instance: Option<String>,
    /// Function name (or ARN) of the API.
    pub function: Option<String>,
    /// VPC id.
    pub vpc: Option<String>,
    /// The credentials' secret the config already names (`database.secret_name`): looked up
    /// first, so a re-run finds the secret an earlier run created.
    pub secret: Option<String>,
}

/// An SDK error as the engine words every AWS failure ([`describe`]): one sentence naming the
/// call, with the fix (unreachable endpoint, credentials, timeout, the service's own message).
fn aws_err<E, R>(sdk: &Sdk, what: &str, e: SdkError<E, R>) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    describe(what, &e, &sdk.clients).into()
}

fn is_not_found<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.code().is_some_and(|c| {
        c.contains("NotFound") || c == "NoSuchEntity" || c.starts_with("InvalidParameterValue")
    })
}

/// The VPC.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveVpc {
    /// `vpc-...`.
    pub id: String,
    /// Its IPv4 CIDR.
    pub cidr: String,
    /// `enableDnsSupport`.
    pub dns_support: bool,
    /// `enableDnsHostnames`.
    pub dns_hostnames: bool,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
}

/// A subnet of the VPC.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveSubnet {
    /// `subnet-...`.
    pub id: String,
    /// Its CIDR.
    pub cidr: String,
    /// Its Availability Zone.
    pub az: String,
    /// Public: its route table routes 0.0.0.0/0 to an internet gateway.
    pub public: bool,
    /// `MapPublicIpOnLaunch`.
    pub map_public_ip: bool,
    /// Its route table (explicitly associated, else the VPC's main one).
    pub route_table: Option<String>,
    /// The explicit association's id (`rtbassoc-...`); `None` when it uses the main table.
    pub association: Option<String>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
}

/// A route table's default route.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveRouteTable {
    /// `rtb-...`.
    pub id: String,
    /// The VPC's main table.
    pub main: bool,
    /// The 0.0.0.0/0 route's internet gateway, if any.
    pub default_igw: Option<String>,
    /// The 0.0.0.0/0 route's NAT gateway, if any.
    pub default_nat: Option<String>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
}

/// A NAT gateway and its Elastic IP.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveNat {
    /// `nat-...`.
    pub id: String,
    /// The public subnet it sits in.
    pub subnet: String,
    /// The EIP's allocation id.
    pub allocation_id: Option<String>,
    /// The EIP's address.
    pub public_ip: Option<String>,
    /// The NAT gateway's tags.
    pub tags: BTreeMap<String, String>,
    /// The EIP's tags.
    pub eip_tags: BTreeMap<String, String>,
}

/// One rule of a security group, in CloudFormation's shape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveRule {
    /// `sgr-...`.
    pub id: String,
    /// Egress (else ingress).
    pub egress: bool,
    /// `tcp`, `-1`, ...
    pub protocol: String,
    /// From port (`None` for all).
    pub from_port: Option<i32>,
    /// To port.
    pub to_port: Option<i32>,
    /// An IPv4 range.
    pub cidr: Option<String>,
    /// The other group.
    pub peer_group: Option<String>,
    /// Its description.
    pub description: Option<String>,
}

/// A security group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveSecurityGroup {
    /// `sg-...`.
    pub id: String,
    /// `GroupName`.
    pub name: String,
    /// `GroupDescription`.
    pub description: String,
    /// Its rules.
    pub rules: Vec<LiveRule>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
}

/// The RDS instance and its groups.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveDb {
    /// `DBInstanceIdentifier`.
    pub identifier: String,
    /// Its ARN.
    pub arn: String,
    /// The endpoint address.
    pub address: String,
    /// The endpoint port.
    pub port: i32,
    /// The database properties in CloudFormation's shape (what the preview compares).
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// The security groups.
    pub security_groups: Vec<String>,
    /// The subnet group's name.
    pub subnet_group: String,
    /// The subnet group's description.
    pub subnet_group_description: String,
    /// The subnet group's subnets.
    pub subnet_group_subnets: Vec<String>,
    /// The subnet group's VPC.
    pub vpc: Option<String>,
    /// The parameter group (the first, in-sync one).
    pub parameter_group: Option<LiveParameterGroup>,
    /// An RDS-managed master secret's ARN (`ManageMasterUserPassword`).
    pub managed_secret: Option<String>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
}

/// A DB parameter group and its user-set parameters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveParameterGroup {
    /// Its name.
    pub name: String,
    /// Its family (`postgres17`).
    pub family: String,
    /// Its description.
    pub description: String,
    /// Parameters with `Source = user`.
    pub parameters: BTreeMap<String, String>,
}

/// The credentials' secret (described only).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveSecret {
    /// Its ARN (what `Ref` returns).
    pub arn: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
}

/// An IAM role.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveRole {
    /// `RoleName`.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// `RoleId`.
    pub id: String,
    /// Its path.
    pub path: String,
    /// Its description.
    pub description: Option<String>,
    /// The trust policy (decoded).
    pub assume_role_policy: Option<serde_json::Value>,
    /// Attached managed policies' ARNs.
    pub managed_policies: Vec<String>,
    /// Inline policies: name -> document.
    pub inline_policies: BTreeMap<String, serde_json::Value>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
}

/// The Lambda function and what hangs off it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveFunction {
    /// `FunctionName`.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// The function's properties in CloudFormation's shape.
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// The role's ARN.
    pub role_arn: String,
    /// Its VPC, subnets and security groups.
    pub vpc: Option<String>,
    /// Its subnets.
    pub subnets: Vec<String>,
    /// Its security groups.
    pub security_groups: Vec<String>,
    /// `DB_SECRET_NAME` from its environment.
    pub secret_env: Option<String>,
    /// The log group it writes to.
    pub log_group: String,
    /// Its Function URL: (auth type, URL).
    pub url: Option<(String, String)>,
    /// Its resource policy's statements.
    pub permissions: Vec<serde_json::Value>,
}

/// The admin instance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveInstance {
    /// `i-...`.
    pub id: String,
    /// Its properties in CloudFormation's shape.
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// `ImageId`.
    pub image_id: String,
    /// `InstanceType`.
    pub instance_type: String,
    /// Its subnet.
    pub subnet: String,
    /// Its VPC.
    pub vpc: Option<String>,
    /// Its security groups.
    pub security_groups: Vec<String>,
    /// The instance profile's name.
    pub profile: Option<String>,
    /// The profile's ARN.
    pub profile_arn: Option<String>,
    /// The profile's role.
    pub role: Option<LiveRole>,
}

/// What discovery found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveSystem {
    /// The account the calls ran in.
    pub account: Option<String>,
    /// The region's zones, by name.
    pub azs: Vec<String>,
    /// The VPC.
    pub vpc: Option<LiveVpc>,
    /// Its subnets.
    pub subnets: Vec<LiveSubnet>,
    /// Its route tables.
    pub route_tables: Vec<LiveRouteTable>,
    /// Its internet gateway.
    pub igw: Option<(String, BTreeMap<String, String>)>,
    /// Its NAT gateways (available ones).
    pub nats: Vec<LiveNat>,
    /// The security groups of the anchors.
    pub security_groups: Vec<LiveSecurityGroup>,
    /// The database.
    pub db: Option<LiveDb>,
    /// The credentials' secret.
    pub secret: Option<LiveSecret>,
    /// The function.
    pub function: Option<LiveFunction>,
    /// The function's role.
    pub function_role: Option<LiveRole>,
    /// The admin instance.
    pub instance: Option<LiveInstance>,
    /// Log groups that exist, among those the stack names.
    pub log_groups: Vec<String>,
    /// Their retention in days (absent: never expire).
    pub log_retention: BTreeMap<String, i32>,
}

impl LiveSystem {
    /// A security group by id.
    pub fn group(&self, id: &str) -> Option<&LiveSecurityGroup> {
        self.security_groups.iter().find(|g| g.id == id)
    }
}

fn ec2_tags(tags: &[aws_sdk_ec2::types::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// Decodes an IAM policy document (URL-encoded JSON in GetRole/GetRolePolicy answers).
fn policy_document(text: &str) -> Option<serde_json::Value> {
    serde_json::from_str(text)
        .ok()
        .or_else(|| serde_json::from_str(&percent_decode(text)).ok())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Runs discovery from the anchors.
pub async fn discover(sdk: &Sdk, anchors: &Anchors) -> anyhow::Result<LiveSystem> {
    let mut live = LiveSystem {
        account: sdk
            .sts
            .get_caller_identity()
            .send()
            .await
            .ok()
            .and_then(|r| r.account().map(str::to_owned)),
        ..LiveSystem::default()
    };
    let azs = sdk
        .ec2
        .describe_availability_zones()
        .send()
        .await
        .map_err(|e| aws_err(sdk, "describe availability zones", e))?;
    let mut names: Vec<String> = azs
        .availability_zones()
        .iter()
        .filter(|z| z.zone_type().is_none_or(|t| t == "availability-zone"))
        .filter_map(|z| z.zone_name().map(str::to_owned))
        .collect();
    names.sort();
    live.azs = names;

    if let Some(id) = &anchors.db {
        live.db = Some(db(sdk, id).await?);
    }
    if let Some(name) = &anchors.function {
        let (f, role) = function(sdk, name).await?;
        live.function = Some(f);
        live.function_role = role;
    }
    if let Some(id) = &anchors.instance {
        live.instance = Some(instance(sdk, id).await?);
    }
    // The VPC: given, else the anchors' (which must agree).
    let mut vpcs: Vec<(&str, String)> = Vec::new();
    if let Some(v) = &anchors.vpc {
        vpcs.push(("--from-vpc", v.clone()));
    }
    if let Some(v) = live.db.as_ref().and_then(|d| d.vpc.clone()) {
        vpcs.push(("the database's subnet group", v));
    }
    if let Some(v) = live.function.as_ref().and_then(|f| f.vpc.clone()) {
        vpcs.push(("the function", v));
    }
    if let Some(v) = live.instance.as_ref().and_then(|i| i.vpc.clone()) {
        vpcs.push(("the instance", v));
    }
    if let Some((first_from, first)) = vpcs.first() {
        if let Some((from, other)) = vpcs.iter().find(|(_, v)| v != first) {
            anyhow::bail!(
                "the anchors are in different VPCs: {first} ({first_from}) and {other} ({from}); one stack owns one VPC"
            );
        }
        network(sdk, first, &mut live).await?;
    }
    // The security groups of every anchor.
    let mut groups: Vec<String> = Vec::new();
    for g in live
        .db
        .iter()
        .flat_map(|d| d.security_groups.iter())
        .chain(live.function.iter().flat_map(|f| f.security_groups.iter()))
        .chain(live.instance.iter().flat_map(|i| i.security_groups.iter()))
    {
        if !groups.contains(g) {
            groups.push(g.clone());
        }
    }
    if !groups.is_empty() {
        live.security_groups = security_groups(sdk, &groups).await?;
    }
    // The secret: the function's DB_SECRET_NAME, else the RDS-managed one.
    let from_env = live.function.as_ref().and_then(|f| f.secret_env.clone());
    let managed = live.db.as_ref().and_then(|d| d.managed_secret.clone());
    if let Some(id) = &anchors.secret {
        // The config's: it may not exist yet (created by the import), so absence is no error.
        match sdk.secrets.describe_secret().secret_id(id).send().await {
            Ok(_) => live.secret = Some(secret(sdk, id).await?),
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(aws_err(sdk, &format!("describe secret {id}"), e)),
        }
    }
    if live.secret.is_none()
        && let Some(id) = from_env.or(managed)
    {
        live.secret = Some(secret(sdk, &id).await?);
    }
    // Log groups the stack would create, if they already exist.
    let mut wanted: Vec<String> = Vec::new();
    if let Some(f) = &live.function {
        wanted.push(f.log_group.clone());
    }
    if let Some(d) = &live.db {
        for kind in ["postgresql", "upgrade"] {
            wanted.push(format!("/aws/rds/instance/{}/{kind}", d.identifier));
        }
    }
    for name in wanted {
        let r = sdk
            .logs
            .describe_log_groups()
            .log_group_name_prefix(&name)
            .send()
            .await
            .map_err(|e| aws_err(sdk, &format!("describe log group {name}"), e))?;
        if let Some(g) = r
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(name.as_str()))
        {
            if let Some(days) = g.retention_in_days() {
                live.log_retention.insert(name.clone(), days);
            }
            live.log_groups.push(name);
        }
    }
    Ok(live)
}

async fn db(sdk: &Sdk, id: &str) -> anyhow::Result<LiveDb> {
    use serde_json::json;
    let r = sdk
        .rds
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
        .map_err(|e| aws_err(sdk, &format!("describe DB instance {id}"), e))?;
    let d = r
        .db_instances()
        .first()
        .ok_or_else(|| anyhow!("no DB instance {id}"))?;
    let mut p = serde_json::Map::new();
    // A property read and absent is kept as null: the preview then reports a template that
    // sets it as a difference, and skips it when the template does not either.
    let mut put = |k: &str, v: serde_json::Value| {
        p.insert(k.to_owned(), v);
    };
    put("DBInstanceIdentifier", json!(d.db_instance_identifier()));
    put("DBInstanceClass", json!(d.db_instance_class()));
    put("Engine", json!(d.engine()));
    put("EngineVersion", json!(d.engine_version()));
    put(
        "AllocatedStorage",
        json!(d.allocated_storage().map(|n| n.to_string())),
    );
    put("MaxAllocatedStorage", json!(d.max_allocated_storage()));
    put("StorageType", json!(d.storage_type()));
    put("StorageEncrypted", json!(d.storage_encrypted()));
    put("MultiAZ", json!(d.multi_az()));
    put("BackupRetentionPeriod", json!(d.backup_retention_period()));
    put("DeletionProtection", json!(d.deletion_protection()));
    put("DBName", json!(d.db_name()));
    put("MasterUsername", json!(d.master_username()));
    put("PubliclyAccessible", json!(d.publicly_accessible()));
    put(
        "AutoMinorVersionUpgrade",
        json!(d.auto_minor_version_upgrade()),
    );
    put("CopyTagsToSnapshot", json!(d.copy_tags_to_snapshot()));
    if d.multi_az() != Some(true) {
        put("AvailabilityZone", json!(d.availability_zone()));
    }
    let endpoint = d.endpoint();
    let port = endpoint
        .and_then(|e| e.port())
        .or(d.db_instance_port())
        .unwrap_or(5432);
    put("Port", json!(port.to_string()));
    put(
        "EnableCloudwatchLogsExports",
        json!(d.enabled_cloudwatch_logs_exports()),
    );
    let groups: Vec<String> = d
        .vpc_security_groups()
        .iter()
        .filter_map(|g| g.vpc_security_group_id().map(str::to_owned))
        .collect();
    put("VPCSecurityGroups", json!(groups));
    let sg = d.db_subnet_group();
    let subnet_group = sg
        .and_then(|g| g.db_subnet_group_name())
        .unwrap_or_default()
        .to_owned();
    put("DBSubnetGroupName", json!(subnet_group));
    let parameter_group_name = d
        .db_parameter_groups()
        .first()
        .and_then(|g| g.db_parameter_group_name())
        .map(str::to_owned);
    if let Some(n) = &parameter_group_name {
        put("DBParameterGroupName", json!(n));
    }
    let tags: BTreeMap<String, String> = d
        .tag_list()
        .iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect();
    let parameter_group = match parameter_group_name {
        Some(name) if !name.starts_with("default.") => Some(parameter_group(sdk, &name).await?),
        _ => None,
    };
    Ok(LiveDb {
        identifier: d.db_instance_identifier().unwrap_or(id).to_owned(),
        arn: d.db_instance_arn().unwrap_or_default().to_owned(),
        address: endpoint
            .and_then(|e| e.address())
            .unwrap_or_default()
            .to_owned(),
        port,
        properties: p,
        security_groups: groups,
        subnet_group_description: sg
            .and_then(|g| g.db_subnet_group_description())
            .unwrap_or_default()
            .to_owned(),
        subnet_group_subnets: sg
            .map(|g| {
                g.subnets()
                    .iter()
                    .filter_map(|s| s.subnet_identifier().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        vpc: sg.and_then(|g| g.vpc_id()).map(str::to_owned),
        subnet_group,
        parameter_group,
        managed_secret: d
            .master_user_secret()
            .and_then(|s| s.secret_arn())
            .map(str::to_owned),
        tags,
    })
}

async fn parameter_group(sdk: &Sdk, name: &str) -> anyhow::Result<LiveParameterGroup> {
    let r = sdk
        .rds
        .describe_db_parameter_groups()
        .db_parameter_group_name(name)
        .send()
        .await
        .map_err(|e| aws_err(sdk, &format!("describe DB parameter group {name}"), e))?;
    let g = r
        .db_parameter_groups()
        .first()
        .ok_or_else(|| anyhow!("no DB parameter group {name}"))?;
    let mut parameters = BTreeMap::new();
    let mut marker: Option<String> = None;
    loop {
        let page = sdk
            .rds
            .describe_db_parameters()
            .db_parameter_group_name(name)
            .source("user")
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|e| aws_err(sdk, &format!("describe the parameters of {name}"), e))?;
        for p in page.parameters() {
            if let (Some(k), Some(v)) = (p.parameter_name(), p.parameter_value()) {
                parameters.insert(k.to_owned(), v.to_owned());
            }
        }
        marker = page.marker().map(str::to_owned);
        if marker.is_none() {
            break;
        }
    }
    Ok(LiveParameterGroup {
        name: name.to_owned(),
        family: g.db_parameter_group_family().unwrap_or_default().to_owned(),
        description: g.description().unwrap_or_default().to_owned(),
        parameters,
    })
}

async fn role(sdk: &Sdk, name: &str) -> anyhow::Result<LiveRole> {
    let r = sdk
        .iam
        .get_role()
        .role_name(name)
        .send()
        .await
        .map_err(|e| aws_err(sdk, &format!("get role {name}"), e))?;
    let role = r.role().ok_or_else(|| anyhow!("no role {name}"))?;
    let attached = sdk
        .iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| aws_err(sdk, &format!("list the policies of role {name}"), e))?;
    let inline = sdk
        .iam
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| aws_err(sdk, &format!("list the inline policies of role {name}"), e))?;
    let mut inline_policies = BTreeMap::new();
    for p in inline.policy_names() {
        let doc = sdk
            .iam
            .get_role_policy()
            .role_name(name)
            .policy_name(p)
            .send()
            .await
            .map_err(|e| aws_err(sdk, &format!("get policy {p} of role {name}"), e))?;
        if let Some(d) = policy_document(doc.policy_document()) {
            inline_policies.insert(p.clone(), d);
        }
    }
    Ok(LiveRole {
        name: role.role_name().to_owned(),
        arn: role.arn().to_owned(),
        id: role.role_id().to_owned(),
        path: role.path().to_owned(),
        description: role.description().map(str::to_owned),
        assume_role_policy: role.assume_role_policy_document().and_then(policy_document),
        managed_policies: attached
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn().map(str::to_owned))
            .collect(),
        inline_policies,
        tags: role
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect(),
    })
}

/// The role name of a role ARN (`arn:aws:iam::1:role/path/name` -> `name`).
pub fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

async fn function(sdk: &Sdk, name: &str) -> anyhow::Result<(LiveFunction, Option<LiveRole>)> {
    use serde_json::json;
    let r = sdk
        .lambda
        .get_function()
        .function_name(name)
        .send()
        .await
        .map_err(|e| aws_err(sdk, &format!("get function {name}"), e))?;
    let c = r
        .configuration()
        .ok_or_else(|| anyhow!("function {name} has no configuration"))?;
    let fname = c.function_name().unwrap_or(name).to_owned();
    let mut p = serde_json::Map::new();
    // A property read and absent is kept as null: the preview then reports a template that
    // sets it as a difference, and skips it when the template does not either.
    let mut put = |k: &str, v: serde_json::Value| {
        p.insert(k.to_owned(), v);
    };
    put("FunctionName", json!(fname));
    put("PackageType", json!(c.package_type().map(|t| t.as_str())));
    put("MemorySize", json!(c.memory_size()));
    put("Timeout", json!(c.timeout()));
    put(
        "Description",
        json!(c.description().filter(|d| !d.is_empty())),
    );
    put("Role", json!(c.role()));
    let arch: Vec<&str> = c.architectures().iter().map(|a| a.as_str()).collect();
    if !arch.is_empty() {
        put("Architectures", json!(arch));
    }
    if let Some(uri) = r.code().and_then(|c| c.image_uri()) {
        put("Code", json!({"ImageUri": uri}));
    }
    if let Some(runtime) = c.runtime() {
        put("Runtime", json!(runtime.as_str()));
    }
    put("Handler", json!(c.handler()));
    let vars = c.environment().and_then(|e| e.variables());
    if let Some(v) = vars.filter(|v| !v.is_empty()) {
        put("Environment", json!({"Variables": v}));
    }
    let vpc = c.vpc_config();
    let subnets: Vec<String> = vpc.map(|v| v.subnet_ids().to_vec()).unwrap_or_default();
    let groups: Vec<String> = vpc
        .map(|v| v.security_group_ids().to_vec())
        .unwrap_or_default();
    if !subnets.is_empty() {
        put(
            "VpcConfig",
            json!({"SubnetIds": subnets, "SecurityGroupIds": groups}),
        );
    }
    put(
        "ReservedConcurrentExecutions",
        json!(
            r.concurrency()
                .and_then(|c| c.reserved_concurrent_executions())
        ),
    );
    let log_group = c
        .logging_config()
        .and_then(|l| l.log_group())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("/aws/lambda/{fname}"));
    put("LoggingConfig", json!({"LogGroup": log_group}));
    let url = match sdk
        .lambda
        .get_function_url_config()
        .function_name(&fname)
        .send()
        .await
    {
        Ok(u) => Some((
            u.auth_type().as_str().to_owned(),
            u.function_url().to_owned(),
        )),
        Err(e) if is_not_found(&e) => None,
        Err(e) => return Err(aws_err(sdk, &format!("get the URL of function {fname}"), e)),
    };
    let permissions = match sdk.lambda.get_policy().function_name(&fname).send().await {
        Ok(p) => p
            .policy()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
            .and_then(|d| d.get("Statement").and_then(|s| s.as_array()).cloned())
            .unwrap_or_default(),
        Err(e) if is_not_found(&e) => Vec::new(),
        Err(e) => {
            return Err(aws_err(
                sdk,
                &format!("get the policy of function {fname}"),
                e,
            ));
        }
    };
    // The VPC from the subnets themselves (authoritative; the emulator's VpcConfig.VpcId is
    // not), else the configuration's.
    let mut vpc_id = vpc
        .and_then(|v| v.vpc_id())
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    if !subnets.is_empty() {
        let r = sdk
            .ec2
            .describe_subnets()
            .set_subnet_ids(Some(subnets.clone()))
            .send()
            .await
            .map_err(|e| aws_err(sdk, &format!("describe the subnets of function {fname}"), e))?;
        if let Some(v) = r.subnets().first().and_then(|s| s.vpc_id()) {
            vpc_id = Some(v.to_owned());
        }
    }
    let role_arn = c.role().unwrap_or_default().to_owned();
    let role = if role_arn.is_empty() {
        None
    } else {
        Some(role(sdk, role_name(&role_arn)).await?)
    };
    Ok((
        LiveFunction {
            arn: c.function_arn().unwrap_or_default().to_owned(),
            properties: p,
            role_arn,
            vpc: vpc_id,
            subnets,
            security_groups: groups,
            secret_env: vars.and_then(|v| v.get("DB_SECRET_NAME")).cloned(),
            log_group,
            url,
            permissions,
            name: fname,
        },
        role,
    ))
}

async fn instance(sdk: &Sdk, id: &str) -> anyhow::Result<LiveInstance> {
    use serde_json::json;
    let r = sdk
        .ec2
        .describe_instances()
        .instance_ids(id)
        .send()
        .await
        .map_err(|e| aws_err(sdk, &format!("describe instance {id}"), e))?;
    let i = r
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .next()
        .ok_or_else(|| anyhow!("no instance {id}"))?;
    let groups: Vec<String> = i
        .security_groups()
        .iter()
        .filter_map(|g| g.group_id().map(str::to_owned))
        .collect();
    let mut p = serde_json::Map::new();
    let image_id = i.image_id().unwrap_or_default().to_owned();
    let instance_type = i
        .instance_type()
        .map(|t| t.as_str().to_owned())
        .unwrap_or_default();
    let subnet = i.subnet_id().unwrap_or_default().to_owned();
    p.insert("ImageId".into(), json!(image_id));
    p.insert("InstanceType".into(), json!(instance_type));
    p.insert("SubnetId".into(), json!(subnet));
    p.insert("SecurityGroupIds".into(), json!(groups));
    if let Some(e) = i.ebs_optimized() {
        p.insert("EbsOptimized".into(), json!(e));
    }
    if let Some(m) = i.metadata_options() {
        let mut mo = serde_json::Map::new();
        if let Some(t) = m.http_tokens() {
            mo.insert("HttpTokens".into(), json!(t.as_str()));
        }
        if let Some(e) = m.http_endpoint() {
            mo.insert("HttpEndpoint".into(), json!(e.as_str()));
        }
        if let Some(h) = m.http_put_response_hop_limit() {
            mo.insert("HttpPutResponseHopLimit".into(), json!(h));
        }
        if !mo.is_empty() {
            p.insert("MetadataOptions".into(), serde_json::Value::Object(mo));
        }
    }
    let profile_arn = i
        .iam_instance_profile()
        .and_then(|p| p.arn())
        .map(str::to_owned);
    let (profile, role) = match &profile_arn {
        Some(arn) => {
            let name = role_name(arn).to_owned();
            let r = sdk
                .iam
                .get_instance_profile()
                .instance_profile_name(&name)
                .send()
                .await
                .map_err(|e| aws_err(sdk, &format!("get instance profile {name}"), e))?;
            let role_name = r
                .instance_profile()
                .and_then(|p| p.roles().first())
                .map(|r| r.role_name().to_owned());
            let role = match role_name {
                Some(n) => Some(role(sdk, &n).await?),
                None => None,
            };
            (Some(name), role)
        }
        None => (None, None),
    };
    if let Some(name) = &profile {
        p.insert("IamInstanceProfile".into(), json!(name));
    }
    Ok(LiveInstance {
        id: i.instance_id().unwrap_or(id).to_owned(),
        properties: p,
        image_id,
        instance_type,
        subnet,
        vpc: i.vpc_id().map(str::to_owned),
        security_groups: groups,
        profile,
        profile_arn,
        role,
    })
}

async fn secret(sdk: &Sdk, id: &str) -> anyhow::Result<LiveSecret> {
    let s = sdk
        .secrets
        .describe_secret()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| aws_err(sdk, &format!("describe secret {id}"), e))?;
    Ok(LiveSecret {
        arn: s.arn().unwrap_or_default().to_owned(),
        name: s.name().unwrap_or_default().to_owned(),
        description: s.description().filter(|d| !d.is_empty()).map(str::to_owned),
        tags: s
            .tags()
            .iter()
            .filter_map(|t| {
                Some((
                    t.key()?.to_owned(),
                    t.value().unwrap_or_default().to_owned(),
                ))
            })
            .collect(),
    })
}

async fn network(sdk: &Sdk, vpc_id: &str, live: &mut LiveSystem) -> anyhow::Result<()> {
    let ec2 = &sdk.ec2;
    let v = ec2
        .describe_vpcs()
        .vpc_ids(vpc_id)
        .send()
        .await
        .map_err(|e| aws_err(sdk, &format!("describe VPC {vpc_id}"), e))?;
    let vpc = v.vpcs().first().ok_or_else(|| anyhow!("no VPC {vpc_id}"))?;
    let attr = |a: aws_sdk_ec2::types::VpcAttributeName| {
        ec2.describe_vpc_attribute()
            .vpc_id(vpc_id)
            .attribute(a)
            .send()
    };
    let support = attr(aws_sdk_ec2::types::VpcAttributeName::EnableDnsSupport)
        .await
        .map_err(|e| aws_err(sdk, "describe the VPC's DNS support", e))?;
    let hostnames = attr(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames)
        .await
        .map_err(|e| aws_err(sdk, "describe the VPC's DNS host names", e))?;
    live.vpc = Some(LiveVpc {
        id: vpc_id.to_owned(),
        cidr: vpc.cidr_block().unwrap_or_default().to_owned(),
        dns_support: support
            .enable_dns_support()
            .and_then(|a| a.value())
            .unwrap_or(true),
        dns_hostnames: hostnames
            .enable_dns_hostnames()
            .and_then(|a| a.value())
            .unwrap_or(false),
        tags: ec2_tags(vpc.tags()),
    });
    let igws = ec2
        .describe_internet_gateways()
        .filters(filter("attachment.vpc-id", vpc_id))
        .send()
        .await
        .map_err(|e| aws_err(sdk, "describe the internet gateways", e))?;
    live.igw = igws.internet_gateways().first().map(|g| {
        (
            g.internet_gateway_id().unwrap_or_default().to_owned(),
            ec2_tags(g.tags()),
        )
    });
    let rts = ec2
        .describe_route_tables()
        .filters(filter("vpc-id", vpc_id))
        .send()
        .await
        .map_err(|e| aws_err(sdk, "describe the route tables", e))?;
    let mut explicit: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut main_table = None;
    for t in rts.route_tables() {
        let id = t.route_table_id().unwrap_or_default().to_owned();
        let default = t
            .routes()
            .iter()
            .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"));
        let main = t.associations().iter().any(|a| a.main() == Some(true));
        if main {
            main_table = Some(id.clone());
        }
        for a in t.associations() {
            if let (Some(s), Some(aid)) = (a.subnet_id(), a.route_table_association_id()) {
                explicit.insert(s.to_owned(), (id.clone(), aid.to_owned()));
            }
        }
        live.route_tables.push(LiveRouteTable {
            id,
            main,
            default_igw: default
                .and_then(|r| r.gateway_id())
                .filter(|g| g.starts_with("igw-"))
                .map(str::to_owned),
            default_nat: default.and_then(|r| r.nat_gateway_id()).map(str::to_owned),
            tags: ec2_tags(t.tags()),
        });
    }
    let subnets = ec2
        .describe_subnets()
        .filters(filter("vpc-id", vpc_id))
        .send()
        .await
        .map_err(|e| aws_err(sdk, "describe the subnets", e))?;
    for s in subnets.subnets() {
        let id = s.subnet_id().unwrap_or_default().to_owned();
        let (route_table, association) = match explicit.get(&id) {
            Some((t, a)) => (Some(t.clone()), Some(a.clone())),
            None => (main_table.clone(), None),
        };
        let public = route_table
            .as_ref()
            .and_then(|t| live.route_tables.iter().find(|r| &r.id == t))
            .is_some_and(|t| t.default_igw.is_some());
        live.subnets.push(LiveSubnet {
            id,
            cidr: s.cidr_block().unwrap_or_default().to_owned(),
            az: s.availability_zone().unwrap_or_default().to_owned(),
            public,
            map_public_ip: s.map_public_ip_on_launch().unwrap_or(false),
            route_table,
            association,
            tags: ec2_tags(s.tags()),
        });
    }
    live.subnets
        .sort_by(|a, b| (&a.az, &a.cidr).cmp(&(&b.az, &b.cidr)));
    let nats = ec2
        .describe_nat_gateways()
        .filter(filter("vpc-id", vpc_id))
        .send()
        .await
        .map_err(|e| aws_err(sdk, "describe the NAT gateways", e))?;
    for n in nats.nat_gateways() {
        let state = n.state().map(|s| s.as_str()).unwrap_or("available");
        if state != "available" && state != "pending" {
            continue;
        }
        let address = n.nat_gateway_addresses().first();
        let allocation_id = address.and_then(|a| a.allocation_id()).map(str::to_owned);
        let mut eip_tags = BTreeMap::new();
        if let Some(a) = &allocation_id {
            let r = ec2
                .describe_addresses()
                .allocation_ids(a)
                .send()
                .await
                .map_err(|e| aws_err(sdk, &format!("describe address {a}"), e))?;
            if let Some(addr) = r.addresses().first() {
                eip_tags = ec2_tags(addr.tags());
            }
        }
        live.nats.push(LiveNat {
            id: n.nat_gateway_id().unwrap_or_default().to_owned(),
            subnet: n.subnet_id().unwrap_or_default().to_owned(),
            public_ip: address.and_then(|a| a.public_ip()).map(str::to_owned),
            allocation_id,
            tags: ec2_tags(n.tags()),
            eip_tags,
        });
    }
    Ok(())
}

async fn security_groups(sdk: &Sdk, ids: &[String]) -> anyhow::Result<Vec<LiveSecurityGroup>> {
    let r = sdk
        .ec2
        .describe_security_groups()
        .set_group_ids(Some(ids.to_vec()))
        .send()
        .await
        .map_err(|e| aws_err(sdk, "describe the security groups", e))
        .context("discovery")?;
    let mut out = Vec::new();
    for id in ids {
        let Some(g) = r
            .security_groups()
            .iter()
            .find(|g| g.group_id() == Some(id))
        else {
            continue;
        };
        let rules = sdk
            .ec2
            .describe_security_group_rules()
            .filters(filter("group-id", id))
            .send()
            .await
            .map_err(|e| aws_err(sdk, &format!("describe the rules of {id}"), e))?;
        let rules = rules
            .security_group_rules()
            .iter()
            .map(|r| LiveRule {
                id: r.security_group_rule_id().unwrap_or_default().to_owned(),
                egress: r.is_egress().unwrap_or(false),
                protocol: r.ip_protocol().unwrap_or("-1").to_owned(),
                from_port: r.from_port().filter(|p| *p != -1),
                to_port: r.to_port().filter(|p| *p != -1),
                cidr: r.cidr_ipv4().map(str::to_owned),
                peer_group: r
                    .referenced_group_info()
                    .and_then(|g| g.group_id())
                    .map(str::to_owned),
                description: r.description().filter(|d| !d.is_empty()).map(str::to_owned),
            })
            .collect();
        out.push(LiveSecurityGroup {
            id: id.clone(),
            name: g.group_name().unwrap_or_default().to_owned(),
            description: g.description().unwrap_or_default().to_owned(),
            rules,
            tags: ec2_tags(g.tags()),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_documents_decode_url_encoded_json() {
        let doc = policy_document("%7B%22Version%22%3A%222012-10-17%22%7D").expect("decoded");
        assert_eq!(doc, serde_json::json!({"Version": "2012-10-17"}));
        assert_eq!(
            role_name("arn:aws:iam::1:role/svc/snowex-api"),
            "snowex-api"
        );
    }
}
