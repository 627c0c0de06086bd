//! `snowcdk deploy` with Lambda code from a local directory, through the binary against moto:
//! the asset is packaged by synth, uploaded once before the change set, and not again.

mod support;

use support::{moto, moto_clients, repo_config_dir, run, snowcdk, unique};

const REGION: &str = "us-east-1";

#[test]
fn deploy_uploads_the_code_directory_once_and_references_it() {
    let m = moto();
    let stack = unique("assets-cli");
    let bucket = format!("snowcdk-assets-{}", stack.to_lowercase());
    let dir = repo_config_dir(&stack, REGION);
    // The repository's dev stage, with its Lambda code from ./lambda and a staging bucket.
    let path = dir.path().join("snowcdk.toml");
    let mut doc: toml::Table = std::fs::read_to_string(&path)
        .expect("config")
        .parse()
        .expect("toml");
    let dev = doc["stages"]["dev"].as_table().cloned().expect("dev");
    let mut dev = dev;
    dev.insert("staging_bucket".into(), bucket.clone().into());
    let mut lambda = dev["lambda"].as_table().cloned().expect("lambda");
    lambda.remove("image_uri");
    lambda.insert("code_path".into(), "lambda".into());
    lambda.insert("runtime".into(), "python3.13".into());
    lambda.insert("handler".into(), "app.handler".into());
    dev.insert("lambda".into(), toml::Value::Table(lambda));
    doc["stages"]
        .as_table_mut()
        .expect("stages")
        .insert("dev".into(), toml::Value::Table(dev));
    std::fs::write(&path, doc.to_string()).expect("write config");
    std::fs::create_dir_all(dir.path().join("lambda")).expect("code dir");
    std::fs::write(
        dir.path().join("lambda/app.py"),
        "def handler(event, context):\n    return {\"statusCode\": 200}\n",
    )
    .expect("code");

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let clients = rt.block_on(moto_clients(m, REGION));
    rt.block_on(clients.s3.create_bucket().bucket(&bucket).send())
        .expect("create the staging bucket in moto");

    let deploy = || {
        let mut c = snowcdk(dir.path());
        c.args(["deploy", "--no-execute", "--json", "--endpoint-url", &m.url]);
        run(c)
    };
    let (out, stdout, stderr) = deploy();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("assets: 1 uploaded"), "{stderr}");
    let keys: Vec<String> = rt
        .block_on(clients.s3.list_objects_v2().bucket(&bucket).send())
        .expect("list")
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(
        keys[0].starts_with("snowcdk/assets/") && keys[0].ends_with(".zip"),
        "{keys:?}"
    );
    assert!(stdout.contains("not_executed"), "{stdout}");

    // The template the change set was made from names the uploaded key.
    let mut c = snowcdk(dir.path());
    c.args(["synth", "--stage", "dev"]);
    let (o, _, e) = run(c);
    assert!(o.status.success(), "{e}");
    let t: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.path()
                .join(format!("templates_out/{stack}.template.json")),
        )
        .expect("template"),
    )
    .expect("json");
    assert_eq!(
        t["Resources"]["Api"]["Properties"]["Code"]["S3Key"],
        keys[0].as_str()
    );
    assert_eq!(
        t["Resources"]["Api"]["Properties"]["Code"]["S3Bucket"],
        bucket.as_str()
    );

    // A second deploy finds the asset already there (once the first change set, left for
    // review, is deleted: a stack under review is not deployed over).
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let cs = v["stacks"][0]["change_set"]["id"]
        .as_str()
        .expect("change set id")
        .to_owned();
    rt.block_on(
        clients
            .cfn
            .delete_change_set()
            .stack_name(&stack)
            .change_set_name(&cs)
            .send(),
    )
    .expect("delete the change set left for review");
    let (out, _, stderr) = deploy();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("assets: 0 uploaded"), "{stderr}");
    assert!(stderr.contains("1 already in"), "{stderr}");
}
