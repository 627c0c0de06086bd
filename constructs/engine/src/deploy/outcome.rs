//! The result of deploying or destroying one stack: the exit code it maps to and the
//! machine-readable form printed by `--json`.

use aws_sdk_cloudformation::types::StackStatus;
use serde::{Serialize, Serializer};

use super::changes::ClassifiedChange;
use super::parameters::ParameterPlan;
use crate::exit;

/// How an operation on one stack ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The change set was executed and the stack reached `*_COMPLETE`.
    Deployed,
    /// The template matches the deployed stack; the empty change set was deleted.
    NoChanges,
    /// `--no-execute`: the change set waits for review.
    NotExecuted,
    /// A guard refused (destructive change, no approval, stack busy); nothing was changed.
    Refused,
    /// CloudFormation failed and the stack is not usable as it was (failed create,
    /// `DELETE_FAILED`, a failed rollback).
    Failed,
    /// The update failed and CloudFormation rolled it back.
    RolledBack,
    /// Ctrl-C, SIGTERM or SIGHUP: before execution nothing was executed; after it the
    /// operation goes on in CloudFormation (the message says which).
    Interrupted,
    /// Waiting stopped at its time bound (the change set never became ready, or the operation
    /// ran longer than the watch): nothing was cancelled.
    StoppedWaiting,
    /// The stack was deleted.
    Destroyed,
    /// There was no stack to delete.
    NotFound,
}

impl Status {
    /// The process exit code (see `src/exit.rs`).
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Deployed
            | Status::NoChanges
            | Status::NotExecuted
            | Status::Destroyed
            | Status::NotFound => exit::OK,
            Status::Refused => exit::REFUSED,
            Status::Failed => exit::FAILED,
            Status::RolledBack => exit::ROLLED_BACK,
            Status::Interrupted => exit::INTERRUPTED,
            Status::StoppedWaiting => exit::ERROR,
        }
    }
}

/// The change set a deploy made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeSetRef {
    /// The change set's name (`snowcdk-<time>-<random>`), for `aws cloudformation` commands.
    pub name: String,
    /// The change set ARN.
    pub id: String,
    /// `CREATE` or `UPDATE`.
    #[serde(rename = "type")]
    pub change_set_type: String,
    /// False once deleted (no changes) or executed.
    pub exists: bool,
}

/// The first resource that failed, with CloudFormation's reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The failing resource's logical id (the stack's name when the stack itself failed).
    pub logical_id: String,
    /// Its CloudFormation type.
    pub resource_type: String,
    /// The resource status it ended in (`CREATE_FAILED`, ...).
    pub status: String,
    /// CloudFormation's status reason: usually the actual cause.
    pub reason: String,
}

/// One stack output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputValue {
    /// The output's logical name in the template.
    pub key: String,
    /// Its value once deployed.
    pub value: String,
    /// The template's description of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The export name, when other stacks can import it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export: Option<String>,
}

/// The whole result for one stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StackResult {
    /// The CloudFormation stack name.
    pub stack: String,
    /// The stage the stack was deployed for, when it came from the config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// The region it lives in.
    pub region: String,
    /// How the operation ended.
    pub status: Status,
    /// The exit code that status maps to (see [`Status::exit_code`]).
    pub exit_code: u8,
    /// The stack status CloudFormation reported last (its SDK name in the JSON result).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "stack_status_str"
    )]
    pub stack_status: Option<StackStatus>,
    /// The change set this run made, when it got that far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_set: Option<ChangeSetRef>,
    /// The change set's changes with their risk, as the table showed them.
    pub changes: Vec<ClassifiedChange>,
    /// Each template parameter's value and where it comes from (see [`ParameterPlan`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<ParameterPlan>,
    /// The first resource that failed, when CloudFormation failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// The stack's outputs after a successful deploy.
    pub outputs: Vec<OutputValue>,
    /// One sentence for a person: why it was refused, what is still running, what to do next.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl StackResult {
    /// A result with only the status set; the engine fills in the rest as it goes.
    pub fn new(stack: &str, stage: Option<&str>, region: &str) -> StackResult {
        StackResult {
            stack: stack.to_owned(),
            stage: stage.map(str::to_owned),
            region: region.to_owned(),
            status: Status::Refused,
            exit_code: exit::REFUSED,
            stack_status: None,
            change_set: None,
            changes: Vec::new(),
            parameters: Vec::new(),
            failure: None,
            outputs: Vec::new(),
            message: None,
        }
    }

    /// Sets the final status (and with it the exit code).
    pub fn finish(mut self, status: Status, message: Option<String>) -> StackResult {
        self.status = status;
        self.exit_code = status.exit_code();
        if message.is_some() {
            self.message = message;
        }
        self
    }
}

/// The `--json` document for a whole command run: every stack it touched and the exit code.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    /// Every stack the command touched, in the order it touched them.
    pub stacks: Vec<StackResult>,
    /// The process exit code: the first failing stack's, 1 when the command stopped on an
    /// error, else 0.
    pub exit_code: u8,
    /// Set when the command stopped on an error (unreachable endpoint, bad template...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl RunResult {
    /// The first non-zero stack exit code (stacks are processed in order and processing stops at
    /// the first that did not succeed), or OK.
    pub fn from_stacks(stacks: Vec<StackResult>) -> RunResult {
        let exit_code = stacks
            .iter()
            .map(|s| s.exit_code)
            .find(|c| *c != exit::OK)
            .unwrap_or(exit::OK);
        RunResult {
            stacks,
            exit_code,
            error: None,
        }
    }
}

/// Writes a stack status as CloudFormation names it (`CREATE_COMPLETE`), the JSON result's
/// shape from before the field was typed.
fn stack_status_str<S: Serializer>(s: &Option<StackStatus>, out: S) -> Result<S::Ok, S::Error> {
    s.as_ref().map(StackStatus::as_str).serialize(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(Status::NoChanges.exit_code(), exit::OK);
        assert_eq!(Status::Refused.exit_code(), exit::REFUSED);
        assert_eq!(Status::Failed.exit_code(), exit::FAILED);
        assert_eq!(Status::RolledBack.exit_code(), exit::ROLLED_BACK);
        assert_eq!(Status::Interrupted.exit_code(), exit::INTERRUPTED);
        assert_eq!(Status::StoppedWaiting.exit_code(), exit::ERROR);
        let r = StackResult::new("s", Some("dev"), "us-east-1").finish(Status::RolledBack, None);
        let run = RunResult::from_stacks(vec![r]);
        assert_eq!(run.exit_code, exit::ROLLED_BACK);
        let json = serde_json::to_value(&run).expect("json");
        assert_eq!(json["stacks"][0]["status"], "rolled_back");
        assert!(json["stacks"][0].get("stack_status").is_none());
    }

    #[test]
    fn stack_status_is_written_as_cloudformation_names_it() {
        let mut r = StackResult::new("s", None, "us-east-1");
        r.stack_status = Some(StackStatus::UpdateRollbackComplete);
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(json["stack_status"], "UPDATE_ROLLBACK_COMPLETE");
        r.stack_status = Some(StackStatus::from("SOMETHING_NEW"));
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(json["stack_status"], "SOMETHING_NEW");
    }
}
