//! Compute: `SNX-EC2-001` (IMDSv2 required), `SNX-LAMBDA-001` (functions in the stack's VPC),
//! `SNX-LOGS-001` (log retention).

use serde_json::Value as Json;

use super::finding::{EC2_IMDSV2, LAMBDA_VPC, LOGS_RETENTION};
use super::json::{Ctx, items, lit_str, ref_target};

/// `Some(true)` when `MetadataOptions.HttpTokens` is `required`, `Some(false)` when set to
/// anything else, `None` when not set (or not a literal).
fn tokens_required(metadata_options: Option<&Json>) -> Option<bool> {
    let tokens = metadata_options?.get("HttpTokens")?;
    lit_str(tokens).map(|t| t == "required")
}

fn check_imds(ctx: &mut Ctx<'_>) {
    let mut found = Vec::new();
    for lt in ctx.of_type("AWS::EC2::LaunchTemplate") {
        let opts = lt
            .props
            .get("LaunchTemplateData")
            .and_then(|d| d.get("MetadataOptions"));
        if tokens_required(opts) != Some(true) {
            found.push((
                lt.id.to_owned(),
                "LaunchTemplateData.MetadataOptions.HttpTokens".to_owned(),
                "the launch template allows IMDSv1; set HttpTokens to \"required\"".to_owned(),
            ));
        }
    }
    for inst in ctx.of_type("AWS::EC2::Instance") {
        match tokens_required(inst.props.get("MetadataOptions")) {
            Some(true) => continue,
            Some(false) => {
                found.push((
                    inst.id.to_owned(),
                    "MetadataOptions.HttpTokens".to_owned(),
                    "the instance allows IMDSv1; set HttpTokens to \"required\"".to_owned(),
                ));
                continue;
            }
            None => {}
        }
        let lt = inst.props.get("LaunchTemplate");
        let target = lt
            .and_then(|l| {
                l.get("LaunchTemplateId")
                    .or_else(|| l.get("LaunchTemplateName"))
            })
            .and_then(ref_target)
            .and_then(|(id, _)| ctx.resource(id))
            .filter(|r| r.type_name == "AWS::EC2::LaunchTemplate");
        match (lt, target) {
            // The launch template's own finding covers it when it does not require tokens.
            (_, Some(_)) => {}
            (Some(_), None) => found.push((
                inst.id.to_owned(),
                "LaunchTemplate".to_owned(),
                "the instance uses a launch template from outside the stack, so IMDSv2 cannot be checked; set MetadataOptions.HttpTokens to \"required\" on the instance".to_owned(),
            )),
            (None, None) => found.push((
                inst.id.to_owned(),
                "MetadataOptions".to_owned(),
                "the instance allows IMDSv1: neither MetadataOptions nor a launch template requires tokens".to_owned(),
            )),
        }
    }
    for (id, property, message) in found {
        ctx.report(EC2_IMDSV2, &id, property, message);
    }
}

fn check_lambda_vpc(ctx: &mut Ctx<'_>) {
    if ctx.of_type("AWS::EC2::VPC").is_empty() {
        return;
    }
    for f in ctx.of_type("AWS::Lambda::Function") {
        let subnets = f.props.get("VpcConfig").and_then(|v| v.get("SubnetIds"));
        let in_vpc = match subnets {
            None => false,
            Some(Json::Array(a)) => !a.is_empty(),
            // An expression (a parameter list, Fn::Split): subnets decided at deploy time.
            Some(other) => !items(other).is_empty(),
        };
        if !in_vpc {
            ctx.report(
                LAMBDA_VPC,
                f.id,
                "VpcConfig",
                "the stack has a VPC but the function runs outside it",
            );
        }
    }
}

fn check_log_retention(ctx: &mut Ctx<'_>) {
    for lg in ctx.of_type("AWS::Logs::LogGroup") {
        if lg.props.get("RetentionInDays").is_none() {
            ctx.report(
                LOGS_RETENTION,
                lg.id,
                "RetentionInDays",
                "the log group keeps its logs forever",
            );
        }
    }
}

pub(super) fn check(ctx: &mut Ctx<'_>) {
    check_imds(ctx);
    check_lambda_vpc(ctx);
    check_log_retention(ctx);
}
