//! Creating a change set, waiting for it with adaptive polling, recognising "no changes" in each
//! of the forms CloudFormation uses, and reading its changes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudformation::types::{
    Capability as SdkCapability, ChangeAction, ChangeSetStatus, ChangeSetType, Parameter,
    RequiresRecreation,
};
use sha2::{Digest, Sha256};

use snowcdk_constructs::l2::staging_bucket::TEMPLATE_PREFIX;

use super::DeployError;
use super::changes::{Action, Change, Replacement};
use super::client::{Clients, describe, error_code, error_message, retry_throttled};
use super::parameters::{ParameterPlan, Send};
use super::template::Capability;
use super::ui::Console;

/// CloudFormation's limit for an inline `TemplateBody`; larger templates go through S3. Defined
/// once, with the other CloudFormation quotas synth checks.
pub const MAX_INLINE_TEMPLATE_BYTES: usize = snowcdk_constructs::rules::structure::MAX_BODY_BYTES;

/// Poll intervals and bounds. The defaults suit AWS; tests may shorten them.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// The first wait before asking about a change set again (after one immediate look).
    pub change_set_first: Duration,
    /// The longest wait between change set polls.
    pub change_set_max: Duration,
    /// Give up waiting for a change set after this long.
    pub change_set_total: Duration,
    /// The shortest wait between stack event polls (right after an operation starts, when
    /// events come fast).
    pub watch_min: Duration,
    /// The longest wait between stack event polls: bounds how late completion is noticed.
    pub watch_max: Duration,
    /// Stop watching (not the operation) after this long.
    pub watch_total: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            change_set_first: Duration::from_secs(1),
            change_set_max: Duration::from_secs(5),
            change_set_total: Duration::from_secs(10 * 60),
            watch_min: Duration::from_secs(1),
            watch_max: Duration::from_secs(2),
            watch_total: Duration::from_secs(4 * 60 * 60),
        }
    }
}

/// Where the template comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateSource {
    Body(String),
    /// An S3 URL (templates over [`MAX_INLINE_TEMPLATE_BYTES`]).
    Url(String),
}

/// Puts a large template in the staging bucket and returns its URL. The key is content-addressed
/// (`snowcdk/templates/<stack>/<sha256>.json`), so re-uploads of the same template are harmless.
pub async fn stage_template(
    clients: &Clients,
    bucket: &str,
    stack: &str,
    body: &str,
) -> Result<String, DeployError> {
    let digest = hex::encode(Sha256::digest(body.as_bytes()));
    // Under the prefix the bootstrap stack's lifecycle rule expires.
    let key = format!("{TEMPLATE_PREFIX}{stack}/{digest}.json");
    retry_throttled(|| {
        clients
            .s3
            .put_object()
            .bucket(bucket)
            .key(&key)
            .content_type("application/json")
            .body(body.as_bytes().to_vec().into())
            .send()
    })
    .await
    .map_err(|e| {
        if error_code(&e) == Some("NoSuchBucket") {
            return DeployError::StagingBucketMissing {
                stack: stack.to_owned(),
                bucket: bucket.to_owned(),
                region: clients.region.clone(),
                program: crate::app::program_name(),
            };
        }
        describe(
            &format!("upload the template to s3://{bucket}/{key}"),
            &e,
            clients,
        )
        .into()
    })?;
    Ok(match &clients.endpoint_url {
        Some(endpoint) => format!("{}/{bucket}/{key}", endpoint.trim_end_matches('/')),
        None => format!("https://{bucket}.s3.{}.amazonaws.com/{key}", clients.region),
    })
}

/// A change set name unique per run: `snowcdk-<unix seconds>-<12 random hex digits>`. The
/// seconds sort names by age for a person reading a list; the random part keeps runs started in
/// the same second (concurrent CI jobs) apart, so one never watches or executes another's change
/// set. The name is also the `ClientRequestToken` of `ExecuteChangeSet`, which tags the events.
pub fn change_set_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    // RandomState is seeded from the OS per process (and varied per instance): random enough to
    // keep runs apart, without a dependency.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(now.as_nanos());
    h.write_u32(std::process::id());
    format!(
        "snowcdk-{}-{:012x}",
        now.as_secs(),
        h.finish() & 0xffff_ffff_ffff
    )
}

/// A change set made by snowcdk that waits on a stack: being created, or created and not
/// executed (under review).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub name: String,
    /// `CREATE_PENDING`, `CREATE_IN_PROGRESS` or `CREATE_COMPLETE`.
    pub status: String,
    /// When it was created (RFC 3339), when CloudFormation said.
    pub created: Option<String>,
    created_secs: Option<(i64, u32)>,
}

impl Pending {
    /// Older first; the same instant is ordered by name, so two runs agree on which is older.
    pub fn is_older_than(&self, other: &Pending) -> bool {
        self.age_key() < other.age_key()
    }

    /// Creation time (unknown last), then name: a total order.
    fn age_key(&self) -> ((i64, u32), &str) {
        (self.created_secs.unwrap_or((i64::MAX, 0)), &self.name)
    }
}

/// The snowcdk change sets (named `snowcdk-...`) that wait on a stack, other than `except`,
/// oldest first. `stack_id` is the ARN, `stack_name` also matches summaries that carry only
/// the name.
pub async fn pending_snowcdk(
    clients: &Clients,
    stack_id: &str,
    stack_name: &str,
    except: Option<&str>,
) -> Result<Vec<Pending>, DeployError> {
    use aws_sdk_cloudformation::types::ExecutionStatus;
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..20 {
        let page = retry_throttled(|| {
            clients
                .cfn
                .list_change_sets()
                .stack_name(stack_id)
                .set_next_token(token.clone())
                .send()
        })
        .await
        .map_err(|e| {
            describe(
                &format!("list the change sets of {stack_name}"),
                &e,
                clients,
            )
        })?;
        for s in page.summaries() {
            let name = s.change_set_name().unwrap_or_default();
            let same_stack = s.stack_id() == Some(stack_id)
                || s.stack_name() == Some(stack_name)
                || s.stack_id()
                    .is_some_and(|id| id.contains(&format!(":stack/{stack_name}/")));
            let waiting = matches!(
                s.status(),
                Some(
                    ChangeSetStatus::CreatePending
                        | ChangeSetStatus::CreateInProgress
                        | ChangeSetStatus::CreateComplete
                )
            ) && matches!(
                s.execution_status(),
                None | Some(ExecutionStatus::Available | ExecutionStatus::Unavailable)
            );
            if same_stack && waiting && name.starts_with("snowcdk-") && Some(name) != except {
                let created = s.creation_time();
                out.push(Pending {
                    name: name.to_owned(),
                    status: s
                        .status()
                        .map(|x| x.as_str().to_owned())
                        .unwrap_or_default(),
                    created: created
                        .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()),
                    created_secs: created.map(|t| (t.secs(), t.subsec_nanos())),
                });
            }
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    out.sort_by(|a, b| a.age_key().cmp(&b.age_key()));
    Ok(out)
}

/// What to create.
#[derive(Debug, Clone)]
pub struct CreateRequest<'a> {
    pub stack_name: &'a str,
    pub name: String,
    pub create: bool,
    pub template: TemplateSource,
    pub capabilities: &'a [Capability],
    /// Every parameter's value, planned by [`super::parameters::plan`].
    pub parameters: &'a [ParameterPlan],
    pub description: String,
}

/// What `CreateChangeSet` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// The change set is being computed.
    Pending { id: String, stack_id: String },
    /// CloudFormation refused at once because nothing changes ("No updates are to be performed").
    NoChanges,
    /// The stack is busy (it started an operation since we looked).
    Busy { reason: String },
}

/// The parameters a change set sends, as the SDK takes them: a value, `UsePreviousValue`, or
/// nothing (the template default applies). Shared by the update and the IMPORT change set.
pub(crate) fn sdk_parameters(plans: &[ParameterPlan]) -> Vec<Parameter> {
    plans
        .iter()
        .filter_map(|p| match &p.send {
            Send::Value(v) => Some(
                Parameter::builder()
                    .parameter_key(&p.key)
                    .parameter_value(v)
                    .build(),
            ),
            Send::UsePrevious => Some(
                Parameter::builder()
                    .parameter_key(&p.key)
                    .use_previous_value(true)
                    .build(),
            ),
            Send::Omit => None,
        })
        .collect()
}

/// The template's capabilities (`CAPABILITY_IAM`, ...) as the SDK takes them.
pub(crate) fn sdk_capabilities(capabilities: &[Capability]) -> Vec<SdkCapability> {
    capabilities
        .iter()
        .map(|c| SdkCapability::from(c.as_str()))
        .collect()
}

/// Calls `CreateChangeSet`.
pub async fn create(clients: &Clients, req: &CreateRequest<'_>) -> Result<Created, DeployError> {
    let params = sdk_parameters(req.parameters);
    let caps = sdk_capabilities(req.capabilities);
    let res = retry_throttled(|| {
        let mut call = clients
            .cfn
            .create_change_set()
            .stack_name(req.stack_name)
            .change_set_name(&req.name)
            .change_set_type(if req.create {
                ChangeSetType::Create
            } else {
                ChangeSetType::Update
            })
            .description(&req.description)
            .set_capabilities(Some(caps.clone()))
            .set_parameters(Some(params.clone()));
        call = match &req.template {
            TemplateSource::Body(b) => call.template_body(b),
            TemplateSource::Url(u) => call.template_url(u),
        };
        call.send()
    })
    .await;
    match res {
        Ok(out) => Ok(Created::Pending {
            id: out.id().unwrap_or(&req.name).to_owned(),
            stack_id: out.stack_id().unwrap_or(req.stack_name).to_owned(),
        }),
        Err(e) => {
            let msg = error_message(&e).unwrap_or_default();
            if error_code(&e) == Some("ValidationError") && is_no_changes_reason(msg) {
                return Ok(Created::NoChanges);
            }
            if error_code(&e) == Some("ValidationError")
                && (msg.contains("_IN_PROGRESS state")
                    || (msg.contains("is in ") && msg.contains("can not be updated")))
            {
                return Ok(Created::Busy {
                    reason: msg.to_owned(),
                });
            }
            Err(describe(
                &format!("create a change set for {}", req.stack_name),
                &e,
                clients,
            )
            .into())
        }
    }
}

/// True for CloudFormation's ways of saying a template changes nothing.
pub fn is_no_changes_reason(reason: &str) -> bool {
    reason.contains("didn't contain changes")
        || reason.contains("No updates are to be performed")
        || reason.contains("does not contain changes")
}

/// How waiting for a change set ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ready {
    /// `CREATE_COMPLETE` with at least one change.
    Changes(Vec<Change>),
    /// Nothing to change (a FAILED change set with the no-changes reason, or zero changes).
    NoChanges,
    /// `FAILED` for another reason.
    Failed { reason: String },
    /// Ctrl-C while waiting.
    Interrupted,
    /// Still not ready after the time bound.
    TimedOut { status: String },
}

/// Waits for the change set with adaptive polling: one immediate look, then `change_set_first`,
/// growing by half each time up to `change_set_max`, for at most `change_set_total`. Reads every
/// page of changes.
pub async fn wait(
    clients: &Clients,
    stack_id: &str,
    change_set_id: &str,
    timing: &Timing,
    console: &mut Console,
) -> Result<Ready, DeployError> {
    let start = tokio::time::Instant::now();
    let mut delay = Duration::ZERO;
    let mut next = timing.change_set_first;
    loop {
        if !delay.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = console.interrupt().triggered() => return Ok(Ready::Interrupted),
            }
        }
        delay = next;
        next = (next * 3 / 2).min(timing.change_set_max);
        let mut changes = Vec::new();
        let mut token: Option<String> = None;
        let status = loop {
            let out = retry_throttled(|| {
                clients
                    .cfn
                    .describe_change_set()
                    .stack_name(stack_id)
                    .change_set_name(change_set_id)
                    .set_next_token(token.clone())
                    .send()
            })
            .await
            .map_err(|e| describe("describe the change set", &e, clients))?;
            let status = out.status().cloned();
            match status {
                Some(ChangeSetStatus::CreateComplete) => {
                    changes.extend(out.changes().iter().filter_map(to_change));
                    match out.next_token() {
                        Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                        _ => break status,
                    }
                }
                Some(ChangeSetStatus::Failed) => {
                    let reason = out.status_reason().unwrap_or("no reason given").to_owned();
                    if is_no_changes_reason(&reason) {
                        return Ok(Ready::NoChanges);
                    }
                    return Ok(Ready::Failed { reason });
                }
                _ => break status,
            }
        };
        match status {
            Some(ChangeSetStatus::CreateComplete) if changes.is_empty() => {
                return Ok(Ready::NoChanges);
            }
            Some(ChangeSetStatus::CreateComplete) => return Ok(Ready::Changes(changes)),
            other => {
                if start.elapsed() + delay > timing.change_set_total {
                    return Ok(Ready::TimedOut {
                        status: other
                            .map(|s| s.as_str().to_owned())
                            .unwrap_or_else(|| "unknown".into()),
                    });
                }
            }
        }
    }
}

/// Deletes a change set (empty or refused ones). A failure here is reported, not fatal.
pub async fn delete(
    clients: &Clients,
    stack_id: &str,
    change_set_id: &str,
) -> Result<(), DeployError> {
    retry_throttled(|| {
        clients
            .cfn
            .delete_change_set()
            .stack_name(stack_id)
            .change_set_name(change_set_id)
            .send()
    })
    .await
    .map_err(|e| describe("delete the change set", &e, clients))?;
    Ok(())
}

/// Executes a change set. The request token makes a retried call idempotent.
pub async fn execute(
    clients: &Clients,
    stack_id: &str,
    change_set_id: &str,
    token: &str,
) -> Result<(), DeployError> {
    retry_throttled(|| {
        clients
            .cfn
            .execute_change_set()
            .stack_name(stack_id)
            .change_set_name(change_set_id)
            .client_request_token(token)
            .send()
    })
    .await
    .map_err(|e| describe("execute the change set", &e, clients))?;
    Ok(())
}

/// One SDK change as a table row; `None` for non-resource changes (hooks).
fn to_change(c: &aws_sdk_cloudformation::types::Change) -> Option<Change> {
    let rc = c.resource_change()?;
    let replacement = rc.replacement().and_then(Replacement::from_sdk);
    let may_replace = replacement.is_some_and(Replacement::may_replace);
    let mut causes: Vec<String> = Vec::new();
    for d in rc.details() {
        let Some(t) = d.target() else { continue };
        let recreates = matches!(
            t.requires_recreation(),
            Some(RequiresRecreation::Always | RequiresRecreation::Conditionally)
        );
        if may_replace && !recreates {
            continue;
        }
        let name = t
            .name()
            .map(str::to_owned)
            .or_else(|| t.attribute().map(|a| a.as_str().to_owned()));
        if let Some(n) = name
            && !causes.contains(&n)
        {
            causes.push(n);
        }
    }
    Some(Change {
        action: rc
            .action()
            .map(Action::from)
            .unwrap_or_else(|| Action::Other("Unknown".into())),
        logical_id: rc.logical_resource_id().unwrap_or_default().to_owned(),
        physical_id: rc.physical_resource_id().map(str::to_owned),
        resource_type: rc.resource_type().unwrap_or_default().to_owned(),
        replacement: if rc.action() == Some(&ChangeAction::Modify) {
            replacement
        } else {
            None
        },
        causes,
    })
}
