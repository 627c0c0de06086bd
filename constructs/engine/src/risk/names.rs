//! The property that fixes a resource's physical name, per type.
//!
//! When it is set, a replacement would create a second resource with the same name while the
//! old one still exists, so CloudFormation refuses: the update fails and rolls back ("cannot
//! update a stack when a custom-named resource requires replacing"). The diff says so next to a
//! replacement. Naming the wrong property is worse than naming none: `DBName` (the database
//! inside an RDS instance) fixes nothing, and a note claiming the update fails would hide a
//! replacement that really happens and loses the data.
//!
//! Where the name comes from: for the types vendored in `constructs/schemas` the property is
//! the schema's name property (its `primaryIdentifier` when that is a name, else the
//! create-only `*Name` property that names the resource itself); a unit test checks every
//! vendored type against the generated specs. Types that are not vendored are listed from the
//! CloudFormation resource reference ("If you specify a name, you cannot perform updates that
//! require replacement of this resource"); a type missing here gets no note, which is the safe
//! side (the change is still shown as a replacement). Types whose names need not be unique
//! (Cognito user pools, REST APIs) are deliberately absent.

/// `(type, property)` pairs, sorted by type.
pub const NAME_PROPERTIES: &[(&str, &str)] = &[
    ("AWS::Backup::BackupVault", "BackupVaultName"),
    ("AWS::CloudWatch::Alarm", "AlarmName"),
    ("AWS::DocDB::DBCluster", "DBClusterIdentifier"),
    ("AWS::DocDB::DBInstance", "DBInstanceIdentifier"),
    ("AWS::DynamoDB::GlobalTable", "TableName"),
    ("AWS::DynamoDB::Table", "TableName"),
    ("AWS::EC2::KeyPair", "KeyName"),
    ("AWS::EC2::LaunchTemplate", "LaunchTemplateName"),
    ("AWS::EC2::SecurityGroup", "GroupName"),
    ("AWS::ECR::Repository", "RepositoryName"),
    ("AWS::ECS::Cluster", "ClusterName"),
    ("AWS::ECS::Service", "ServiceName"),
    ("AWS::ElastiCache::CacheCluster", "ClusterName"),
    ("AWS::ElastiCache::ReplicationGroup", "ReplicationGroupId"),
    ("AWS::ElasticLoadBalancingV2::LoadBalancer", "Name"),
    ("AWS::ElasticLoadBalancingV2::TargetGroup", "Name"),
    ("AWS::Events::EventBus", "Name"),
    ("AWS::Events::Rule", "Name"),
    ("AWS::IAM::Group", "GroupName"),
    ("AWS::IAM::InstanceProfile", "InstanceProfileName"),
    ("AWS::IAM::ManagedPolicy", "ManagedPolicyName"),
    ("AWS::IAM::Role", "RoleName"),
    ("AWS::IAM::User", "UserName"),
    ("AWS::KMS::Alias", "AliasName"),
    ("AWS::Kinesis::Stream", "Name"),
    ("AWS::Lambda::Function", "FunctionName"),
    ("AWS::Logs::LogGroup", "LogGroupName"),
    ("AWS::MSK::Cluster", "ClusterName"),
    ("AWS::Neptune::DBCluster", "DBClusterIdentifier"),
    ("AWS::Neptune::DBInstance", "DBInstanceIdentifier"),
    ("AWS::OpenSearchService::Domain", "DomainName"),
    ("AWS::RDS::DBCluster", "DBClusterIdentifier"),
    ("AWS::RDS::DBInstance", "DBInstanceIdentifier"),
    ("AWS::RDS::DBParameterGroup", "DBParameterGroupName"),
    ("AWS::RDS::DBSubnetGroup", "DBSubnetGroupName"),
    ("AWS::Redshift::Cluster", "ClusterIdentifier"),
    ("AWS::S3::Bucket", "BucketName"),
    ("AWS::SNS::Topic", "TopicName"),
    ("AWS::SQS::Queue", "QueueName"),
    ("AWS::SSM::Parameter", "Name"),
    ("AWS::SecretsManager::Secret", "Name"),
    ("AWS::StepFunctions::StateMachine", "StateMachineName"),
    ("AWS::Timestream::Database", "DatabaseName"),
    ("AWS::Timestream::Table", "TableName"),
];

/// The property that fixes the physical name of a resource of `type_name`, if any.
pub fn name_property(type_name: &str) -> Option<&'static str> {
    NAME_PROPERTIES
        .binary_search_by(|(t, _)| (*t).cmp(type_name))
        .ok()
        .map(|i| NAME_PROPERTIES[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_so_every_entry_is_found() {
        for w in NAME_PROPERTIES.windows(2) {
            assert!(w[0].0 < w[1].0, "{:?}", w);
        }
        for (t, p) in NAME_PROPERTIES {
            assert_eq!(name_property(t), Some(*p));
        }
    }

    #[test]
    fn the_database_name_is_not_the_instance_name() {
        assert_eq!(
            name_property("AWS::RDS::DBInstance"),
            Some("DBInstanceIdentifier")
        );
        assert!(NAME_PROPERTIES.iter().all(|(_, p)| *p != "DBName"));
    }

    /// Every vendored type's name property is a top-level create-only property of its schema
    /// (so changing it replaces the resource, and keeping it blocks the replacement), and every
    /// vendored type with a create-only property named after the type itself is listed.
    #[test]
    fn vendored_types_agree_with_their_schemas() {
        for spec in snowcdk_constructs::l1::SPECS {
            let listed = name_property(spec.type_name);
            if let Some(p) = listed {
                assert!(
                    spec.create_only.contains(&p),
                    "{}: {p} is not create-only in the schema",
                    spec.type_name
                );
            }
            let short = spec.type_name.rsplit("::").next().unwrap_or_default();
            let own_name = spec.create_only.iter().find(|p| {
                **p == "Name"
                    || **p == format!("{short}Name")
                    || **p == format!("{short}Identifier")
                    || (short == "SecurityGroup" && **p == "GroupName")
                    || (short == "ManagedPolicy" && **p == "ManagedPolicyName")
            });
            if let Some(p) = own_name {
                assert_eq!(listed, Some(*p), "{} is missing", spec.type_name);
            }
        }
    }
}
