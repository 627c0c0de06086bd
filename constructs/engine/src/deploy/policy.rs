//! Guards that hold outside snowcdk too: the stack policy and termination protection.
//!
//! snowcdk's own gate ([`super::approve`]) refuses to replace or delete a resource that holds
//! data unless `--allow-replacement TYPE` and a typed confirmation say so. A console edit or a
//! plain `aws cloudformation update-stack` skips that gate, so every stack snowcdk deploys also
//! carries a *stack policy* that CloudFormation itself enforces: `Update:*` is allowed on
//! everything, `Update:Replace` and `Update:Delete` are denied on every resource whose type holds
//! data ([`crate::risk::stateful`]), by logical id.
//!
//! `ExecuteChangeSet` takes no per-update policy override (unlike `UpdateStack`'s
//! `StackPolicyDuringUpdateBody`), so an approved replacement works like this: before executing,
//! a temporary policy that leaves exactly the approved logical ids out of the deny list; after
//! the watch ends, whatever the outcome, the strict policy again ([`Guard`]). The strict policy
//! is also set before every other update (so a stateful resource the update adds is covered)
//! and after a create.
//!
//! The policy is a pure function of the template's facts ([`policy_body`]): the same template
//! always gives the same bytes, so `get-stack-policy` can be compared and tests can assert it.

use std::collections::BTreeSet;

use super::changes::{Action, ClassifiedChange};
use super::client::{self, Clients, retry_throttled};
use super::template::TemplateFacts;
use super::ui::Console;
use super::{DeployError, changes::Replacement};

/// The stateful resources of a template, by logical id (sorted): what the strict policy
/// protects. The type decides, through [`crate::risk::is_stateful`].
pub fn protected_ids(facts: &TemplateFacts) -> BTreeSet<String> {
    facts
        .resources
        .iter()
        .filter(|(_, r)| crate::risk::is_stateful(&r.type_name))
        .map(|(id, _)| id.clone())
        .collect()
}

/// The stack policy that denies replacing or deleting `protected` ids except `allowed` ones,
/// and allows every other update. Deterministic: ids are sorted, the JSON is compact (so the
/// restore command can be pasted into a shell inside single quotes).
pub fn policy_body(protected: &BTreeSet<String>, allowed: &BTreeSet<String>) -> String {
    // Written by hand, not through `serde_json::Value`: its key order depends on a cargo
    // feature (`preserve_order`) that other crates of a build may switch on.
    let denied: Vec<String> = protected
        .difference(allowed)
        .map(|id| {
            serde_json::to_string(&format!("LogicalResourceId/{id}"))
                .unwrap_or_else(|_| format!("\"LogicalResourceId/{id}\""))
        })
        .collect();
    let allow = r#"{"Effect":"Allow","Action":"Update:*","Principal":"*","Resource":"*"}"#;
    if denied.is_empty() {
        return format!(r#"{{"Statement":[{allow}]}}"#);
    }
    format!(
        r#"{{"Statement":[{allow},{{"Effect":"Deny","Action":["Update:Replace","Update:Delete"],"Principal":"*","Resource":[{}]}}]}}"#,
        denied.join(",")
    )
}

/// The strict policy of a template: every stateful resource protected.
pub fn strict_policy(facts: &TemplateFacts) -> String {
    policy_body(&protected_ids(facts), &BTreeSet::new())
}

/// The protected ids an approved change set replaces or deletes: the ones the strict policy
/// would make CloudFormation refuse. A `Modify` whose replacement CloudFormation did not state
/// counts (the gate treated it as a replacement too), as does an action this code does not
/// know. A `Remove` needs nothing: the removed id is not in the new template's policy.
pub fn approved_ids(
    changes: &[ClassifiedChange],
    protected: &BTreeSet<String>,
) -> BTreeSet<String> {
    changes
        .iter()
        .filter(|c| protected.contains(&c.change.logical_id))
        .filter(|c| match c.change.action {
            Action::Modify => c.change.replacement != Some(Replacement::False),
            Action::Dynamic | Action::Other(_) => true,
            Action::Add | Action::Remove | Action::Import => false,
        })
        .map(|c| c.change.logical_id.clone())
        .collect()
}

/// `SetStackPolicy`.
pub async fn set(clients: &Clients, stack: &str, body: &str) -> Result<(), DeployError> {
    retry_throttled(|| {
        clients
            .cfn
            .set_stack_policy()
            .stack_name(stack)
            .stack_policy_body(body)
            .send()
    })
    .await
    .map_err(|e| client::describe(&format!("set the stack policy of {stack}"), &e, clients))?;
    Ok(())
}

/// `GetStackPolicy`: `None` when the stack has none.
pub async fn get(clients: &Clients, stack: &str) -> Result<Option<String>, DeployError> {
    let out = retry_throttled(|| clients.cfn.get_stack_policy().stack_name(stack).send())
        .await
        .map_err(|e| client::describe(&format!("read the stack policy of {stack}"), &e, clients))?;
    Ok(out.stack_policy_body().map(str::to_owned))
}

/// The command that sets `body` by hand, for when snowcdk could not.
pub fn set_command(clients: &Clients, stack: &str, body: &str) -> String {
    format!(
        "aws cloudformation set-stack-policy --stack-name {stack} --stack-policy-body '{body}'{}",
        clients.aws_cli_flags()
    )
}

/// Sets the strict policy; a failure is a loud warning with the command, not a failed deploy
/// (the stack itself is as the user asked).
pub async fn ensure_strict(
    clients: &Clients,
    console: &mut Console,
    stack: &str,
    name: &str,
    facts: &TemplateFacts,
) {
    let body = strict_policy(facts);
    if let Err(e) = set(clients, stack, &body).await {
        console.danger(format!(
            "WARNING: {name} is NOT protected by its stack policy ({e}); a console or CLI update could replace or delete its stateful resources. Set it with `{}`",
            set_command(clients, name, &body)
        ));
    }
}

/// A temporary policy in force for one update: [`Guard::restore`] puts the strict one back.
#[derive(Debug)]
pub struct Guard {
    strict: String,
    allowed: BTreeSet<String>,
}

impl Guard {
    /// Sets the temporary policy that lets `allowed` be replaced or deleted. `Err` when it could
    /// not be set: the update must not run (the strict policy in place would deny it halfway).
    pub async fn lift(
        clients: &Clients,
        console: &mut Console,
        stack: &str,
        facts: &TemplateFacts,
        allowed: BTreeSet<String>,
    ) -> Result<Guard, DeployError> {
        let protected = protected_ids(facts);
        set(clients, stack, &policy_body(&protected, &allowed)).await?;
        console.line(format!(
            "stack policy: temporarily allowing replacement/deletion of {} for this update",
            allowed.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
        Ok(Guard {
            strict: policy_body(&protected, &BTreeSet::new()),
            allowed,
        })
    }

    /// Puts the strict policy back. `None` when done; else the loud message (with the command
    /// to run) that was also printed. `still_running`: the watch stopped before the update
    /// ended (a signal, the time bound), which the message then mentions.
    pub async fn restore(
        self,
        clients: &Clients,
        console: &mut Console,
        stack: &str,
        name: &str,
        still_running: bool,
    ) -> Option<String> {
        let ids = self.allowed.iter().cloned().collect::<Vec<_>>().join(", ");
        match set(clients, stack, &self.strict).await {
            Ok(()) => {
                console.line(format!(
                    "stack policy: strict again ({ids} protected from replacement and deletion)"
                ));
                if still_running {
                    console.warn(format!(
                        "the update was still running when the strict policy came back: if CloudFormation had not reached {ids} yet, it may now deny the change and roll the update back; deploy again to retry"
                    ));
                }
                None
            }
            Err(e) => {
                let msg = format!(
                    "WARNING: could not restore the strict stack policy of {name} ({e}): {ids} can still be replaced or deleted by any update. Restore it now with `{}`",
                    set_command(clients, name, &self.strict)
                );
                console.danger(&msg);
                Some(msg)
            }
        }
    }
}

/// After a deploy that changed nothing: the stack still gets its guards (a stack deployed
/// before snowcdk set them, or one whose policy was changed by hand). Failures are warnings.
pub async fn keep_guards(
    clients: &Clients,
    console: &mut Console,
    name: &str,
    facts: &TemplateFacts,
    termination_protection: bool,
) {
    let strict = strict_policy(facts);
    match get(clients, name).await {
        Ok(Some(current)) if current == strict => {}
        Ok(_) => {
            console.line(format!(
                "{name}: setting its stack policy (missing or changed)"
            ));
            ensure_strict(clients, console, name, name, facts).await;
        }
        Err(e) => console.warn(format!("warning: could not read the stack policy: {e}")),
    }
    if termination_protection {
        match super::stack::describe_stack(clients, name).await {
            Ok(Some(info)) if info.termination_protection => {}
            Ok(Some(info)) => ensure_termination_protection(clients, console, &info.id, name).await,
            Ok(None) => {}
            Err(e) => console.warn(format!("warning: could not read the stack: {e}")),
        }
    }
}

/// `UpdateTerminationProtection`.
pub async fn set_termination_protection(
    clients: &Clients,
    stack: &str,
    enable: bool,
) -> Result<(), DeployError> {
    retry_throttled(|| {
        clients
            .cfn
            .update_termination_protection()
            .stack_name(stack)
            .enable_termination_protection(enable)
            .send()
    })
    .await
    .map_err(|e| {
        client::describe(
            &format!(
                "turn termination protection {} on {stack}",
                if enable { "on" } else { "off" }
            ),
            &e,
            clients,
        )
    })?;
    Ok(())
}

/// Turns termination protection on (a protected stage); a failure is a loud warning with the
/// command.
pub async fn ensure_termination_protection(
    clients: &Clients,
    console: &mut Console,
    stack: &str,
    name: &str,
) {
    match set_termination_protection(clients, stack, true).await {
        Ok(()) => console.line(format!("{name}: termination protection on")),
        Err(e) => console.danger(format!(
            "WARNING: could not turn termination protection on for {name} ({e}); turn it on with `aws cloudformation update-termination-protection --enable-termination-protection --stack-name {name}{}`",
            clients.aws_cli_flags()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::changes::{Change, Risk};
    use super::*;

    fn facts() -> TemplateFacts {
        TemplateFacts::parse(
            r#"{"Resources":{
                "Db":{"Type":"AWS::RDS::DBInstance"},
                "Secret":{"Type":"AWS::SecretsManager::Secret"},
                "Logs":{"Type":"AWS::Logs::LogGroup"},
                "Role":{"Type":"AWS::IAM::Role"},
                "Param":{"Type":"AWS::SSM::Parameter","DeletionPolicy":"Retain"}}}"#,
        )
        .expect("template")
    }

    fn cc(action: Action, id: &str, replacement: Option<Replacement>) -> ClassifiedChange {
        ClassifiedChange {
            change: Change {
                action,
                logical_id: id.into(),
                physical_id: None,
                resource_type: String::new(),
                replacement,
                causes: Vec::new(),
            },
            risk: Risk::default(),
        }
    }

    #[test]
    fn the_strict_policy_denies_replace_and_delete_on_stateful_ids_only() {
        let body = strict_policy(&facts());
        assert_eq!(
            body,
            r#"{"Statement":[{"Effect":"Allow","Action":"Update:*","Principal":"*","Resource":"*"},{"Effect":"Deny","Action":["Update:Replace","Update:Delete"],"Principal":"*","Resource":["LogicalResourceId/Db","LogicalResourceId/Logs","LogicalResourceId/Secret"]}]}"#
        );
        // Deterministic, and valid JSON.
        assert_eq!(body, strict_policy(&facts()));
        let _: serde_json::Value = serde_json::from_str(&body).expect("json");
    }

    #[test]
    fn a_template_without_stateful_resources_allows_every_update() {
        let f = TemplateFacts::parse(r#"{"Resources":{"R":{"Type":"AWS::IAM::Role"}}}"#)
            .expect("template");
        assert_eq!(
            strict_policy(&f),
            r#"{"Statement":[{"Effect":"Allow","Action":"Update:*","Principal":"*","Resource":"*"}]}"#
        );
    }

    #[test]
    fn the_temporary_policy_leaves_out_exactly_the_approved_ids() {
        let protected = protected_ids(&facts());
        let allowed: BTreeSet<String> = ["Db".to_owned()].into();
        let body = policy_body(&protected, &allowed);
        assert!(!body.contains("LogicalResourceId/Db"), "{body}");
        assert!(body.contains("LogicalResourceId/Logs"), "{body}");
        assert!(body.contains("LogicalResourceId/Secret"), "{body}");
    }

    #[test]
    fn approved_ids_are_the_protected_ones_the_change_set_may_replace() {
        let protected = protected_ids(&facts());
        let changes = vec![
            cc(Action::Modify, "Db", Some(Replacement::Conditional)),
            cc(Action::Modify, "Secret", Some(Replacement::False)),
            cc(Action::Modify, "Logs", None),
            cc(Action::Modify, "Role", Some(Replacement::True)),
            cc(Action::Add, "New", None),
            cc(Action::Remove, "Old", None),
        ];
        let ids: Vec<String> = approved_ids(&changes, &protected).into_iter().collect();
        assert_eq!(ids, vec!["Db".to_owned(), "Logs".to_owned()]);
    }
}
