//! A stack whose deployed template is short-form YAML (deployed by another tool, or by hand) can
//! be deployed over and destroyed: the deployed template (`GetTemplate`) is read as
//! CloudFormation reads it. Against moto; nothing calls AWS.

mod support;

use std::sync::{Arc, Mutex};

use snowcdk::deploy::destroy::{DestroyRequest, destroy_stack};
use snowcdk::deploy::{Console, DeployRequest, Status, Timing, deploy_stack};
use snowcdk::diff::deployed::fetch;
use support::{deletable_template, moto, moto_clients, unique};

const REGION: &str = "us-east-1";

/// Short forms, YAML 1.1 scalars, and a retained resource.
fn short_form_template(name: &str) -> String {
    format!(
        r#"AWSTemplateFormatVersion: 2010-09-09
Parameters:
  Suffix:
    Type: String
    Default: x
Resources:
  Param:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub "/snowcdk-test/{name}/${{Suffix}}"
      Type: String
      Value: !Join ["-", [a, !Ref Suffix]]
  Kept:
    Type: AWS::SSM::Parameter
    DeletionPolicy: Retain
    Properties:
      Name: !Sub /snowcdk-test/{name}/kept
      Type: String
      Value: !Select [0, [k, l]]
Outputs:
  Name:
    Value: !GetAtt Param.Type
"#
    )
}

async fn create_by_hand(clients: &snowcdk::deploy::Clients, stack: &str) {
    clients
        .cfn
        .create_stack()
        .stack_name(stack)
        .template_body(short_form_template(stack))
        .send()
        .await
        .expect("moto creates the stack from short-form YAML");
}

fn console() -> (Console, Arc<Mutex<Vec<u8>>>) {
    let (c, buf, _) = Console::capture(None);
    (c, buf)
}

fn text(buf: &Arc<Mutex<Vec<u8>>>) -> String {
    String::from_utf8_lossy(&buf.lock().expect("buffer")).into_owned()
}

#[tokio::test]
async fn a_short_form_yaml_deployed_template_is_read_for_diff_deployed() {
    let clients = moto_clients(moto(), REGION).await;
    let stack = unique("short-diff");
    create_by_hand(&clients, &stack).await;
    let t = fetch(&clients, &stack)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(
        t["Resources"]["Param"]["Properties"]["Value"],
        serde_json::json!({"Fn::Join": ["-", ["a", {"Ref": "Suffix"}]]})
    );
    assert_eq!(
        t["Outputs"]["Name"]["Value"],
        serde_json::json!({"Fn::GetAtt": ["Param", "Type"]})
    );
}

#[tokio::test]
async fn a_stack_deployed_from_short_form_yaml_can_be_deployed_over() {
    let clients = moto_clients(moto(), REGION).await;
    let stack = unique("short-deploy");
    create_by_hand(&clients, &stack).await;
    // The new template keeps `Kept` (Retain) with another value; moto does not say whether that
    // replaces it, so the guard asks for the allowance.
    let mut req = DeployRequest::new(&stack, deletable_template(&stack, true));
    req.approval.yes = true;
    req.approval
        .allow_replacement
        .insert("AWS::SSM::Parameter".into());
    req.timing = Timing::default();
    let (mut con, buf) = console();
    let r = deploy_stack(&clients, &req, &mut con)
        .await
        .unwrap_or_else(|e| panic!("deploy over a short-form stack: {e}\n{}", text(&buf)));
    assert_eq!(r.status, Status::Deployed, "{}", text(&buf));
}

#[tokio::test]
async fn a_stack_deployed_from_short_form_yaml_can_be_destroyed() {
    let clients = moto_clients(moto(), REGION).await;
    let stack = unique("short-destroy");
    create_by_hand(&clients, &stack).await;
    let req = DestroyRequest {
        stack_name: stack.clone(),
        stage: None,
        yes: true,
        timing: Timing::default(),
    };
    let (mut con, buf) = console();
    let r = destroy_stack(&clients, &req, &mut con)
        .await
        .unwrap_or_else(|e| panic!("destroy a short-form stack: {e}\n{}", text(&buf)));
    let out = text(&buf);
    assert_eq!(r.status, Status::Destroyed, "{out}");
    // The retained parameter was found in the short-form template.
    assert!(out.contains("Retained (no longer managed"), "{out}");
}
