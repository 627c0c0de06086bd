//! Who must approve a change set, decided from its classified changes and the user's flags.
//!
//! The rules, in order:
//! 0. A change that cannot succeed ([`super::changes::Risk::blocked`]: a replacement of a
//!    resource whose physical name the template fixes) is refused, whatever the flags: executing
//!    it would only fail and roll back.
//! 1. A destructive change whose resource type is not in `--allow-replacement` is refused,
//!    whatever else was passed: nothing can delete or replace a database without a typed
//!    allowance.
//! 2. Destructive changes that are allowed still need approval: `--yes` counts only together with
//!    the allowance; otherwise the user types the stack name at a prompt.
//! 3. Otherwise `--require-approval` decides: `broadening` (the default) asks when a change may
//!    widen access, `any-change` asks always, `never` and `destructive` ask only for rule 2.
//!    `--yes` answers these prompts.
//! 4. A prompt without a terminal is a refusal, never a hang.

use std::collections::BTreeSet;

use super::changes::ClassifiedChange;

/// `--require-approval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum RequireApproval {
    /// Ask only for destructive changes (which always ask).
    Never,
    /// Ask only for destructive changes (the same as `never`: destructive changes always ask).
    Destructive,
    /// Ask when a change may widen access (IAM, security groups, resource policies).
    #[default]
    Broadening,
    /// Ask before executing any change set.
    AnyChange,
}

/// The user's approval flags.
#[derive(Debug, Clone, Default)]
pub struct ApprovalPolicy {
    /// `--require-approval`: which non-destructive change sets need a yes.
    pub require: RequireApproval,
    /// `--yes`: answer yes to every prompt that may be answered in advance.
    pub yes: bool,
    /// `--allow-replacement TYPE...`: resource types that may be removed or replaced.
    pub allow_replacement: BTreeSet<String>,
}

/// What to do with a change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Execute without asking.
    Proceed,
    /// Ask first. For `destructive` changes the user must type the stack name; otherwise `y`.
    Ask {
        /// Why approval is needed, shown above the prompt.
        reason: String,
        /// Data may be lost: the stronger prompt (type the stack name).
        destructive: bool,
    },
    /// Do not execute. The reason says how to proceed if this was intended.
    Refuse {
        /// Why, and which flag allows it.
        reason: String,
    },
}

/// Decides from the classified changes and the policy (pure; see the module docs for the rules).
pub fn decide(changes: &[ClassifiedChange], policy: &ApprovalPolicy) -> Decision {
    let blocked: Vec<String> = changes
        .iter()
        .filter(|c| c.risk.blocked.is_some())
        .map(|c| format!("{} ({})", c.change.logical_id, c.change.resource_type))
        .collect();
    if !blocked.is_empty() {
        return Decision::Refuse {
            reason: format!(
                "{} would be replaced but keep(s) a fixed physical name, which CloudFormation cannot do (the update would fail and roll back); see the xx line(s) above for the way out",
                blocked.join(", ")
            ),
        };
    }
    let destructive: Vec<&ClassifiedChange> =
        changes.iter().filter(|c| c.is_destructive()).collect();
    let not_allowed: BTreeSet<&str> = destructive
        .iter()
        .map(|c| c.change.resource_type.as_str())
        .filter(|t| !policy.allow_replacement.contains(*t))
        .collect();
    if !not_allowed.is_empty() {
        let ids: Vec<String> = destructive
            .iter()
            .filter(|c| not_allowed.contains(c.change.resource_type.as_str()))
            .map(|c| format!("{} ({})", c.change.logical_id, c.change.resource_type))
            .collect();
        let flags: Vec<String> = not_allowed
            .iter()
            .map(|t| format!("--allow-replacement {t}"))
            .collect();
        return Decision::Refuse {
            reason: format!(
                "refusing a destructive change to {}; if losing that data is intended, deploy again with {} and approve it",
                ids.join(", "),
                flags.join(" ")
            ),
        };
    }
    if !destructive.is_empty() {
        if policy.yes {
            return Decision::Proceed;
        }
        return Decision::Ask {
            reason: format!(
                "{} destructive change(s) allowed by --allow-replacement",
                destructive.len()
            ),
            destructive: true,
        };
    }
    let reason = match policy.require {
        RequireApproval::AnyChange if !changes.is_empty() => {
            Some("--require-approval any-change".to_owned())
        }
        RequireApproval::Broadening | RequireApproval::AnyChange
            if changes.iter().any(|c| c.risk.broadening) =>
        {
            Some("the change set has security-sensitive changes (+!)".to_owned())
        }
        _ => None,
    };
    match reason {
        Some(_) if policy.yes => Decision::Proceed,
        Some(reason) => Decision::Ask {
            reason,
            destructive: false,
        },
        None => Decision::Proceed,
    }
}

#[cfg(test)]
mod tests {
    use super::super::changes::{Action, Change, Replacement, Risk};
    use super::*;

    fn cc(ty: &str, destructive: bool, broadening: bool) -> ClassifiedChange {
        ClassifiedChange {
            change: Change {
                action: Action::Modify,
                logical_id: "X".into(),
                physical_id: None,
                resource_type: ty.into(),
                replacement: Some(Replacement::True),
                causes: vec![],
            },
            risk: Risk {
                destructive: destructive.then(|| "replaced".to_owned()),
                kept: None,
                broadening,
                blocked: None,
            },
        }
    }

    #[test]
    fn a_change_that_cannot_succeed_is_refused_whatever_the_flags() {
        let mut c = cc("AWS::Lambda::Function", false, false);
        c.risk.blocked = Some("replaced, but its FunctionName is fixed".into());
        let all = policy(RequireApproval::Never, true, &["AWS::Lambda::Function"]);
        match decide(&[c], &all) {
            Decision::Refuse { reason } => {
                assert!(reason.starts_with("X (AWS::Lambda::Function) would be replaced but keep(s) a fixed physical name"), "{reason}");
            }
            other => panic!("not refused: {other:?}"),
        }
    }

    fn policy(require: RequireApproval, yes: bool, allow: &[&str]) -> ApprovalPolicy {
        ApprovalPolicy {
            require,
            yes,
            allow_replacement: allow.iter().map(|s| s.to_string()).collect(),
        }
    }

    const DB: &str = "AWS::RDS::DBInstance";

    #[test]
    fn destructive_needs_allowance_and_approval() {
        let changes = [cc(DB, true, false)];
        // --yes alone never deletes a database.
        for require in [RequireApproval::Never, RequireApproval::AnyChange] {
            let d = decide(&changes, &policy(require, true, &[]));
            assert!(
                matches!(&d, Decision::Refuse { reason } if reason.contains("--allow-replacement AWS::RDS::DBInstance")),
                "{d:?}"
            );
        }
        // Allowed type, no --yes: ask, and ask for the stack name.
        let d = decide(&changes, &policy(RequireApproval::Never, false, &[DB]));
        assert_eq!(
            d,
            Decision::Ask {
                reason: "1 destructive change(s) allowed by --allow-replacement".into(),
                destructive: true
            }
        );
        // Allowed type and --yes: proceed.
        assert_eq!(
            decide(&changes, &policy(RequireApproval::Never, true, &[DB])),
            Decision::Proceed
        );
        // Allowing another type does not help.
        assert!(matches!(
            decide(
                &changes,
                &policy(RequireApproval::Never, true, &["AWS::S3::Bucket"])
            ),
            Decision::Refuse { .. }
        ));
    }

    #[test]
    fn approval_levels() {
        let plain = [cc("AWS::SSM::Parameter", false, false)];
        let wide = [cc("AWS::IAM::Role", false, true)];
        let p = |r| policy(r, false, &[]);
        assert_eq!(
            decide(&plain, &p(RequireApproval::Broadening)),
            Decision::Proceed
        );
        assert!(matches!(
            decide(&wide, &p(RequireApproval::Broadening)),
            Decision::Ask {
                destructive: false,
                ..
            }
        ));
        assert_eq!(decide(&wide, &p(RequireApproval::Never)), Decision::Proceed);
        assert!(matches!(
            decide(&plain, &p(RequireApproval::AnyChange)),
            Decision::Ask { .. }
        ));
        assert_eq!(
            decide(&wide, &policy(RequireApproval::AnyChange, true, &[])),
            Decision::Proceed
        );
    }
}
