//! Reading a deployed stack: its status, parameters, outputs and template.

use aws_sdk_cloudformation::types::{ChangeSetStatus, StackStatus};

use super::DeployError;
use super::client::{Clients, describe, error_code, error_message, retry_throttled};
use super::outcome::OutputValue;
use super::parameters::DeployedParameter;
use super::template::TemplateFacts;

/// What deploy, destroy and outputs need to know about a deployed stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackInfo {
    /// The stack ARN.
    pub id: String,
    pub name: String,
    /// The SDK's status (an unknown one arrives as `StackStatus::Unknown`, its text kept).
    pub status: StackStatus,
    pub status_reason: Option<String>,
    /// The parameters the stack was deployed with, and their values.
    pub parameters: Vec<DeployedParameter>,
    pub outputs: Vec<OutputValue>,
    pub termination_protection: bool,
    /// The result of the stack's last drift detection (`None`: never checked).
    pub last_drift: Option<super::drift::LastCheck>,
}

/// True for CloudFormation's answer to a stack that does not exist.
pub fn is_missing_stack<E, R>(err: &aws_sdk_cloudformation::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_cloudformation::error::ProvideErrorMetadata,
{
    error_code(err) == Some("ValidationError")
        && error_message(err).is_some_and(|m| m.contains("does not exist"))
}

/// Describes a stack by name or ARN; `None` when it does not exist.
pub async fn describe_stack(
    clients: &Clients,
    stack: &str,
) -> Result<Option<StackInfo>, DeployError> {
    let res = retry_throttled(|| clients.cfn.describe_stacks().stack_name(stack).send()).await;
    let out = match res {
        Ok(out) => out,
        Err(e) if is_missing_stack(&e) => return Ok(None),
        Err(e) => return Err(describe(&format!("describe stack {stack}"), &e, clients).into()),
    };
    let Some(s) = out.stacks().first() else {
        return Ok(None);
    };
    let status = s
        .stack_status()
        .cloned()
        .unwrap_or_else(|| StackStatus::from(""));
    Ok(Some(StackInfo {
        id: s.stack_id().unwrap_or(stack).to_owned(),
        name: s.stack_name().unwrap_or(stack).to_owned(),
        status,
        status_reason: s.stack_status_reason().map(str::to_owned),
        parameters: s
            .parameters()
            .iter()
            .filter_map(|p| {
                Some(DeployedParameter {
                    key: p.parameter_key()?.to_owned(),
                    value: p.parameter_value().map(str::to_owned),
                    resolved: p.resolved_value().map(str::to_owned),
                })
            })
            .collect(),
        outputs: s
            .outputs()
            .iter()
            .map(|o| OutputValue {
                key: o.output_key().unwrap_or_default().to_owned(),
                value: o.output_value().unwrap_or_default().to_owned(),
                description: o.description().map(str::to_owned),
                export: o.export_name().map(str::to_owned),
            })
            .collect(),
        termination_protection: s.enable_termination_protection().unwrap_or(false),
        last_drift: super::drift::LastCheck::from_stack(s),
    }))
}

/// A `CREATE` change set makes its stack, empty, in `REVIEW_IN_PROGRESS`. When that change set
/// is deleted instead of executed (refused, not approved, interrupted), CloudFormation keeps the
/// empty stack: `describe-stacks`, `diff --deployed` and the next deploy would find a stack that
/// was never deployed. This deletes it, by ARN, when it is still in review and no change set of
/// anyone else's is left on it; a stack in review has no resources, so nothing else can go.
/// Returns whether it was deleted.
pub async fn remove_empty_review_stack(
    clients: &Clients,
    stack_id: &str,
) -> Result<bool, DeployError> {
    let Some(info) = describe_stack(clients, stack_id).await? else {
        return Ok(false);
    };
    if info.status != StackStatus::ReviewInProgress {
        return Ok(false);
    }
    let sets = retry_throttled(|| clients.cfn.list_change_sets().stack_name(stack_id).send())
        .await
        .map_err(|e| {
            describe(
                &format!("list the change sets of {}", info.name),
                &e,
                clients,
            )
        })?;
    // Only this stack's change sets count: moto's ListChangeSets ignores its StackName filter.
    let others_left = sets.summaries().iter().any(|c| {
        let this_stack = c.stack_id().is_none_or(|id| id == info.id);
        this_stack
            && !matches!(
                c.status(),
                Some(
                    ChangeSetStatus::DeletePending
                        | ChangeSetStatus::DeleteInProgress
                        | ChangeSetStatus::DeleteComplete
                )
            )
    });
    if others_left {
        return Ok(false);
    }
    retry_throttled(|| clients.cfn.delete_stack().stack_name(stack_id).send())
        .await
        .map_err(|e| {
            describe(
                &format!("delete the empty stack {}", info.name),
                &e,
                clients,
            )
        })?;
    Ok(true)
}

/// The deployed template as submitted (`GetTemplate`, stage `Original`) and its facts.
pub async fn deployed_template_body(
    clients: &Clients,
    stack: &str,
) -> Result<(String, TemplateFacts), DeployError> {
    let body = deployed_body(clients, stack).await?;
    let facts = TemplateFacts::parse(&body)?;
    Ok((body, facts))
}

/// The deployed template's body (`GetTemplate`, the original template as submitted: JSON or
/// YAML).
pub async fn deployed_body(clients: &Clients, stack: &str) -> Result<String, DeployError> {
    let out = retry_throttled(|| {
        clients
            .cfn
            .get_template()
            .stack_name(stack)
            .template_stage(aws_sdk_cloudformation::types::TemplateStage::Original)
            .send()
    })
    .await
    .map_err(|e| {
        describe(
            &format!("get the deployed template of {stack}"),
            &e,
            clients,
        )
    })?;
    Ok(out.template_body().unwrap_or("{}").to_owned())
}

/// One deployed resource, for destroy's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployedResource {
    /// The resource's logical id, to find its policy in the deployed template.
    pub logical_id: String,
    /// The name AWS knows it by; `None` when it was never created.
    pub physical_id: Option<String>,
    /// Its CloudFormation type.
    pub type_name: String,
    /// Its resource status; `DELETE_COMPLETE` ones are left out of destroy's table.
    pub status: String,
}

/// Every resource of a deployed stack (`ListStackResources`, all pages).
pub async fn list_resources(
    clients: &Clients,
    stack: &str,
) -> Result<Vec<DeployedResource>, DeployError> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = retry_throttled(|| {
            clients
                .cfn
                .list_stack_resources()
                .stack_name(stack)
                .set_next_token(token.clone())
                .send()
        })
        .await
        .map_err(|e| describe(&format!("list the resources of {stack}"), &e, clients))?;
        for r in out.stack_resource_summaries() {
            all.push(DeployedResource {
                logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
                physical_id: r.physical_resource_id().map(str::to_owned),
                type_name: r.resource_type().unwrap_or_default().to_owned(),
                status: r
                    .resource_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
            });
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => break,
        }
    }
    Ok(all)
}
