//! `import` execution in the emulator: resources made by hand (the SDK, as an administrator
//! would) are adopted by an IMPORT change set and the update adds the rest. moto has no IMPORT
//! change sets; `tests/support/moto_import.py` (applied with the other patches) emulates them.

mod support;

use std::collections::BTreeMap;

use serde_json::json;
use snowcdk_engine::deploy::{Clients, Console};
use snowcdk_engine::import::{Adoption, ImportPlan, ImportRequest, NotImported, import_stack};

fn template() -> String {
    json!({
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "imp-data"}},
            "Setting": {"Type": "AWS::SSM::Parameter",
                "Properties": {"Name": "/imp/setting", "Type": "String", "Value": "v"}},
            "Log": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/imp/app"}}
        },
        "Outputs": {"BucketName": {"Value": {"Ref": "Bucket"}}}
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
            adoption("Bucket", "AWS::S3::Bucket", "BucketName", "imp-data"),
            adoption("Setting", "AWS::SSM::Parameter", "Name", "/imp/setting"),
        ],
        not_imported: vec![NotImported {
            logical_id: Some("Log".into()),
            resource_type: "AWS::Logs::LogGroup".into(),
            physical_id: None,
            note: "created by the update after the import".into(),
        }],
    }
}

async fn run(clients: &Clients, stack: &str) -> (snowcdk_engine::import::ImportOutcome, String) {
    let mut req = ImportRequest::new(stack, "dev", &template(), plan());
    req.update.approval.yes = true;
    req.update.skip_preflight = true;
    let (mut console, buf, _) = Console::capture(None);
    let o = import_stack(clients, &req, &mut console)
        .await
        .expect("import");
    let text = String::from_utf8_lossy(&buf.lock().expect("buffer")).into_owned();
    (o, text)
}

fn physical_ids(out: &[(String, String)]) -> BTreeMap<String, String> {
    out.iter().cloned().collect()
}

async fn resources(clients: &Clients, stack: &str) -> Vec<(String, String)> {
    let out = clients
        .cfn
        .list_stack_resources()
        .stack_name(stack)
        .send()
        .await
        .expect("resources");
    out.stack_resource_summaries()
        .iter()
        .map(|r| {
            (
                r.logical_resource_id().unwrap_or_default().to_owned(),
                r.physical_resource_id().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn hand_made_resources_are_imported_unchanged_and_the_update_adds_the_rest() {
    let moto = support::Moto::start_patched();
    let clients = support::moto_clients(&moto, "us-east-1").await;
    let stack = support::unique("imported");
    // What an administrator made by hand, with data in it.
    clients
        .s3
        .create_bucket()
        .bucket("imp-data")
        .send()
        .await
        .expect("bucket");
    clients
        .s3
        .put_object()
        .bucket("imp-data")
        .key("campaigns.csv")
        .body(b"site,depth\n".to_vec().into())
        .send()
        .await
        .expect("object");
    clients
        .ssm
        .put_parameter()
        .name("/imp/setting")
        .value("v")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .expect("parameter");

    let (o, out) = run(&clients, &stack).await;
    assert_eq!(o.exit_code, 0, "{out}");
    assert_eq!(o.imported, ["Bucket", "Setting"], "{out}");
    assert_eq!(o.created, ["Log"], "{out}");
    let ids = physical_ids(&resources(&clients, &stack).await);
    assert_eq!(ids.get("Bucket").map(String::as_str), Some("imp-data"));
    assert_eq!(ids.get("Setting").map(String::as_str), Some("/imp/setting"));
    assert!(ids.contains_key("Log"), "{ids:?}");
    // The bucket was adopted, not replaced: its data is there.
    let obj = clients
        .s3
        .get_object()
        .bucket("imp-data")
        .key("campaigns.csv")
        .send()
        .await
        .expect("object kept");
    let body = obj.body.collect().await.expect("body").into_bytes();
    assert_eq!(&body[..], b"site,depth\n");
    // The update set the final template: the output is there, the import's Retain is gone.
    let deployed = clients
        .cfn
        .get_template()
        .stack_name(&stack)
        .send()
        .await
        .expect("template");
    let doc: serde_json::Value =
        serde_json::from_str(deployed.template_body().unwrap_or("{}")).expect("json");
    assert_eq!(
        doc,
        serde_json::from_str::<serde_json::Value>(&template()).expect("json")
    );

    // A second run: nothing left to import, and the stack is as synthesized.
    let (o, out) = run(&clients, &stack).await;
    assert_eq!(o.exit_code, 0, "{out}");
    assert!(o.imported.is_empty() && o.already.len() == 2, "{out}");
    assert!(
        out.contains("already manages all 2 resource(s) of the plan"),
        "{out}"
    );
    assert!(out.contains("no changes"), "{out}");
}
