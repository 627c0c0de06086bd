//! Errors of the construct library. Every one names the construct path (or stack) it is about
//! and, where there is one, the fix.

use std::fmt;

/// One reason a stack cannot be synthesized.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SynthError {
    #[error(
        "{path}: logical id {id} is already used by {other}; rename one of the constructs or override its logical id"
    )]
    /// Two constructs map to the same logical id (`other` is the first one's path).
    DuplicateLogicalId {
        /// The logical id both want.
        id: String,
        /// The construct path of the second one.
        path: String,
        /// The construct path of the one that has the id.
        other: String,
    },
    /// A construct id, stack name or section name CloudFormation (or the tree) does not accept.
    #[error("{path}: {message}")]
    InvalidId {
        /// The construct path (or stack name) holding the id.
        path: String,
        /// What CloudFormation accepts instead.
        message: String,
    },
    /// A literal property value the resource type's schema rejects.
    #[error("{path} ({type_name}): property {property}: {message}")]
    InvalidProperty {
        /// The resource's construct path.
        path: String,
        /// `AWS::Service::Type`.
        type_name: String,
        /// Where in the properties.
        property: String,
        /// What is wrong with the value.
        message: String,
    },
    /// A `Ref`/`Fn::GetAtt`/`Fn::Sub` names something the stack does not hold.
    #[error("{path}: refers to {target}, which is not a resource or parameter in stack {stack}")]
    MissingReference {
        /// The construct path of the resource that refers.
        path: String,
        /// What it refers to.
        target: String,
        /// The stack name.
        stack: String,
    },
    #[error(
        "{path}: Fn::GetAtt {logical_id}.{attribute}: {type_name} has no attribute {attribute}"
    )]
    /// A `Fn::GetAtt` asks for an attribute the resource type does not have.
    UnknownAttribute {
        /// The construct path of the resource that asks.
        path: String,
        /// The resource asked.
        logical_id: String,
        /// Its type.
        type_name: String,
        /// The attribute asked for.
        attribute: String,
    },
    /// A reference to a condition or mapping the stack does not define.
    #[error("{path}: refers to {kind} {name}, which stack {stack} does not define")]
    MissingDefinition {
        /// The construct path of the resource that refers.
        path: String,
        /// `condition` or `mapping`.
        kind: &'static str,
        /// The name referred to.
        name: String,
        /// The stack name.
        stack: String,
    },
    /// Resources that depend on each other in a circle; CloudFormation cannot order them.
    #[error("stack {stack}: dependency cycle: {cycle}; break it with a separate rule resource")]
    Cycle {
        /// The stack name.
        stack: String,
        /// The construct paths in the circle, in order.
        cycle: String,
    },
    /// More of something than CloudFormation allows in one stack.
    #[error("stack {stack}: {count} {what} exceeds CloudFormation's limit of {limit}")]
    Limit {
        /// The stack name.
        stack: String,
        /// What is counted (resources, parameters, ...).
        what: &'static str,
        /// How many the stack has.
        count: usize,
        /// CloudFormation's quota.
        limit: usize,
    },
    #[error(
        "stack {stack}: the template is {size} bytes; CloudFormation accepts at most {limit} bytes even through S3; split the stack"
    )]
    /// A template larger than CloudFormation accepts even through S3.
    TooLarge {
        /// The stack name.
        stack: String,
        /// The body's size in bytes.
        size: usize,
        /// CloudFormation's limit in bytes.
        limit: usize,
    },
    /// A construct rejected its arguments.
    #[error("{path}: {message}")]
    Construct {
        /// The construct's path.
        path: String,
        /// What is wrong, and the fix.
        message: String,
    },
    /// A built-in rule with severity error (`snowcdk validate` explains it; `rules::suppress`
    /// switches it off for one resource, with a reason).
    #[error(
        "{path}: [{rule}] {message} (`snowcdk validate` explains the rule; suppress it with rules::suppress and a reason)"
    )]
    Rule {
        /// The construct path of the resource.
        path: String,
        /// The rule id (`SNX-...`).
        rule: String,
        /// What the rule found.
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
