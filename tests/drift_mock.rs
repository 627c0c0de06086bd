//! Drift detection as CloudFormation answers it, replayed with `aws-smithy-mocks` (moto has
//! none): each stack and resource status, property differences over several pages, a failed
//! detection, a missing stack, Ctrl-C and the time bound while waiting; and deploy's warning
//! about drifted resources the change set modifies, from the last detection (one extra call at
//! most, none when the stack is in sync or was never checked) or a fresh one (`--check-drift`).
//! tokio's clock is paused, so the real poll intervals cost no wall time.

use std::sync::{Arc, Mutex};

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::operation::create_change_set::CreateChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_stack_drift_detection_status::DescribeStackDriftDetectionStatusOutput;
use aws_sdk_cloudformation::operation::describe_stack_resource_drifts::DescribeStackResourceDriftsOutput;
use aws_sdk_cloudformation::operation::describe_stacks::DescribeStacksOutput;
use aws_sdk_cloudformation::operation::detect_stack_drift::DetectStackDriftOutput;
use aws_sdk_cloudformation::operation::get_template::GetTemplateOutput;
use aws_sdk_cloudformation::operation::list_change_sets::ListChangeSetsOutput;
use aws_sdk_cloudformation::primitives::DateTime;
use aws_sdk_cloudformation::types::{
    Change, ChangeAction, ChangeSetStatus, ChangeType, DifferenceType, PropertyDifference,
    Replacement, ResourceChange, Stack, StackDriftDetectionStatus, StackDriftInformation,
    StackDriftStatus, StackResourceDrift, StackResourceDriftStatus, StackStatus,
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use snowcdk::deploy::drift::{DriftTiming, detect};
use snowcdk::deploy::{
    Clients, Console, DeployRequest, DriftError, ResourceDriftStatus, StackDrift, Status,
    deploy_stack,
};

const STACK: &str = "snowex-dev";
const ARN: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/snowex-dev/abc";
const CS_ARN: &str = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/snowcdk-1/def";
const DETECTION: &str = "b78ac9b0-dec1-11e7-a451-503a3e18bbbb";

const TEMPLATE: &str = r#"{"Resources":{
  "Api":{"Type":"AWS::Lambda::Function","Properties":{"MemorySize":1024,"Timeout":30}},
  "Param":{"Type":"AWS::SSM::Parameter","Properties":{"Type":"String","Value":"v"}}}}"#;

fn err_xml(code: &str, message: &str) -> String {
    format!(
        r#"<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>req-1</RequestId></ErrorResponse>"#
    )
}

fn started() -> Rule {
    mock!(Client::detect_stack_drift)
        .match_requests(|r| r.stack_name() == Some(STACK))
        .then_output(|| {
            DetectStackDriftOutput::builder()
                .stack_drift_detection_id(DETECTION)
                .build()
        })
}

fn status(
    detection: &str,
    stack: Option<&str>,
    reason: Option<&str>,
) -> DescribeStackDriftDetectionStatusOutput {
    let mut b = DescribeStackDriftDetectionStatusOutput::builder()
        .stack_id(ARN)
        .stack_drift_detection_id(DETECTION)
        .detection_status(StackDriftDetectionStatus::from(detection))
        .set_detection_status_reason(reason.map(str::to_owned))
        .timestamp(DateTime::from_secs(1_764_787_200));
    if let Some(s) = stack {
        b = b.stack_drift_status(StackDriftStatus::from(s));
    }
    b.build()
}

/// The detection's status: in progress twice, then `last`.
fn polled(last: &'static str, stack: Option<&'static str>, reason: Option<&'static str>) -> Rule {
    mock!(Client::describe_stack_drift_detection_status)
        .match_requests(|r| r.stack_drift_detection_id() == Some(DETECTION))
        .sequence()
        .output(|| status("DETECTION_IN_PROGRESS", None, None))
        .output(|| status("DETECTION_IN_PROGRESS", None, None))
        .output(move || status(last, stack, reason))
        .repeatedly()
        .build()
}

fn resource(logical: &str, ty: &str, st: &str, diffs: &[(&str, &str, &str)]) -> StackResourceDrift {
    let mut b = StackResourceDrift::builder()
        .stack_id(ARN)
        .logical_resource_id(logical)
        .physical_resource_id(format!("{logical}-phys"))
        .resource_type(ty)
        .stack_resource_drift_status(StackResourceDriftStatus::from(st))
        .timestamp(DateTime::from_secs(1_764_787_200));
    for (path, expected, actual) in diffs {
        b = b.property_differences(
            PropertyDifference::builder()
                .property_path(*path)
                .expected_value(*expected)
                .actual_value(*actual)
                .difference_type(DifferenceType::NotEqual)
                .build(),
        );
    }
    b.build()
}

/// DescribeStackResourceDrifts: `pages` in order (each but the last with a next token).
fn drifts(pages: Vec<Vec<StackResourceDrift>>) -> Rule {
    drifts_filtered(pages, None)
}

/// [`drifts`], answering only requests with exactly these status filters (any when `None`).
fn drifts_filtered(
    pages: Vec<Vec<StackResourceDrift>>,
    filters: Option<&'static [StackResourceDriftStatus]>,
) -> Rule {
    let n = pages.len();
    let mut r = mock!(Client::describe_stack_resource_drifts)
        .match_requests(move |r| {
            r.stack_name() == Some(STACK)
                && filters.is_none_or(|f| r.stack_resource_drift_status_filters() == f)
        })
        .sequence();
    for (i, page) in pages.into_iter().enumerate() {
        r = r.output(move || {
            DescribeStackResourceDriftsOutput::builder()
                .set_stack_resource_drifts(Some(page.clone()))
                .set_next_token((i + 1 < n).then(|| format!("page-{}", i + 1)))
                .build()
        });
    }
    r.repeatedly().build()
}

fn clients(rules: &[&Rule]) -> Clients {
    Clients::from_cfn(mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        rules
    ))
}

fn console() -> (
    Console,
    Arc<Mutex<Vec<u8>>>,
    snowcdk::deploy::InterruptHandle,
) {
    Console::capture(None)
}

fn text(buf: &Arc<Mutex<Vec<u8>>>) -> String {
    String::from_utf8_lossy(&buf.lock().expect("buffer")).into_owned()
}

#[tokio::test(start_paused = true)]
async fn in_sync_stack_reports_in_sync_with_counts() {
    let (start, poll) = (
        started(),
        polled("DETECTION_COMPLETE", Some("IN_SYNC"), None),
    );
    let res = drifts(vec![vec![
        resource("Api", "AWS::Lambda::Function", "IN_SYNC", &[]),
        resource("Param", "AWS::SSM::Parameter", "NOT_CHECKED", &[]),
    ]]);
    let c = clients(&[&start, &poll, &res]);
    let (mut con, buf, _) = console();
    let r = detect(&c, STACK, &mut con, &DriftTiming::default())
        .await
        .expect("detect");
    assert_eq!(r.status, StackDrift::InSync);
    assert!(!r.is_drifted());
    assert_eq!(r.detection_id.as_deref(), Some(DETECTION));
    assert_eq!(poll.num_calls(), 3, "polled until complete");
    assert_eq!(r.render_table(), "", "nothing drifted: no table");
    assert_eq!(
        r.summary(),
        "snowex-dev in us-east-1: IN_SYNC: 0 modified, 0 deleted, 1 in sync, 1 not checked (checked 2025-12-03T18:40:00Z)"
    );
    assert!(text(&buf).contains(&format!("detecting drift ({DETECTION})")));
}

#[tokio::test(start_paused = true)]
async fn modified_and_deleted_resources_over_two_pages_make_the_table() {
    let (start, poll) = (
        started(),
        polled("DETECTION_COMPLETE", Some("DRIFTED"), None),
    );
    let res = drifts(vec![
        vec![
            resource(
                "Api",
                "AWS::Lambda::Function",
                "MODIFIED",
                &[("/MemorySize", "1024", "2048"), ("/Timeout", "30", "60")],
            ),
            resource("Param", "AWS::SSM::Parameter", "NOT_CHECKED", &[]),
        ],
        vec![
            resource("Db", "AWS::RDS::DBInstance", "DELETED", &[]),
            resource("Sg", "AWS::EC2::SecurityGroup", "IN_SYNC", &[]),
        ],
    ]);
    let c = clients(&[&start, &poll, &res]);
    let (mut con, _, _) = console();
    let r = detect(&c, STACK, &mut con, &DriftTiming::default())
        .await
        .expect("detect");
    assert_eq!(res.num_calls(), 2, "both pages read");
    assert_eq!(r.status, StackDrift::Drifted);
    assert!(r.is_drifted());
    let ids: Vec<&str> = r.resources.iter().map(|x| x.logical_id.as_str()).collect();
    assert_eq!(ids, ["Api", "Db", "Param", "Sg"], "sorted by logical id");
    assert_eq!(r.count(&ResourceDriftStatus::Modified), 1);
    assert_eq!(r.count(&ResourceDriftStatus::Deleted), 1);
    assert_eq!(r.count(&ResourceDriftStatus::NotChecked), 1);
    assert_eq!(r.count(&ResourceDriftStatus::InSync), 1);
    let table = r.render_table();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(lines[0].starts_with("RESOURCE"), "{table}");
    let cols = |l: &str| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        cols(lines[1]),
        [
            "Api",
            "AWS::Lambda::Function",
            "MODIFIED",
            "/MemorySize",
            "1024",
            "2048"
        ]
    );
    assert_eq!(cols(lines[2]), ["/Timeout", "30", "60"], "{table}");
    assert_eq!(
        cols(lines[3]),
        ["Db", "AWS::RDS::DBInstance", "DELETED", "-", "-", "-"]
    );
    assert!(
        r.summary()
            .contains("DRIFTED: 1 modified, 1 deleted, 1 in sync, 1 not checked")
    );
    let json = serde_json::to_value(&r).expect("json");
    assert_eq!(json["status"], "DRIFTED");
    assert_eq!(json["resources"][0]["status"], "MODIFIED");
    assert_eq!(json["resources"][0]["physical_id"], "Api-phys");
    assert_eq!(
        json["resources"][0]["differences"][0]["path"],
        "/MemorySize"
    );
    assert_eq!(json["resources"][0]["differences"][0]["actual"], "2048");
    assert_eq!(
        json["resources"][0]["differences"][0]["difference_type"],
        "NOT_EQUAL"
    );
    assert_eq!(json["resources"][1]["status"], "DELETED");
    assert_eq!(json["resources"][2]["status"], "NOT_CHECKED");
}

#[tokio::test(start_paused = true)]
async fn a_failed_detection_is_an_error_with_its_reason_and_the_command_to_look() {
    let (start, poll) = (
        started(),
        polled(
            "DETECTION_FAILED",
            Some("UNKNOWN"),
            Some("Failed to detect drift on resource [Api]: access denied"),
        ),
    );
    let res = drifts(vec![vec![]]);
    let c = clients(&[&start, &poll, &res]);
    let (mut con, _, _) = console();
    let e = detect(&c, STACK, &mut con, &DriftTiming::default())
        .await
        .expect_err("failed");
    assert!(matches!(e, DriftError::DetectionFailed { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("drift detection of snowex-dev in us-east-1 failed"),
        "{msg}"
    );
    assert!(msg.contains("access denied"), "{msg}");
    assert!(
        msg.contains(&format!(
            "--stack-drift-detection-id {DETECTION} --region us-east-1"
        )),
        "{msg}"
    );
    assert_eq!(res.num_calls(), 0, "no results read after a failure");
}

#[tokio::test(start_paused = true)]
async fn a_missing_stack_names_stack_region_and_the_fix() {
    let start = mock!(Client::detect_stack_drift)
        .sequence()
        .http_status(
            400,
            Some(err_xml(
                "ValidationError",
                "Stack with id snowex-dev does not exist",
            )),
        )
        .repeatedly()
        .build();
    let c = clients(&[&start]);
    let (mut con, _, _) = console();
    let e = detect(&c, STACK, &mut con, &DriftTiming::default())
        .await
        .expect_err("missing");
    assert!(matches!(e, DriftError::StackMissing { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("stack snowex-dev does not exist in us-east-1"),
        "{msg}"
    );
    assert!(msg.contains("deploy snowex-dev"), "{msg}");
}

#[tokio::test(start_paused = true)]
async fn ctrl_c_while_waiting_stops_waiting_and_says_nothing_changes() {
    let (mut con, _, ctrl_c) = console();
    let start = started();
    let poll = mock!(Client::describe_stack_drift_detection_status).then_output(move || {
        ctrl_c.trigger();
        status("DETECTION_IN_PROGRESS", None, None)
    });
    let c = clients(&[&start, &poll]);
    let e = detect(&c, STACK, &mut con, &DriftTiming::default())
        .await
        .expect_err("interrupted");
    assert!(
        matches!(
            e,
            DriftError::Interrupted {
                signal: "Ctrl-C",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("changes nothing"), "{e}");
    assert_eq!(poll.num_calls(), 1, "no poll after the signal");
}

#[tokio::test(start_paused = true)]
async fn a_detection_over_the_time_bound_is_left_running_with_the_command_to_follow_it() {
    let start = started();
    let poll = mock!(Client::describe_stack_drift_detection_status)
        .then_output(|| status("DETECTION_IN_PROGRESS", None, None));
    let c = clients(&[&start, &poll]);
    let (mut con, buf, _) = console();
    let timing = DriftTiming {
        total: std::time::Duration::from_secs(60),
        ..DriftTiming::default()
    };
    let e = detect(&c, STACK, &mut con, &timing)
        .await
        .expect_err("timed out");
    assert!(matches!(e, DriftError::TimedOut { .. }), "{e}");
    assert!(e.to_string().contains("still running after 60s"), "{e}");
    assert!(
        poll.num_calls() > 5 && poll.num_calls() < 30,
        "backs off to 5 s: {}",
        poll.num_calls()
    );
    assert!(
        text(&buf).contains("still detecting drift"),
        "{}",
        text(&buf)
    );
}

// --- deploy's warning ---------------------------------------------------------------------

/// The deployed stack, with the last drift detection's result when given.
fn deployed(drift: Option<&'static str>) -> Rule {
    mock!(Client::describe_stacks).then_output(move || {
        let mut s = Stack::builder()
            .stack_name(STACK)
            .stack_id(ARN)
            .stack_status(StackStatus::UpdateComplete);
        if let Some(d) = drift {
            s = s.drift_information(
                StackDriftInformation::builder()
                    .stack_drift_status(StackDriftStatus::from(d))
                    .last_check_timestamp(DateTime::from_secs(1_764_787_200))
                    .build(),
            );
        }
        DescribeStacksOutput::builder().stacks(s.build()).build()
    })
}

/// The rules of an update whose change set modifies Api in place, left for review.
fn update_rules() -> Vec<Rule> {
    let change = Change::builder()
        .r#type(ChangeType::Resource)
        .resource_change(
            ResourceChange::builder()
                .action(ChangeAction::Modify)
                .logical_resource_id("Api")
                .physical_resource_id("Api-phys")
                .resource_type("AWS::Lambda::Function")
                .replacement(Replacement::False)
                .build(),
        )
        .build();
    vec![
        mock!(Client::list_change_sets).then_output(|| ListChangeSetsOutput::builder().build()),
        mock!(Client::get_template)
            .then_output(|| GetTemplateOutput::builder().template_body(TEMPLATE).build()),
        mock!(Client::create_change_set).then_output(|| {
            CreateChangeSetOutput::builder()
                .id(CS_ARN)
                .stack_id(ARN)
                .build()
        }),
        mock!(Client::describe_change_set).then_output(move || {
            DescribeChangeSetOutput::builder()
                .change_set_id(CS_ARN)
                .stack_id(ARN)
                .status(ChangeSetStatus::CreateComplete)
                .changes(change.clone())
                .build()
        }),
    ]
}

fn request(check_drift: bool) -> DeployRequest {
    let mut r = DeployRequest::new(STACK, TEMPLATE);
    r.force = true;
    r.no_execute = true;
    r.skip_preflight = true;
    r.check_drift = check_drift;
    r
}

/// Api's memory changed by hand; Param (which the change set does not touch) deleted.
fn drifted_resources() -> Rule {
    drifts(vec![vec![
        resource(
            "Api",
            "AWS::Lambda::Function",
            "MODIFIED",
            &[("/MemorySize", "1024", "2048")],
        ),
        resource("Param", "AWS::SSM::Parameter", "DELETED", &[]),
    ]])
}

const WARNING: &str = "warning: Api (AWS::Lambda::Function) was changed outside CloudFormation: MemorySize is 2048 live, 1024 in the stack";

#[tokio::test(start_paused = true)]
async fn deploy_warns_from_the_last_detection_before_the_change_table() {
    // Only the drifted resources are read (MODIFIED, DELETED), not the whole stack's.
    let res = drifts_filtered(
        vec![vec![resource(
            "Api",
            "AWS::Lambda::Function",
            "MODIFIED",
            &[("/MemorySize", "1024", "2048")],
        )]],
        Some(&[
            StackResourceDriftStatus::Modified,
            StackResourceDriftStatus::Deleted,
        ]),
    );
    let (stack, detect_rule) = (deployed(Some("DRIFTED")), started());
    let rules = update_rules();
    let mut all: Vec<&Rule> = vec![&stack, &res, &detect_rule];
    all.extend(rules.iter());
    let c = clients(&all);
    let (mut con, buf, _) = console();
    let r = deploy_stack(&c, &request(false), &mut con)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::NotExecuted, "{out}");
    let warn = out
        .find(WARNING)
        .unwrap_or_else(|| panic!("no warning:\n{out}"));
    let table = out.find("1 change(s)").expect("change table");
    assert!(
        warn < table,
        "the warning comes before the change table:\n{out}"
    );
    assert!(out.contains("drift detected 2025-12-03T18:40:00Z"), "{out}");
    assert!(
        out.contains("this deploy modifies it and CloudFormation will overwrite the manual change"),
        "{out}"
    );
    assert!(
        !out.contains("Param (AWS::SSM::Parameter)"),
        "only what the change set touches:\n{out}"
    );
    assert_eq!(res.num_calls(), 1, "one extra call");
    assert_eq!(
        detect_rule.num_calls(),
        0,
        "no fresh detection without --check-drift"
    );
}

#[tokio::test(start_paused = true)]
async fn deploy_makes_no_drift_call_when_in_sync_or_never_checked() {
    for drift in [Some("IN_SYNC"), Some("NOT_CHECKED"), None] {
        let (stack, res, detect_rule) = (deployed(drift), drifted_resources(), started());
        let rules = update_rules();
        let mut all: Vec<&Rule> = vec![&stack, &res, &detect_rule];
        all.extend(rules.iter());
        let c = clients(&all);
        let (mut con, buf, _) = console();
        let r = deploy_stack(&c, &request(false), &mut con)
            .await
            .expect("deploy");
        let out = text(&buf);
        assert_eq!(r.status, Status::NotExecuted, "{out}");
        assert!(!out.contains("outside CloudFormation"), "{drift:?}: {out}");
        assert_eq!(
            res.num_calls(),
            0,
            "{drift:?}: no DescribeStackResourceDrifts"
        );
        assert_eq!(detect_rule.num_calls(), 0, "{drift:?}: no DetectStackDrift");
    }
}

#[tokio::test(start_paused = true)]
async fn deploy_with_check_drift_runs_a_fresh_detection() {
    // Never checked before: only --check-drift finds the manual change.
    let (stack, res, detect_rule) = (deployed(None), drifted_resources(), started());
    let poll = polled("DETECTION_COMPLETE", Some("DRIFTED"), None);
    let rules = update_rules();
    let mut all: Vec<&Rule> = vec![&stack, &res, &detect_rule, &poll];
    all.extend(rules.iter());
    let c = clients(&all);
    let (mut con, buf, _) = console();
    let r = deploy_stack(&c, &request(true), &mut con)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::NotExecuted, "{out}");
    assert_eq!(detect_rule.num_calls(), 1, "{out}");
    let warn = out
        .find(WARNING)
        .unwrap_or_else(|| panic!("no warning:\n{out}"));
    assert!(warn < out.find("1 change(s)").expect("table"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn a_failed_check_is_a_warning_and_the_deploy_goes_on() {
    let (stack, detect_rule) = (deployed(None), started());
    let poll = polled("DETECTION_FAILED", None, Some("Internal failure"));
    let rules = update_rules();
    let mut all: Vec<&Rule> = vec![&stack, &detect_rule, &poll];
    all.extend(rules.iter());
    let c = clients(&all);
    let (mut con, buf, _) = console();
    let r = deploy_stack(&c, &request(true), &mut con)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, Status::NotExecuted, "{out}");
    assert!(
        out.contains("warning: could not check drift: drift detection of snowex-dev"),
        "{out}"
    );
    assert!(out.contains("Internal failure"), "{out}");
}
