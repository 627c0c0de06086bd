//! The change-set deployment engine: plan (create/update/recreate/refuse), create and wait for a
//! change set, classify and show its changes, approve, execute, watch, report.
//!
//! Entry points: [`deploy_stack`] and [`destroy::destroy_stack`] take the AWS [`Clients`], a request
//! built from any template body, and a [`Console`]; the commands in `src/commands/` are thin
//! wrappers that synthesize, connect and print. Nothing here panics on user input or AWS answers.
//!
//! Modules (private; what callers need is re-exported here): `client` (SDK config, error
//! sentences, throttling), `template` (what a body requires), `plan`, `changeset`, `changes`
//! (table and risk), `approve`, `watch` (events and progress), `outcome` (exit codes, JSON),
//! `ui` (terminal, prompts, Ctrl-C), `stack` (reading deployed stacks), `staging` (assets and
//! large templates); [`destroy`] and [`snapshot`] (manual DB snapshots, `snowcdk snapshot`) are
//! public.

pub(crate) mod approve;
pub(crate) mod changes;
pub(crate) mod changeset;
pub(crate) mod client;
pub mod destroy;
pub mod drift;
mod first_create;
pub(crate) mod lookup;
mod notice;
pub(crate) mod outcome;
pub mod parameters;
pub(crate) mod plan;
pub mod policy;
pub mod preflight;
pub mod snapshot;
pub(crate) mod stack;
pub(crate) mod staging;
mod template;
pub(crate) mod ui;
pub mod versions;
pub(crate) mod watch;

pub use approve::{ApprovalPolicy, Decision, RequireApproval, decide};
pub use changes::{Action, Change, ClassifiedChange, Risk, Style, classify};
pub use changeset::{Timing, change_set_name, stage_template};
pub use client::{AwsError, AwsErrorKind, AwsTarget, Clients, DEFAULT_TIMEOUT, describe};
pub use drift::{
    DriftError, DriftReport, DriftTiming, PropertyDifference, ResourceDrift, ResourceDriftStatus,
    StackDrift,
};
pub use outcome::{ChangeSetRef, Failure, OutputValue, RunResult, StackResult, Status};
pub use snapshot::{SnapshotError, SnapshotInfo, WaitEnd, WaitOptions};
pub use stack::DeployedResource;
pub use staging::{Staged, resolve_staging_bucket, stage_for_deploy};
pub use ui::{Answer, Console, Interrupt, InterruptHandle, Prompter};

use changeset::{CreateRequest, Created, Ready, TemplateSource};
use plan::Plan;
use template::TemplateFacts;
use watch::Operation;

use aws_sdk_cloudformation::types::StackStatus;

/// A deploy failed for a reason other than a guard or CloudFormation's own verdict: unreachable
/// endpoint, credentials, a bad template. `Display` is one sentence with the fix.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// An AWS call failed (endpoint, credentials, permissions, throttling).
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// A template body that came without facts (a request built from text, or the deployed
    /// template) could not be read.
    #[error(transparent)]
    Template(#[from] template::TemplateError),
    /// The template is too large to send inline and the stage names no bucket to upload it to.
    #[error(
        "the template of {stack} is {bytes} bytes, over CloudFormation's {max}-byte limit for inline templates; set `staging_bucket` for stage {stage} in the config (an S3 bucket in {region}) so it can be uploaded"
    )]
    NoStagingBucket {
        /// The stack being deployed.
        stack: String,
        /// Its stage, whose config needs the bucket.
        stage: String,
        /// The region the bucket must be in.
        region: String,
        /// The template's size.
        bytes: usize,
        /// CloudFormation's inline limit.
        max: usize,
    },
    /// The staging bucket a large template goes through does not exist (checked by the upload,
    /// before any change set).
    #[error(
        "the template of {stack} must go through the staging bucket {bucket}, which does not exist in {region}; run `{program} bootstrap` for this account and region, or fix the stage's `staging_bucket` in the config"
    )]
    StagingBucketMissing {
        /// The stack being deployed.
        stack: String,
        /// The bucket named by the config or the bootstrap stack.
        bucket: String,
        /// The region.
        region: String,
        /// The program name, for the command.
        program: &'static str,
    },
    /// `--parameters` names a parameter the template does not declare: likely a typo, which
    /// CloudFormation would only report after a change set was made.
    #[error("--parameters {key}: the template of {stack} has no parameter {key} (it has: {known})")]
    UnknownParameter {
        /// The stack being deployed.
        stack: String,
        /// The parameter as given.
        key: String,
        /// The template's parameters, comma-separated (`none`), to spot the typo.
        known: String,
    },
    /// A pinned parameter's SSM source exists but holds no value.
    #[error(
        "parameter {key}: the SSM parameter {ssm_name} in {region} has no value; check the region, or pass --parameters {key}=VALUE"
    )]
    EmptyLookup {
        /// The template parameter.
        key: String,
        /// Its SSM source.
        ssm_name: String,
        /// The region it was read in.
        region: String,
    },
    /// A parameter would get no value at all: CloudFormation would refuse the change set.
    #[error("{stack}: {source}")]
    MissingParameter {
        /// The stack being deployed.
        stack: String,
        /// Which parameter.
        source: parameters::MissingParameter,
    },
    /// CloudFormation could not make the change set (for a reason other than "no changes").
    #[error("the change set for {stack} failed: {reason}")]
    ChangeSetFailed {
        /// The stack being deployed.
        stack: String,
        /// CloudFormation's status reason.
        reason: String,
    },
    /// The credentials belong to another account than the stage's: deploying would put the stack
    /// in the wrong place.
    #[error(
        "the credentials are for account {actual}, but stage {stage} deploys to account {expected}; pass --profile for the right account"
    )]
    WrongAccount {
        /// The stage whose `account` is set.
        stage: String,
        /// The stage's account.
        expected: String,
        /// The account the credentials belong to.
        actual: String,
    },
}

/// What to deploy and how.
#[derive(Debug, Clone)]
pub struct DeployRequest {
    /// The CloudFormation stack to create or update.
    pub stack_name: String,
    /// The stage, for messages and the JSON result.
    pub stage: Option<String>,
    /// The template body (JSON), as `synth` writes it.
    pub template_body: String,
    /// What the model knows about the body (the assembly's facts). `None` for a body from
    /// elsewhere: it is then read once through [`TemplateFacts::parse`].
    pub facts: Option<TemplateFacts>,
    /// `--parameters K=V`.
    pub parameters: Vec<(String, String)>,
    /// The stage's staging bucket, for templates over 51,200 bytes.
    pub staging_bucket: Option<String>,
    /// The stage's account: refuse other accounts' credentials.
    pub account: Option<String>,
    /// When to ask, and which destructive changes are allowed at all.
    pub approval: ApprovalPolicy,
    /// `--no-execute`: create the change set and stop.
    pub no_execute: bool,
    /// `--force`: create a change set even when the template and every parameter equal the
    /// deployed stack's.
    pub force: bool,
    /// `--refresh-pinned`: look every pinned parameter up again (a new AMI for the bastion).
    pub refresh_pinned: bool,
    /// How often and how long to poll change sets and stack events.
    pub timing: Timing,
    /// The stage is protected: turn termination protection on after each successful deploy
    /// (never off; `destroy` lifts it after a typed confirmation).
    pub termination_protection: bool,
    /// `--skip-preflight`: do not run the read-only checks of [`preflight`] (emergencies).
    pub skip_preflight: bool,
    /// `--allow-major-upgrade`: let a database's engine go to a new major version (see
    /// [`versions`]).
    pub allow_major_upgrade: bool,
    /// `--check-drift`: run a fresh drift detection before showing the changes (by default the
    /// stack's last detection is used, when there is one); see [`drift`].
    pub check_drift: bool,
}

impl DeployRequest {
    /// A request with defaults: default approval, execute, AWS timing.
    pub fn new(stack_name: impl Into<String>, template_body: impl Into<String>) -> DeployRequest {
        DeployRequest {
            stack_name: stack_name.into(),
            stage: None,
            template_body: template_body.into(),
            facts: None,
            parameters: Vec::new(),
            staging_bucket: None,
            account: None,
            approval: ApprovalPolicy::default(),
            no_execute: false,
            force: false,
            refresh_pinned: false,
            timing: Timing::default(),
            termination_protection: false,
            skip_preflight: false,
            allow_major_upgrade: false,
            check_drift: false,
        }
    }
}

/// Says which account and region a command that changes AWS acts on, before it changes
/// anything: `acting on account 123456789012 in us-east-1 as arn:... (profile P)`. Returns the
/// account id. An emulator's made-up account is printed the same way.
pub async fn announce(clients: &Clients, console: &mut Console) -> Result<String, DeployError> {
    let out = client::retry_throttled(|| clients.sts.get_caller_identity().send())
        .await
        .map_err(|e| {
            client::describe("check which account the credentials are for", &e, clients)
        })?;
    let account = out.account().unwrap_or("unknown").to_owned();
    let mut line = format!("acting on account {account} in {}", clients.region);
    if let Some(arn) = out.arn() {
        line.push_str(&format!(" as {arn}"));
    }
    if let Some(p) = &clients.profile {
        line.push_str(&format!(" (profile {p})"));
    }
    if let Some(u) = &clients.endpoint_url {
        line.push_str(&format!(" through {u}"));
    }
    console.line(line);
    Ok(account)
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
///
/// Everything up to `ExecuteChangeSet` is cancellable: an interrupt (Ctrl-C, SIGTERM, SIGHUP)
/// drops the request in flight, deletes the change set if one was made, and ends with
/// [`Status::Interrupted`] and "nothing was executed". The interrupt is checked once more right
/// before executing, so one that lands during the last poll is never lost.
pub async fn deploy_stack(
    clients: &Clients,
    req: &DeployRequest,
    console: &mut Console,
) -> Result<StackResult, DeployError> {
    // A first create of a template with deletion protection goes in two steps (see
    // `first_create`), so a late failure can still roll back completely.
    if !req.no_execute
        && let Some((body, protected)) = first_create::unprotected_body(&req.template_body)
    {
        let existing = stack::describe_stack(clients, &req.stack_name).await?;
        if matches!(
            plan::plan(existing.as_ref().map(|s| &s.status)),
            Plan::Create | Plan::CreateInReview | Plan::Recreate
        ) {
            return first_create::deploy(clients, req, console, body, &protected).await;
        }
    }
    deploy_once(clients, req, console).await
}

/// One deploy through one change set: [`deploy_stack`] without the first-create split.
pub(crate) async fn deploy_once(
    clients: &Clients,
    req: &DeployRequest,
    console: &mut Console,
) -> Result<StackResult, DeployError> {
    let name = req.stack_name.as_str();
    let parsed;
    let new_facts = match &req.facts {
        Some(f) => f,
        None => {
            parsed = TemplateFacts::parse(&req.template_body)?;
            &parsed
        }
    };
    for (k, _) in &req.parameters {
        if !new_facts.has_parameter(k) {
            return Err(DeployError::UnknownParameter {
                stack: name.to_owned(),
                key: k.clone(),
                known: if new_facts.parameters.is_empty() {
                    "none".into()
                } else {
                    new_facts.parameter_names().join(", ")
                },
            });
        }
    }
    let mut intr = console.interrupt().clone();
    let mut state = Progress {
        cs_name: changeset::change_set_name(),
        ..Progress::default()
    };
    let prepared = intr
        .guard(prepare(clients, req, console, new_facts, &mut state))
        .await;
    let ready = match prepared {
        None => return Ok(interrupted_before_execute(clients, req, console, &state, &intr).await),
        Some(Err(e)) => return Err(e),
        Some(Ok(Step::Interrupted)) => {
            return Ok(interrupted_before_execute(clients, req, console, &state, &intr).await);
        }
        Some(Ok(Step::Finished(r))) => {
            if r.status == Status::NoChanges {
                policy::keep_guards(
                    clients,
                    console,
                    name,
                    new_facts,
                    req.termination_protection,
                )
                .await;
            }
            return Ok(*r);
        }
        Some(Ok(Step::Ready(r))) => *r,
    };
    let ReadyToExecute {
        mut result,
        mut cs_ref,
        stack_id,
        cs_id,
        classified,
        create,
    } = ready;
    let cs_name = state.cs_name.clone();

    // 7. Approve.
    match approve::decide(&classified, &req.approval) {
        Decision::Proceed => {}
        Decision::Refuse { reason } => {
            console.danger(format!("refused: {reason}"));
            discard(clients, console, &stack_id, &cs_id, &cs_name, create).await;
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
                discard(clients, console, &stack_id, &cs_id, &cs_name, create).await;
                cs_ref.exists = false;
                result.change_set = Some(cs_ref);
                return Ok(result.finish(Status::Refused, Some(reason)));
            }
        }
    }

    // 8. Execute and watch. The last moment to stop without executing: the baseline read and
    // the interrupt check right before ExecuteChangeSet.
    let baseline = match intr.guard(watch::latest_event_id(clients, &stack_id)).await {
        Some(b) => b?,
        None => {
            return Ok(interrupted_before_execute(clients, req, console, &state, &intr).await);
        }
    };
    if intr.is_triggered() {
        return Ok(interrupted_before_execute(clients, req, console, &state, &intr).await);
    }
    // The stack policy for this update (a create has no resources yet: it gets the strict
    // policy once it exists). Approved replacements of protected resources get a temporary
    // policy, restored below whatever the outcome.
    let guard = if create {
        None
    } else {
        let protected = policy::protected_ids(new_facts);
        let allowed = policy::approved_ids(&classified, &protected);
        if allowed.is_empty() {
            policy::ensure_strict(clients, console, &stack_id, name, new_facts).await;
            None
        } else {
            match policy::Guard::lift(clients, console, &stack_id, new_facts, allowed).await {
                Ok(g) => Some(g),
                Err(e) => {
                    let msg = format!(
                        "could not set the temporary stack policy the approved replacement needs ({e}); nothing was executed"
                    );
                    console.danger(format!("refused: {msg}"));
                    discard(clients, console, &stack_id, &cs_id, &cs_name, create).await;
                    cs_ref.exists = false;
                    result.change_set = Some(cs_ref);
                    return Ok(result.finish(Status::Refused, Some(msg)));
                }
            }
        }
    };
    let run = Execution {
        stack_id: &stack_id,
        cs_id: &cs_id,
        cs_name: &cs_name,
        create,
        total: classified.len(),
        baseline,
        result,
        cs_ref,
    };
    let outcome = execute_and_watch(clients, req, console, &mut intr, new_facts, run).await;
    let Some(guard) = guard else {
        return outcome;
    };
    let still_running = matches!(
        &outcome,
        Ok(r) if matches!(r.status, Status::Interrupted | Status::StoppedWaiting)
    );
    let failed = guard
        .restore(clients, console, &stack_id, name, still_running)
        .await;
    match (outcome, failed) {
        (Ok(mut r), Some(msg)) => {
            r.message = Some(match r.message.take() {
                Some(m) => format!("{m}; {msg}"),
                None => msg,
            });
            Ok(r)
        }
        (outcome, _) => outcome,
    }
}

/// Which change set [`execute_and_watch`] runs.
struct Execution<'a> {
    stack_id: &'a str,
    cs_id: &'a str,
    cs_name: &'a str,
    create: bool,
    /// Resource changes, for the progress bar.
    total: usize,
    /// The newest stack event before executing.
    baseline: Option<String>,
    /// The result so far, and the change set it reports.
    result: StackResult,
    cs_ref: ChangeSetRef,
}

/// Step 7: execute the approved change set, watch it to its end (or an interrupt, or the time
/// bound) and report. On success, the stack gets its guards: the strict stack policy after a
/// create, termination protection when the stage asks for it.
async fn execute_and_watch(
    clients: &Clients,
    req: &DeployRequest,
    console: &mut Console,
    intr: &mut ui::Interrupt,
    new_facts: &TemplateFacts,
    run: Execution<'_>,
) -> Result<StackResult, DeployError> {
    let name = req.stack_name.as_str();
    let Execution {
        stack_id,
        cs_id,
        cs_name,
        create,
        total,
        baseline,
        mut result,
        mut cs_ref,
    } = run;
    let flags = clients.aws_cli_flags();
    match intr
        .guard(changeset::execute(clients, stack_id, cs_id, cs_name))
        .await
    {
        Some(r) => r?,
        None => {
            // The request may or may not have reached CloudFormation: say both ways out.
            let msg = format!(
                "{} while ExecuteChangeSet {cs_name} was in flight: it may or may not have started. Check with `aws cloudformation describe-stacks --stack-name {name}{flags}`: if the stack is {}_IN_PROGRESS it goes on in CloudFormation ({}); if not, nothing was executed and the change set can be deleted with `aws cloudformation delete-change-set --stack-name {name} --change-set-name {cs_name}{flags}`",
                intr.signal().unwrap_or("interrupted"),
                if create { "CREATE" } else { "UPDATE" },
                undo_hint(clients, name, create)
            );
            console.warn(&msg);
            result.change_set = Some(cs_ref);
            return Ok(result.finish(Status::Interrupted, Some(msg)));
        }
    }
    cs_ref.exists = false;
    result.change_set = Some(cs_ref);
    console.line(format!("{name}: executing {cs_name}"));
    let end = watch::watch_run(
        clients,
        console,
        watch::Watch {
            stack_name: name,
            stack_id,
            baseline,
            total,
            op: Operation::Deploy,
        },
        &req.timing,
        Some(cs_name),
    )
    .await?;
    result.stack_status = Some(end.status.clone());
    if end.interrupted {
        let msg = interrupted_message(clients, name, &end, create);
        console.warn(&msg);
        let status = if end.signal.is_some() {
            Status::Interrupted
        } else {
            Status::StoppedWaiting
        };
        return Ok(result.finish(status, Some(msg)));
    }
    let status = match end.status {
        StackStatus::CreateComplete | StackStatus::UpdateComplete | StackStatus::ImportComplete => {
            Status::Deployed
        }
        StackStatus::UpdateRollbackComplete | StackStatus::ImportRollbackComplete => {
            Status::RolledBack
        }
        _ => Status::Failed,
    };
    if status != Status::Deployed {
        result.failure = end.failure.clone();
        let msg = failure_message(name, end.status.as_str(), end.failure.as_ref(), status);
        console.danger(&msg);
        return Ok(result.finish(status, Some(msg)));
    }
    console.line(format!("{name}: {}", end.status.as_str()));
    if create {
        policy::ensure_strict(clients, console, stack_id, name, new_facts).await;
    }
    if req.termination_protection {
        policy::ensure_termination_protection(clients, console, stack_id, name).await;
    }
    Ok(with_outputs(clients, result, console, Status::Deployed, stack_id).await)
}

/// True when two template bodies say the same thing: equal text, or equal JSON (CloudFormation
/// may hand a JSON body back re-serialized). A body that is not JSON compares by text only, so a
/// doubt means "create a change set and let CloudFormation say".
fn same_template(deployed: &str, new: &str) -> bool {
    if deployed == new {
        return true;
    }
    match (
        serde_json::from_str::<serde_json::Value>(deployed),
        serde_json::from_str::<serde_json::Value>(new),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// What a deploy has done so far, kept outside the cancellable part so an interrupt can say
/// (and clean up) exactly what exists.
#[derive(Debug, Default)]
struct Progress {
    /// This run's change set name (unique per run).
    cs_name: String,
    /// The last stack status read.
    stack_status: Option<StackStatus>,
    /// `CreateChangeSet` was sent: the change set may exist even without an answer.
    create_sent: bool,
    /// The change set ARN and stack ARN, once CloudFormation answered.
    created: Option<(String, String)>,
    /// A `CREATE` change set.
    create: bool,
}

/// How the cancellable part ended.
enum Step {
    /// Done without executing (refused, no changes, `--no-execute`, ...).
    Finished(Box<StackResult>),
    /// A change set with changes, shown, ready for approval.
    Ready(Box<ReadyToExecute>),
    /// A wait inside saw the interrupt first.
    Interrupted,
}

struct ReadyToExecute {
    result: StackResult,
    cs_ref: ChangeSetRef,
    stack_id: String,
    cs_id: String,
    classified: Vec<changes::ClassifiedChange>,
    create: bool,
}

/// Steps 1 to 5: check the account, plan, refuse a stack under review or busy, upload, create
/// the change set, wait for it, classify and show it. Cancellable at every await.
async fn prepare(
    clients: &Clients,
    req: &DeployRequest,
    console: &mut Console,
    new_facts: &TemplateFacts,
    state: &mut Progress,
) -> Result<Step, DeployError> {
    let name = req.stack_name.as_str();
    let mut result = StackResult::new(name, req.stage.as_deref(), &clients.region);
    let finished = |r: StackResult| Ok(Step::Finished(Box::new(r)));
    check_account(
        clients,
        req.stage.as_deref().unwrap_or(name),
        req.account.as_deref(),
    )
    .await?;

    // 1. Plan from the stack's state.
    let mut existing = stack::describe_stack(clients, name).await?;
    let mut the_plan = plan::plan(existing.as_ref().map(|s| &s.status));
    result.stack_status = existing.as_ref().map(|s| s.status.clone());
    state.stack_status = result.stack_status.clone();
    match &the_plan {
        Plan::Busy { status } => {
            let msg = format!(
                "stack {name} is {status}: another operation is running; wait for it to finish (`aws cloudformation describe-stack-events --stack-name {name}{}`) and deploy again",
                clients.aws_cli_flags()
            );
            console.danger(format!("refused: {msg}"));
            return finished(result.finish(Status::Refused, Some(msg)));
        }
        Plan::Stuck { status, fix } => {
            let msg = format!("stack {name} is {status}: {fix}");
            console.danger(format!("refused: {msg}"));
            return finished(result.finish(Status::Refused, Some(msg)));
        }
        Plan::Recreate => {
            let Some(info) = existing.as_ref() else {
                return finished(result.finish(Status::Refused, None));
            };
            match recreate(clients, req, console, info).await? {
                None => {
                    existing = None;
                    the_plan = Plan::Create;
                }
                Some(refused) => return finished(refused),
            }
        }
        Plan::Create | Plan::CreateInReview | Plan::Update => {}
    }
    let create = matches!(the_plan, Plan::Create | Plan::CreateInReview);
    state.create = create;

    // A change set of another snowcdk run (under review, or being made right now) is not
    // merged with ours: refuse, naming it.
    if let Some(info) = existing.as_ref() {
        let others = changeset::pending_snowcdk(clients, &info.id, name, None).await?;
        if let Some(other) = others.first() {
            let msg = under_review_message(clients, name, other);
            console.danger(format!("refused: {msg}"));
            return finished(result.finish(Status::Refused, Some(msg)));
        }
    }

    // 3. Plan the parameters against the deployed stack; when nothing differs, stop here
    // without a change set (as `cdk deploy` does), unless --force.
    let deployed = match (&existing, create) {
        (Some(info), false) => Some((
            info,
            stack::deployed_template_body(clients, &info.id).await?,
        )),
        _ => None,
    };
    let live = deployed
        .as_ref()
        .map(|(info, (_, facts))| (info.parameters.as_slice(), facts));
    let lookups = parameters::lookups_needed(new_facts, live, &req.parameters, req.refresh_pinned);
    let looked_up = lookup::resolve(clients, &lookups).await?;
    let plans = parameters::plan(
        new_facts,
        live,
        &req.parameters,
        req.refresh_pinned,
        &looked_up,
    )
    .map_err(|source| DeployError::MissingParameter {
        stack: name.to_owned(),
        source,
    })?;
    result.parameters = plans.clone();
    // Database engine versions (when the template changed): keep a live minor RDS moved to on
    // its own, and let a major upgrade through only with --allow-major-upgrade.
    let body = match &deployed {
        Some((info, (old, _))) if !same_template(old, &req.template_body) => match versions::check(
            clients,
            console,
            &info.id,
            old,
            &req.template_body,
            req.allow_major_upgrade,
        )
        .await
        {
            versions::Versions::Send(b) => b,
            versions::Versions::Refuse(msg) => {
                console.danger(format!("refused: {msg}"));
                return finished(result.finish(Status::Refused, Some(msg)));
            }
        },
        _ => req.template_body.clone(),
    };
    if let Some((info, (deployed_body, _))) = &deployed
        && !req.force
        && same_template(deployed_body, &body)
        && plans
            .iter()
            .all(|p| !p.changes() && p.source != parameters::Source::Default)
    {
        console.line(format!(
            "{name}: no changes (the template and every parameter equal the deployed stack; no change set was created, --force makes one)"
        ));
        let id = info.id.clone();
        let r = with_outputs(clients, result, console, Status::NoChanges, &id).await;
        return finished(r);
    }

    // 3b. Preflight (read-only): refuse what would fail only after resources were made.
    if !req.skip_preflight
        && let Some(msg) = preflight::refusal(clients, console, &body, &plans).await
    {
        console.danger(format!("refused: {msg}"));
        return finished(result.finish(Status::Refused, Some(msg)));
    }

    // 3c. The template source (after the checks, so a refused deploy uploads nothing):
    // inline, or through the staging bucket.
    let template = if body.len() > changeset::MAX_INLINE_TEMPLATE_BYTES {
        let Some(bucket) = req.staging_bucket.as_deref() else {
            return Err(DeployError::NoStagingBucket {
                stack: name.to_owned(),
                stage: req.stage.clone().unwrap_or_else(|| name.to_owned()),
                region: clients.region.clone(),
                bytes: body.len(),
                max: changeset::MAX_INLINE_TEMPLATE_BYTES,
            });
        };
        let url = changeset::stage_template(clients, bucket, name, &body).await?;
        console.line(format!(
            "template is {} bytes: uploaded to {url}",
            body.len()
        ));
        TemplateSource::Url(url)
    } else {
        TemplateSource::Body(body)
    };

    // 4. Create the change set and wait for it.
    let cs_name = state.cs_name.clone();
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
    state.create_sent = true;
    let created = changeset::create(
        clients,
        &CreateRequest {
            stack_name: name,
            name: cs_name.clone(),
            create,
            template,
            capabilities: &new_facts.capabilities,
            parameters: &plans,
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
            state.create_sent = false;
            console.line(format!("{name}: no changes"));
            let r = with_outputs(clients, result, console, Status::NoChanges, name).await;
            return finished(r);
        }
        Created::Busy { reason } => {
            state.create_sent = false;
            let msg = format!("stack {name} is busy: {reason}; wait for it and deploy again");
            console.danger(format!("refused: {msg}"));
            return finished(result.finish(Status::Refused, Some(msg)));
        }
    };
    state.created = Some((cs_id.clone(), stack_id.clone()));
    let mut cs_ref = ChangeSetRef {
        name: cs_name.clone(),
        id: cs_id.clone(),
        change_set_type: if create { "CREATE" } else { "UPDATE" }.into(),
        exists: true,
    };

    // Two runs that both passed the check above: the older change set goes on, the newer one
    // is deleted and its run refused.
    let others = changeset::pending_snowcdk(clients, &stack_id, name, Some(&cs_name)).await?;
    let mine = changeset::pending_snowcdk(clients, &stack_id, name, None)
        .await?
        .into_iter()
        .find(|p| p.name == cs_name);
    if let Some(other) = others
        .iter()
        .find(|o| mine.as_ref().is_none_or(|m| o.is_older_than(m)))
    {
        let msg = under_review_message(clients, name, other);
        console.danger(format!("refused: {msg}"));
        discard(clients, console, &stack_id, &cs_id, &cs_name, create).await;
        state.created = None;
        state.create_sent = false;
        cs_ref.exists = false;
        result.change_set = Some(cs_ref);
        return finished(result.finish(Status::Refused, Some(msg)));
    }

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
                state.created = None;
                state.create_sent = false;
            }
            result.change_set = Some(cs_ref);
            let r = with_outputs(clients, result, console, Status::NoChanges, &stack_id).await;
            return finished(r);
        }
        Ready::Failed { reason } => {
            return Err(DeployError::ChangeSetFailed {
                stack: name.to_owned(),
                reason,
            });
        }
        Ready::Interrupted => return Ok(Step::Interrupted),
        Ready::TimedOut { status } => {
            let why = format!(
                "the change set is still {status} after {:?}",
                req.timing.change_set_total
            );
            let msg = format!(
                "{why}; nothing was executed. The change set {cs_name} is left in place: inspect it with `aws cloudformation describe-change-set --stack-name {name} --change-set-name {cs_name}{flags}` or delete it with `aws cloudformation delete-change-set --stack-name {name} --change-set-name {cs_name}{flags}`",
                flags = clients.aws_cli_flags()
            );
            console.warn(&msg);
            result.change_set = Some(cs_ref);
            return finished(result.finish(Status::StoppedWaiting, Some(msg)));
        }
    };

    // 5. Classify and show.
    // An update warns first about drifted resources it is about to overwrite.
    let last_drift = deployed.as_ref().map(|(info, _)| info.last_drift.clone());
    let old_facts = deployed.map(|(_, (_, facts))| facts);
    let classified = changes::classify_all(&changes, old_facts.as_ref(), new_facts);
    if let Some(last) = last_drift {
        drift::warn_before_changes(
            clients,
            console,
            name,
            last.as_ref(),
            req.check_drift,
            &classified,
        )
        .await;
    }
    console.line(format!("{name}: {} change(s)", classified.len()));
    console.line(changes::render_table(&classified, console.style()));
    let param_lines = parameters::render(&plans);
    if !param_lines.is_empty() {
        console.line(param_lines);
    }
    result.changes = classified.clone();
    result.change_set = Some(cs_ref.clone());

    // 6. Stop here for review?
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
        return finished(result.finish(Status::NotExecuted, None));
    }
    Ok(Step::Ready(Box::new(ReadyToExecute {
        result,
        cs_ref,
        stack_id,
        cs_id,
        classified,
        create,
    })))
}

/// An interrupt before `ExecuteChangeSet`: nothing was executed. Deletes this run's change set
/// (bounded by the request timeout) so it does not block the next deploy, and says what is left.
async fn interrupted_before_execute(
    clients: &Clients,
    req: &DeployRequest,
    console: &mut Console,
    state: &Progress,
    intr: &ui::Interrupt,
) -> StackResult {
    let name = req.stack_name.as_str();
    let cs_name = &state.cs_name;
    let flags = clients.aws_cli_flags();
    let signal = intr.signal().unwrap_or("interrupted");
    let mut result = StackResult::new(name, req.stage.as_deref(), &clients.region);
    result.stack_status = state.stack_status.clone();
    let what_is_left = match &state.created {
        Some((cs_id, stack_id)) => {
            let mut cs_ref = ChangeSetRef {
                name: cs_name.clone(),
                id: cs_id.clone(),
                change_set_type: if state.create { "CREATE" } else { "UPDATE" }.into(),
                exists: true,
            };
            let left = match changeset::delete(clients, stack_id, cs_id).await {
                Ok(()) => {
                    cs_ref.exists = false;
                    if state.create {
                        remove_review_stack(clients, console, stack_id).await;
                    }
                    format!("its change set {cs_name} was deleted")
                }
                Err(e) => format!(
                    "its change set {cs_name} could not be deleted ({e}); delete it with `aws cloudformation delete-change-set --stack-name {name} --change-set-name {cs_name}{flags}`"
                ),
            };
            result.change_set = Some(cs_ref);
            left
        }
        None if state.create_sent => format!(
            "CreateChangeSet {cs_name} was in flight: if it reached CloudFormation, delete it with `aws cloudformation delete-change-set --stack-name {name} --change-set-name {cs_name}{flags}`"
        ),
        None => "no change set was made".to_owned(),
    };
    let msg = format!("{signal} before executing: nothing was executed on {name}; {what_is_left}");
    console.warn(&msg);
    result.finish(Status::Interrupted, Some(msg))
}

/// Why a deploy is refused while another snowcdk change set waits on the stack.
fn under_review_message(clients: &Clients, stack: &str, other: &changeset::Pending) -> String {
    let flags = clients.aws_cli_flags();
    let since = other
        .created
        .as_deref()
        .map(|t| format!(", created {t}"))
        .unwrap_or_default();
    if other.status == "CREATE_COMPLETE" {
        format!(
            "stack {stack} is under review: snowcdk change set {} ({}{since}) is waiting to be executed; not merging another into it. Execute it (`aws cloudformation execute-change-set --stack-name {stack} --change-set-name {}{flags}`) or delete it (`aws cloudformation delete-change-set --stack-name {stack} --change-set-name {}{flags}`), then deploy again",
            other.name, other.status, other.name, other.name
        )
    } else {
        format!(
            "stack {stack} has snowcdk change set {} being made ({}{since}): another deploy is running; wait for it and deploy again",
            other.name, other.status
        )
    }
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
    if end.status != StackStatus::DeleteComplete {
        result.failure = end.failure.clone();
        let msg = failure_message(
            name,
            end.status.as_str(),
            end.failure.as_ref(),
            Status::Failed,
        );
        console.danger(&msg);
        return Ok(Some(result.finish(Status::Failed, Some(msg))));
    }
    Ok(None)
}

/// Deletes a change set that will not be executed, saying so if that fails. For a `CREATE`
/// change set, the empty stack in review that it made goes too
/// ([`stack::remove_empty_review_stack`]), so "nothing was changed" stays true.
async fn discard(
    clients: &Clients,
    console: &mut Console,
    stack_id: &str,
    cs_id: &str,
    cs_name: &str,
    create: bool,
) {
    if let Err(e) = changeset::delete(clients, stack_id, cs_id).await {
        console.warn(format!(
            "warning: could not delete change set {cs_name}: {e}"
        ));
        return;
    }
    if create {
        remove_review_stack(clients, console, stack_id).await;
    }
}

/// [`stack::remove_empty_review_stack`], saying what it did; a failure is a warning with the
/// command that finishes the job.
async fn remove_review_stack(clients: &Clients, console: &mut Console, stack_id: &str) {
    remove_review_stack_of(clients, console, stack_id, "CREATE").await;
}

/// [`remove_review_stack`] for a change set of `kind` (`CREATE`, `IMPORT`): the empty stack in
/// REVIEW_IN_PROGRESS a refused or failed first change set leaves behind.
pub(crate) async fn remove_review_stack_of(
    clients: &Clients,
    console: &mut Console,
    stack_id: &str,
    kind: &str,
) {
    match stack::remove_empty_review_stack(clients, stack_id).await {
        Ok(true) => console.line(format!(
            "the empty stack its {kind} change set had made (REVIEW_IN_PROGRESS) was deleted: {stack_id}"
        )),
        Ok(false) => {}
        Err(e) => console.warn(format!(
            "warning: could not delete the empty stack in REVIEW_IN_PROGRESS ({e}); delete it with `aws cloudformation delete-stack --stack-name {stack_id}{}`",
            clients.aws_cli_flags()
        )),
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
            result.stack_status = Some(info.status.clone());
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

/// How to undo an operation that goes on in CloudFormation: cancel an update (CloudFormation
/// rolls it back), or delete a stack whose create is unwanted once it has ended.
fn undo_hint(clients: &Clients, stack: &str, create: bool) -> String {
    let flags = clients.aws_cli_flags();
    if create {
        format!(
            "to abandon it, wait for it to end and run `{} destroy {stack}` (or `aws cloudformation delete-stack --stack-name {stack}{flags}`)",
            crate::app::program_name()
        )
    } else {
        format!(
            "to roll it back: `aws cloudformation cancel-update-stack --stack-name {stack}{flags}`"
        )
    }
}

/// What to say when watching stops before the operation ends (a signal, the time bound).
fn interrupted_message(
    clients: &Clients,
    stack: &str,
    end: &watch::WatchEnd,
    create: bool,
) -> String {
    let flags = clients.aws_cli_flags();
    let running = if end.in_progress.is_empty() {
        String::new()
    } else {
        format!(" Still in progress: {}.", end.in_progress.join(", "))
    };
    let why = match end.signal {
        Some(s) => format!("{s}: stopped watching"),
        None => "stopped watching after the time bound".to_owned(),
    };
    format!(
        "{why}; the deployment of {stack} was NOT cancelled and goes on in CloudFormation.{running} Follow it with `aws cloudformation describe-stack-events --stack-name {stack}{flags}` (`{} deploy` refuses while it runs, and deploys again once it has ended); {}",
        crate::app::program_name(),
        undo_hint(clients, stack, create)
    )
}
