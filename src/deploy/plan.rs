//! From the stack's current state to what deploy does: create, update, recreate, or refuse.
//!
//! Pure: [`plan`] maps a `StackStatus` (or its absence) to a [`Plan`]; the caller describes the
//! stack. Every refusal says why and what to run instead.

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
pub fn plan(status: Option<&str>) -> Plan {
    let Some(status) = status else {
        return Plan::Create;
    };
    match status {
        "REVIEW_IN_PROGRESS" => Plan::CreateInReview,
        "ROLLBACK_COMPLETE" => Plan::Recreate,
        "DELETE_COMPLETE" => Plan::Create,
        "CREATE_COMPLETE"
        | "UPDATE_COMPLETE"
        | "UPDATE_ROLLBACK_COMPLETE"
        | "IMPORT_COMPLETE"
        | "IMPORT_ROLLBACK_COMPLETE" => Plan::Update,
        "UPDATE_ROLLBACK_FAILED" => Plan::Stuck {
            status: status.into(),
            fix: "an update failed and so did its rollback; fix the cause named in the stack events, then run `aws cloudformation continue-update-rollback` (or `snowcdk destroy`)".into(),
        },
        "ROLLBACK_FAILED" | "CREATE_FAILED" => Plan::Stuck {
            status: status.into(),
            fix: "the first create failed and its rollback did too; delete the stack (`snowcdk destroy`) and deploy again".into(),
        },
        "DELETE_FAILED" => Plan::Stuck {
            status: status.into(),
            fix: "a delete failed; run `snowcdk destroy` again (it shows the failing resource) before deploying".into(),
        },
        "UPDATE_FAILED" | "IMPORT_ROLLBACK_FAILED" => Plan::Stuck {
            status: status.into(),
            fix: "the last operation failed without rolling back; inspect the stack events and roll back with `aws cloudformation rollback-stack`".into(),
        },
        s if s.ends_with("_IN_PROGRESS") => Plan::Busy {
            status: status.into(),
        },
        // A status CloudFormation added after this was written: do not guess.
        _ => Plan::Stuck {
            status: status.into(),
            fix: "snowcdk does not know this stack status; inspect the stack in the console".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
