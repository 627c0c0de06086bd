//! Hand-written building blocks (L2) on the generated L1 types.
//!
//! Each construct takes a scope, an id and typed props, adds L1 resources under its own path, and
//! returns typed handles other constructs wire to (a subnet handle cannot go where a security
//! group is expected).

#![deny(missing_docs)]

pub mod connections;
pub mod nat_gateway;
pub mod postgres_rds;
pub mod ssm_bastion;
pub mod staging_bucket;
pub mod vpc;
pub mod vpc_lambda;

pub use connections::{
    CidrRule, Connectable, Connections, Egress, Port, Protocol, SecurityGroup, SecurityGroupProps,
};
pub use nat_gateway::{NatGateway, NatGatewayProps};
pub use postgres_rds::{AdoptedNames, PostgresRds, PostgresRdsProps};
pub use ssm_bastion::{AdoptedHost, SsmBastion, SsmBastionProps};
pub use staging_bucket::{StagingBucket, StagingBucketProps, bootstrap_stack};
pub use vpc::{SubnetKind, Vpc, VpcProps, VpcSubnet};
pub use vpc_lambda::{
    AdoptedFunction, Architecture, FunctionUrlAuth, LambdaCode, VpcLambda, VpcLambdaProps,
};

use std::collections::BTreeMap;
use std::fmt;

use snowcdk_constructs_core::template::{Handle, OnRepeat, Resource, Value};
use snowcdk_constructs_core::tree::Scope;

/// A props value a construct refuses: the props field, and why. The message does not repeat the
/// field's name, so an app that fills the props from its own settings can report the error under
/// its own key (`database.allocated_storage_gb`) while the construct reports it under the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropError {
    /// The props field at fault, e.g. `allocated_storage_gb`.
    pub field: &'static str,
    /// What is wrong with its value and what would be right.
    pub message: String,
}

impl PropError {
    /// An error on `field`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for PropError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for PropError {}

/// Why each checkov check a construct skips does not apply, by check id: a construct records its
/// own generic reason unless the app that uses it supplies one that names its own situation (and
/// settings) here.
pub type CheckovReasons = BTreeMap<String, String>;

/// [`checkov_skip`] with the app's reason from `reasons` when it has one, else `default`.
pub(crate) fn checkov_skip_with<R: Resource>(
    scope: &mut Scope<'_>,
    resource: &Handle<R>,
    check_id: &str,
    default: &str,
    reasons: &CheckovReasons,
) {
    let reason = reasons.get(check_id).map_or(default, String::as_str);
    checkov_skip(scope, resource, check_id, reason);
}

/// Records, in the resource's `Metadata`, that checkov check `check_id` does not apply to it and
/// why: `{"checkov": {"skip": [{"id": .., "comment": ..}]}}`. Other metadata keys are kept, and
/// repeated calls add to the same list (a check already skipped is not added twice).
pub fn checkov_skip<R: Resource>(
    scope: &mut Scope<'_>,
    resource: &Handle<R>,
    check_id: &str,
    reason: &str,
) {
    let item = Value::map([
        ("id", Value::str(check_id)),
        ("comment", Value::str(reason)),
    ]);
    scope
        .entry(resource)
        .add_metadata_item("checkov", "skip", check_id, item, OnRepeat::KeepFirst);
}

#[cfg(test)]
mod tests {
    use super::*;
    use snowcdk_constructs_core::tree::Stack;
    use snowcdk_constructs_l1::logs;
    use snowcdk_constructs_rules::synth_stack;

    #[test]
    fn an_apps_reason_replaces_the_default() {
        let mut stack = Stack::new("T");
        let mut root = stack.root();
        let a = root.add("A", logs::LogGroup::new().retention_in_days(7));
        let b = root.add("B", logs::LogGroup::new().retention_in_days(7));
        let reasons = CheckovReasons::from([("CKV_AWS_158".to_owned(), "the app's".to_owned())]);
        checkov_skip_with(&mut root, &a, "CKV_AWS_158", "generic", &reasons);
        checkov_skip_with(
            &mut root,
            &b,
            "CKV_AWS_158",
            "generic",
            &CheckovReasons::new(),
        );
        let t = synth_stack(&stack).expect("synth").template.to_json();
        let comment =
            |id: &str| t["Resources"][id]["Metadata"]["checkov"]["skip"][0]["comment"].clone();
        assert_eq!(comment("A"), "the app's");
        assert_eq!(comment("B"), "generic");
    }

    #[test]
    fn checkov_skips_merge_with_other_metadata() {
        let mut stack = Stack::new("T");
        let mut root = stack.root();
        let lg = root.add("Logs", logs::LogGroup::new().retention_in_days(7));
        root.entry(&lg)
            .metadata
            .push(("snowcdk".into(), Value::str("kept")));
        checkov_skip(&mut root, &lg, "CKV_AWS_158", "no secrets in logs");
        checkov_skip(&mut root, &lg, "CKV_AWS_338", "short retention");
        checkov_skip(&mut root, &lg, "CKV_AWS_338", "twice");
        let t = synth_stack(&stack).expect("synth").template.to_json();
        assert_eq!(
            t["Resources"]["Logs"]["Metadata"],
            serde_json::json!({"snowcdk": "kept", "checkov": {"skip": [
                {"id": "CKV_AWS_158", "comment": "no secrets in logs"},
                {"id": "CKV_AWS_338", "comment": "short retention"}
            ]}})
        );
    }
}

#[cfg(test)]
mod props_from_config {
    //! L2 props read from a config: the construct's defaults fill what is missing, unknown keys
    //! are errors, and the construct's own `validate` names the field at fault.
    use super::{PostgresRdsProps, SsmBastionProps, VpcProps};
    use serde_json::json;

    #[test]
    fn props_deserialize_with_the_constructs_defaults_and_validate_themselves() {
        let b: SsmBastionProps =
            serde_json::from_value(json!({"instance_type": "t3.micro"})).expect("bastion");
        assert_eq!(b.instance_type, "t3.micro");
        assert_eq!(b.root_volume_gb, SsmBastionProps::default().root_volume_gb);
        assert!(b.validate().is_ok());
        let small: SsmBastionProps =
            serde_json::from_value(json!({"root_volume_gb": 2})).expect("bastion");
        assert_eq!(
            small.validate().expect_err("too small").field,
            "root_volume_gb"
        );

        let v: VpcProps = serde_json::from_value(json!({"az_count": 3})).expect("vpc");
        assert_eq!(v.cidr, VpcProps::default().cidr);
        assert_eq!(v.az_count, 3);

        let db: PostgresRdsProps =
            serde_json::from_value(json!({"instance_class": "db.r6g.large", "multi_az": true}))
                .expect("db");
        assert_eq!(
            db.engine_version,
            PostgresRdsProps::default().engine_version
        );
        assert!(db.multi_az);
        let bad: PostgresRdsProps =
            serde_json::from_value(json!({"backup_retention_days": 0})).expect("db");
        assert_eq!(
            bad.validate().expect_err("no backups").field,
            "backup_retention_days"
        );

        let unknown = serde_json::from_value::<VpcProps>(json!({"cidr_block": "10.1.0.0/16"}));
        assert!(
            unknown
                .expect_err("unknown key")
                .to_string()
                .contains("cidr_block")
        );
    }
}
