//! `snowcdk snapshot` against moto: a hand-made instance by identifier (`--db`, no config
//! needed), a stage's database found through its stack (`--stage`), and the errors that name
//! what is missing (no instance, no stack, a stack with none or several instances). The
//! snapshots are read back from moto's RDS API, not only from the command's output.

mod support;

use serde_json::Value as Json;
use support::{moto, moto_clients, repo_config_dir, run, snowcdk, unique};

const REGION: &str = "us-west-2";

/// Creates a PostgreSQL instance with the SDK, the way an administrator builds one by hand.
async fn hand_made_instance(id: &str) {
    let c = moto_clients(moto(), REGION).await;
    c.rds
        .create_db_instance()
        .db_instance_identifier(id)
        .engine("postgres")
        .engine_version("17.11")
        .db_instance_class("db.t4g.micro")
        .allocated_storage(20)
        .master_username("snowex")
        .master_user_password("not-a-real-password-1")
        .send()
        .await
        .expect("create the DB instance in moto");
}

/// A stack (created directly through CloudFormation) with one DB instance per logical id.
async fn stack_with_instances(stack: &str, logical_ids: &[&str]) {
    let mut resources = serde_json::Map::new();
    for l in logical_ids {
        resources.insert(
            (*l).to_owned(),
            serde_json::json!({"Type": "AWS::RDS::DBInstance", "Properties": {
                "Engine": "postgres", "EngineVersion": "17.11", "DBInstanceClass": "db.t4g.micro",
                "AllocatedStorage": "20", "MasterUsername": "snowex",
                "MasterUserPassword": "not-a-real-password-1"}}),
        );
    }
    if logical_ids.is_empty() {
        resources.insert(
            "Param".into(),
            serde_json::json!({"Type": "AWS::SSM::Parameter", "Properties": {
                "Name": format!("/snowcdk-test/{stack}/p"), "Type": "String", "Value": "v"}}),
        );
    }
    let body = serde_json::json!({"Resources": resources}).to_string();
    let c = moto_clients(moto(), REGION).await;
    c.cfn
        .create_stack()
        .stack_name(stack)
        .template_body(body)
        .send()
        .await
        .expect("create the stack in moto");
}

/// The snapshot as moto's RDS API describes it.
async fn read_snapshot(id: &str) -> aws_sdk_rds::types::DbSnapshot {
    let c = moto_clients(moto(), REGION).await;
    let out = c
        .rds
        .describe_db_snapshots()
        .db_snapshot_identifier(id)
        .send()
        .await
        .expect("describe the snapshot");
    out.db_snapshots()[0].clone()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn a_hand_made_instance_is_snapshotted_by_id_and_its_arn_alone_goes_to_stdout() {
    let rt = runtime();
    let db = unique("handmade");
    rt.block_on(hand_made_instance(&db));
    // No config at all: --db with --region needs none.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = snowcdk(dir.path());
    c.args([
        "snapshot",
        "--db",
        &db,
        "--region",
        REGION,
        "--endpoint-url",
        &moto().url,
    ]);
    let (out, stdout, stderr) = run(c);
    assert!(out.status.success(), "{stderr}\n{stdout}");
    let arn = stdout.trim();
    assert_eq!(stdout.lines().count(), 1, "the ARN alone: {stdout:?}");
    assert!(
        arn.starts_with(&format!("arn:aws:rds:{REGION}:")) && arn.contains(":snapshot:"),
        "{arn}"
    );
    let id = arn.rsplit(':').next().expect("id");
    // The default id: `<db>-<yyyymmdd-hhmmss>`.
    let stamp = id
        .strip_prefix(&format!("{db}-"))
        .expect("prefixed by the db");
    assert!(
        stamp.len() == 15 && stamp.as_bytes()[8] == b'-',
        "the UTC time: {stamp}"
    );
    assert!(
        stderr.contains(&format!(
            "snapshot {id} of the DB instance {db} in {REGION} started"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("snapshot {id}: available")),
        "{stderr}"
    );
    let snap = rt.block_on(read_snapshot(id));
    assert_eq!(snap.db_instance_identifier(), Some(db.as_str()));
    assert_eq!(snap.status(), Some("available"));
    assert_eq!(snap.db_snapshot_arn(), Some(arn));
    let tag = snap
        .tag_list()
        .iter()
        .find(|t| t.key() == Some("snowcdk:source-db"))
        .and_then(|t| t.value());
    assert_eq!(tag, Some(db.as_str()), "{:?}", snap.tag_list());
}

#[test]
fn a_missing_instance_or_a_taken_snapshot_id_is_an_error_naming_it_and_the_region() {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshot = |db: &str, extra: &[&str]| {
        let mut c = snowcdk(dir.path());
        c.args([
            "snapshot",
            "--db",
            db,
            "--region",
            REGION,
            "--endpoint-url",
            &moto().url,
        ])
        .args(extra);
        run(c)
    };
    let (out, stdout, stderr) = snapshot("no-such-db", &[]);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("there is no DB instance no-such-db in us-west-2 (DBInstanceNotFound)"),
        "{stderr}"
    );

    let db = unique("taken");
    rt.block_on(hand_made_instance(&db));
    let id = format!("{db}-first");
    let (out, stdout, stderr) = snapshot(&db, &["--snapshot-id", &id, "--json"]);
    assert!(out.status.success(), "{stderr}");
    let doc: Json = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(doc["id"], id.as_str());
    assert_eq!(doc["db_instance"], db.as_str());
    assert_eq!(doc["status"], "available");
    assert_eq!(doc["region"], REGION);
    let (out, _, stderr) = snapshot(&db, &["--snapshot-id", &id]);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "a DB snapshot named {id} already exists in us-west-2"
        )),
        "{stderr}"
    );
}

#[test]
fn a_stage_is_snapshotted_through_its_stacks_db_instance() {
    let rt = runtime();
    let stack = unique("snap-stage");
    rt.block_on(stack_with_instances(&stack, &["Database"]));
    let physical = rt.block_on(async {
        let c = moto_clients(moto(), REGION).await;
        let r = c
            .cfn
            .describe_stack_resource()
            .stack_name(&stack)
            .logical_resource_id("Database")
            .send()
            .await
            .expect("the stack's DB instance");
        r.stack_resource_detail()
            .and_then(|d| d.physical_resource_id())
            .expect("physical id")
            .to_owned()
    });
    let dir = repo_config_dir(&stack, REGION);
    let mut c = snowcdk(dir.path());
    c.args(["snapshot", "--stage", "dev", "--endpoint-url", &moto().url]);
    let (out, stdout, stderr) = run(c);
    assert!(out.status.success(), "{stderr}\n{stdout}");
    let arn = stdout.trim();
    let id = arn.rsplit(':').next().expect("id");
    let snap = rt.block_on(read_snapshot(id));
    assert_eq!(snap.db_instance_identifier(), Some(physical.as_str()));
    assert_eq!(snap.db_snapshot_arn(), Some(arn));
}

#[test]
fn a_stack_without_one_instance_needs_resource_or_db() {
    let rt = runtime();
    let run_stage = |stack: &str, extra: &[&str]| {
        let dir = repo_config_dir(stack, REGION);
        let mut c = snowcdk(dir.path());
        c.args(["snapshot", "--stage", "dev", "--endpoint-url", &moto().url])
            .args(extra);
        run(c)
    };

    let missing = unique("snap-missing");
    let (out, _, stderr) = run_stage(&missing, &[]);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("stack {missing} does not exist in us-west-2")),
        "{stderr}"
    );

    let none = unique("snap-none");
    rt.block_on(stack_with_instances(&none, &[]));
    let (out, _, stderr) = run_stage(&none, &[]);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "stack {none} in us-west-2 has no AWS::RDS::DBInstance; pass --db ID"
        )),
        "{stderr}"
    );

    let two = unique("snap-two");
    rt.block_on(stack_with_instances(&two, &["Primary", "Reporting"]));
    let (out, stdout, stderr) = run_stage(&two, &[]);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains(&format!(
            "stack {two} in us-west-2 has several AWS::RDS::DBInstance resources (Primary ("
        )) && stderr.contains("pass --resource LOGICAL_ID to pick one"),
        "{stderr}"
    );
    let (out, _, stderr) = run_stage(&two, &["--resource", "Nope"]);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("has no AWS::RDS::DBInstance with the logical id Nope (its DB instances: Primary, Reporting)"),
        "{stderr}"
    );
    let (out, stdout, stderr) = run_stage(&two, &["--resource", "Reporting"]);
    assert!(out.status.success(), "{stderr}");
    let id = stdout.trim().rsplit(':').next().expect("id").to_owned();
    let reporting = rt.block_on(async {
        let c = moto_clients(moto(), REGION).await;
        c.cfn
            .describe_stack_resource()
            .stack_name(&two)
            .logical_resource_id("Reporting")
            .send()
            .await
            .expect("resource")
            .stack_resource_detail()
            .and_then(|d| d.physical_resource_id())
            .map(str::to_owned)
    });
    let snap = rt.block_on(read_snapshot(&id));
    assert_eq!(snap.db_instance_identifier(), reporting.as_deref());
}
