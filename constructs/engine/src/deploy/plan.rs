//! From the stack's current state to what deploy does: create, update, recreate, or refuse.
//!
//! Pure: [`plan`] maps the SDK's `StackStatus` (or its absence) to a [`Plan`]; the caller
//! describes the stack. Every refusal says why and what to run instead.

use aws_sdk_cloudformation::types::StackStatus;

/// What the current state of a stack allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// No stack: a `CREATE` change set.
    Create,
    /// A stack made by an earlier, never executed `CREATE` change set (`REVIEW_IN_PROGRESS`):
    /// still a `CREATE` change set, on the existing stack id.
    CreateInReview,
    /// A stack in a settled state: an `UPDATE` change set.
    Update,
    /// `ROLLBACK_COMPLETE`: the first create failed and the stack holds nothing; it must be
    /// deleted before it can be created again.
    Recreate,
    /// The stack is busy (`*_IN_PROGRESS`): nothing can start until it settles.
    Busy { status: String },
    /// A failed state that needs a human: the message says what to run.
    Stuck { status: String, fix: String },
}

/// Decides from the stack status (`None` when the stack does not exist).
pub fn plan(status: Option<&StackStatus>) -> Plan {
    use StackStatus as S;
    let Some(status) = status else {
        return Plan::Create;
    };
    let stuck = |fix: &str| Plan::Stuck {
        status: status.as_str().to_owned(),
        // `{program}`: the running app's binary, which the hints tell the user to run.
        fix: fix.replace("{program}", crate::app::program_name()),
    };
    match status {
        S::ReviewInProgress => Plan::CreateInReview,
        S::RollbackComplete => Plan::Recreate,
        S::DeleteComplete => Plan::Create,
        S::CreateComplete
        | S::UpdateComplete
        | S::UpdateRollbackComplete
        | S::ImportComplete
        | S::ImportRollbackComplete => Plan::Update,
        S::UpdateRollbackFailed => stuck(
            "an update failed and so did its rollback; fix the cause named in the stack events, then run `aws cloudformation continue-update-rollback` (or `{program} destroy`)",
        ),
        S::RollbackFailed | S::CreateFailed => stuck(
            "the first create failed and its rollback did too; delete the stack (`{program} destroy`) and deploy again",
        ),
        S::DeleteFailed => stuck(
            "a delete failed; run `{program} destroy` again (it shows the failing resource) before deploying",
        ),
        S::UpdateFailed | S::ImportRollbackFailed => stuck(
            "the last operation failed without rolling back; inspect the stack events and roll back with `aws cloudformation rollback-stack`",
        ),
        s if s.as_str().ends_with("_IN_PROGRESS") => Plan::Busy {
            status: s.as_str().to_owned(),
        },
        // A status CloudFormation added after this was written: do not guess.
        _ => stuck("snowcdk does not know this stack status; inspect the stack in the console"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(s: Option<&str>) -> Plan {
        super::plan(s.map(StackStatus::from).as_ref())
    }

    #[test]
    fn states() {
        assert_eq!(plan(None), Plan::Create);
        assert_eq!(plan(Some("REVIEW_IN_PROGRESS")), Plan::CreateInReview);
        assert_eq!(plan(Some("CREATE_COMPLETE")), Plan::Update);
        assert_eq!(plan(Some("UPDATE_ROLLBACK_COMPLETE")), Plan::Update);
        assert_eq!(plan(Some("ROLLBACK_COMPLETE")), Plan::Recreate);
        for busy in [
            "CREATE_IN_PROGRESS",
            "UPDATE_IN_PROGRESS",
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
            "UPDATE_ROLLBACK_IN_PROGRESS",
            "DELETE_IN_PROGRESS",
            "ROLLBACK_IN_PROGRESS",
        ] {
            assert!(matches!(plan(Some(busy)), Plan::Busy { .. }), "{busy}");
        }
        assert!(matches!(
            plan(Some("UPDATE_ROLLBACK_FAILED")),
            Plan::Stuck { .. }
        ));
        assert!(matches!(plan(Some("SOMETHING_NEW")), Plan::Stuck { .. }));
    }

    #[test]
    fn stuck_fixes_name_the_running_program() {
        for s in ["UPDATE_ROLLBACK_FAILED", "ROLLBACK_FAILED", "DELETE_FAILED"] {
            let Plan::Stuck { fix, .. } = plan(Some(s)) else {
                panic!("{s} is stuck");
            };
            let run = format!("`{} destroy`", crate::app::program_name());
            assert!(fix.contains(&run), "{s}: {fix}");
            assert!(!fix.contains("{program}"), "{s}: {fix}");
        }
    }
}
