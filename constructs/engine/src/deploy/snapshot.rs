//! Manual DB snapshots (`snowcdk snapshot`): find the instance (a stack's
//! `AWS::RDS::DBInstance`, or any instance by identifier, including one no stack owns), start
//! `CreateDBSnapshot`, and wait for the snapshot to become `available`.
//!
//! This is the first step of the "new stack from a snapshot" route: its ARN goes into a stage's
//! `restore_from_snapshot`. A manual snapshot outlives the instance and the stack, so waiting is
//! only a convenience: when the wait is interrupted or times out the snapshot goes on in AWS,
//! and the messages say how to check on it.

use std::time::{Duration, SystemTime};

use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_rds::types::{DbSnapshot, Tag};

use super::client::{AwsError, Clients, describe, retry_throttled};
use super::ui::Interrupt;

/// How long [`wait_available`] waits by default: a snapshot of a large instance takes hours,
/// the first (full) snapshot of a small one minutes.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(2 * 60 * 60);

/// How often [`wait_available`] asks RDS by default.
pub const DEFAULT_POLL: Duration = Duration::from_secs(15);

/// The CloudFormation type whose physical id `--stage` snapshots.
pub const DB_INSTANCE_TYPE: &str = "AWS::RDS::DBInstance";

/// Why a snapshot could not be made or waited for. `Display` is one sentence with the fix.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// An AWS call failed (endpoint, credentials, permissions, throttling, ...).
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// `--stage`: the stack is not deployed.
    #[error(
        "stack {stack} does not exist in {region}; deploy it first, or pass --db ID to snapshot an instance no stack owns"
    )]
    StackNotFound {
        /// The stack name.
        stack: String,
        /// The region asked.
        region: String,
    },
    /// `--stage`: the stack owns no DB instance.
    #[error(
        "stack {stack} in {region} has no {DB_INSTANCE_TYPE}; pass --db ID to snapshot an instance no stack owns"
    )]
    NoInstance {
        /// The stack name.
        stack: String,
        /// The region asked.
        region: String,
    },
    /// `--stage`: the stack owns several DB instances and `--resource` did not pick one.
    #[error(
        "stack {stack} in {region} has several {DB_INSTANCE_TYPE} resources ({found}); pass --resource LOGICAL_ID to pick one"
    )]
    SeveralInstances {
        /// The stack name.
        stack: String,
        /// The region asked.
        region: String,
        /// `Logical (physical)`, comma-separated.
        found: String,
    },
    /// `--resource` names no DB instance of the stack.
    #[error(
        "stack {stack} in {region} has no {DB_INSTANCE_TYPE} with the logical id {resource} (its DB instances: {found})"
    )]
    NoSuchResource {
        /// The stack name.
        stack: String,
        /// The region asked.
        region: String,
        /// The logical id given.
        resource: String,
        /// The stack's DB instances' logical ids, comma-separated (`none`).
        found: String,
    },
    /// The stack's instance has no physical id yet (its create has not started or failed).
    #[error(
        "the DB instance {resource} of stack {stack} in {region} has not been created (status {status}); deploy the stack first"
    )]
    NotCreated {
        /// The stack name.
        stack: String,
        /// The region asked.
        region: String,
        /// The logical id.
        resource: String,
        /// Its resource status.
        status: String,
    },
    /// `CreateDBSnapshot` or `DescribeDBSnapshots` named an instance that does not exist.
    #[error(
        "there is no DB instance {db} in {region} (DBInstanceNotFound); `aws rds describe-db-instances --query 'DBInstances[].DBInstanceIdentifier'{flags}` lists them"
    )]
    InstanceNotFound {
        /// The instance identifier.
        db: String,
        /// The region asked.
        region: String,
        /// ` --region R ...` for the suggested command.
        flags: String,
    },
    /// The instance cannot be snapshotted in its current state (stopped, being created, ...).
    #[error(
        "cannot snapshot the DB instance {db} in {region}: it is not in a state that allows one ({message}); wait until it is `available` and run again"
    )]
    InstanceState {
        /// The instance identifier.
        db: String,
        /// The region asked.
        region: String,
        /// RDS's message.
        message: String,
    },
    /// A snapshot with this identifier exists already.
    #[error(
        "a DB snapshot named {id} already exists in {region} (DBSnapshotAlreadyExists); pass another --snapshot-id, or use that snapshot"
    )]
    AlreadyExists {
        /// The snapshot identifier.
        id: String,
        /// The region asked.
        region: String,
    },
    /// `--snapshot-id` breaks RDS's naming rules.
    #[error("--snapshot-id {id:?}: {why}")]
    BadSnapshotId {
        /// The identifier given.
        id: String,
        /// Which rule it breaks.
        why: String,
    },
    /// The snapshot ended in a state other than `available`.
    #[error(
        "the snapshot {id} of the DB instance {db} in {region} ended with status {status}; it cannot be restored from. Check the instance's events (`aws rds describe-events --source-type db-instance --source-identifier {db}{flags}`) and take another"
    )]
    Failed {
        /// The snapshot identifier.
        id: String,
        /// The instance identifier.
        db: String,
        /// The region.
        region: String,
        /// The final status.
        status: String,
        /// ` --region R ...` for the suggested command.
        flags: String,
    },
    /// The snapshot vanished while it was waited for (deleted by someone else).
    #[error(
        "the snapshot {id} of the DB instance {db} in {region} no longer exists (DBSnapshotNotFound): it was deleted while being created"
    )]
    Vanished {
        /// The snapshot identifier.
        id: String,
        /// The instance identifier.
        db: String,
        /// The region.
        region: String,
    },
    /// The wait ended before the snapshot was available.
    #[error(
        "the snapshot {id} of the DB instance {db} in {region} was not available after {waited} s (status {status}); it goes on in AWS: check it with `{check}`"
    )]
    TimedOut {
        /// The snapshot identifier.
        id: String,
        /// The instance identifier.
        db: String,
        /// The region.
        region: String,
        /// The seconds waited.
        waited: u64,
        /// The last status seen, with its progress.
        status: String,
        /// The command that shows the snapshot's status.
        check: String,
    },
}

/// A snapshot as last seen.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SnapshotInfo {
    /// `DBSnapshotIdentifier`.
    pub id: String,
    /// `DBSnapshotArn` (what `restore_from_snapshot` takes).
    pub arn: String,
    /// The instance it is a snapshot of.
    pub db_instance: String,
    /// `creating`, `available`, `failed`, ...
    pub status: String,
    /// `PercentProgress`, when RDS reports it.
    pub percent: Option<i32>,
    /// The region.
    pub region: String,
}

impl SnapshotInfo {
    fn from_sdk(s: &DbSnapshot, fallback_id: &str, db: &str, region: &str) -> SnapshotInfo {
        SnapshotInfo {
            id: s.db_snapshot_identifier().unwrap_or(fallback_id).to_owned(),
            arn: s.db_snapshot_arn().unwrap_or_default().to_owned(),
            db_instance: s.db_instance_identifier().unwrap_or(db).to_owned(),
            status: s.status().unwrap_or("unknown").to_owned(),
            percent: s.percent_progress(),
            region: region.to_owned(),
        }
    }

    /// `creating (40 %)`, or the status alone when RDS sends no progress.
    pub fn progress(&self) -> String {
        match self.percent {
            Some(p) => format!("{} ({p} %)", self.status),
            None => self.status.clone(),
        }
    }
}

/// The physical id of the stack's DB instance: the only one, or the one `resource` names.
pub async fn instance_of_stack(
    clients: &Clients,
    stack: &str,
    resource: Option<&str>,
) -> Result<String, SnapshotError> {
    let region = clients.region.clone();
    let res = retry_throttled(|| {
        clients
            .cfn
            .describe_stack_resources()
            .stack_name(stack)
            .send()
    })
    .await;
    let out = match res {
        Ok(o) => o,
        Err(e)
            if e.code() == Some("ValidationError")
                && e.message().is_some_and(|m| m.contains("does not exist")) =>
        {
            return Err(SnapshotError::StackNotFound {
                stack: stack.to_owned(),
                region,
            });
        }
        Err(e) => {
            return Err(describe(
                &format!("list the resources of stack {stack} in {region}"),
                &e,
                clients,
            )
            .into());
        }
    };
    let dbs: Vec<_> = out
        .stack_resources()
        .iter()
        .filter(|r| r.resource_type() == Some(DB_INSTANCE_TYPE))
        .collect();
    let listed = |with_physical: bool| {
        let names: Vec<String> = dbs
            .iter()
            .map(|r| {
                let l = r.logical_resource_id().unwrap_or("?");
                match (with_physical, r.physical_resource_id()) {
                    (true, Some(p)) => format!("{l} ({p})"),
                    _ => l.to_owned(),
                }
            })
            .collect();
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    };
    let chosen = match (resource, dbs.as_slice()) {
        (_, []) => {
            return Err(SnapshotError::NoInstance {
                stack: stack.to_owned(),
                region,
            });
        }
        (Some(want), _) => match dbs.iter().find(|r| r.logical_resource_id() == Some(want)) {
            Some(r) => *r,
            None => {
                return Err(SnapshotError::NoSuchResource {
                    stack: stack.to_owned(),
                    region,
                    resource: want.to_owned(),
                    found: listed(false),
                });
            }
        },
        (None, [only]) => *only,
        (None, _) => {
            return Err(SnapshotError::SeveralInstances {
                stack: stack.to_owned(),
                region,
                found: listed(true),
            });
        }
    };
    match chosen.physical_resource_id().filter(|p| !p.is_empty()) {
        Some(p) => Ok(p.to_owned()),
        None => Err(SnapshotError::NotCreated {
            stack: stack.to_owned(),
            region,
            resource: chosen.logical_resource_id().unwrap_or("?").to_owned(),
            status: chosen
                .resource_status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_else(|| "unknown".into()),
        }),
    }
}

/// `<db>-<UTC yyyymmdd-hhmmss>`: sorts by time, and valid for RDS whenever `db` is a valid
/// instance identifier (which starts with a letter and never ends with a hyphen).
pub fn default_snapshot_id(db: &str, now: SystemTime) -> String {
    let secs = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{}-{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        db.to_ascii_lowercase(),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar (Howard
/// Hinnant's `civil_from_days`), so the default id needs no date crate.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// RDS's rules for a DB snapshot identifier: 1-255 letters, digits and hyphens, starting with
/// a letter, not ending with a hyphen, no two hyphens in a row.
pub fn check_snapshot_id(id: &str) -> Result<(), String> {
    let ok = (1..=255).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !id.ends_with('-')
        && !id.contains("--");
    if ok {
        Ok(())
    } else {
        Err("use 1-255 letters, digits and hyphens, starting with a letter, without \"--\" or a trailing hyphen (RDS's rules)".into())
    }
}

/// The command that shows a snapshot's status, for messages.
pub fn check_command(clients: &Clients, id: &str) -> String {
    format!(
        "aws rds describe-db-snapshots --db-snapshot-identifier {id} --query 'DBSnapshots[0].[Status,PercentProgress,DBSnapshotArn]'{}",
        clients.aws_cli_flags()
    )
}

/// Starts a manual snapshot of `db` named `id`, tagged as made by this program and naming its
/// instance (a manual snapshot outlives both, and the tags say where it came from).
pub async fn create(clients: &Clients, db: &str, id: &str) -> Result<SnapshotInfo, SnapshotError> {
    check_snapshot_id(id).map_err(|why| SnapshotError::BadSnapshotId {
        id: id.to_owned(),
        why,
    })?;
    let region = clients.region.clone();
    let tags = [
        Tag::builder()
            .key("snowcdk:created-by")
            .value(format!("{} snapshot", crate::app::program_name()))
            .build(),
        Tag::builder().key("snowcdk:source-db").value(db).build(),
    ];
    let res = retry_throttled(|| {
        clients
            .rds
            .create_db_snapshot()
            .db_instance_identifier(db)
            .db_snapshot_identifier(id)
            .set_tags(Some(tags.to_vec()))
            .send()
    })
    .await;
    match res {
        Ok(o) => match o.db_snapshot() {
            Some(s) => Ok(SnapshotInfo::from_sdk(s, id, db, &region)),
            None => Ok(SnapshotInfo {
                id: id.to_owned(),
                arn: String::new(),
                db_instance: db.to_owned(),
                status: "creating".into(),
                percent: None,
                region,
            }),
        },
        Err(e) => {
            let svc = e.as_service_error();
            let code = e.code().unwrap_or_default();
            if svc.is_some_and(|s| s.is_db_instance_not_found_fault())
                || code == "DBInstanceNotFound"
            {
                Err(SnapshotError::InstanceNotFound {
                    db: db.to_owned(),
                    region,
                    flags: clients.aws_cli_flags(),
                })
            } else if svc.is_some_and(|s| s.is_db_snapshot_already_exists_fault())
                || code == "DBSnapshotAlreadyExists"
            {
                Err(SnapshotError::AlreadyExists {
                    id: id.to_owned(),
                    region,
                })
            } else if svc.is_some_and(|s| s.is_invalid_db_instance_state_fault())
                || code == "InvalidDBInstanceState"
            {
                Err(SnapshotError::InstanceState {
                    db: db.to_owned(),
                    region,
                    message: e.message().unwrap_or(code).to_owned(),
                })
            } else {
                Err(describe(
                    &format!("snapshot the DB instance {db} in {region}"),
                    &e,
                    clients,
                )
                .into())
            }
        }
    }
}

/// Reads one snapshot; `Ok(None)` when RDS has no snapshot by that identifier.
pub async fn describe_snapshot(
    clients: &Clients,
    id: &str,
    db: &str,
) -> Result<Option<SnapshotInfo>, SnapshotError> {
    let res = retry_throttled(|| {
        clients
            .rds
            .describe_db_snapshots()
            .db_snapshot_identifier(id)
            .send()
    })
    .await;
    match res {
        Ok(o) => Ok(o
            .db_snapshots()
            .first()
            .map(|s| SnapshotInfo::from_sdk(s, id, db, &clients.region))),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_db_snapshot_not_found_fault())
                || e.code() == Some("DBSnapshotNotFound") =>
        {
            Ok(None)
        }
        Err(e) => Err(describe(
            &format!("read the DB snapshot {id} in {}", clients.region),
            &e,
            clients,
        )
        .into()),
    }
}

/// How [`wait_available`] waits.
#[derive(Debug, Clone, Copy)]
pub struct WaitOptions {
    /// Between two `DescribeDBSnapshots`.
    pub poll: Duration,
    /// Give up (an error) after this long.
    pub max_wait: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            poll: DEFAULT_POLL,
            max_wait: DEFAULT_MAX_WAIT,
        }
    }
}

/// How a wait ended, when it is not an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitEnd {
    /// The snapshot is `available`.
    Available(SnapshotInfo),
    /// A signal stopped the wait; the snapshot goes on in AWS. The last state seen.
    Interrupted(SnapshotInfo),
}

/// Polls the snapshot until it is `available`, calling `progress` with each new status line.
/// `failed` or `error` (or any status from which no snapshot comes) is an error; so is
/// `max_wait` passing. `interrupt` stops the wait (the snapshot goes on in AWS).
pub async fn wait_available(
    clients: &Clients,
    start: SnapshotInfo,
    opts: WaitOptions,
    interrupt: &mut Interrupt,
    progress: &mut dyn FnMut(&SnapshotInfo),
) -> Result<WaitEnd, SnapshotError> {
    let began = tokio::time::Instant::now();
    let mut last = start;
    let mut shown: Option<(String, Option<i32>)> = None;
    loop {
        let seen = match interrupt
            .guard(describe_snapshot(clients, &last.id, &last.db_instance))
            .await
        {
            None => return Ok(WaitEnd::Interrupted(last)),
            Some(r) => r?,
        };
        let Some(mut now) = seen else {
            return Err(SnapshotError::Vanished {
                id: last.id.clone(),
                db: last.db_instance.clone(),
                region: clients.region.clone(),
            });
        };
        if now.arn.is_empty() {
            now.arn = last.arn.clone();
        }
        let key = (now.status.clone(), now.percent);
        if shown.as_ref() != Some(&key) {
            progress(&now);
            shown = Some(key);
        }
        match now.status.as_str() {
            "available" => return Ok(WaitEnd::Available(now)),
            "creating" | "pending" | "copying" | "modifying" | "unknown" => {}
            _ => {
                return Err(SnapshotError::Failed {
                    id: now.id,
                    db: now.db_instance,
                    region: clients.region.clone(),
                    status: now.status,
                    flags: clients.aws_cli_flags(),
                });
            }
        }
        last = now;
        let elapsed = began.elapsed();
        if elapsed >= opts.max_wait {
            return Err(SnapshotError::TimedOut {
                check: check_command(clients, &last.id),
                id: last.id.clone(),
                db: last.db_instance.clone(),
                region: clients.region.clone(),
                waited: elapsed.as_secs(),
                status: last.progress(),
            });
        }
        let nap = opts.poll.min(opts.max_wait - elapsed);
        if interrupt.guard(tokio::time::sleep(nap)).await.is_none() {
            return Ok(WaitEnd::Interrupted(last));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_rds::operation::create_db_snapshot::{
        CreateDBSnapshotError, CreateDbSnapshotOutput,
    };
    use aws_sdk_rds::operation::describe_db_snapshots::DescribeDbSnapshotsOutput;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    #[test]
    fn default_ids_are_the_instance_and_the_utc_time_and_valid_for_rds() {
        // 2026-12-03 18:39:24 UTC.
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_323_164);
        let id = default_snapshot_id("snowexdb", t);
        assert_eq!(id, "snowexdb-20261203-183924");
        assert_eq!(check_snapshot_id(&id), Ok(()));
        // A leap day and the epoch.
        let leap = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(default_snapshot_id("db", leap), "db-20000229-000000");
        assert_eq!(
            default_snapshot_id("db", SystemTime::UNIX_EPOCH),
            "db-19700101-000000"
        );
        for bad in ["", "1abc", "a--b", "a-", "a_b", &"a".repeat(256)] {
            assert!(check_snapshot_id(bad).is_err(), "{bad}");
        }
    }

    fn snap(status: &str, pct: i32) -> DbSnapshot {
        DbSnapshot::builder()
            .db_snapshot_identifier("s1")
            .db_instance_identifier("db1")
            .db_snapshot_arn("arn:aws:rds:us-east-1:123456789012:snapshot:s1")
            .status(status)
            .percent_progress(pct)
            .build()
    }

    fn clients(rules: &[aws_smithy_mocks::Rule]) -> Clients {
        let cfn = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, &[]);
        Clients::from_cfn(cfn).with_rds(mock_client!(aws_sdk_rds, RuleMode::Sequential, rules))
    }

    fn start() -> SnapshotInfo {
        SnapshotInfo::from_sdk(&snap("creating", 0), "s1", "db1", "us-east-1")
    }

    fn fast() -> WaitOptions {
        WaitOptions {
            poll: Duration::from_millis(1),
            max_wait: Duration::from_secs(30),
        }
    }

    fn describes(states: &[(&str, i32)]) -> Vec<aws_smithy_mocks::Rule> {
        states
            .iter()
            .map(|(s, p)| {
                let (s, p) = (s.to_string(), *p);
                mock!(aws_sdk_rds::Client::describe_db_snapshots).then_output(move || {
                    DescribeDbSnapshotsOutput::builder()
                        .db_snapshots(snap(&s, p))
                        .build()
                })
            })
            .collect()
    }

    #[tokio::test]
    async fn the_wait_reports_each_new_progress_and_ends_available() {
        let c = clients(&describes(&[
            ("creating", 10),
            ("creating", 10),
            ("creating", 60),
            ("available", 100),
        ]));
        let (_h, mut intr) = Interrupt::manual();
        let mut seen = Vec::new();
        let end = wait_available(&c, start(), fast(), &mut intr, &mut |s| {
            seen.push(s.progress())
        })
        .await
        .expect("wait");
        assert_eq!(
            seen,
            ["creating (10 %)", "creating (60 %)", "available (100 %)"]
        );
        match end {
            WaitEnd::Available(s) => {
                assert_eq!(s.arn, "arn:aws:rds:us-east-1:123456789012:snapshot:s1")
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_failed_snapshot_is_an_error_naming_it_the_instance_and_the_region() {
        let c = clients(&describes(&[("creating", 10), ("failed", 10)]));
        let (_h, mut intr) = Interrupt::manual();
        let err = wait_available(&c, start(), fast(), &mut intr, &mut |_| {})
            .await
            .expect_err("failed");
        let msg = err.to_string();
        assert!(
            msg.starts_with(
                "the snapshot s1 of the DB instance db1 in us-east-1 ended with status failed"
            ),
            "{msg}"
        );
    }

    #[tokio::test]
    async fn a_wait_longer_than_allowed_times_out_and_says_how_to_check() {
        let c = clients(&describes(&[("creating", 5); 6]));
        let (_h, mut intr) = Interrupt::manual();
        let opts = WaitOptions {
            poll: Duration::from_millis(20),
            max_wait: Duration::from_millis(30),
        };
        let err = wait_available(&c, start(), opts, &mut intr, &mut |_| {})
            .await
            .expect_err("timed out");
        let msg = err.to_string();
        assert!(msg.contains("was not available after"), "{msg}");
        assert!(
            msg.contains("(status creating (5 %)); it goes on in AWS"),
            "{msg}"
        );
        assert!(
            msg.contains("aws rds describe-db-snapshots --db-snapshot-identifier s1"),
            "{msg}"
        );
    }

    #[tokio::test]
    async fn an_interrupt_stops_the_wait_with_the_last_state() {
        let c = clients(&describes(&[("creating", 40)]));
        let (h, mut intr) = Interrupt::manual();
        let opts = WaitOptions {
            poll: Duration::from_secs(3600),
            max_wait: Duration::from_secs(7200),
        };
        let end = wait_available(&c, start(), opts, &mut intr, &mut |_| h.trigger()).await;
        match end.expect("interrupted, not an error") {
            WaitEnd::Interrupted(s) => assert_eq!(s.progress(), "creating (40 %)"),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn create_names_a_missing_instance_and_the_region() {
        let missing = mock!(aws_sdk_rds::Client::create_db_snapshot).then_error(|| {
            CreateDBSnapshotError::DbInstanceNotFoundFault(
                aws_sdk_rds::types::error::DbInstanceNotFoundFault::builder()
                    .message("DBInstance nope not found.")
                    .build(),
            )
        });
        let c = clients(&[missing]);
        let err = create(&c, "nope", "nope-1").await.expect_err("missing");
        assert!(
            err.to_string()
                .starts_with("there is no DB instance nope in us-east-1 (DBInstanceNotFound)"),
            "{err}"
        );
        let ok = mock!(aws_sdk_rds::Client::create_db_snapshot)
            .match_requests(|r| {
                r.db_instance_identifier() == Some("db1")
                    && r.tags()
                        .iter()
                        .any(|t| t.key() == Some("snowcdk:source-db") && t.value() == Some("db1"))
            })
            .then_output(|| {
                CreateDbSnapshotOutput::builder()
                    .db_snapshot(snap("creating", 0))
                    .build()
            });
        let c = clients(&[ok]);
        let s = create(&c, "db1", "s1").await.expect("created");
        assert_eq!(s.status, "creating");
        assert!(matches!(
            create(&c, "db1", "bad--id").await,
            Err(SnapshotError::BadSnapshotId { .. })
        ));
    }
}
