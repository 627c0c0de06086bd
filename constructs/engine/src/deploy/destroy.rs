//! Deleting a stack: show what is deleted and what is retained (from the deployed template's
//! `DeletionPolicy`), ask, delete, follow the events, and explain `DELETE_FAILED`.
//!
//! Two guards come before the prompt. A resource with its deletion protection on
//! ([`crate::risk::protection`]) would make CloudFormation delete everything else and then fail,
//! so the stack is refused before anything is deleted. Termination protection (set by deploy for
//! protected stages) is explained and turned off only after the stack name is typed; `--yes`
//! does not lift it.

use std::collections::BTreeMap;

use aws_sdk_cloudformation::types::StackStatus;
use serde::Serialize;

use super::changes::paint;
use super::outcome::{StackResult, Status};
use super::stack::{self, DeployedResource};
use super::template::TemplateFacts;
use super::ui::{Answer, Console};
use super::watch::{self, Operation};
use super::{Clients, DeployError, Timing, client};
use crate::risk::protection::Protection;
use crate::risk::{self, Policy};

/// What happens to one resource when the stack is deleted (decided by [`crate::risk`]).
pub use crate::risk::Fate;

/// One row of destroy's table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DestroyRow {
    /// The resource's logical id in the deployed template.
    pub logical_id: String,
    /// Its CloudFormation type.
    pub resource_type: String,
    /// The name AWS knows it by, to find what is left behind.
    pub physical_id: Option<String>,
    /// Deleted, retained or snapshotted, from its effective `DeletionPolicy`.
    pub fate: Fate,
    /// Deleted without a snapshot while it holds data (its type does, or its policy says so):
    /// the data is lost.
    pub data_loss: bool,
}

/// Joins the deployed resources with the deployed template's policies (pure).
pub fn rows(resources: &[DeployedResource], template: &TemplateFacts) -> Vec<DestroyRow> {
    resources
        .iter()
        .filter(|r| r.status != "DELETE_COMPLETE")
        .map(|r| {
            // The deployed template's (effective) policy; a resource it does not list is
            // assumed deleted, the worst case.
            let policy = template
                .resources
                .get(&r.logical_id)
                .map(|t| t.deletion_policy)
                .unwrap_or(Policy::Delete);
            let removal = risk::removal(&r.type_name, policy);
            DestroyRow {
                logical_id: r.logical_id.clone(),
                resource_type: r.type_name.clone(),
                physical_id: r.physical_id.clone(),
                fate: removal.fate,
                data_loss: removal.data_loss,
            }
        })
        .collect()
}

/// What to destroy and how.
#[derive(Debug, Clone)]
pub struct DestroyRequest {
    /// The stack to delete.
    pub stack_name: String,
    /// The stage it belongs to, for messages and the JSON result.
    pub stage: Option<String>,
    /// `--yes`: do not ask.
    pub yes: bool,
    /// How often and how long to follow the deletion's events.
    pub timing: Timing,
}

/// Deletes one stack (see the module docs).
pub async fn destroy_stack(
    clients: &Clients,
    req: &DestroyRequest,
    console: &mut Console,
) -> Result<StackResult, DeployError> {
    let name = req.stack_name.as_str();
    let mut result = StackResult::new(name, req.stage.as_deref(), &clients.region);
    // Until DeleteStack is sent, a Ctrl-C/SIGTERM/SIGHUP cancels the request in flight and
    // deletes nothing (with --yes there is no prompt that would notice it).
    let Some(described) = console
        .interrupt()
        .guard(stack::describe_stack(clients, name))
        .await
    else {
        return Ok(interrupted_before_delete(result, console, name));
    };
    let Some(info) = described? else {
        let msg = format!(
            "stack {name} does not exist in {}; nothing to delete",
            clients.region
        );
        console.line(&msg);
        return Ok(result.finish(Status::NotFound, Some(msg)));
    };
    let status = info.status.as_str();
    result.stack_status = Some(info.status.clone());
    if status.ends_with("_IN_PROGRESS") && info.status != StackStatus::ReviewInProgress {
        let msg = format!(
            "stack {name} is {status}: wait for the running operation to end and run destroy again"
        );
        console.danger(format!("refused: {msg}"));
        return Ok(result.finish(Status::Refused, Some(msg)));
    }
    let Some(body) = console
        .interrupt()
        .guard(stack::deployed_body(clients, &info.id))
        .await
    else {
        return Ok(interrupted_before_delete(result, console, name));
    };
    let doc = crate::template_read::parse_document("the deployed template", &body?, None)
        .map_err(|e| super::template::TemplateError(e.to_string()))?;
    let template = TemplateFacts::from_json(&doc);
    let Some(resources) = console
        .interrupt()
        .guard(stack::list_resources(clients, &info.id))
        .await
    else {
        return Ok(interrupted_before_delete(result, console, name));
    };
    let resources = resources?;
    let table = rows(&resources, &template);
    show(console, name, info.status.as_str(), &table);

    // A resource that refuses deletion would fail the delete halfway: refuse before it. The
    // resources' own values first, the deployed template where they cannot be read.
    let Some((live, notes)) = console
        .interrupt()
        .guard(live_protection(clients, &info.id, &doc, &resources))
        .await
    else {
        return Ok(interrupted_before_delete(result, console, name));
    };
    if !notes.is_empty() {
        console.line(format!(
            "could not read the live deletion protection of {}; going by the deployed template",
            notes.join(", ")
        ));
    }
    let (blocking, unsure) = blockers(&doc, &resources, &live);
    for u in &unsure {
        console.warn(format!("warning: {u}"));
    }
    if !blocking.is_empty() {
        let msg = protected_message(name, &blocking);
        console.danger(format!("refused: {msg}"));
        return Ok(result.finish(Status::Refused, Some(msg)));
    }

    // Termination protection (a protected stage): explained, and lifted only after the typed
    // stack name, which --yes does not replace.
    if info.termination_protection {
        console.warn(format!(
            "{name} has termination protection (its stage is one to protect): CloudFormation refuses to delete it while that is on. Typing the stack name below turns it off and deletes the stack."
        ));
        if req.yes {
            let msg = format!(
                "{name} has termination protection, which --yes does not lift: run destroy at a terminal and type the stack name, or turn it off yourself with `aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name {name}{}` and run destroy again",
                clients.aws_cli_flags()
            );
            console.danger(format!("refused: {msg}"));
            return Ok(result.finish(Status::Refused, Some(msg)));
        }
    }
    if !req.yes || info.termination_protection {
        let question = format!("Type the stack name ({name}) to delete it:");
        match console.ask(&question, name).await {
            Answer::Yes => {}
            other => {
                let msg = match other {
                    Answer::NotInteractive => {
                        "deleting needs approval but there is no terminal to ask on; run again with --yes".to_owned()
                    }
                    Answer::Interrupted => "interrupted at the prompt".to_owned(),
                    _ => "not approved".to_owned(),
                };
                console.danger(format!("refused: {msg}; nothing was deleted"));
                return Ok(result.finish(Status::Refused, Some(msg)));
            }
        }
    }
    if info.termination_protection {
        if console.interrupt().is_triggered() {
            return Ok(interrupted_before_delete(result, console, name));
        }
        super::policy::set_termination_protection(clients, &info.id, false).await?;
        console.line(format!("{name}: termination protection turned off"));
    }

    let Some(baseline) = console
        .interrupt()
        .guard(watch::latest_event_id(clients, &info.id))
        .await
    else {
        return Ok(interrupted_before_delete(result, console, name));
    };
    let baseline = baseline?;
    if console.interrupt().is_triggered() {
        return Ok(interrupted_before_delete(result, console, name));
    }
    client::retry_throttled(|| clients.cfn.delete_stack().stack_name(&info.id).send())
        .await
        .map_err(|e| client::describe(&format!("delete stack {name}"), &e, clients))?;
    console.line(format!("{name}: deleting"));
    let end = watch::watch(
        clients,
        console,
        watch::Watch {
            stack_name: name,
            stack_id: &info.id,
            baseline,
            total: table.len(),
            op: Operation::Delete,
        },
        &req.timing,
    )
    .await?;
    result.stack_status = Some(end.status.clone());
    if end.interrupted {
        let msg = format!(
            "stopped watching; the delete of {name} was NOT cancelled and goes on in CloudFormation. Watch it with `aws cloudformation describe-stack-events --stack-name {}{}`",
            info.id,
            clients.aws_cli_flags()
        );
        console.warn(&msg);
        // A signal is exit 130; reaching the time bound is an error, not an interruption.
        let status = if end.signal.is_some() {
            Status::Interrupted
        } else {
            Status::StoppedWaiting
        };
        return Ok(result.finish(status, Some(msg)));
    }
    if end.status == StackStatus::DeleteComplete {
        console.line(format!("{name}: DELETE_COMPLETE"));
        let kept: Vec<&DestroyRow> = table.iter().filter(|r| r.fate == Fate::Retained).collect();
        if !kept.is_empty() {
            console
                .line("Retained (no longer managed by CloudFormation; delete by hand when done):");
            for r in kept {
                console.line(format!(
                    "  {} ({}) {}",
                    r.logical_id,
                    r.resource_type,
                    r.physical_id.as_deref().unwrap_or("")
                ));
            }
        }
        return Ok(result.finish(Status::Destroyed, None));
    }
    result.failure = end.failure.clone();
    let msg = match &end.failure {
        Some(f) => format!(
            "{name}: {}: the delete failed. First failure: {} ({}): {}. Fix the cause and run destroy again, or keep that resource with `aws cloudformation delete-stack --stack-name {name} --retain-resources {}{}`",
            end.status.as_str(),
            f.logical_id,
            f.resource_type,
            f.reason,
            f.logical_id,
            clients.aws_cli_flags()
        ),
        None => format!("{name}: {}: the delete failed", end.status.as_str()),
    };
    console.danger(&msg);
    Ok(result.finish(Status::Failed, Some(msg)))
}

/// The resources that would stop `DeleteStack` halfway (protection on), and warnings for those
/// that cannot be decided (pure). `live` is what the resources themselves say, by logical id
/// ([`live_protection`]); the deployed template decides where they said nothing. Resources that
/// do not exist (never created, already deleted) are skipped.
pub fn blockers(
    doc: &serde_json::Value,
    resources: &[DeployedResource],
    live: &BTreeMap<String, bool>,
) -> (Vec<Blocker>, Vec<String>) {
    let mut blocking = Vec::new();
    let mut unsure = Vec::new();
    for p in risk::protection::protectable_resources(doc) {
        let Some(deployed) = resources
            .iter()
            .find(|r| r.logical_id == p.logical_id && r.status != "DELETE_COMPLETE")
        else {
            continue;
        };
        let (protection, seen_live) = match live.get(&p.logical_id) {
            Some(true) => (Protection::On, true),
            Some(false) => (Protection::Off, true),
            None => (p.protection, false),
        };
        match protection {
            Protection::On => blocking.push(Blocker {
                logical_id: p.logical_id,
                type_name: p.type_name,
                property: p.property,
                physical_id: deployed.physical_id.clone(),
                live: seen_live,
            }),
            Protection::Off => {}
            Protection::Unknown(expr) => unsure.push(format!(
                "{} ({}) sets {} through {expr}; if that is on, CloudFormation deletes the rest of the stack and then fails on it",
                p.logical_id, p.type_name, p.property
            )),
        }
    }
    (blocking, unsure)
}

/// The live deletion protection of the stack's protectable resources, by logical id, read with
/// `DetectStackResourceDrift` (its actual properties are the resource's own, so protection
/// switched on or off outside CloudFormation counts). A resource it cannot read is left to the
/// deployed template, and the notes say which and why.
pub async fn live_protection(
    clients: &Clients,
    stack_id: &str,
    doc: &serde_json::Value,
    resources: &[DeployedResource],
) -> (BTreeMap<String, bool>, Vec<String>) {
    let mut live = BTreeMap::new();
    let mut notes = Vec::new();
    for p in risk::protection::protectable_resources(doc) {
        if !resources
            .iter()
            .any(|r| r.logical_id == p.logical_id && r.status != "DELETE_COMPLETE")
        {
            continue;
        }
        let Some(t) = risk::protection::protectable(&p.type_name) else {
            continue;
        };
        let out = client::retry_throttled(|| {
            clients
                .cfn
                .detect_stack_resource_drift()
                .stack_name(stack_id)
                .logical_resource_id(&p.logical_id)
                .send()
        })
        .await;
        let actual = match out {
            Ok(o) => o
                .stack_resource_drift()
                .and_then(|d| d.actual_properties())
                .and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok()),
            Err(e) => {
                let e = client::describe("read its live properties", &e, clients);
                notes.push(format!("{} ({e})", p.logical_id));
                continue;
            }
        };
        match actual
            .as_ref()
            .map(|a| Protection::of_value(t, a.get(t.property)))
        {
            Some(Protection::On) => {
                live.insert(p.logical_id, true);
            }
            Some(Protection::Off) => {
                live.insert(p.logical_id, false);
            }
            Some(Protection::Unknown(_)) | None => {}
        }
    }
    (live, notes)
}

/// A resource whose deletion protection is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    /// The resource in the stack.
    pub logical_id: String,
    /// Its type.
    pub type_name: String,
    /// The property that holds the protection.
    pub property: &'static str,
    /// Its physical id, to name it in AWS.
    pub physical_id: Option<String>,
    /// Read from the resource itself, not the deployed template.
    pub live: bool,
}

/// Why destroy refuses a stack with protected resources, and the way out.
fn protected_message(name: &str, blocking: &[Blocker]) -> String {
    let list: Vec<String> = blocking
        .iter()
        .map(|b| {
            format!(
                "{} ({}{}) has {} on ({})",
                b.logical_id,
                b.type_name,
                b.physical_id
                    .as_deref()
                    .map(|p| format!(" {p}"))
                    .unwrap_or_default(),
                b.property,
                if b.live {
                    "read from the resource itself"
                } else {
                    "in the deployed template"
                }
            )
        })
        .collect();
    format!(
        "{}: CloudFormation would delete the rest of {name} first and then fail on it, leaving a half-deleted stack; nothing was deleted. To delete the stack, turn the protection off through the app's config (SnowEx: `deletion_protection = false` in the stage's [database] table), deploy that, then run destroy again",
        list.join("; ")
    )
}

/// The result of a destroy stopped by a signal before `DeleteStack` was sent.
fn interrupted_before_delete(
    result: StackResult,
    console: &mut Console,
    name: &str,
) -> StackResult {
    let msg = format!("interrupted; nothing was deleted from {name}");
    console.warn(&msg);
    result.finish(Status::Interrupted, Some(msg))
}

/// Prints what will be deleted and what is retained.
fn show(console: &mut Console, name: &str, status: &str, table: &[DestroyRow]) {
    console.line(format!("{name} ({status}): {} resource(s)", table.len()));
    let style = console.style();
    for r in table {
        let (label, code) = match (r.fate, r.data_loss) {
            (Fate::Retained, _) => ("retained", "32"),
            (Fate::Snapshot, _) => ("deleted after a final snapshot", "33"),
            (Fate::Deleted, true) => ("DELETED WITH ITS DATA", "1;31"),
            (Fate::Deleted, false) => ("deleted", ""),
        };
        let line = format!("  {:<32} {:<36} {}", r.logical_id, r.resource_type, label);
        console.line(if code.is_empty() {
            line
        } else {
            paint(style, code, &line)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fates_from_policies() {
        let t = TemplateFacts::parse(
            r#"{"Resources":{
                "Db":{"Type":"AWS::RDS::DBInstance","DeletionPolicy":"Snapshot"},
                "Logs":{"Type":"AWS::Logs::LogGroup"},
                "Bucket":{"Type":"AWS::S3::Bucket","DeletionPolicy":"Retain"},
                "P":{"Type":"AWS::SSM::Parameter"}}}"#,
        )
        .expect("template");
        let res = |id: &str, ty: &str| DeployedResource {
            logical_id: id.into(),
            physical_id: None,
            type_name: ty.into(),
            status: "CREATE_COMPLETE".into(),
        };
        let r = rows(
            &[
                res("Db", "AWS::RDS::DBInstance"),
                res("Logs", "AWS::Logs::LogGroup"),
                res("Bucket", "AWS::S3::Bucket"),
                res("P", "AWS::SSM::Parameter"),
            ],
            &t,
        );
        assert_eq!(r[0].fate, Fate::Snapshot);
        assert!(!r[0].data_loss);
        assert!(r[1].data_loss);
        assert_eq!(r[2].fate, Fate::Retained);
        assert_eq!(r[3].fate, Fate::Deleted);
        assert!(!r[3].data_loss);
    }
}
