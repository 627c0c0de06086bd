//! Following a stack operation to its end: new stack events as they come (a progress bar on a
//! terminal, plain lines otherwise), the stack status as the source of truth for the end, and the
//! first failing resource's reason when it fails.
//!
//! Polls `DescribeStackEvents` and `DescribeStacks` every 1 s while events flow, backing off to
//! 2 s when nothing happens, so completion is noticed within about 2 s without hammering the API.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use aws_sdk_cloudformation::types::{ResourceStatus, StackEvent, StackStatus};
use indicatif::{ProgressBar, ProgressStyle};

use super::DeployError;
use super::changeset::Timing;
use super::client::{Clients, describe, retry_throttled};
use super::outcome::Failure;
use super::stack::is_missing_stack;
use super::ui::Console;

/// Which operation is being watched (what counts as done).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Deploy,
    Delete,
}

/// One stack event, reduced to what we show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: String,
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    /// The SDK's status (a stack's own events carry it too); empty when the event has none.
    pub status: ResourceStatus,
    pub reason: Option<String>,
    /// `HH:MM:SS` (UTC).
    pub time: String,
    /// The `ClientRequestToken` of the operation that caused the event, when it had one.
    pub token: Option<String>,
}

impl Event {
    fn from_sdk(e: &StackEvent) -> Event {
        Event {
            id: e.event_id().unwrap_or_default().to_owned(),
            logical_id: e.logical_resource_id().unwrap_or_default().to_owned(),
            physical_id: e.physical_resource_id().map(str::to_owned),
            resource_type: e.resource_type().unwrap_or_default().to_owned(),
            status: e
                .resource_status()
                .cloned()
                .unwrap_or_else(|| ResourceStatus::from("")),
            reason: e.resource_status_reason().map(str::to_owned),
            time: e
                .timestamp()
                .map(|t| {
                    let secs = t.secs().rem_euclid(86_400);
                    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
                })
                .unwrap_or_default(),
            token: e
                .client_request_token()
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        }
    }

    /// True for the stack's own events (not a resource's).
    pub fn is_stack(&self, stack_name: &str, stack_id: &str) -> bool {
        self.physical_id.as_deref() == Some(stack_id)
            || (self.resource_type == "AWS::CloudFormation::Stack" && self.logical_id == stack_name)
    }
}

/// True for a status that ends an operation (nothing is in progress).
pub fn is_terminal(status: &StackStatus) -> bool {
    let s = status.as_str();
    !s.is_empty() && !in_progress(s)
}

/// True for a status (stack or resource) of an operation still running: the SDK's statuses
/// name it by suffix, and the suffix also covers statuses newer than the SDK (`Unknown`).
fn in_progress(status: &str) -> bool {
    status.ends_with("_IN_PROGRESS")
}

/// True for a `*_FAILED` status (stack or resource).
fn is_failed(status: &str) -> bool {
    status.ends_with("_FAILED")
}

/// The first failing resource among events in chronological order: the first `*_FAILED` event
/// of a resource, preferring a real cause over the "cancelled" collateral failures.
pub fn first_failure(events: &[Event], stack_name: &str, stack_id: &str) -> Option<Failure> {
    let failed = |e: &&Event| is_failed(e.status.as_str()) && !e.is_stack(stack_name, stack_id);
    let collateral = |e: &&Event| {
        e.reason
            .as_deref()
            .is_some_and(|r| r.contains("cancelled") || r.contains("canceled"))
    };
    let pick = events
        .iter()
        .filter(failed)
        .find(|e| !collateral(e))
        .or_else(|| events.iter().find(failed))
        .or_else(|| {
            // No resource event (emulators): the stack's own failure reason.
            events.iter().find(|e| {
                e.is_stack(stack_name, stack_id)
                    && (is_failed(e.status.as_str()) || e.status.as_str().contains("ROLLBACK"))
                    && e.reason.is_some()
            })
        })?;
    Some(Failure {
        logical_id: pick.logical_id.clone(),
        resource_type: pick.resource_type.clone(),
        status: pick.status.as_str().to_owned(),
        reason: pick
            .reason
            .clone()
            .unwrap_or_else(|| "no reason given".into()),
    })
}

/// The newest event id of a stack (the baseline before an operation); `None` if it has none.
pub async fn latest_event_id(
    clients: &Clients,
    stack: &str,
) -> Result<Option<String>, DeployError> {
    let out = retry_throttled(|| clients.cfn.describe_stack_events().stack_name(stack).send())
        .await
        .map_err(|e| describe(&format!("read the events of {stack}"), &e, clients))?;
    Ok(out
        .stack_events()
        .first()
        .and_then(|e| e.event_id())
        .map(str::to_owned))
}

/// Events newer than `after` (all when `None`), oldest first. Reads at most 10 pages.
async fn new_events(
    clients: &Clients,
    stack_id: &str,
    after: Option<&str>,
    seen: &HashSet<String>,
) -> Result<Vec<Event>, DeployError> {
    let mut newest_first = Vec::new();
    let mut token: Option<String> = None;
    'pages: for _ in 0..10 {
        let out = retry_throttled(|| {
            clients
                .cfn
                .describe_stack_events()
                .stack_name(stack_id)
                .set_next_token(token.clone())
                .send()
        })
        .await
        .map_err(|e| describe("read the stack events", &e, clients))?;
        for e in out.stack_events() {
            let ev = Event::from_sdk(e);
            if Some(ev.id.as_str()) == after || seen.contains(&ev.id) {
                break 'pages;
            }
            newest_first.push(ev);
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    newest_first.reverse();
    Ok(newest_first)
}

/// How watching ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchEnd {
    /// The last stack status seen (terminal unless interrupted; `unknown` when a signal stopped
    /// the watching before it was read).
    pub status: StackStatus,
    pub status_reason: Option<String>,
    pub failure: Option<Failure>,
    /// Ctrl-C or the time bound stopped the watching (not the operation).
    pub interrupted: bool,
    /// The signal that stopped the watching (`Ctrl-C`, `SIGTERM`, `SIGHUP`); `None` when it
    /// ended by itself or at the time bound.
    pub signal: Option<&'static str>,
    /// Resources still in progress when watching stopped.
    pub in_progress: Vec<String>,
}

/// Progress display: an indicatif bar on a terminal, plain lines otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
    states: BTreeMap<String, ResourceStatus>,
}

impl Progress {
    fn new(console: &Console, total: usize, verb: &str) -> Progress {
        let bar = console.progress_bars().then(|| {
            let bar = ProgressBar::new(total as u64);
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {pos}/{len} resources {wide_msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_message(verb.to_owned());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            bar,
            total,
            states: BTreeMap::new(),
        }
    }

    fn done(&self) -> usize {
        self.states
            .values()
            .map(ResourceStatus::as_str)
            .filter(|s| s.ends_with("_COMPLETE") || is_failed(s) || s.ends_with("_SKIPPED"))
            .count()
    }

    fn in_progress(&self) -> Vec<String> {
        self.states
            .iter()
            .filter(|(_, s)| in_progress(s.as_str()))
            .map(|(id, _)| id.clone())
            .collect()
    }

    fn event(&mut self, console: &mut Console, e: &Event, is_stack: bool) {
        if !is_stack {
            self.states.insert(e.logical_id.clone(), e.status.clone());
        }
        let mut line = format!(
            "  {}  {:<28} {} ({})",
            e.time,
            // `as_str`: the SDK's `Display` ignores the padding.
            e.status.as_str(),
            e.logical_id,
            e.resource_type
        );
        if let Some(r) = &e.reason
            && !r.is_empty()
        {
            line.push_str(&format!(": {r}"));
        }
        let failed = is_failed(e.status.as_str());
        match &self.bar {
            Some(bar) => {
                self.total = self.total.max(self.states.len());
                bar.set_length(self.total as u64);
                bar.set_position(self.done() as u64);
                if !is_stack && in_progress(e.status.as_str()) {
                    bar.set_message(format!("{} {}", e.status.as_str(), e.logical_id));
                }
                // Every event stays on screen above the bar, failures highlighted.
                bar.suspend(|| {
                    if failed {
                        console.danger(&line)
                    } else {
                        console.line(&line)
                    }
                });
            }
            None if failed => console.danger(&line),
            None => console.line(&line),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// What to watch.
#[derive(Debug, Clone)]
pub struct Watch<'a> {
    pub stack_name: &'a str,
    /// The stack ARN (a deleted stack is only found by ARN).
    pub stack_id: &'a str,
    /// The newest event before the operation started.
    pub baseline: Option<String>,
    /// The number of resources expected to change (for the progress bar).
    pub total: usize,
    pub op: Operation,
}

/// Watches the stack until its status is terminal, Ctrl-C, or `timing.watch_total`.
pub async fn watch(
    clients: &Clients,
    console: &mut Console,
    w: Watch<'_>,
    timing: &Timing,
) -> Result<WatchEnd, DeployError> {
    watch_run(clients, console, w, timing, None).await
}

/// [`watch`], showing only the events of the operation started with `token` (the
/// `ClientRequestToken` of `ExecuteChangeSet`): events another run's operation caused carry its
/// own token and are not ours to print. Events without a token are shown.
pub async fn watch_run(
    clients: &Clients,
    console: &mut Console,
    w: Watch<'_>,
    timing: &Timing,
    token: Option<&str>,
) -> Result<WatchEnd, DeployError> {
    let Watch {
        stack_name,
        stack_id,
        baseline,
        total,
        op,
    } = w;
    let start = tokio::time::Instant::now();
    let mut progress = Progress::new(
        console,
        total,
        match op {
            Operation::Deploy => "deploying",
            Operation::Delete => "deleting",
        },
    );
    let mut all: Vec<Event> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut last = baseline;
    let mut delay = Duration::ZERO;
    // The status read right after ExecuteChangeSet may still be the old, settled one: only a
    // terminal status that follows evidence of this operation (an in-progress status, or a new
    // stack event) ends the watch.
    let mut started = false;
    let mut intr = console.interrupt().clone();
    let stopped = |progress: &Progress, all: &[Event], intr: &super::ui::Interrupt| {
        progress.finish();
        WatchEnd {
            status: StackStatus::from("unknown"),
            status_reason: None,
            failure: first_failure(all, stack_name, stack_id),
            interrupted: true,
            signal: intr.signal(),
            in_progress: progress.in_progress(),
        }
    };
    loop {
        if !delay.is_zero() && intr.guard(tokio::time::sleep(delay)).await.is_none() {
            return Ok(stopped(&progress, &all, &intr));
        }
        // Requests in flight are dropped on an interrupt too: a hung endpoint never delays it.
        let Some(events) = intr
            .guard(new_events(clients, stack_id, last.as_deref(), &seen))
            .await
        else {
            return Ok(stopped(&progress, &all, &intr));
        };
        let mut events = events?;
        if let Some(e) = events.last() {
            last = Some(e.id.clone());
        }
        for e in &events {
            seen.insert(e.id.clone());
        }
        if let Some(t) = token {
            events.retain(|e| e.token.as_deref().is_none_or(|et| et == t));
        }
        for e in &events {
            let is_stack = e.is_stack(stack_name, stack_id);
            if is_stack {
                started = true;
            }
            progress.event(console, e, is_stack);
        }
        let quiet = events.is_empty();
        all.extend(events);

        let Some(described) = intr
            .guard(retry_throttled(|| {
                clients.cfn.describe_stacks().stack_name(stack_id).send()
            }))
            .await
        else {
            return Ok(stopped(&progress, &all, &intr));
        };
        let (status, reason) = match described {
            Ok(out) => {
                let s = out.stacks().first();
                (
                    s.and_then(|s| s.stack_status())
                        .cloned()
                        .unwrap_or_else(|| StackStatus::from("")),
                    s.and_then(|s| s.stack_status_reason()).map(str::to_owned),
                )
            }
            Err(e) if op == Operation::Delete && is_missing_stack(&e) => {
                (StackStatus::DeleteComplete, None)
            }
            Err(e) => {
                progress.finish();
                return Err(describe("read the stack status", &e, clients).into());
            }
        };
        if in_progress(status.as_str()) {
            started = true;
        }
        if started && is_terminal(&status) {
            progress.finish();
            let mut failure = first_failure(&all, stack_name, stack_id);
            if failure.is_none() && is_failure_status(&status) {
                failure = Some(Failure {
                    logical_id: stack_name.to_owned(),
                    resource_type: "AWS::CloudFormation::Stack".into(),
                    status: status.as_str().to_owned(),
                    reason: reason.clone().unwrap_or_else(|| "no reason given".into()),
                });
            }
            return Ok(WatchEnd {
                status,
                status_reason: reason,
                failure,
                interrupted: false,
                signal: None,
                in_progress: Vec::new(),
            });
        }
        if start.elapsed() > timing.watch_total {
            progress.finish();
            return Ok(WatchEnd {
                status,
                status_reason: reason,
                failure: first_failure(&all, stack_name, stack_id),
                interrupted: true,
                signal: None,
                in_progress: progress.in_progress(),
            });
        }
        delay = if delay.is_zero() || !quiet {
            timing.watch_min
        } else {
            (delay * 5 / 4).min(timing.watch_max)
        };
    }
}

/// True for terminal statuses that mean the operation did not do what was asked.
pub fn is_failure_status(status: &StackStatus) -> bool {
    is_failed(status.as_str()) || status.as_str().contains("ROLLBACK")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: &str, ty: &str, status: &str, reason: Option<&str>) -> Event {
        Event {
            id: format!("{id}-{status}"),
            logical_id: id.into(),
            physical_id: None,
            resource_type: ty.into(),
            status: ResourceStatus::from(status),
            reason: reason.map(str::to_owned),
            time: String::new(),
            token: None,
        }
    }

    #[test]
    fn first_failure_skips_cancellations_and_the_stack() {
        let events = vec![
            ev(
                "s",
                "AWS::CloudFormation::Stack",
                "UPDATE_IN_PROGRESS",
                None,
            ),
            ev(
                "A",
                "AWS::EC2::VPC",
                "UPDATE_FAILED",
                Some("Resource update cancelled"),
            ),
            ev(
                "Db",
                "AWS::RDS::DBInstance",
                "UPDATE_FAILED",
                Some("DBInstance is not available"),
            ),
            ev(
                "s",
                "AWS::CloudFormation::Stack",
                "UPDATE_ROLLBACK_IN_PROGRESS",
                Some("The following resource(s) failed to update: [Db]."),
            ),
        ];
        let f = first_failure(&events, "s", "arn").expect("failure");
        assert_eq!(f.logical_id, "Db");
        assert_eq!(f.reason, "DBInstance is not available");
        let only_stack = vec![events[3].clone()];
        assert_eq!(
            first_failure(&only_stack, "s", "arn")
                .expect("stack reason")
                .logical_id,
            "s"
        );
        assert!(is_terminal(&StackStatus::UpdateComplete));
        assert!(!is_terminal(&StackStatus::UpdateCompleteCleanupInProgress));
        assert!(!is_terminal(&StackStatus::from("")));
    }
}
