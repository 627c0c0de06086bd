//! Assets: Lambda code from a local directory or zip file, packaged reproducibly, named by its
//! content hash, written next to the templates and uploaded to the staging bucket; and checks of
//! container image URIs.
//!
//! The flow:
//! 1. [`package()`]: a directory or `.zip` -> a deterministic zip ([`PackagedAsset`]): same input,
//!    same bytes, same [`AssetHash`] (rules in [`package`](mod@package)).
//! 2. The app calls [`lambda_code_from_path`] with [`staging_bucket_ref`]: the template reads the
//!    code from the staging bucket at `snowcdk/assets/<sha256>.zip`, so it changes exactly when
//!    the code does.
//! 3. `synth` (the [`writer`](crate::writer)) writes `<out>/assets/<sha256>.zip` (git-ignored)
//!    before the templates and the `manifest.json` that list them ([`AssetManifest`]).
//! 4. `deploy`: [`stage_for_deploy`] (or [`upload_missing`] directly) puts the assets the staging
//!    bucket lacks (HEAD by key) before the change set is created, and names the bucket for
//!    templates over the inline limit.
//!
//! The staging bucket comes from `snowcdk bootstrap` (the `StagingBucket` construct) or the
//! stage's `staging_bucket`. Container images are checked with [`validate_image_uri`].

pub mod error;
pub mod hash;
pub mod image;
pub mod lambda;
pub mod manifest;
pub mod package;
pub mod prepare;
pub mod staging;
pub mod upload;

pub use error::AssetError;
pub use hash::{ASSETS_DIR, AssetHash, S3_ASSET_PREFIX};
pub use image::{EcrImageUri, ImageReference, ImageUriError, validate_image_uri};
pub use lambda::{lambda_code_from_path, staging_bucket_ref};
pub use manifest::{AssetEntry, AssetManifest};
pub use package::{PackagedAsset, PackagedEntry, package};
pub use prepare::{Staged, stage_for_deploy};
pub use staging::resolve_staging_bucket;
pub use upload::{UploadOptions, UploadReport, upload_missing, upload_missing_with};
