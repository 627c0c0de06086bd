//! What a rule reports: the catalog of built-in rules (id, severity, explanation) and findings.

use std::fmt;

use serde::Serialize;

/// How bad a finding is. Errors stop `synth`; warnings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Stops synth.
    Error,
    /// Printed; synth goes on.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A built-in rule: stable id, severity, one-line title and the why and how-to-fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    /// `SNX-...`.
    pub id: &'static str,
    /// Whether a finding stops synth.
    pub severity: Severity,
    /// One line for listings.
    pub title: &'static str,
    /// Why the rule exists and how to fix a finding.
    pub explanation: &'static str,
}

/// Ingress from `0.0.0.0/0` or `::/0`.
pub const SG_OPEN_INGRESS: &str = "SNX-SG-001";
/// Ingress on SSH (22) or RDP (3389).
pub const SG_ADMIN_PORTS: &str = "SNX-SG-002";
/// A security group rule without a description.
pub const SG_DESCRIPTION: &str = "SNX-SG-003";
/// An RDS instance that is (or may be) publicly accessible.
pub const RDS_PUBLIC: &str = "SNX-RDS-001";
/// RDS storage not encrypted.
pub const RDS_ENCRYPTION: &str = "SNX-RDS-002";
/// RDS data not kept on deletion or replacement.
pub const RDS_RETENTION: &str = "SNX-RDS-003";
/// A plaintext secret in a resource property.
pub const SECRET_PROPERTY: &str = "SNX-SECRET-001";
/// A plaintext secret in a Lambda environment variable.
pub const SECRET_ENV: &str = "SNX-SECRET-002";
/// A secret resolved into a Lambda environment variable.
pub const SECRET_ENV_RESOLVED: &str = "SNX-SECRET-003";
/// An EC2 instance or launch template that does not require IMDSv2.
pub const EC2_IMDSV2: &str = "SNX-EC2-001";
/// Data-access actions allowed on every resource.
pub const IAM_DATA_WILDCARD: &str = "SNX-IAM-001";
/// A Lambda function outside the stack's VPC.
pub const LAMBDA_VPC: &str = "SNX-LAMBDA-001";
/// A log group without a retention period.
pub const LOGS_RETENTION: &str = "SNX-LOGS-001";

/// Every built-in rule, in id order.
pub static RULES: &[RuleInfo] = &[
    RuleInfo {
        id: EC2_IMDSV2,
        severity: Severity::Error,
        title: "EC2 instances and launch templates require IMDSv2",
        explanation: "With IMDSv1 allowed, a server-side request forgery in anything running on the instance can read the instance role's credentials from http://169.254.169.254. Set MetadataOptions.HttpTokens to \"required\" on the instance, or on the LaunchTemplateData of the launch template it uses (the launch template must be in the same stack so this can be checked).",
    },
    RuleInfo {
        id: IAM_DATA_WILDCARD,
        severity: Severity::Error,
        title: "No data-access actions on Resource \"*\"",
        explanation: "An Allow statement grants actions that read, write or delete data (s3:GetObject, secretsmanager:GetSecretValue, ssm:GetParameter, kms:Decrypt, dynamodb:Query, rds-db:connect, ...) on every resource of the account (\"*\", or an ARN whose resource part is a wildcard such as secret:* or parameter/*). Name the bucket, secret, parameter or key (e.g. the secret's Ref). Actions that only work on \"*\" (ec2:CreateNetworkInterface, ec2:Describe*, logs:CreateLogGroup, xray:PutTraceSegments, ...) are not data access and are not flagged.",
    },
    RuleInfo {
        id: LAMBDA_VPC,
        severity: Severity::Warning,
        title: "Lambda functions run in the stack's VPC",
        explanation: "The stack defines a VPC but this function has no VpcConfig with subnets, so it runs outside it: it cannot reach the private database, and its traffic does not pass the VPC's security groups. Give it VpcConfig with the private subnets and a security group.",
    },
    RuleInfo {
        id: LOGS_RETENTION,
        severity: Severity::Warning,
        title: "Log groups have a retention period",
        explanation: "Without RetentionInDays CloudWatch keeps the logs forever: cost grows without bound and logs that may hold personal data outlive any retention policy. Set RetentionInDays.",
    },
    RuleInfo {
        id: RDS_PUBLIC,
        severity: Severity::Error,
        title: "RDS instances are not publicly accessible",
        explanation: "PubliclyAccessible true gives the instance a public DNS name and address. When it is left out and a DB subnet group is set, RDS makes the instance public if the VPC has an internet gateway, which SnowEx's VPC has. Set PubliclyAccessible to false explicitly and reach the database through the VPC (snowcdk tunnel).",
    },
    RuleInfo {
        id: RDS_ENCRYPTION,
        severity: Severity::Error,
        title: "RDS storage is encrypted",
        explanation: "StorageEncrypted must be true on DB instances (outside an Aurora cluster) and DB clusters. Encryption can only be chosen at creation: turning it on later replaces the database, so it must be right from the start.",
    },
    RuleInfo {
        id: RDS_RETENTION,
        severity: Severity::Error,
        title: "RDS keeps a snapshot on deletion and replacement",
        explanation: "DeletionPolicy and UpdateReplacePolicy must both be Snapshot (or Retain). UpdateReplacePolicy defaults to Delete, so a change that replaces the database (a new subnet group, engine, storage encryption) would delete the old one without a final snapshot. Instances inside an Aurora cluster are exempt: the cluster holds the data.",
    },
    RuleInfo {
        id: SECRET_PROPERTY,
        severity: Severity::Error,
        title: "No plaintext secrets in properties",
        explanation: "A password, secret string, token or key is written into the template as a literal (or as a Ref to a parameter without NoEcho), so it is in git, in templates_out/ and visible to anyone who can read the stack. Use a {{resolve:secretsmanager:...}} dynamic reference (Value::resolve_secret), ManageMasterUserPassword, GenerateSecretString, or a Ref to a NoEcho parameter.",
    },
    RuleInfo {
        id: SECRET_ENV,
        severity: Severity::Error,
        title: "No plaintext secrets in Lambda environment variables",
        explanation: "An environment variable whose name says it holds a password, secret, token, API key or credential has a literal value: it is in the template, in git, and shown by lambda:GetFunctionConfiguration. Pass the secret's ARN (e.g. DB_SECRET_ARN) and read the secret at run time.",
    },
    RuleInfo {
        id: SECRET_ENV_RESOLVED,
        severity: Severity::Warning,
        title: "Secrets are read at run time, not resolved into environment variables",
        explanation: "A {{resolve:secretsmanager:...}} / {{resolve:ssm-secure:...}} reference (or a NoEcho parameter) in a Lambda environment variable is resolved at deploy time and stored in plaintext in the function's configuration, visible to lambda:GetFunctionConfiguration, and it goes stale when the secret rotates. Pass the secret's ARN and read it at run time.",
    },
    RuleInfo {
        id: SG_OPEN_INGRESS,
        severity: Severity::Error,
        title: "No security group ingress from 0.0.0.0/0 or ::/0",
        explanation: "The rule lets any address on the internet connect. SnowEx reaches its database and admin host through security-group references and Session Manager; allow a source security group, a prefix list or a narrow CIDR instead. A deliberately public endpoint needs a suppression with the reason.",
    },
    RuleInfo {
        id: SG_ADMIN_PORTS,
        severity: Severity::Error,
        title: "No SSH (22) or RDP (3389) ingress",
        explanation: "An ingress rule opens a remote-login port (tcp/udp ranges covering 22 or 3389, or all traffic from an address range). Administration goes through Session Manager, which needs no inbound port; `snowcdk tunnel` forwards the database port through it.",
    },
    RuleInfo {
        id: SG_DESCRIPTION,
        severity: Severity::Warning,
        title: "Every security group rule has a description",
        explanation: "Rules without a Description (inline SecurityGroupIngress/SecurityGroupEgress entries or standalone AWS::EC2::SecurityGroupIngress/Egress resources) cannot be reviewed: nobody can tell later why a port is open. Say who connects and why, e.g. \"Lambda API to PostgreSQL\".",
    },
];

/// The catalog entry of a rule id.
pub fn rule(id: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|r| r.id == id)
}

/// One problem a rule found in one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule id.
    pub rule: &'static str,
    /// The rule's severity.
    pub severity: Severity,
    /// The resource's logical id.
    pub logical_id: String,
    /// The construct path when known (synth), else the logical id (a template read from disk).
    pub path: String,
    /// Where in the resource, e.g. `SecurityGroupIngress[0]`; empty for the whole resource.
    pub property: String,
    /// What was found.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: [{}] ", self.path, self.rule)?;
        if !self.property.is_empty() {
            write!(f, "{}: ", self.property)?;
        }
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_ids_are_unique_sorted_and_explained() {
        let ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(ids, sorted);
        assert!(
            RULES
                .iter()
                .all(|r| r.id.starts_with("SNX-") && r.explanation.len() > 80)
        );
        assert_eq!(
            rule("SNX-SG-001").map(|r| r.severity),
            Some(Severity::Error)
        );
        assert!(rule("SNX-NOPE").is_none());
    }
}
