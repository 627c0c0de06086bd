//! The staging bucket, as deploy uses it: before it creates a stack's change set it puts the
//! stack's assets in the bucket and names the bucket for a template too large to send inline.
//! The bucket is the stage's `staging_bucket`, else the one `snowcdk bootstrap` made in the
//! target account and region (the bootstrap stack's `BucketName` output).
//!
//! This lives in the engine, not in [`crate::assets`]: assets package and upload through a
//! plain S3 client, and only the engine knows the AWS clients and stacks.

use serde::Serialize;
use snowcdk_constructs::l2::staging_bucket::{OUTPUT_BUCKET_NAME, bootstrap_stack_name};

use super::Clients;
use super::changeset::MAX_INLINE_TEMPLATE_BYTES;
use super::stack::describe_stack;
use crate::assets::{AssetError, PackagedAsset, UploadReport, upload_missing};

/// What [`stage_for_deploy`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Staged {
    /// The staging bucket, when the stack needs one (assets, or a large template): pass it as
    /// `DeployRequest::staging_bucket`.
    pub bucket: Option<String>,
    /// The upload, when the stack has assets.
    pub report: Option<UploadReport>,
}

/// Uploads the stack's missing assets and finds the staging bucket when the stack needs one
/// (it has assets, or its template is over CloudFormation's inline limit). The bucket is the
/// stage's `configured` one, else the bootstrap stack's (see [`resolve_staging_bucket`]). A
/// stack with neither needs no bucket and makes no call.
pub async fn stage_for_deploy(
    clients: &Clients,
    configured: Option<&str>,
    qualifier: Option<&str>,
    assets: &[PackagedAsset],
    template_bytes: usize,
) -> Result<Staged, AssetError> {
    if assets.is_empty() && template_bytes <= MAX_INLINE_TEMPLATE_BYTES {
        return Ok(Staged {
            bucket: configured.map(str::to_owned),
            report: None,
        });
    }
    let bucket = resolve_staging_bucket(clients, configured, qualifier).await?;
    let report = if assets.is_empty() {
        None
    } else {
        Some(upload_missing(&clients.s3, &bucket, assets).await?)
    };
    Ok(Staged {
        bucket: Some(bucket),
        report,
    })
}

/// The staging bucket name: `configured` when given, else the bootstrap stack's output. The error
/// says to run `snowcdk bootstrap` when there is no usable bootstrap stack.
pub async fn resolve_staging_bucket(
    clients: &Clients,
    configured: Option<&str>,
    qualifier: Option<&str>,
) -> Result<String, AssetError> {
    if let Some(b) = configured {
        return Ok(b.to_owned());
    }
    let stack = bootstrap_stack_name(qualifier);
    let flag = qualifier
        .map(|q| format!(" --qualifier {q}"))
        .unwrap_or_default();
    let fix = format!(
        "run `{} bootstrap{flag}` for this account and region, or set `staging_bucket` in the stage's config",
        crate::app::program_name()
    );
    let info = describe_stack(clients, &stack)
        .await
        .map_err(|e| AssetError::Other(format!("cannot find the staging bucket: {e}")))?;
    let Some(info) = info else {
        return Err(AssetError::Other(format!(
            "there is no staging bucket for assets in {}: the stack {stack} does not exist; {fix}",
            clients.region
        )));
    };
    info.outputs
        .iter()
        .find(|o| o.key == OUTPUT_BUCKET_NAME && !o.value.is_empty())
        .map(|o| o.value.clone())
        .ok_or_else(|| {
            AssetError::Other(format!(
                "the staging stack {stack} in {} is {} and has no {OUTPUT_BUCKET_NAME} output; {fix}",
                clients.region, info.status.as_str()
            ))
        })
}
