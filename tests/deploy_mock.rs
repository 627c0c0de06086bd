//! The CloudFormation semantics moto lacks, replayed with `aws-smithy-mocks`: asynchronous change
//! sets, replacement details, rollbacks with reasons, ROLLBACK_COMPLETE recovery, throttling,
//! busy stacks, the three no-change forms, Ctrl-C, expired tokens. One test per case; tokio's
//! clock is paused, so the engine's real poll intervals and backoffs cost no wall time.

use std::sync::{Arc, Mutex};

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::operation::create_change_set::CreateChangeSetOutput;
use aws_sdk_cloudformation::operation::delete_change_set::DeleteChangeSetOutput;
use aws_sdk_cloudformation::operation::delete_stack::DeleteStackOutput;
use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksOutput;
use aws_sdk_cloudformation::operation::execute_change_set::ExecuteChangeSetOutput;
use aws_sdk_cloudformation::operation::get_template::GetTemplateOutput;
use aws_sdk_cloudformation::types::{
    Change, ChangeAction, ChangeSetStatus, ChangeType, Output, Replacement, RequiresRecreation,
    ResourceAttribute, ResourceChange, ResourceChangeDetail, ResourceStatus,
    ResourceTargetDefinition, Stack, StackEvent, StackStatus,
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use snowcdk::deploy::{
    AwsErrorKind, Clients, Console, DeployError, DeployRequest, Prompter, StackResult, Status,
    deploy_stack,
};

const STACK: &str = "snowex-dev";
const ARN: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/snowex-dev/abc";
const CS_ARN: &str = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/snowcdk-1/def";

/// A template with a database (no Retain policy: its type alone makes it stateful) and a role.
const TEMPLATE: &str = r#"{"Resources":{
  "Db":{"Type":"AWS::RDS::DBInstance","Properties":{"Engine":"postgres"}},
  "Param":{"Type":"AWS::SSM::Parameter","Properties":{"Type":"String","Value":"v"}}}}"#;

/// The wire form of a CloudFormation error.
fn err_xml(code: &str, message: &str) -> String {
    format!(
        r#"<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>req-1</RequestId></ErrorResponse>"#
    )
}

fn missing() -> String {
    err_xml(
        "ValidationError",
        &format!("Stack with id {STACK} does not exist"),
    )
}

fn stack(status: &str) -> DescribeStacksOutput {
    DescribeStacksOutput::builder()
        .stacks(
            Stack::builder()
                .stack_name(STACK)
                .stack_id(ARN)
                .stack_status(StackStatus::from(status))
                .outputs(
                    Output::builder()
                        .output_key("DbEndpointAddress")
                        .output_value("db.example.internal")
                        .build(),
                )
                .build(),
        )
        .build()
}

fn event(id: &str, logical: &str, ty: &str, status: &str, reason: Option<&str>) -> StackEvent {
    let physical = if ty == "AWS::CloudFormation::Stack" {
        ARN
    } else {
        "phys"
    };
    StackEvent::builder()
        .event_id(id)
        .stack_id(ARN)
        .stack_name(STACK)
        .logical_resource_id(logical)
        .physical_resource_id(physical)
        .resource_type(ty)
        .resource_status(ResourceStatus::from(status))
        .set_resource_status_reason(reason.map(str::to_owned))
        .timestamp(aws_sdk_cloudformation::primitives::DateTime::from_secs(
            1_700_000_000,
        ))
        .build()
}

/// Events, newest first, as DescribeStackEvents returns them.
fn events(evs: Vec<StackEvent>) -> DescribeStackEventsOutput {
    let mut evs = evs;
    evs.reverse();
    DescribeStackEventsOutput::builder()
        .set_stack_events(Some(evs))
        .build()
}

fn stack_event(id: &str, status: &str, reason: Option<&str>) -> StackEvent {
    event(id, STACK, "AWS::CloudFormation::Stack", status, reason)
}

fn change(
    action: &str,
    id: &str,
    ty: &str,
    replacement: Option<&str>,
    causes: &[(&str, RequiresRecreation)],
) -> Change {
    let mut rc = ResourceChange::builder()
        .action(ChangeAction::from(action))
        .logical_resource_id(id)
        .resource_type(ty);
    if let Some(r) = replacement {
        rc = rc.replacement(Replacement::from(r));
    }
    for (name, rr) in causes {
        rc = rc.details(
            ResourceChangeDetail::builder()
                .target(
                    ResourceTargetDefinition::builder()
                        .attribute(ResourceAttribute::Properties)
                        .name(*name)
                        .requires_recreation(rr.clone())
                        .build(),
                )
                .build(),
        );
    }
    Change::builder()
        .r#type(ChangeType::Resource)
        .resource_change(rc.build())
        .build()
}

fn change_set(status: &str, changes: Vec<Change>) -> DescribeChangeSetOutput {
    DescribeChangeSetOutput::builder()
        .change_set_id(CS_ARN)
        .stack_id(ARN)
        .status(ChangeSetStatus::from(status))
        .set_changes(Some(changes))
        .build()
}

fn created() -> Rule {
    mock!(Client::create_change_set).then_output(|| {
        CreateChangeSetOutput::builder()
            .id(CS_ARN)
            .stack_id(ARN)
            .build()
    })
}

fn executed() -> Rule {
    mock!(Client::execute_change_set).then_output(|| ExecuteChangeSetOutput::builder().build())
}

fn deleted_change_set() -> Rule {
    mock!(Client::delete_change_set).then_output(|| DeleteChangeSetOutput::builder().build())
}

/// DescribeStacks by name (planning, outputs at the end): the given responses in order, the last
/// repeated.
fn by_name(first_missing: bool, then: &'static str) -> Rule {
    let r = mock!(Client::describe_stacks)
        .match_requests(|r| r.stack_name() == Some(STACK))
        .sequence();
    let r = if first_missing {
        r.http_status(400, Some(missing()))
    } else {
        r
    };
    r.output(move || stack(then)).repeatedly().build()
}

/// DescribeStacks by ARN (watching): statuses in order, the last repeated.
fn by_arn(statuses: &'static [&'static str]) -> Rule {
    let mut r = mock!(Client::describe_stacks)
        .match_requests(|r| r.stack_name() == Some(ARN))
        .sequence();
    for s in statuses {
        r = r.output(move || stack(s));
    }
    r.repeatedly().build()
}

/// The current deployed template (for UPDATE classification).
fn deployed_template() -> Rule {
    mock!(Client::get_template)
        .then_output(|| GetTemplateOutput::builder().template_body(TEMPLATE).build())
}

fn clients(rules: &[&Rule]) -> Clients {
    // No other change set waits on the stack unless a test says otherwise (its own
    // ListChangeSets rule comes first and wins).
    let none = mock!(Client::list_change_sets).then_output(|| {
        aws_sdk_cloudformation::operation::list_change_sets::ListChangeSetsOutput::builder().build()
    });
    // Deploy sets the stack policy (and, for protected stages, termination protection): accepted
    // unless a test scripts them.
    let policy = mock!(Client::set_stack_policy).then_output(|| {
        aws_sdk_cloudformation::operation::set_stack_policy::SetStackPolicyOutput::builder().build()
    });
    let get_policy = mock!(Client::get_stack_policy).then_output(|| {
        aws_sdk_cloudformation::operation::get_stack_policy::GetStackPolicyOutput::builder().build()
    });
    // destroy reads the live deletion protection; no answer: the deployed template decides.
    let drift = mock!(Client::detect_stack_resource_drift).then_output(|| {
        aws_sdk_cloudformation::operation::detect_stack_resource_drift::DetectStackResourceDriftOutput::builder().build()
    });
    let tpl = deployed_template();
    let mut all: Vec<&Rule> = rules.to_vec();
    all.push(&none);
    all.push(&policy);
    all.push(&get_policy);
    all.push(&drift);
    // Updates read the deployed template (parameters, the no-change check, deletion
    // policies); a test's own GetTemplate rule comes first and wins.
    all.push(&tpl);
    let client = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, &all);
    Clients::from_cfn(client)
}

fn request(yes: bool, allow: &[&str]) -> DeployRequest {
    let mut r = DeployRequest::new(STACK, TEMPLATE);
    // These tests drive CloudFormation's change set answers; the deployed template equals
    // TEMPLATE, so without --force deploy would stop before creating one ("no changes").
    r.force = true;
    r.approval.yes = yes;
    r.approval.allow_replacement = allow.iter().map(|s| s.to_string()).collect();
    r
}

fn console(answer: Option<&'static str>) -> (Console, Arc<Mutex<Vec<u8>>>) {
    let prompter: Option<Prompter> =
        answer.map(|a| Arc::new(move |_q: &str| Some(format!("{a}\n"))) as Prompter);
    let (c, buf, _) = Console::capture(prompter);
    (c, buf)
}

fn text(buf: &Arc<Mutex<Vec<u8>>>) -> String {
    String::from_utf8_lossy(&buf.lock().expect("buffer")).into_owned()
}

/// A successful update's events after the baseline.
fn update_events_ok() -> Rule {
    mock!(Client::describe_stack_events)
        .sequence()
        .output(|| events(vec![stack_event("e0", "CREATE_COMPLETE", None)]))
        .output(|| {
            events(vec![
                stack_event("e0", "CREATE_COMPLETE", None),
                stack_event("e1", "UPDATE_IN_PROGRESS", None),
                event("e2", "Db", "AWS::RDS::DBInstance", "UPDATE_COMPLETE", None),
                stack_event("e3", "UPDATE_COMPLETE", None),
            ])
        })
        .repeatedly()
        .build()
}

#[tokio::test(start_paused = true)]
async fn create_waits_through_pending_change_set_and_in_progress_stack() {
    let describe_cs = mock!(Client::describe_change_set)
        .sequence()
        .output(|| change_set("CREATE_PENDING", vec![]))
        .output(|| change_set("CREATE_IN_PROGRESS", vec![]))
        .output(|| {
            change_set(
                "CREATE_COMPLETE",
                vec![
                    change("Add", "Db", "AWS::RDS::DBInstance", None, &[]),
                    change("Add", "Param", "AWS::SSM::Parameter", None, &[]),
                ],
            )
        })
        .build();
    let evs = mock!(Client::describe_stack_events)
        .sequence()
        .output(|| events(vec![stack_event("e0", "REVIEW_IN_PROGRESS", None)]))
        .output(|| {
            events(vec![
                stack_event("e0", "REVIEW_IN_PROGRESS", None),
                stack_event("e1", "CREATE_IN_PROGRESS", None),
                event(
                    "e2",
                    "Db",
                    "AWS::RDS::DBInstance",
                    "CREATE_IN_PROGRESS",
                    None,
                ),
            ])
        })
        .output(|| {
            events(vec![
                stack_event("e0", "REVIEW_IN_PROGRESS", None),
                stack_event("e1", "CREATE_IN_PROGRESS", None),
                event(
                    "e2",
                    "Db",
                    "AWS::RDS::DBInstance",
                    "CREATE_IN_PROGRESS",
                    None,
                ),
                event("e3", "Db", "AWS::RDS::DBInstance", "CREATE_COMPLETE", None),
                event(
                    "e4",
                    "Param",
                    "AWS::SSM::Parameter",
                    "CREATE_COMPLETE",
                    None,
                ),
                stack_event("e5", "CREATE_COMPLETE", None),
            ])
        })
        .repeatedly()
        .build();
    let name = by_name(true, "CREATE_COMPLETE");
    let arn = by_arn(&[
        "CREATE_IN_PROGRESS",
        "CREATE_IN_PROGRESS",
        "CREATE_COMPLETE",
    ]);
    let (create, exec) = (created(), executed());
    let c = clients(&[&name, &arn, &create, &describe_cs, &evs, &exec]);
    let (mut con, buf) = console(None);
    let start = tokio::time::Instant::now();
    let r = deploy_stack(&c, &request(true, &[]), &mut con)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Deployed, "{out}");
    assert_eq!(
        r.stack_status.as_ref().map(|s| s.as_str()),
        Some("CREATE_COMPLETE")
    );
    assert_eq!(describe_cs.num_calls(), 3, "polled until CREATE_COMPLETE");
    assert_eq!(exec.num_calls(), 1);
    assert_eq!(r.outputs[0].key, "DbEndpointAddress");
    assert!(
        out.lines()
            .any(|l| l.contains("CREATE_COMPLETE") && l.contains("Db (AWS::RDS::DBInstance)")),
        "{out}"
    );
    assert!(
        out.contains("DbEndpointAddress = db.example.internal"),
        "{out}"
    );
    // Adaptive polling: 0 s, 1 s, 1.5 s for the change set; 0, 1, 1 s for the stack.
    let took = start.elapsed();
    assert!(took < std::time::Duration::from_secs(6), "{took:?}");
}

#[tokio::test(start_paused = true)]
async fn replacing_the_database_is_refused_without_allow_replacement() {
    let cs = mock!(Client::describe_change_set).then_output(|| {
        change_set(
            "CREATE_COMPLETE",
            vec![change(
                "Modify",
                "Db",
                "AWS::RDS::DBInstance",
                Some("True"),
                &[("Engine", RequiresRecreation::Always)],
            )],
        )
    });
    let name = by_name(false, "UPDATE_COMPLETE");
    let (create, exec, del, tpl) = (
        created(),
        executed(),
        deleted_change_set(),
        deployed_template(),
    );
    let c = clients(&[&name, &create, &cs, &exec, &del, &tpl]);
    // --yes alone is not enough.
    let (mut con, buf) = console(None);
    let r = deploy_stack(&c, &request(true, &[]), &mut con)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Refused, "{out}");
    assert_eq!(r.exit_code, 3);
    assert_eq!(exec.num_calls(), 0, "nothing executed");
    assert_eq!(del.num_calls(), 1, "the refused change set is deleted");
    assert!(out.contains("!!  Modify  Db"), "{out}");
    assert!(out.contains("True"), "{out}");
    assert!(out.contains("Engine"), "{out}");
    assert!(
        out.contains("--allow-replacement AWS::RDS::DBInstance"),
        "{out}"
    );
    assert!(r.changes[0].is_destructive());
}

#[tokio::test(start_paused = true)]
async fn conditional_replacement_needs_the_allowance_and_the_typed_stack_name() {
    let cs = mock!(Client::describe_change_set).then_output(|| {
        change_set(
            "CREATE_COMPLETE",
            vec![change(
                "Modify",
                "Db",
                "AWS::RDS::DBInstance",
                Some("Conditional"),
                &[
                    ("DBInstanceClass", RequiresRecreation::Never),
                    ("StorageType", RequiresRecreation::Conditionally),
                ],
            )],
        )
    });
    let name = by_name(false, "UPDATE_COMPLETE");
    let arn = by_arn(&["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]);
    let (create, exec, del, tpl, evs) = (
        created(),
        executed(),
        deleted_change_set(),
        deployed_template(),
        update_events_ok(),
    );
    let c = clients(&[&name, &arn, &create, &cs, &exec, &del, &tpl, &evs]);

    // Allowed, but answered "y" instead of the stack name: refused.
    let (mut con, buf) = console(Some("y"));
    let r = deploy_stack(&c, &request(false, &["AWS::RDS::DBInstance"]), &mut con)
        .await
        .expect("deploy");
    assert_eq!(r.status, Status::Refused, "{}", text(&buf));
    assert_eq!(exec.num_calls(), 0);

    // Allowed and confirmed with the stack name: executed.
    let (mut con, buf) = console(Some(STACK));
    let r = deploy_stack(&c, &request(false, &["AWS::RDS::DBInstance"]), &mut con)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Deployed, "{out}");
    assert_eq!(exec.num_calls(), 1);
    assert!(out.contains("Conditional"), "{out}");
    assert!(
        out.contains("StorageType"),
        "only the recreating property: {out}"
    );
    assert!(!out.contains("DBInstanceClass"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn rolled_back_update_reports_the_first_failing_resource() {
    let cs = mock!(Client::describe_change_set).then_output(|| {
        change_set(
            "CREATE_COMPLETE",
            vec![change(
                "Modify",
                "Param",
                "AWS::SSM::Parameter",
                Some("False"),
                &[("Value", RequiresRecreation::Never)],
            )],
        )
    });
    let evs = mock!(Client::describe_stack_events)
        .sequence()
        .output(|| events(vec![stack_event("e0", "UPDATE_COMPLETE", None)]))
        .output(|| {
            events(vec![
                stack_event("e0", "UPDATE_COMPLETE", None),
                stack_event("e1", "UPDATE_IN_PROGRESS", None),
                event(
                    "e2",
                    "Param",
                    "AWS::SSM::Parameter",
                    "UPDATE_IN_PROGRESS",
                    None,
                ),
                event(
                    "e3",
                    "Param",
                    "AWS::SSM::Parameter",
                    "UPDATE_FAILED",
                    Some("Parameter value exceeds the 4096 character limit"),
                ),
                event(
                    "e4",
                    "Other",
                    "AWS::EC2::SecurityGroup",
                    "UPDATE_FAILED",
                    Some("Resource update cancelled"),
                ),
                stack_event(
                    "e5",
                    "UPDATE_ROLLBACK_IN_PROGRESS",
                    Some("The following resource(s) failed to update: [Param]."),
                ),
                stack_event("e6", "UPDATE_ROLLBACK_COMPLETE", None),
            ])
        })
        .repeatedly()
        .build();
    let name = by_name(false, "UPDATE_COMPLETE");
    let arn = by_arn(&["UPDATE_ROLLBACK_COMPLETE"]);
    let (create, exec) = (created(), executed());
    let c = clients(&[&name, &arn, &create, &cs, &exec, &evs]);
    let (mut con, buf) = console(None);
    let r = deploy_stack(&c, &request(true, &[]), &mut con)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::RolledBack, "{out}");
    assert_eq!(r.exit_code, 5);
    let f = r.failure.expect("failure");
    assert_eq!(f.logical_id, "Param");
    assert_eq!(f.reason, "Parameter value exceeds the 4096 character limit");
    assert!(
        out.contains(
            "First failure: Param (AWS::SSM::Parameter) UPDATE_FAILED: Parameter value exceeds"
        ),
        "{out}"
    );
}

#[tokio::test(start_paused = true)]
async fn failed_create_is_failed_with_its_reason() {
    let cs = mock!(Client::describe_change_set).then_output(|| {
        change_set(
            "CREATE_COMPLETE",
            vec![change("Add", "Param", "AWS::SSM::Parameter", None, &[])],
        )
    });
    let evs = mock!(Client::describe_stack_events)
        .sequence()
        .output(|| events(vec![stack_event("e0", "REVIEW_IN_PROGRESS", None)]))
        .output(|| {
            events(vec![
                stack_event("e0", "REVIEW_IN_PROGRESS", None),
                stack_event("e1", "CREATE_IN_PROGRESS", None),
                event(
                    "e2",
                    "Param",
                    "AWS::SSM::Parameter",
                    "CREATE_FAILED",
                    Some("Access denied for ssm:PutParameter"),
                ),
                stack_event("e3", "ROLLBACK_COMPLETE", None),
            ])
        })
        .repeatedly()
        .build();
    let name = by_name(true, "ROLLBACK_COMPLETE");
    let arn = by_arn(&["ROLLBACK_COMPLETE"]);
    let (create, exec) = (created(), executed());
    let c = clients(&[&name, &arn, &create, &cs, &exec, &evs]);
    let (mut con, buf) = console(None);
    let r = deploy_stack(&c, &request(true, &[]), &mut con)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Failed, "{out}");
    assert_eq!(r.exit_code, 4);
    assert!(out.contains("Access denied for ssm:PutParameter"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn rollback_complete_stack_is_deleted_and_recreated_with_yes() {
    // By name: ROLLBACK_COMPLETE first, then (after the delete) missing, then created.
    let name = mock!(Client::describe_stacks)
        .match_requests(|r| r.stack_name() == Some(STACK))
        .sequence()
        .output(|| stack("ROLLBACK_COMPLETE"))
        .output(|| stack("CREATE_COMPLETE"))
        .repeatedly()
        .build();
    // By ARN: the delete (in progress, then gone), then the create.
    let arn = mock!(Client::describe_stacks)
        .match_requests(|r| r.stack_name() == Some(ARN))
        .sequence()
        .output(|| stack("DELETE_IN_PROGRESS"))
        .output(|| stack("DELETE_COMPLETE"))
        .output(|| stack("CREATE_IN_PROGRESS"))
        .output(|| stack("CREATE_COMPLETE"))
        .repeatedly()
        .build();
    let evs = mock!(Client::describe_stack_events)
        .then_output(|| events(vec![stack_event("e0", "ROLLBACK_COMPLETE", None)]));
    let delete = mock!(Client::delete_stack).then_output(|| DeleteStackOutput::builder().build());
    let cs = mock!(Client::describe_change_set).then_output(|| {
        change_set(
            "CREATE_COMPLETE",
            vec![change("Add", "Param", "AWS::SSM::Parameter", None, &[])],
        )
    });
    let create = mock!(Client::create_change_set)
        .match_requests(|r| {
            r.change_set_type() == Some(&aws_sdk_cloudformation::types::ChangeSetType::Create)
        })
        .then_output(|| {
            CreateChangeSetOutput::builder()
                .id(CS_ARN)
                .stack_id(ARN)
                .build()
        });
    let exec = executed();
    let c = clients(&[&name, &arn, &evs, &delete, &cs, &create, &exec]);
    let (mut con, buf) = console(None);
    let r = deploy_stack(&c, &request(true, &[]), &mut con)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert!(
        out.contains("ROLLBACK_COMPLETE: its first create failed"),
        "{out}"
    );
    assert_eq!(delete.num_calls(), 1);
    assert_eq!(
        create.num_calls(),
        1,
        "a CREATE change set after the delete"
    );
    assert_eq!(r.status, Status::Deployed, "{out}");
}

#[tokio::test(start_paused = true)]
async fn rollback_complete_stack_without_yes_in_ci_is_refused() {
    let name = by_name(false, "ROLLBACK_COMPLETE");
    let delete = mock!(Client::delete_stack).then_output(|| DeleteStackOutput::builder().build());
    let c = clients(&[&name, &delete]);
    let (mut con, buf) = console(None);
    let r = deploy_stack(&c, &request(false, &[]), &mut con)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Refused, "{out}");
    assert_eq!(delete.num_calls(), 0);
    assert!(out.contains("run again with --yes"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn throttling_is_retried_by_the_sdk_and_then_by_our_backoff() {
    // Six throttles: more than the SDK's own attempts, so our backoff has to step in too.
    let throttled = mock!(Client::describe_stacks)
        .match_requests(|r| r.stack_name() == Some(STACK))
        .sequence()
        .http_status(400, Some(err_xml("Throttling", "Rate exceeded")))
        .times(6)
        .output(|| stack("UPDATE_COMPLETE"))
        .repeatedly()
        .build();
    let cs =
        mock!(Client::describe_change_set).then_output(|| change_set("CREATE_COMPLETE", vec![]));
    let arn = by_arn(&["UPDATE_COMPLETE"]);
    let (create, del) = (created(), deleted_change_set());
    let c = clients(&[&throttled, &arn, &create, &cs, &del]);
    let (mut con, buf) = console(None);
    let r = deploy_stack(&c, &request(true, &[]), &mut con)
        .await
        .expect("deploy despite throttling");
    assert_eq!(r.status, Status::NoChanges, "{}", text(&buf));
    assert!(throttled.num_calls() >= 7, "{}", throttled.num_calls());
}

#[tokio::test(start_paused = true)]
async fn busy_stack_is_refused() {
    let name = by_name(false, "UPDATE_IN_PROGRESS");
    let create = created();
    let c = clients(&[&name, &create]);
    let (mut con, buf) = console(None);
    let r = deploy_stack(&c, &request(true, &[]), &mut con)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Refused, "{out}");
    assert_eq!(r.exit_code, 3);
    assert_eq!(create.num_calls(), 0);
    assert!(out.contains("is UPDATE_IN_PROGRESS"), "{out}");
    assert!(out.contains("describe-stack-events"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn no_changes_from_a_failed_change_set() {
    let cs = mock!(Client::describe_change_set).then_output(|| {
        DescribeChangeSetOutput::builder()
            .status(ChangeSetStatus::Failed)
            .status_reason("The submitted information didn't contain changes. Submit different information to create a change set.")
            .build()
    });
    let name = by_name(false, "UPDATE_COMPLETE");
    let arn = by_arn(&["UPDATE_COMPLETE"]);
    let (create, del, exec) = (created(), deleted_change_set(), executed());
    let c = clients(&[&name, &arn, &create, &cs, &del, &exec]);
    let (mut con, buf) = console(None);
    let r = deploy_stack(&c, &request(false, &[]), &mut con)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::NoChanges, "{out}");
    assert_eq!(r.exit_code, 0);
    assert_eq!(del.num_calls(), 1, "the empty change set is deleted");
    assert_eq!(exec.num_calls(), 0);
    assert!(out.contains("no changes"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn no_changes_from_a_validation_error() {
    let create = mock!(Client::create_change_set)
        .sequence()
        .http_status(
            400,
            Some(err_xml(
                "ValidationError",
                "No updates are to be performed.",
            )),
        )
        .build();
    let name = by_name(false, "UPDATE_COMPLETE");
    let c = clients(&[&name, &create]);
    let (mut con, buf) = console(None);
    let r = deploy_stack(&c, &request(false, &[]), &mut con)
        .await
        .expect("deploy");
    assert_eq!(r.status, Status::NoChanges, "{}", text(&buf));
    assert_eq!(r.exit_code, 0);
}

#[tokio::test(start_paused = true)]
async fn no_changes_from_an_empty_change_set() {
    let cs =
        mock!(Client::describe_change_set).then_output(|| change_set("CREATE_COMPLETE", vec![]));
    let name = by_name(false, "UPDATE_COMPLETE");
    let arn = by_arn(&["UPDATE_COMPLETE"]);
    let (create, del, exec) = (created(), deleted_change_set(), executed());
    let c = clients(&[&name, &arn, &create, &cs, &del, &exec]);
    let (mut con, buf) = console(None);
    let r = deploy_stack(&c, &request(false, &[]), &mut con)
        .await
        .expect("deploy");
    assert_eq!(r.status, Status::NoChanges, "{}", text(&buf));
    assert_eq!(del.num_calls(), 1);
    assert_eq!(exec.num_calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn ctrl_c_while_executing_says_what_runs_and_how_to_roll_back() {
    let cs = mock!(Client::describe_change_set).then_output(|| {
        change_set(
            "CREATE_COMPLETE",
            vec![change(
                "Modify",
                "Db",
                "AWS::RDS::DBInstance",
                Some("False"),
                &[],
            )],
        )
    });
    let evs = mock!(Client::describe_stack_events)
        .sequence()
        .output(|| events(vec![stack_event("e0", "UPDATE_COMPLETE", None)]))
        .output(|| {
            events(vec![
                stack_event("e0", "UPDATE_COMPLETE", None),
                stack_event("e1", "UPDATE_IN_PROGRESS", None),
                event(
                    "e2",
                    "Db",
                    "AWS::RDS::DBInstance",
                    "UPDATE_IN_PROGRESS",
                    None,
                ),
            ])
        })
        .repeatedly()
        .build();
    let name = by_name(false, "UPDATE_COMPLETE");
    let arn = by_arn(&["UPDATE_IN_PROGRESS"]);
    let (create, exec) = (created(), executed());
    let c = clients(&[&name, &arn, &create, &cs, &exec, &evs]);
    let (mut con, buf, ctrl_c) = Console::capture(None);
    let trigger = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        ctrl_c.trigger();
    });
    let r = deploy_stack(&c, &request(true, &[]), &mut con)
        .await
        .expect("deploy");
    trigger.await.expect("trigger");
    let out = text(&buf);
    assert_eq!(r.status, Status::Interrupted, "{out}");
    assert_ne!(r.exit_code, 0);
    assert_eq!(exec.num_calls(), 1);
    assert!(out.contains("was NOT cancelled"), "{out}");
    assert!(out.contains("Still in progress: Db"), "{out}");
    assert!(
        out.contains("aws cloudformation cancel-update-stack --stack-name snowex-dev"),
        "{out}"
    );
    assert!(
        out.contains("aws cloudformation describe-stack-events --stack-name snowex-dev"),
        "{out}"
    );
}

#[tokio::test(start_paused = true)]
async fn expired_token_is_one_sentence_with_the_fix() {
    let name = mock!(Client::describe_stacks)
        .sequence()
        .http_status(
            403,
            Some(err_xml(
                "ExpiredToken",
                "The security token included in the request is expired",
            )),
        )
        .build();
    let c = clients(&[&name]);
    let (mut con, _) = console(None);
    let err = deploy_stack(&c, &request(true, &[]), &mut con)
        .await
        .expect_err("expired");
    let DeployError::Aws(aws) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(aws.kind, AwsErrorKind::ExpiredToken);
    let msg = err.to_string();
    assert!(msg.contains("has expired"), "{msg}");
    assert!(msg.contains("aws sso login"), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
}

#[tokio::test(start_paused = true)]
async fn destroy_delete_failed_names_the_resource_and_the_way_out() {
    use aws_sdk_cloudformation::operation::list_stack_resources::ListStackResourcesOutput;
    use aws_sdk_cloudformation::types::StackResourceSummary;
    use snowcdk::deploy::destroy::{DestroyRequest, destroy_stack};

    let name = by_name(false, "CREATE_COMPLETE");
    let arn = by_arn(&["DELETE_IN_PROGRESS", "DELETE_FAILED"]);
    let tpl = deployed_template();
    let list = mock!(Client::list_stack_resources).then_output(|| {
        ListStackResourcesOutput::builder()
            .stack_resource_summaries(
                StackResourceSummary::builder()
                    .logical_resource_id("Db")
                    .physical_resource_id("snowex-db")
                    .resource_type("AWS::RDS::DBInstance")
                    .resource_status(ResourceStatus::CreateComplete)
                    .last_updated_timestamp(
                        aws_sdk_cloudformation::primitives::DateTime::from_secs(0),
                    )
                    .build(),
            )
            .build()
    });
    let evs = mock!(Client::describe_stack_events)
        .sequence()
        .output(|| events(vec![stack_event("e0", "CREATE_COMPLETE", None)]))
        .output(|| {
            events(vec![
                stack_event("e0", "CREATE_COMPLETE", None),
                stack_event("e1", "DELETE_IN_PROGRESS", None),
                event(
                    "e2",
                    "Db",
                    "AWS::RDS::DBInstance",
                    "DELETE_FAILED",
                    Some("Cannot delete protected DB Instance, please disable deletion protection and try again."),
                ),
                stack_event("e3", "DELETE_FAILED", None),
            ])
        })
        .repeatedly()
        .build();
    let delete = mock!(Client::delete_stack).then_output(|| DeleteStackOutput::builder().build());
    let c = clients(&[&name, &arn, &tpl, &list, &evs, &delete]);
    let (mut con, buf) = console(None);
    let req = DestroyRequest {
        stack_name: STACK.into(),
        stage: None,
        yes: true,
        timing: Default::default(),
    };
    let r = destroy_stack(&c, &req, &mut con).await.expect("destroy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Failed, "{out}");
    assert_eq!(r.exit_code, 4);
    // No DeletionPolicy on a stand-alone instance: CloudFormation's default is Snapshot.
    assert!(
        out.contains("deleted after a final snapshot"),
        "the database row is flagged: {out}"
    );
    assert!(out.contains("Cannot delete protected DB Instance"), "{out}");
    assert!(out.contains("--retain-resources Db"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn ctrl_c_while_the_change_set_is_computed_deletes_it_and_executes_nothing() {
    let (mut con, buf, ctrl_c) = Console::capture(None);
    let cs = mock!(Client::describe_change_set).then_output(move || {
        ctrl_c.trigger();
        change_set("CREATE_IN_PROGRESS", vec![])
    });
    let name = by_name(false, "UPDATE_COMPLETE");
    let (create, exec, del) = (created(), executed(), deleted_change_set());
    let c = clients(&[&name, &create, &cs, &exec, &del]);
    let r = deploy_stack(&c, &request(true, &[]), &mut con)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Interrupted, "{out}");
    assert_eq!(r.exit_code, 130);
    assert_eq!(exec.num_calls(), 0, "nothing executed");
    assert_eq!(del.num_calls(), 1, "its change set is deleted");
    assert!(out.contains("nothing was executed"), "{out}");
    assert!(out.contains("was deleted"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn ctrl_c_during_the_last_change_set_poll_executes_nothing() {
    // The interrupt lands while the DescribeChangeSet that answers CREATE_COMPLETE is in flight:
    // the old engine executed the change set and exited 0.
    let (mut con, buf, ctrl_c) = Console::capture(None);
    let cs = mock!(Client::describe_change_set).then_output(move || {
        ctrl_c.trigger();
        change_set(
            "CREATE_COMPLETE",
            vec![change("Add", "Param", "AWS::SSM::Parameter", None, &[])],
        )
    });
    let name = by_name(false, "UPDATE_COMPLETE");
    let (create, exec, del) = (created(), executed(), deleted_change_set());
    let evs = update_events_ok();
    let c = clients(&[&name, &create, &cs, &exec, &del, &evs]);
    let r = deploy_stack(&c, &request(true, &[]), &mut con)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(exec.num_calls(), 0, "nothing executed: {out}");
    assert_eq!(r.status, Status::Interrupted, "{out}");
    assert_ne!(r.exit_code, 0);
    assert!(out.contains("nothing was executed"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn a_second_deploy_of_a_stack_under_review_is_refused_naming_the_change_set() {
    use aws_sdk_cloudformation::operation::list_change_sets::ListChangeSetsOutput;
    use aws_sdk_cloudformation::types::{ChangeSetSummary, ExecutionStatus};
    let pending = mock!(Client::list_change_sets).then_output(|| {
        ListChangeSetsOutput::builder()
            .summaries(
                ChangeSetSummary::builder()
                    .stack_id(ARN)
                    .stack_name(STACK)
                    .change_set_name("snowcdk-1700000000-0123456789ab")
                    .status(ChangeSetStatus::CreateComplete)
                    .execution_status(ExecutionStatus::Available)
                    .build(),
            )
            .build()
    });
    let name = by_name(false, "UPDATE_COMPLETE");
    let (create, exec) = (created(), executed());
    let c = clients(&[&pending, &name, &create, &exec]);
    let (mut con, buf) = console(None);
    let r = deploy_stack(&c, &request(true, &[]), &mut con)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Refused, "{out}");
    assert_eq!(r.exit_code, 3);
    assert_eq!(create.num_calls(), 0, "no second change set: {out}");
    assert!(out.contains("under review"), "{out}");
    assert!(out.contains("snowcdk-1700000000-0123456789ab"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn of_two_concurrent_deploys_the_newer_change_set_is_deleted_and_refused() {
    use aws_sdk_cloudformation::operation::list_change_sets::ListChangeSetsOutput;
    use aws_sdk_cloudformation::primitives::DateTime;
    use aws_sdk_cloudformation::types::{ChangeSetSummary, ExecutionStatus};
    // Both runs passed the first check; after creating, each sees the other. Ours is newer.
    let summary = |name: &str, secs: i64| {
        ChangeSetSummary::builder()
            .stack_id(ARN)
            .stack_name(STACK)
            .change_set_name(name)
            .status(ChangeSetStatus::CreatePending)
            .execution_status(ExecutionStatus::Unavailable)
            .creation_time(DateTime::from_secs(secs))
            .build()
    };
    let ours = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let ours_w = ours.clone();
    let create = mock!(Client::create_change_set).then_output(move || {
        CreateChangeSetOutput::builder()
            .id(CS_ARN)
            .stack_id(ARN)
            .build()
    });
    let record = mock!(Client::create_change_set)
        .match_requests(move |r| {
            if let Ok(mut o) = ours_w.lock() {
                *o = r.change_set_name().unwrap_or_default().to_owned();
            }
            false
        })
        .then_output(|| CreateChangeSetOutput::builder().build());
    let ours_r = ours.clone();
    let lists = mock!(Client::list_change_sets)
        .sequence()
        .output(|| ListChangeSetsOutput::builder().build())
        .output(move || {
            let mine = ours_r.lock().map(|o| o.clone()).unwrap_or_default();
            ListChangeSetsOutput::builder()
                .summaries(summary("snowcdk-1700000000-aaaaaaaaaaaa", 1_700_000_000))
                .summaries(summary(&mine, 1_700_000_005))
                .build()
        })
        .repeatedly()
        .build();
    let name = by_name(false, "UPDATE_COMPLETE");
    let (exec, del) = (executed(), deleted_change_set());
    let cs =
        mock!(Client::describe_change_set).then_output(|| change_set("CREATE_COMPLETE", vec![]));
    let c = clients(&[&lists, &record, &create, &name, &exec, &del, &cs]);
    let (mut con, buf) = console(None);
    let r = deploy_stack(&c, &request(true, &[]), &mut con)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Refused, "{out}");
    assert_eq!(del.num_calls(), 1, "ours is deleted: {out}");
    assert_eq!(exec.num_calls(), 0);
    assert!(out.contains("snowcdk-1700000000-aaaaaaaaaaaa"), "{out}");
}

#[test]
fn change_set_names_are_unique_per_run() {
    let names: std::collections::BTreeSet<String> = (0..50)
        .map(|_| snowcdk::deploy::change_set_name())
        .collect();
    assert_eq!(names.len(), 50, "{names:?}");
    for n in &names {
        assert!(n.starts_with("snowcdk-") && n.len() <= 128, "{n}");
        assert!(
            n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{n}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn unknown_parameters_are_an_error_before_any_call() {
    let c = clients(&[]);
    let mut req = request(true, &[]);
    req.parameters = vec![("LambdaImageUrl".into(), "x".into())];
    let (mut con, _) = console(None);
    let err = deploy_stack(&c, &req, &mut con)
        .await
        .expect_err("unknown parameter");
    assert!(matches!(err, DeployError::UnknownParameter { .. }), "{err}");
    assert!(err.to_string().contains("LambdaImageUrl"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn events_of_another_runs_operation_are_not_printed() {
    let cs = mock!(Client::describe_change_set).then_output(|| {
        change_set(
            "CREATE_COMPLETE",
            vec![change("Add", "Param", "AWS::SSM::Parameter", None, &[])],
        )
    });
    let foreign = |id: &str, logical: &str, status: &str| {
        let mut e = event(id, logical, "AWS::SSM::Parameter", status, None);
        e.client_request_token = Some("snowcdk-1700000000-0123456789ab".into());
        e
    };
    let evs = mock!(Client::describe_stack_events)
        .sequence()
        .output(|| events(vec![stack_event("e0", "CREATE_COMPLETE", None)]))
        .output(move || {
            events(vec![
                stack_event("e0", "CREATE_COMPLETE", None),
                foreign("x1", "OtherRunsParam", "CREATE_IN_PROGRESS"),
                stack_event("e1", "UPDATE_IN_PROGRESS", None),
                event(
                    "e2",
                    "Param",
                    "AWS::SSM::Parameter",
                    "CREATE_COMPLETE",
                    None,
                ),
                stack_event("e3", "UPDATE_COMPLETE", None),
            ])
        })
        .repeatedly()
        .build();
    let name = by_name(false, "UPDATE_COMPLETE");
    let arn = by_arn(&["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]);
    let (create, exec) = (created(), executed());
    let c = clients(&[&name, &arn, &create, &cs, &exec, &evs]);
    let (mut con, buf) = console(None);
    let r = deploy_stack(&c, &request(true, &[]), &mut con)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Deployed, "{out}");
    assert!(out.contains("Param (AWS::SSM::Parameter)"), "{out}");
    assert!(!out.contains("OtherRunsParam"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn destroy_yes_interrupted_while_listing_resources_deletes_nothing() {
    // With --yes there is no prompt: a Ctrl-C that lands while the resources are listed used to
    // be ignored, and DeleteStack was sent anyway.
    use aws_sdk_cloudformation::operation::list_stack_resources::ListStackResourcesOutput;
    use snowcdk::deploy::destroy::{DestroyRequest, destroy_stack};

    let (mut con, buf, ctrl_c) = Console::capture(None);
    let name = by_name(false, "CREATE_COMPLETE");
    let tpl = deployed_template();
    let list = mock!(Client::list_stack_resources).then_output(move || {
        ctrl_c.trigger();
        ListStackResourcesOutput::builder().build()
    });
    let evs = mock!(Client::describe_stack_events)
        .then_output(|| events(vec![stack_event("e0", "CREATE_COMPLETE", None)]));
    let delete = mock!(Client::delete_stack).then_output(|| DeleteStackOutput::builder().build());
    let c = clients(&[&name, &tpl, &list, &evs, &delete]);
    let req = DestroyRequest {
        stack_name: STACK.into(),
        stage: None,
        yes: true,
        timing: Default::default(),
    };
    let r = destroy_stack(&c, &req, &mut con).await.expect("destroy");
    let out = text(&buf);
    assert_eq!(delete.num_calls(), 0, "DeleteStack was sent: {out}");
    assert_eq!(r.status, Status::Interrupted, "{out}");
    assert_eq!(r.exit_code, 130);
    assert!(out.contains("nothing was deleted"), "{out}");
}

/// The template with an image parameter whose default is `default`.
fn with_image(default: &str) -> String {
    format!(
        r#"{{"Parameters":{{"Image":{{"Type":"String","Default":"{default}"}}}},"Resources":{{
  "Db":{{"Type":"AWS::RDS::DBInstance","Properties":{{"Engine":"postgres"}}}},
  "Param":{{"Type":"AWS::SSM::Parameter","Properties":{{"Type":"String","Value":{{"Ref":"Image"}}}}}}}}}}"#
    )
}

/// DescribeStacks by name or ARN: an UPDATE_COMPLETE stack whose `Image` parameter is `value`.
fn stack_with_image(value: &'static str) -> Rule {
    mock!(Client::describe_stacks).then_output(move || {
        DescribeStacksOutput::builder()
            .stacks(
                Stack::builder()
                    .stack_name(STACK)
                    .stack_id(ARN)
                    .stack_status(StackStatus::UpdateComplete)
                    .parameters(
                        aws_sdk_cloudformation::types::Parameter::builder()
                            .parameter_key("Image")
                            .parameter_value(value)
                            .build(),
                    )
                    .build(),
            )
            .build()
    })
}

fn deployed_with_image(default: &'static str) -> Rule {
    mock!(Client::get_template).then_output(move || {
        GetTemplateOutput::builder()
            .template_body(with_image(default))
            .build()
    })
}

#[tokio::test(start_paused = true)]
async fn an_unchanged_template_and_parameters_make_no_change_set_unless_forced() {
    let stack = stack_with_image("repo:ci-7");
    let tpl = deployed_with_image("repo:v1");
    let cs =
        mock!(Client::describe_change_set).then_output(|| change_set("CREATE_COMPLETE", vec![]));
    let (create, del) = (created(), deleted_change_set());
    let c = clients(&[&stack, &tpl, &create, &cs, &del]);
    let (mut con, buf) = console(None);
    let mut req = DeployRequest::new(STACK, with_image("repo:v1"));
    // Re-serialized by CloudFormation: equal as JSON, not as text.
    req.template_body = serde_json::to_string_pretty(
        &serde_json::from_str::<serde_json::Value>(&with_image("repo:v1")).unwrap(),
    )
    .unwrap();
    let r = deploy_stack(&c, &req, &mut con).await.expect("deploy");
    assert_eq!(r.status, Status::NoChanges, "{}", text(&buf));
    assert_eq!(create.num_calls(), 0, "no change set without --force");
    assert!(
        text(&buf).contains("no change set was created"),
        "{}",
        text(&buf)
    );

    // --force: CloudFormation is asked, and says there is nothing to do.
    req.force = true;
    let (mut con, buf) = console(None);
    let r = deploy_stack(&c, &req, &mut con).await.expect("deploy");
    assert_eq!(r.status, Status::NoChanges, "{}", text(&buf));
    assert_eq!(create.num_calls(), 1);

    // The same template with another value on the command line is a change.
    req.force = false;
    req.parameters = vec![("Image".into(), "repo:v9".into())];
    let (mut con, _buf) = console(None);
    deploy_stack(&c, &req, &mut con).await.expect("deploy");
    assert_eq!(create.num_calls(), 2);
}

/// What CreateChangeSet carried for one parameter: `ParameterValue`, `UsePreviousValue`.
type SentParameter = (Option<String>, Option<bool>);

/// Runs an update of `new_default` over a stack deployed with default `old_default` and value
/// `value`; returns what CreateChangeSet was sent for `Image` and the printed text.
async fn image_parameter_sent(
    old_default: &'static str,
    value: &'static str,
    new_default: &'static str,
    overrides: &[(&str, &str)],
) -> (Option<String>, Option<bool>, String, StackResult) {
    let sent: Arc<Mutex<Option<SentParameter>>> = Arc::default();
    let seen = sent.clone();
    let create = mock!(Client::create_change_set)
        .match_requests(move |r| {
            let p = r
                .parameters()
                .iter()
                .find(|p| p.parameter_key() == Some("Image"));
            *seen.lock().unwrap() = Some((
                p.and_then(|p| p.parameter_value().map(str::to_owned)),
                p.and_then(|p| p.use_previous_value()),
            ));
            true
        })
        .then_output(|| {
            CreateChangeSetOutput::builder()
                .id(CS_ARN)
                .stack_id(ARN)
                .build()
        });
    let cs = mock!(Client::describe_change_set).then_output(|| {
        change_set(
            "CREATE_COMPLETE",
            vec![change(
                "Modify",
                "Param",
                "AWS::SSM::Parameter",
                Some("False"),
                &[],
            )],
        )
    });
    let (stack, tpl, del) = (
        stack_with_image(value),
        deployed_with_image(old_default),
        deleted_change_set(),
    );
    let c = clients(&[&stack, &tpl, &create, &cs, &del]);
    let (mut con, buf) = console(None);
    let mut req = DeployRequest::new(STACK, with_image(new_default));
    req.no_execute = true;
    // Always ask CloudFormation, so the request shows what would be sent even when nothing
    // changes.
    req.force = true;
    req.parameters = overrides
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let r = deploy_stack(&c, &req, &mut con).await.expect("deploy");
    let (value, previous) = sent.lock().unwrap().clone().unwrap_or_default();
    (value, previous, text(&buf), r)
}

#[tokio::test(start_paused = true)]
async fn an_edited_default_is_sent_and_shown_old_to_new() {
    let (value, previous, out, r) =
        image_parameter_sent("repo:v1", "repo:v1", "repo:v2", &[]).await;
    assert_eq!(value.as_deref(), Some("repo:v2"), "{out}");
    assert_ne!(previous, Some(true));
    assert!(
        out.contains("parameter Image: repo:v1 -> repo:v2 (template default changed)"),
        "{out}"
    );
    assert_eq!(r.parameters[0].new.as_deref(), Some("repo:v2"));
}

#[tokio::test(start_paused = true)]
async fn a_value_set_at_deploy_time_is_kept_while_the_default_is_unchanged() {
    let (value, previous, out, _) =
        image_parameter_sent("repo:v1", "repo:ci-7", "repo:v1", &[]).await;
    assert_eq!(value, None, "{out}");
    assert_eq!(previous, Some(true), "{out}");
    assert!(!out.contains("parameter Image:"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn the_command_line_wins_over_an_edited_default() {
    let (value, _, out, _) =
        image_parameter_sent("repo:v1", "repo:ci-7", "repo:v2", &[("Image", "repo:v3")]).await;
    assert_eq!(value.as_deref(), Some("repo:v3"), "{out}");
    assert!(
        out.contains("parameter Image: repo:ci-7 -> repo:v3 (--parameters)"),
        "{out}"
    );
}

#[tokio::test(start_paused = true)]
async fn new_secret_generation_options_are_gated_like_a_replacement() {
    let cs = mock!(Client::describe_change_set).then_output(|| {
        change_set(
            "CREATE_COMPLETE",
            vec![change(
                "Modify",
                "DbSecret",
                "AWS::SecretsManager::Secret",
                Some("False"),
                &[("GenerateSecretString", RequiresRecreation::Never)],
            )],
        )
    });
    let name = by_name(false, "UPDATE_COMPLETE");
    let (create, del, exec) = (created(), deleted_change_set(), executed());
    let c = clients(&[&name, &create, &cs, &del, &exec]);
    let (mut con, buf) = console(None);
    let r = deploy_stack(&c, &request(true, &[]), &mut con)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Refused, "{out}");
    assert_eq!(exec.num_calls(), 0);
    assert!(out.contains("GenerateSecretString"), "{out}");
    assert!(
        r.message
            .as_deref()
            .is_some_and(|m| m.contains("AWS::SecretsManager::Secret")),
        "{:?}",
        r.message
    );
}

/// SetStackPolicy, recording each body; the calls numbered in `fail` (from 1) are refused.
fn recorded_policies(fail: &'static [usize]) -> (Rule, Arc<Mutex<Vec<String>>>) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let rec = seen.clone();
    let rule = mock!(Client::set_stack_policy)
        .match_requests(move |r| {
            if let Ok(mut v) = rec.lock() {
                v.push(r.stack_policy_body().unwrap_or_default().to_owned());
            }
            true
        })
        .sequence();
    let mut rule = rule;
    for n in 1..=4 {
        rule = if fail.contains(&n) {
            rule.http_status(
                403,
                Some(err_xml(
                    "AccessDenied",
                    "not allowed: cloudformation:SetStackPolicy",
                )),
            )
        } else {
            rule.output(|| {
                aws_sdk_cloudformation::operation::set_stack_policy::SetStackPolicyOutput::builder()
                    .build()
            })
        };
    }
    (rule.build(), seen)
}

/// A change set that replaces the database (approved with --allow-replacement and --yes).
fn db_replacement() -> Rule {
    mock!(Client::describe_change_set).then_output(|| {
        change_set(
            "CREATE_COMPLETE",
            vec![change(
                "Modify",
                "Db",
                "AWS::RDS::DBInstance",
                Some("True"),
                &[("Engine", RequiresRecreation::Always)],
            )],
        )
    })
}

/// The strict policy of [`TEMPLATE`] denies replacing the database; the temporary one does not.
fn names_db(body: &str) -> bool {
    body.contains("\"LogicalResourceId/Db\"")
}

#[tokio::test(start_paused = true)]
async fn an_approved_replacement_that_rolls_back_leaves_the_strict_policy() {
    let cs = db_replacement();
    let evs = mock!(Client::describe_stack_events)
        .sequence()
        .output(|| events(vec![stack_event("e0", "UPDATE_COMPLETE", None)]))
        .output(|| {
            events(vec![
                stack_event("e0", "UPDATE_COMPLETE", None),
                stack_event("e1", "UPDATE_IN_PROGRESS", None),
                event(
                    "e2",
                    "Db",
                    "AWS::RDS::DBInstance",
                    "UPDATE_FAILED",
                    Some("DB instance class not offered"),
                ),
                stack_event("e3", "UPDATE_ROLLBACK_COMPLETE", None),
            ])
        })
        .repeatedly()
        .build();
    let name = by_name(false, "UPDATE_COMPLETE");
    let arn = by_arn(&["UPDATE_ROLLBACK_COMPLETE"]);
    let (create, exec, tpl) = (created(), executed(), deployed_template());
    let (policies, seen) = recorded_policies(&[]);
    let c = clients(&[&name, &arn, &create, &cs, &exec, &evs, &tpl, &policies]);
    let (mut con, buf) = console(None);
    let r = deploy_stack(&c, &request(true, &["AWS::RDS::DBInstance"]), &mut con)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::RolledBack, "{out}");
    assert_eq!(exec.num_calls(), 1);
    let seen = seen.lock().expect("bodies").clone();
    assert_eq!(seen.len(), 2, "temporary, then strict: {seen:?}");
    assert!(
        !names_db(&seen[0]),
        "the temporary policy allows Db: {}",
        seen[0]
    );
    assert!(names_db(&seen[1]), "the strict policy is back: {}", seen[1]);
    assert!(out.contains("stack policy: strict again (Db"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn ctrl_c_while_an_approved_replacement_runs_restores_the_strict_policy() {
    let cs = db_replacement();
    let evs = mock!(Client::describe_stack_events)
        .sequence()
        .output(|| events(vec![stack_event("e0", "UPDATE_COMPLETE", None)]))
        .output(|| {
            events(vec![
                stack_event("e0", "UPDATE_COMPLETE", None),
                stack_event("e1", "UPDATE_IN_PROGRESS", None),
            ])
        })
        .repeatedly()
        .build();
    let name = by_name(false, "UPDATE_COMPLETE");
    let arn = by_arn(&["UPDATE_IN_PROGRESS"]);
    let (create, exec, tpl) = (created(), executed(), deployed_template());
    let (policies, seen) = recorded_policies(&[]);
    let c = clients(&[&name, &arn, &create, &cs, &exec, &evs, &tpl, &policies]);
    let (mut con, buf, ctrl_c) = Console::capture(None);
    let trigger = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        ctrl_c.trigger();
    });
    let r = deploy_stack(&c, &request(true, &["AWS::RDS::DBInstance"]), &mut con)
        .await
        .expect("deploy");
    trigger.await.expect("trigger");
    let out = text(&buf);
    assert_eq!(r.status, Status::Interrupted, "{out}");
    assert_eq!(exec.num_calls(), 1);
    let seen = seen.lock().expect("bodies").clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(!names_db(&seen[0]) && names_db(&seen[1]), "{seen:?}");
    assert!(out.contains("was NOT cancelled"), "{out}");
    assert!(out.contains("the update was still running"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn a_failed_restore_says_so_with_the_command_to_run() {
    let cs = db_replacement();
    let name = by_name(false, "UPDATE_COMPLETE");
    let arn = by_arn(&["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]);
    let (create, exec, tpl, evs) = (
        created(),
        executed(),
        deployed_template(),
        update_events_ok(),
    );
    let (policies, seen) = recorded_policies(&[2]);
    let c = clients(&[&name, &arn, &create, &cs, &exec, &evs, &tpl, &policies]);
    let (mut con, buf) = console(None);
    let r = deploy_stack(&c, &request(true, &["AWS::RDS::DBInstance"]), &mut con)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Deployed, "{out}");
    let strict = seen.lock().expect("bodies")[1].clone();
    assert!(names_db(&strict));
    let command = format!(
        "aws cloudformation set-stack-policy --stack-name {STACK} --stack-policy-body '{strict}'"
    );
    assert!(
        out.contains("could not restore the strict stack policy"),
        "{out}"
    );
    assert!(out.contains(&command), "{out}");
    assert!(
        r.message.as_deref().is_some_and(|m| m.contains(&command)),
        "{:?}",
        r.message
    );
}

#[tokio::test(start_paused = true)]
async fn an_approved_replacement_is_not_executed_when_the_temporary_policy_cannot_be_set() {
    let cs = db_replacement();
    let name = by_name(false, "UPDATE_COMPLETE");
    let (create, exec, tpl, del) = (
        created(),
        executed(),
        deployed_template(),
        deleted_change_set(),
    );
    let (policies, _) = recorded_policies(&[1]);
    let evs = update_events_ok();
    let c = clients(&[&name, &create, &cs, &exec, &tpl, &del, &evs, &policies]);
    let (mut con, buf) = console(None);
    let r = deploy_stack(&c, &request(true, &["AWS::RDS::DBInstance"]), &mut con)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Refused, "{out}");
    assert_eq!(exec.num_calls(), 0);
    assert_eq!(del.num_calls(), 1, "the change set is discarded");
    assert!(out.contains("nothing was executed"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn a_protected_stage_is_created_with_the_strict_policy_and_termination_protection() {
    let cs = mock!(Client::describe_change_set).then_output(|| {
        change_set(
            "CREATE_COMPLETE",
            vec![
                change("Add", "Db", "AWS::RDS::DBInstance", None, &[]),
                change("Add", "Param", "AWS::SSM::Parameter", None, &[]),
            ],
        )
    });
    let evs = create_events();
    let name = by_name(true, "CREATE_COMPLETE");
    let arn = by_arn(&["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]);
    let (create, exec) = (created(), executed());
    let (policies, seen) = recorded_policies(&[]);
    let protect = mock!(Client::update_termination_protection)
        .match_requests(|r| r.enable_termination_protection() == Some(true))
        .then_output(|| {
            aws_sdk_cloudformation::operation::update_termination_protection::UpdateTerminationProtectionOutput::builder().build()
        });
    let c = clients(&[&name, &arn, &create, &cs, &evs, &exec, &policies, &protect]);
    let (mut con, buf) = console(None);
    let mut req = request(true, &[]);
    req.termination_protection = true;
    let r = deploy_stack(&c, &req, &mut con).await.expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Deployed, "{out}");
    let seen = seen.lock().expect("bodies").clone();
    assert_eq!(seen.len(), 1, "set once, after the create: {seen:?}");
    assert!(names_db(&seen[0]));
    assert_eq!(protect.num_calls(), 1);
    assert!(out.contains("termination protection on"), "{out}");

    // An unprotected stage: no termination protection call.
    let protect_none = mock!(Client::update_termination_protection).then_output(|| {
        aws_sdk_cloudformation::operation::update_termination_protection::UpdateTerminationProtectionOutput::builder().build()
    });
    let name = by_name(true, "CREATE_COMPLETE");
    let arn = by_arn(&["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]);
    let evs = create_events();
    let c = clients(&[&name, &arn, &create, &cs, &evs, &exec, &protect_none]);
    let (mut con, buf) = console(None);
    let r = deploy_stack(&c, &request(true, &[]), &mut con)
        .await
        .expect("deploy");
    assert_eq!(r.status, Status::Deployed, "{}", text(&buf));
    assert_eq!(protect_none.num_calls(), 0);
}

/// A create's events: the review stack before, the created stack after.
fn create_events() -> Rule {
    mock!(Client::describe_stack_events)
        .sequence()
        .output(|| events(vec![stack_event("e0", "REVIEW_IN_PROGRESS", None)]))
        .output(|| {
            events(vec![
                stack_event("e0", "REVIEW_IN_PROGRESS", None),
                stack_event("e1", "CREATE_IN_PROGRESS", None),
                stack_event("e2", "CREATE_COMPLETE", None),
            ])
        })
        .repeatedly()
        .build()
}

/// A stack with termination protection, its template and resources, for destroy.
fn protected_stack() -> Rule {
    mock!(Client::describe_stacks)
        .match_requests(|r| r.stack_name() == Some(STACK))
        .then_output(|| {
            DescribeStacksOutput::builder()
                .stacks(
                    Stack::builder()
                        .stack_name(STACK)
                        .stack_id(ARN)
                        .stack_status(StackStatus::UpdateComplete)
                        .enable_termination_protection(true)
                        .build(),
                )
                .build()
        })
}

fn resources() -> Rule {
    mock!(Client::list_stack_resources).then_output(|| {
        aws_sdk_cloudformation::operation::list_stack_resources::ListStackResourcesOutput::builder()
            .stack_resource_summaries(
                aws_sdk_cloudformation::types::StackResourceSummary::builder()
                    .logical_resource_id("Param")
                    .physical_resource_id("p")
                    .resource_type("AWS::SSM::Parameter")
                    .resource_status(aws_sdk_cloudformation::types::ResourceStatus::CreateComplete)
                    .build(),
            )
            .build()
    })
}

#[tokio::test(start_paused = true)]
async fn destroy_lifts_termination_protection_only_after_the_typed_stack_name() {
    use snowcdk::deploy::Timing;
    use snowcdk::deploy::destroy::{DestroyRequest, destroy_stack};
    let name = protected_stack();
    let arn = by_arn(&["DELETE_IN_PROGRESS", "DELETE_COMPLETE"]);
    let evs = mock!(Client::describe_stack_events)
        .then_output(|| events(vec![stack_event("e0", "UPDATE_COMPLETE", None)]));
    let (tpl, res) = (deployed_template(), resources());
    let lift = mock!(Client::update_termination_protection)
        .match_requests(|r| r.enable_termination_protection() == Some(false))
        .then_output(|| {
            aws_sdk_cloudformation::operation::update_termination_protection::UpdateTerminationProtectionOutput::builder().build()
        });
    let delete = mock!(Client::delete_stack).then_output(|| DeleteStackOutput::builder().build());
    // The deployed template's database has no DeletionProtection: only termination protection.
    let c = clients(&[&name, &arn, &evs, &tpl, &res, &lift, &delete]);
    let mut req = DestroyRequest {
        stack_name: STACK.to_owned(),
        stage: None,
        yes: true,
        timing: Timing::default(),
    };

    // --yes does not lift it.
    let (mut con, buf) = console(None);
    let r = destroy_stack(&c, &req, &mut con).await.expect("destroy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Refused, "{out}");
    assert!(out.contains("has termination protection"), "{out}");
    assert!(
        out.contains("update-termination-protection --no-enable-termination-protection"),
        "{out}"
    );
    assert_eq!((lift.num_calls(), delete.num_calls()), (0, 0));

    // A wrong answer at the prompt: nothing lifted, nothing deleted.
    req.yes = false;
    let (mut con, buf) = console(Some("y"));
    let r = destroy_stack(&c, &req, &mut con).await.expect("destroy");
    assert_eq!(r.status, Status::Refused, "{}", text(&buf));
    assert_eq!((lift.num_calls(), delete.num_calls()), (0, 0));

    // The typed stack name: lifted, then deleted.
    let (mut con, buf) = console(Some(STACK));
    let r = destroy_stack(&c, &req, &mut con).await.expect("destroy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Destroyed, "{out}");
    assert_eq!((lift.num_calls(), delete.num_calls()), (1, 1));
    assert!(out.contains("termination protection turned off"), "{out}");
}

/// The live resource decides over the deployed template: protection switched on outside
/// CloudFormation is refused; switched off, the delete goes ahead.
#[tokio::test(start_paused = true)]
async fn destroy_goes_by_the_live_deletion_protection_over_the_template() {
    use aws_sdk_cloudformation::operation::detect_stack_resource_drift::DetectStackResourceDriftOutput;
    use aws_sdk_cloudformation::types::StackResourceDrift;
    use snowcdk::deploy::Timing;
    use snowcdk::deploy::destroy::{DestroyRequest, destroy_stack};

    fn drift(protected: bool) -> Rule {
        mock!(Client::detect_stack_resource_drift)
            .match_requests(|r| r.logical_resource_id() == Some("Db"))
            .then_output(move || {
                DetectStackResourceDriftOutput::builder()
                    .stack_resource_drift(
                        StackResourceDrift::builder()
                            .logical_resource_id("Db")
                            .actual_properties(format!(
                                r#"{{"Engine":"postgres","DeletionProtection":{protected}}}"#
                            ))
                            .build(),
                    )
                    .build()
            })
    }
    fn db_resources() -> Rule {
        mock!(Client::list_stack_resources).then_output(|| {
            aws_sdk_cloudformation::operation::list_stack_resources::ListStackResourcesOutput::builder()
                .stack_resource_summaries(
                    aws_sdk_cloudformation::types::StackResourceSummary::builder()
                        .logical_resource_id("Db")
                        .physical_resource_id("snowex-dev-db")
                        .resource_type("AWS::RDS::DBInstance")
                        .resource_status(aws_sdk_cloudformation::types::ResourceStatus::CreateComplete)
                        .build(),
                )
                .build()
        })
    }
    let req = DestroyRequest {
        stack_name: STACK.to_owned(),
        stage: None,
        yes: true,
        timing: Timing::default(),
    };

    // The template leaves DeletionProtection unset; the instance has it on.
    let name = by_name(false, "UPDATE_COMPLETE");
    let (tpl, res, live_on) = (deployed_template(), db_resources(), drift(true));
    let delete = mock!(Client::delete_stack).then_output(|| DeleteStackOutput::builder().build());
    let c = clients(&[&name, &tpl, &res, &live_on, &delete]);
    let (mut con, buf) = console(None);
    let r = destroy_stack(&c, &req, &mut con).await.expect("destroy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Refused, "{out}");
    assert_eq!(delete.num_calls(), 0);
    assert!(
        out.contains("Db (AWS::RDS::DBInstance snowex-dev-db) has DeletionProtection on (read from the resource itself)"),
        "{out}"
    );

    // The template says on; the instance has it off: deleted.
    let protected_template = mock!(Client::get_template).then_output(|| {
        GetTemplateOutput::builder()
            .template_body(
                r#"{"Resources":{"Db":{"Type":"AWS::RDS::DBInstance","Properties":{"DeletionProtection":true}}}}"#,
            )
            .build()
    });
    let name = by_name(false, "UPDATE_COMPLETE");
    let arn = by_arn(&["DELETE_IN_PROGRESS", "DELETE_COMPLETE"]);
    let evs = mock!(Client::describe_stack_events)
        .then_output(|| events(vec![stack_event("e0", "UPDATE_COMPLETE", None)]));
    let live_off = drift(false);
    let c = clients(&[
        &name,
        &arn,
        &evs,
        &protected_template,
        &res,
        &live_off,
        &delete,
    ]);
    let (mut con, buf) = console(None);
    let r = destroy_stack(&c, &req, &mut con).await.expect("destroy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Destroyed, "{out}");
    assert_eq!(delete.num_calls(), 1);

    // Without a live answer, the template decides: on, refused.
    let name = by_name(false, "UPDATE_COMPLETE");
    let delete = mock!(Client::delete_stack).then_output(|| DeleteStackOutput::builder().build());
    let c = clients(&[&name, &protected_template, &res, &delete]);
    let (mut con, buf) = console(None);
    let r = destroy_stack(&c, &req, &mut con).await.expect("destroy");
    let out = text(&buf);
    assert_eq!(r.status, Status::Refused, "{out}");
    assert_eq!(delete.num_calls(), 0);
    assert!(out.contains("(in the deployed template)"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn a_live_minor_version_past_the_configured_one_is_kept_in_the_template_sent() {
    use aws_sdk_cloudformation::operation::describe_stack_resource::DescribeStackResourceOutput;
    use aws_sdk_cloudformation::types::StackResourceDetail;
    use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
    use aws_sdk_rds::types::DbInstance;

    const DEPLOYED: &str = r#"{"Resources":{
  "Db":{"Type":"AWS::RDS::DBInstance","Properties":{"Engine":"postgres","EngineVersion":"17.11"}},
  "Param":{"Type":"AWS::SSM::Parameter","Properties":{"Type":"String","Value":"v"}}}}"#;
    // The config still says 17.11; only the parameter's value changes.
    let new_body = DEPLOYED.replace(r#""Value":"v""#, r#""Value":"v2""#);
    let tpl = mock!(Client::get_template)
        .then_output(|| GetTemplateOutput::builder().template_body(DEPLOYED).build());
    let res = mock!(Client::describe_stack_resource)
        .match_requests(|r| r.logical_resource_id() == Some("Db"))
        .then_output(|| {
            DescribeStackResourceOutput::builder()
                .stack_resource_detail(
                    StackResourceDetail::builder()
                        .physical_resource_id("snowex-dev-db")
                        .build(),
                )
                .build()
        });
    // The change set is created only with the live version in the body (else no rule matches).
    let create = mock!(Client::create_change_set)
        .match_requests(|r| {
            r.template_body().is_some_and(|b| {
                let v: serde_json::Value = serde_json::from_str(b).unwrap_or_default();
                v["Resources"]["Db"]["Properties"]["EngineVersion"] == "17.12"
                    && v["Resources"]["Param"]["Properties"]["Value"] == "v2"
            })
        })
        .then_output(|| {
            CreateChangeSetOutput::builder()
                .id(CS_ARN)
                .stack_id(ARN)
                .build()
        });
    let cs = mock!(Client::describe_change_set).then_output(|| {
        change_set(
            "CREATE_COMPLETE",
            vec![change(
                "Modify",
                "Param",
                "AWS::SSM::Parameter",
                Some("False"),
                &[],
            )],
        )
    });
    let name = by_name(false, "UPDATE_COMPLETE");
    let db = mock!(aws_sdk_rds::Client::describe_db_instances)
        .match_requests(|r| r.db_instance_identifier() == Some("snowex-dev-db"))
        .then_output(|| {
            DescribeDbInstancesOutput::builder()
                .db_instances(DbInstance::builder().engine_version("17.12").build())
                .build()
        });
    let rds = mock_client!(aws_sdk_rds, RuleMode::MatchAny, &[&db]);
    let c = clients(&[&name, &tpl, &res, &create, &cs]).with_rds(rds);
    let mut req = DeployRequest::new(STACK, new_body);
    req.no_execute = true;
    // Preflight has its own tests; this one scripts only the version read.
    req.skip_preflight = true;
    let (mut con, buf) = console(None);
    let r = deploy_stack(&c, &req, &mut con).await.expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::NotExecuted, "{out}");
    assert_eq!(create.num_calls(), 1, "{out}");
    assert_eq!(db.num_calls(), 1);
    assert!(
        out.contains("Db: RDS already runs postgres 17.12 (automatic minor upgrade), newer than the configured 17.11; keeping 17.12 in the template sent"),
        "{out}"
    );
}
