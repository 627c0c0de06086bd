//! Errors of the construct library. Every one names the construct path (or stack) it is about
//! and, where there is one, the fix.

use std::fmt;

/// One reason a stack cannot be synthesized.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SynthError {
    #[error(
        "{path}: logical id {id} is already used by {other}; rename one of the constructs or override its logical id"
    )]
    DuplicateLogicalId {
        id: String,
        path: String,
        other: String,
    },
    #[error("{path}: {message}")]
    InvalidId { path: String, message: String },
    #[error("{path} ({type_name}): property {property}: {message}")]
    InvalidProperty {
        path: String,
        type_name: String,
        property: String,
        message: String,
    },
    #[error("{path}: refers to {target}, which is not a resource or parameter in stack {stack}")]
    MissingReference {
        path: String,
        target: String,
        stack: String,
    },
    #[error(
        "{path}: Fn::GetAtt {logical_id}.{attribute}: {type_name} has no attribute {attribute}"
    )]
    UnknownAttribute {
        path: String,
        logical_id: String,
        type_name: String,
        attribute: String,
    },
    #[error("{path}: refers to {kind} {name}, which stack {stack} does not define")]
    MissingDefinition {
        path: String,
        kind: &'static str,
        name: String,
        stack: String,
    },
    #[error("stack {stack}: dependency cycle: {cycle}; break it with a separate rule resource")]
    Cycle { stack: String, cycle: String },
    #[error("stack {stack}: {count} {what} exceeds CloudFormation's limit of {limit}")]
    Limit {
        stack: String,
        what: &'static str,
        count: usize,
        limit: usize,
    },
    #[error(
        "stack {stack}: the template is {size} bytes; CloudFormation accepts at most {limit} bytes even through S3; split the stack"
    )]
    TooLarge {
        stack: String,
        size: usize,
        limit: usize,
    },
    #[error("{path}: {message}")]
    Construct { path: String, message: String },
    /// A built-in rule with severity error (`snowcdk validate` explains it; `rules::suppress`
    /// switches it off for one resource, with a reason).
    #[error(
        "{path}: [{rule}] {message} (`snowcdk validate` explains the rule; suppress it with rules::suppress and a reason)"
    )]
    Rule {
        path: String,
        rule: String,
        message: String,
    },
}

/// All the reasons a synth failed, so the user can fix them in one pass.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthErrors(pub Vec<SynthError>);

impl fmt::Display for SynthErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "synth failed with {n} error{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.0 {
            writeln!(f, "  - {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SynthErrors {}
