//! A DB instance restored from a snapshot must keep its `DBSnapshotIdentifier`.
//!
//! CloudFormation's AWS::RDS::DBInstance reference: after a restore, every later update must
//! name the same `DBSnapshotIdentifier`; without it "an empty DB instance is created, and the
//! original DB instance is deleted", and with another one "a new DB instance is restored from
//! the specified DBSnapshotIdentifier property, and the original DB instance is deleted". The
//! registry schema lists the property only as *conditionally* create-only, and a change set
//! may not say why, so the schema-based prediction would call this "may be replaced". This
//! module names the edit for what it is, for `diff` and `deploy` alike (SnowEx's config key for
//! it is `restore_from_snapshot`).

use serde_json::Value as Json;

use super::Policy;
use super::policy::{Fate, fate};

/// The type whose restore is checked.
pub const DB_INSTANCE: &str = "AWS::RDS::DBInstance";
/// The property that restores it.
pub const SNAPSHOT_PROPERTY: &str = "DBSnapshotIdentifier";

/// How `DBSnapshotIdentifier` changes between the deployed and the new template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreChange {
    /// The deployed instance was restored from `old`; the new template drops it.
    Removed {
        /// The deployed snapshot reference.
        old: String,
    },
    /// Restored from `old`, now from `new`.
    Changed {
        /// The deployed snapshot reference.
        old: String,
        /// The new one.
        new: String,
    },
    /// The deployed instance was not restored; the new template restores it from `new`.
    Added {
        /// The new snapshot reference.
        new: String,
    },
}

/// A property value as shown in messages: the string itself, else compact JSON.
pub fn shown(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The restore edit of a `type_name` resource from `old` to `new` (the snapshot references,
/// as [`shown`]); `None` when there is none (another type, the same snapshot, a new resource).
pub fn restore_change(
    type_name: &str,
    old: Option<&str>,
    new: Option<&str>,
) -> Option<RestoreChange> {
    if type_name != DB_INSTANCE {
        return None;
    }
    match (old, new) {
        (Some(o), None) => Some(RestoreChange::Removed { old: o.to_owned() }),
        (Some(o), Some(n)) if o != n => Some(RestoreChange::Changed {
            old: o.to_owned(),
            new: n.to_owned(),
        }),
        (None, Some(n)) => Some(RestoreChange::Added { new: n.to_owned() }),
        _ => None,
    }
}

impl RestoreChange {
    /// What the edit does, exactly: the database is replaced, by an empty one or by another
    /// snapshot's, and where the current data goes under the `UpdateReplacePolicy`.
    pub fn effect(&self, update_replace_policy: Policy) -> String {
        let data = match fate(DB_INSTANCE, update_replace_policy) {
            Fate::Snapshot => "its data stays only in the final snapshot",
            Fate::Retained => "the old instance is kept outside the stack, no longer managed",
            Fate::Deleted => "its data is deleted with it (no final snapshot)",
        };
        match self {
            RestoreChange::Removed { old } => format!(
                "removing restore_from_snapshot ({SNAPSHOT_PROPERTY} {old}) replaces the database with a new, empty one; {data}"
            ),
            RestoreChange::Changed { old, new } => format!(
                "changing restore_from_snapshot ({SNAPSHOT_PROPERTY} {old} -> {new}) replaces the database with one restored from {new}; {data}"
            ),
            RestoreChange::Added { new } => format!(
                "adding restore_from_snapshot ({SNAPSHOT_PROPERTY} {new}) to the existing database replaces it with one restored from {new}; {data}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_edit_of_the_snapshot_replaces_the_database_and_says_how() {
        let removed = restore_change(DB_INSTANCE, Some("snap-a"), None).expect("removed");
        assert_eq!(
            removed.effect(Policy::Snapshot),
            "removing restore_from_snapshot (DBSnapshotIdentifier snap-a) replaces the database with a new, empty one; its data stays only in the final snapshot"
        );
        let changed = restore_change(DB_INSTANCE, Some("snap-a"), Some("snap-b")).expect("changed");
        assert_eq!(
            changed.effect(Policy::Snapshot),
            "changing restore_from_snapshot (DBSnapshotIdentifier snap-a -> snap-b) replaces the database with one restored from snap-b; its data stays only in the final snapshot"
        );
        let added = restore_change(DB_INSTANCE, None, Some("snap-b")).expect("added");
        assert!(
            added
                .effect(Policy::Delete)
                .ends_with("replaces it with one restored from snap-b; its data is deleted with it (no final snapshot)")
        );
        assert_eq!(restore_change(DB_INSTANCE, Some("a"), Some("a")), None);
        assert_eq!(restore_change(DB_INSTANCE, None, None), None);
        assert_eq!(restore_change("AWS::RDS::DBCluster", Some("a"), None), None);
    }
}
