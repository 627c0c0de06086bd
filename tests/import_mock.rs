//! `import` execution against a scripted CloudFormation (`aws-smithy-mocks`): moto has no IMPORT
//! change sets. The fake keeps the stack's state (status, template, resources, events, change
//! sets) so the engine's calls see one consistent stack: an IMPORT creates or extends it, the
//! update that follows changes it. tokio's clock is paused: the real poll intervals cost nothing.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::error::ErrorMetadata;
use aws_sdk_cloudformation::operation::create_change_set::{
    CreateChangeSetError, CreateChangeSetOutput,
};
use aws_sdk_cloudformation::operation::delete_change_set::DeleteChangeSetOutput;
use aws_sdk_cloudformation::operation::delete_stack::DeleteStackOutput;
use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_stack_events::DescribeStackEventsOutput;
use aws_sdk_cloudformation::operation::describe_stacks::{
    DescribeStacksError, DescribeStacksOutput,
};
use aws_sdk_cloudformation::operation::describe_type::{DescribeTypeError, DescribeTypeOutput};
use aws_sdk_cloudformation::operation::execute_change_set::ExecuteChangeSetOutput;
use aws_sdk_cloudformation::operation::get_stack_policy::GetStackPolicyOutput;
use aws_sdk_cloudformation::operation::get_template::GetTemplateOutput;
use aws_sdk_cloudformation::operation::get_template_summary::GetTemplateSummaryOutput;
use aws_sdk_cloudformation::operation::list_change_sets::ListChangeSetsOutput;
use aws_sdk_cloudformation::operation::list_stack_resources::ListStackResourcesOutput;
use aws_sdk_cloudformation::operation::set_stack_policy::SetStackPolicyOutput;
use aws_sdk_cloudformation::types::{
    Change, ChangeAction, ChangeSetStatus, ChangeSetType, ChangeType, ResourceChange,
    ResourceIdentifierSummary, ResourceStatus, Stack, StackEvent, StackResourceSummary,
    StackStatus,
};
use aws_smithy_mocks::{MockResponse, RuleMode, mock, mock_client};
use serde_json::{Value as Json, json};
use snowcdk_engine::deploy::{Clients, Console, Prompter};
use snowcdk_engine::import::execute::ImportError;
use snowcdk_engine::import::{
    Adoption, ImportOutcome, ImportPlan, ImportRequest, NotImported, import_stack,
};

const STACK: &str = "app-dev";
const ARN: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/app-dev/abc";
const QUEUE_URL: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/jobs";

/// The synthesized template: two resources that run already, one that does not (the log group),
/// a parameter the bucket's name uses, and an output (which an import may not add).
fn synthesized() -> String {
    json!({
        "Parameters": {"Env": {"Type": "String", "Default": "dev"}},
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Delete",
                "Properties": {"BucketName": {"Fn::Sub": "${Env}-data"}}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "jobs"}},
            "Log": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/app"}}
        },
        "Outputs": {"BucketArn": {"Value": {"Fn::GetAtt": ["Bucket", "Arn"]}}}
    })
    .to_string()
}

fn adoption(id: &str, ty: &str, key: &str, physical: &str) -> Adoption {
    Adoption {
        logical_id: id.into(),
        resource_type: ty.into(),
        identifier: BTreeMap::from([(key.to_owned(), physical.to_owned())]),
        physical_id: physical.into(),
        attributes: BTreeMap::new(),
        live: serde_json::Map::new(),
    }
}

fn plan() -> ImportPlan {
    ImportPlan {
        stage: "dev".into(),
        resources: vec![
            adoption("Bucket", "AWS::S3::Bucket", "BucketName", "dev-data"),
            adoption("Queue", "AWS::SQS::Queue", "QueueUrl", QUEUE_URL),
        ],
        not_imported: vec![NotImported {
            logical_id: Some("Log".into()),
            resource_type: "AWS::Logs::LogGroup".into(),
            physical_id: None,
            note: "created by the update after the import".into(),
        }],
    }
}

/// A change set as the fake keeps it.
#[derive(Debug, Clone)]
struct Cs {
    name: String,
    kind: ChangeSetType,
    template: Json,
    /// (logical id, type, identifier) of `ResourcesToImport`.
    imports: Vec<(String, String, BTreeMap<String, String>)>,
    deleted: bool,
    executed: bool,
}

/// The fake stack and what the test scripted.
#[derive(Debug, Default)]
struct Fake {
    status: Option<String>,
    template: Option<Json>,
    /// (logical id, physical id, type).
    resources: Vec<(String, String, String)>,
    /// Oldest first.
    events: Vec<StackEvent>,
    change_sets: Vec<Cs>,
    stack_deleted: bool,
    /// `ResourceIdentifierSummaries` by type; a type left out is found through DescribeType.
    summary: Vec<(String, Vec<String>)>,
    /// DescribeType schemas by type.
    schemas: BTreeMap<String, String>,
    /// A ValidationError for CreateChangeSet IMPORT.
    reject: Option<String>,
    /// (logical id, type, reason): the IMPORT fails with these and rolls back.
    import_failures: Vec<(String, String, String)>,
}

type Shared = Arc<Mutex<Fake>>;

fn fake() -> Shared {
    Arc::new(Mutex::new(Fake {
        summary: vec![("AWS::S3::Bucket".into(), vec!["BucketName".into()])],
        schemas: BTreeMap::from([(
            "AWS::SQS::Queue".to_owned(),
            r#"{"primaryIdentifier":["/properties/QueueUrl"]}"#.to_owned(),
        )]),
        ..Fake::default()
    }))
}

fn event(n: usize, logical: &str, ty: &str, status: &str, reason: Option<&str>) -> StackEvent {
    StackEvent::builder()
        .event_id(format!("e{n}"))
        .stack_id(ARN)
        .stack_name(STACK)
        .logical_resource_id(logical)
        .physical_resource_id(if ty == "AWS::CloudFormation::Stack" {
            ARN
        } else {
            "phys"
        })
        .resource_type(ty)
        .resource_status(ResourceStatus::from(status))
        .set_resource_status_reason(reason.map(str::to_owned))
        .timestamp(aws_sdk_cloudformation::primitives::DateTime::from_secs(
            1_700_000_000 + n as i64,
        ))
        .build()
}

impl Fake {
    fn push(&mut self, logical: &str, ty: &str, status: &str, reason: Option<&str>) {
        let n = self.events.len();
        self.events.push(event(n, logical, ty, status, reason));
    }

    fn stack_event(&mut self, status: &str) {
        self.push(STACK, "AWS::CloudFormation::Stack", status, None);
    }

    /// What executing a change set does to the stack.
    fn execute(&mut self, name: &str) {
        let Some(cs) = self.change_sets.iter_mut().find(|c| c.name == name) else {
            return;
        };
        cs.executed = true;
        let cs = cs.clone();
        if cs.kind == ChangeSetType::Import {
            self.stack_event("IMPORT_IN_PROGRESS");
            if self.import_failures.is_empty() {
                for (id, ty, ident) in &cs.imports {
                    let physical = ident.values().next().cloned().unwrap_or_default();
                    self.resources.push((id.clone(), physical, ty.clone()));
                    self.push(id, ty, "IMPORT_COMPLETE", None);
                }
                self.template = Some(cs.template.clone());
                self.stack_event("IMPORT_COMPLETE");
                self.status = Some("IMPORT_COMPLETE".into());
            } else {
                for (id, ty, reason) in self.import_failures.clone() {
                    self.push(&id, &ty, "IMPORT_FAILED", Some(&reason));
                }
                self.stack_event("IMPORT_ROLLBACK_IN_PROGRESS");
                self.stack_event("IMPORT_ROLLBACK_COMPLETE");
                self.status = Some("IMPORT_ROLLBACK_COMPLETE".into());
            }
        } else {
            self.stack_event("UPDATE_IN_PROGRESS");
            for (id, ty) in self.added(&cs.template) {
                self.resources
                    .push((id.clone(), format!("{id}-phys"), ty.clone()));
                self.push(&id, &ty, "CREATE_COMPLETE", None);
            }
            self.template = Some(cs.template.clone());
            self.stack_event("UPDATE_COMPLETE");
            self.status = Some("UPDATE_COMPLETE".into());
        }
    }

    /// Resources of `template` the stack does not hold.
    fn added(&self, template: &Json) -> Vec<(String, String)> {
        template["Resources"]
            .as_object()
            .map(|o| {
                o.iter()
                    .filter(|(id, _)| !self.resources.iter().any(|r| &r.0 == *id))
                    .map(|(id, r)| (id.clone(), r["Type"].as_str().unwrap_or("").to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The change set's rows, as CloudFormation computes them.
    fn changes(&self, cs: &Cs) -> Vec<Change> {
        let row = |action: &str, id: &str, ty: &str| {
            Change::builder()
                .r#type(ChangeType::Resource)
                .resource_change(
                    ResourceChange::builder()
                        .action(ChangeAction::from(action))
                        .logical_resource_id(id)
                        .resource_type(ty)
                        .build(),
                )
                .build()
        };
        if cs.kind == ChangeSetType::Import {
            return cs
                .imports
                .iter()
                .map(|(id, ty, _)| row("Import", id, ty))
                .collect();
        }
        self.added(&cs.template)
            .iter()
            .map(|(id, ty)| row("Add", id, ty))
            .collect()
    }
}

fn missing_stack() -> DescribeStacksError {
    DescribeStacksError::generic(
        ErrorMetadata::builder()
            .code("ValidationError")
            .message(format!("Stack with id {STACK} does not exist"))
            .build(),
    )
}

/// The mock client over the fake.
fn clients(f: &Shared) -> Clients {
    let s = f.clone();
    let describe = mock!(Client::describe_stacks).then_compute_response(move |_| {
        let f = s.lock().expect("fake");
        match &f.status {
            None => MockResponse::Error(missing_stack()),
            Some(status) => MockResponse::Output(
                DescribeStacksOutput::builder()
                    .stacks(
                        Stack::builder()
                            .stack_name(STACK)
                            .stack_id(ARN)
                            .stack_status(StackStatus::from(status.as_str()))
                            .build(),
                    )
                    .build(),
            ),
        }
    });
    let s = f.clone();
    let get_template = mock!(Client::get_template).then_compute_output(move |_| {
        let f = s.lock().expect("fake");
        GetTemplateOutput::builder()
            .template_body(f.template.clone().unwrap_or(json!({})).to_string())
            .build()
    });
    let s = f.clone();
    let list_resources = mock!(Client::list_stack_resources).then_compute_output(move |_| {
        let f = s.lock().expect("fake");
        let mut out = ListStackResourcesOutput::builder();
        for (id, physical, ty) in &f.resources {
            out = out.stack_resource_summaries(
                StackResourceSummary::builder()
                    .logical_resource_id(id)
                    .physical_resource_id(physical)
                    .resource_type(ty)
                    .resource_status(aws_sdk_cloudformation::types::ResourceStatus::from(
                        "IMPORT_COMPLETE",
                    ))
                    .build(),
            );
        }
        out.build()
    });
    let list_cs =
        mock!(Client::list_change_sets).then_output(|| ListChangeSetsOutput::builder().build());
    let s = f.clone();
    let summary = mock!(Client::get_template_summary).then_compute_output(move |_| {
        let f = s.lock().expect("fake");
        let mut out = GetTemplateSummaryOutput::builder();
        for (ty, ids) in &f.summary {
            out = out.resource_identifier_summaries(
                ResourceIdentifierSummary::builder()
                    .resource_type(ty)
                    .set_resource_identifiers(Some(ids.clone()))
                    .build(),
            );
        }
        out.build()
    });
    let s = f.clone();
    let describe_type = mock!(Client::describe_type).then_compute_response(move |req| {
        let f = s.lock().expect("fake");
        match f.schemas.get(req.type_name().unwrap_or_default()) {
            Some(schema) => {
                MockResponse::Output(DescribeTypeOutput::builder().schema(schema).build())
            }
            None => MockResponse::Error(DescribeTypeError::generic(
                ErrorMetadata::builder()
                    .code("TypeNotFoundException")
                    .build(),
            )),
        }
    });
    let s = f.clone();
    let create = mock!(Client::create_change_set).then_compute_response(move |req| {
        let mut f = s.lock().expect("fake");
        let kind = req
            .change_set_type()
            .cloned()
            .unwrap_or(ChangeSetType::Update);
        if kind == ChangeSetType::Import
            && let Some(msg) = f.reject.clone()
        {
            return MockResponse::Error(CreateChangeSetError::generic(
                ErrorMetadata::builder()
                    .code("ValidationError")
                    .message(msg)
                    .build(),
            ));
        }
        if f.status.is_none() {
            f.status = Some("REVIEW_IN_PROGRESS".into());
            f.stack_deleted = false;
        }
        let name = req.change_set_name().unwrap_or_default().to_owned();
        f.change_sets.push(Cs {
            name: name.clone(),
            kind,
            template: serde_json::from_str(req.template_body().unwrap_or("{}")).expect("json"),
            imports: req
                .resources_to_import()
                .iter()
                .map(|r| {
                    (
                        r.logical_resource_id().unwrap_or_default().to_owned(),
                        r.resource_type().unwrap_or_default().to_owned(),
                        r.resource_identifier()
                            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                            .unwrap_or_default(),
                    )
                })
                .collect(),
            deleted: false,
            executed: false,
        });
        MockResponse::Output(
            CreateChangeSetOutput::builder()
                .id(name)
                .stack_id(ARN)
                .build(),
        )
    });
    let s = f.clone();
    let describe_cs = mock!(Client::describe_change_set).then_compute_output(move |req| {
        let f = s.lock().expect("fake");
        let name = req.change_set_name().unwrap_or_default();
        let cs = f
            .change_sets
            .iter()
            .find(|c| c.name == name)
            .cloned()
            .expect("change set");
        DescribeChangeSetOutput::builder()
            .change_set_id(&cs.name)
            .stack_id(ARN)
            .status(ChangeSetStatus::CreateComplete)
            .set_changes(Some(f.changes(&cs)))
            .build()
    });
    let s = f.clone();
    let delete_cs = mock!(Client::delete_change_set).then_compute_output(move |req| {
        let mut f = s.lock().expect("fake");
        let name = req.change_set_name().unwrap_or_default().to_owned();
        if let Some(c) = f.change_sets.iter_mut().find(|c| c.name == name) {
            c.deleted = true;
        }
        DeleteChangeSetOutput::builder().build()
    });
    let s = f.clone();
    let delete_stack = mock!(Client::delete_stack).then_compute_output(move |_| {
        let mut f = s.lock().expect("fake");
        f.status = None;
        f.stack_deleted = true;
        DeleteStackOutput::builder().build()
    });
    let s = f.clone();
    let execute = mock!(Client::execute_change_set).then_compute_output(move |req| {
        let mut f = s.lock().expect("fake");
        f.execute(req.change_set_name().unwrap_or_default());
        ExecuteChangeSetOutput::builder().build()
    });
    let s = f.clone();
    let events = mock!(Client::describe_stack_events).then_compute_output(move |_| {
        let f = s.lock().expect("fake");
        let mut evs = f.events.clone();
        evs.reverse();
        DescribeStackEventsOutput::builder()
            .set_stack_events(Some(evs))
            .build()
    });
    let set_policy =
        mock!(Client::set_stack_policy).then_output(|| SetStackPolicyOutput::builder().build());
    let get_policy =
        mock!(Client::get_stack_policy).then_output(|| GetStackPolicyOutput::builder().build());
    let client = mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        &[
            &describe,
            &get_template,
            &list_resources,
            &list_cs,
            &summary,
            &describe_type,
            &create,
            &describe_cs,
            &delete_cs,
            &delete_stack,
            &execute,
            &events,
            &set_policy,
            &get_policy,
        ]
    );
    Clients::from_cfn(client)
}

fn request(yes: bool, plan: ImportPlan) -> ImportRequest {
    let mut r = ImportRequest::new(STACK, "dev", &synthesized(), plan);
    r.update.approval.yes = yes;
    r.update.skip_preflight = true;
    r
}

/// A console with no terminal (prompts are refused), and its text.
fn console() -> (Console, Arc<Mutex<Vec<u8>>>) {
    let (c, buf, _) = Console::capture(None::<Prompter>);
    (c, buf)
}

fn text(buf: &Arc<Mutex<Vec<u8>>>) -> String {
    String::from_utf8_lossy(&buf.lock().expect("buffer")).into_owned()
}

async fn run(f: &Shared, req: &ImportRequest) -> (Result<ImportOutcome, ImportError>, String) {
    let c = clients(f);
    let (mut con, buf) = console();
    let r = import_stack(&c, req, &mut con).await;
    (r, text(&buf))
}

fn sets(f: &Shared) -> Vec<Cs> {
    f.lock().expect("fake").change_sets.clone()
}

#[tokio::test(start_paused = true)]
async fn a_new_stack_is_imported_with_retain_then_updated_to_the_full_template() {
    let f = fake();
    let (r, out) = run(&f, &request(true, plan())).await;
    let o = r.expect("import");
    assert_eq!(o.exit_code, 0, "{out}");
    assert_eq!(o.imported, ["Bucket", "Queue"]);
    assert_eq!(o.created, ["Log"]);
    let cs = sets(&f);
    assert_eq!(cs.len(), 2, "{cs:?}");
    let (import, update) = (&cs[0], &cs[1]);
    assert_eq!(import.kind, ChangeSetType::Import);
    assert!(import.executed);
    assert_eq!(
        import.imports,
        [
            (
                "Bucket".to_owned(),
                "AWS::S3::Bucket".to_owned(),
                BTreeMap::from([("BucketName".to_owned(), "dev-data".to_owned())])
            ),
            (
                "Queue".to_owned(),
                "AWS::SQS::Queue".to_owned(),
                BTreeMap::from([("QueueUrl".to_owned(), QUEUE_URL.to_owned())])
            ),
        ]
    );
    // The import template: only the imported resources, Retain during the import, the
    // parameter they use, no Outputs.
    let t = &import.template;
    let ids: Vec<&String> = t["Resources"]
        .as_object()
        .expect("resources")
        .keys()
        .collect();
    assert_eq!(ids, ["Bucket", "Queue"]);
    assert_eq!(t["Resources"]["Bucket"]["DeletionPolicy"], "Retain");
    assert_eq!(t["Resources"]["Queue"]["UpdateReplacePolicy"], "Retain");
    assert!(t.get("Outputs").is_none());
    assert!(t["Parameters"].get("Env").is_some());
    // Then the update with the full template: the final policy, the log group, the output.
    assert_eq!(update.kind, ChangeSetType::Update);
    assert!(update.executed);
    assert_eq!(
        update.template,
        serde_json::from_str::<Json>(&synthesized()).expect("json")
    );
    // The table's rows say Import; the summary counts.
    assert!(out.contains("IMPORT change set"), "{out}");
    for id in ["Bucket", "Queue"] {
        assert!(
            out.lines()
                .any(|l| l.split_whitespace().take(2).collect::<Vec<_>>() == ["Import", id]),
            "{out}"
        );
    }
    assert!(
        out.contains("app-dev: imported 2, created 1, left unmanaged 1"),
        "{out}"
    );
    assert!(
        out.contains(
            "not imported: Log (AWS::Logs::LogGroup): created by the update after the import"
        ),
        "{out}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_rerun_imports_only_what_the_stack_does_not_hold_yet() {
    let f = fake();
    {
        let mut s = f.lock().expect("fake");
        s.status = Some("IMPORT_COMPLETE".into());
        s.template = Some(json!({"Resources": {"Bucket": {"Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain", "Properties": {"BucketName": "dev-data"}}}}));
        s.resources = vec![("Bucket".into(), "dev-data".into(), "AWS::S3::Bucket".into())];
    }
    let (r, out) = run(&f, &request(true, plan())).await;
    let o = r.expect("import");
    assert_eq!(o.exit_code, 0, "{out}");
    assert_eq!(o.already, ["Bucket"]);
    assert_eq!(o.imported, ["Queue"]);
    let cs = sets(&f);
    let import = &cs[0];
    let ids: Vec<&str> = import.imports.iter().map(|i| i.0.as_str()).collect();
    assert_eq!(ids, ["Queue"]);
    // The deployed Bucket goes into the import template exactly as deployed.
    assert_eq!(
        import.template["Resources"]["Bucket"]["Properties"]["BucketName"],
        "dev-data"
    );
    assert!(
        out.contains("already manages 1 of the plan's resources (Bucket)"),
        "{out}"
    );
    assert!(
        out.contains("imported 2 (1 by this run, 1 before)"),
        "{out}"
    );
}

#[tokio::test(start_paused = true)]
async fn when_everything_is_imported_it_says_so_and_only_updates() {
    let f = fake();
    {
        let mut s = f.lock().expect("fake");
        s.status = Some("IMPORT_COMPLETE".into());
        s.template = Some(json!({"Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"},
            "Queue": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Retain"}}}));
        s.resources = vec![
            ("Bucket".into(), "dev-data".into(), "AWS::S3::Bucket".into()),
            ("Queue".into(), QUEUE_URL.into(), "AWS::SQS::Queue".into()),
        ];
    }
    let (r, out) = run(&f, &request(true, plan())).await;
    let o = r.expect("import");
    assert_eq!(o.exit_code, 0, "{out}");
    assert!(o.import.is_none() && o.imported.is_empty());
    assert!(
        out.contains("stack app-dev already manages all 2 resource(s) of the plan"),
        "{out}"
    );
    let cs = sets(&f);
    assert_eq!(cs.len(), 1, "only the update: {cs:?}");
    assert_eq!(cs[0].kind, ChangeSetType::Update);
    assert_eq!(o.created, ["Log"]);
}

#[tokio::test(start_paused = true)]
async fn a_logical_id_the_stack_holds_with_another_resource_is_an_error() {
    let f = fake();
    {
        let mut s = f.lock().expect("fake");
        s.status = Some("UPDATE_COMPLETE".into());
        s.template = Some(json!({"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}}));
        s.resources = vec![(
            "Bucket".into(),
            "old-bucket".into(),
            "AWS::S3::Bucket".into(),
        )];
    }
    let (r, _) = run(&f, &request(true, plan())).await;
    let err = r.expect_err("conflict").to_string();
    assert!(
        err.contains("already holds Bucket as old-bucket, but the plan adopts dev-data"),
        "{err}"
    );
    assert!(sets(&f).is_empty());
}

#[tokio::test(start_paused = true)]
async fn identifier_keys_that_cloudformation_does_not_take_are_an_error_before_any_change_set() {
    let f = fake();
    let mut p = plan();
    p.resources[0].identifier = BTreeMap::from([("Name".to_owned(), "dev-data".to_owned())]);
    let (r, _) = run(&f, &request(true, p)).await;
    let err = r.expect_err("identifier").to_string();
    assert_eq!(
        err,
        "Bucket (AWS::S3::Bucket): the plan identifies it by Name, but CloudFormation imports this type by BucketName"
    );
    assert!(sets(&f).is_empty());
    // A type neither the summary nor the registry knows cannot be imported.
    let f = fake();
    f.lock().expect("fake").schemas.clear();
    let (r, _) = run(&f, &request(true, plan())).await;
    let err = r.expect_err("unknown type").to_string();
    assert!(
        err.starts_with("Queue (AWS::SQS::Queue): CloudFormation lists no import identifier"),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_validation_error_from_create_change_set_is_one_readable_sentence() {
    let f = fake();
    f.lock().expect("fake").reject =
        Some("Resources [Queue] is missing required property VisibilityTimeout".into());
    let (r, _) = run(&f, &request(true, plan())).await;
    let err = r.expect_err("rejected").to_string();
    assert_eq!(
        err,
        "CloudFormation refused the IMPORT change set for app-dev: Resources [Queue] is missing required property VisibilityTimeout"
    );
}

#[tokio::test(start_paused = true)]
async fn an_import_rollback_fails_with_every_resource_reason_and_no_update() {
    let f = fake();
    f.lock().expect("fake").import_failures = vec![
        (
            "Bucket".into(),
            "AWS::S3::Bucket".into(),
            "Resource dev-data belongs to stack other".into(),
        ),
        (
            "Queue".into(),
            "AWS::SQS::Queue".into(),
            "Resource handler returned message: \"QueueName differs\"".into(),
        ),
    ];
    let (r, out) = run(&f, &request(true, plan())).await;
    let o = r.expect("outcome");
    assert_eq!(o.exit_code, 4, "{out}");
    assert!(o.update.is_none());
    let msg = o
        .import
        .as_ref()
        .and_then(|r| r.message.clone())
        .expect("message");
    assert!(msg.contains("IMPORT_ROLLBACK_COMPLETE"), "{msg}");
    assert!(
        msg.contains(
            "Bucket (AWS::S3::Bucket) IMPORT_FAILED: Resource dev-data belongs to stack other"
        ),
        "{msg}"
    );
    assert!(
        msg.contains("Queue (AWS::SQS::Queue) IMPORT_FAILED"),
        "{msg}"
    );
    assert_eq!(sets(&f).len(), 1, "no update change set");
}

#[tokio::test(start_paused = true)]
async fn without_yes_or_a_terminal_the_import_is_refused_and_leaves_nothing() {
    let f = fake();
    let (r, out) = run(&f, &request(false, plan())).await;
    let o = r.expect("outcome");
    assert_eq!(o.exit_code, 3, "{out}");
    assert!(out.contains("run again with --yes"), "{out}");
    let cs = sets(&f);
    assert_eq!(cs.len(), 1);
    assert!(cs[0].deleted && !cs[0].executed, "{cs:?}");
    // The IMPORT into a new stack had made it (REVIEW_IN_PROGRESS): it is gone again.
    let s = f.lock().expect("fake");
    assert!(s.stack_deleted && s.status.is_none());
}

#[tokio::test(start_paused = true)]
async fn after_a_rolled_back_import_a_rerun_imports_again() {
    let f = fake();
    {
        // What a failed import into a new stack leaves: the stack, its attempted template, no
        // resources.
        let mut s = f.lock().expect("fake");
        s.status = Some("IMPORT_ROLLBACK_COMPLETE".into());
        s.template = Some(json!({"Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"},
            "Queue": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Retain"}}}));
    }
    let (r, out) = run(&f, &request(true, plan())).await;
    let o = r.expect("import");
    assert_eq!(o.exit_code, 0, "{out}");
    assert_eq!(o.imported, ["Bucket", "Queue"]);
    let import = &sets(&f)[0];
    assert_eq!(import.kind, ChangeSetType::Import);
    assert_eq!(import.imports.len(), 2);
    // The synthesized definitions, not the leftovers.
    assert_eq!(
        import.template["Resources"]["Bucket"]["Properties"]["BucketName"],
        json!({"Fn::Sub": "${Env}-data"})
    );
}

#[tokio::test(start_paused = true)]
async fn a_plan_must_adopt_something_and_each_resource_once() {
    let f = fake();
    let mut p = plan();
    p.resources[1].logical_id = "Bucket".into();
    let (r, _) = run(&f, &request(true, p)).await;
    let err = r.expect_err("duplicate").to_string();
    assert_eq!(
        err,
        "the import plan for stage dev adopts two resources as Bucket"
    );
    let mut p = plan();
    p.resources.clear();
    let (r, _) = run(&f, &request(true, p)).await;
    assert!(
        r.expect_err("empty")
            .to_string()
            .contains("adopts no resources"),
    );
    assert!(sets(&f).is_empty());
}
