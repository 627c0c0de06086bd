//! Stage config (`snowcdk.toml`): everything a user may change without writing Rust.
//!
//! The generic tool owns the project name and each stage's generic fields ([`StageConfig`]: stack
//! name, region, account, staging bucket, tags); every other key of a stage belongs to the app
//! and is deserialized into its [`Settings`] type.
//!
//! Parsing is strict: unknown keys, wrong types, bad CIDRs and missing values are errors that name
//! the file, the stage and the key, and nothing is written when the config is bad.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use snowcdk_constructs::l2::staging_bucket;
use snowcdk_constructs::tree::tags;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::regions;

/// The largest config file read: a stage config is a few kilobytes, and a bound keeps
/// `--config /dev/zero`-like mistakes from eating memory.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The tag with the project name, on every taggable resource.
pub const PROJECT_TAG: &str = "Project";
/// The tag with the stage name, on every taggable resource.
pub const STAGE_TAG: &str = "Stage";
/// Every tag snowcdk adds itself (`Project` and `Stage` by the app, `Name` by the network,
/// security group, NAT and bastion constructs): they count towards AWS's 50 tags per resource.
pub const BUILT_IN_TAGS: [&str; 3] = [PROJECT_TAG, STAGE_TAG, tags::NAME];

/// A config error: which file, which stage and key, what is wrong and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file does not exist: most often the command was run from another directory.
    #[error(
        "{file}: no such config file; run {program} from the repository root or pass --config <path to snowcdk.toml>",
        program = crate::app::program_name()
    )]
    NotFound {
        /// The path looked at.
        file: PathBuf,
    },
    /// The file exists but cannot be read (permissions, an I/O error).
    ///
    /// The OS error is part of the message, not a `source`, so that a report printing the chain
    /// does not repeat it.
    #[error("{file}: cannot read the config: {error}")]
    Read {
        /// The config path.
        file: PathBuf,
        /// The OS error, as text.
        error: String,
    },
    /// `--config` names a directory or a special file: reading a FIFO or device could hang.
    #[error("{file}: not a regular file ({kind}); --config takes the path of a snowcdk.toml file")]
    NotRegular {
        /// The path given.
        file: PathBuf,
        /// What it is instead ("a directory", ...).
        kind: &'static str,
    },
    /// The file is far larger than any config: probably the wrong path, not read in full.
    #[error(
        "{file}: the config is over {limit} bytes; a snowcdk.toml is a few kilobytes, check the path"
    )]
    TooLarge {
        /// The path given.
        file: PathBuf,
        /// The size limit in bytes.
        limit: u64,
    },
    /// The file is not UTF-8, which TOML requires.
    #[error("{file}: not UTF-8 text (invalid byte at offset {offset}); save the config as UTF-8")]
    NotUtf8 {
        /// The config path.
        file: PathBuf,
        /// The byte offset of the first invalid byte, to find it in an editor.
        offset: usize,
    },
    /// The text is not valid TOML, has an unknown or misspelled key, a value of the wrong type,
    /// or no stages; the message names the stage, key and line where it can.
    #[error("{file}: {message}")]
    Parse {
        /// The config path.
        file: PathBuf,
        /// What is wrong, where.
        message: String,
    },
    /// A value parsed but is not acceptable (a region AWS does not have, a bad account id, an
    /// app setting out of range).
    #[error("{file}: stage {stage}: {key}: {message}")]
    Invalid {
        /// The config path.
        file: PathBuf,
        /// The stage whose value it is.
        stage: String,
        /// The key, relative to the stage (`account`, `database.instance_class`).
        key: String,
        /// What is wrong and what is accepted.
        message: String,
    },
    /// A command named a stage the config does not have.
    #[error("{file}: no stage named {stage}; the stages are: {known}")]
    UnknownStage {
        /// The config path.
        file: PathBuf,
        /// The stage asked for.
        stage: String,
        /// The config's stages, comma-separated, to spot the typo.
        known: String,
    },
}

/// The keys of a stage table that belong to the generic tool; every other key of the stage is the
/// app's (its [`Settings`]). An app's settings cannot use these names.
pub const STAGE_KEYS: [&str; 5] = ["stack_name", "region", "account", "staging_bucket", "tags"];

/// An app's part of a stage table: its sections (`[stages.<name>.<section>]`) and keys, next to
/// the generic [`StageConfig`] fields.
///
/// Deserialized strictly: derive `Deserialize` with `#[serde(deny_unknown_fields)]`, so that a
/// misspelled key is an error naming the stage and the key. What serde cannot check (ranges,
/// shapes, relations between keys or with the generic fields) goes in [`Settings::validate`].
pub trait Settings: DeserializeOwned + Clone + fmt::Debug {
    /// Checks the values of one stage; `stage` holds the generic fields (region, account, ...).
    fn validate(&self, stage: &StageConfig) -> Result<(), SettingError>;

    /// Local paths (relative to the config file) that synth reads, such as code directories:
    /// synth output must stay clear of them.
    fn source_paths(&self) -> Vec<PathBuf> {
        Vec::new()
    }

    /// Whether the stage's stack is one to protect: deploy turns CloudFormation's termination
    /// protection on for it (and never off). Default: no.
    fn termination_protection(&self) -> bool {
        false
    }
}

/// Any keys, unchecked: for reading only the generic fields of a config written for some app.
impl Settings for toml::Table {
    fn validate(&self, _stage: &StageConfig) -> Result<(), SettingError> {
        Ok(())
    }
}

/// A bad setting: the key (relative to the stage, e.g. `database.instance_class`, or a generic
/// key such as `account`) and what is wrong with it. The loader adds the file and the stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingError {
    /// The key relative to the stage (`queue.retention_days`), as the user wrote it.
    pub key: String,
    /// What is wrong and what is accepted.
    pub message: String,
}

impl SettingError {
    /// An error for `key`, with any displayable message.
    pub fn new(key: impl Into<String>, message: impl fmt::Display) -> Self {
        Self {
            key: key.into(),
            message: message.to_string(),
        }
    }
}

/// The whole config file: the generic part, and the app's settings for every stage.
#[derive(Debug, Clone)]
pub struct Config<S> {
    /// The path it was read from: messages name it, and relative paths in it start from its
    /// directory ([`Config::dir`]).
    pub file: PathBuf,
    /// The `[project]` table.
    pub project: Project,
    /// Stages by name, e.g. `dev` and `prod`: the generic fields.
    pub stages: BTreeMap<String, StageConfig>,
    /// The app's settings, by stage name (the same names as `stages`).
    pub settings: BTreeMap<String, S>,
}

/// The generic part of the file, as deserialized after the app's keys are taken out.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericFile {
    project: Project,
    stages: BTreeMap<String, StageConfig>,
}

/// Settings shared by all stages.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// The project name: the `Project` tag of every resource.
    pub name: String,
}

/// One stage (an environment): one stack. These are the fields every app has; the app's own
/// sections are its [`Settings`].
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
}

impl<S: Settings> Config<S> {
    /// Reads and validates a config file: a regular file of at most [`MAX_CONFIG_BYTES`] of
    /// UTF-8.
    pub fn load(file: &Path) -> Result<Config<S>, ConfigError> {
        let text = read_bounded(file)?;
        Self::parse(file, &text)
    }

    /// Parses and validates config text; `file` is only used in messages.
    ///
    /// Each stage table is split in two before deserializing: the generic keys ([`STAGE_KEYS`])
    /// stay with [`StageConfig`], the rest goes to the app's [`Settings`]. Both halves keep their
    /// positions in the text, so every error still names the stage, the key and the line.
    pub fn parse(file: &Path, text: &str) -> Result<Config<S>, ConfigError> {
        let parse_error = |e: toml::de::Error| ConfigError::Parse {
            file: file.to_owned(),
            message: describe_toml_error(text, &e),
        };
        let root = DeTable::parse(text).map_err(parse_error)?;
        let root_span = root.span();
        let mut root = root.into_inner();
        let app_parts = split_app_keys(&mut root);
        let generic =
            GenericFile::deserialize(toml::de::Deserializer::from(Spanned::new(root_span, root)))
                .map_err(parse_error)?;
        let mut settings = BTreeMap::new();
        for (name, part) in app_parts {
            if generic.stages.contains_key(&name) {
                let stage_keys: Vec<_> = part.get_ref().keys().map(Spanned::span).collect();
                let s = S::deserialize(toml::de::Deserializer::from(part)).map_err(|e| {
                    let at_stage_level = e.span().is_some_and(|s| stage_keys.contains(&s));
                    let mut message = describe_toml_error(text, &e);
                    if at_stage_level {
                        message = with_stage_keys(&message);
                    }
                    ConfigError::Parse {
                        file: file.to_owned(),
                        message,
                    }
                })?;
                settings.insert(name, s);
            }
        }
        let config = Config {
            file: file.to_owned(),
            project: generic.project,
            stages: generic.stages,
            settings,
        };
        config.validate()?;
        Ok(config)
    }

    /// The app's settings of a stage.
    pub fn settings(&self, name: &str) -> Result<&S, ConfigError> {
        self.stage(name)?;
        self.settings
            .get(name)
            .ok_or_else(|| self.parse_error(format!("stage {name}: no settings")))
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.validate_generic()?;
        for (name, s) in &self.stages {
            self.validate_stage(name, s)?;
            let settings = self.settings(name)?;
            settings
                .validate(s)
                .map_err(|e| self.invalid(name, &e.key, e.message))?;
        }
        Ok(())
    }
}

/// An unknown key directly in a stage table: serde lists the app's keys as the expected ones;
/// the generic keys are just as valid there, so they are listed first.
fn with_stage_keys(message: &str) -> String {
    let generic = STAGE_KEYS.map(|k| format!("`{k}`")).join(", ");
    if let Some((head, rest)) = message.split_once(", expected one of ") {
        format!("{head}, expected one of {generic}, {rest}")
    } else if let Some((head, rest)) = message.split_once(", expected `") {
        format!("{head}, expected one of {generic}, `{rest}")
    } else if let Some((head, rest)) = message.split_once(", there are no fields") {
        format!("{head}, expected one of {generic}{rest}")
    } else {
        message.to_owned()
    }
}

/// Takes every non-generic key out of each `[stages.<name>]` table: the app's part of each stage,
/// with the stage table's span (so a missing section is reported at the stage's header).
fn split_app_keys<'i>(root: &mut DeTable<'i>) -> Vec<(String, Spanned<DeTable<'i>>)> {
    let mut parts = Vec::new();
    let Some(stages) = root.get_mut("stages") else {
        return parts;
    };
    let DeValue::Table(stages) = stages.get_mut() else {
        return parts;
    };
    for (name, stage) in stages.iter_mut() {
        let span = stage.span();
        let DeValue::Table(table) = stage.get_mut() else {
            continue;
        };
        let app_keys: Vec<_> = table
            .keys()
            .filter(|k| !STAGE_KEYS.contains(&k.get_ref().as_ref()))
            .cloned()
            .collect();
        let mut part = DeTable::new();
        for k in app_keys {
            if let Some((k, v)) = table.remove_entry(&k) {
                part.insert(k, v);
            }
        }
        parts.push((name.get_ref().to_string(), Spanned::new(span, part)));
    }
    parts
}

impl<S> Config<S> {
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

    /// The directory relative paths in the config are relative to.
    pub fn dir(&self) -> &Path {
        self.file.parent().unwrap_or_else(|| Path::new(""))
    }

    fn parse_error(&self, message: impl fmt::Display) -> ConfigError {
        ConfigError::Parse {
            file: self.file.clone(),
            message: message.to_string(),
        }
    }

    fn invalid(&self, stage: &str, key: &str, message: impl fmt::Display) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.clone(),
            stage: stage.to_owned(),
            key: key.to_owned(),
            message: message.to_string(),
        }
    }

    fn validate_generic(&self) -> Result<(), ConfigError> {
        if self.stages.is_empty() {
            return Err(ConfigError::Parse {
                file: self.file.clone(),
                message: "no stages: add a [stages.dev] table".into(),
            });
        }
        let project = &self.project.name;
        if project.is_empty() {
            return Err(self.parse_error("[project] name: empty; give the project's name"));
        }
        tags::check_value(project).map_err(|e| {
            self.parse_error(format!(
                "[project] name: the project name is the {PROJECT_TAG} tag of every resource: {e}"
            ))
        })?;
        for name in self.stages.keys() {
            let rule = if name.is_empty() {
                Err("empty".to_owned())
            } else {
                tags::check_value(name)
            };
            rule.map_err(|e| {
                self.parse_error(format!(
                    "stage {name:?}: the stage name is the {STAGE_TAG} tag of every resource: {e}; rename [stages.{name}]",
                    name = name.escape_debug()
                ))
            })?;
        }
        Ok(())
    }

    /// The generic fields of one stage.
    fn validate_stage(&self, name: &str, s: &StageConfig) -> Result<(), ConfigError> {
        // Stack names by lower case: CloudFormation and the console treat `App` and `app` as
        // different stacks, which is never what two stages mean.
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
        if let Some((other, _)) = self
            .stages
            .iter()
            .take_while(|(n, _)| *n != name)
            .find(|(_, o)| o.stack_name.eq_ignore_ascii_case(&s.stack_name))
        {
            return Err(self.invalid(
                name,
                "stack_name",
                format!(
                    "{:?} is the stack of stage {other} too (stack names differing only in case count as the same); give each stage its own stack",
                    s.stack_name
                ),
            ));
        }
        if let Some((other, o)) = self
            .stages
            .iter()
            .find(|(other, o)| *other != name && o.stack_name.eq_ignore_ascii_case(name))
        {
            return Err(self.invalid(
                name,
                "stack_name",
                format!(
                    "the stage is named like the stack {:?} of stage {other}, so `--stage {name}` and that stack are easy to mix up; rename the stage or that stack",
                    o.stack_name
                ),
            ));
        }
        if regions::availability_zones(&s.region).is_none() {
            return Err(self.invalid(
                    name,
                    "region",
                    format!(
                        "{:?} is not an AWS region snowcdk knows, such as \"us-west-2\" (the list is in src/regions.rs; add a region AWS opened recently there)",
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
        if let Some(b) = &s.staging_bucket {
            staging_bucket::check_bucket_name(b)
                .map_err(|e| self.invalid(name, "staging_bucket", e))?;
        }
        for (k, v) in &s.tags {
            let key = format!("tags.{}", k.escape_debug());
            tags::check_key(k).map_err(|e| self.invalid(name, &key, e))?;
            tags::check_value(v).map_err(|e| self.invalid(name, &key, e))?;
        }
        let count = s
            .tags
            .keys()
            .filter(|k| !BUILT_IN_TAGS.contains(&k.as_str()))
            .count()
            + BUILT_IN_TAGS.len();
        if count > tags::MAX_TAGS_PER_RESOURCE {
            return Err(self.invalid(
                    name,
                    "tags",
                    format!(
                        "{} tags, so some resources would carry {count} with snowcdk's own {}; AWS allows {} per resource: remove {}",
                        s.tags.len(),
                        BUILT_IN_TAGS.join(", "),
                        tags::MAX_TAGS_PER_RESOURCE,
                        count - tags::MAX_TAGS_PER_RESOURCE
                    ),
                ));
        }
        Ok(())
    }
}

/// Reads a config file: refuses what is not a regular file (a directory, `/dev/zero`, a FIFO)
/// and stops after [`MAX_CONFIG_BYTES`]; every error names the path once.
fn read_bounded(file: &Path) -> Result<String, ConfigError> {
    let io_err = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => ConfigError::NotFound {
            file: file.to_owned(),
        },
        _ => ConfigError::Read {
            file: file.to_owned(),
            error: e.to_string(),
        },
    };
    let meta = std::fs::metadata(file).map_err(io_err)?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a directory"
        } else {
            "a device, pipe or socket"
        };
        return Err(ConfigError::NotRegular {
            file: file.to_owned(),
            kind,
        });
    }
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .map_err(io_err)?
        .take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(ConfigError::TooLarge {
            file: file.to_owned(),
            limit: MAX_CONFIG_BYTES,
        });
    }
    String::from_utf8(bytes).map_err(|e| ConfigError::NotUtf8 {
        file: file.to_owned(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// toml's message, with where it is: the stage and the key (relative to the stage, e.g.
/// `database.instance_class`) when the error is inside a stage, and the line.
fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim().to_owned();
    let Some(span) = e.span() else { return msg };
    let start = span.start.min(text.len());
    let line_no = text[..start].matches('\n').count() + 1;
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or_default().trim();
    let header = |l: &str| {
        let l = l.trim();
        l.strip_prefix('[')
            .and_then(|l| l.split(']').next())
            .map(|t| t.trim_matches(|c| c == '[' || c == ' ').to_owned())
    };
    // The table the error is in: the line itself when it is a header (missing fields, unknown
    // tables), else the last header above it.
    let (mut table, on_header) = match header(line) {
        Some(t) => (t, true),
        None => (
            text[..line_start]
                .lines()
                .rev()
                .find_map(header)
                .unwrap_or_default(),
            false,
        ),
    };
    let field = msg
        .split('`')
        .nth(1)
        .filter(|_| msg.starts_with("unknown field") || msg.starts_with("missing field"))
        .map(str::to_owned);
    let key = match (&field, on_header) {
        (Some(f), true) => {
            // `[stages.dev.lambdas]`: the unknown field is the table's own last segment.
            if table.rsplit('.').next() == Some(f.as_str()) {
                table = table
                    .rsplit_once('.')
                    .map_or(String::new(), |(p, _)| p.to_owned());
            }
            f.clone()
        }
        (Some(f), false) => f.clone(),
        (None, _) => line
            .split_once('=')
            .map(|(k, _)| k.trim().trim_matches('"').to_owned())
            .unwrap_or_default(),
    };
    // An error on a table header that names no field is about the table itself (a table defined
    // twice): say which one instead of an empty key.
    if on_header && field.is_none() {
        let hint = if msg.starts_with("duplicate key") {
            "; the table appears twice, merge the two"
        } else {
            ""
        };
        let mut segments = table.split('.');
        return match (segments.next(), segments.next()) {
            (Some("stages"), Some(stage)) => {
                format!("stage {stage}: [{table}]: {msg}{hint} (line {line_no})")
            }
            _ => format!("[{table}]: {msg}{hint} (line {line_no})"),
        };
    }
    let mut segments = table.split('.').filter(|s| !s.is_empty());
    match (segments.next(), segments.next()) {
        (Some("stages"), Some(stage)) => {
            let section: Vec<&str> = segments.collect();
            let full = section
                .into_iter()
                .chain((!key.is_empty()).then_some(key.as_str()))
                .collect::<Vec<_>>()
                .join(".");
            format!("stage {stage}: {full}: {msg} (line {line_no})")
        }
        _ if !table.is_empty() => format!("[{table}] {key}: {msg} (line {line_no})"),
        _ => format!("line {line_no}: {msg}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny app's settings: one optional section with one key.
    #[derive(Debug, Clone, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Tiny {
        #[serde(default)]
        queue: Option<Queue>,
    }

    #[derive(Debug, Clone, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Queue {
        retention_days: u32,
    }

    impl Settings for Tiny {
        fn validate(&self, _stage: &StageConfig) -> Result<(), SettingError> {
            match &self.queue {
                Some(q) if q.retention_days > 14 => {
                    Err(SettingError::new("queue.retention_days", "at most 14"))
                }
                _ => Ok(()),
            }
        }
    }

    const TINY: &str = "[project]\nname = \"p\"\n\n[stages.dev]\nstack_name = \"p-dev\"\nregion = \"us-west-2\"\ntags = { Team = \"t\" }\n\n[stages.dev.queue]\nretention_days = 4\n";

    fn parse(text: &str) -> Result<Config<Tiny>, ConfigError> {
        Config::parse(Path::new("snowcdk.toml"), text)
    }

    #[test]
    fn generic_fields_and_the_apps_settings_are_split() {
        let c = parse(TINY).expect("valid");
        let dev = c.stage("dev").expect("dev");
        assert_eq!(dev.stack_name, "p-dev");
        assert_eq!(dev.tags["Team"], "t");
        let q = c
            .settings("dev")
            .expect("settings")
            .queue
            .as_ref()
            .map(|q| q.retention_days);
        assert_eq!(q, Some(4));
    }

    #[test]
    fn errors_in_the_apps_part_name_stage_key_and_line() {
        let err = parse(&TINY.replace("retention_days = 4", "retention = 4"))
            .expect_err("unknown key")
            .to_string();
        assert_eq!(
            err,
            "snowcdk.toml: stage dev: queue.retention: unknown field `retention`, expected `retention_days` (line 10)"
        );
        let err = parse(&TINY.replace("[stages.dev.queue]", "[stages.dev.queues]"))
            .expect_err("unknown section")
            .to_string();
        assert!(
            err.contains("stage dev: queues: unknown field `queues`"),
            "{err}"
        );
        let err = parse(&TINY.replace("retention_days = 4", "retention_days = 40"))
            .expect_err("validate")
            .to_string();
        assert_eq!(
            err,
            "snowcdk.toml: stage dev: queue.retention_days: at most 14"
        );
        let err = parse(&TINY.replace("region = \"us-west-2\"", "region = 2"))
            .expect_err("generic type")
            .to_string();
        assert!(
            err.contains("stage dev: region: invalid type: integer"),
            "{err}"
        );
    }
}
