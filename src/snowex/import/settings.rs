//! Record: the config keys that make the stage's synth describe what runs (the live values of
//! the create-only and identifying properties, and the settings the hand-built system differs
//! in), and writing them into the stage's tables of `snowcdk.toml` with `toml_edit`, which keeps
//! the file's comments, order and layout.

use std::path::Path;

use serde::Serialize;
use serde_json::Value as Json;

use crate::import::ImportPlan;
use crate::snowex::settings::SnowexSettings;

use super::discover::LiveSystem;

/// A config value discovery derived: `[stages.<stage>.<table>] <key> = <value>`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigValue {
    /// The stage's sub-table (`network`, `database`, `lambda`, `bastion`).
    pub table: String,
    /// The key.
    pub key: String,
    /// The value (a string, integer, boolean or array of strings).
    pub value: Json,
    /// Where it comes from (`Database DBName`).
    pub source: String,
}

impl ConfigValue {
    /// The `key = value` line as TOML writes it.
    pub fn line(&self) -> String {
        format!("{} = {}", self.key, toml_value(&self.value))
    }
}

fn toml_value(v: &Json) -> toml_edit::Value {
    match v {
        Json::Bool(b) => (*b).into(),
        Json::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.to_string().into(),
        },
        Json::String(s) => s.as_str().into(),
        Json::Array(a) => {
            let mut arr = toml_edit::Array::new();
            for i in a {
                arr.push(toml_value(i));
            }
            arr.into()
        }
        other => other.to_string().into(),
    }
}

/// Collects `(table, key, live, current)` and keeps the ones that differ.
struct Collect<'a> {
    out: Vec<ConfigValue>,
    s: &'a SnowexSettings,
}

impl Collect<'_> {
    fn put(&mut self, table: &str, key: &str, live: Option<Json>, current: Json, source: &str) {
        let Some(live) = live else { return };
        if live.is_null() || crate::import::preview::same(&live, &current) {
            return;
        }
        self.out.push(ConfigValue {
            table: table.to_owned(),
            key: key.to_owned(),
            value: live,
            source: source.to_owned(),
        });
    }
}

/// A live property of the adoption of a live id (`sg-...`) of a type.
fn prop_of(plan: &ImportPlan, ty: &str, physical_id: Option<&String>, name: &str) -> Option<Json> {
    let id = physical_id?;
    plan.resources
        .iter()
        .find(|a| a.resource_type == ty && &a.physical_id == id)
        .and_then(|a| a.live.get(name).cloned())
}

/// The group name and description keys of the security group `id` in `table`.
fn group_keys(
    c: &mut Collect<'_>,
    plan: &ImportPlan,
    table: &str,
    id: Option<&String>,
    current: [&Option<String>; 2],
) {
    let ty = "AWS::EC2::SecurityGroup";
    c.put(
        table,
        "security_group_name",
        prop_of(plan, ty, id, "GroupName"),
        Json::from(current[0].clone()),
        "SecurityGroup GroupName",
    );
    c.put(
        table,
        "security_group_description",
        prop_of(plan, ty, id, "GroupDescription"),
        Json::from(current[1].clone()),
        "SecurityGroup GroupDescription",
    );
}

fn prop(plan: &ImportPlan, logical_id: &str, name: &str) -> Option<Json> {
    plan.resources
        .iter()
        .find(|a| a.logical_id == logical_id)
        .and_then(|a| a.live.get(name).cloned())
}

/// The subnets' ranges and zones, when the adopted ones differ from what the template has.
fn subnet_values(c: &mut Collect<'_>, plan: &ImportPlan, live: &LiveSystem, doc: &Json) {
    let template = |logical: &str, key: &str| {
        doc.get("Resources")
            .and_then(|r| r.get(logical))
            .and_then(|r| r.get("Properties"))
            .and_then(|p| p.get(key))
            .cloned()
    };
    // The template's zone: a literal, or `Fn::Select [i, Fn::GetAZs]` over the region's zones.
    let zone = |v: Option<Json>| -> Option<String> {
        let v = v?;
        if let Some(s) = v.as_str() {
            return Some(s.to_owned());
        }
        let i = v.get("Fn::Select")?.get(0)?.as_u64()? as usize;
        live.azs.get(i).cloned()
    };
    let mut zones: Option<Vec<String>> = None;
    for (public, key, current) in [
        (
            true,
            "public_subnet_cidrs",
            &c.s.network.public_subnet_cidrs,
        ),
        (
            false,
            "private_subnet_cidrs",
            &c.s.network.private_subnet_cidrs,
        ),
    ] {
        let adopted: Vec<_> = plan
            .resources
            .iter()
            .filter(|a| a.resource_type == "AWS::EC2::Subnet")
            .filter(|a| {
                live.subnets
                    .iter()
                    .any(|s| s.id == a.physical_id && s.public == public)
            })
            .collect();
        if adopted.len() != usize::from(c.s.network.az_count) {
            continue;
        }
        let cidrs: Vec<Json> = adopted
            .iter()
            .filter_map(|a| a.live.get("CidrBlock").cloned())
            .collect();
        let differs = adopted
            .iter()
            .any(|a| template(&a.logical_id, "CidrBlock").as_ref() != a.live.get("CidrBlock"));
        if differs {
            c.put(
                "network",
                key,
                Some(Json::Array(cidrs)),
                Json::from(current.clone()),
                "Subnet CidrBlock",
            );
        }
        let live_zones: Vec<String> = adopted
            .iter()
            .filter_map(|a| a.live.get("AvailabilityZone").and_then(Json::as_str))
            .map(str::to_owned)
            .collect();
        let template_zones: Vec<Option<String>> = adopted
            .iter()
            .map(|a| zone(template(&a.logical_id, "AvailabilityZone")))
            .collect();
        let same = live_zones
            .iter()
            .zip(&template_zones)
            .all(|(l, t)| t.as_deref() == Some(l.as_str()));
        if !same && zones.is_none() {
            zones = Some(live_zones);
        }
    }
    if let Some(z) = zones {
        c.put(
            "network",
            "availability_zones",
            Some(Json::from(z)),
            Json::from(c.s.network.availability_zones.clone()),
            "Subnet AvailabilityZone",
        );
    }
}

/// The config values the live system needs that differ from the stage's settings now.
pub fn config_values(
    plan: &ImportPlan,
    live: &LiveSystem,
    s: &SnowexSettings,
    doc: &Json,
) -> Vec<ConfigValue> {
    let mut c = Collect { out: Vec::new(), s };
    let by_type = |ty: &str| {
        plan.resources
            .iter()
            .find(|a| a.resource_type == ty)
            .map(|a| a.logical_id.clone())
    };
    // Network.
    if let Some(v) = &live.vpc {
        c.put(
            "network",
            "vpc_cidr",
            Some(Json::from(v.cidr.clone())),
            Json::from(s.network.vpc_cidr.clone()),
            "VPC CidrBlock",
        );
        subnet_values(&mut c, plan, live, doc);
    }
    // Database.
    if let Some(db) = by_type("AWS::RDS::DBInstance") {
        let d = &s.database;
        let int = |v: Option<Json>| {
            v.and_then(|v| match v {
                Json::String(s) => s.parse::<i64>().ok().map(Json::from),
                n @ Json::Number(_) => Some(n),
                _ => None,
            })
        };
        c.put(
            "database",
            "instance_identifier",
            prop(plan, &db, "DBInstanceIdentifier"),
            Json::from(d.instance_identifier.clone()),
            "DBInstance DBInstanceIdentifier",
        );
        c.put(
            "database",
            "instance_class",
            prop(plan, &db, "DBInstanceClass"),
            Json::from(d.instance_class.clone()),
            "DBInstance DBInstanceClass",
        );
        c.put(
            "database",
            "engine_version",
            prop(plan, &db, "EngineVersion"),
            Json::from(d.engine_version.clone()),
            "DBInstance EngineVersion",
        );
        c.put(
            "database",
            "allocated_storage_gb",
            int(prop(plan, &db, "AllocatedStorage")),
            Json::from(d.allocated_storage_gb),
            "DBInstance AllocatedStorage",
        );
        c.put(
            "database",
            "max_allocated_storage_gb",
            int(prop(plan, &db, "MaxAllocatedStorage")),
            Json::from(d.max_allocated_storage_gb),
            "DBInstance MaxAllocatedStorage",
        );
        c.put(
            "database",
            "backup_retention_days",
            int(prop(plan, &db, "BackupRetentionPeriod")),
            Json::from(d.backup_retention_days),
            "DBInstance BackupRetentionPeriod",
        );
        c.put(
            "database",
            "deletion_protection",
            prop(plan, &db, "DeletionProtection"),
            Json::from(d.deletion_protection),
            "DBInstance DeletionProtection",
        );
        c.put(
            "database",
            "multi_az",
            prop(plan, &db, "MultiAZ"),
            Json::from(d.multi_az),
            "DBInstance MultiAZ",
        );
        c.put(
            "database",
            "db_name",
            prop(plan, &db, "DBName"),
            Json::from(d.db_name.clone()),
            "DBInstance DBName",
        );
        c.put(
            "database",
            "master_username",
            prop(plan, &db, "MasterUsername"),
            Json::from(d.master_username.clone()),
            "DBInstance MasterUsername",
        );
        c.put(
            "database",
            "storage_type",
            prop(plan, &db, "StorageType"),
            Json::from(d.storage_type.clone()),
            "DBInstance StorageType",
        );
        let live_db = live.db.as_ref();
        group_keys(
            &mut c,
            plan,
            "database",
            live_db.and_then(|d| d.security_groups.first()),
            [&d.security_group_name, &d.security_group_description],
        );
        if let Some(g) = by_type("AWS::RDS::DBSubnetGroup") {
            c.put(
                "database",
                "subnet_group_name",
                prop(plan, &g, "DBSubnetGroupName"),
                Json::from(d.subnet_group_name.clone()),
                "DBSubnetGroup DBSubnetGroupName",
            );
            c.put(
                "database",
                "subnet_group_description",
                prop(plan, &g, "DBSubnetGroupDescription"),
                Json::from(d.subnet_group_description.clone()),
                "DBSubnetGroup DBSubnetGroupDescription",
            );
        }
        if let Some(g) = by_type("AWS::RDS::DBParameterGroup") {
            c.put(
                "database",
                "parameter_group_name",
                prop(plan, &g, "DBParameterGroupName"),
                Json::from(d.parameter_group_name.clone()),
                "DBParameterGroup DBParameterGroupName",
            );
            c.put(
                "database",
                "parameter_group_description",
                prop(plan, &g, "Description"),
                Json::from(d.parameter_group_description.clone()),
                "DBParameterGroup Description",
            );
        }
        // The zone of a single-AZ instance, when the template would put it elsewhere.
        let live_zone =
            prop(plan, &db, "AvailabilityZone").and_then(|z| z.as_str().map(str::to_owned));
        let template_zone = doc
            .pointer(&format!("/Resources/{db}/Properties/AvailabilityZone"))
            .and_then(|v| match v.as_str() {
                Some(s) => Some(s.to_owned()),
                None => {
                    let i = v.pointer("/Fn::Select/0")?.as_u64()? as usize;
                    live.azs.get(i).cloned()
                }
            });
        if let Some(z) = live_zone
            && template_zone.as_ref() != Some(&z)
            && d.availability_zone.as_ref() != Some(&z)
        {
            // A written network.availability_zones moves the template's zone too: only when
            // the instance is not in the VPC's first zone is the key needed.
            let first = c
                .out
                .iter()
                .find(|v| v.key == "availability_zones")
                .and_then(|v| v.value.get(0))
                .and_then(Json::as_str)
                .map(str::to_owned);
            if first.as_ref() != Some(&z) {
                c.put(
                    "database",
                    "availability_zone",
                    Some(Json::from(z)),
                    Json::from(d.availability_zone.clone()),
                    "DBInstance AvailabilityZone",
                );
            }
        }
        if let Some(sec) = by_type("AWS::SecretsManager::Secret") {
            c.put(
                "database",
                "secret_name",
                prop(plan, &sec, "Name"),
                Json::from(d.secret_name.clone()),
                "Secret Name",
            );
        }
    }
    // Lambda.
    if let Some(f) = by_type("AWS::Lambda::Function") {
        let l = &s.lambda;
        c.put(
            "lambda",
            "memory_mb",
            prop(plan, &f, "MemorySize"),
            Json::from(l.memory_mb),
            "Function MemorySize",
        );
        c.put(
            "lambda",
            "timeout_seconds",
            prop(plan, &f, "Timeout"),
            Json::from(l.timeout_seconds),
            "Function Timeout",
        );
        let arch = prop(plan, &f, "Architectures")
            .and_then(|a| a.get(0).cloned())
            .filter(|a| a.is_string());
        let current_arch = match l.architecture {
            crate::snowex::settings::LambdaArchitecture::X86_64 => "x86_64",
            crate::snowex::settings::LambdaArchitecture::Arm64 => "arm64",
        };
        c.put(
            "lambda",
            "architecture",
            arch,
            Json::from(current_arch),
            "Function Architectures",
        );
        if l.image_uri.is_some() {
            c.put(
                "lambda",
                "image_uri",
                prop(plan, &f, "Code").and_then(|c| c.get("ImageUri").cloned()),
                Json::from(l.image_uri.clone()),
                "Function Code.ImageUri",
            );
        }
        let url = live
            .function
            .as_ref()
            .and_then(|f| f.url.as_ref())
            .map(|(auth, _)| Json::from(auth.clone()));
        let current_auth = match l.url_auth {
            crate::snowex::settings::UrlAuth::None => "NONE",
            crate::snowex::settings::UrlAuth::AwsIam => "AWS_IAM",
        };
        c.put(
            "lambda",
            "url_auth",
            url,
            Json::from(current_auth),
            "Url AuthType",
        );
        c.put(
            "lambda",
            "function_name",
            prop(plan, &f, "FunctionName"),
            Json::from(l.function_name.clone()),
            "Function FunctionName",
        );
        c.put(
            "lambda",
            "role_name",
            live.function_role
                .as_ref()
                .map(|r| Json::from(r.name.clone())),
            Json::from(l.role_name.clone()),
            "Role RoleName",
        );
        group_keys(
            &mut c,
            plan,
            "lambda",
            live.function
                .as_ref()
                .and_then(|f| f.security_groups.first()),
            [&l.security_group_name, &l.security_group_description],
        );
    }
    // Bastion.
    if let Some(i) = &live.instance {
        c.put(
            "bastion",
            "instance_type",
            Some(Json::from(i.instance_type.clone())),
            Json::from(s.bastion.instance_type.clone()),
            "Instance InstanceType",
        );
        let b = &s.bastion;
        c.put(
            "bastion",
            "image_id",
            Some(Json::from(i.image_id.clone())),
            Json::from(b.image_id.clone()),
            "Instance ImageId",
        );
        c.put(
            "bastion",
            "role_name",
            i.role.as_ref().map(|r| Json::from(r.name.clone())),
            Json::from(b.role_name.clone()),
            "Role RoleName",
        );
        c.put(
            "bastion",
            "instance_profile_name",
            i.profile.clone().map(Json::from),
            Json::from(b.instance_profile_name.clone()),
            "InstanceProfile InstanceProfileName",
        );
        group_keys(
            &mut c,
            plan,
            "bastion",
            i.security_groups.first(),
            [&b.security_group_name, &b.security_group_description],
        );
    }
    c.out
}

/// The config text with `values` set in the stage's tables (created when missing); comments
/// and layout elsewhere are kept.
pub fn apply(text: &str, stage: &str, values: &[ConfigValue]) -> anyhow::Result<String> {
    if values.is_empty() {
        return Ok(text.to_owned());
    }
    let mut doc: toml_edit::DocumentMut = text.parse()?;
    let stage_table = doc
        .get_mut("stages")
        .and_then(|s| s.as_table_like_mut())
        .and_then(|s| s.get_mut(stage))
        .and_then(|s| s.as_table_mut())
        .ok_or_else(|| anyhow::anyhow!("no [stages.{stage}] table in the config"))?;
    for v in values {
        if !stage_table.contains_key(&v.table) {
            let mut t = toml_edit::Table::new();
            t.set_implicit(false);
            stage_table.insert(&v.table, toml_edit::Item::Table(t));
        }
        let table = stage_table
            .get_mut(&v.table)
            .and_then(|t| t.as_table_like_mut())
            .ok_or_else(|| anyhow::anyhow!("stages.{stage}.{} is not a table", v.table))?;
        match table.get_mut(&v.key).and_then(|i| i.as_value_mut()) {
            Some(existing) => {
                // Keep the line's own decoration (a trailing comment).
                let decor = existing.decor().clone();
                *existing = toml_value(&v.value);
                *existing.decor_mut() = decor;
            }
            None => {
                table.insert(&v.key, toml_edit::value(toml_value(&v.value)));
            }
        }
    }
    Ok(doc.to_string())
}

/// What was (or would be) written.
pub fn render(values: &[ConfigValue], file: &Path, written: bool, asked: bool) -> String {
    if values.is_empty() {
        return format!("config: {} already describes what runs\n", file.display());
    }
    let mut out = if written {
        format!("config: wrote into {}:\n", file.display())
    } else if asked {
        format!("config: {} already holds these values:\n", file.display())
    } else {
        format!(
            "config: --write-config would write into {} (the preview below assumes it):\n",
            file.display()
        )
    };
    let mut table = "";
    for v in values {
        if v.table != table {
            out.push_str(&format!("  [{}]\n", v.table));
            table = &v.table;
        }
        out.push_str(&format!("    {}    # {}\n", v.line(), v.source));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_keeps_comments_and_adds_tables() {
        let text = "# top\n[stages.dev]\nstack_name = \"x\" # name\n\n[stages.dev.database]\n# the class\ninstance_class = \"db.t4g.micro\" # small\n\n[stages.prod]\nstack_name = \"y\"\n";
        let values = vec![
            ConfigValue {
                table: "database".into(),
                key: "instance_class".into(),
                value: Json::from("db.t4g.small"),
                source: String::new(),
            },
            ConfigValue {
                table: "database".into(),
                key: "db_name".into(),
                value: Json::from("snowexdb"),
                source: String::new(),
            },
            ConfigValue {
                table: "bastion".into(),
                key: "instance_type".into(),
                value: Json::from("t3.micro"),
                source: String::new(),
            },
        ];
        let out = apply(text, "dev", &values).expect("applied");
        assert!(
            out.starts_with("# top\n[stages.dev]\nstack_name = \"x\" # name\n"),
            "{out}"
        );
        assert!(
            out.contains(
                "# the class\ninstance_class = \"db.t4g.small\" # small\ndb_name = \"snowexdb\"\n"
            ),
            "{out}"
        );
        assert!(
            out.contains("[stages.dev.bastion]\ninstance_type = \"t3.micro\"\n"),
            "{out}"
        );
        assert!(out.contains("[stages.prod]\nstack_name = \"y\"\n"), "{out}");
        assert!(apply(text, "qa", &values).is_err());
    }
}
