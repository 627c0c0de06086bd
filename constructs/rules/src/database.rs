//! RDS: `SNX-RDS-001` (not public), `SNX-RDS-002` (encrypted), `SNX-RDS-003` (snapshot on
//! deletion and replacement).

use super::finding::{RDS_ENCRYPTION, RDS_PUBLIC, RDS_RETENTION};
use super::json::{Ctx, Res, lit_bool};

fn keeps_data(policy: Option<&str>) -> bool {
    matches!(policy, Some("Snapshot" | "Retain" | "RetainExceptOnCreate"))
}

fn check_retention(ctx: &mut Ctx<'_>, r: &Res<'_>) {
    let mut missing = Vec::new();
    for attr in ["DeletionPolicy", "UpdateReplacePolicy"] {
        if !keeps_data(r.attr_str(attr)) {
            missing.push(format!(
                "{attr} is {}",
                r.attr_str(attr).unwrap_or("not set (Delete)")
            ));
        }
    }
    if !missing.is_empty() {
        ctx.report(
            RDS_RETENTION,
            r.id,
            "",
            format!(
                "{}; set both to Snapshot (Scope::set_policies) so deleting or replacing the database keeps a final snapshot",
                missing.join(", ")
            ),
        );
    }
}

fn check_encrypted(ctx: &mut Ctx<'_>, r: &Res<'_>) {
    let v = r.prop("StorageEncrypted");
    // An expression (a parameter, a condition) is decided at deploy time; only literals are judged.
    if v.is_null() || lit_bool(v) == Some(false) {
        ctx.report(
            RDS_ENCRYPTION,
            r.id,
            "StorageEncrypted",
            if v.is_null() {
                "storage encryption is not set (it defaults to false)"
            } else {
                "storage encryption is false"
            },
        );
    }
}

pub(super) fn check(ctx: &mut Ctx<'_>) {
    for r in ctx.of_type("AWS::RDS::DBInstance") {
        let public = r.prop("PubliclyAccessible");
        match lit_bool(public) {
            Some(true) => ctx.report(
                RDS_PUBLIC,
                r.id,
                "PubliclyAccessible",
                "the instance is publicly accessible",
            ),
            None if public.is_null() => ctx.report(
                RDS_PUBLIC,
                r.id,
                "PubliclyAccessible",
                "PubliclyAccessible is not set; RDS makes the instance public when its VPC has an internet gateway; set it to false",
            ),
            _ => {}
        }
        // Members of an Aurora cluster: encryption and snapshots belong to the cluster.
        if r.props.get("DBClusterIdentifier").is_none() {
            check_encrypted(ctx, &r);
            check_retention(ctx, &r);
        }
    }
    for r in ctx.of_type("AWS::RDS::DBCluster") {
        check_encrypted(ctx, &r);
        check_retention(ctx, &r);
    }
}
