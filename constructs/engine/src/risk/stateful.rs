//! The one list of resource types that hold data, each with the reason, shared by `diff`,
//! `deploy` (the change table) and `destroy`. Removing or replacing one of these loses what it
//! holds unless a deletion policy keeps it.
//!
//! A type belongs here when deleting the resource deletes something that cannot be recreated
//! from the template: rows, objects, messages, log events, key material, images, users. Types
//! that only configure something (security groups, roles, subnets) do not, however disruptive
//! their replacement is.

/// A resource type that holds data, and what is lost with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatefulType {
    /// `AWS::Service::Type`.
    pub type_name: &'static str,
    /// What is lost when the resource is deleted, as a short phrase ("its rows", ...).
    pub reason: &'static str,
}

const fn t(type_name: &'static str, reason: &'static str) -> StatefulType {
    StatefulType { type_name, reason }
}

/// Every type that holds data, sorted by type name (a unit test keeps it sorted and unique).
pub const STATEFUL_TYPES: &[StatefulType] = &[
    t(
        "AWS::Backup::BackupVault",
        "the recovery points (backups) in the vault",
    ),
    t(
        "AWS::Cognito::UserPool",
        "the users, their passwords and attributes",
    ),
    t("AWS::DocDB::DBCluster", "the DocumentDB databases"),
    t("AWS::DocDBElastic::Cluster", "the DocumentDB databases"),
    t("AWS::DynamoDB::GlobalTable", "the items in every replica"),
    t("AWS::DynamoDB::Table", "the items in the table"),
    t("AWS::EC2::Volume", "the data on the EBS volume"),
    t(
        "AWS::ECR::Repository",
        "the container images (deleting a repository that still holds images fails unless EmptyOnDelete is set)",
    ),
    t("AWS::EFS::FileSystem", "the files on the file system"),
    t("AWS::ElastiCache::CacheCluster", "the cached data"),
    t("AWS::ElastiCache::ReplicationGroup", "the cached data"),
    t("AWS::ElastiCache::ServerlessCache", "the cached data"),
    t("AWS::Elasticsearch::Domain", "the indexed documents"),
    t("AWS::FSx::FileSystem", "the files on the file system"),
    t(
        "AWS::KMS::Key",
        "the key: deleting it schedules key deletion, after which everything encrypted with it is unreadable",
    ),
    t("AWS::Kinesis::Stream", "the records not yet consumed"),
    t("AWS::Logs::LogGroup", "the log events"),
    t("AWS::MSK::Cluster", "the Kafka topics and their messages"),
    t(
        "AWS::MSK::ServerlessCluster",
        "the Kafka topics and their messages",
    ),
    t("AWS::Neptune::DBCluster", "the graph databases"),
    t(
        "AWS::OpenSearchServerless::Collection",
        "the indexed documents",
    ),
    t("AWS::OpenSearchService::Domain", "the indexed documents"),
    t("AWS::QLDB::Ledger", "the ledger's journal"),
    t("AWS::RDS::DBCluster", "the databases"),
    t("AWS::RDS::DBInstance", "the databases"),
    t("AWS::Redshift::Cluster", "the warehouse's tables"),
    t(
        "AWS::RedshiftServerless::Namespace",
        "the warehouse's tables",
    ),
    t(
        "AWS::S3::Bucket",
        "the objects (deleting a bucket that still holds objects fails)",
    ),
    t("AWS::SQS::Queue", "the messages in the queue"),
    t("AWS::SecretsManager::Secret", "the secret value"),
    t("AWS::Timestream::Database", "the tables and their records"),
    t("AWS::Timestream::Table", "the time series records"),
];

/// Whether a type holds data, with the reason.
pub fn stateful(type_name: &str) -> Option<&'static StatefulType> {
    STATEFUL_TYPES
        .binary_search_by(|s| s.type_name.cmp(type_name))
        .ok()
        .map(|i| &STATEFUL_TYPES[i])
}

/// Whether a type holds data.
pub fn is_stateful(type_name: &str) -> bool {
    stateful(type_name).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_and_unique_so_lookups_find_every_entry() {
        for w in STATEFUL_TYPES.windows(2) {
            assert!(w[0].type_name < w[1].type_name, "{:?}", w);
        }
        for s in STATEFUL_TYPES {
            assert_eq!(stateful(s.type_name), Some(s));
            assert!(!s.reason.is_empty());
        }
    }

    #[test]
    fn queues_streams_caches_and_search_domains_hold_data() {
        for ty in [
            "AWS::SQS::Queue",
            "AWS::EFS::FileSystem",
            "AWS::ElastiCache::ReplicationGroup",
            "AWS::DocDB::DBCluster",
            "AWS::Neptune::DBCluster",
            "AWS::Kinesis::Stream",
            "AWS::Cognito::UserPool",
            "AWS::OpenSearchService::Domain",
            "AWS::Timestream::Table",
            "AWS::DynamoDB::GlobalTable",
            "AWS::Backup::BackupVault",
            "AWS::KMS::Key",
            "AWS::FSx::FileSystem",
            "AWS::Redshift::Cluster",
            "AWS::MSK::Cluster",
            "AWS::ECR::Repository",
        ] {
            assert!(is_stateful(ty), "{ty}");
        }
        assert!(!is_stateful("AWS::EC2::SecurityGroup"));
        assert!(!is_stateful("AWS::IAM::Role"));
    }
}
