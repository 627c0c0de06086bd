//! Uploading assets to the staging bucket: each asset once, before the change set that references
//! it is created.
//!
//! Keys are content hashes, so an object that exists under an asset's key is that asset: a HEAD
//! by key decides, and an asset already there is skipped. An object of the wrong size under the
//! key (a broken earlier upload by another tool) is replaced. A HEAD answered with 403 (credentials
//! that may put but not list) counts as missing: putting the same bytes again is harmless.
//!
//! Assets up to [`UploadOptions::multipart_threshold`] go in one `PutObject`; larger ones in
//! parts, with a progress bar on a terminal. Every object carries `x-amz-meta-sha256` (the hex
//! hash) and `Content-Type: application/zip`; the bucket's default encryption applies.

use std::collections::BTreeSet;
use std::error::Error as StdError;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use super::error::AssetError;
use super::package::PackagedAsset;

/// S3's smallest part (all but the last).
pub const MIN_PART_SIZE: usize = 5 * 1024 * 1024;

/// How to upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadOptions {
    /// Assets larger than this go up in parts (with a progress bar).
    pub multipart_threshold: usize,
    /// The part size of multipart uploads (at least [`MIN_PART_SIZE`]).
    pub part_size: usize,
    /// Draw progress bars (on stderr, only when it is a terminal).
    pub progress: bool,
}

impl Default for UploadOptions {
    /// 16 MiB threshold, 8 MiB parts, progress bars on.
    fn default() -> Self {
        Self {
            multipart_threshold: 16 * 1024 * 1024,
            part_size: 8 * 1024 * 1024,
            progress: true,
        }
    }
}

/// What an upload did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UploadReport {
    /// The staging bucket the assets went to.
    pub bucket: String,
    /// Keys uploaded now, in the order of the assets.
    pub uploaded: Vec<String>,
    /// Keys that were already in the bucket.
    pub present: Vec<String>,
    /// Bytes sent.
    pub uploaded_bytes: u64,
}

/// Uploads the assets the bucket lacks (default options); see the module docs.
pub async fn upload_missing(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    assets: &[PackagedAsset],
) -> Result<UploadReport, AssetError> {
    upload_missing_with(s3, bucket, assets, &UploadOptions::default()).await
}

/// Uploads the assets the bucket lacks, with explicit options.
pub async fn upload_missing_with(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    assets: &[PackagedAsset],
    options: &UploadOptions,
) -> Result<UploadReport, AssetError> {
    if options.part_size < MIN_PART_SIZE {
        return Err(AssetError::Other(format!(
            "part size {} is below S3's minimum of {MIN_PART_SIZE} bytes",
            options.part_size
        )));
    }
    let mut report = UploadReport {
        bucket: bucket.to_owned(),
        ..UploadReport::default()
    };
    let mut seen = BTreeSet::new();
    for asset in assets {
        if !seen.insert(&asset.hash) {
            continue;
        }
        let key = asset.s3_key();
        if is_present(s3, bucket, &key, asset.bytes.len()).await? {
            report.present.push(key);
            continue;
        }
        if asset.bytes.len() > options.multipart_threshold {
            put_multipart(s3, bucket, &key, asset, options).await?;
        } else {
            put_single(s3, bucket, &key, asset).await?;
        }
        report.uploaded_bytes += asset.bytes.len() as u64;
        report.uploaded.push(key);
    }
    Ok(report)
}

/// Whether `key` holds an object of `size` bytes.
async fn is_present(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    size: usize,
) -> Result<bool, AssetError> {
    match s3.head_object().bucket(bucket).key(key).send().await {
        Ok(head) => Ok(head
            .content_length()
            .is_some_and(|n| u64::try_from(n).ok() == Some(size as u64))),
        Err(e) if matches!(http_status(&e), Some(404 | 403)) => Ok(false),
        Err(e) => Err(s3_error(&format!("check s3://{bucket}/{key}"), bucket, &e)),
    }
}

async fn put_single(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    asset: &PackagedAsset,
) -> Result<(), AssetError> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/zip")
        .metadata("sha256", asset.hash.as_str())
        .body(ByteStream::from(asset.bytes.clone()))
        .send()
        .await
        .map_err(|e| s3_error(&format!("upload s3://{bucket}/{key}"), bucket, &e))?;
    Ok(())
}

async fn put_multipart(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    asset: &PackagedAsset,
    options: &UploadOptions,
) -> Result<(), AssetError> {
    let what = format!("upload s3://{bucket}/{key}");
    let created = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .content_type("application/zip")
        .metadata("sha256", asset.hash.as_str())
        .send()
        .await
        .map_err(|e| s3_error(&what, bucket, &e))?;
    let Some(upload_id) = created.upload_id().map(str::to_owned) else {
        return Err(AssetError::Other(format!(
            "cannot {what}: S3 returned no upload id"
        )));
    };
    let bar = progress_bar(asset, options);
    let result = async {
        let mut parts = Vec::new();
        for (i, chunk) in asset.bytes.chunks(options.part_size).enumerate() {
            let number = i32::try_from(i + 1).unwrap_or(i32::MAX);
            let part = s3
                .upload_part()
                .bucket(bucket)
                .key(key)
                .upload_id(&upload_id)
                .part_number(number)
                .body(ByteStream::from(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| s3_error(&what, bucket, &e))?;
            parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(part.e_tag().map(str::to_owned))
                    .build(),
            );
            bar.inc(chunk.len() as u64);
        }
        s3.complete_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| s3_error(&what, bucket, &e))?;
        Ok(())
    }
    .await;
    bar.finish_and_clear();
    if result.is_err() {
        // Best effort: the bucket's lifecycle rule aborts leftovers after a day anyway.
        let _ = s3
            .abort_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(&upload_id)
            .send()
            .await;
    }
    result
}

fn progress_bar(asset: &PackagedAsset, options: &UploadOptions) -> ProgressBar {
    if !options.progress {
        return ProgressBar::hidden();
    }
    let bar =
        ProgressBar::with_draw_target(Some(asset.bytes.len() as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(format!("uploading {}", asset.source.display()));
    bar
}

/// The HTTP status of a failed call, when there was a response.
fn http_status<E>(e: &SdkError<E, HttpResponse>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

/// One sentence for a failed S3 call, with the fix for the usual causes.
fn s3_error<E, R>(what: &str, bucket: &str, e: &SdkError<E, R>) -> AssetError
where
    E: ProvideErrorMetadata + StdError + 'static,
    R: std::fmt::Debug,
{
    let hint = match e.code() {
        Some("NoSuchBucket") => format!(
            "; the bucket {bucket} does not exist: run `{} bootstrap` for this account and region, or fix `staging_bucket` in the config",
            crate::app::program_name()
        ),
        Some("AccessDenied") => format!(
            "; the credentials need s3:GetObject and s3:PutObject on arn:aws:s3:::{bucket}/snowcdk/*"
        ),
        _ => String::new(),
    };
    AssetError::Other(format!("cannot {what}: {}{hint}", DisplayErrorContext(e)))
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
