//! `snowcdk drift`, the real binary, against a scripted CloudFormation on a loopback port
//! (tests/fake_aws): exit 0 in sync, 7 drifted (the table on stdout, or the report with
//! `--json`), 1 when the detection fails or the stack is missing, with one readable line.

mod fake_aws;
mod support;

use fake_aws::{FakeAws, Reply, error_xml, result_xml};
use support::{repo_config_dir, run, snowcdk};

const REGION: &str = "us-east-2";
const STACK: &str = "drift-stack";
const ARN: &str = "arn:aws:cloudformation:us-east-2:123456789012:stack/drift-stack/abc";

fn member(logical: &str, ty: &str, status: &str, diffs: &[(&str, &str, &str)]) -> String {
    let diffs: String = diffs
        .iter()
        .map(|(p, e, a)| {
            format!(
                "<member><PropertyPath>{p}</PropertyPath><ExpectedValue>{e}</ExpectedValue><ActualValue>{a}</ActualValue><DifferenceType>NOT_EQUAL</DifferenceType></member>"
            )
        })
        .collect();
    format!(
        "<member><StackId>{ARN}</StackId><LogicalResourceId>{logical}</LogicalResourceId><PhysicalResourceId>{logical}-phys</PhysicalResourceId><ResourceType>{ty}</ResourceType><StackResourceDriftStatus>{status}</StackResourceDriftStatus><Timestamp>2025-12-03T18:40:00Z</Timestamp><PropertyDifferences>{diffs}</PropertyDifferences></member>"
    )
}

/// A CloudFormation whose detection ends with `detection` and stack status `stack_status`,
/// reporting `members`.
fn fake(detection: &'static str, stack_status: &'static str, members: String) -> FakeAws {
    FakeAws::start(move |req| {
        let action = req.action().unwrap_or_default();
        let inner = match action.as_str() {
            "DetectStackDrift" => "<StackDriftDetectionId>det-1</StackDriftDetectionId>".to_owned(),
            "DescribeStackDriftDetectionStatus" => format!(
                "<StackId>{ARN}</StackId><StackDriftDetectionId>det-1</StackDriftDetectionId><StackDriftStatus>{stack_status}</StackDriftStatus><DetectionStatus>{detection}</DetectionStatus><DetectionStatusReason>Failed to detect drift on resource [Api]</DetectionStatusReason><Timestamp>2025-12-03T18:40:00Z</Timestamp>"
            ),
            "DescribeStackResourceDrifts" => {
                format!("<StackResourceDrifts>{members}</StackResourceDrifts>")
            }
            _ => return Reply::xml(400, error_xml("InvalidAction", &action)),
        };
        Reply::xml(200, result_xml(&action, &inner))
    })
}

fn drift(url: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let dir = repo_config_dir(STACK, REGION);
    let mut c = snowcdk(dir.path());
    c.args(["drift", "--endpoint-url", url]).args(extra);
    let (out, stdout, stderr) = run(c);
    (out.status.code(), stdout, stderr)
}

#[test]
fn in_sync_is_exit_0_with_the_summary() {
    let f = fake(
        "DETECTION_COMPLETE",
        "IN_SYNC",
        member("Api", "AWS::Lambda::Function", "IN_SYNC", &[])
            + &member("Param", "AWS::SSM::Parameter", "NOT_CHECKED", &[]),
    );
    let (code, stdout, stderr) = drift(&f.url, &[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(
        stdout.trim(),
        "drift-stack in us-east-2: IN_SYNC: 0 modified, 0 deleted, 1 in sync, 1 not checked (checked 2025-12-03T18:40:00Z)"
    );
    assert!(
        stderr.contains("drift-stack: detecting drift (det-1)"),
        "{stderr}"
    );
    assert_eq!(
        f.actions(),
        [
            "DetectStackDrift",
            "DescribeStackDriftDetectionStatus",
            "DescribeStackResourceDrifts"
        ]
    );
}

#[test]
fn drifted_is_exit_7_with_the_table_or_the_json_report() {
    let members = member(
        "Api",
        "AWS::Lambda::Function",
        "MODIFIED",
        &[("/MemorySize", "1024", "2048")],
    ) + &member("Db", "AWS::RDS::DBInstance", "DELETED", &[]);
    let f = fake("DETECTION_COMPLETE", "DRIFTED", members);
    let (code, stdout, stderr) = drift(&f.url, &["--stage", "dev"]);
    assert_eq!(code, Some(7), "{stdout}{stderr}");
    let lines: Vec<Vec<&str>> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines[1],
        [
            "Api",
            "AWS::Lambda::Function",
            "MODIFIED",
            "/MemorySize",
            "1024",
            "2048"
        ],
        "{stdout}"
    );
    assert_eq!(
        lines[2],
        ["Db", "AWS::RDS::DBInstance", "DELETED", "-", "-", "-"],
        "{stdout}"
    );
    assert!(
        stdout.contains("DRIFTED: 1 modified, 1 deleted, 0 in sync, 0 not checked"),
        "{stdout}"
    );

    let (code, stdout, stderr) = drift(&f.url, &["--json"]);
    assert_eq!(code, Some(7), "{stdout}{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(doc["stack"], STACK);
    assert_eq!(doc["region"], REGION);
    assert_eq!(doc["status"], "DRIFTED");
    assert_eq!(doc["resources"][0]["differences"][0]["expected"], "1024");
    assert_eq!(doc["resources"][1]["status"], "DELETED");
}

#[test]
fn a_failed_detection_is_exit_1_with_one_line() {
    let f = fake("DETECTION_FAILED", "UNKNOWN", String::new());
    let (code, stdout, stderr) = drift(&f.url, &[]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    let last = stderr.trim().lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: drift detection of drift-stack in us-east-2 failed: Failed to detect drift on resource [Api]"),
        "{stderr}"
    );
    assert!(stdout.is_empty(), "{stdout}");
}

#[test]
fn a_missing_stack_is_exit_1_naming_stack_region_and_the_fix() {
    let f = FakeAws::start(|_| {
        Reply::xml(
            400,
            error_xml(
                "ValidationError",
                "Stack with id drift-stack does not exist",
            ),
        )
    });
    let (code, stdout, stderr) = drift(&f.url, &[]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("error: stack drift-stack does not exist in us-east-2; deploy it first (`snowcdk deploy drift-stack`)"),
        "{stderr}"
    );
}
