//! `snowcdk bootstrap` and asset uploads against moto S3 and CloudFormation: bootstrap creates
//! the bucket and is idempotent; an asset is uploaded once and
//! skipped after; a stack whose Lambda references the uploaded key deploys. Each test uses its own
//! qualifier, so the staging stacks of one moto do not collide.
//!
//! moto comes from `bash .ci/setup`; without it these tests fail (they never skip).

mod support;

use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::json;
use snowcdk::assets::{
    AssetHash, PackagedAsset, UploadOptions, package, upload_missing, upload_missing_with,
};
use snowcdk::deploy::{Clients, Console, DeployRequest, Status, Timing, deploy_stack};
use snowcdk::deploy::{resolve_staging_bucket, stage_for_deploy};
use snowcdk_constructs::l2::staging_bucket::{
    StagingBucketProps, bootstrap_stack, staging_bucket_name,
};
use snowcdk_constructs::tree::synth_stack;
use support::{config_dir, moto, moto_clients, run, snowcdk};

const REGION: &str = "us-east-1";
/// moto's default account.
const ACCOUNT: &str = "123456789012";

fn text(buf: &Arc<Mutex<Vec<u8>>>) -> String {
    String::from_utf8_lossy(&buf.lock().expect("buffer")).into_owned()
}

fn request(stack: &str, body: String) -> DeployRequest {
    let mut r = DeployRequest::new(stack, body);
    r.approval.yes = true;
    r.timing = Timing::default();
    r
}

/// Deploys the bootstrap stack for `qualifier` through the library and returns its bucket.
///
/// moto does not fill in the outputs (nor register the exports) of stacks created through change
/// sets, so the bucket is found by its deterministic name here; the output lookup is tested on a
/// stack moto creates directly (`the_bucket_lookup_reads_the_bootstrap_output`).
async fn bootstrap(clients: &Clients, qualifier: &str) -> String {
    let props = StagingBucketProps {
        qualifier: Some(qualifier.into()),
        ..StagingBucketProps::default()
    };
    let s = synth_stack(&bootstrap_stack(&props).expect("build")).expect("synth");
    let (mut console, buf, _) = Console::capture(None);
    let r = deploy_stack(clients, &request(&s.name, s.body.clone()), &mut console)
        .await
        .expect("bootstrap");
    assert_eq!(r.status, Status::Deployed, "{}", text(&buf));
    let bucket = staging_bucket_name(Some(qualifier), ACCOUNT, REGION);
    clients
        .s3
        .head_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("the staging bucket exists");
    bucket
}

/// The dev stage's sections of the repository's snowcdk.toml (the config requires them).
fn stage_sections() -> String {
    let toml = include_str!("../snowcdk.toml");
    let start = toml.find("[stages.dev.network]").expect("dev network");
    let end = toml.find("[stages.prod]").expect("prod");
    let dev = &toml[start..end];
    // Keep comments out and stop at the separator line.
    // The image moves to the test's region: Lambda only runs images from its own region.
    dev.lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
        .replace(".us-west-2.", &format!(".{REGION}."))
}

fn lambda_dir(root: &Path, body: &str) -> PackagedAsset {
    fs::create_dir_all(root).unwrap();
    fs::write(
        root.join("handler.py"),
        format!("def handler(event, context):\n    return {body:?}\n"),
    )
    .unwrap();
    package(root).expect("package")
}

/// Bytes that do not compress, so the zip is as large as the input.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn cli_bootstrap_creates_the_bucket_and_is_idempotent() {
    let m = moto();
    let dir = config_dir("snowex-bootstrap-cli", REGION, &stage_sections());
    let bootstrap = || {
        let mut c = snowcdk(dir.path());
        c.args([
            "bootstrap",
            "--qualifier",
            "cli",
            "--yes",
            "--json",
            "--endpoint-url",
            &m.url,
        ]);
        run(c)
    };
    let (out, stdout, stderr) = bootstrap();
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(doc["stacks"][0]["stack"], "snowcdk-cli-staging", "{doc}");
    assert_eq!(doc["stacks"][0]["status"], "deployed", "{doc}");
    let bucket = staging_bucket_name(Some("cli"), ACCOUNT, REGION);

    // The bucket is there and encrypted.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let clients = moto_clients(m, REGION).await;
        clients
            .s3
            .head_bucket()
            .bucket(&bucket)
            .send()
            .await
            .expect("bucket exists");
        // moto's AWS::S3::Bucket applies only BucketEncryption and Tags of the properties, so
        // versioning, public access blocks and lifecycle rules are checked on the template
        // (unit tests, cfn-lint, checkov), not here.
        let e = clients
            .s3
            .get_bucket_encryption()
            .bucket(&bucket)
            .send()
            .await
            .expect("encryption");
        let rule = &e
            .server_side_encryption_configuration()
            .expect("sse config")
            .rules()[0];
        assert_eq!(
            rule.apply_server_side_encryption_by_default()
                .map(|d| d.sse_algorithm().as_str()),
            Some("AES256")
        );
        // moto does not apply AWS::S3::BucketPolicy either; the stack records the bucket.
        let res = clients
            .cfn
            .describe_stack_resource()
            .stack_name("snowcdk-cli-staging")
            .logical_resource_id("StagingBucket")
            .send()
            .await
            .expect("bucket resource");
        assert_eq!(
            res.stack_resource_detail()
                .and_then(|d| d.physical_resource_id()),
            Some(bucket.as_str())
        );
    });

    // Again: nothing to do.
    let (out, stdout, stderr) = bootstrap();
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(doc["stacks"][0]["status"], "no_changes", "{doc}\n{stderr}");
}

#[test]
fn cli_show_template_needs_no_config_or_aws() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = snowcdk(dir.path());
    c.args(["bootstrap", "--show-template", "--qualifier", "x1"]);
    let (out, stdout, stderr) = run(c);
    assert!(out.status.success(), "{stderr}");
    let t: serde_json::Value = serde_json::from_str(&stdout).expect("template json");
    assert_eq!(
        t["Outputs"]["BucketName"]["Export"]["Name"],
        "snowcdk-x1-staging-bucket"
    );

    let mut c = snowcdk(dir.path());
    c.args(["bootstrap", "--qualifier", "Bad_Q", "--show-template"]);
    let (out, _, stderr) = run(c);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("qualifier"), "{stderr}");
}

#[tokio::test]
async fn the_bucket_lookup_reads_the_bootstrap_output() {
    let clients = moto_clients(moto(), REGION).await;
    let e = resolve_staging_bucket(&clients, None, Some("res"))
        .await
        .expect_err("no bootstrap stack yet");
    let msg = e.to_string();
    assert!(msg.contains("snowcdk bootstrap --qualifier res"), "{msg}");
    assert!(msg.contains("snowcdk-res-staging does not exist"), "{msg}");
    assert_eq!(
        resolve_staging_bucket(&clients, Some("mine"), Some("res"))
            .await
            .expect("configured"),
        "mine"
    );

    // Created directly (not through a change set), moto reports the outputs.
    let props = StagingBucketProps {
        qualifier: Some("res".into()),
        ..StagingBucketProps::default()
    };
    let s = synth_stack(&bootstrap_stack(&props).expect("build")).expect("synth");
    clients
        .cfn
        .create_stack()
        .stack_name(&s.name)
        .template_body(&s.body)
        .send()
        .await
        .expect("create stack");
    assert_eq!(
        resolve_staging_bucket(&clients, None, Some("res"))
            .await
            .expect("bucket"),
        staging_bucket_name(Some("res"), ACCOUNT, REGION)
    );
}

#[tokio::test]
async fn assets_upload_once_and_the_template_references_the_key() {
    let clients = moto_clients(moto(), REGION).await;
    let bucket = bootstrap(&clients, "lib").await;
    let src = tempfile::tempdir().unwrap();
    let asset = lambda_dir(&src.path().join("api"), "v1");
    let key = asset.s3_key();

    // First deploy: uploaded.
    let r = upload_missing(&clients.s3, &bucket, std::slice::from_ref(&asset))
        .await
        .expect("upload");
    assert_eq!(r.uploaded, vec![key.clone()]);
    assert!(r.present.is_empty());
    assert_eq!(r.uploaded_bytes, asset.bytes.len() as u64);
    let head = clients
        .s3
        .head_object()
        .bucket(&bucket)
        .key(&key)
        .send()
        .await
        .expect("head");
    assert_eq!(
        head.metadata()
            .and_then(|m| m.get("sha256"))
            .map(String::as_str),
        Some(asset.hash.as_str())
    );
    let got = clients
        .s3
        .get_object()
        .bucket(&bucket)
        .key(&key)
        .send()
        .await
        .expect("get")
        .body
        .collect()
        .await
        .expect("body")
        .into_bytes();
    assert_eq!(AssetHash::of_bytes(&got), asset.hash);

    // Second deploy (and a duplicate in the same list): nothing uploaded.
    let again = upload_missing(&clients.s3, &bucket, &[asset.clone(), asset.clone()])
        .await
        .expect("upload again");
    assert!(again.uploaded.is_empty(), "{again:?}");
    assert_eq!(again.present, vec![key.clone()]);
    assert_eq!(again.uploaded_bytes, 0);

    // A stack whose function reads the code from the imported bucket and the asset's key.
    let stack = "snowex-assets-app";
    let template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole"}]}}},
            "Api": {"Type": "AWS::Lambda::Function", "Properties": {
                "Runtime": "python3.12",
                "Handler": "handler.handler",
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Code": {
                    // App stacks use `import_staging_bucket`; moto registers no exports of
                    // stacks made through change sets, so the name is given here.
                    "S3Bucket": bucket,
                    "S3Key": key
                }}}
        },
        "Outputs": {"CodeKey": {"Value": key}}
    })
    .to_string();
    let (mut console, buf) = {
        let (c, b, _) = Console::capture(None);
        (c, b)
    };
    let r = deploy_stack(&clients, &request(stack, template), &mut console)
        .await
        .expect("deploy app");
    assert_eq!(r.status, Status::Deployed, "{}", text(&buf));
    let deployed = clients
        .cfn
        .get_template()
        .stack_name(stack)
        .send()
        .await
        .expect("get template");
    let body: serde_json::Value =
        serde_json::from_str(deployed.template_body().unwrap_or_default()).expect("json");
    assert_eq!(body["Resources"]["Api"]["Properties"]["Code"]["S3Key"], key);
    let res = clients
        .cfn
        .describe_stack_resource()
        .stack_name(stack)
        .logical_resource_id("Api")
        .send()
        .await
        .expect("resource");
    assert_eq!(
        res.stack_resource_detail()
            .and_then(|d| d.resource_status())
            .map(|s| s.as_str()),
        Some("CREATE_COMPLETE")
    );

    // Changed code: a new key, uploaded; the old one stays for rollbacks.
    let v2 = lambda_dir(&src.path().join("api"), "v2");
    assert_ne!(v2.hash, asset.hash);
    let r = upload_missing(&clients.s3, &bucket, &[asset.clone(), v2.clone()])
        .await
        .expect("upload v2");
    assert_eq!(r.uploaded, vec![v2.s3_key()]);
    assert_eq!(r.present, vec![key]);
}

#[tokio::test]
async fn large_assets_go_up_in_parts_once() {
    let clients = moto_clients(moto(), REGION).await;
    let bucket = bootstrap(&clients, "big").await;
    let src = tempfile::tempdir().unwrap();
    fs::write(src.path().join("blob.bin"), noise(11 * 1024 * 1024)).unwrap();
    let asset = package(src.path()).expect("package");
    assert!(asset.bytes.len() > 11 * 1024 * 1024);
    let options = UploadOptions {
        multipart_threshold: 6 * 1024 * 1024,
        part_size: 5 * 1024 * 1024,
        progress: false,
    };
    let r = upload_missing_with(&clients.s3, &bucket, std::slice::from_ref(&asset), &options)
        .await
        .expect("multipart upload");
    assert_eq!(r.uploaded, vec![asset.s3_key()]);
    let got = clients
        .s3
        .get_object()
        .bucket(&bucket)
        .key(asset.s3_key())
        .send()
        .await
        .expect("get")
        .body
        .collect()
        .await
        .expect("body")
        .into_bytes();
    assert_eq!(got.len(), asset.bytes.len());
    assert_eq!(AssetHash::of_bytes(&got), asset.hash);
    let again = upload_missing_with(&clients.s3, &bucket, std::slice::from_ref(&asset), &options)
        .await
        .expect("again");
    assert!(again.uploaded.is_empty());

    // Too-small parts are refused before any call.
    let bad = UploadOptions {
        part_size: 1024,
        ..options
    };
    let e = upload_missing_with(&clients.s3, &bucket, &[asset], &bad)
        .await
        .expect_err("small parts");
    assert!(e.to_string().contains("minimum"), "{e}");
}

#[tokio::test]
async fn a_missing_bucket_is_a_clear_error() {
    let clients = moto_clients(moto(), REGION).await;
    let src = tempfile::tempdir().unwrap();
    let asset = lambda_dir(src.path(), "x");
    let e = upload_missing(&clients.s3, "snowcdk-no-such-bucket", &[asset])
        .await
        .expect_err("no bucket");
    let msg = e.to_string();
    assert!(msg.contains("snowcdk-no-such-bucket"), "{msg}");
    assert!(msg.contains("snowcdk bootstrap"), "{msg}");
}

#[tokio::test]
async fn stage_for_deploy_uploads_and_names_the_bucket_only_when_needed() {
    let clients = moto_clients(moto(), REGION).await;

    // No assets, a small template: no bucket needed, no call made.
    let s = stage_for_deploy(&clients, None, Some("prep"), &[], 1_000)
        .await
        .expect("nothing to stage");
    assert_eq!(s.bucket, None);
    assert_eq!(s.report, None);

    // A large template and no bootstrap: the error says what to run.
    let e = stage_for_deploy(&clients, None, Some("prep"), &[], 60_000)
        .await
        .expect_err("no bucket");
    assert!(
        e.to_string().contains("snowcdk bootstrap --qualifier prep"),
        "{e}"
    );

    // Assets: uploaded to the (configured) bucket, once.
    let bucket = bootstrap(&clients, "prep").await;
    let src = tempfile::tempdir().unwrap();
    let asset = lambda_dir(src.path(), "prep");
    let s = stage_for_deploy(
        &clients,
        Some(&bucket),
        Some("prep"),
        std::slice::from_ref(&asset),
        1_000,
    )
    .await
    .expect("stage");
    assert_eq!(s.bucket.as_deref(), Some(bucket.as_str()));
    let report = s.report.expect("report");
    assert_eq!(report.uploaded, vec![asset.s3_key()]);
    assert!(
        report.summary().starts_with("assets: 1 uploaded"),
        "{}",
        report.summary()
    );
    let s = stage_for_deploy(&clients, Some(&bucket), Some("prep"), &[asset], 1_000)
        .await
        .expect("again");
    assert_eq!(s.report.expect("report").uploaded.len(), 0);
}
