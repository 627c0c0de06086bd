//! `snowcdk drift` and deploy's drift warning on the emulator: the SnowEx dev stack deployed to
//! moto with `tests/support/moto_patches.py` (which loads `moto_drift.py`, the drift detection
//! moto lacks), then changed by hand the way an administrator would (the function's memory,
//! through the Lambda API with boto3 from the test venv).

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value as Json;
use support::{Moto, moto_path, push_image, repo_config_dir, run, snowcdk};

const REGION: &str = "us-west-2";
const STACK: &str = "snowex-drift";

/// Runs `snowcdk drift --stage dev` against `url`: exit code, stdout, stderr.
fn drift(dir: &Path, url: &str) -> (i32, String, String) {
    let mut c = snowcdk(dir);
    c.args(["drift", "--stage", "dev", "--endpoint-url", url]);
    let (out, stdout, stderr) = run(c);
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

/// Runs `snowcdk deploy --stage dev --yes`: exit code and all its text.
fn deploy(dir: &Path, url: &str) -> (i32, String) {
    let mut c = snowcdk(dir);
    c.args(["deploy", "--stage", "dev", "--yes", "--endpoint-url", url]);
    let (out, stdout, stderr) = run(c);
    (
        out.status.code().unwrap_or(-1),
        format!("{stderr}\n{stdout}"),
    )
}

/// Runs `stmt` then prints `expr` as JSON, with boto3 `cfn` and `lam` clients at `url`.
fn python(url: &str, stmt: &str, expr: &str) -> Json {
    let python = moto_path()
        .parent()
        .map(|b| b.join("python"))
        .expect("venv python");
    let script = format!(
        "import boto3, json\n\
         kw = dict(endpoint_url={url:?}, region_name={REGION:?}, aws_access_key_id='testing', aws_secret_access_key='testing')\n\
         cfn, lam = (boto3.client(s, **kw) for s in ('cloudformation', 'lambda'))\n\
         {stmt}\n\
         print(json.dumps({expr}, default=str))\n"
    );
    let out = Command::new(python)
        .args(["-c", &script])
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "boto3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from python")
}

fn api_function(url: &str) -> String {
    python(
        url,
        "",
        &format!(
            "cfn.describe_stack_resource(StackName={STACK:?}, LogicalResourceId='Api')['StackResourceDetail']['PhysicalResourceId']"
        ),
    )
    .as_str()
    .expect("function name")
    .to_owned()
}

fn memory(url: &str, function: &str) -> Json {
    python(
        url,
        "",
        &format!("lam.get_function_configuration(FunctionName={function:?})['MemorySize']"),
    )
}

#[test]
fn a_manual_change_shows_in_drift_and_in_the_next_deploy() {
    let moto = Moto::start_patched();
    let url = moto.url.clone();
    let dir = repo_config_dir(STACK, REGION);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(push_image(&moto, REGION, "snowex-api", "latest", "amd64"));

    // Not deployed yet: an error naming the stack, the region and what to run.
    let (code, stdout, stderr) = drift(dir.path(), &url);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("stack snowex-drift does not exist in us-west-2; deploy it first"),
        "{stderr}"
    );

    let (code, out) = deploy(dir.path(), &url);
    assert_eq!(code, 0, "{out}");

    // Just deployed: in sync (the function, the database and the security groups are checked,
    // the rest is not).
    let (code, stdout, stderr) = drift(dir.path(), &url);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("snowex-drift in us-west-2: IN_SYNC: 0 modified, 0 deleted, 5 in sync"),
        "{stdout}"
    );

    // An administrator gives the API more memory by hand.
    let function = api_function(&url);
    assert_eq!(memory(&url, &function), 1024);
    python(
        &url,
        &format!("lam.update_function_configuration(FunctionName={function:?}, MemorySize=2048)"),
        "None",
    );
    let (code, stdout, stderr) = drift(dir.path(), &url);
    assert_eq!(code, 7, "{stdout}{stderr}");
    let row: Vec<&str> = stdout
        .lines()
        .find(|l| l.starts_with("Api "))
        .unwrap_or_else(|| panic!("no row for Api:\n{stdout}"))
        .split_whitespace()
        .collect();
    assert_eq!(
        row,
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
    assert!(
        stdout.contains("DRIFTED: 1 modified, 0 deleted, 4 in sync"),
        "{stdout}"
    );

    // The next deploy changes the function (a new timeout): it warns, from the last detection,
    // that the manual memory change is about to be overwritten, and then overwrites it.
    let path = dir.path().join("snowcdk.toml");
    let mut doc: toml::Table = std::fs::read_to_string(&path)
        .expect("config")
        .parse()
        .expect("TOML");
    doc["stages"]["dev"]["lambda"]
        .as_table_mut()
        .expect("[stages.dev.lambda]")
        .insert("timeout_seconds".into(), 45.into());
    std::fs::write(&path, doc.to_string()).expect("write config");
    let (code, out) = deploy(dir.path(), &url);
    assert_eq!(code, 0, "{out}");
    let warning = "warning: Api (AWS::Lambda::Function) was changed outside CloudFormation: MemorySize is 2048 live, 1024 in the stack";
    let at = out
        .find(warning)
        .unwrap_or_else(|| panic!("no warning:\n{out}"));
    assert!(at < out.find("change(s)").expect("change table"), "{out}");
    assert!(
        out.contains("CloudFormation will overwrite the manual change"),
        "{out}"
    );
}
