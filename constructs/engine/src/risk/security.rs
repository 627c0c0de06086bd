//! Resource types whose addition or change can widen access: IAM, network exposure and
//! resource policies. `deploy` asks for approval on them (like `cdk deploy --require-approval
//! broadening`, at resource granularity); the list lives here so every command that judges a
//! change reads the same one.

/// Security-sensitive resource types.
pub const SECURITY_TYPES: &[&str] = &[
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::InstanceProfile",
    "AWS::IAM::User",
    "AWS::IAM::Group",
    "AWS::IAM::AccessKey",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::UserPolicy",
    "AWS::IAM::GroupPolicy",
    "AWS::IAM::UserToGroupAddition",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupIngress",
    "AWS::EC2::SecurityGroupEgress",
    "AWS::EC2::NetworkAclEntry",
    "AWS::Lambda::Permission",
    "AWS::Lambda::Url",
    "AWS::S3::BucketPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
];

/// Whether adding or changing a resource of this type can widen access.
pub fn is_security_sensitive(type_name: &str) -> bool {
    SECURITY_TYPES.contains(&type_name)
}
