//! The step `deploy` runs for each stack before it creates the change set: put the stack's assets
//! in the staging bucket, and name the bucket for a template too large to send inline.

use serde::Serialize;

use crate::deploy::Clients;
use crate::deploy::changeset::MAX_INLINE_TEMPLATE_BYTES;

use super::error::AssetError;
use super::package::PackagedAsset;
use super::staging::resolve_staging_bucket;
use super::upload::{UploadReport, upload_missing};

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

impl UploadReport {
    /// One line for the console: `assets: 1 uploaded (2.1 KiB), 2 already in s3://bucket`.
    pub fn summary(&self) -> String {
        format!(
            "assets: {} uploaded ({}), {} already in s3://{}",
            self.uploaded.len(),
            human_bytes(self.uploaded_bytes),
            self.present.len(),
            self.bucket
        )
    }
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_reads_well() {
        let r = UploadReport {
            bucket: "b".into(),
            uploaded: vec!["k1".into()],
            present: vec!["k2".into(), "k3".into()],
            uploaded_bytes: 2150,
        };
        assert_eq!(
            r.summary(),
            "assets: 1 uploaded (2.1 KiB), 2 already in s3://b"
        );
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(5 * 1024 * 1024), "5.0 MiB");
    }
}
