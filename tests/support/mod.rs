//! Shared helpers for the deploy tests: a moto server on a free loopback port (one per test
//! binary), AWS clients pointed at it with dummy credentials, a test config file, and running the
//! real `snowcdk` binary against it. Nothing here can reach real AWS: every client and child
//! process gets an explicit loopback endpoint and static dummy credentials.
//!
//! Also what the synth and diff tests share: isolated git ([`git`]), temporary SnowEx projects
//! ([`project`]) and a child's output as text. Every test binary includes this module with
//! `mod support;`, so no binary uses all of it (`dead_code` is allowed below).

#![allow(dead_code)]

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use snowcdk::deploy::Clients;

pub mod git;
pub mod project;

/// A child's stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A child's stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A running moto server, killed by PID when dropped (and, for the shared one, when the test
/// process exits: a watchdog shell kills it as soon as our end of its stdin closes).
pub struct Moto {
    pub url: String,
    pub port: u16,
    child: Mutex<Child>,
    _watchdog: Option<(Child, ChildStdin)>,
}

/// Where moto is: `SNOWCDK_MOTO_SERVER`, else `<workspace>/.venv/bin/moto_server`.
pub fn moto_path() -> PathBuf {
    if let Some(p) = std::env::var_os("SNOWCDK_MOTO_SERVER") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server")
}

impl Moto {
    /// Starts moto on a free loopback port and waits until it accepts connections. Panics (the
    /// test fails) with a clear message when moto is not installed.
    pub fn start() -> Moto {
        Moto::start_program(moto_path(), &[])
    }

    /// Starts moto with the fixes of `tests/support/moto_patches.py` (resource types and
    /// behaviours moto's CloudFormation lacks, which the full SnowEx stack needs), through the
    /// venv's Python, on a free loopback port like [`Moto::start`].
    pub fn start_patched() -> Moto {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let python = moto_path()
            .parent()
            .map(|bin| bin.join("python"))
            .unwrap_or_else(|| root.join(".venv/bin/python"));
        let script = root.join("tests/support/moto_patches.py");
        Moto::start_program(python, &[script.to_string_lossy().as_ref()])
    }

    fn start_program(path: PathBuf, first_args: &[&str]) -> Moto {
        assert!(
            path.is_file(),
            "moto is not installed: run `bash .ci/setup` (looked for {}; set SNOWCDK_MOTO_SERVER to override)",
            path.display()
        );
        let mut last_err = String::new();
        for _ in 0..3 {
            let port = free_port();
            let log = std::env::temp_dir().join(format!("snowcdk-moto-{port}.log"));
            let log_file = std::fs::File::create(&log).expect("moto log file");
            let mut child = Command::new(&path)
                .args(first_args)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(log_file.try_clone().expect("log"))
                .stderr(log_file)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            let deadline = Instant::now() + Duration::from_secs(30);
            let mut up = false;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    up = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if up {
                let watchdog = watchdog(child.id());
                return Moto {
                    url: format!("http://127.0.0.1:{port}"),
                    port,
                    child: Mutex::new(child),
                    _watchdog: watchdog,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
            last_err = std::fs::read_to_string(&log).unwrap_or_default();
        }
        panic!("moto did not start; its log:\n{last_err}");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let mut child = match self.child.lock() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// `sh -c 'read _; kill PID'` with a pipe on stdin: when this process ends, the pipe closes and the
/// shell kills moto by its PID. Statics are never dropped, so this is what stops the shared moto.
fn watchdog(pid: u32) -> Option<(Child, ChildStdin)> {
    let mut c = Command::new("sh")
        .args([
            "-c",
            "read _ ; kill \"$1\" 2>/dev/null",
            "sh",
            &pid.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let stdin = c.stdin.take()?;
    Some((c, stdin))
}

/// A port that was free a moment ago (bind port 0, read it, release it).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    l.local_addr().expect("local addr").port()
}

/// The moto server shared by every test of this binary (tests use distinct stack names).
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(Moto::start)
}

/// Clients for moto with dummy static credentials.
pub async fn moto_clients(moto: &Moto, region: &str) -> Clients {
    clients_at(&moto.url, region).await
}

/// Pushes an image manifest for `repository:tag` to moto's ECR in `region` (creating the
/// repository), so deploy's preflight finds the function's image: an OCI image index with one
/// `linux/<arch>` platform (`amd64` for Lambda's `x86_64`), the form `docker buildx` pushes.
pub async fn push_image(moto: &Moto, region: &str, repository: &str, tag: &str, arch: &str) {
    let clients = moto_clients(moto, region).await;
    // Already there (another test of this binary pushed it): fine.
    let _ = clients
        .ecr
        .create_repository()
        .repository_name(repository)
        .send()
        .await;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{}", "1".repeat(64)),
            "size": 1000,
            "platform": {"architecture": arch, "os": "linux"}
        }]
    });
    let pushed = clients
        .ecr
        .put_image()
        .repository_name(repository)
        .image_tag(tag)
        .image_manifest(manifest.to_string())
        .image_manifest_media_type("application/vnd.oci.image.index.v1+json")
        .send()
        .await;
    if let Err(e) = pushed {
        // moto answers a second push of the same manifest and tag with this error.
        let text = format!("{e:?}");
        assert!(
            text.contains("ImageAlreadyExists"),
            "push the image manifest to moto ECR: {text}"
        );
    }
}

/// Clients for an endpoint with dummy static credentials.
pub async fn clients_at(url: &str, region: &str) -> Clients {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(url)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .load()
        .await;
    Clients::from_sdk_config(&config)
}

/// A unique-enough suffix for stack names within one moto.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A temp directory holding a `snowcdk.toml` with one stage `dev` deploying `stack` to `region`,
/// with `extra` (TOML) appended after the stage's keys.
pub fn config_dir(stack: &str, region: &str, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut f = std::fs::File::create(dir.path().join("snowcdk.toml")).expect("config");
    writeln!(
        f,
        "[project]\nname = \"snowex\"\n\n[stages.dev]\nstack_name = \"{stack}\"\nregion = \"{region}\"\n{extra}"
    )
    .expect("write config");
    dir
}

/// A temp directory holding a `snowcdk.toml` with one stage `dev`: the repository's own dev stage
/// (so the test follows the real config schema) with its stack name and region replaced.
pub fn repo_config_dir(stack: &str, region: &str) -> tempfile::TempDir {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("snowcdk.toml");
    let text = std::fs::read_to_string(&repo).expect("the repository's snowcdk.toml");
    let mut doc: toml::Table = text.parse().expect("snowcdk.toml is TOML");
    let stages = doc
        .get_mut("stages")
        .and_then(toml::Value::as_table_mut)
        .expect("[stages]");
    let mut dev = stages
        .get("dev")
        .and_then(toml::Value::as_table)
        .cloned()
        .expect("[stages.dev]");
    dev.insert("stack_name".into(), stack.into());
    dev.insert("region".into(), region.into());
    // Lambda runs images from its own region only (the config refuses others): move the image.
    if let Some(uri) = dev.get_mut("lambda").and_then(|l| l.get_mut("image_uri")) {
        let moved = uri
            .as_str()
            .map(|u| u.replace(".us-west-2.", &format!(".{region}.")));
        if let Some(moved) = moved {
            *uri = moved.into();
        }
    }
    stages.clear();
    stages.insert("dev".into(), toml::Value::Table(dev));
    let dir = tempfile::tempdir().expect("tempdir");
    let mut f = std::fs::File::create(dir.path().join("snowcdk.toml")).expect("config");
    f.write_all(doc.to_string().as_bytes())
        .expect("write config");
    dir
}

/// The `snowcdk` binary with a scrubbed AWS environment: dummy credentials, no IMDS, no profile
/// files, no inherited endpoint. `endpoint` is passed as `--endpoint-url` by the caller.
pub fn snowcdk(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_snowcdk"));
    c.current_dir(dir);
    for (k, _) in std::env::vars_os() {
        if let Some(k) = k.to_str()
            && k.starts_with("AWS_")
        {
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
    c
}

/// Runs a command and returns its output, with stdout/stderr as strings.
pub fn run(mut c: Command) -> (Output, String, String) {
    let out = c.output().expect("run snowcdk");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

/// A moto-friendly template: a VPC, a subnet, a security group, an IAM role and SSM parameters
/// (moto needs explicit parameter names). `value` changes the parameter (for updates).
pub fn small_template(name: &str, value: &str) -> String {
    serde_json::json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "snowcdk deploy test stack",
        "Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.20.0.0/16"}},
            "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {
                "VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.20.1.0/24"}},
            "Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
                "GroupDescription": "test", "VpcId": {"Ref": "Vpc"}}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole"}]}}},
            "Param": {"Type": "AWS::SSM::Parameter", "Properties": {
                "Name": format!("/snowcdk-test/{name}/param"), "Type": "String", "Value": value}}
        },
        "Outputs": {"ParamName": {"Value": {"Ref": "Param"}}}
    })
    .to_string()
}

/// A template moto can delete again (no VPC): SSM parameters and an IAM role. `retain` adds a
/// parameter with `DeletionPolicy: Retain`.
pub fn deletable_template(name: &str, retain: bool) -> String {
    let mut t = serde_json::json!({
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole"}]}}},
            "Param": {"Type": "AWS::SSM::Parameter", "Properties": {
                "Name": format!("/snowcdk-test/{name}/a"), "Type": "String", "Value": "a"}}
        }
    });
    if retain {
        t["Resources"]["Kept"] = serde_json::json!({
            "Type": "AWS::SSM::Parameter", "DeletionPolicy": "Retain",
            "Properties": {"Name": format!("/snowcdk-test/{name}/kept"), "Type": "String", "Value": "k"}
        });
    }
    t.to_string()
}
