//! Lambda code from a local directory or zip file, for the app: package it, and reference it in
//! the template by the staging bucket and the content-hash key.
//!
//! The constructs crate does no file I/O: the app (in this crate) packages the code before it
//! builds the stack, and hands `VpcLambda` a plain [`LambdaCode::S3`]. The key holds the hash, so
//! the template changes exactly when the code does, and CloudFormation updates the function then
//! and only then.

use std::path::Path;

use snowcdk_constructs::Value;
use snowcdk_constructs::l2::LambdaCode;
use snowcdk_constructs::l2::staging_bucket::import_staging_bucket;

use super::error::AssetError;
use super::package::{PackagedAsset, package};

/// Where app stacks read assets from: the stage's configured `staging_bucket` by name, else the
/// bootstrap stack's export (`Fn::ImportValue snowcdk[-<qualifier>]-staging-bucket`).
pub fn staging_bucket_ref(configured: Option<&str>, qualifier: Option<&str>) -> Value {
    match configured {
        Some(b) => Value::str(b),
        None => import_staging_bucket(qualifier),
    }
}

/// Packages `source` (a directory or `.zip`) and returns the function's code, read from `bucket`
/// at `snowcdk/assets/<sha256>.zip`, together with the package (for `write_assets` in synth and
/// `upload_missing` in deploy).
pub fn lambda_code_from_path(
    source: &Path,
    bucket: Value,
    runtime: &str,
    handler: &str,
) -> Result<(LambdaCode, PackagedAsset), AssetError> {
    let asset = package(source)?;
    let code = LambdaCode::S3 {
        bucket,
        key: Value::str(asset.s3_key()),
        runtime: runtime.to_owned(),
        handler: handler.to_owned(),
    };
    Ok((code, asset))
}
