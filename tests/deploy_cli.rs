//! The real `snowcdk` binary against moto (and against nothing): the SnowEx stack's change set,
//! outputs, destroy of a missing stack, and the readable errors for an unreachable endpoint and
//! missing credentials. The child process gets dummy credentials and an explicit loopback
//! endpoint; it can never reach AWS.

mod support;

use aws_sdk_cloudformation::types::Capability;
use support::{free_port, moto, moto_clients, push_image, repo_config_dir, run, snowcdk, unique};

const REGION: &str = "us-east-2";

#[test]
fn unreachable_endpoint_is_exit_1_with_one_readable_sentence() {
    let dir = repo_config_dir("snowex-unreachable", REGION);
    let url = format!("http://127.0.0.1:{}", free_port());
    let mut c = snowcdk(dir.path());
    c.args(["deploy", "--yes", "--endpoint-url", &url]);
    let (out, _, stderr) = run(c);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("cannot reach {url}")), "{stderr}");
    assert!(stderr.contains("is the emulator running"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn missing_credentials_name_the_fix() {
    let m = moto();
    let dir = repo_config_dir("snowex-nocreds", REGION);
    let mut c = snowcdk(dir.path());
    c.env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("HOME", dir.path())
        .args(["outputs", "--endpoint-url", &m.url]);
    let (out, _, stderr) = run(c);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no AWS credentials found"), "{stderr}");
    assert!(stderr.contains("--profile"), "{stderr}");
}

#[test]
fn deploy_no_execute_of_the_snowex_stack_prints_the_change_set_as_json() {
    let m = moto();
    let stack = unique("snowex-cli");
    let dir = repo_config_dir(&stack, REGION);
    // The config's image (moved to this region), as CI would have pushed it: preflight finds it.
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(push_image(m, REGION, "snowex-api", "latest", "amd64"));
    let mut c = snowcdk(dir.path());
    c.args(["deploy", "--no-execute", "--json", "--endpoint-url", &m.url]);
    let (out, stdout, stderr) = run(c);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    let s = &v["stacks"][0];
    assert_eq!(s["stack"], stack.as_str());
    assert_eq!(s["stage"], "dev");
    assert_eq!(s["status"], "not_executed", "{stdout}");
    assert_eq!(s["change_set"]["type"], "CREATE");
    assert!(
        s["change_set"]["id"]
            .as_str()
            .is_some_and(|id| id.contains(":changeSet/"))
    );
    assert!(
        s["changes"].as_array().is_some_and(|c| !c.is_empty()),
        "{stdout}"
    );
    assert_eq!(v["exit_code"], 0);
    assert!(
        stderr.contains("left for review"),
        "human text on stderr: {stderr}"
    );
}

#[test]
fn preflight_refuses_an_image_that_is_not_in_ecr_before_anything_is_created() {
    let m = moto();
    let stack = unique("snowex-noimage");
    let dir = repo_config_dir(&stack, REGION);
    let uri = format!("123456789012.dkr.ecr.{REGION}.amazonaws.com/snowex-api:never-pushed");
    let mut c = snowcdk(dir.path());
    c.args([
        "deploy",
        "--yes",
        "--json",
        "--parameters",
        &format!("LambdaImageUri={uri}"),
        "--endpoint-url",
        &m.url,
    ]);
    let (out, stdout, stderr) = run(c);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(v["stacks"][0]["status"], "refused", "{stdout}");
    let msg = v["stacks"][0]["message"].as_str().unwrap_or_default();
    assert!(
        msg.starts_with(&format!("preflight: Api: the image {uri} does not exist")),
        "{msg}"
    );
    assert!(msg.contains("set the parameter LambdaImageUri"), "{msg}");
    assert!(msg.contains("--skip-preflight"), "{msg}");
    // Nothing was created: no stack, not even one in review.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let exists = rt.block_on(async {
        let clients = moto_clients(m, REGION).await;
        clients
            .cfn
            .describe_stacks()
            .stack_name(&stack)
            .send()
            .await
            .is_ok()
    });
    assert!(!exists, "a refused deploy left a stack behind");

    // An image that exists but is built for arm64 only, for the x86_64 function: refused too.
    rt.block_on(push_image(m, REGION, "snowex-api", "arm-only", "arm64"));
    let arm = format!("123456789012.dkr.ecr.{REGION}.amazonaws.com/snowex-api:arm-only");
    let mut c = snowcdk(dir.path());
    c.args([
        "deploy",
        "--yes",
        "--json",
        "--parameters",
        &format!("LambdaImageUri={arm}"),
        "--endpoint-url",
        &m.url,
    ]);
    let (out, stdout, stderr) = run(c);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    let msg = v["stacks"][0]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains(&format!(
            "Api: the image {arm} is built for arm64 but the function runs on x86_64"
        )),
        "{msg}"
    );

    // --skip-preflight goes on to the change set (reviewed only here).
    let mut c = snowcdk(dir.path());
    c.args([
        "deploy",
        "--no-execute",
        "--json",
        "--skip-preflight",
        "--parameters",
        &format!("LambdaImageUri={uri}"),
        "--endpoint-url",
        &m.url,
    ]);
    let (out, _, stderr) = run(c);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("left for review"), "{stderr}");
    assert!(!stderr.contains("preflight"), "{stderr}");
}

#[test]
fn outputs_prints_the_deployed_outputs() {
    let m = moto();
    let stack = unique("outputs");
    // moto reports no outputs for stacks made through change sets: make this one directly.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let clients = moto_clients(m, REGION).await;
        let body = serde_json::json!({
            "Resources": {"Param": {"Type": "AWS::SSM::Parameter", "Properties": {
                "Name": format!("/snowcdk-test/{stack}/p"), "Type": "String", "Value": "v"}}},
            "Outputs": {
                "DbEndpointAddress": {"Value": "db.example.internal"},
                "BastionInstanceId": {"Value": "i-0123456789abcdef0"},
                "DbEndpointPort": {"Value": "5432"}
            }
        });
        clients
            .cfn
            .create_stack()
            .stack_name(&stack)
            .template_body(body.to_string())
            .capabilities(Capability::CapabilityIam)
            .send()
            .await
            .expect("create stack");
    });
    let dir = repo_config_dir(&stack, REGION);

    let mut c = snowcdk(dir.path());
    c.args(["outputs", "--json", "--endpoint-url", &m.url]);
    let (out, stdout, stderr) = run(c);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(v["DbEndpointAddress"], "db.example.internal");

    let mut c = snowcdk(dir.path());
    c.args(["outputs", "--endpoint-url", &m.url]);
    let (_, stdout, _) = run(c);
    assert!(
        stdout.contains("BastionInstanceId = i-0123456789abcdef0"),
        "{stdout}"
    );

    let mut c = snowcdk(dir.path());
    c.args([
        "tunnel",
        "--print",
        "--local-port",
        "15432",
        "--endpoint-url",
        &m.url,
    ]);
    let (out, stdout, stderr) = run(c);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let printed = stdout.trim().to_owned();

    // Without the AWS CLI on PATH, running it says what to install.
    let mut c = snowcdk(dir.path());
    c.env("PATH", dir.path())
        .args(["tunnel", "--endpoint-url", &m.url]);
    let (out, _, stderr) = run(c);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the AWS CLI (`aws`) is not on PATH; install AWS CLI v2"),
        "{stderr}"
    );

    assert_eq!(
        printed,
        format!(
            "aws ssm start-session --target i-0123456789abcdef0 --document-name AWS-StartPortForwardingSessionToRemoteHost --parameters host=db.example.internal,portNumber=5432,localPortNumber=15432 --region {REGION}"
        )
    );
}

#[test]
fn destroy_of_a_missing_stack_is_a_success() {
    let m = moto();
    let dir = repo_config_dir(&unique("never-deployed"), REGION);
    let mut c = snowcdk(dir.path());
    c.args(["destroy", "--endpoint-url", &m.url]);
    let (out, stdout, stderr) = run(c);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("nothing to delete"), "{stdout}");
}

#[test]
fn outputs_of_a_missing_stack_says_deploy_first() {
    let m = moto();
    let dir = repo_config_dir(&unique("not-there"), REGION);
    let mut c = snowcdk(dir.path());
    c.args(["outputs", "--endpoint-url", &m.url]);
    let (out, _, stderr) = run(c);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert!(stderr.contains("snowcdk deploy"), "{stderr}");
}
