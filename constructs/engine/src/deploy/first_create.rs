//! The first create of a stack whose template protects resources from deletion.
//!
//! A create that fails late (the Lambda image missing after a 30-minute database create) rolls
//! back; if the database already has `DeletionProtection` on, the rollback cannot delete it and
//! the stack ends in `ROLLBACK_FAILED`, holding an orphaned, protected database that
//! `DeleteStack` cannot remove either. So a first create goes in two steps: the stack is created
//! with every literal deletion protection off (a failure then rolls back completely, and nothing
//! holds data yet), and the real template, protection on, follows as an update right after.
//! Until that update completes the stack is unprotected; the run says so, and says what to do
//! when the second step does not complete. (The alternative, `DisableRollback` on the create,
//! leaves half a stack to clean up by hand.)

use serde_json::Value as Json;

use super::outcome::{StackResult, Status};
use super::{Console, DeployError, DeployRequest, deploy_once};
use crate::risk::{Protected, Protection, deletion_protected};

/// The body to create with, and the protections it turned off; `None` when the body (JSON, as
/// synth writes it) turns none on. A protection set through a parameter or condition is left as
/// it is: its value is not known here.
pub fn unprotected_body(body: &str) -> Option<(String, Vec<Protected>)> {
    let mut doc: Json = serde_json::from_str(body).ok()?;
    let on: Vec<Protected> = deletion_protected(&doc)
        .into_iter()
        .filter(|p| p.protection == Protection::On)
        .collect();
    if on.is_empty() {
        return None;
    }
    for p in &on {
        let off = if p.type_name == "AWS::Cognito::UserPool" {
            Json::String("INACTIVE".into())
        } else {
            Json::Bool(false)
        };
        let props = doc
            .get_mut("Resources")
            .and_then(|r| r.get_mut(&p.logical_id))
            .and_then(|r| r.get_mut("Properties"))
            .and_then(Json::as_object_mut)?;
        props.insert(p.property.to_owned(), off);
    }
    Some((serde_json::to_string(&doc).ok()?, on))
}

/// Creates the stack unprotected, then deploys `req` (protection on) as an update.
pub(super) async fn deploy(
    clients: &super::Clients,
    req: &DeployRequest,
    console: &mut Console,
    body: String,
    protected: &[Protected],
) -> Result<StackResult, DeployError> {
    let name = req.stack_name.as_str();
    let ids: Vec<String> = protected
        .iter()
        .map(|p| format!("{} ({})", p.logical_id, p.property))
        .collect();
    let ids = ids.join(", ");
    console.line(format!(
        "{name}: first create of a protected stack: creating it with deletion protection off on {ids}, so a failure rolls back completely; the protection is turned on by an update right after"
    ));
    let mut first = req.clone();
    first.template_body = body;
    first.facts = None;
    let created = Box::pin(deploy_once(clients, &first, console)).await?;
    if created.status != Status::Deployed {
        return Ok(created);
    }
    console.line(format!("{name}: turning deletion protection on: {ids}"));
    let mut protect = Box::pin(deploy_once(clients, req, console)).await?;
    if !matches!(protect.status, Status::Deployed | Status::NoChanges) {
        let msg = format!(
            "{name} was created, but deletion protection is NOT on yet ({ids}): run the same deploy again to turn it on{}",
            protect
                .message
                .as_deref()
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        );
        console.danger(&msg);
        protect.message = Some(msg);
    }
    let mut changes = created.changes;
    changes.append(&mut protect.changes);
    protect.changes = changes;
    Ok(protect)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_protections_are_turned_off_for_the_create_and_others_left() {
        let body = serde_json::json!({"Resources": {
            "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"DeletionProtection": true}},
            "Pool": {"Type": "AWS::Cognito::UserPool", "Properties": {"DeletionProtection": "ACTIVE"}},
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"DeletionProtectionEnabled": {"Ref": "P"}}},
            "Bucket": {"Type": "AWS::S3::Bucket"}
        }})
        .to_string();
        let (out, off) = unprotected_body(&body).expect("protected");
        let doc: Json = serde_json::from_str(&out).expect("JSON");
        assert_eq!(
            doc["Resources"]["Db"]["Properties"]["DeletionProtection"],
            false
        );
        assert_eq!(
            doc["Resources"]["Pool"]["Properties"]["DeletionProtection"],
            "INACTIVE"
        );
        assert_eq!(
            doc["Resources"]["Logs"]["Properties"]["DeletionProtectionEnabled"],
            serde_json::json!({"Ref": "P"})
        );
        let ids: Vec<&str> = off.iter().map(|p| p.logical_id.as_str()).collect();
        assert_eq!(ids, ["Db", "Pool"]);
    }

    #[test]
    fn an_unprotected_template_needs_no_second_step() {
        let body = r#"{"Resources":{"Db":{"Type":"AWS::RDS::DBInstance","Properties":{"DeletionProtection":false}}}}"#;
        assert!(unprotected_body(body).is_none());
        assert!(unprotected_body("Resources: {}").is_none());
    }
}
