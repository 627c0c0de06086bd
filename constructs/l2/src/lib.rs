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
pub use postgres_rds::{PostgresRds, PostgresRdsProps};
pub use ssm_bastion::{SsmBastion, SsmBastionProps};
pub use staging_bucket::{StagingBucket, StagingBucketProps, bootstrap_stack};
pub use vpc::{SubnetKind, Vpc, VpcProps, VpcSubnet};
pub use vpc_lambda::{Architecture, FunctionUrlAuth, LambdaCode, VpcLambda, VpcLambdaProps};

use snowcdk_constructs_core::template::{Handle, OnRepeat, Resource, Value};
use snowcdk_constructs_core::tree::Scope;

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
