//! What a `DeletionPolicy` does to a resource that leaves the stack (removed from the template,
//! or the whole stack deleted), described once for `diff`, `deploy` and `destroy`.
//!
//! CloudFormation's rules (DeletionPolicy attribute, CloudFormation user guide):
//! - `Delete` (the default): the resource and its contents are deleted.
//! - `Retain`: the resource is kept, no longer managed by any stack. `RetainExceptOnCreate` does
//!   the same, except when the operation that created it rolls back.
//! - `Snapshot`: for the types that support snapshots, a final snapshot is taken and the
//!   resource deleted. The types are listed in [`SNAPSHOT_TYPES`]; on any other type snowcdk
//!   assumes the data is lost.
//! - With no policy, `AWS::RDS::DBCluster`, and `AWS::RDS::DBInstance` without
//!   `DBClusterIdentifier`, default to `Snapshot`.
//!
//! A replacement is governed by `UpdateReplacePolicy` (same values) for the old resource.

use serde::Serialize;
use serde_json::Value as Json;
use snowcdk_constructs::template::DeletionPolicy;

use super::stateful::stateful;

/// A `DeletionPolicy` or `UpdateReplacePolicy` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Policy {
    /// The resource, and what it holds, is deleted (CloudFormation's default for most types).
    Delete,
    /// The resource is kept in AWS and no longer managed by the stack.
    Retain,
    /// Kept like `Retain`, except when the stack's create itself fails and rolls back.
    RetainExceptOnCreate,
    /// A final snapshot is taken before deletion (types that support it; `Delete` elsewhere).
    Snapshot,
}

impl Policy {
    /// Reads a policy value; anything else (absent, an intrinsic, a typo CloudFormation would
    /// reject) counts as `Delete`, the worst case.
    pub fn parse(s: Option<&str>) -> Policy {
        match s {
            Some("Retain") => Policy::Retain,
            Some("RetainExceptOnCreate") => Policy::RetainExceptOnCreate,
            Some("Snapshot") => Policy::Snapshot,
            _ => Policy::Delete,
        }
    }

    /// The value as written in a template, for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Delete => "Delete",
            Policy::Retain => "Retain",
            Policy::RetainExceptOnCreate => "RetainExceptOnCreate",
            Policy::Snapshot => "Snapshot",
        }
    }

    /// Whether the template marks the resource as holding data (any policy but `Delete`).
    pub fn keeps_data(self) -> bool {
        self != Policy::Delete
    }
}

impl From<DeletionPolicy> for Policy {
    fn from(p: DeletionPolicy) -> Policy {
        match p {
            DeletionPolicy::Delete => Policy::Delete,
            DeletionPolicy::Retain => Policy::Retain,
            DeletionPolicy::RetainExceptOnCreate => Policy::RetainExceptOnCreate,
            DeletionPolicy::Snapshot => Policy::Snapshot,
        }
    }
}

/// The types CloudFormation snapshots under `DeletionPolicy: Snapshot` (the list in the
/// `CfnDeletionPolicy` documentation of the AWS CDK, which quotes the CloudFormation guide).
pub const SNAPSHOT_TYPES: &[&str] = &[
    "AWS::EC2::Volume",
    "AWS::ElastiCache::CacheCluster",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::RDS::DBCluster",
    "AWS::RDS::DBInstance",
    "AWS::Redshift::Cluster",
];

pub fn supports_snapshot(type_name: &str) -> bool {
    SNAPSHOT_TYPES.contains(&type_name)
}

/// The deletion policy CloudFormation applies to a resource body (`{"Type": ..., ...}`): the
/// explicit one, else the type's default.
pub fn deletion_policy(body: &Json) -> Policy {
    if let Some(p) = body.get("DeletionPolicy").and_then(Json::as_str) {
        return Policy::parse(Some(p));
    }
    let type_name = body.get("Type").and_then(Json::as_str).unwrap_or_default();
    let in_cluster = body
        .get("Properties")
        .and_then(|p| p.get(CLUSTER_MEMBER_PROPERTY))
        .is_some();
    default_deletion_policy(type_name, in_cluster)
}

/// The property that makes an `AWS::RDS::DBInstance` a cluster member (whose default deletion
/// policy is `Delete`, not `Snapshot`).
pub const CLUSTER_MEMBER_PROPERTY: &str = "DBClusterIdentifier";

/// The deletion policy CloudFormation applies when a resource has none: `Snapshot` for RDS
/// clusters and stand-alone instances (`in_cluster`: the instance sets
/// [`CLUSTER_MEMBER_PROPERTY`]), `Delete` otherwise.
pub fn default_deletion_policy(type_name: &str, in_cluster: bool) -> Policy {
    match type_name {
        "AWS::RDS::DBCluster" => Policy::Snapshot,
        "AWS::RDS::DBInstance" if !in_cluster => Policy::Snapshot,
        _ => Policy::Delete,
    }
}

/// The `UpdateReplacePolicy` of a resource body (`Delete` when absent).
pub fn update_replace_policy(body: &Json) -> Policy {
    Policy::parse(body.get("UpdateReplacePolicy").and_then(Json::as_str))
}

/// What happens to a resource that leaves the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// Deleted with its data.
    Deleted,
    /// Deleted after a final snapshot (`DeletionPolicy: Snapshot` on a type that supports it).
    Snapshot,
    /// Kept, and no longer managed by CloudFormation (`Retain`, `RetainExceptOnCreate`).
    Retained,
}

/// The fate of a resource of `type_name` under `policy` when it leaves the stack.
pub fn fate(type_name: &str, policy: Policy) -> Fate {
    match policy {
        Policy::Retain | Policy::RetainExceptOnCreate => Fate::Retained,
        Policy::Snapshot if supports_snapshot(type_name) => Fate::Snapshot,
        Policy::Snapshot | Policy::Delete => Fate::Deleted,
    }
}

/// A resource leaving the stack, judged: its fate, whether data is lost, and the words for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Removal {
    /// Deleted, snapshotted or retained.
    pub fate: Fate,
    /// Destructive: the resource holds data (its type, or a policy that says so) and is not
    /// kept. A snapshot counts: the live resource and whatever changed since the snapshot go.
    pub destructive: bool,
    /// Data is gone for good: deleted without a snapshot.
    pub data_loss: bool,
    /// What happens, e.g. `kept in AWS, no longer managed by the stack (DeletionPolicy Retain)`.
    pub description: String,
}

/// Judges a resource of `type_name` leaving the stack under `policy` (see `deletion_policy`).
pub fn removal(type_name: &str, policy: Policy) -> Removal {
    let f = fate(type_name, policy);
    let holds = stateful(type_name);
    let holds_data = holds.is_some() || policy.keeps_data();
    let what = holds.map(|s| s.reason).unwrap_or("its data");
    let description = match f {
        Fate::Retained => format!(
            "kept in AWS, no longer managed by the stack (DeletionPolicy {})",
            policy.as_str()
        ),
        Fate::Snapshot => "deleted after a final snapshot".to_owned(),
        Fate::Deleted if policy == Policy::Snapshot => format!(
            "deleted with {what}: DeletionPolicy Snapshot, but {type_name} is not a type CloudFormation snapshots"
        ),
        Fate::Deleted if holds_data => format!("deleted with {what}"),
        Fate::Deleted => "deleted".to_owned(),
    };
    Removal {
        fate: f,
        destructive: holds_data && f != Fate::Retained,
        data_loss: holds_data && f == Fate::Deleted,
        description,
    }
}

impl Removal {
    /// The resource stays in AWS (`Retain`, `RetainExceptOnCreate`): nothing is destroyed.
    pub fn kept(&self) -> bool {
        self.fate == Fate::Retained
    }
}

/// What replacing a resource of `type_name` does, under the `UpdateReplacePolicy` of the old
/// one: `CloudFormation creates a new, empty one and deletes the old one with its data`. The
/// one wording of a replacement's effect for `diff` and `deploy`.
pub fn replacement_effect(type_name: &str, policy: Policy) -> String {
    format!(
        "CloudFormation creates a new, empty one and {}",
        replaced_old(type_name, policy)
    )
}

/// What a replacement does to the old resource under its `UpdateReplacePolicy`.
pub fn replaced_old(type_name: &str, policy: Policy) -> &'static str {
    match fate(type_name, policy) {
        Fate::Retained => "keeps the old one outside the stack",
        Fate::Snapshot => "deletes the old one after a final snapshot",
        Fate::Deleted => "deletes the old one with its data",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn retained_removals_are_kept_not_destructive() {
        for p in [Policy::Retain, Policy::RetainExceptOnCreate] {
            let r = removal("AWS::DynamoDB::Table", p);
            assert_eq!(r.fate, Fate::Retained);
            assert!(!r.destructive && !r.data_loss);
            assert!(r.description.starts_with("kept in AWS, no longer managed"));
        }
    }

    #[test]
    fn snapshot_only_protects_types_that_support_snapshots() {
        let db = removal("AWS::RDS::DBInstance", Policy::Snapshot);
        assert_eq!(db.fate, Fate::Snapshot);
        assert!(db.destructive && !db.data_loss);
        let table = removal("AWS::DynamoDB::Table", Policy::Snapshot);
        assert_eq!(table.fate, Fate::Deleted);
        assert!(table.data_loss);
        assert!(
            table
                .description
                .contains("not a type CloudFormation snapshots")
        );
    }

    #[test]
    fn plain_deletes_lose_data_only_for_stateful_types() {
        let q = removal("AWS::SQS::Queue", Policy::Delete);
        assert!(q.destructive && q.data_loss);
        assert_eq!(q.description, "deleted with the messages in the queue");
        let sg = removal("AWS::EC2::SecurityGroup", Policy::Delete);
        assert!(!sg.destructive && !sg.data_loss);
    }

    #[test]
    fn rds_defaults_to_snapshot_without_a_policy() {
        let db = json!({"Type": "AWS::RDS::DBInstance", "Properties": {}});
        assert_eq!(deletion_policy(&db), Policy::Snapshot);
        let member =
            json!({"Type": "AWS::RDS::DBInstance", "Properties": {"DBClusterIdentifier": "c"}});
        assert_eq!(deletion_policy(&member), Policy::Delete);
        let cluster = json!({"Type": "AWS::RDS::DBCluster"});
        assert_eq!(deletion_policy(&cluster), Policy::Snapshot);
        let explicit = json!({"Type": "AWS::RDS::DBCluster", "DeletionPolicy": "Delete"});
        assert_eq!(deletion_policy(&explicit), Policy::Delete);
        let q = json!({"Type": "AWS::SQS::Queue"});
        assert_eq!(deletion_policy(&q), Policy::Delete);
    }
}
