//! The real SnowEx dev stack, end to end, through the `snowcdk` binary against moto with the
//! fixes of `tests/support/moto_patches.py` (moto's CloudFormation lacks Secrets Manager secrets
//! and their attachments, Lambda URLs and egress rules, resolves a `Ref` to a parameter group to
//! the wrong thing and forgets a change set's outputs). The stack is created, updated through one
//! edit of `snowcdk.toml` at a time (image URI, memory, instance class, storage, tags, a rule),
//! re-deployed as "no changes" and destroyed. After each step the live state is read back from
//! the emulator's own APIs (through boto3 in the test venv), not only from the template. A
//! second test runs the two-step first create of a stack with deletion protection on the same
//! patched moto (it needs the replacement verdict plain moto does not give).

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value as Json;
use support::{Moto, moto_path, push_image, repo_config_dir, snowcdk};

const REGION: &str = "us-west-2";
const STACK: &str = "snowex-e2e";

/// Runs `snowcdk deploy --stage dev --yes --json` (plus `extra`); returns the exit code, the
/// stack's JSON result and the human output.
fn deploy(dir: &Path, url: &str, extra: &[&str]) -> (i32, Json, String) {
    let mut c = snowcdk(dir);
    c.args([
        "deploy",
        "--stage",
        "dev",
        "--yes",
        "--json",
        "--endpoint-url",
        url,
    ])
    .args(extra);
    let out = c.output().expect("run snowcdk deploy");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc: Json = serde_json::from_str(&stdout).unwrap_or(Json::Null);
    let stack = doc["stacks"][0].clone();
    (
        out.status.code().unwrap_or(-1),
        stack,
        format!("{stderr}\n{stdout}"),
    )
}

/// Edits the dev stage of the config in `dir`.
fn edit(dir: &Path, f: impl FnOnce(&mut toml::Table)) {
    let path = dir.join("snowcdk.toml");
    let mut doc: toml::Table = std::fs::read_to_string(&path)
        .expect("config")
        .parse()
        .expect("TOML");
    let dev = doc
        .get_mut("stages")
        .and_then(|s| s.get_mut("dev"))
        .and_then(toml::Value::as_table_mut)
        .expect("[stages.dev]");
    f(dev);
    std::fs::write(&path, doc.to_string()).expect("write config");
}

fn section<'a>(dev: &'a mut toml::Table, name: &str) -> &'a mut toml::Table {
    dev.entry(name)
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .expect("a table")
}

/// Asks the emulator through boto3 (the venv's Python): `expr` is evaluated with `cfn`, `rds`,
/// `lam`, `sm` and `ec2` clients at `url`, and its value printed as JSON.
fn live(url: &str, expr: &str) -> Json {
    let python = moto_path()
        .parent()
        .map(|b| b.join("python"))
        .expect("venv python");
    let script = format!(
        "import boto3, json\n\
         kw = dict(endpoint_url={url:?}, region_name={REGION:?}, aws_access_key_id='testing', aws_secret_access_key='testing')\n\
         cfn, rds, lam, sm, ec2 = (boto3.client(s, **kw) for s in ('cloudformation', 'rds', 'lambda', 'secretsmanager', 'ec2'))\n\
         print(json.dumps({expr}, default=str))\n"
    );
    let out = Command::new(python)
        .args(["-c", &script])
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "boto3 query failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from the query")
}

/// The physical id of a logical resource of the stack.
fn physical(url: &str, logical: &str) -> String {
    live(
        url,
        &format!(
            "cfn.describe_stack_resource(StackName={STACK:?}, LogicalResourceId={logical:?})['StackResourceDetail']['PhysicalResourceId']"
        ),
    )
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

fn db(url: &str) -> Json {
    let id = physical(url, "Database");
    live(
        url,
        &format!("rds.describe_db_instances(DBInstanceIdentifier={id:?})['DBInstances'][0]"),
    )
}

fn function(url: &str) -> Json {
    let name = physical(url, "Api");
    live(
        url,
        &format!("lam.get_function(FunctionName={name:?})['Configuration']"),
    )
}

fn deployed_template(url: &str) -> Json {
    live(
        url,
        &format!("cfn.get_template(StackName={STACK:?}, TemplateStage='Original')['TemplateBody']"),
    )
}

fn body(template: &Json) -> Json {
    match template {
        Json::String(s) => serde_json::from_str(s).unwrap_or(Json::Null),
        other => other.clone(),
    }
}

#[test]
fn the_dev_stack_creates_updates_edit_by_edit_redeploys_as_no_changes_and_is_destroyed() {
    let moto = Moto::start_patched();
    let url = moto.url.clone();
    let dir = repo_config_dir(STACK, REGION);
    // The images the config names, as CI would have pushed them: preflight checks them in ECR.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    for tag in ["latest", "v2"] {
        rt.block_on(push_image(&moto, REGION, "snowex-api", tag, "amd64"));
    }

    // Create: every resource, the outputs, and the secret the API reads (snowex-system-facts:
    // username, password, host, port, dbname).
    let (code, r, out) = deploy(dir.path(), &url, &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(r["status"], "deployed", "{out}");
    let resources = live(
        &url,
        &format!("len(cfn.list_stack_resources(StackName={STACK:?})['StackResourceSummaries'])"),
    );
    let template = body(&deployed_template(&url));
    let expected = template["Resources"]
        .as_object()
        .map(|m| m.len())
        .unwrap_or(0);
    assert!(
        expected > 40,
        "the whole SnowEx stack: {expected} resources"
    );
    assert_eq!(resources, Json::from(expected), "every resource exists");
    let outputs: Vec<&str> = r["outputs"]
        .as_array()
        .map(|a| a.iter().filter_map(|o| o["key"].as_str()).collect())
        .unwrap_or_default();
    for key in [
        "DbEndpointAddress",
        "DbSecretArn",
        "FunctionUrl",
        "TunnelCommand",
    ] {
        assert!(
            outputs.contains(&key),
            "output {key} missing: {outputs:?}\n{out}"
        );
    }
    let secret_arn = r["outputs"]
        .as_array()
        .and_then(|a| a.iter().find(|o| o["key"] == "DbSecretArn"))
        .and_then(|o| o["value"].as_str())
        .expect("secret ARN")
        .to_owned();
    let secret: Json = serde_json::from_str(
        live(
            &url,
            &format!("sm.get_secret_value(SecretId={secret_arn:?})['SecretString']"),
        )
        .as_str()
        .expect("secret string"),
    )
    .expect("secret JSON");
    for key in ["username", "password", "host", "port", "dbname"] {
        assert!(secret.get(key).is_some(), "secret lacks {key}: {secret}");
    }
    assert_eq!(db(&url)["DBInstanceClass"], "db.t4g.micro");

    // 1. A new image URI in the config: the parameter's default changed, so it is sent.
    let image = format!("123456789012.dkr.ecr.{REGION}.amazonaws.com/snowex-api:v2");
    edit(dir.path(), |dev| {
        section(dev, "lambda").insert("image_uri".into(), image.clone().into());
    });
    let (code, r, out) = deploy(dir.path(), &url, &[]);
    assert_eq!(code, 0, "{out}");
    let p = r["parameters"]
        .as_array()
        .and_then(|a| a.iter().find(|p| p["key"] == "LambdaImageUri"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(p["source"], "default-changed", "{out}");
    assert_eq!(p["new"], Json::from(image.clone()), "{out}");
    let params = live(
        &url,
        &format!(
            "{{p['ParameterKey']: p.get('ParameterValue') for p in cfn.describe_stacks(StackName={STACK:?})['Stacks'][0]['Parameters']}}"
        ),
    );
    assert_eq!(params["LambdaImageUri"], Json::from(image), "{out}");

    // 2. Memory.
    edit(dir.path(), |dev| {
        section(dev, "lambda").insert("memory_mb".into(), 2048.into());
    });
    let (code, _, out) = deploy(dir.path(), &url, &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(function(&url)["MemorySize"], 2048, "{out}");

    // 3. Instance class and 4. storage: in place, the same database.
    let before = physical(&url, "Database");
    edit(dir.path(), |dev| {
        section(dev, "database").insert("instance_class".into(), "db.t4g.small".into());
    });
    let (code, _, out) = deploy(dir.path(), &url, &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(db(&url)["DBInstanceClass"], "db.t4g.small", "{out}");
    edit(dir.path(), |dev| {
        section(dev, "database").insert("allocated_storage_gb".into(), 30.into());
    });
    let (code, _, out) = deploy(dir.path(), &url, &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(db(&url)["AllocatedStorage"], 30, "{out}");
    assert_eq!(physical(&url, "Database"), before, "never replaced");

    // 5. Tags: every taggable resource of the deployed template carries the new tag.
    edit(dir.path(), |dev| {
        section(dev, "tags").insert("team".into(), "snowex-data".into());
    });
    let (code, _, out) = deploy(dir.path(), &url, &[]);
    assert_eq!(code, 0, "{out}");
    let deployed = body(&deployed_template(&url));
    let vpc_tags = deployed["Resources"]["Network"]["Properties"]["Tags"].to_string();
    assert!(vpc_tags.contains("snowex-data"), "{vpc_tags}");

    // 6. A rule: the database's outbound traffic closed.
    edit(dir.path(), |dev| {
        section(dev, "database").insert("allow_all_outbound".into(), false.into());
    });
    let (code, r, out) = deploy(dir.path(), &url, &[]);
    assert_eq!(code, 0, "{out}");
    let changed: Vec<&str> = r["changes"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["logical_id"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        changed.contains(&"DatabaseSecurityGroup"),
        "{changed:?}\n{out}"
    );
    let sg = physical(&url, "DatabaseSecurityGroup");
    let egress = live(
        &url,
        &format!(
            "ec2.describe_security_groups(GroupIds=[{sg:?}])['SecurityGroups'][0]['IpPermissionsEgress']"
        ),
    );
    assert!(
        !egress.to_string().contains("\"IpProtocol\": \"-1\"")
            && !egress.to_string().contains("\"IpProtocol\":\"-1\""),
        "all-traffic egress is gone: {egress}"
    );

    // Nothing left to change: no change set at all.
    let (code, r, out) = deploy(dir.path(), &url, &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(r["status"], "no_changes", "{out}");
    assert!(r.get("change_set").is_none_or(Json::is_null), "{out}");

    // Destroy: the stack is gone.
    let mut c = snowcdk(dir.path());
    c.args(["destroy", STACK, "--yes", "--endpoint-url", &url]);
    let out = c.output().expect("run snowcdk destroy");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(out.status.success(), "{text}");
    let left = live(
        &url,
        &format!(
            "[s['StackName'] for s in cfn.list_stacks()['StackSummaries'] if s['StackStatus'] != 'DELETE_COMPLETE' and s['StackName'] == {STACK:?}]"
        ),
    );
    assert_eq!(left, Json::Array(vec![]), "{text}");
}

fn ci_console() -> (
    snowcdk::deploy::Console,
    std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
) {
    let (c, buf, _) = snowcdk::deploy::Console::capture(None);
    (c, buf)
}

fn text(buf: &std::sync::Arc<std::sync::Mutex<Vec<u8>>>) -> String {
    String::from_utf8_lossy(&buf.lock().expect("buffer")).into_owned()
}

fn request(stack: &str, body: String) -> snowcdk::deploy::DeployRequest {
    let mut r = snowcdk::deploy::DeployRequest::new(stack, body);
    r.approval.yes = true;
    r
}

#[tokio::test]
async fn a_protected_stack_is_created_unprotected_then_protected_by_an_update() {
    let moto = Moto::start_patched();
    let clients = support::moto_clients(&moto, REGION).await;
    let stack = "protect-e2e".to_owned();
    let body = serde_json::json!({"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup",
        "Properties": {"LogGroupName": format!("/snowcdk-test/{stack}"), "RetentionInDays": 7,
            "DeletionProtectionEnabled": true}}}})
    .to_string();
    let (mut console, buf) = ci_console();
    let r = snowcdk::deploy::deploy_stack(&clients, &request(&stack, body), &mut console)
        .await
        .expect("deploy");
    let out = text(&buf);
    assert_eq!(r.status, snowcdk::deploy::Status::Deployed, "{out}");
    assert!(
        out.contains(
            "creating it with deletion protection off on Logs (DeletionProtectionEnabled)"
        ),
        "{out}"
    );
    assert!(out.contains("turning deletion protection on"), "{out}");
    // Two change sets ran: the CREATE without protection, then the UPDATE with it.
    let sets = clients
        .cfn
        .list_change_sets()
        .stack_name(&stack)
        .send()
        .await
        .expect("list change sets");
    let kinds: Vec<&str> = sets
        .summaries()
        .iter()
        .filter(|s| s.stack_name() == Some(stack.as_str()))
        .filter_map(|s| s.change_set_name())
        .collect();
    assert_eq!(kinds.len(), 2, "{kinds:?}\n{out}");
    // What is deployed now is the real template: protection on.
    let t = clients
        .cfn
        .get_template()
        .stack_name(&stack)
        .send()
        .await
        .expect("template");
    let doc: serde_json::Value =
        serde_json::from_str(t.template_body().unwrap_or("{}")).expect("JSON");
    assert_eq!(
        doc["Resources"]["Logs"]["Properties"]["DeletionProtectionEnabled"], true,
        "{out}"
    );
    // A second deploy of the same template is an ordinary no-op.
    let (mut console, buf) = ci_console();
    let again = snowcdk::deploy::deploy_stack(
        &clients,
        &request(
            &stack,
            String::from_utf8(t.template_body().unwrap_or("{}").as_bytes().to_vec()).unwrap(),
        ),
        &mut console,
    )
    .await
    .expect("again");
    assert_eq!(
        again.status,
        snowcdk::deploy::Status::NoChanges,
        "{}",
        text(&buf)
    );
}
