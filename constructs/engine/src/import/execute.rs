//! Executing an [`ImportPlan`]: the live resources come into the stage's stack through an IMPORT
//! change set, then the ordinary update adds what did not exist and sets the final policies.
//!
//! # Entry points
//!
//! For an app's command (SnowEx's `snowcdk import` after discovery):
//!
//! ```ignore
//! pub fn execute<A: App>(
//!     app: &A,
//!     config_path: &Path,
//!     plan: &ImportPlan,
//!     opts: &ImportOptions,
//! ) -> anyhow::Result<ExitCode>
//! ```
//!
//! It loads the config, synthesizes `plan.stage`, connects (announcing the account), uploads the
//! stack's assets, then runs [`import_stack`]. The exit code is the run's: 0 imported (and
//! updated), 3 refused (nothing executed, the change set deleted), 4 the import failed or rolled
//! back (the reasons printed), 5 the update rolled back, 130 interrupted; `Err` for everything
//! that stopped it before a verdict (config, synth, credentials, a plan that does not fit the
//! template, identifiers CloudFormation does not take), printed by `main` as one line.
//!
//! [`import_stack`] is the same run on given [`Clients`] and [`ImportRequest`] (tests drive it
//! with the SDK's mock clients).
//!
//! # The steps
//!
//! 1. The stack's state: a busy or failed stack is refused as `deploy` refuses it. On an existing
//!    stack, resources the plan adopts that the stack already holds with the same physical id are
//!    skipped (a re-run after a partial import continues); a logical id held with another
//!    physical id, or a physical id the stack holds under another logical id, is an error.
//! 2. The import template ([`super::template::build`]): the deployed template (or nothing) plus
//!    the resources to import, each `Retain` for the import.
//! 3. Identifiers: `GetTemplateSummary` on that template lists the identifier properties of each
//!    type (`ResourceIdentifierSummaries`); a type it does not list falls back to the registry
//!    schema's `primaryIdentifier` (`DescribeType`). Each adoption's identifier keys must match,
//!    else an error names the logical id and the keys expected, before any change set.
//! 4. `CreateChangeSet` with `ChangeSetType=IMPORT` and `ResourcesToImport` (CloudFormation
//!    creates the stack when it does not exist), the change table (rows say `Import`), and the
//!    gate: importing always asks (`--yes` answers), without a terminal it is refused (exit 3)
//!    and the change set (and the empty stack an IMPORT into a new stack made) is deleted.
//! 5. `ExecuteChangeSet`, watched to `IMPORT_COMPLETE`; `IMPORT_ROLLBACK_COMPLETE` or
//!    `IMPORT_ROLLBACK_FAILED` end the run with exit 4 and every failed resource's reason.
//! 6. Unless `import_only`: the ordinary update through [`deploy_stack`] with the full template
//!    (its own change table and gate, with the user's `--require-approval`), then a summary:
//!    imported N, created M, left unmanaged (the plan's `not_imported` with their notes).
//!
//! When the stack already manages every adopted resource, step 4 and 5 are skipped with
//! "stack X already manages all N resources" and the update runs (it says "no changes" when the
//! stack is already as synthesized).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;

use aws_sdk_cloudformation::types::{ChangeSetType, RegistryType, ResourceToImport, StackStatus};
use serde_json::Value as Json;

use super::ImportPlan;
use super::template::{self, ImportTemplateError};
use crate::app::{self, App};
use crate::assembly::TemplateFacts;
use crate::commands::shared::{AwsArgs, Connected, connect, interrupted_early, runtime};
use crate::config::Config;
use crate::deploy::changes::{Action, classify_all, render_table};
use crate::deploy::changeset::{self, Ready, TemplateSource};
use crate::deploy::client::{describe, error_code, error_message, retry_throttled};
use crate::deploy::parameters;
use crate::deploy::plan::{Plan, plan as stack_plan};
use crate::deploy::watch::{self, Operation};
use crate::deploy::{
    ApprovalPolicy, Clients, Console, DeployError, DeployRequest, RequireApproval, StackResult,
    Status, approve, deploy_stack, lookup, stack,
};
use crate::exit;

/// How to run an import: the settings `deploy` has that apply, and `import_only`.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Profile, region, endpoint and timeout (the flags every AWS command shares).
    pub aws: AwsArgs,
    /// `--yes`: approve the IMPORT change set and the update without asking. A destructive
    /// change in the update still needs `allow_replacement` for its type.
    pub yes: bool,
    /// `--require-approval` for the update (the import itself always asks unless `yes`).
    pub require_approval: RequireApproval,
    /// `--allow-replacement TYPE`: for the update, as in `deploy`.
    pub allow_replacement: Vec<String>,
    /// `--parameters KEY=VALUE`, for both change sets (a key the import template does not have
    /// is only sent with the update).
    pub parameters: Vec<(String, String)>,
    /// `--import-only`: stop after the IMPORT change set (the update is the next `deploy`).
    pub import_only: bool,
    /// `--skip-preflight` for the update (see `deploy`).
    pub skip_preflight: bool,
}

/// What [`import_stack`] needs: the stage's synthesized stack, the plan, and the settings.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// The stack to import into (created by the IMPORT change set when it does not exist).
    pub stack_name: String,
    /// The stage, for messages.
    pub stage: String,
    /// The synthesized template (JSON), as `synth` writes it.
    pub template_body: String,
    /// The resources to adopt.
    pub plan: ImportPlan,
    /// The update's request settings besides the template: approval (whose `yes` also answers
    /// the import's prompt), parameters, staging bucket, account, timing, termination
    /// protection, preflight.
    pub update: DeployRequest,
    /// Stop after the import.
    pub import_only: bool,
}

impl ImportRequest {
    /// A request with `deploy`'s defaults for a stack and its synthesized template.
    pub fn new(stack_name: &str, stage: &str, template_body: &str, plan: ImportPlan) -> Self {
        let mut update = DeployRequest::new(stack_name, template_body);
        update.stage = Some(stage.to_owned());
        ImportRequest {
            stack_name: stack_name.to_owned(),
            stage: stage.to_owned(),
            template_body: template_body.to_owned(),
            plan,
            update,
            import_only: false,
        }
    }
}

/// How an import run ended.
#[derive(Debug, Clone)]
pub struct ImportOutcome {
    /// The process exit code (see [`crate::exit`]).
    pub exit_code: u8,
    /// Logical ids this run imported.
    pub imported: Vec<String>,
    /// Logical ids the stack already held with the planned physical id (skipped).
    pub already: Vec<String>,
    /// Logical ids the update created.
    pub created: Vec<String>,
    /// The IMPORT change set's run (absent when nothing was left to import).
    pub import: Option<StackResult>,
    /// The update's run (absent with `import_only`, or when the import did not succeed).
    pub update: Option<StackResult>,
}

/// Why an import could not start or could not be submitted. `Display` is one sentence.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// An AWS call, the template or a parameter (as for `deploy`).
    #[error(transparent)]
    Deploy(#[from] DeployError),
    /// The plan does not fit the synthesized template.
    #[error(transparent)]
    Template(#[from] ImportTemplateError),
    /// The stack holds the logical id with another resource.
    #[error(
        "stack {stack} already holds {logical_id} as {in_stack}, but the plan adopts {planned} for it; a logical id cannot take over a second resource (remove {logical_id} from the plan, or from the stack first)"
    )]
    OtherPhysicalId {
        /// The stack.
        stack: String,
        /// The logical id.
        logical_id: String,
        /// The physical id the stack holds.
        in_stack: String,
        /// The physical id the plan adopts.
        planned: String,
    },
    /// The stack holds the live resource already, under another logical id.
    #[error(
        "stack {stack} already manages {physical_id} ({resource_type}) as {in_stack}; the plan adopts it as {logical_id}, and a resource can belong to one logical id only"
    )]
    ManagedElsewhere {
        /// The stack.
        stack: String,
        /// The live resource.
        physical_id: String,
        /// Its type.
        resource_type: String,
        /// The logical id the stack has it under.
        in_stack: String,
        /// The logical id the plan gives it.
        logical_id: String,
    },
    /// The adoption's identifier keys are not the ones CloudFormation identifies the type by.
    #[error(
        "{logical_id} ({resource_type}): the plan identifies it by {given}, but CloudFormation imports this type by {expected}"
    )]
    Identifier {
        /// The logical id.
        logical_id: String,
        /// Its type.
        resource_type: String,
        /// The keys the plan gave (`none`).
        given: String,
        /// The key sets CloudFormation accepts, ` or `-separated.
        expected: String,
    },
    /// CloudFormation lists no import identifier for the type (it cannot be imported).
    #[error(
        "{logical_id} ({resource_type}): CloudFormation lists no import identifier for this type (GetTemplateSummary and the registry schema name none), so it cannot be imported; leave it to the update (it is then created) or manage it outside the stack"
    )]
    NotImportable {
        /// The logical id.
        logical_id: String,
        /// Its type.
        resource_type: String,
    },
    /// The plan adopts nothing, or adopts a logical id or a live resource twice.
    #[error("the import plan for stage {stage} {problem}")]
    Plan {
        /// The plan's stage.
        stage: String,
        /// What is wrong, as the end of the sentence.
        problem: String,
    },
    /// `CreateChangeSet` refused the IMPORT change set (a validation error).
    #[error("CloudFormation refused the IMPORT change set for {stack}: {reason}")]
    Rejected {
        /// The stack.
        stack: String,
        /// CloudFormation's message.
        reason: String,
    },
}

/// Loads the config, synthesizes `plan.stage`, connects, uploads the assets and runs
/// [`import_stack`]. See the module docs.
pub fn execute<A: App>(
    app: &A,
    config_path: &Path,
    plan: &ImportPlan,
    opts: &ImportOptions,
) -> anyhow::Result<ExitCode> {
    let config = Config::<A::Settings>::load(config_path)?;
    config.stage(&plan.stage)?;
    let assembly = app::synth(app, &config, std::slice::from_ref(&plan.stage))?;
    let Some(s) = assembly.stacks.into_iter().next() else {
        anyhow::bail!("stage {} synthesized no stack", plan.stage);
    };
    let rt = runtime()?;
    rt.block_on(async {
        let mut console = Console::terminal(false);
        for w in &s.warnings {
            console.warn(format!("warning: {w}"));
        }
        let mut req = ImportRequest::new(&s.stack_name, &s.stage, &s.body, plan.clone());
        req.import_only = opts.import_only;
        req.update.facts = Some(s.facts.clone());
        req.update.parameters = opts.parameters.clone();
        req.update.staging_bucket = s.staging_bucket.clone();
        req.update.account = s.environment.account.clone();
        req.update.approval = ApprovalPolicy {
            require: opts.require_approval,
            yes: opts.yes,
            allow_replacement: opts.allow_replacement.iter().cloned().collect(),
        };
        req.update.termination_protection = s.termination_protection;
        req.update.skip_preflight = opts.skip_preflight;
        let clients = match connect(
            &mut console,
            &opts.aws,
            &s.environment.region,
            &s.stack_name,
            &s.stage,
        )
        .await
        {
            Connected::Ready(c) => c,
            Connected::Interrupted(r) => return Ok(exit::code(r.exit_code)),
            Connected::Failed(e) => return Err(e),
        };
        let mut intr = console.interrupt().clone();
        match intr
            .guard(crate::deploy::check_account(
                &clients,
                &s.stage,
                s.environment.account.as_deref(),
            ))
            .await
        {
            None => {
                let r = interrupted_early(&mut console, &clients, &s.stack_name, &s.stage, &intr);
                return Ok(exit::code(r.exit_code));
            }
            Some(r) => r?,
        }
        // The imported resources' templates name their assets (a function's code) too.
        let staged = intr
            .guard(crate::deploy::staging::stage_for_deploy(
                &clients,
                s.staging_bucket.as_deref(),
                None,
                &s.assets,
                s.body.len(),
            ))
            .await;
        let Some(staged) = staged else {
            let r = interrupted_early(&mut console, &clients, &s.stack_name, &s.stage, &intr);
            return Ok(exit::code(r.exit_code));
        };
        let staged = staged?;
        if let Some(r) = &staged.report {
            console.line(r.summary());
        }
        req.update.staging_bucket = staged.bucket;
        let outcome = import_stack(&clients, &req, &mut console).await?;
        if outcome.exit_code != exit::OK || opts.import_only {
            return Ok(exit::code(outcome.exit_code));
        }
        Ok(exit::code(
            verify(&clients, &s.stack_name, &mut console).await,
        ))
    })
}

/// The last step: a drift detection of the stack that now holds the adopted resources, printed
/// as `snowcdk drift` prints it. In sync: exit 0. Drifted: exit 7 (`exit::DRIFTED`), since the
/// stack's template does not describe what runs and the next deploy would overwrite the
/// difference. A detection that cannot run (a type or a region without drift detection, an
/// interrupt) is a warning: the import itself succeeded.
async fn verify(clients: &Clients, stack: &str, console: &mut Console) -> u8 {
    console.line(format!("verifying {stack} with a drift detection"));
    let timing = crate::deploy::DriftTiming::default();
    match crate::deploy::drift::detect(clients, stack, console, &timing).await {
        Ok(report) => {
            let table = report.render_table();
            if !table.is_empty() {
                console.line(table.trim_end());
            }
            console.line(report.summary());
            if report.is_drifted() {
                console.warn(format!(
                    "{stack} has drifted from its template: the resources above differ from what the stack describes; change the config to match what runs (or accept the change), then `{} deploy` makes them agree",
                    crate::app::program_name()
                ));
                exit::DRIFTED
            } else {
                exit::OK
            }
        }
        Err(e) => {
            console.warn(format!(
                "warning: the import succeeded, but its drift check did not run: {e}; run `{} drift --stage ...` later",
                crate::app::program_name()
            ));
            exit::OK
        }
    }
}

/// One adoption as the run sees it.
struct Adopting<'a> {
    logical_id: &'a str,
    resource_type: &'a str,
    identifier: &'a BTreeMap<String, String>,
}

/// Runs the import on `clients` (see the module docs). Refusals and CloudFormation's verdicts are
/// outcomes with their exit code; `Err` is for what stopped the run before a verdict.
pub async fn import_stack(
    clients: &Clients,
    req: &ImportRequest,
    console: &mut Console,
) -> Result<ImportOutcome, ImportError> {
    let name = req.stack_name.as_str();
    let mut outcome = ImportOutcome {
        exit_code: exit::OK,
        imported: Vec::new(),
        already: Vec::new(),
        created: Vec::new(),
        import: None,
        update: None,
    };
    check_plan(&req.plan)?;
    crate::deploy::check_account(clients, &req.stage, req.update.account.as_deref()).await?;
    let synthesized: Json = serde_json::from_str(&req.template_body)
        .map_err(|e| DeployError::Template(crate::assembly::TemplateError(e.to_string())))?;

    // 1. The stack's state, and what it already holds.
    let existing = stack::describe_stack(clients, name).await?;
    let refuse = |outcome: &mut ImportOutcome, console: &mut Console, msg: String| {
        console.danger(format!("refused: {msg}"));
        let r = StackResult::new(name, Some(&req.stage), &clients.region)
            .finish(Status::Refused, Some(msg));
        outcome.exit_code = r.exit_code;
        outcome.import = Some(r);
    };
    let the_plan = stack_plan(existing.as_ref().map(|s| &s.status));
    let holds_resources = match &the_plan {
        Plan::Update => true,
        Plan::Create | Plan::CreateInReview => false,
        Plan::Busy { status } => {
            let msg = format!(
                "stack {name} is {status}: another operation is running; wait for it to finish and import again"
            );
            refuse(&mut outcome, console, msg);
            return Ok(outcome);
        }
        Plan::Recreate => {
            let msg = format!(
                "stack {name} is ROLLBACK_COMPLETE: its first create failed; delete it (`{} destroy {name}`) and import again",
                app::program_name()
            );
            refuse(&mut outcome, console, msg);
            return Ok(outcome);
        }
        Plan::Stuck { status, fix } => {
            refuse(
                &mut outcome,
                console,
                format!("stack {name} is {status}: {fix}"),
            );
            return Ok(outcome);
        }
    };
    let (deployed, deployed_facts, in_stack) = match (&existing, holds_resources) {
        (Some(info), true) => {
            let body = stack::deployed_body(clients, &info.id).await?;
            let doc = crate::template_read::parse_document(
                &format!("the deployed template of {name}"),
                &body,
                None,
            )
            .map_err(|e| DeployError::Template(crate::assembly::TemplateError(e.to_string())))?;
            let facts = TemplateFacts::from_json(&doc);
            let resources = stack::list_resources(clients, &info.id).await?;
            (Some(doc), Some(facts), resources)
        }
        _ => (None, None, Vec::new()),
    };
    let mut to_import: Vec<Adopting<'_>> = Vec::new();
    for a in &req.plan.resources {
        let held = in_stack
            .iter()
            .find(|r| r.logical_id == a.logical_id && r.status != "DELETE_COMPLETE");
        if let Some(r) = held {
            let physical = r.physical_id.clone().unwrap_or_default();
            if physical == a.physical_id {
                outcome.already.push(a.logical_id.clone());
                continue;
            }
            return Err(ImportError::OtherPhysicalId {
                stack: name.to_owned(),
                logical_id: a.logical_id.clone(),
                in_stack: if physical.is_empty() {
                    "a resource not created yet".into()
                } else {
                    physical
                },
                planned: a.physical_id.clone(),
            });
        }
        if let Some(r) = in_stack.iter().find(|r| {
            r.physical_id.as_deref() == Some(a.physical_id.as_str())
                && r.type_name == a.resource_type
                && r.status != "DELETE_COMPLETE"
        }) {
            return Err(ImportError::ManagedElsewhere {
                stack: name.to_owned(),
                physical_id: a.physical_id.clone(),
                resource_type: a.resource_type.clone(),
                in_stack: r.logical_id.clone(),
                logical_id: a.logical_id.clone(),
            });
        }
        to_import.push(Adopting {
            logical_id: &a.logical_id,
            resource_type: &a.resource_type,
            identifier: &a.identifier,
        });
    }

    if to_import.is_empty() {
        console.line(format!(
            "stack {name} already manages all {} resource(s) of the plan: nothing to import",
            outcome.already.len()
        ));
    } else {
        if !outcome.already.is_empty() {
            console.line(format!(
                "stack {name} already manages {} of the plan's resources ({}): importing the other {}",
                outcome.already.len(),
                outcome.already.join(", "),
                to_import.len()
            ));
        }
        // A change set of another snowcdk run waits on the stack: not merged with ours.
        if let Some(info) = existing.as_ref() {
            let others = changeset::pending_snowcdk(clients, &info.id, name, None).await?;
            if let Some(other) = others.first() {
                let msg = format!(
                    "stack {name} has snowcdk change set {} waiting ({}); execute or delete it first",
                    other.name, other.status
                );
                refuse(&mut outcome, console, msg);
                return Ok(outcome);
            }
        }
        // A logical id to import that the deployed template names but the stack does not hold
        // is what a rolled-back import leaves behind: its definition is replaced, not kept.
        let mut deployed = deployed;
        if let Some(Json::Object(resources)) =
            deployed.as_mut().and_then(|d| d.get_mut("Resources"))
        {
            for a in &to_import {
                if resources.remove(a.logical_id).is_some() {
                    console.line(format!(
                        "{}: in the deployed template but not held by the stack (an earlier import rolled back): importing it again",
                        a.logical_id
                    ));
                }
            }
        }
        let current = match (
            existing.as_ref(),
            deployed.as_ref(),
            deployed_facts.as_ref(),
        ) {
            (Some(info), Some(doc), Some(facts)) if holds_resources => {
                Some(Deployed { info, doc, facts })
            }
            _ => None,
        };
        let r = import_step(clients, req, console, &synthesized, current, &to_import).await?;
        let ok = r.status == Status::Deployed;
        outcome.exit_code = r.exit_code;
        outcome.import = Some(r);
        if !ok {
            return Ok(outcome);
        }
        outcome.imported = to_import.iter().map(|a| a.logical_id.to_owned()).collect();
    }

    // 6. The update with the full template.
    if req.import_only {
        console.line(format!(
            "--import-only: the update that adds the rest and sets the final policies is the next `{} deploy`",
            app::program_name()
        ));
    } else {
        console.line(format!(
            "{name}: updating to the synthesized template (adds what did not exist, sets the final policies)"
        ));
        let r = deploy_stack(clients, &req.update, console).await?;
        outcome.created = r
            .changes
            .iter()
            .filter(|c| c.change.action == Action::Add)
            .map(|c| c.change.logical_id.clone())
            .collect();
        outcome.exit_code = r.exit_code;
        outcome.update = Some(r);
    }
    summary(console, req, &outcome);
    Ok(outcome)
}

/// A plan adopts something, and each logical id and live resource once.
fn check_plan(plan: &ImportPlan) -> Result<(), ImportError> {
    let problem = |problem: String| ImportError::Plan {
        stage: plan.stage.clone(),
        problem,
    };
    if plan.resources.is_empty() {
        return Err(problem(format!(
            "adopts no resources; `{} deploy` creates the stack",
            app::program_name()
        )));
    }
    let mut ids = BTreeSet::new();
    let mut live = BTreeSet::new();
    for a in &plan.resources {
        if !ids.insert(a.logical_id.as_str()) {
            return Err(problem(format!("adopts two resources as {}", a.logical_id)));
        }
        if !live.insert((a.resource_type.as_str(), a.physical_id.as_str())) {
            return Err(problem(format!(
                "adopts {} ({}) twice, the second time as {}",
                a.physical_id, a.resource_type, a.logical_id
            )));
        }
    }
    Ok(())
}

/// The closing lines: what the stack took over, created, and left alone.
fn summary(console: &mut Console, req: &ImportRequest, o: &ImportOutcome) {
    let mut line = format!(
        "{}: imported {}",
        req.stack_name,
        o.imported.len() + o.already.len()
    );
    if !o.already.is_empty() {
        line.push_str(&format!(
            " ({} by this run, {} before)",
            o.imported.len(),
            o.already.len()
        ));
    }
    match &o.update {
        Some(u) if u.exit_code == exit::OK => {
            line.push_str(&format!(", created {}", o.created.len()))
        }
        Some(_) => line.push_str(", the update did not complete"),
        None => line.push_str(", update not run"),
    }
    line.push_str(&format!(", left unmanaged {}", req.plan.not_imported.len()));
    console.line(line);
    for n in &req.plan.not_imported {
        let what = match (&n.logical_id, &n.physical_id) {
            (Some(l), Some(p)) => format!("{l} ({}, {p})", n.resource_type),
            (Some(l), None) => format!("{l} ({})", n.resource_type),
            (None, Some(p)) => format!("{p} ({})", n.resource_type),
            (None, None) => n.resource_type.clone(),
        };
        console.line(format!("  not imported: {what}: {}", n.note));
    }
}

/// The stack as deployed, when it holds resources: the import template starts from it.
struct Deployed<'a> {
    info: &'a stack::StackInfo,
    doc: &'a Json,
    facts: &'a TemplateFacts,
}

/// Steps 2 to 5: the import template, identifiers, the IMPORT change set, the gate, execution.
async fn import_step(
    clients: &Clients,
    req: &ImportRequest,
    console: &mut Console,
    synthesized: &Json,
    current: Option<Deployed<'_>>,
    to_import: &[Adopting<'_>],
) -> Result<StackResult, ImportError> {
    let deployed = current.as_ref().map(|d| d.doc);
    let deployed_facts = current.as_ref().map(|d| d.facts);
    let name = req.stack_name.as_str();
    let mut result = StackResult::new(name, Some(&req.stage), &clients.region);
    let pairs: Vec<(&str, &str)> = to_import
        .iter()
        .map(|a| (a.logical_id, a.resource_type))
        .collect();
    let live: BTreeMap<String, serde_json::Map<String, Json>> = req
        .plan
        .resources
        .iter()
        .map(|a| (a.logical_id.clone(), a.live.clone()))
        .collect();
    let tpl = template::build(synthesized, deployed, &pairs, &live)?;
    let body = tpl.body();
    let facts = TemplateFacts::from_json(&tpl.document);
    if !tpl.left_out.is_empty() {
        console.line(format!(
            "left to the update after the import: {}",
            tpl.left_out.join("; ")
        ));
    }

    // Parameters: the import template's only; the deployed stack's values are kept.
    let overrides: Vec<(String, String)> = req
        .update
        .parameters
        .iter()
        .filter(|(k, _)| facts.has_parameter(k))
        .cloned()
        .collect();
    let live = current
        .as_ref()
        .map(|d| (d.info.parameters.as_slice(), d.facts));
    let lookups = parameters::lookups_needed(&facts, live, &overrides, false);
    let looked_up = lookup::resolve(clients, &lookups).await?;
    let plans =
        parameters::plan(&facts, live, &overrides, false, &looked_up).map_err(|source| {
            DeployError::MissingParameter {
                stack: name.to_owned(),
                source,
            }
        })?;
    result.parameters = plans.clone();

    let source = if body.len() > changeset::MAX_INLINE_TEMPLATE_BYTES {
        let Some(bucket) = req.update.staging_bucket.as_deref() else {
            return Err(DeployError::NoStagingBucket {
                stack: name.to_owned(),
                stage: req.stage.clone(),
                region: clients.region.clone(),
                bytes: body.len(),
                max: changeset::MAX_INLINE_TEMPLATE_BYTES,
            }
            .into());
        };
        TemplateSource::Url(changeset::stage_template(clients, bucket, name, &body).await?)
    } else {
        TemplateSource::Body(body)
    };

    // 3. Identifiers, before any change set.
    let known = identifier_sets(clients, name, &source, to_import).await?;
    for a in to_import {
        check_identifier(a, known.get(a.resource_type))?;
    }

    // 4. The IMPORT change set.
    let cs_name = changeset::change_set_name();
    console.line(format!(
        "{name}: creating IMPORT change set {cs_name} for {} resource(s){}",
        to_import.len(),
        if deployed.is_none() {
            " (the stack is created by it)"
        } else {
            ""
        }
    ));
    let (cs_id, stack_id) = create_import(
        clients, name, &cs_name, &source, &facts, &plans, to_import, &req.stage,
    )
    .await?;
    let new_stack = deployed.is_none();
    let intr = console.interrupt().clone();
    let ready = changeset::wait(clients, &stack_id, &cs_id, &req.update.timing, console).await?;
    let changes = match ready {
        Ready::Changes(c) => c,
        Ready::NoChanges => {
            discard(clients, console, &stack_id, &cs_id, new_stack).await;
            return Err(DeployError::ChangeSetFailed {
                stack: name.to_owned(),
                reason: "CloudFormation found nothing to import".into(),
            }
            .into());
        }
        Ready::Failed { reason } => {
            discard(clients, console, &stack_id, &cs_id, new_stack).await;
            return Err(DeployError::ChangeSetFailed {
                stack: name.to_owned(),
                reason,
            }
            .into());
        }
        Ready::Interrupted => {
            discard(clients, console, &stack_id, &cs_id, new_stack).await;
            let msg = format!(
                "{} before executing: nothing was imported into {name}; the change set was deleted",
                intr.signal().unwrap_or("interrupted")
            );
            console.warn(&msg);
            return Ok(result.finish(Status::Interrupted, Some(msg)));
        }
        Ready::TimedOut { status } => {
            let msg = format!(
                "the IMPORT change set {cs_name} is still {status} after {:?}; nothing was executed. Inspect or delete it with `aws cloudformation describe-change-set --stack-name {name} --change-set-name {cs_name}{flags}`",
                req.update.timing.change_set_total,
                flags = clients.aws_cli_flags()
            );
            console.warn(&msg);
            return Ok(result.finish(Status::StoppedWaiting, Some(msg)));
        }
    };
    let classified = classify_all(&changes, deployed_facts, &facts);
    console.line(format!("{name}: {} change(s)", classified.len()));
    console.line(render_table(&classified, console.style()));
    result.changes = classified.clone();

    // The gate: importing always asks; --yes answers.
    let gate = ApprovalPolicy {
        require: RequireApproval::AnyChange,
        yes: req.update.approval.yes,
        allow_replacement: req.update.approval.allow_replacement.clone(),
    };
    let refusal = match approve::decide(&classified, &gate) {
        approve::Decision::Proceed => None,
        approve::Decision::Refuse { reason } => Some(reason),
        approve::Decision::Ask { .. } => {
            let q = format!(
                "Import these {} resource(s) into {name}? [y/N]",
                classified.len()
            );
            match console.ask(&q, "y").await {
                crate::deploy::Answer::Yes => None,
                crate::deploy::Answer::NotInteractive => Some(
                    "importing needs approval but there is no terminal to ask on; review the table and run again with --yes".to_owned(),
                ),
                crate::deploy::Answer::Interrupted => {
                    Some("interrupted at the approval prompt".to_owned())
                }
                _ => Some("not approved".to_owned()),
            }
        }
    };
    if let Some(reason) = refusal {
        console.danger(format!("refused: {reason}; nothing was imported"));
        discard(clients, console, &stack_id, &cs_id, new_stack).await;
        return Ok(result.finish(Status::Refused, Some(reason)));
    }

    // 5. Execute and watch.
    let baseline = watch::latest_event_id(clients, &stack_id).await?;
    if intr.is_triggered() {
        discard(clients, console, &stack_id, &cs_id, new_stack).await;
        let msg = format!("interrupted before executing: nothing was imported into {name}");
        console.warn(&msg);
        return Ok(result.finish(Status::Interrupted, Some(msg)));
    }
    changeset::execute(clients, &stack_id, &cs_id, &cs_name).await?;
    console.line(format!("{name}: executing {cs_name}"));
    let end = watch::watch_run(
        clients,
        console,
        watch::Watch {
            stack_name: name,
            stack_id: &stack_id,
            baseline: baseline.clone(),
            total: classified.len(),
            op: Operation::Deploy,
        },
        &req.update.timing,
        Some(&cs_name),
    )
    .await?;
    result.stack_status = Some(end.status.clone());
    if end.interrupted {
        let msg = format!(
            "stopped watching; the import into {name} was NOT cancelled and goes on in CloudFormation. Follow it with `aws cloudformation describe-stack-events --stack-name {name}{}` and run the import again once it has ended (it continues where it stopped)",
            clients.aws_cli_flags()
        );
        console.warn(&msg);
        let status = if end.signal.is_some() {
            Status::Interrupted
        } else {
            Status::StoppedWaiting
        };
        return Ok(result.finish(status, Some(msg)));
    }
    if end.status == StackStatus::ImportComplete {
        console.line(format!("{name}: IMPORT_COMPLETE"));
        return Ok(result.finish(Status::Deployed, None));
    }
    result.failure = end.failure.clone();
    let reasons = failure_reasons(clients, &stack_id, name, baseline.as_deref()).await;
    let mut msg = format!(
        "{name}: {}: the import failed{}",
        end.status.as_str(),
        if end.status == StackStatus::ImportRollbackComplete {
            " and was rolled back; the live resources are as they were and the stack holds none of them"
        } else {
            ""
        }
    );
    if reasons.is_empty() {
        if let Some(r) = &end.status_reason {
            msg.push_str(&format!(". Reason: {r}"));
        }
    } else {
        msg.push_str(&format!(". Reasons: {}", reasons.join("; ")));
    }
    console.danger(&msg);
    // Whatever the status, the stack does not hold the resources: not a rolled-back update.
    Ok(result.finish(Status::Failed, Some(msg)))
}

/// The identifier key sets each type accepts: `GetTemplateSummary` first, then the registry
/// schema's `primaryIdentifier` for types it does not list. A type with neither is absent.
async fn identifier_sets(
    clients: &Clients,
    stack_name: &str,
    source: &TemplateSource,
    to_import: &[Adopting<'_>],
) -> Result<BTreeMap<String, Vec<BTreeSet<String>>>, ImportError> {
    let out = retry_throttled(|| {
        let call = clients.cfn.get_template_summary();
        match source {
            TemplateSource::Body(b) => call.template_body(b),
            TemplateSource::Url(u) => call.template_url(u),
        }
        .send()
    })
    .await;
    let mut known: BTreeMap<String, Vec<BTreeSet<String>>> = BTreeMap::new();
    match out {
        Ok(out) => {
            for s in out.resource_identifier_summaries() {
                let Some(ty) = s.resource_type() else {
                    continue;
                };
                known.insert(ty.to_owned(), alternatives(s.resource_identifiers()));
            }
        }
        Err(e) if error_code(&e) == Some("ValidationError") => {
            return Err(ImportError::Rejected {
                stack: stack_name.to_owned(),
                reason: error_message(&e).unwrap_or("ValidationError").to_owned(),
            });
        }
        Err(e) => {
            return Err(DeployError::from(describe(
                "read the import template's summary",
                &e,
                clients,
            ))
            .into());
        }
    }
    let missing: BTreeSet<&str> = to_import
        .iter()
        .map(|a| a.resource_type)
        .filter(|t| !known.contains_key(*t))
        .collect();
    for ty in missing {
        let res = retry_throttled(|| {
            clients
                .cfn
                .describe_type()
                .r#type(RegistryType::Resource)
                .type_name(ty)
                .send()
        })
        .await;
        // No schema (an emulator, a type the registry does not know): the type stays unknown
        // and the check below names it.
        let Ok(out) = res else { continue };
        if let Some(keys) = out.schema().and_then(primary_identifier) {
            known.insert(ty.to_owned(), vec![keys]);
        }
    }
    Ok(known)
}

/// `ResourceIdentifiers` as key sets. CloudFormation lists one entry per identifying property;
/// an entry may hold a compound identifier as `A,B` (the CDK reads it so). Each entry is one
/// accepted set, and so are all entries together (a compound identifier listed property by
/// property).
fn alternatives(ids: &[String]) -> Vec<BTreeSet<String>> {
    let mut out: Vec<BTreeSet<String>> = ids
        .iter()
        .map(|i| i.split(',').map(|k| k.trim().to_owned()).collect())
        .collect();
    if ids.len() > 1 {
        out.push(
            ids.iter()
                .flat_map(|i| i.split(',').map(|k| k.trim().to_owned()))
                .collect(),
        );
    }
    out
}

/// A registry schema's `primaryIdentifier` (`["/properties/DBInstanceIdentifier"]`) as keys.
fn primary_identifier(schema: &str) -> Option<BTreeSet<String>> {
    let doc: Json = serde_json::from_str(schema).ok()?;
    let keys: BTreeSet<String> = doc
        .get("primaryIdentifier")?
        .as_array()?
        .iter()
        .filter_map(Json::as_str)
        .map(|p| p.trim_start_matches("/properties/").to_owned())
        .collect();
    (!keys.is_empty()).then_some(keys)
}

/// Checks one adoption's identifier keys against what the type accepts.
fn check_identifier(
    a: &Adopting<'_>,
    accepted: Option<&Vec<BTreeSet<String>>>,
) -> Result<(), ImportError> {
    let Some(accepted) = accepted.filter(|v| !v.is_empty()) else {
        return Err(ImportError::NotImportable {
            logical_id: a.logical_id.to_owned(),
            resource_type: a.resource_type.to_owned(),
        });
    };
    let given: BTreeSet<String> = a.identifier.keys().cloned().collect();
    if accepted.contains(&given) && a.identifier.values().all(|v| !v.is_empty()) {
        return Ok(());
    }
    let join = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join("+");
    Err(ImportError::Identifier {
        logical_id: a.logical_id.to_owned(),
        resource_type: a.resource_type.to_owned(),
        given: if given.is_empty() {
            "none".into()
        } else if a.identifier.values().any(String::is_empty) {
            format!("{} (with an empty value)", join(&given))
        } else {
            join(&given)
        },
        expected: accepted.iter().map(join).collect::<Vec<_>>().join(" or "),
    })
}

/// `CreateChangeSet` with `ChangeSetType=IMPORT`. Returns the change set and stack ARNs.
#[allow(clippy::too_many_arguments)]
async fn create_import(
    clients: &Clients,
    stack_name: &str,
    cs_name: &str,
    source: &TemplateSource,
    facts: &TemplateFacts,
    plans: &[parameters::ParameterPlan],
    to_import: &[Adopting<'_>],
    stage: &str,
) -> Result<(String, String), ImportError> {
    let params = changeset::sdk_parameters(plans);
    let caps = changeset::sdk_capabilities(&facts.capabilities);
    let resources: Vec<ResourceToImport> = to_import
        .iter()
        .map(|a| {
            let mut b = ResourceToImport::builder()
                .resource_type(a.resource_type)
                .logical_resource_id(a.logical_id);
            for (k, v) in a.identifier {
                b = b.resource_identifier(k, v);
            }
            b.build()
        })
        .collect();
    let res = retry_throttled(|| {
        let call = clients
            .cfn
            .create_change_set()
            .stack_name(stack_name)
            .change_set_name(cs_name)
            .change_set_type(ChangeSetType::Import)
            .description(format!("snowcdk import of stage {stage}"))
            .set_resources_to_import(Some(resources.clone()))
            .set_capabilities(Some(caps.clone()))
            .set_parameters(Some(params.clone()));
        match source {
            TemplateSource::Body(b) => call.template_body(b),
            TemplateSource::Url(u) => call.template_url(u),
        }
        .send()
    })
    .await;
    match res {
        Ok(out) => Ok((
            out.id().unwrap_or(cs_name).to_owned(),
            out.stack_id().unwrap_or(stack_name).to_owned(),
        )),
        Err(e) if error_code(&e) == Some("ValidationError") => Err(ImportError::Rejected {
            stack: stack_name.to_owned(),
            reason: error_message(&e).unwrap_or("ValidationError").to_owned(),
        }),
        Err(e) => Err(DeployError::from(describe(
            &format!("create the IMPORT change set for {stack_name}"),
            &e,
            clients,
        ))
        .into()),
    }
}

/// Deletes an IMPORT change set that will not be executed, and the empty stack in review an
/// IMPORT into a new stack made, so "nothing was imported" stays true.
async fn discard(
    clients: &Clients,
    console: &mut Console,
    stack_id: &str,
    cs_id: &str,
    new_stack: bool,
) {
    if let Err(e) = changeset::delete(clients, stack_id, cs_id).await {
        console.warn(format!(
            "warning: could not delete the IMPORT change set: {e}"
        ));
        return;
    }
    if new_stack {
        crate::deploy::remove_review_stack_of(clients, console, stack_id, "IMPORT").await;
    }
}

/// Every failed resource's reason among the events since `baseline`, oldest first
/// (`Bucket (AWS::S3::Bucket) IMPORT_FAILED: ...`). Empty when the events cannot be read.
async fn failure_reasons(
    clients: &Clients,
    stack_id: &str,
    stack_name: &str,
    baseline: Option<&str>,
) -> Vec<String> {
    let Ok(out) = retry_throttled(|| {
        clients
            .cfn
            .describe_stack_events()
            .stack_name(stack_id)
            .send()
    })
    .await
    else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    for e in out.stack_events() {
        if baseline.is_some() && e.event_id() == baseline {
            break;
        }
        let status = e.resource_status().map(|s| s.as_str()).unwrap_or_default();
        let is_stack = e.physical_resource_id() == Some(stack_id)
            || e.logical_resource_id() == Some(stack_name);
        let Some(reason) = e.resource_status_reason() else {
            continue;
        };
        if status.ends_with("_FAILED") && !is_stack {
            lines.push(format!(
                "{} ({}) {status}: {reason}",
                e.logical_resource_id().unwrap_or_default(),
                e.resource_type().unwrap_or_default()
            ));
        }
    }
    lines.reverse();
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_sets_accept_each_entry_and_compounds() {
        let alt = alternatives(&["TableName".into(), "TableArn".into()]);
        assert!(alt.contains(&BTreeSet::from(["TableName".to_owned()])));
        let alt = alternatives(&["HostedZoneId,Name".into()]);
        assert_eq!(
            alt,
            vec![BTreeSet::from([
                "HostedZoneId".to_owned(),
                "Name".to_owned()
            ])]
        );
        assert_eq!(
            primary_identifier(r#"{"primaryIdentifier":["/properties/DBInstanceIdentifier"]}"#),
            Some(BTreeSet::from(["DBInstanceIdentifier".to_owned()]))
        );
        assert_eq!(primary_identifier("{}"), None);
    }
}
