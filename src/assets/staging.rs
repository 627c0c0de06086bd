//! Finding the staging bucket for a stage: the config's `staging_bucket` when set, else the
//! bucket that `snowcdk bootstrap` made in the target account and region (read from the
//! bootstrap stack's `BucketName` output).

use snowcdk_constructs::l2::staging_bucket::{OUTPUT_BUCKET_NAME, bootstrap_stack_name};

use crate::deploy::Clients;
use crate::deploy::stack::describe_stack;

use super::error::AssetError;

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
        "run `snowcdk bootstrap{flag}` for this account and region, or set `staging_bucket` in the stage's config"
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
                clients.region, info.status
            ))
        })
}
