//! SnowEx's part of a stage table: the network, database, Lambda and bastion sections, with
//! their defaults (taken from the L2 constructs' props where they are the same) and the checks
//! that name the stage and key. Ranges and shapes are the constructs' own (`validate` on their
//! props, which reports the props field); this module maps each field to its config key and
//! adds only what is SnowEx's: which code sources the config offers, at least two AZs for the
//! database, the region's zone count and the account a protected stage must name.

use std::path::PathBuf;

use serde::Deserialize;
use snowcdk_constructs::Value;
use snowcdk_constructs::l2::{
    AdoptedFunction, AdoptedHost, AdoptedNames, Architecture, FunctionUrlAuth, LambdaCode,
    PostgresRdsProps, SsmBastionProps, VpcLambdaProps, VpcProps, postgres_rds, staging_bucket,
    vpc_lambda,
};

use crate::config::{SettingError, Settings, StageConfig};
use crate::regions;

/// The SnowEx sections of one stage.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnowexSettings {
    /// The network tier.
    #[serde(default)]
    pub network: NetworkConfig,
    /// The PostgreSQL database (required: at least its instance class).
    pub database: DatabaseConfig,
    /// The Lambda API (required: at least where its code comes from).
    pub lambda: LambdaConfig,
    /// The SSM admin host.
    #[serde(default)]
    pub bastion: BastionConfig,
}

impl Settings for SnowexSettings {
    fn validate(&self, stage: &StageConfig) -> Result<(), SettingError> {
        if self.database.deletion_protection && stage.account.is_none() {
            return Err(SettingError::new(
                "account",
                "missing: the stage has database.deletion_protection = true, so it is a stage to protect; set account = \"<12-digit id>\" so deploy refuses any other account",
            ));
        }
        self.network.validate(&stage.region)?;
        self.database.validate()?;
        self.lambda.validate(&stage.region)?;
        self.bastion.validate()
    }

    fn source_paths(&self) -> Vec<PathBuf> {
        self.lambda.code_path.iter().cloned().collect()
    }

    /// A stage whose database has deletion protection is a stage to protect: its stack gets
    /// termination protection too.
    fn termination_protection(&self) -> bool {
        self.protected()
    }
}

/// Connections the reserved concurrency leaves free below the database's limit: for the
/// bastion's admin sessions (`psql` through the tunnel), migrations and RDS's own monitoring.
pub const ADMIN_CONNECTIONS: u32 = 10;

impl SnowexSettings {
    /// A stage to protect: its database has deletion protection (SnowEx's prod). Such a stage
    /// also keeps its DB secret and its logs when the stack is deleted, gets termination
    /// protection and caps the API's concurrency by default.
    pub fn protected(&self) -> bool {
        self.database.deletion_protection
    }

    /// Whether each AZ gets its own NAT gateway: `network.nat_per_az`, else whether the
    /// database is Multi-AZ.
    pub fn nat_per_az(&self) -> bool {
        self.network.nat_per_az.unwrap_or(self.database.multi_az)
    }

    /// The API's reserved concurrency: `lambda.reserved_concurrency` when set; in a protected
    /// stage otherwise the database's estimated connection limit for its class
    /// (`postgres_rds::default_max_connections`) less [`ADMIN_CONNECTIONS`], because the
    /// function is public (anyone can call it without credentials) and each running copy holds
    /// a connection: unbounded, callers could take every connection and lock the
    /// administrators out too. `None` (unreserved) in other stages, where the checkov
    /// suppression says why, and for a class the estimate does not know.
    pub fn reserved_concurrency(&self) -> Option<u32> {
        if let Some(n) = self.lambda.reserved_concurrency {
            return Some(n);
        }
        if !self.protected() {
            return None;
        }
        postgres_rds::default_max_connections(&self.database.instance_class)
            .map(|limit| limit.saturating_sub(ADMIN_CONNECTIONS).max(1))
    }
}

/// The VPC and its subnets.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// The VPC's IPv4 CIDR block.
    #[serde(default = "default_cidr")]
    pub vpc_cidr: String,
    /// How many Availability Zones get a public and a private subnet (RDS needs at least 2).
    #[serde(default = "default_az_count")]
    pub az_count: u8,
    /// Prefix length of each subnet (24 gives 251 usable addresses).
    #[serde(default = "default_subnet_prefix")]
    pub subnet_prefix: u8,
    /// One NAT gateway per AZ (resilient) or one shared (cheaper). Absent: per AZ exactly when
    /// the database is Multi-AZ (`database.multi_az`): a standby in a second AZ is only worth
    /// having if that AZ's API can still reach Secrets Manager when the first AZ is down. Each
    /// extra gateway costs about $32/month plus $0.045/GB processed, and its Elastic IP about
    /// $3.60/month (us-west-2); see [`SnowexSettings::nat_per_az`].
    #[serde(default)]
    pub nat_per_az: Option<bool>,
    /// Explicit public subnet ranges, one per AZ (an adopted VPC's, recorded by `snowcdk
    /// import`); absent: consecutive `subnet_prefix` blocks. Create-only.
    #[serde(default)]
    pub public_subnet_cidrs: Option<Vec<String>>,
    /// Explicit private subnet ranges, one per AZ; absent: generated after the public ones.
    #[serde(default)]
    pub private_subnet_cidrs: Option<Vec<String>>,
    /// The Availability Zones by index (an adopted VPC's); absent: the region's first
    /// `az_count` zones. Create-only.
    #[serde(default)]
    pub availability_zones: Option<Vec<String>>,
}

/// The RDS PostgreSQL instance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `db.<family>.<size>`, e.g. `db.t4g.micro`.
    pub instance_class: String,
    /// Initial gp3 storage in GiB (the range is `PostgresRdsProps::ALLOCATED_STORAGE_GB`).
    #[serde(default = "default_allocated_storage")]
    pub allocated_storage_gb: u32,
    /// Storage autoscaling limit in GiB; absent: no autoscaling.
    #[serde(default)]
    pub max_allocated_storage_gb: Option<u32>,
    /// PostgreSQL version, e.g. `"17.11"` (minor upgrades then come automatically); the
    /// parameter group family follows the major.
    #[serde(default = "default_engine_version")]
    pub engine_version: String,
    /// Days of automated backups (the range is `PostgresRdsProps::BACKUP_RETENTION_DAYS`).
    #[serde(default = "default_backup_retention")]
    pub backup_retention_days: u32,
    /// Refuse to delete the instance (on unless a stage turns it off).
    #[serde(default = "default_true")]
    pub deletion_protection: bool,
    /// A standby in a second AZ.
    #[serde(default)]
    pub multi_az: bool,
    /// The database created on the instance (`dbname` in the secret).
    #[serde(default = "default_db_name")]
    pub db_name: String,
    /// The master user (`username` in the secret).
    #[serde(default = "default_master_username")]
    pub master_username: String,
    /// The database security group's outbound policy: the seed's "Default (allow all)" as an
    /// explicit rule (`true`), or nothing outbound (`false`).
    #[serde(default = "default_true")]
    pub allow_all_outbound: bool,
    /// `DBInstanceIdentifier` (lower case). With it the stack creates the exported logs' groups
    /// (`/aws/rds/instance/<id>/postgresql` and `/upgrade`) with `log_retention_days`; absent,
    /// CloudFormation generates the identifier and RDS creates those groups without a
    /// retention. Create-only: setting or changing it on a deployed stage replaces the database
    /// (deploy refuses that without `--allow-replacement AWS::RDS::DBInstance`).
    #[serde(default)]
    pub instance_identifier: Option<String>,
    /// Days the exported PostgreSQL logs are kept (with `instance_identifier`).
    #[serde(default = "default_db_log_retention")]
    pub log_retention_days: u32,
    /// Create the database from this DB snapshot (ARN or identifier; `snowcdk snapshot` prints
    /// the ARN). `master_username` must be the snapshot's master user; the stack's secret then
    /// holds the password the restored instance ends up with. Must stay once deployed: removing
    /// or changing it replaces the database (deploy refuses that without
    /// `--allow-replacement AWS::RDS::DBInstance`).
    #[serde(default)]
    pub restore_from_snapshot: Option<String>,
    /// `StorageType` (`gp3`; an adopted instance keeps its own: CloudFormation would otherwise
    /// convert the storage). Never changed by an import.
    #[serde(default = "default_storage_type")]
    pub storage_type: String,
    // What `snowcdk import` records for an adopted system: the live names and descriptions of
    // what the construct otherwise generates. Absent: generated. Create-only unless noted.
    /// The security group's `GroupName`.
    #[serde(default)]
    pub security_group_name: Option<String>,
    /// The security group's `GroupDescription`.
    #[serde(default)]
    pub security_group_description: Option<String>,
    /// `DBSubnetGroupName`.
    #[serde(default)]
    pub subnet_group_name: Option<String>,
    /// `DBSubnetGroupDescription` (updatable).
    #[serde(default)]
    pub subnet_group_description: Option<String>,
    /// `DBParameterGroupName`.
    #[serde(default)]
    pub parameter_group_name: Option<String>,
    /// The parameter group's `Description`.
    #[serde(default)]
    pub parameter_group_description: Option<String>,
    /// The name of the existing secret with the credentials: adopted as it is (no generated
    /// password, so the running database's password never changes).
    #[serde(default)]
    pub secret_name: Option<String>,
    /// The zone of a single-AZ instance when it is not the VPC's first (may replace it when
    /// changed).
    #[serde(default)]
    pub availability_zone: Option<String>,
}

/// Lambda CPU architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum LambdaArchitecture {
    /// `x86_64` (the default).
    #[default]
    #[serde(rename = "x86_64")]
    X86_64,
    /// `arm64` (Graviton): cheaper per GB-second, for code built for it.
    #[serde(rename = "arm64")]
    Arm64,
}

/// Function URL auth type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum UrlAuth {
    /// Public: no AWS credentials needed (the SnowEx API).
    #[default]
    #[serde(rename = "NONE")]
    None,
    /// SigV4-signed requests from IAM principals only.
    #[serde(rename = "AWS_IAM")]
    AwsIam,
}

/// The Lambda function. Code: `image_uri` (a container image in ECR, what SnowEx ships), or
/// `s3_bucket` + `s3_key` + `runtime` + `handler` (a zip package).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LambdaConfig {
    /// `<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>` (or `@sha256:<digest>`).
    /// Becomes the default of the template parameter `LambdaImageUri`, which a deploy can
    /// override to roll out a new image without a code change.
    #[serde(default)]
    pub image_uri: Option<String>,
    /// The bucket of a zip package already in S3 (with `s3_key`).
    #[serde(default)]
    pub s3_bucket: Option<String>,
    /// The key of that zip package in `s3_bucket`.
    #[serde(default)]
    pub s3_key: Option<String>,
    /// A local directory or .zip file (relative to the config file): packaged by synth into a
    /// deterministic zip named by its content hash, uploaded by deploy to the staging bucket.
    #[serde(default)]
    pub code_path: Option<std::path::PathBuf>,
    /// Runtime of a zip package, e.g. `python3.13`.
    #[serde(default)]
    pub runtime: Option<String>,
    /// Handler of a zip package, e.g. `app.handler`.
    #[serde(default)]
    pub handler: Option<String>,
    /// Memory in MB, which also sets the CPU share (default and range: the L2 Lambda's).
    #[serde(default = "default_memory")]
    pub memory_mb: u32,
    /// How long one invocation may run (default and range: the L2 Lambda's).
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u32,
    /// The CPU architecture the code is built for.
    #[serde(default)]
    pub architecture: LambdaArchitecture,
    /// `"NONE"` (public, the default) or `"AWS_IAM"`.
    #[serde(default)]
    pub url_auth: UrlAuth,
    /// Days the function's log group keeps logs (a value CloudWatch Logs accepts).
    #[serde(default = "default_log_retention")]
    pub log_retention_days: u32,
    /// Caps concurrent executions (and so database connections). Absent: in a protected stage
    /// (`database.deletion_protection`) the database's connection limit less
    /// [`ADMIN_CONNECTIONS`] (see [`SnowexSettings::reserved_concurrency`]), elsewhere
    /// unreserved.
    #[serde(default)]
    pub reserved_concurrency: Option<u32>,
    // Recorded by `snowcdk import` for an adopted function; absent: generated.
    /// `FunctionName` (create-only; absent: `<stack name>-api`).
    #[serde(default)]
    pub function_name: Option<String>,
    /// The execution role's `RoleName` (create-only).
    #[serde(default)]
    pub role_name: Option<String>,
    /// The security group's `GroupName` (create-only).
    #[serde(default)]
    pub security_group_name: Option<String>,
    /// The security group's `GroupDescription` (create-only).
    #[serde(default)]
    pub security_group_description: Option<String>,
}

/// The SSM bastion.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BastionConfig {
    /// `<family>.<size>`; a Graviton type (`t4g.micro`) gets the arm64 AMI.
    #[serde(default = "default_bastion_type")]
    pub instance_type: String,
    /// Root volume size in GiB.
    #[serde(default = "default_root_volume")]
    pub root_volume_gb: u32,
    // Recorded by `snowcdk import` for an adopted host; absent: generated.
    /// `ImageId`: the running host's AMI in place of the pinned `BastionImageId` parameter
    /// (create-only: another AMI replaces the instance).
    #[serde(default)]
    pub image_id: Option<String>,
    /// The role's `RoleName` (create-only).
    #[serde(default)]
    pub role_name: Option<String>,
    /// `InstanceProfileName` (create-only).
    #[serde(default)]
    pub instance_profile_name: Option<String>,
    /// The security group's `GroupName` (create-only).
    #[serde(default)]
    pub security_group_name: Option<String>,
    /// The security group's `GroupDescription` (create-only).
    #[serde(default)]
    pub security_group_description: Option<String>,
}

impl Default for BastionConfig {
    fn default() -> Self {
        Self {
            instance_type: default_bastion_type(),
            root_volume_gb: default_root_volume(),
            image_id: None,
            role_name: None,
            instance_profile_name: None,
            security_group_name: None,
            security_group_description: None,
        }
    }
}

fn default_allocated_storage() -> u32 {
    PostgresRdsProps::default().allocated_storage_gb
}

fn default_engine_version() -> String {
    PostgresRdsProps::default().engine_version
}

fn default_backup_retention() -> u32 {
    PostgresRdsProps::default().backup_retention_days
}

fn default_true() -> bool {
    true
}

fn default_storage_type() -> String {
    PostgresRdsProps::default().storage_type
}

fn default_db_log_retention() -> u32 {
    PostgresRdsProps::default().log_retention_days
}

fn default_db_name() -> String {
    "snowex".into()
}

fn default_master_username() -> String {
    "snowex_admin".into()
}

fn default_memory() -> u32 {
    lambda_defaults().memory_mb
}

fn default_timeout() -> u32 {
    lambda_defaults().timeout_seconds
}

fn default_log_retention() -> u32 {
    lambda_defaults().log_retention_days
}

/// The construct's defaults (they do not depend on the code).
fn lambda_defaults() -> VpcLambdaProps {
    VpcLambdaProps::new(LambdaCode::Inline {
        source: String::new(),
        runtime: String::new(),
        handler: String::new(),
    })
}

fn default_bastion_type() -> String {
    SsmBastionProps::default().instance_type
}

fn default_root_volume() -> u32 {
    SsmBastionProps::default().root_volume_gb
}

fn default_cidr() -> String {
    VpcProps::default().cidr
}

fn default_az_count() -> u8 {
    VpcProps::default().az_count
}

fn default_subnet_prefix() -> u8 {
    VpcProps::default().subnet_prefix
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            vpc_cidr: default_cidr(),
            az_count: default_az_count(),
            subnet_prefix: default_subnet_prefix(),
            nat_per_az: None,
            public_subnet_cidrs: None,
            private_subnet_cidrs: None,
            availability_zones: None,
        }
    }
}

impl DatabaseConfig {
    /// The construct's props from these settings (the stack adds only the app's checkov reasons).
    pub fn props(&self) -> PostgresRdsProps {
        PostgresRdsProps {
            engine_version: self.engine_version.clone(),
            instance_class: self.instance_class.clone(),
            allocated_storage_gb: self.allocated_storage_gb,
            max_allocated_storage_gb: self.max_allocated_storage_gb,
            backup_retention_days: self.backup_retention_days,
            deletion_protection: self.deletion_protection,
            multi_az: self.multi_az,
            database_name: self.db_name.clone(),
            master_username: self.master_username.clone(),
            allow_all_outbound: self.allow_all_outbound,
            instance_identifier: self.instance_identifier.clone(),
            log_retention_days: self.log_retention_days,
            restore_from_snapshot: self.restore_from_snapshot.clone(),
            storage_type: self.storage_type.clone(),
            adopted: AdoptedNames {
                security_group_name: self.security_group_name.clone(),
                security_group_description: self.security_group_description.clone(),
                subnet_group_name: self.subnet_group_name.clone(),
                subnet_group_description: self.subnet_group_description.clone(),
                parameter_group_name: self.parameter_group_name.clone(),
                parameter_group_description: self.parameter_group_description.clone(),
                secret_name: self.secret_name.clone(),
                availability_zone: self.availability_zone.clone(),
            },
            ..PostgresRdsProps::default()
        }
    }

    /// Checks what serde cannot, with the construct's own checks (ranges, shapes), reported
    /// under the config key of the field at fault.
    pub fn validate(&self) -> Result<(), SettingError> {
        self.props().validate().map_err(|e| {
            let key = match e.field {
                "database_name" => "db_name",
                field => field,
            };
            SettingError::new(format!("database.{key}"), e.message)
        })
    }
}

impl LambdaConfig {
    /// Checks what serde cannot: ranges, shapes and relations between keys.
    pub fn validate(&self, region: &str) -> Result<(), SettingError> {
        let l = self;
        let bad = |key: &str, message: String| SettingError::new(format!("lambda.{key}"), message);
        if let Some(path) = &l.code_path {
            if l.image_uri.is_some() || l.s3_bucket.is_some() || l.s3_key.is_some() {
                return Err(bad(
                    "code_path",
                    "give one code source: code_path, image_uri, or s3_bucket/s3_key".into(),
                ));
            }
            if path.as_os_str().is_empty() {
                return Err(bad(
                    "code_path",
                    "empty: give a directory or .zip file relative to the config file".into(),
                ));
            }
            for (k, v) in [("runtime", &l.runtime), ("handler", &l.handler)] {
                if v.as_deref().is_none_or(str::is_empty) {
                    return Err(bad(
                        k,
                        "missing: a zip package needs runtime (e.g. \"python3.13\") and handler (e.g. \"app.handler\")".into(),
                    ));
                }
            }
        } else {
            match (&l.image_uri, &l.s3_bucket, &l.s3_key) {
                (Some(uri), None, None) => {
                    if !vpc_lambda::is_ecr_image_uri(uri) {
                        return Err(bad(
                            "image_uri",
                            format!(
                                "{uri:?} is not an ECR image URI such as \"123456789012.dkr.ecr.us-west-2.amazonaws.com/snowex-api:v1\" (a tag, or @sha256:<digest>)"
                            ),
                        ));
                    }
                    if let Some(r) = vpc_lambda::ecr_image_region(uri)
                        && r != region
                    {
                        return Err(bad(
                            "image_uri",
                            format!(
                                "the image is in {r}, the stage in {region}; Lambda only runs images from its own region's ECR: push the image to {region} (or replicate the repository there)"
                            ),
                        ));
                    }
                    for (key, v) in [("runtime", &l.runtime), ("handler", &l.handler)] {
                        if v.is_some() {
                            return Err(bad(
                            key,
                            "a container image brings its own runtime and handler; remove this key"
                                .into(),
                        ));
                        }
                    }
                }
                (None, Some(bucket), Some(key)) => {
                    staging_bucket::check_bucket_name(bucket).map_err(|e| bad("s3_bucket", e))?;
                    if key.is_empty() || key.len() > 1024 {
                        return Err(bad("s3_key", "an S3 key is 1 to 1024 characters".into()));
                    }
                    for (k, v) in [("runtime", &l.runtime), ("handler", &l.handler)] {
                        if v.as_deref().is_none_or(str::is_empty) {
                            return Err(bad(
                            k,
                            "missing: a zip package in S3 needs runtime (e.g. \"python3.13\") and handler (e.g. \"app.handler\")".into(),
                        ));
                        }
                    }
                }
                (None, None, Some(_)) => {
                    return Err(bad(
                        "s3_bucket",
                        "missing: s3_key is set, so is s3_bucket".into(),
                    ));
                }
                (None, Some(_), None) => {
                    return Err(bad(
                        "s3_key",
                        "missing: s3_bucket is set, so is s3_key".into(),
                    ));
                }
                (None, None, None) => {
                    return Err(bad(
                    "image_uri",
                    "missing: give the function's code as image_uri, as s3_bucket and s3_key, or as code_path"
                        .into(),
                ));
                }
                (Some(_), _, _) => {
                    return Err(bad(
                        "image_uri",
                        "give either image_uri or s3_bucket/s3_key, not both".into(),
                    ));
                }
            }
        }
        // The code source was checked above, in the config's own terms; a parameter reference
        // stands in for it, as the construct checks only literal image URIs.
        let code = LambdaCode::Image {
            uri: Value::param_ref(super::stack::LAMBDA_IMAGE_PARAMETER),
        };
        self.props(code)
            .validate()
            .map_err(|e| bad(e.field, e.message))
    }

    /// The construct's props from these settings around `code` (the stack adds what does not
    /// come from the config: description, environment, secrets and the app's checkov reasons).
    pub fn props(&self, code: LambdaCode) -> VpcLambdaProps {
        VpcLambdaProps {
            memory_mb: self.memory_mb,
            timeout_seconds: self.timeout_seconds,
            architecture: match self.architecture {
                LambdaArchitecture::X86_64 => Architecture::X86_64,
                LambdaArchitecture::Arm64 => Architecture::Arm64,
            },
            log_retention_days: self.log_retention_days,
            url: Some(match self.url_auth {
                UrlAuth::None => FunctionUrlAuth::Public,
                UrlAuth::AwsIam => FunctionUrlAuth::AwsIam,
            }),
            reserved_concurrency: self.reserved_concurrency,
            adopted: AdoptedFunction {
                function_name: self.function_name.clone(),
                role_name: self.role_name.clone(),
                security_group_name: self.security_group_name.clone(),
                security_group_description: self.security_group_description.clone(),
            },
            ..VpcLambdaProps::new(code)
        }
    }
}

impl BastionConfig {
    /// The construct's props from these settings.
    pub fn props(&self) -> SsmBastionProps {
        SsmBastionProps {
            instance_type: self.instance_type.clone(),
            root_volume_gb: self.root_volume_gb,
            adopted: AdoptedHost {
                image_id: self.image_id.clone(),
                role_name: self.role_name.clone(),
                instance_profile_name: self.instance_profile_name.clone(),
                security_group_name: self.security_group_name.clone(),
                security_group_description: self.security_group_description.clone(),
            },
            ..SsmBastionProps::default()
        }
    }

    /// Checks what serde cannot, with the construct's own checks, reported under the config key.
    pub fn validate(&self) -> Result<(), SettingError> {
        if let Some(ami) = &self.image_id
            && !(ami.starts_with("ami-")
                && ami.len() > 4
                && ami[4..].chars().all(|c| c.is_ascii_hexdigit()))
        {
            return Err(SettingError::new(
                "bastion.image_id",
                format!("{ami:?} is not an AMI id such as \"ami-0123456789abcdef0\""),
            ));
        }
        self.props()
            .validate()
            .map_err(|e| SettingError::new(format!("bastion.{}", e.field), e.message))
    }
}

impl NetworkConfig {
    /// The construct's props from these settings.
    pub fn props(&self) -> VpcProps {
        VpcProps {
            cidr: self.vpc_cidr.clone(),
            az_count: self.az_count,
            subnet_prefix: self.subnet_prefix,
            public_cidrs: self.public_subnet_cidrs.clone(),
            private_cidrs: self.private_subnet_cidrs.clone(),
            availability_zones: self.availability_zones.clone(),
        }
    }

    /// Checks what serde cannot: the construct's own checks reported under the config key, then
    /// what the SnowEx stack adds (a database, so at least two AZs; no more than the region has).
    pub fn validate(&self, region: &str) -> Result<(), SettingError> {
        let n = self;
        let azs = postgres_rds::MIN_AZS..=*VpcProps::AZ_COUNT.end();
        if !azs.contains(&n.az_count) {
            return Err(SettingError::new(
                "network.az_count",
                format!(
                    "{} AZs: use {} to {} (RDS needs subnets in at least {})",
                    n.az_count,
                    azs.start(),
                    azs.end(),
                    postgres_rds::MIN_AZS
                ),
            ));
        }
        n.props().validate().map_err(|e| {
            let key = match e.field {
                "cidr" => "vpc_cidr",
                "public_cidrs" => "public_subnet_cidrs",
                "private_cidrs" => "private_subnet_cidrs",
                field => field,
            };
            SettingError::new(format!("network.{key}"), e.message)
        })?;
        let zones = regions::availability_zones(region).unwrap_or(0);
        if n.az_count > zones {
            return Err(SettingError::new(
                "network.az_count",
                format!(
                    "{} AZs: {region} has {zones} Availability Zones (src/regions.rs); use at most {zones}",
                    n.az_count
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{Config, ConfigError};

    const GOOD: &str = r#"
[project]
name = "snowex"

[stages.dev]
stack_name = "snowex-dev"
region = "us-west-2"
account = "123456789012"

[stages.dev.database]
instance_class = "db.t4g.micro"

[stages.dev.lambda]
image_uri = "123456789012.dkr.ecr.us-west-2.amazonaws.com/snowex-api:latest"
"#;

    fn parse(text: &str) -> Result<Config<SnowexSettings>, ConfigError> {
        Config::parse(Path::new("snowcdk.toml"), text)
    }

    #[test]
    fn defaults_fill_the_optional_sections() {
        let c = parse(GOOD).expect("valid config");
        let dev = c.settings("dev").expect("dev stage");
        assert_eq!(dev.network.vpc_cidr, "10.0.0.0/16");
        assert_eq!(dev.network.az_count, 2);
        assert_eq!(dev.database.engine_version, "17.11");
        assert!(dev.database.deletion_protection);
        assert!(dev.database.allow_all_outbound);
        assert_eq!(dev.database.backup_retention_days, 7);
        assert_eq!(dev.lambda.memory_mb, 1024);
        assert_eq!(dev.lambda.timeout_seconds, 30);
        assert_eq!(dev.lambda.url_auth, UrlAuth::None);
        assert_eq!(dev.lambda.architecture, LambdaArchitecture::X86_64);
        assert_eq!(dev.bastion.instance_type, "t4g.micro");
    }

    #[test]
    fn bad_values_name_file_stage_and_key() {
        let cases = [
            (
                "network",
                "vpc_cidr = \"10.0.0.0/33\"",
                "stage dev: network.vpc_cidr",
            ),
            ("network", "vpc_cidr = \"10.0.0.1/16\"", "host bits"),
            ("network", "az_count = 1", "stage dev: network.az_count"),
            (
                "network",
                "subnet_prefix = 30",
                "stage dev: network.subnet_prefix",
            ),
            (
                "network",
                "colour = \"blue\"",
                "stage dev: network.colour: unknown field `colour`",
            ),
            (
                "network",
                "az_count = \"two\"",
                "stage dev: network.az_count: invalid type",
            ),
            (
                "bastion",
                "instance_type = \"micro\"",
                "stage dev: bastion.instance_type",
            ),
            (
                "bastion",
                "root_volume_gb = 4",
                "stage dev: bastion.root_volume_gb",
            ),
        ];
        for (table, line, want) in cases {
            let text = format!("{GOOD}\n[stages.dev.{table}]\n{line}\n");
            let err = parse(&text).expect_err(line).to_string();
            assert!(err.starts_with("snowcdk.toml: "), "{err}");
            assert!(err.contains(want), "{line}: {err}");
        }
        let db_cases = [
            ("db.t4g", "database.instance_class"),
            ("t4g.micro", "database.instance_class"),
        ];
        for (class, want) in db_cases {
            let text = GOOD.replace("db.t4g.micro", class);
            let err = parse(&text).expect_err(class).to_string();
            assert!(err.contains(&format!("stage dev: {want}")), "{err}");
        }
        let err = parse(&GOOD.replace("us-west-2\"\n", "uswest2\"\n"))
            .expect_err("bad region")
            .to_string();
        assert!(err.contains("stage dev: region"), "{err}");
        let err = parse("[project]\nname = \"x\"\n[stages.dev]\nregion = \"us-west-2\"\n")
            .expect_err("missing stack_name")
            .to_string();
        assert!(
            err.contains("stage dev: stack_name: missing field `stack_name`"),
            "{err}"
        );
        let c = parse(GOOD).expect("valid");
        assert!(
            c.stage("qa")
                .expect_err("no qa")
                .to_string()
                .contains("dev")
        );
    }

    #[test]
    fn construct_fields_are_reported_under_their_config_keys() {
        // The props fields `database_name` and `cidr` are the config's `db_name` and `vpc_cidr`.
        let cases = [
            (
                "instance_class = \"db.t4g.micro\"",
                "instance_class = \"db.t4g.micro\"\ndb_name = \"snow-ex\"",
                "stage dev: database.db_name: database name \"snow-ex\"",
            ),
            (
                "[stages.dev.lambda]",
                "[stages.dev.network]\nvpc_cidr = \"8.8.0.0/16\"\n[stages.dev.lambda]",
                "stage dev: network.vpc_cidr: 8.8.0.0/16 is not a private range",
            ),
            (
                "[stages.dev.lambda]",
                "[stages.dev.lambda]\nreserved_concurrency = 0",
                "stage dev: lambda.reserved_concurrency: 0 would stop the function",
            ),
        ];
        for (from, to, want) in cases {
            let err = parse(&GOOD.replace(from, to)).expect_err(to).to_string();
            assert!(err.contains(want), "{to}: {err}");
        }
    }

    #[test]
    fn nat_per_az_follows_a_multi_az_database_unless_set() {
        let settings = |extra: &str| {
            let text = GOOD.replace(
                "instance_class = \"db.t4g.micro\"",
                &format!("instance_class = \"db.t4g.micro\"\n{extra}"),
            );
            parse(&text)
                .expect("valid")
                .settings("dev")
                .expect("dev")
                .clone()
        };
        assert!(!settings("multi_az = false").nat_per_az());
        assert!(settings("multi_az = true").nat_per_az());
        let explicit = GOOD.replace(
            "[stages.dev.lambda]",
            "[stages.dev.network]\nnat_per_az = false\n[stages.dev.lambda]",
        );
        let explicit = explicit.replace(
            "instance_class = \"db.t4g.micro\"",
            "instance_class = \"db.t4g.micro\"\nmulti_az = true",
        );
        let s = parse(&explicit).expect("valid");
        assert!(!s.settings("dev").expect("dev").nat_per_az());
    }

    #[test]
    fn a_protected_stage_reserves_concurrency_below_the_connection_limit() {
        let with = |db: &str, lambda: &str| {
            let text = GOOD
                .replace("instance_class = \"db.t4g.micro\"", db)
                .replace(
                    "[stages.dev.lambda]",
                    &format!("[stages.dev.lambda]\n{lambda}"),
                );
            parse(&text)
                .expect("valid")
                .settings("dev")
                .expect("dev")
                .reserved_concurrency()
        };
        // GOOD is protected (deletion_protection defaults to true); 1 GiB -> 84 connections.
        assert_eq!(with("instance_class = \"db.t4g.micro\"", ""), Some(74));
        assert_eq!(with("instance_class = \"db.r6g.large\"", ""), Some(1341));
        assert_eq!(
            with(
                "instance_class = \"db.t4g.micro\"",
                "reserved_concurrency = 20"
            ),
            Some(20)
        );
        assert_eq!(
            with(
                "instance_class = \"db.t4g.micro\"\ndeletion_protection = false",
                ""
            ),
            None
        );
        // A class the estimate does not know: no guess.
        assert_eq!(with("instance_class = \"db.z1d.large\"", ""), None);
    }

    #[test]
    fn the_instance_identifier_is_checked_under_its_key() {
        for bad in ["Snowex-Dev", "snowex--dev", "snowex-", "1snowex", "snow_ex"] {
            let text = GOOD.replace(
                "instance_class = \"db.t4g.micro\"",
                &format!("instance_class = \"db.t4g.micro\"\ninstance_identifier = \"{bad}\""),
            );
            let err = parse(&text).expect_err(bad).to_string();
            assert!(
                err.contains("stage dev: database.instance_identifier"),
                "{bad}: {err}"
            );
        }
        let text = GOOD.replace(
            "instance_class = \"db.t4g.micro\"",
            "instance_class = \"db.t4g.micro\"\nlog_retention_days = 10",
        );
        let err = parse(&text).expect_err("10 days").to_string();
        assert!(
            err.contains("stage dev: database.log_retention_days"),
            "{err}"
        );
    }

    #[test]
    fn lambda_code_is_one_of_image_or_s3() {
        let s3 = GOOD.replace(
            "image_uri = \"123456789012.dkr.ecr.us-west-2.amazonaws.com/snowex-api:latest\"",
            "s3_bucket = \"snowex-artifacts\"\ns3_key = \"api/v1.zip\"\nruntime = \"python3.13\"\nhandler = \"app.handler\"",
        );
        let c = parse(&s3).expect("s3 code is valid");
        assert_eq!(
            c.settings("dev").expect("dev").lambda.s3_key.as_deref(),
            Some("api/v1.zip")
        );
        let err = parse(&s3.replace("handler = \"app.handler\"", ""))
            .expect_err("no handler")
            .to_string();
        assert!(err.contains("stage dev: lambda.handler: missing"), "{err}");
        let err = parse(&s3.replace(
            "s3_bucket = \"snowex-artifacts\"",
            "s3_bucket = \"Snowex_Artifacts\"",
        ))
        .expect_err("bad bucket")
        .to_string();
        assert!(err.contains("stage dev: lambda.s3_bucket"), "{err}");
        let err = parse(&GOOD.replace(":latest", ""))
            .expect_err("untagged image")
            .to_string();
        assert!(err.contains("stage dev: lambda.image_uri"), "{err}");
        let none = GOOD.replace(
            "image_uri = \"123456789012.dkr.ecr.us-west-2.amazonaws.com/snowex-api:latest\"",
            "memory_mb = 512",
        );
        let err = parse(&none).expect_err("no code").to_string();
        assert!(
            err.contains("stage dev: lambda.image_uri: missing"),
            "{err}"
        );
    }

    #[test]
    fn adoption_keys_are_checked_and_reach_the_constructs() {
        let with = |table: &str, line: &str| {
            let text = if table == "database" {
                GOOD.replace(
                    "instance_class = \"db.t4g.micro\"",
                    &format!("instance_class = \"db.t4g.micro\"\n{line}"),
                )
            } else {
                format!("{GOOD}\n[stages.dev.{table}]\n{line}\n")
            };
            parse(&text)
        };
        for (table, line, want) in [
            (
                "database",
                "storage_type = \"gp9\"",
                "stage dev: database.storage_type",
            ),
            (
                "database",
                "secret_name = \"\"",
                "stage dev: database.secret_name",
            ),
            (
                "bastion",
                "image_id = \"snowex\"",
                "stage dev: bastion.image_id",
            ),
            (
                "network",
                "availability_zones = [\"us-west-2a\"]",
                "stage dev: network.availability_zones",
            ),
        ] {
            let err = with(table, line).expect_err(line).to_string();
            assert!(err.contains(want), "{line}: {err}");
        }
        let c = with(
            "database",
            "storage_type = \"gp2\"\nsecret_name = \"snowex/db\"",
        )
        .expect("valid");
        let props = c.settings("dev").expect("dev").database.props();
        assert_eq!(props.storage_type, "gp2");
        assert_eq!(props.adopted.secret_name.as_deref(), Some("snowex/db"));
        let c = with("bastion", "image_id = \"ami-0123abcd\"").expect("valid");
        let b = c.settings("dev").expect("dev").bastion.props();
        assert_eq!(b.adopted.image_id.as_deref(), Some("ami-0123abcd"));
    }
}
