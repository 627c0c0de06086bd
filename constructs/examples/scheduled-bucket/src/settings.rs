//! The app's part of each stage in `snowcdk.toml`: `[stages.<name>.bucket]` and
//! `[stages.<name>.job]`. Unknown keys are refused (`deny_unknown_fields`); the loader reports
//! every error with the file, the stage and the key, e.g.
//! `snowcdk.toml: stage dev: job.memory_mb: 64 MB: Lambda allows 128 to 10240`.

use std::path::PathBuf;

use serde::Deserialize;
use snowcdk_constructs::l2::vpc_lambda::LOG_RETENTION_DAYS;
use snowcdk_engine::config::{SettingError, Settings, StageConfig};

/// One stage's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSettings {
    /// The bucket (optional section).
    #[serde(default)]
    pub bucket: BucketSettings,
    /// The scheduled job (required).
    pub job: JobSettings,
}

/// `[stages.<name>.bucket]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketSettings {
    /// Objects are deleted this many days after they are written; absent: kept.
    #[serde(default)]
    pub expire_after_days: Option<u32>,
}

/// `[stages.<name>.job]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSettings {
    /// The code: a directory or .zip, relative to the config file.
    pub code_path: PathBuf,
    /// e.g. `python3.13`.
    pub runtime: String,
    /// e.g. `handler.handler`.
    pub handler: String,
    /// An EventBridge schedule: `rate(1 hour)` or `cron(0 12 * * ? *)`.
    pub schedule: String,
    #[serde(default = "default_memory")]
    pub memory_mb: u32,
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u32,
    #[serde(default = "default_log_retention")]
    pub log_retention_days: u32,
}

fn default_memory() -> u32 {
    256
}

fn default_timeout() -> u32 {
    60
}

fn default_log_retention() -> u32 {
    14
}

/// Whether `s` has the shape of an EventBridge schedule expression.
pub fn is_schedule(s: &str) -> bool {
    let inner = |prefix: &str| {
        s.strip_prefix(prefix)
            .and_then(|r| r.strip_suffix(')'))
            .is_some_and(|r| !r.trim().is_empty())
    };
    inner("rate(") || inner("cron(")
}

impl Settings for AppSettings {
    fn validate(&self, _stage: &StageConfig) -> Result<(), SettingError> {
        let j = &self.job;
        if j.code_path.as_os_str().is_empty() {
            return Err(SettingError::new(
                "job.code_path",
                "empty: give a directory or .zip file relative to the config file",
            ));
        }
        for (key, v) in [("job.runtime", &j.runtime), ("job.handler", &j.handler)] {
            if v.trim().is_empty() {
                return Err(SettingError::new(key, "empty"));
            }
        }
        if !is_schedule(&j.schedule) {
            return Err(SettingError::new(
                "job.schedule",
                format!(
                    "{:?} is not a schedule expression such as \"rate(1 hour)\" or \"cron(0 12 * * ? *)\"",
                    j.schedule
                ),
            ));
        }
        if !(128..=10240).contains(&j.memory_mb) {
            return Err(SettingError::new(
                "job.memory_mb",
                format!("{} MB: Lambda allows 128 to 10240", j.memory_mb),
            ));
        }
        if !(1..=900).contains(&j.timeout_seconds) {
            return Err(SettingError::new(
                "job.timeout_seconds",
                format!("{} s: Lambda allows 1 to 900", j.timeout_seconds),
            ));
        }
        if !LOG_RETENTION_DAYS.contains(&j.log_retention_days) {
            return Err(SettingError::new(
                "job.log_retention_days",
                format!(
                    "{} is not a retention CloudWatch Logs accepts: {LOG_RETENTION_DAYS:?}",
                    j.log_retention_days
                ),
            ));
        }
        if self.bucket.expire_after_days == Some(0) {
            return Err(SettingError::new(
                "bucket.expire_after_days",
                "0 would delete every object at once; remove the key to keep objects",
            ));
        }
        Ok(())
    }

    fn source_paths(&self) -> Vec<PathBuf> {
        vec![self.job.code_path.clone()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules() {
        assert!(is_schedule("rate(1 hour)"));
        assert!(is_schedule("cron(0 12 * * ? *)"));
        assert!(!is_schedule("every hour"));
        assert!(!is_schedule("rate()"));
    }
}
