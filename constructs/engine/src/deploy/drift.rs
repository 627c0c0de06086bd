//! Drift: what changed on a stack's resources outside CloudFormation (a console edit, a CLI
//! call by an administrator). CloudFormation compares each resource's live configuration with
//! the template's; the next deploy that touches a drifted resource overwrites the manual change
//! without a word, so `drift` shows it and `deploy` warns about it first.
//!
//! [`detect`] runs a fresh detection (`DetectStackDrift`, then polls
//! `DescribeStackDriftDetectionStatus`, then reads `DescribeStackResourceDrifts`); [`last`] reads
//! the result of the stack's last detection without starting one. Both give a [`DriftReport`],
//! the typed result other code (`drift`, `deploy`, `import`'s verification) works with.
//! [`warn_before_changes`] is deploy's hook.

use std::time::Duration;

use aws_sdk_cloudformation::types::{
    StackDriftDetectionStatus, StackDriftStatus, StackResourceDrift, StackResourceDriftStatus,
};
use serde::Serialize;

use super::changes::{Action, ClassifiedChange, Replacement};
use super::client::{AwsError, Clients, describe, retry_throttled};
use super::stack::is_missing_stack;
use super::ui::Console;

/// A stack's drift, as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StackDrift {
    /// Every checked resource matches the template.
    InSync,
    /// At least one resource was modified or deleted outside CloudFormation.
    Drifted,
    /// CloudFormation did not say (never checked, or a status newer than this code).
    Unknown,
}

impl StackDrift {
    fn from_sdk(s: Option<&StackDriftStatus>) -> StackDrift {
        match s {
            Some(StackDriftStatus::InSync) => StackDrift::InSync,
            Some(StackDriftStatus::Drifted) => StackDrift::Drifted,
            _ => StackDrift::Unknown,
        }
    }

    /// CloudFormation's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            StackDrift::InSync => "IN_SYNC",
            StackDrift::Drifted => "DRIFTED",
            StackDrift::Unknown => "UNKNOWN",
        }
    }
}

/// One resource's drift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResourceDriftStatus {
    /// Its live configuration differs from the template's (see the differences).
    Modified,
    /// It no longer exists.
    Deleted,
    /// Its type does not support drift detection, or it could not be checked.
    NotChecked,
    /// It matches the template.
    InSync,
    /// A status newer than this code, kept as CloudFormation spelled it.
    #[serde(untagged)]
    Other(String),
}

impl ResourceDriftStatus {
    fn from_sdk(s: Option<&StackResourceDriftStatus>) -> ResourceDriftStatus {
        match s {
            Some(StackResourceDriftStatus::Modified) => ResourceDriftStatus::Modified,
            Some(StackResourceDriftStatus::Deleted) => ResourceDriftStatus::Deleted,
            Some(StackResourceDriftStatus::NotChecked) => ResourceDriftStatus::NotChecked,
            Some(StackResourceDriftStatus::InSync) => ResourceDriftStatus::InSync,
            Some(other) => ResourceDriftStatus::Other(other.as_str().to_owned()),
            None => ResourceDriftStatus::Other("UNKNOWN".into()),
        }
    }

    /// CloudFormation's name for it.
    pub fn as_str(&self) -> &str {
        match self {
            ResourceDriftStatus::Modified => "MODIFIED",
            ResourceDriftStatus::Deleted => "DELETED",
            ResourceDriftStatus::NotChecked => "NOT_CHECKED",
            ResourceDriftStatus::InSync => "IN_SYNC",
            ResourceDriftStatus::Other(s) => s,
        }
    }

    /// Modified or deleted outside CloudFormation.
    pub fn is_drifted(&self) -> bool {
        matches!(
            self,
            ResourceDriftStatus::Modified | ResourceDriftStatus::Deleted
        )
    }
}

/// One property whose live value differs from the template's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PropertyDifference {
    /// The property's path in the resource's properties, e.g. `/MemorySize`.
    pub path: String,
    /// The template's value (CloudFormation's text of it).
    pub expected: Option<String>,
    /// The live value.
    pub actual: Option<String>,
    /// `ADD`, `REMOVE` or `NOT_EQUAL`.
    pub difference_type: String,
}

/// One resource's drift detection result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceDrift {
    /// The resource's logical id in the template.
    pub logical_id: String,
    /// Its CloudFormation type.
    pub resource_type: String,
    /// The name AWS knows it by.
    pub physical_id: Option<String>,
    /// Whether it drifted.
    pub status: ResourceDriftStatus,
    /// What differs (for [`ResourceDriftStatus::Modified`]).
    pub differences: Vec<PropertyDifference>,
}

impl ResourceDrift {
    fn from_sdk(d: &StackResourceDrift) -> ResourceDrift {
        ResourceDrift {
            logical_id: d.logical_resource_id().unwrap_or_default().to_owned(),
            resource_type: d.resource_type().unwrap_or_default().to_owned(),
            physical_id: d.physical_resource_id().map(str::to_owned),
            status: ResourceDriftStatus::from_sdk(d.stack_resource_drift_status()),
            differences: d
                .property_differences()
                .iter()
                .map(|p| PropertyDifference {
                    path: p.property_path().unwrap_or_default().to_owned(),
                    expected: p.expected_value().map(str::to_owned),
                    actual: p.actual_value().map(str::to_owned),
                    difference_type: p
                        .difference_type()
                        .map(|t| t.as_str().to_owned())
                        .unwrap_or_default(),
                })
                .collect(),
        }
    }
}

/// A stack's drift: the typed result of [`detect`] or [`last`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriftReport {
    /// The stack, as asked for.
    pub stack: String,
    /// Its region.
    pub region: String,
    /// The stack's drift as a whole.
    pub status: StackDrift,
    /// When CloudFormation checked (ISO 8601, UTC), when it said.
    pub checked_at: Option<String>,
    /// The detection's id (`None` for a [`last`] result).
    pub detection_id: Option<String>,
    /// Every resource CloudFormation reported, by logical id.
    pub resources: Vec<ResourceDrift>,
}

impl DriftReport {
    /// The resources modified or deleted outside CloudFormation.
    pub fn drifted(&self) -> impl Iterator<Item = &ResourceDrift> {
        self.resources.iter().filter(|r| r.status.is_drifted())
    }

    /// True when anything drifted (whatever the stack's overall status says).
    pub fn is_drifted(&self) -> bool {
        self.status == StackDrift::Drifted || self.drifted().next().is_some()
    }

    /// How many resources have `status`.
    pub fn count(&self, status: &ResourceDriftStatus) -> usize {
        self.resources
            .iter()
            .filter(|r| &r.status == status)
            .count()
    }

    /// The drifted resources as a table, one row per property difference (path, expected,
    /// actual); deleted resources have one row. Empty when nothing drifted. Long values are cut
    /// (`--json` has them whole).
    pub fn render_table(&self) -> String {
        let mut rows: Vec<[String; 6]> = vec![[
            "RESOURCE".into(),
            "TYPE".into(),
            "DRIFT".into(),
            "PROPERTY".into(),
            "EXPECTED".into(),
            "ACTUAL".into(),
        ]];
        for r in self.drifted() {
            let head = [
                r.logical_id.clone(),
                r.resource_type.clone(),
                r.status.as_str().to_owned(),
            ];
            if r.differences.is_empty() {
                rows.push([
                    head[0].clone(),
                    head[1].clone(),
                    head[2].clone(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ]);
            }
            for (i, d) in r.differences.iter().enumerate() {
                let h = |k: usize| {
                    if i == 0 {
                        head[k].clone()
                    } else {
                        String::new()
                    }
                };
                rows.push([
                    h(0),
                    h(1),
                    h(2),
                    d.path.clone(),
                    cell(d.expected.as_deref()),
                    cell(d.actual.as_deref()),
                ]);
            }
        }
        if rows.len() == 1 {
            return String::new();
        }
        let mut widths = [0usize; 6];
        for row in &rows {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        rows.iter()
            .map(|row| {
                let mut line = String::new();
                for (i, (c, w)) in row.iter().zip(widths).enumerate() {
                    if i + 1 == row.len() {
                        line.push_str(c);
                    } else {
                        line.push_str(&format!("{c:<w$}  "));
                    }
                }
                line.trim_end().to_owned()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// One line: the stack, its status and the counts.
    pub fn summary(&self) -> String {
        let drifted = if self.is_drifted() {
            "DRIFTED"
        } else {
            self.status.as_str()
        };
        format!(
            "{} in {}: {drifted}: {} modified, {} deleted, {} in sync, {} not checked{}",
            self.stack,
            self.region,
            self.count(&ResourceDriftStatus::Modified),
            self.count(&ResourceDriftStatus::Deleted),
            self.count(&ResourceDriftStatus::InSync),
            self.count(&ResourceDriftStatus::NotChecked),
            self.checked_at
                .as_deref()
                .map(|t| format!(" (checked {t})"))
                .unwrap_or_default()
        )
    }
}

/// A table cell: one line, at most 60 characters.
fn cell(v: Option<&str>) -> String {
    let v = v.unwrap_or("(none)").split_whitespace().collect::<Vec<_>>();
    let v = v.join(" ");
    if v.chars().count() > 60 {
        format!("{}...", v.chars().take(57).collect::<String>())
    } else {
        v
    }
}

/// Why drift could not be told.
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    /// An AWS call failed (endpoint, credentials, permissions, a stack in an operation).
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The stack does not exist.
    #[error(
        "stack {stack} does not exist in {region}; deploy it first (`{program} deploy {stack}`), or pass --region if it is elsewhere"
    )]
    StackMissing {
        /// The stack as asked for.
        stack: String,
        /// Where it was looked for.
        region: String,
        /// The program name, for the command.
        program: &'static str,
    },
    /// CloudFormation's detection failed (for some resource or the whole stack).
    #[error(
        "drift detection of {stack} in {region} failed: {reason}; see `aws cloudformation describe-stack-drift-detection-status --stack-drift-detection-id {id}{flags}`"
    )]
    DetectionFailed {
        /// The stack.
        stack: String,
        /// Its region.
        region: String,
        /// The detection's id.
        id: String,
        /// CloudFormation's reason.
        reason: String,
        /// `--region ...` for the command.
        flags: String,
    },
    /// The detection had not ended within the time bound; it goes on in CloudFormation.
    #[error(
        "drift detection of {stack} is still running after {after:?}; it goes on in CloudFormation: follow it with `aws cloudformation describe-stack-drift-detection-status --stack-drift-detection-id {id}{flags}` and run drift again once it has ended"
    )]
    TimedOut {
        /// The stack.
        stack: String,
        /// The detection's id.
        id: String,
        /// How long was waited.
        after: Duration,
        /// `--region ...` for the command.
        flags: String,
    },
    /// Ctrl-C (or SIGTERM, SIGHUP) while waiting. Detection changes nothing.
    #[error(
        "{signal} while detecting drift of {stack}: stopped waiting; the detection changes nothing and ends by itself in CloudFormation"
    )]
    Interrupted {
        /// The stack.
        stack: String,
        /// Which signal.
        signal: &'static str,
    },
}

/// How often and how long [`detect`] polls.
#[derive(Debug, Clone)]
pub struct DriftTiming {
    /// The first wait before asking again.
    pub first: Duration,
    /// The longest wait between polls.
    pub max: Duration,
    /// Give up (waiting, not the detection) after this long.
    pub total: Duration,
}

impl Default for DriftTiming {
    fn default() -> Self {
        DriftTiming {
            first: Duration::from_secs(1),
            max: Duration::from_secs(5),
            total: Duration::from_secs(10 * 60),
        }
    }
}

/// The stack's last drift detection, as `DescribeStacks` reports it (`DriftInformation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastCheck {
    /// The result; [`StackDrift::Unknown`] when never checked.
    pub status: StackDrift,
    /// When (ISO 8601).
    pub checked_at: Option<String>,
}

impl LastCheck {
    /// From a `DescribeStacks` stack; `None` when it was never checked.
    pub(crate) fn from_stack(s: &aws_sdk_cloudformation::types::Stack) -> Option<LastCheck> {
        let info = s.drift_information()?;
        let status = StackDrift::from_sdk(info.stack_drift_status());
        let checked_at = info.last_check_timestamp().and_then(iso);
        if status == StackDrift::Unknown && checked_at.is_none() {
            return None;
        }
        Some(LastCheck { status, checked_at })
    }
}

fn iso(t: &aws_smithy_types::DateTime) -> Option<String> {
    t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()
}

/// Runs a drift detection of `stack` and waits for it: progress on `console`, polls backing off
/// from `timing.first` to `timing.max`, an interrupt or `timing.total` ends the wait (never the
/// detection, which changes nothing). Then reads every resource's result.
pub async fn detect(
    clients: &Clients,
    stack: &str,
    console: &mut Console,
    timing: &DriftTiming,
) -> Result<DriftReport, DriftError> {
    let flags = clients.aws_cli_flags();
    let mut intr = console.interrupt().clone();
    let interrupted = |intr: &super::ui::Interrupt| DriftError::Interrupted {
        stack: stack.to_owned(),
        signal: intr.signal().unwrap_or("interrupted"),
    };
    let started = intr
        .guard(retry_throttled(|| {
            clients.cfn.detect_stack_drift().stack_name(stack).send()
        }))
        .await
        .ok_or_else(|| interrupted(&intr))?;
    let started = match started {
        Ok(o) => o,
        Err(e) if is_missing_stack(&e) => return Err(missing(clients, stack)),
        Err(e) => {
            return Err(describe(&format!("start drift detection of {stack}"), &e, clients).into());
        }
    };
    let id = started
        .stack_drift_detection_id()
        .unwrap_or_default()
        .to_owned();
    console.line(format!("{stack}: detecting drift ({id})"));
    let start = tokio::time::Instant::now();
    let mut delay = Duration::ZERO;
    let mut next = timing.first;
    let mut last_note = Duration::ZERO;
    let done = loop {
        if !delay.is_zero() && intr.guard(tokio::time::sleep(delay)).await.is_none() {
            return Err(interrupted(&intr));
        }
        delay = next;
        next = (next * 3 / 2).min(timing.max);
        let out = intr
            .guard(retry_throttled(|| {
                clients
                    .cfn
                    .describe_stack_drift_detection_status()
                    .stack_drift_detection_id(&id)
                    .send()
            }))
            .await
            .ok_or_else(|| interrupted(&intr))?
            .map_err(|e| describe("read the drift detection status", &e, clients))?;
        match out.detection_status() {
            Some(StackDriftDetectionStatus::DetectionComplete) => break out,
            Some(StackDriftDetectionStatus::DetectionFailed) => {
                return Err(DriftError::DetectionFailed {
                    stack: stack.to_owned(),
                    region: clients.region.clone(),
                    id,
                    reason: out
                        .detection_status_reason()
                        .unwrap_or("no reason given")
                        .to_owned(),
                    flags,
                });
            }
            _ => {
                let elapsed = start.elapsed();
                if elapsed + delay > timing.total {
                    return Err(DriftError::TimedOut {
                        stack: stack.to_owned(),
                        id,
                        after: timing.total,
                        flags,
                    });
                }
                if elapsed >= last_note + Duration::from_secs(15) {
                    last_note = elapsed;
                    console.line(format!(
                        "{stack}: still detecting drift ({} s)",
                        elapsed.as_secs()
                    ));
                }
            }
        }
    };
    let resources = intr
        .guard(resource_drifts(clients, stack, &[]))
        .await
        .ok_or_else(|| interrupted(&intr))??;
    Ok(DriftReport {
        stack: stack.to_owned(),
        region: clients.region.clone(),
        status: StackDrift::from_sdk(done.stack_drift_status()),
        checked_at: done.timestamp().and_then(iso),
        detection_id: Some(id),
        resources,
    })
}

fn missing(clients: &Clients, stack: &str) -> DriftError {
    DriftError::StackMissing {
        stack: stack.to_owned(),
        region: clients.region.clone(),
        program: crate::app::program_name(),
    }
}

/// The last detection's result for `stack` without starting one: `None` when DescribeStacks
/// says it was never checked. Reads the resources only when it says DRIFTED.
pub async fn last(
    clients: &Clients,
    stack: &str,
    check: Option<&LastCheck>,
) -> Result<Option<DriftReport>, DriftError> {
    let Some(check) = check else {
        return Ok(None);
    };
    let resources = if check.status == StackDrift::Drifted {
        resource_drifts(
            clients,
            stack,
            &[
                StackResourceDriftStatus::Modified,
                StackResourceDriftStatus::Deleted,
            ],
        )
        .await?
    } else {
        Vec::new()
    };
    Ok(Some(DriftReport {
        stack: stack.to_owned(),
        region: clients.region.clone(),
        status: check.status,
        checked_at: check.checked_at.clone(),
        detection_id: None,
        resources,
    }))
}

/// `DescribeStackResourceDrifts`, every page, sorted by logical id; `filters` empty for all.
async fn resource_drifts(
    clients: &Clients,
    stack: &str,
    filters: &[StackResourceDriftStatus],
) -> Result<Vec<ResourceDrift>, DriftError> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let res = retry_throttled(|| {
            clients
                .cfn
                .describe_stack_resource_drifts()
                .stack_name(stack)
                .set_stack_resource_drift_status_filters(
                    (!filters.is_empty()).then(|| filters.to_vec()),
                )
                .set_next_token(token.clone())
                .send()
        })
        .await;
        let out = match res {
            Ok(o) => o,
            Err(e) if is_missing_stack(&e) => return Err(missing(clients, stack)),
            Err(e) => {
                return Err(
                    describe(&format!("read the drift results of {stack}"), &e, clients).into(),
                );
            }
        };
        all.extend(
            out.stack_resource_drifts()
                .iter()
                .map(ResourceDrift::from_sdk),
        );
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    all.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    Ok(all)
}

/// Deploy's hook, before the change table: warns about each resource the change set modifies
/// (in place or by replacement) that has drifted, since executing overwrites the manual change.
/// The drift comes from a fresh detection when `fresh` (`--check-drift`), else from the stack's
/// last detection (`last_check`; no call unless it says DRIFTED). Failing to tell is a warning,
/// never a failure of the deploy.
pub(crate) async fn warn_before_changes(
    clients: &Clients,
    console: &mut Console,
    stack: &str,
    last_check: Option<&LastCheck>,
    fresh: bool,
    changes: &[ClassifiedChange],
) {
    let modified: Vec<&ClassifiedChange> = changes
        .iter()
        .filter(|c| c.change.action == Action::Modify)
        .collect();
    if modified.is_empty() {
        return;
    }
    let report = if fresh {
        detect(clients, stack, console, &DriftTiming::default())
            .await
            .map(Some)
    } else {
        last(clients, stack, last_check).await
    };
    let report = match report {
        Ok(Some(r)) => r,
        Ok(None) => return,
        Err(e) => {
            console.warn(format!("warning: could not check drift: {e}"));
            return;
        }
    };
    let when = report
        .checked_at
        .as_deref()
        .map(|t| format!("drift detected {t}"))
        .unwrap_or_else(|| "drift detection".into());
    for c in modified {
        let Some(d) = report
            .drifted()
            .find(|d| d.logical_id == c.change.logical_id)
        else {
            continue;
        };
        let how = match c.change.replacement {
            Some(Replacement::True) => "replaces",
            Some(Replacement::Conditional) => "may replace",
            _ => "modifies",
        };
        let what = match d.status {
            ResourceDriftStatus::Deleted => "was deleted outside CloudFormation".to_owned(),
            _ => format!(
                "was changed outside CloudFormation: {}",
                d.differences
                    .iter()
                    .map(|p| format!(
                        "{} is {} live, {} in the stack",
                        p.path.trim_start_matches('/'),
                        p.actual.as_deref().unwrap_or("(none)"),
                        p.expected.as_deref().unwrap_or("(none)")
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        };
        console.warn(format!(
            "warning: {} ({}) {what} ({when}); this deploy {how} it and CloudFormation will overwrite the manual change. Carry the change into the config first if it is to stay (`{} drift` shows all drift)",
            d.logical_id,
            d.resource_type,
            crate::app::program_name()
        ));
    }
}
