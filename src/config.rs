//! Stage config (`snowcdk.toml`): everything a user may change without writing Rust.
//!
//! Parsing is strict: unknown keys, wrong types, bad CIDRs and missing values are errors that name
//! the file, the stage and the key, and nothing is written when the config is bad.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use ipnet::Ipv4Net;
use serde::Deserialize;

/// A config error: which file, which stage and key, what is wrong and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "{file}: cannot read the config: {source}; run snowcdk from the repository root or pass --config"
    )]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: {message}")]
    Parse { file: PathBuf, message: String },
    #[error("{file}: stage {stage}: {key}: {message}")]
    Invalid {
        file: PathBuf,
        stage: String,
        key: String,
        message: String,
    },
    #[error("{file}: no stage named {stage}; the stages are: {known}")]
    UnknownStage {
        file: PathBuf,
        stage: String,
        known: String,
    },
}

/// The whole config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(skip)]
    pub file: PathBuf,
    pub project: Project,
    /// Stages by name, e.g. `dev` and `prod`.
    pub stages: BTreeMap<String, StageConfig>,
}

/// Settings shared by all stages.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// The project name: the `Project` tag of every resource.
    pub name: String,
}

/// One stage (an environment): one stack.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageConfig {
    /// The CloudFormation stack name.
    pub stack_name: String,
    /// The AWS region to deploy to, e.g. `us-west-2`.
    pub region: String,
    /// The AWS account id (12 digits); when set, deploy refuses other accounts.
    #[serde(default)]
    pub account: Option<String>,
    /// An S3 bucket for templates over 51,200 bytes and for assets (see `snowcdk bootstrap`).
    #[serde(default)]
    pub staging_bucket: Option<String>,
    /// Extra tags for every taggable resource (besides `Project` and `Stage`).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The network tier.
    #[serde(default)]
    pub network: NetworkConfig,
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
    /// One NAT gateway per AZ (resilient) or one shared (cheaper).
    #[serde(default)]
    pub nat_per_az: bool,
}

fn default_cidr() -> String {
    "10.0.0.0/16".into()
}

fn default_az_count() -> u8 {
    2
}

fn default_subnet_prefix() -> u8 {
    24
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            vpc_cidr: default_cidr(),
            az_count: default_az_count(),
            subnet_prefix: default_subnet_prefix(),
            nat_per_az: false,
        }
    }
}

impl NetworkConfig {
    /// The parsed VPC CIDR (validated by `Config::load`).
    pub fn vpc_net(&self) -> Option<Ipv4Net> {
        self.vpc_cidr.parse().ok()
    }
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
            file: file.to_owned(),
            source,
        })?;
        Self::parse(file, &text)
    }

    /// Parses and validates config text; `file` is only used in messages.
    pub fn parse(file: &Path, text: &str) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            file: file.to_owned(),
            message: describe_toml_error(text, &e),
        })?;
        config.file = file.to_owned();
        config.validate()?;
        Ok(config)
    }

    /// The named stage, or an error listing the known ones.
    pub fn stage(&self, name: &str) -> Result<&StageConfig, ConfigError> {
        self.stages
            .get(name)
            .ok_or_else(|| ConfigError::UnknownStage {
                file: self.file.clone(),
                stage: name.to_owned(),
                known: self.stages.keys().cloned().collect::<Vec<_>>().join(", "),
            })
    }

    fn invalid(&self, stage: &str, key: &str, message: impl fmt::Display) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.clone(),
            stage: stage.to_owned(),
            key: key.to_owned(),
            message: message.to_string(),
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.stages.is_empty() {
            return Err(ConfigError::Parse {
                file: self.file.clone(),
                message: "no stages: add a [stages.dev] table".into(),
            });
        }
        let mut names: BTreeMap<&str, &str> = BTreeMap::new();
        for (name, s) in &self.stages {
            if !snowcdk_constructs::tree::stack::is_valid_stack_name(&s.stack_name) {
                return Err(self.invalid(
                    name,
                    "stack_name",
                    format!(
                        "{:?} is not a CloudFormation stack name: start with a letter, use letters, digits and hyphens, at most 128",
                        s.stack_name
                    ),
                ));
            }
            if let Some(other) = names.insert(&s.stack_name, name) {
                return Err(self.invalid(
                    name,
                    "stack_name",
                    format!("{:?} is also the stack of stage {other}", s.stack_name),
                ));
            }
            if !is_region(&s.region) {
                return Err(self.invalid(
                    name,
                    "region",
                    format!(
                        "{:?} is not an AWS region name such as \"us-west-2\"",
                        s.region
                    ),
                ));
            }
            if let Some(a) = &s.account
                && (a.len() != 12 || !a.chars().all(|c| c.is_ascii_digit()))
            {
                return Err(self.invalid(
                    name,
                    "account",
                    format!("{a:?} is not a 12-digit AWS account id"),
                ));
            }
            for (k, v) in &s.tags {
                if k.is_empty() || k.len() > 128 || v.len() > 256 || k.starts_with("aws:") {
                    return Err(self.invalid(
                        name,
                        &format!("tags.{k}"),
                        "tag keys are 1-128 characters, not starting with \"aws:\"; values at most 256",
                    ));
                }
            }
            self.validate_network(name, &s.network)?;
        }
        Ok(())
    }

    fn validate_network(&self, stage: &str, n: &NetworkConfig) -> Result<(), ConfigError> {
        let net: Ipv4Net = n.vpc_cidr.parse().map_err(|_| {
            self.invalid(
                stage,
                "network.vpc_cidr",
                format!(
                    "{:?} is not an IPv4 CIDR block such as \"10.0.0.0/16\"",
                    n.vpc_cidr
                ),
            )
        })?;
        if net.network() != net.addr() {
            return Err(self.invalid(
                stage,
                "network.vpc_cidr",
                format!(
                    "{} has host bits set; did you mean {}?",
                    n.vpc_cidr,
                    net.trunc()
                ),
            ));
        }
        if !(16..=28).contains(&net.prefix_len()) {
            return Err(self.invalid(
                stage,
                "network.vpc_cidr",
                "a VPC's prefix length must be between /16 and /28",
            ));
        }
        if !(2..=6).contains(&n.az_count) {
            return Err(self.invalid(
                stage,
                "network.az_count",
                format!(
                    "{} AZs: use 2 to 6 (RDS needs subnets in at least 2)",
                    n.az_count
                ),
            ));
        }
        if n.subnet_prefix < net.prefix_len() || n.subnet_prefix > 28 {
            return Err(self.invalid(
                stage,
                "network.subnet_prefix",
                format!(
                    "/{} does not fit inside {}: use a prefix between /{} and /28",
                    n.subnet_prefix,
                    n.vpc_cidr,
                    net.prefix_len()
                ),
            ));
        }
        let needed = u32::from(n.az_count) * 2;
        let available = 1u64 << (n.subnet_prefix - net.prefix_len());
        if u64::from(needed) > available {
            return Err(self.invalid(
                stage,
                "network.subnet_prefix",
                format!(
                    "{needed} subnets of /{} do not fit in {} (room for {available}); use a longer prefix or fewer AZs",
                    n.subnet_prefix, n.vpc_cidr
                ),
            ));
        }
        Ok(())
    }
}

/// A loose check of an AWS region name (`us-west-2`, `eu-central-1`, `us-gov-west-1`).
fn is_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

/// toml's message names the offending key; add the line and the table it sits in.
fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim().to_owned();
    let Some(span) = e.span() else { return msg };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let table = before
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix('[').and_then(|l| l.strip_suffix(']')))
        .map(|t| format!(" in [{t}]"))
        .unwrap_or_default();
    format!("line {line}{table}: {msg}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[project]
name = "snowex"

[stages.dev]
stack_name = "snowex-dev"
region = "us-west-2"
"#;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("snowcdk.toml"), text)
    }

    #[test]
    fn defaults_fill_the_network() {
        let c = parse(GOOD).expect("valid config");
        let dev = c.stage("dev").expect("dev stage");
        assert_eq!(dev.network.vpc_cidr, "10.0.0.0/16");
        assert_eq!(dev.network.az_count, 2);
    }

    #[test]
    fn bad_values_name_file_stage_and_key() {
        let cases = [
            ("vpc_cidr = \"10.0.0.0/33\"", "network.vpc_cidr"),
            ("vpc_cidr = \"10.0.0.1/16\"", "host bits"),
            ("az_count = 1", "network.az_count"),
            ("subnet_prefix = 30", "network.subnet_prefix"),
            ("colour = \"blue\"", "unknown field `colour`"),
            ("az_count = \"two\"", "invalid type"),
        ];
        for (line, want) in cases {
            let text = format!("{GOOD}\n[stages.dev.network]\n{line}\n");
            let err = parse(&text).expect_err(line).to_string();
            assert!(err.contains("snowcdk.toml"), "{err}");
            assert!(err.contains(want), "{line}: {err}");
        }
        let err = parse(&GOOD.replace("us-west-2", "uswest2"))
            .expect_err("bad region")
            .to_string();
        assert!(err.contains("stage dev: region"), "{err}");
        let err = parse("[project]\nname = \"x\"\n[stages.dev]\nregion = \"us-west-2\"\n")
            .expect_err("missing stack_name")
            .to_string();
        assert!(err.contains("missing field `stack_name`"), "{err}");
        let c = parse(GOOD).expect("valid");
        assert!(
            c.stage("qa")
                .expect_err("no qa")
                .to_string()
                .contains("dev")
        );
    }
}
