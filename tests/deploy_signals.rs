//! The real `snowcdk deploy` process gets Ctrl-C (SIGINT), SIGTERM and SIGHUP, against a scripted
//! CloudFormation on a loopback port (tests/fake_aws): before `ExecuteChangeSet` nothing is
//! executed; after it the run says the update goes on, how to follow and how to roll it back,
//! and exits 130. moto cannot show this: it finishes every operation before answering.

#![cfg(unix)]

mod fake_aws;
mod support;

use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_aws::{FakeAws, Reply, caller_identity, result_xml};
use support::{repo_config_dir, snowcdk};

const REGION: &str = "us-east-2";

fn arn(stack: &str) -> String {
    format!("arn:aws:cloudformation:{REGION}:111122223333:stack/{stack}/fake-id")
}

/// A CloudFormation whose stack is UPDATE_COMPLETE until the change set is executed and
/// UPDATE_IN_PROGRESS forever after. `hang_change_set`: DescribeChangeSet never answers.
fn fake_cfn(stack: &'static str, hang_change_set: bool) -> FakeAws {
    let executed = Arc::new(Mutex::new(false));
    FakeAws::start(move |req| {
        let action = req.action().unwrap_or_default();
        let stack_xml = |status: &str| {
            format!(
                "<Stacks><member><StackName>{stack}</StackName><StackId>{}</StackId><StackStatus>{status}</StackStatus><CreationTime>2026-01-01T00:00:00Z</CreationTime><Parameters><member><ParameterKey>BastionImageId</ParameterKey><ParameterValue>ami-0123456789abcdef0</ParameterValue></member></Parameters></member></Stacks>",
                arn(stack)
            )
        };
        let is_executed = executed.lock().map(|e| *e).unwrap_or(false);
        match action.as_str() {
            "GetCallerIdentity" => caller_identity(),
            "DescribeStacks" => {
                let status = if is_executed {
                    "UPDATE_IN_PROGRESS"
                } else {
                    "UPDATE_COMPLETE"
                };
                Reply::xml(200, result_xml(&action, &stack_xml(status)))
            }
            "ListChangeSets" => Reply::xml(200, result_xml(&action, "<Summaries/>")),
            // An older template: it differs from ours (so a change set is made), and its
            // bastion AMI is pinned to the same source (so nothing is looked up in SSM).
            "GetTemplate" => Reply::xml(
                200,
                result_xml(
                    &action,
                    &format!(
                        "<TemplateBody>{}</TemplateBody>",
                        serde_json::json!({
                            "Metadata": {"snowcdk:pinned-parameters": {"BastionImageId": {
                                "SsmParameter": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"}}},
                            "Parameters": {"BastionImageId": {"Type": "AWS::EC2::Image::Id"}},
                            "Resources": {}
                        })
                    ),
                ),
            ),
            "CreateChangeSet" => Reply::xml(
                200,
                result_xml(
                    &action,
                    &format!(
                        "<Id>arn:aws:cloudformation:{REGION}:111122223333:changeSet/{}/cs-id</Id><StackId>{}</StackId>",
                        req.param("ChangeSetName").unwrap_or_default(),
                        arn(stack)
                    ),
                ),
            ),
            "DescribeChangeSet" if hang_change_set => Reply::Hang,
            "DescribeChangeSet" => Reply::xml(
                200,
                result_xml(
                    &action,
                    "<Status>CREATE_COMPLETE</Status><ExecutionStatus>AVAILABLE</ExecutionStatus><Changes><member><Type>Resource</Type><ResourceChange><Action>Add</Action><LogicalResourceId>Extra</LogicalResourceId><ResourceType>AWS::SSM::Parameter</ResourceType></ResourceChange></member></Changes>",
                ),
            ),
            "DescribeStackEvents" => Reply::xml(200, result_xml(&action, "<StackEvents/>")),
            "ExecuteChangeSet" => {
                if let Ok(mut e) = executed.lock() {
                    *e = true;
                }
                Reply::xml(200, result_xml(&action, ""))
            }
            "DeleteChangeSet" => Reply::xml(200, result_xml(&action, "")),
            other => Reply::xml(
                400,
                fake_aws::error_xml("InvalidAction", &format!("not scripted: {other}")),
            ),
        }
    })
}

/// Starts `snowcdk deploy --yes` against the fake, stderr and stdout captured.
fn spawn_deploy(dir: &std::path::Path, url: &str) -> Child {
    let mut c = snowcdk(dir);
    c.args(["deploy", "--yes", "--endpoint-url", url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c.spawn().expect("start snowcdk")
}

/// Waits until the fake has seen `action` (at most 60 s).
fn wait_for(fake: &FakeAws, action: &str) {
    let start = Instant::now();
    while !fake.actions().iter().any(|a| a == action) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "never saw {action}: {:?}",
            fake.actions()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn kill(child: &Child, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

fn finish(child: Child) -> (Option<i32>, String) {
    let out = child.wait_with_output().expect("wait");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// After ExecuteChangeSet, each signal: exit 130, "goes on", the commands to follow and roll back.
fn after_execute(signal: &str, stack: &'static str) {
    let fake = fake_cfn(stack, false);
    let dir = repo_config_dir(stack, REGION);
    let child = spawn_deploy(dir.path(), &fake.url);
    wait_for(&fake, "ExecuteChangeSet");
    // Let the watch start polling the running update.
    std::thread::sleep(Duration::from_millis(500));
    let t = Instant::now();
    kill(&child, signal);
    let (code, text) = finish(child);
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert_eq!(code, Some(130), "{text}");
    assert!(
        text.contains("was NOT cancelled and goes on in CloudFormation"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "aws cloudformation describe-stack-events --stack-name {stack}"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "aws cloudformation cancel-update-stack --stack-name {stack}"
        )),
        "{text}"
    );
    assert!(!text.contains("panicked"), "{text}");
}

#[test]
fn sigint_after_execute_says_the_update_goes_on_and_exits_130() {
    after_execute("INT", "sig-int");
}

#[test]
fn sigterm_after_execute_says_the_update_goes_on_and_exits_130() {
    after_execute("TERM", "sig-term");
}

#[test]
fn sighup_after_execute_says_the_update_goes_on_and_exits_130() {
    after_execute("HUP", "sig-hup");
}

#[test]
fn sigterm_while_the_change_set_poll_hangs_executes_nothing_and_exits_at_once() {
    let fake = fake_cfn("sig-before", true);
    let dir = repo_config_dir("sig-before", REGION);
    let child = spawn_deploy(dir.path(), &fake.url);
    wait_for(&fake, "DescribeChangeSet");
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    kill(&child, "TERM");
    let (code, text) = finish(child);
    // The hung request is dropped: no waiting for the 60 s timeout.
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert_eq!(code, Some(130), "{text}");
    assert!(text.contains("nothing was executed"), "{text}");
    assert!(text.contains("was deleted"), "{text}");
    let actions = fake.actions();
    assert!(
        !actions.iter().any(|a| a == "ExecuteChangeSet"),
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|a| a == "DeleteChangeSet"),
        "{actions:?}"
    );
}

#[test]
fn deploy_names_the_account_and_region_before_changing_anything() {
    let fake = fake_cfn("sig-whoami", true);
    let dir = repo_config_dir("sig-whoami", REGION);
    let child = spawn_deploy(dir.path(), &fake.url);
    wait_for(&fake, "DescribeChangeSet");
    kill(&child, "INT");
    let (_, text) = finish(child);
    let who = text
        .find("acting on account 111122223333 in us-east-2")
        .unwrap_or_else(|| panic!("no account line: {text}"));
    let creating = text.find("creating").unwrap_or_else(|| panic!("{text}"));
    assert!(who < creating, "{text}");
    let actions = fake.actions();
    assert_eq!(
        actions.first().map(String::as_str),
        Some("GetCallerIdentity"),
        "{actions:?}"
    );
}
