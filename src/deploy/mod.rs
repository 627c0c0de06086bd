//! The change-set deployment engine: plan (create/update/recreate/refuse), create and wait for a
//! change set, classify and show its changes, approve, execute, watch, report.
//!
//! Entry points: [`deploy_stack`] and [`destroy::destroy_stack`] take the AWS [`Clients`], a request
//! built from any template body, and a [`Console`]; the commands in `src/commands/` are thin
//! wrappers that synthesize, connect and print. Nothing here panics on user input or AWS answers.
//!
//! Modules: [`client`] (SDK config, error sentences, throttling), [`template`] (what a body
//! requires), [`plan`], [`changeset`], [`changes`] (table and risk), [`approve`], [`watch`]
//! (events and progress), [`outcome`] (exit codes, JSON), [`ui`] (terminal, prompts, Ctrl-C),
//! [`stack`] (reading deployed stacks), [`destroy`].

pub mod approve;
pub mod changes;
pub mod changeset;
pub mod client;
pub mod destroy;
pub mod outcome;
pub mod plan;
pub mod stack;
pub mod template;
pub mod ui;
pub mod watch;

pub use approve::{ApprovalPolicy, Decision, RequireApproval};
pub use changeset::Timing;
pub use client::{AwsError, AwsTarget, Clients};
pub use outcome::{RunResult, StackResult, Status};
pub use ui::Console;

use changeset::{CreateRequest, Created, Ready, TemplateSource};
use outcome::{ChangeSetRef, Failure};
use plan::Plan;
use template::TemplateFacts;
use watch::Operation;

/// A deploy failed for a reason other than a guard or CloudFormation's own verdict: unreachable
/// endpoint, credentials, a bad template. `Display` is one sentence with the fix.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Template(#[from] template::TemplateError),
    #[error(
        "the template of {stack} is {bytes} bytes, over CloudFormation's {max}-byte limit for inline templates; set `staging_bucket` for stage {stage} in the config (an S3 bucket in {region}) so it can be uploaded"
    )]
    NoStagingBucket {
        stack: String,
        stage: String,
        region: String,
        bytes: usize,
        max: usize,
    },
    #[error("--parameters {key}: the template of {stack} has no parameter {key} (it has: {known})")]
    UnknownParameter {
        stack: String,
        key: String,
        known: String,
    },
    #[error("the change set for {stack} failed: {reason}")]
    ChangeSetFailed { stack: String, reason: String },
    #[error(
        "the credentials are for account {actual}, but stage {stage} deploys to account {expected}; pass --profile for the right account"
    )]
    WrongAccount {
        stage: String,
        expected: String,
        actual: String,
    },
}

/// What to deploy and how.
#[derive(Debug, Clone)]
pub struct DeployRequest {
    pub stack_name: String,
    /// The stage, for messages and the JSON result.
    pub stage: Option<String>,
    /// The template body (JSON), as `synth` writes it.
    pub template_body: String,
    /// `--parameters K=V`.
    pub parameters: Vec<(String, String)>,
    /// The stage's staging bucket, for templates over 51,200 bytes.
    pub staging_bucket: Option<String>,
    /// The stage's account: refuse other accounts' credentials.
    pub account: Option<String>,
    pub approval: ApprovalPolicy,
    /// `--no-execute`: create the change set and stop.
    pub no_execute: bool,
    pub timing: Timing,
}

impl DeployRequest {
    /// A request with defaults: default approval, execute, AWS timing.
    pub fn new(stack_name: impl Into<String>, template_body: impl Into<String>) -> DeployRequest {
        DeployRequest {
            stack_name: stack_name.into(),
            stage: None,
            template_body: template_body.into(),
            parameters: Vec::new(),
            staging_bucket: None,
            account: None,
            approval: ApprovalPolicy::default(),
            no_execute: false,
            timing: Timing::default(),
        }
    }
}

/// Checks that the credentials belong to the stage's account (when the config names one).
pub async fn check_account(
    clients: &Clients,
    stage: &str,
    expected: Option<&str>,
) -> Result<(), DeployError> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let out = client::retry_throttled(|| clients.sts.get_caller_identity().send())
        .await
        .map_err(|e| {
            client::describe("check which account the credentials are for", &e, clients)
        })?;
    let actual = out.account().unwrap_or_default();
    if actual != expected {
        return Err(DeployError::WrongAccount {
            stage: stage.to_owned(),
            expected: expected.to_owned(),
            actual: actual.to_owned(),
        });
    }
    Ok(())
}

/// Deploys one stack through a change set. Guards and CloudFormation verdicts are outcomes in the
/// returned [`StackResult`] (with their exit code); `Err` is for everything that stopped us from
/// getting that far.
pub async fn deploy_stack(
    clients: &Clients,
    req: &DeployRequest,
    console: &mut Console,
) -> Result<StackResult, DeployError> {
    let name = req.stack_name.as_str();
    let mut result = StackResult::new(name, req.stage.as_deref(), &clients.region);
    let new_facts = TemplateFacts::parse(&req.template_body)?;
    for (k, _) in &req.parameters {
        if !new_facts.parameters.contains(k) {
            return Err(DeployError::UnknownParameter {
                stack: name.to_owned(),
                key: k.clone(),
                known: if new_facts.parameters.is_empty() {
                    "none".into()
                } else {
                    new_facts.parameters.join(", ")
                },
            });
        }
    }
    check_account(
        clients,
        req.stage.as_deref().unwrap_or(name),
        req.account.as_deref(),
    )
    .await?;

    // 1. Plan from the stack's state.
    let mut existing = stack::describe_stack(clients, name).await?;
    let mut the_plan = plan::plan(existing.as_ref().map(|s| s.status.as_str()));
    result.stack_status = existing.as_ref().map(|s| s.status.clone());
    match &the_plan {
        Plan::Busy { status } => {
            let msg = format!(
                "stack {name} is {status}: another operation is running; wait for it to finish (`aws cloudformation describe-stack-events --stack-name {name}{}`) and deploy again",
                clients.aws_cli_flags()
            );
            console.danger(format!("refused: {msg}"));
            return Ok(result.finish(Status::Refused, Some(msg)));
        }
        Plan::Stuck { status, fix } => {
            let msg = format!("stack {name} is {status}: {fix}");
            console.danger(format!("refused: {msg}"));
            return Ok(result.finish(Status::Refused, Some(msg)));
        }
        Plan::Recreate => {
            let Some(info) = existing.as_ref() else {
                return Ok(result.finish(Status::Refused, None));
            };
            match recreate(clients, req, console, info).await? {
                None => {
                    existing = None;
                    the_plan = Plan::Create;
                }
                Some(refused) => return Ok(refused),
            }
        }
        Plan::Create | Plan::CreateInReview | Plan::Update => {}
    }
    let create = matches!(the_plan, Plan::Create | Plan::CreateInReview);

    // 2. The template source: inline, or through the staging bucket.
    let template = if req.template_body.len() > changeset::MAX_INLINE_TEMPLATE_BYTES {
        let Some(bucket) = req.staging_bucket.as_deref() else {
            return Err(DeployError::NoStagingBucket {
                stack: name.to_owned(),
                stage: req.stage.clone().unwrap_or_else(|| name.to_owned()),
                region: clients.region.clone(),
                bytes: req.template_body.len(),
                max: changeset::MAX_INLINE_TEMPLATE_BYTES,
            });
        };
        let url = changeset::stage_template(clients, bucket, name, &req.template_body).await?;
        console.line(format!(
            "template is {} bytes: uploaded to {url}",
            req.template_body.len()
        ));
        TemplateSource::Url(url)
    } else {
        TemplateSource::Body(req.template_body.clone())
    };

    // 3. Create the change set and wait for it.
    let keep_parameters = match (&existing, create) {
        (Some(info), false) => info
            .parameters
            .iter()
            .filter(|p| new_facts.parameters.contains(p))
            .filter(|p| !req.parameters.iter().any(|(k, _)| k == *p))
            .cloned()
            .collect(),
        _ => Vec::new(),
    };
    let cs_name = changeset::change_set_name();
    let caps: Vec<&str> = new_facts.capabilities.iter().map(|c| c.as_str()).collect();
    console.line(format!(
        "{name}: creating {} change set {cs_name}{}",
        if create { "CREATE" } else { "UPDATE" },
        if caps.is_empty() {
            String::new()
        } else {
            format!(" with {}", caps.join(", "))
        }
    ));
    let created = changeset::create(
        clients,
        &CreateRequest {
            stack_name: name,
            name: cs_name.clone(),
            create,
            template,
            capabilities: &new_facts.capabilities,
            parameters: &req.parameters,
            keep_parameters,
            description: format!(
                "snowcdk deploy{}",
                req.stage
                    .as_deref()
                    .map(|s| format!(" of stage {s}"))
                    .unwrap_or_default()
            ),
        },
    )
    .await?;
    let (cs_id, stack_id) = match created {
        Created::Pending { id, stack_id } => (id, stack_id),
        Created::NoChanges => {
            console.line(format!("{name}: no changes"));
            return Ok(with_outputs(clients, result, console, Status::NoChanges, name).await);
        }
        Created::Busy { reason } => {
            let msg = format!("stack {name} is busy: {reason}; wait for it and deploy again");
            console.danger(format!("refused: {msg}"));
            return Ok(result.finish(Status::Refused, Some(msg)));
        }
    };
    let mut cs_ref = ChangeSetRef {
        name: cs_name.clone(),
        id: cs_id.clone(),
        change_set_type: if create { "CREATE" } else { "UPDATE" }.into(),
        exists: true,
    };
    let ready = changeset::wait(clients, &stack_id, &cs_id, &req.timing, console).await?;
    let changes = match ready {
        Ready::Changes(c) => c,
        Ready::NoChanges => {
            console.line(format!("{name}: no changes"));
            if let Err(e) = changeset::delete(clients, &stack_id, &cs_id).await {
                console.warn(format!(
                    "warning: could not delete the empty change set {cs_name}: {e}"
                ));
            } else {
                cs_ref.exists = false;
            }
            result.change_set = Some(cs_ref);
            return Ok(with_outputs(clients, result, console, Status::NoChanges, &stack_id).await);
        }
        Ready::Failed { reason } => {
            return Err(DeployError::ChangeSetFailed {
                stack: name.to_owned(),
                reason,
            });
        }
        Ready::Interrupted | Ready::TimedOut { .. } => {
            let why = if let Ready::TimedOut { status } = &ready {
                format!(
                    "the change set is still {status} after {:?}",
                    req.timing.change_set_total
                )
            } else {
                "interrupted".to_owned()
            };
            let msg = format!(
                "{why}; nothing was executed. The change set {cs_name} is left in place: inspect it with `aws cloudformation describe-change-set --stack-name {name} --change-set-name {cs_name}{flags}` or delete it with `aws cloudformation delete-change-set --stack-name {name} --change-set-name {cs_name}{flags}`",
                flags = clients.aws_cli_flags()
            );
            console.warn(&msg);
            result.change_set = Some(cs_ref);
            return Ok(result.finish(Status::Interrupted, Some(msg)));
        }
    };

    // 4. Classify and show.
    let old_facts = if !create && changes::needs_old_template(&changes) {
        Some(stack::deployed_template(clients, &stack_id).await?)
    } else {
        None
    };
    let classified = changes::classify_all(&changes, old_facts.as_ref(), &new_facts);
    console.line(format!("{name}: {} change(s)", classified.len()));
    console.line(changes::render_table(&classified, console.style()));
    result.changes = classified.clone();
    result.change_set = Some(cs_ref.clone());

    // 5. Stop here for review?
    if req.no_execute {
        let decision = approve::decide(&classified, &req.approval);
        if let Decision::Refuse { reason } = &decision {
            console.danger(format!(
                "note: executing it as is would be refused: {reason}"
            ));
        }
        console.line(format!(
            "change set {cs_name} left for review (--no-execute): {cs_id}\n  execute: `aws cloudformation execute-change-set --change-set-name {cs_id}{flags}`\n  delete:  `aws cloudformation delete-change-set --change-set-name {cs_id}{flags}`",
            flags = clients.aws_cli_flags()
        ));
        return Ok(result.finish(Status::NotExecuted, None));
    }

    // 6. Approve.
    match approve::decide(&classified, &req.approval) {
        Decision::Proceed => {}
        Decision::Refuse { reason } => {
            console.danger(format!("refused: {reason}"));
            discard(clients, console, &stack_id, &cs_id, &cs_name).await;
            cs_ref.exists = false;
            result.change_set = Some(cs_ref);
            return Ok(result.finish(Status::Refused, Some(reason)));
        }
        Decision::Ask {
            reason,
            destructive,
        } => {
            let (question, expected) = if destructive {
                (
                    format!(
                        "This deletes data ({reason}). Type the stack name ({name}) to execute:"
                    ),
                    name,
                )
            } else {
                (
                    format!("Execute this change set on {name} ({reason})? [y/N]"),
                    "y",
                )
            };
            let answer = console.ask(&question, expected).await;
            if answer != ui::Answer::Yes {
                let reason = match answer {
                    ui::Answer::NotInteractive => format!(
                        "approval needed ({reason}) but there is no terminal to ask on; review the table and run again with --yes{}",
                        if destructive {
                            " (and --allow-replacement)"
                        } else {
                            ""
                        }
                    ),
                    ui::Answer::Interrupted => "interrupted at the approval prompt".to_owned(),
                    _ => "not approved".to_owned(),
                };
                console.danger(format!("refused: {reason}; nothing was changed"));
                discard(clients, console, &stack_id, &cs_id, &cs_name).await;
                cs_ref.exists = false;
                result.change_set = Some(cs_ref);
                return Ok(result.finish(Status::Refused, Some(reason)));
            }
        }
    }

    // 7. Execute and watch.
    let baseline = watch::latest_event_id(clients, &stack_id).await?;
    changeset::execute(clients, &stack_id, &cs_id, &cs_name).await?;
    cs_ref.exists = false;
    result.change_set = Some(cs_ref);
    console.line(format!("{name}: executing {cs_name}"));
    let end = watch::watch(
        clients,
        console,
        watch::Watch {
            stack_name: name,
            stack_id: &stack_id,
            baseline,
            total: classified.len(),
            op: Operation::Deploy,
        },
        &req.timing,
    )
    .await?;
    result.stack_status = Some(end.status.clone());
    if end.interrupted {
        let msg = interrupted_message(clients, name, &end.in_progress, create);
        console.warn(&msg);
        return Ok(result.finish(Status::Interrupted, Some(msg)));
    }
    let status = match end.status.as_str() {
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE" => Status::Deployed,
        "UPDATE_ROLLBACK_COMPLETE" | "IMPORT_ROLLBACK_COMPLETE" => Status::RolledBack,
        _ => Status::Failed,
    };
    if status != Status::Deployed {
        result.failure = end.failure.clone();
        let msg = failure_message(name, &end.status, end.failure.as_ref(), status);
        console.danger(&msg);
        return Ok(result.finish(status, Some(msg)));
    }
    console.line(format!("{name}: {}", end.status));
    Ok(with_outputs(clients, result, console, Status::Deployed, &stack_id).await)
}

/// `ROLLBACK_COMPLETE`: explain, ask (or `--yes`), delete the empty stack and wait. `None` means
/// the stack is gone and a create may follow; `Some` is the refusal to return.
async fn recreate(
    clients: &Clients,
    req: &DeployRequest,
    console: &mut Console,
    info: &stack::StackInfo,
) -> Result<Option<StackResult>, DeployError> {
    let name = req.stack_name.as_str();
    let mut result = StackResult::new(name, req.stage.as_deref(), &clients.region);
    result.stack_status = Some(info.status.clone());
    console.warn(format!(
        "stack {name} is ROLLBACK_COMPLETE: its first create failed and it holds no resources; it must be deleted before it can be created again{}",
        info.status_reason
            .as_deref()
            .map(|r| format!(" (last reason: {r})"))
            .unwrap_or_default()
    ));
    if req.no_execute {
        let msg = format!(
            "--no-execute changes nothing, but {name} must be deleted first; run without --no-execute (with --yes to confirm the delete)"
        );
        console.danger(format!("refused: {msg}"));
        return Ok(Some(result.finish(Status::Refused, Some(msg))));
    }
    if !req.approval.yes {
        match console
            .ask(
                &format!("Delete the empty stack {name} and create it again? [y/N]"),
                "y",
            )
            .await
        {
            ui::Answer::Yes => {}
            other => {
                let msg = if other == ui::Answer::NotInteractive {
                    format!("{name} must be deleted and recreated; run again with --yes to do that")
                } else {
                    "not approved".to_owned()
                };
                console.danger(format!("refused: {msg}"));
                return Ok(Some(result.finish(Status::Refused, Some(msg))));
            }
        }
    }
    let baseline = watch::latest_event_id(clients, &info.id).await?;
    client::retry_throttled(|| clients.cfn.delete_stack().stack_name(&info.id).send())
        .await
        .map_err(|e| client::describe(&format!("delete stack {name}"), &e, clients))?;
    console.line(format!("{name}: deleting the failed stack"));
    let end = watch::watch(
        clients,
        console,
        watch::Watch {
            stack_name: name,
            stack_id: &info.id,
            baseline,
            total: 0,
            op: Operation::Delete,
        },
        &req.timing,
    )
    .await?;
    if end.interrupted {
        let msg = format!(
            "interrupted while {name} is being deleted; the delete goes on. Deploy again once `aws cloudformation describe-stacks --stack-name {name}{}` says it is gone",
            clients.aws_cli_flags()
        );
        console.warn(&msg);
        return Ok(Some(result.finish(Status::Interrupted, Some(msg))));
    }
    if end.status != "DELETE_COMPLETE" {
        result.failure = end.failure.clone();
        let msg = failure_message(name, &end.status, end.failure.as_ref(), Status::Failed);
        console.danger(&msg);
        return Ok(Some(result.finish(Status::Failed, Some(msg))));
    }
    Ok(None)
}

/// Deletes a change set that will not be executed, saying so if that fails.
async fn discard(
    clients: &Clients,
    console: &mut Console,
    stack_id: &str,
    cs_id: &str,
    cs_name: &str,
) {
    if let Err(e) = changeset::delete(clients, stack_id, cs_id).await {
        console.warn(format!(
            "warning: could not delete change set {cs_name}: {e}"
        ));
    }
}

/// Reads and prints the stack outputs (of `stack`, the ARN when known: a name may also match an
/// older stack in review), then finishes the result with `status`. Outputs that cannot be read
/// are a warning, not a failure: the deploy itself is done.
async fn with_outputs(
    clients: &Clients,
    mut result: StackResult,
    console: &mut Console,
    status: Status,
    stack: &str,
) -> StackResult {
    match stack::describe_stack(clients, stack).await {
        Ok(Some(info)) => {
            result.stack_status = Some(info.status);
            if !info.outputs.is_empty() {
                console.line("Outputs:");
                for o in &info.outputs {
                    console.line(format!("  {} = {}", o.key, o.value));
                }
            }
            result.outputs = info.outputs;
        }
        Ok(None) => {}
        Err(e) => console.warn(format!("warning: could not read the outputs: {e}")),
    }
    result.finish(status, None)
}

/// What to say when a stack operation ended badly.
fn failure_message(
    stack: &str,
    status: &str,
    failure: Option<&Failure>,
    outcome: Status,
) -> String {
    let what = match outcome {
        Status::RolledBack => {
            "the update failed and was rolled back; the stack is as it was before"
        }
        _ => "the operation failed",
    };
    match failure {
        Some(f) => format!(
            "{stack}: {status}: {what}. First failure: {} ({}) {}: {}",
            f.logical_id, f.resource_type, f.status, f.reason
        ),
        None => format!("{stack}: {status}: {what}"),
    }
}

/// What to say when watching stops before the operation ends (Ctrl-C, time bound).
fn interrupted_message(
    clients: &Clients,
    stack: &str,
    in_progress: &[String],
    create: bool,
) -> String {
    let flags = clients.aws_cli_flags();
    let running = if in_progress.is_empty() {
        String::new()
    } else {
        format!(" Still in progress: {}.", in_progress.join(", "))
    };
    let undo = if create {
        format!(
            "to abandon it, wait for it to end and run `snowcdk destroy {stack}` (or `aws cloudformation delete-stack --stack-name {stack}{flags}`)"
        )
    } else {
        format!(
            "to roll it back: `aws cloudformation cancel-update-stack --stack-name {stack}{flags}`"
        )
    };
    format!(
        "stopped watching; the deployment of {stack} was NOT cancelled and goes on in CloudFormation.{running} Watch it with `aws cloudformation describe-stack-events --stack-name {stack}{flags}` (`snowcdk deploy` refuses while it runs); {undo}"
    )
}
