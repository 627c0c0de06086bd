//! Lambda code from a directory, as the app wires it: the function reads its code from the
//! staging bucket at the asset's content-hash key, and the template changes exactly when the code
//! does.

use std::fs;
use std::path::Path;

use serde_json::json;
use snowcdk::assets::{lambda_code_from_path, staging_bucket_ref};
use snowcdk_constructs::l2::{Vpc, VpcLambda, VpcLambdaProps, VpcProps};
use snowcdk_constructs::tree::{Stack, synth_stack};

fn template(code_dir: &Path, configured_bucket: Option<&str>) -> (serde_json::Value, String) {
    let mut stack = Stack::new("snowex-assets");
    let mut root = stack.root();
    let vpc = Vpc::new(&mut root, "Network", &VpcProps::default()).expect("vpc");
    let (code, asset) = lambda_code_from_path(
        code_dir,
        staging_bucket_ref(configured_bucket, None),
        "python3.13",
        "app.handler",
    )
    .expect("package");
    VpcLambda::new(&mut root, "Api", &vpc, &VpcLambdaProps::new(code)).expect("lambda");
    let t = synth_stack(&stack).expect("synth").template.to_json();
    (t, asset.s3_key())
}

fn function(t: &serde_json::Value) -> &serde_json::Value {
    t["Resources"]
        .as_object()
        .unwrap()
        .values()
        .find(|r| r["Type"] == "AWS::Lambda::Function")
        .expect("a function")
}

#[test]
fn the_function_reads_its_code_from_the_asset_key() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("app.py"),
        "def handler(e, c):\n    return 1\n",
    )
    .unwrap();
    let (t, key) = template(dir.path(), None);
    assert!(
        key.starts_with("snowcdk/assets/") && key.ends_with(".zip"),
        "{key}"
    );
    let f = function(&t);
    assert_eq!(
        f["Properties"]["Code"],
        json!({"S3Bucket": {"Fn::ImportValue": "snowcdk-staging-bucket"}, "S3Key": key})
    );
    assert_eq!(f["Properties"]["Runtime"], "python3.13");
    assert_eq!(f["Properties"]["Handler"], "app.handler");

    // A configured bucket is used by name.
    let (t, _) = template(dir.path(), Some("my-staging"));
    assert_eq!(function(&t)["Properties"]["Code"]["S3Bucket"], "my-staging");

    // Same code, same template; changed code, a new key.
    let (again, key_again) = template(dir.path(), None);
    assert_eq!(key_again, key);
    assert_eq!(again, template(dir.path(), None).0);
    fs::write(
        dir.path().join("app.py"),
        "def handler(e, c):\n    return 2\n",
    )
    .unwrap();
    let (_, changed) = template(dir.path(), None);
    assert_ne!(changed, key);
}

#[test]
fn a_missing_code_directory_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("lambda/api");
    let e = lambda_code_from_path(
        &missing,
        staging_bucket_ref(None, None),
        "python3.13",
        "a.b",
    )
    .expect_err("missing");
    assert!(e.to_string().contains("lambda/api"), "{e}");
}
