//! End to end on the wire against moto in server mode, through the library entry points with
//! templates built here (moto-friendly types). One moto for the whole binary; each test uses its
//! own stack names.

mod support;

use std::sync::{Arc, Mutex};

use snowcdk::deploy::destroy::{DestroyRequest, destroy_stack};
use snowcdk::deploy::{
    Console, DeployError, DeployRequest, RequireApproval, Status, Timing, deploy_stack,
};
use support::{clients_at, deletable_template, moto, moto_clients, small_template, unique};

const REGION: &str = "us-east-1";

fn text(buf: &Arc<Mutex<Vec<u8>>>) -> String {
    String::from_utf8_lossy(&buf.lock().expect("buffer")).into_owned()
}

/// A non-interactive console (like CI) and its captured output.
fn ci_console() -> (Console, Arc<Mutex<Vec<u8>>>) {
    let (c, buf, _) = Console::capture(None);
    (c, buf)
}

fn request(stack: &str, body: String) -> DeployRequest {
    let mut r = DeployRequest::new(stack, body);
    r.approval.yes = true;
    r.timing = Timing::default();
    r
}

#[tokio::test]
async fn create_deploys_a_new_stack() {
    let clients = moto_clients(moto(), REGION).await;
    let stack = unique("create");
    let (mut console, buf) = ci_console();
    let r = deploy_stack(
        &clients,
        &request(&stack, small_template(&stack, "a")),
        &mut console,
    )
    .await
    .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Deployed, "{out}");
    assert_eq!(r.exit_code, 0);
    assert_eq!(
        r.stack_status.as_ref().map(|s| s.as_str()),
        Some("CREATE_COMPLETE"),
        "{out}"
    );
    assert_eq!(r.changes.len(), 5, "{out}");
    assert!(out.contains("with CAPABILITY_IAM"), "{out}");
    assert!(out.contains("+!  Add     Role"), "{out}");
    let cs = r.change_set.expect("change set");
    assert_eq!(cs.change_set_type, "CREATE");
    let d = clients
        .cfn
        .describe_stacks()
        .stack_name(&stack)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        d.stacks()[0].stack_status().map(|s| s.as_str()),
        Some("CREATE_COMPLETE")
    );
}

#[tokio::test]
async fn redeploying_the_same_template_is_no_changes() {
    let clients = moto_clients(moto(), REGION).await;
    let stack = unique("nochange");
    let body = small_template(&stack, "a");
    let (mut console, _) = ci_console();
    let first = deploy_stack(&clients, &request(&stack, body.clone()), &mut console)
        .await
        .expect("first deploy");
    assert_eq!(first.status, Status::Deployed);
    let (mut console, buf) = ci_console();
    let again = deploy_stack(&clients, &request(&stack, body.clone()), &mut console)
        .await
        .expect("second deploy");
    let out = text(&buf);
    assert_eq!(again.status, Status::NoChanges, "{out}");
    assert_eq!(again.exit_code, 0);
    assert!(out.contains("no change set was created"), "{out}");
    assert!(again.change_set.is_none(), "{out}");
    // --force asks CloudFormation, which finds nothing to do either.
    let mut forced = request(&stack, body);
    forced.force = true;
    let (mut console, buf) = ci_console();
    let again = deploy_stack(&clients, &forced, &mut console)
        .await
        .expect("forced deploy");
    let out = text(&buf);
    assert_eq!(again.status, Status::NoChanges, "{out}");
    let cs = again.change_set.expect("change set");
    assert!(!cs.exists, "the empty change set is deleted");
    // Only the executed first change set remains (moto keeps executed ones, and lists every
    // stack's: filter by stack).
    let left = clients
        .cfn
        .list_change_sets()
        .stack_name(&stack)
        .send()
        .await
        .expect("list change sets");
    let pending: Vec<_> = left
        .summaries()
        .iter()
        .filter(|s| s.stack_name() == Some(stack.as_str()))
        .filter(|s| s.execution_status().map(|e| e.as_str()) != Some("EXECUTE_COMPLETE"))
        .collect();
    assert!(pending.is_empty(), "change sets left: {pending:?}");
}

#[tokio::test]
async fn changed_template_updates_the_stack() {
    let clients = moto_clients(moto(), REGION).await;
    let stack = unique("update");
    let (mut console, _) = ci_console();
    deploy_stack(
        &clients,
        &request(&stack, small_template(&stack, "a")),
        &mut console,
    )
    .await
    .expect("create");
    let (mut console, buf) = ci_console();
    let r = deploy_stack(
        &clients,
        &request(&stack, small_template(&stack, "b")),
        &mut console,
    )
    .await
    .expect("update");
    let out = text(&buf);
    assert_eq!(r.status, Status::Deployed, "{out}");
    assert_eq!(
        r.stack_status.as_ref().map(|s| s.as_str()),
        Some("UPDATE_COMPLETE"),
        "{out}"
    );
    assert_eq!(r.change_set.expect("cs").change_set_type, "UPDATE");
    assert_eq!(r.changes.len(), 1, "{out}");
    assert_eq!(r.changes[0].change.logical_id, "Param");
    assert!(out.contains("Modify  Param"), "{out}");
    let p = clients
        .cfn
        .describe_stack_resource()
        .stack_name(&stack)
        .logical_resource_id("Param")
        .send()
        .await
        .expect("resource");
    assert!(p.stack_resource_detail().is_some());
}

#[tokio::test]
async fn no_execute_leaves_the_change_set_a_second_deploy_is_refused_and_a_later_one_creates() {
    let clients = moto_clients(moto(), REGION).await;
    let stack = unique("noexec");
    let mut req = request(&stack, small_template(&stack, "a"));
    req.no_execute = true;
    let (mut console, buf) = ci_console();
    let r = deploy_stack(&clients, &req, &mut console)
        .await
        .expect("no-execute");
    let out = text(&buf);
    assert_eq!(r.status, Status::NotExecuted, "{out}");
    assert_eq!(r.exit_code, 0);
    let cs = r.change_set.expect("change set");
    assert!(cs.exists);
    assert!(out.contains(&cs.id), "prints the ARN: {out}");
    assert!(
        out.contains("aws cloudformation execute-change-set"),
        "{out}"
    );
    let d = clients
        .cfn
        .describe_change_set()
        .stack_name(&stack)
        .change_set_name(&cs.id)
        .send()
        .await
        .expect("the change set is still there");
    assert_eq!(d.execution_status().map(|s| s.as_str()), Some("AVAILABLE"));
    let s = clients
        .cfn
        .describe_stacks()
        .stack_name(&stack)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        s.stacks()[0].stack_status().map(|s| s.as_str()),
        Some("REVIEW_IN_PROGRESS")
    );

    // A second deploy while that change set waits for review is refused, naming it: two runs
    // are never merged into one stack operation.
    let (mut console, buf) = ci_console();
    let r = deploy_stack(
        &clients,
        &request(&stack, small_template(&stack, "b")),
        &mut console,
    )
    .await
    .expect("second deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Refused, "{out}");
    assert_eq!(r.exit_code, 3);
    assert!(out.contains("under review"), "{out}");
    assert!(out.contains(&cs.name), "{out}");

    // Once the reviewer deletes it, the stack in review is created by the next deploy (still a
    // CREATE change set).
    clients
        .cfn
        .delete_change_set()
        .stack_name(&stack)
        .change_set_name(&cs.id)
        .send()
        .await
        .expect("delete the reviewed change set");
    let (mut console, buf) = ci_console();
    let r = deploy_stack(
        &clients,
        &request(&stack, small_template(&stack, "a")),
        &mut console,
    )
    .await
    .expect("deploy after review");
    assert_eq!(r.status, Status::Deployed, "{}", text(&buf));
    assert_eq!(
        r.stack_status.as_ref().map(|s| s.as_str()),
        Some("CREATE_COMPLETE")
    );
    assert_eq!(r.change_set.expect("cs").change_set_type, "CREATE");
}

#[tokio::test]
async fn security_changes_without_a_terminal_or_yes_are_refused() {
    let clients = moto_clients(moto(), REGION).await;
    let stack = unique("refuse");
    let mut req = request(&stack, small_template(&stack, "a"));
    req.approval.yes = false;
    req.approval.require = RequireApproval::Broadening;
    let (mut console, buf) = ci_console();
    let r = deploy_stack(&clients, &req, &mut console)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Refused, "{out}");
    assert_eq!(r.exit_code, 3);
    assert!(out.contains("no terminal to ask on"), "{out}");
    assert!(out.contains("--yes"), "{out}");
    // Nothing was created, and nothing is left: the change set is gone, and so is the empty
    // stack in REVIEW_IN_PROGRESS that the CREATE change set had made.
    assert!(out.contains("(REVIEW_IN_PROGRESS) was deleted"), "{out}");
    let s = clients
        .cfn
        .describe_stacks()
        .stack_name(&stack)
        .send()
        .await;
    let left: Vec<String> = match s {
        Ok(s) => s
            .stacks()
            .iter()
            .filter_map(|s| s.stack_status().map(|st| st.as_str().to_owned()))
            .filter(|st| st != "DELETE_COMPLETE")
            .collect(),
        Err(e) => {
            let e = format!("{:?}", e.into_service_error());
            assert!(e.contains("does not exist"), "{e}");
            Vec::new()
        }
    };
    assert!(left.is_empty(), "a stack is left behind: {left:?}\n{out}");
}

#[tokio::test]
async fn a_refused_update_keeps_the_stack() {
    let clients = moto_clients(moto(), REGION).await;
    let stack = unique("keep");
    let (mut console, _) = ci_console();
    deploy_stack(
        &clients,
        &request(&stack, small_template(&stack, "a")),
        &mut console,
    )
    .await
    .expect("create");
    let mut req = request(&stack, small_template(&stack, "b"));
    req.approval.yes = false;
    req.approval.require = RequireApproval::AnyChange;
    let (mut console, buf) = ci_console();
    let r = deploy_stack(&clients, &req, &mut console)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Refused, "{out}");
    assert!(!out.contains("was deleted: "), "{out}");
    let s = clients
        .cfn
        .describe_stacks()
        .stack_name(&stack)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        s.stacks()[0].stack_status().map(|s| s.as_str()),
        Some("CREATE_COMPLETE"),
        "{out}"
    );
}

#[tokio::test]
async fn destroy_deletes_and_reports_retained_resources() {
    let clients = moto_clients(moto(), REGION).await;
    let stack = unique("destroy");
    let (mut console, _) = ci_console();
    let r = deploy_stack(
        &clients,
        &request(&stack, deletable_template(&stack, true)),
        &mut console,
    )
    .await
    .expect("deploy");
    assert_eq!(r.status, Status::Deployed);

    // Without --yes and without a terminal: refused, nothing deleted.
    let mut req = DestroyRequest {
        stack_name: stack.clone(),
        stage: None,
        yes: false,
        timing: Timing::default(),
    };
    let (mut console, buf) = ci_console();
    let r = destroy_stack(&clients, &req, &mut console)
        .await
        .expect("destroy refused");
    let out = text(&buf);
    assert_eq!(r.status, Status::Refused, "{out}");
    assert!(out.contains("Kept"), "{out}");
    assert!(out.contains("retained"), "{out}");

    req.yes = true;
    let (mut console, buf) = ci_console();
    let r = destroy_stack(&clients, &req, &mut console)
        .await
        .expect("destroy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Destroyed, "{out}");
    assert!(out.contains("DELETE_COMPLETE"), "{out}");
    assert!(out.contains("Retained (no longer managed"), "{out}");
    let gone = clients
        .cfn
        .describe_stacks()
        .stack_name(&stack)
        .send()
        .await;
    assert!(gone.is_err(), "the stack is gone");

    // Destroying again: nothing to delete, success.
    let (mut console, _) = ci_console();
    let r = destroy_stack(&clients, &req, &mut console)
        .await
        .expect("destroy again");
    assert_eq!(r.status, Status::NotFound);
    assert_eq!(r.exit_code, 0);
}

/// Templates over 51,200 bytes go through the staging bucket. (moto only resolves path-style
/// template URLs on a host named `localhost`, so this test calls moto by that name.)
#[tokio::test]
async fn large_templates_go_through_the_staging_bucket() {
    let clients = clients_at(&format!("http://localhost:{}", moto().port), REGION).await;
    let stack = unique("large");
    let mut resources = serde_json::Map::new();
    for i in 0..120 {
        resources.insert(
            format!("Param{i}"),
            serde_json::json!({"Type": "AWS::SSM::Parameter", "Properties": {
                "Name": format!("/snowcdk-test/{stack}/p{i}"), "Type": "String",
                "Value": "x".repeat(400)}}),
        );
    }
    let body = serde_json::json!({ "Resources": resources }).to_string();
    assert!(body.len() > 51_200, "{}", body.len());

    let (mut console, _) = ci_console();
    let err = deploy_stack(&clients, &request(&stack, body.clone()), &mut console)
        .await
        .expect_err("no staging bucket");
    assert!(matches!(err, DeployError::NoStagingBucket { .. }), "{err}");
    assert!(err.to_string().contains("staging_bucket"), "{err}");

    let bucket = format!("staging-{}", stack.to_lowercase());
    // A bucket that does not exist (yet): refused with the fix, before any change set.
    let mut req = request(&stack, body.clone());
    req.staging_bucket = Some(bucket.clone());
    let (mut console, _) = ci_console();
    let err = deploy_stack(&clients, &req, &mut console)
        .await
        .expect_err("the staging bucket is missing");
    assert!(
        matches!(&err, DeployError::StagingBucketMissing { bucket: b, .. } if *b == bucket),
        "{err}"
    );
    assert!(err.to_string().contains("snowcdk bootstrap"), "{err}");
    assert!(
        clients
            .cfn
            .describe_stacks()
            .stack_name(&stack)
            .send()
            .await
            .is_err(),
        "nothing was created"
    );

    clients
        .s3
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create bucket");
    let mut req = request(&stack, body);
    req.staging_bucket = Some(bucket.clone());
    let (mut console, buf) = ci_console();
    let r = deploy_stack(&clients, &req, &mut console)
        .await
        .expect("deploy through S3");
    let out = text(&buf);
    assert_eq!(r.status, Status::Deployed, "{out}");
    assert!(
        out.contains(&format!("/{bucket}/snowcdk/templates/")),
        "{out}"
    );
    let objects = clients
        .s3
        .list_objects_v2()
        .bucket(&bucket)
        .send()
        .await
        .expect("list");
    assert_eq!(objects.contents().len(), 1);
}

#[tokio::test]
async fn credentials_for_another_account_are_refused_before_anything_changes() {
    let clients = moto_clients(moto(), REGION).await;
    let stack = unique("account");
    let mut req = request(&stack, small_template(&stack, "a"));
    req.account = Some("000000000000".into());
    req.stage = Some("dev".into());
    let (mut console, _) = ci_console();
    let err = deploy_stack(&clients, &req, &mut console)
        .await
        .expect_err("wrong account");
    assert!(matches!(err, DeployError::WrongAccount { .. }), "{err}");
    assert!(err.to_string().contains("123456789012"), "{err}");
    let gone = clients
        .cfn
        .describe_stacks()
        .stack_name(&stack)
        .send()
        .await;
    assert!(gone.is_err(), "no stack was made");
}

/// A stack whose `Ami` parameter is pinned to the SSM parameter `source`; `tag` changes the
/// template without touching the parameter.
fn pinned_template(source: &str, tag: &str) -> String {
    serde_json::json!({
        "Metadata": {"snowcdk:pinned-parameters": {"Ami": {"SsmParameter": source}}},
        "Parameters": {"Ami": {"Type": "String"}},
        "Resources": {"Copy": {"Type": "AWS::SSM::Parameter", "Properties": {
            "Type": "String", "Value": {"Ref": "Ami"}, "Description": tag}}}
    })
    .to_string()
}

async fn deployed_parameter(clients: &snowcdk::deploy::Clients, stack: &str) -> Option<String> {
    let d = clients
        .cfn
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .expect("describe");
    d.stacks()[0]
        .parameters()
        .iter()
        .find(|p| p.parameter_key() == Some("Ami"))
        .and_then(|p| p.parameter_value().map(str::to_owned))
}

#[tokio::test]
async fn a_pinned_parameter_is_looked_up_once_and_kept_until_refreshed() {
    let clients = moto_clients(moto(), REGION).await;
    let stack = unique("pinned");
    let source = format!("/snowcdk-test/{stack}/ami");
    let put = |v: &'static str| {
        clients
            .ssm
            .put_parameter()
            .name(&source)
            .value(v)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .overwrite(true)
            .send()
    };
    put("ami-11111111").await.expect("put");
    let (mut console, buf) = ci_console();
    let r = deploy_stack(
        &clients,
        &request(&stack, pinned_template(&source, "a")),
        &mut console,
    )
    .await
    .expect("create");
    assert_eq!(r.status, Status::Deployed, "{}", text(&buf));
    assert_eq!(
        deployed_parameter(&clients, &stack).await.as_deref(),
        Some("ami-11111111")
    );

    // A new release appears; an unrelated update keeps the pinned value.
    put("ami-22222222").await.expect("overwrite");
    let (mut console, buf) = ci_console();
    let r = deploy_stack(
        &clients,
        &request(&stack, pinned_template(&source, "b")),
        &mut console,
    )
    .await
    .expect("update");
    let out = text(&buf);
    assert_eq!(r.status, Status::Deployed, "{out}");
    assert!(!out.contains("parameter Ami"), "{out}");
    assert_eq!(
        deployed_parameter(&clients, &stack).await.as_deref(),
        Some("ami-11111111")
    );

    // Nothing else changed: no change set, even though the source moved.
    let (mut console, buf) = ci_console();
    let r = deploy_stack(
        &clients,
        &request(&stack, pinned_template(&source, "b")),
        &mut console,
    )
    .await
    .expect("again");
    assert_eq!(r.status, Status::NoChanges, "{}", text(&buf));

    // Asked for: the new value, shown old -> new with its source. (With another template
    // text too: moto computes change sets from the template alone, so a parameter-only
    // update is "no changes" there; CloudFormation would show the Modify.)
    let mut refresh = request(&stack, pinned_template(&source, "c"));
    refresh.refresh_pinned = true;
    let (mut console, buf) = ci_console();
    let r = deploy_stack(&clients, &refresh, &mut console)
        .await
        .expect("refresh");
    let out = text(&buf);
    assert_eq!(r.status, Status::Deployed, "{out}");
    assert!(
        out.contains(&format!(
            "parameter Ami: ami-11111111 -> ami-22222222 (from {source} (--refresh-pinned))"
        )),
        "{out}"
    );
    assert_eq!(
        deployed_parameter(&clients, &stack).await.as_deref(),
        Some("ami-22222222")
    );
}

#[tokio::test]
async fn a_pinned_parameter_whose_source_is_missing_is_an_error_naming_it() {
    let clients = moto_clients(moto(), REGION).await;
    let stack = unique("pinmiss");
    let source = format!("/snowcdk-test/{stack}/absent");
    let (mut console, _) = ci_console();
    let err = deploy_stack(
        &clients,
        &request(&stack, pinned_template(&source, "a")),
        &mut console,
    )
    .await
    .expect_err("refused");
    let msg = err.to_string();
    assert!(msg.contains(&source), "{msg}");
    assert!(msg.contains("look up parameter Ami"), "{msg}");
}

/// A template whose only resource, a log group, has deletion protection on.
fn protected_template(stack: &str) -> String {
    serde_json::json!({"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup",
        "Properties": {"LogGroupName": format!("/snowcdk-test/{stack}"), "RetentionInDays": 7,
            "DeletionProtectionEnabled": true}}}})
    .to_string()
}

#[tokio::test]
async fn a_protected_first_create_whose_second_step_is_refused_says_protection_is_not_on() {
    // Plain moto gives no replacement verdict, so the update that turns protection on looks
    // like a possible replacement of a log group and the gate refuses it without
    // --allow-replacement: the path where the second step does not complete.
    // (tests/snowex_moto.rs runs the whole two-step create on the patched moto.)
    let clients = moto_clients(moto(), REGION).await;
    let stack = unique("protect");
    let (mut console, buf) = ci_console();
    let r = deploy_stack(
        &clients,
        &request(&stack, protected_template(&stack)),
        &mut console,
    )
    .await
    .expect("deploy");
    let out = text(&buf);
    assert!(
        out.contains(
            "creating it with deletion protection off on Logs (DeletionProtectionEnabled)"
        ),
        "{out}"
    );
    assert_eq!(r.status, Status::Refused, "{out}");
    assert_ne!(r.exit_code, 0);
    let msg = r.message.unwrap_or_default();
    assert!(msg.contains("deletion protection is NOT on yet"), "{msg}");
    assert!(msg.contains("run the same deploy again"), "{msg}");
    // The stack exists (the first step completed), without protection: deletable.
    let d = clients
        .cfn
        .describe_stacks()
        .stack_name(&stack)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        d.stacks()[0].stack_status().map(|s| s.as_str()),
        Some("CREATE_COMPLETE")
    );
}
