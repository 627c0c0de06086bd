//! The example app end to end against moto (a local AWS emulator): `bootstrap` makes the staging
//! bucket, `synth` writes the template and the job's zip, `diff --deployed` shows a new stack,
//! `deploy` uploads the zip and creates the stack through a change set, and afterwards `diff
//! --deployed` finds nothing to change and `outputs` names the bucket and the function.
//!
//! Nothing here can reach real AWS: the binary gets dummy credentials, no profile files, no
//! instance metadata, and `--endpoint-url` on loopback. moto comes from the workspace's `.venv`
//! (`bash .ci/setup`) or `SNOWCDK_MOTO_SERVER`; without it the test fails, it never skips.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const REGION: &str = "us-east-1";
/// moto's default account: the bootstrap bucket is named after it.
const ACCOUNT: &str = "123456789012";

/// moto on a free loopback port, killed (by its PID) when dropped.
struct Moto {
    url: String,
    child: Child,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto() -> Moto {
    let path = std::env::var_os("SNOWCDK_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../.venv/bin/moto_server")
        });
    assert!(
        path.is_file(),
        "moto is not installed: run `bash .ci/setup` in the repository (looked for {})",
        path.display()
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port();
    let mut child = Command::new(&path)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto");
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if Instant::now() > deadline || matches!(child.try_wait(), Ok(Some(_))) {
            let _ = child.kill();
            panic!("moto did not start on port {port}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Moto {
        url: format!("http://127.0.0.1:{port}"),
        child,
    }
}

/// Runs the app's binary in `dir` with a scrubbed AWS environment.
fn app(dir: &Path, args: &[&str]) -> (Output, String, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scheduled-bucket"));
    c.current_dir(dir).args(args);
    for (k, _) in std::env::vars_os() {
        if k.to_str().is_some_and(|k| k.starts_with("AWS_")) {
            c.env_remove(k);
        }
    }
    c.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        )
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    let o = c.output().expect("run scheduled-bucket");
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    (o, stdout, stderr)
}

/// A copy of the example (config and job code) in a temp directory, with a unique stack name
/// and the bootstrap bucket named explicitly (moto keeps no exports of stacks made through change
/// sets, so the stack cannot import the name).
fn project(stack: &str, bucket: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = std::fs::read_to_string(here.join("snowcdk.toml")).expect("snowcdk.toml");
    // A `staging_bucket` already in the config (set for trying the app by hand against moto)
    // gives way to this one: TOML refuses a key given twice.
    let config: String = config
        .lines()
        .filter(|l| !l.trim_start().starts_with("staging_bucket"))
        .map(|l| format!("{l}\n"))
        .collect();
    let config = config
        .replace(
            "stack_name = \"scheduled-bucket-dev\"",
            &format!("stack_name = \"{stack}\"\nstaging_bucket = \"{bucket}\""),
        )
        .replace("region = \"us-east-1\"", &format!("region = \"{REGION}\""));
    assert!(
        config.contains(stack),
        "the example's config has its stack name"
    );
    std::fs::write(dir.path().join("snowcdk.toml"), config).expect("write config");
    std::fs::create_dir(dir.path().join("job")).expect("job dir");
    std::fs::copy(
        here.join("job/handler.py"),
        dir.path().join("job/handler.py"),
    )
    .expect("copy the job");
    dir
}

#[test]
fn the_example_synthesizes_diffs_and_deploys() {
    let m = moto();
    let stack = format!("scheduled-bucket-{}", std::process::id());
    let bucket = snowcdk_constructs_bucket_name();
    let dir = project(&stack, &bucket);
    let d = dir.path();
    let url = m.url.as_str();

    // The staging bucket for the job's code.
    let (o, out, e) = app(d, &["bootstrap", "--yes", "--json", "--endpoint-url", url]);
    assert!(o.status.success(), "bootstrap: {e}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("bootstrap --json");
    assert_eq!(v["stacks"][0]["status"], "deployed", "{v}");
    // (moto reports no outputs for it; the deploy below fails unless the bucket exists.)

    // Synth: the template and the zip, in templates_out/ next to the config.
    let (o, out, e) = app(d, &["synth"]);
    assert!(o.status.success(), "synth: {e}");
    assert!(out.contains(&format!("{stack}: 6 resources")), "{out}");
    let t: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.join(format!("templates_out/{stack}.template.json")))
            .expect("template"),
    )
    .expect("JSON");
    let types: Vec<&str> = t["Resources"]
        .as_object()
        .expect("resources")
        .values()
        .filter_map(|r| r["Type"].as_str())
        .collect();
    for ty in [
        "AWS::S3::Bucket",
        "AWS::Lambda::Function",
        "AWS::Events::Rule",
        "AWS::Lambda::Permission",
        "AWS::IAM::Role",
        "AWS::Logs::LogGroup",
    ] {
        assert!(types.contains(&ty), "{ty} in {types:?}");
    }
    let code = &t["Resources"]["JobFunction"]["Properties"]["Code"];
    assert_eq!(code["S3Bucket"], bucket.as_str(), "{code}");
    let key = code["S3Key"].as_str().expect("S3Key").to_owned();
    assert!(
        key.starts_with("snowcdk/assets/") && key.ends_with(".zip"),
        "{key}"
    );
    assert_eq!(
        t["Resources"]["JobSchedule"]["Properties"]["ScheduleExpression"],
        "rate(1 hour)"
    );
    // `synth --check` agrees, and the stack name and Stage tag come from the generic config.
    let (o, _, e) = app(d, &["synth", "--check"]);
    assert!(o.status.success(), "synth --check: {e}");
    let tags = t["Resources"]["Bucket"]["Properties"]["Tags"].to_string();
    assert!(
        tags.contains("\"Stage\"") && tags.contains("\"dev\""),
        "{tags}"
    );

    // Before the deploy, every resource is new.
    let (o, out, e) = app(d, &["diff", "--deployed", "--endpoint-url", url]);
    assert!(o.status.success(), "diff: {e}");
    assert!(out.contains("(new stack)"), "{out}");
    assert!(out.contains("AWS::Events::Rule"), "{out}");

    // Deploy: the zip goes up first, then the change set is executed.
    let (o, out, e) = app(d, &["deploy", "--yes", "--json", "--endpoint-url", url]);
    assert!(o.status.success(), "deploy: {e}\n{out}");
    assert!(e.contains("assets: 1 uploaded"), "{e}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("deploy --json");
    assert_eq!(v["stacks"][0]["status"], "deployed", "{v}");
    assert_eq!(v["stacks"][0]["stack_status"], "CREATE_COMPLETE", "{v}");
    let mut added: Vec<&str> = v["stacks"][0]["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["action"] == "Add")
        .filter_map(|c| c["logical_id"].as_str())
        .collect();
    added.sort_unstable();
    assert_eq!(
        added,
        [
            "Bucket",
            "JobFunction",
            "JobInvokePermission",
            "JobLogGroup",
            "JobRole",
            "JobSchedule"
        ]
    );

    // Deployed as synthesized: nothing to change.
    let (o, out, e) = app(d, &["diff", "--deployed", "--endpoint-url", url]);
    assert!(o.status.success(), "diff after deploy: {e}");
    assert!(out.contains("no changes"), "{out}");

    // `outputs` reads the deployed stack (moto keeps no outputs of stacks made through change
    // sets, so the values are checked on the template: BucketName, FunctionName, ScheduleRule).
    let (o, out, e) = app(d, &["outputs", "--json", "--endpoint-url", url]);
    assert!(o.status.success(), "outputs: {e}");
    assert!(
        serde_json::from_str::<serde_json::Value>(&out).is_ok_and(|v| v.is_object()),
        "{out}"
    );
    let declared: Vec<&String> = t["Outputs"].as_object().expect("outputs").keys().collect();
    assert_eq!(declared, ["BucketName", "FunctionName", "ScheduleRule"]);

    // The app has no `tunnel`: that command is SnowEx's.
    let (o, _, e) = app(d, &["tunnel", "--print"]);
    assert_eq!(o.status.code(), Some(2), "{e}");
}

/// The bootstrap bucket's name for moto's account and the region.
fn snowcdk_constructs_bucket_name() -> String {
    snowcdk_constructs::l2::staging_bucket::staging_bucket_name(None, ACCOUNT, REGION)
}
