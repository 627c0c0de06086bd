//! Content hashes of assets: the SHA-256 of the packaged zip's bytes, in lower-case hex.
//!
//! The hash names the asset everywhere: the local file (`<out>/assets/<hash>.zip`), the S3 key
//! (`snowcdk/assets/<hash>.zip`) and the manifest entry. Same bytes, same name; so an asset that
//! is already in the bucket never needs uploading again, and a template changes exactly when the
//! code does.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

/// The folder of the output directory that holds packaged assets (git-ignored).
pub const ASSETS_DIR: &str = "assets";

/// The prefix of asset keys in the staging bucket (next to the deploy engine's
/// `snowcdk/templates/`; the bootstrap stack's lifecycle rules know both).
pub const S3_ASSET_PREFIX: &str = snowcdk_constructs::l2::staging_bucket::ASSET_PREFIX;

/// A SHA-256 digest as 64 lower-case hex characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AssetHash(String);

impl AssetHash {
    /// The hash of `bytes`.
    pub fn of_bytes(bytes: &[u8]) -> AssetHash {
        AssetHash(hex::encode(Sha256::digest(bytes)))
    }

    /// The hash of a file's contents, read in chunks.
    pub fn of_file(path: &Path) -> io::Result<AssetHash> {
        let mut f = File::open(path)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        Ok(AssetHash(hex::encode(h.finalize())))
    }

    /// Parses 64 hex characters (either case; kept in lower case).
    pub fn parse(s: &str) -> Option<AssetHash> {
        (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| AssetHash(s.to_ascii_lowercase()))
    }

    /// The 64 hex characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The asset's file name: `<hash>.zip`.
    pub fn file_name(&self) -> String {
        format!("{}.zip", self.0)
    }

    /// The asset's path relative to the output directory: `assets/<hash>.zip`.
    pub fn relative_path(&self) -> String {
        format!("{ASSETS_DIR}/{}", self.file_name())
    }

    /// The asset's key in the staging bucket: `snowcdk/assets/<hash>.zip`.
    pub fn s3_key(&self) -> String {
        format!("{S3_ASSET_PREFIX}{}", self.file_name())
    }
}

impl fmt::Display for AssetHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_hash() {
        let h = AssetHash::of_bytes(b"");
        assert_eq!(
            h.as_str(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(h.file_name(), format!("{h}.zip"));
        assert_eq!(h.relative_path(), format!("assets/{h}.zip"));
        assert_eq!(h.s3_key(), format!("snowcdk/assets/{h}.zip"));
    }

    #[test]
    fn parse_accepts_only_64_hex() {
        let upper = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
        assert_eq!(
            AssetHash::parse(upper).map(|h| h.0),
            Some(upper.to_ascii_lowercase())
        );
        assert!(AssetHash::parse("abc").is_none());
        assert!(AssetHash::parse(&"g".repeat(64)).is_none());
    }

    #[test]
    fn file_hash_equals_bytes_hash() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        let data = vec![7u8; 200_000];
        std::fs::write(&p, &data).unwrap();
        assert_eq!(AssetHash::of_file(&p).unwrap(), AssetHash::of_bytes(&data));
    }
}
