//! The guards that hold outside snowcdk, on the wire against moto: every deployed stack carries
//! the strict stack policy naming its stateful resources, an approved replacement leaves it
//! strict again, and destroy refuses a stack whose database has deletion protection before
//! anything is deleted. (moto stores stack policies without enforcing them, so what is checked
//! is the policy CloudFormation would enforce; the temporary policy's failure and interrupt
//! paths are in `deploy_mock.rs`.)

mod support;

use std::sync::{Arc, Mutex};

use snowcdk::assembly::TemplateFacts;
use snowcdk::deploy::destroy::{DestroyRequest, destroy_stack};
use snowcdk::deploy::policy::strict_policy;
use snowcdk::deploy::{Console, DeployRequest, Status, Timing, deploy_stack};
use support::{moto, moto_clients, unique};

const REGION: &str = "us-east-1";

fn text(buf: &Arc<Mutex<Vec<u8>>>) -> String {
    String::from_utf8_lossy(&buf.lock().expect("buffer")).into_owned()
}

fn ci_console() -> (Console, Arc<Mutex<Vec<u8>>>) {
    let (c, buf, _) = Console::capture(None);
    (c, buf)
}

/// A queue and a log group (stateful) and a parameter (not); `timeout` changes the queue.
fn stateful_template(name: &str, timeout: u32) -> String {
    serde_json::json!({
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {
                "QueueName": format!("{name}-q"), "VisibilityTimeout": timeout}},
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {
                "LogGroupName": format!("/snowcdk-test/{name}")}},
            "Param": {"Type": "AWS::SSM::Parameter", "Properties": {
                "Name": format!("/snowcdk-test/{name}/p"), "Type": "String", "Value": "v"}}
        }
    })
    .to_string()
}

fn request(stack: &str, body: String) -> DeployRequest {
    let mut r = DeployRequest::new(stack, body);
    r.approval.yes = true;
    r.timing = Timing::default();
    r
}

async fn policy_of(clients: &snowcdk::deploy::Clients, stack: &str) -> Option<String> {
    clients
        .cfn
        .get_stack_policy()
        .stack_name(stack)
        .send()
        .await
        .expect("get-stack-policy")
        .stack_policy_body()
        .map(str::to_owned)
}

#[tokio::test]
async fn a_created_stack_gets_the_strict_policy_naming_its_stateful_resources() {
    let clients = moto_clients(moto(), REGION).await;
    let stack = unique("policy-create");
    let body = stateful_template(&stack, 30);
    let (mut console, buf) = ci_console();
    let r = deploy_stack(&clients, &request(&stack, body.clone()), &mut console)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Deployed, "{out}");
    let policy = policy_of(&clients, &stack).await.expect("a stack policy");
    let facts = TemplateFacts::parse(&body).expect("facts");
    assert_eq!(policy, strict_policy(&facts));
    let doc: serde_json::Value = serde_json::from_str(&policy).expect("JSON policy");
    let deny = &doc["Statement"][1];
    assert_eq!(deny["Effect"], "Deny");
    assert_eq!(
        deny["Action"],
        serde_json::json!(["Update:Replace", "Update:Delete"])
    );
    assert_eq!(
        deny["Resource"],
        serde_json::json!(["LogicalResourceId/Logs", "LogicalResourceId/Queue"])
    );
}

#[tokio::test]
async fn an_approved_replacement_runs_under_a_temporary_policy_and_leaves_the_strict_one() {
    let clients = moto_clients(moto(), REGION).await;
    let stack = unique("policy-replace");
    let (mut console, _) = ci_console();
    let r = deploy_stack(
        &clients,
        &request(&stack, stateful_template(&stack, 30)),
        &mut console,
    )
    .await
    .expect("create");
    assert_eq!(r.status, Status::Deployed);

    // The queue changes; moto's change set does not say whether it is replaced, so the gate
    // treats it as a replacement of a stateful resource: refused without the allowance.
    let changed = stateful_template(&stack, 60);
    let (mut console, buf) = ci_console();
    let r = deploy_stack(&clients, &request(&stack, changed.clone()), &mut console)
        .await
        .expect("refused deploy");
    assert_eq!(r.status, Status::Refused, "{}", text(&buf));

    let mut req = request(&stack, changed.clone());
    req.approval.allow_replacement = ["AWS::SQS::Queue".to_owned()].into();
    let (mut console, buf) = ci_console();
    let r = deploy_stack(&clients, &req, &mut console)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Deployed, "{out}");
    assert!(
        out.contains("stack policy: temporarily allowing replacement/deletion of Queue"),
        "{out}"
    );
    assert!(out.contains("stack policy: strict again (Queue"), "{out}");
    let facts = TemplateFacts::parse(&changed).expect("facts");
    assert_eq!(
        policy_of(&clients, &stack).await.as_deref(),
        Some(strict_policy(&facts).as_str())
    );
}

#[tokio::test]
async fn a_stack_without_a_policy_gets_it_on_a_deploy_with_no_changes() {
    let clients = moto_clients(moto(), REGION).await;
    let stack = unique("policy-nochange");
    let body = stateful_template(&stack, 30);
    // Deployed by another tool: no stack policy.
    clients
        .cfn
        .create_stack()
        .stack_name(&stack)
        .template_body(&body)
        .send()
        .await
        .expect("create-stack");
    assert_eq!(policy_of(&clients, &stack).await, None);
    let (mut console, buf) = ci_console();
    let r = deploy_stack(&clients, &request(&stack, body.clone()), &mut console)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::NoChanges, "{out}");
    let facts = TemplateFacts::parse(&body).expect("facts");
    assert_eq!(
        policy_of(&clients, &stack).await.as_deref(),
        Some(strict_policy(&facts).as_str())
    );
}

/// A database with `DeletionProtection`: CloudFormation would delete the rest and then fail on
/// it. destroy refuses before deleting anything, naming the resource and the fix.
#[tokio::test]
async fn destroy_refuses_a_stack_whose_database_has_deletion_protection() {
    // The patched moto: the first create goes in two steps (unprotected, then protection on by
    // an update), and plain moto neither gives that update a replacement verdict nor keeps the
    // database or the new template through it.
    let patched = support::Moto::start_patched();
    let clients = moto_clients(&patched, REGION).await;
    let stack = unique("protected-db");
    let body = serde_json::json!({
        "Resources": {
            "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {
                "DBInstanceIdentifier": stack.clone(),
                "Engine": "postgres", "DBInstanceClass": "db.t4g.micro",
                "AllocatedStorage": "20", "MasterUsername": "snowex",
                "MasterUserPassword": "not-a-real-password-1", "DeletionProtection": true}},
            "Param": {"Type": "AWS::SSM::Parameter", "Properties": {
                "Name": format!("/snowcdk-test/{stack}/p"), "Type": "String", "Value": "v"}}
        }
    })
    .to_string();
    let mut req = request(&stack, body);
    req.approval.yes = true;
    let (mut console, buf) = ci_console();
    let r = deploy_stack(&clients, &req, &mut console)
        .await
        .expect("deploy");
    assert_eq!(r.status, Status::Deployed, "{}", text(&buf));

    let (mut console, buf) = ci_console();
    let r = destroy_stack(
        &clients,
        &DestroyRequest {
            stack_name: stack.clone(),
            stage: None,
            yes: true,
            timing: Timing::default(),
        },
        &mut console,
    )
    .await
    .expect("destroy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Refused, "{out}");
    let msg = r.message.unwrap_or_default();
    assert!(
        msg.contains("Db (AWS::RDS::DBInstance") && msg.contains("DeletionProtection on"),
        "{msg}"
    );
    assert!(msg.contains("half-deleted"), "{msg}");
    assert!(msg.contains("deletion_protection = false"), "{msg}");
    // Nothing was deleted.
    let resources = clients
        .cfn
        .describe_stack_resources()
        .stack_name(&stack)
        .send()
        .await
        .expect("resources");
    assert_eq!(resources.stack_resources().len(), 2);
    let s = clients
        .cfn
        .describe_stacks()
        .stack_name(&stack)
        .send()
        .await
        .expect("describe");
    // Untouched by destroy: still as the deploy's second step (protection on) left it.
    assert_eq!(
        s.stacks()[0].stack_status().map(|s| s.as_str()),
        Some("UPDATE_COMPLETE")
    );
}
