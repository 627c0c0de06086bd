//! Assets: Lambda code from a local directory or zip file, packaged reproducibly, named by its
//! content hash, written next to the templates and uploaded to the staging bucket.
//!
//! The flow:
//! 1. [`package()`]: a directory or `.zip` -> a deterministic zip ([`PackagedAsset`]): same input,
//!    same bytes, same [`AssetHash`] (rules in `package.rs`).
//! 2. The app calls [`lambda_code_from_path`] with [`staging_bucket_ref`]: the template reads the
//!    code from the staging bucket at `snowcdk/assets/<sha256>.zip`, so it changes exactly when
//!    the code does.
//! 3. `synth` (the [`writer`](crate::writer)) writes `<out>/assets/<sha256>.zip` (git-ignored)
//!    before the templates and the `manifest.json` that list them ([`AssetManifest`]).
//! 4. `deploy` (`crate::deploy::staging::stage_for_deploy`, or [`upload_missing`] directly) puts
//!    the assets the staging bucket lacks (HEAD by key) before the change set is created, and
//!    names the bucket for templates over the inline limit.
//!
//! The staging bucket comes from `snowcdk bootstrap` (the `StagingBucket` construct) or the
//! stage's `staging_bucket`. Uploads take a plain S3 client: this module knows nothing of the
//! deploy engine above it.

mod error;
mod hash;
mod lambda;
mod manifest;
mod package;
mod upload;

pub use error::AssetError;
pub use hash::{ASSETS_DIR, AssetHash, S3_ASSET_PREFIX};
pub use lambda::{lambda_code_from_path, staging_bucket_ref};
pub use manifest::{AssetEntry, AssetManifest};
pub use package::{PackagedAsset, PackagedEntry, package};
pub use upload::{MIN_PART_SIZE, UploadOptions, UploadReport, upload_missing, upload_missing_with};
