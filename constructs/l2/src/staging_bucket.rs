//! `StagingBucket` and the bootstrap stack: the S3 bucket, one per account and region (and
//! qualifier), that holds Lambda code assets and templates too large to send inline.
//! `snowcdk bootstrap` deploys [`bootstrap_stack`] through the same change-set engine as the app.
//!
//! Decisions:
//! - Name: `snowcdk[-<qualifier>]-staging-<account>-<region>`, built with `Fn::Sub`, so the same
//!   template works in any account and region and anyone can tell where an asset goes without a
//!   lookup. The name is also exported (`snowcdk[-<qualifier>]-staging-bucket`) so app stacks can
//!   `Fn::ImportValue` it ([`import_staging_bucket`]); an import also keeps the bootstrap stack
//!   from being deleted while an app stack uses it.
//! - Encryption: SSE-S3 (AES256), with no KMS key. Lambda and CloudFormation read the objects with
//!   the deployer's permissions; a customer-managed key would need its own key policy and grants
//!   for that, for build artifacts that are not secret (they are rebuilt from the repository).
//! - Versioned, all four public-access blocks on, ACLs disabled (`BucketOwnerEnforced`), and a
//!   bucket policy that denies every request not made over TLS (`aws:SecureTransport` false).
//! - Lifecycle: noncurrent versions expire after `noncurrent_version_days` (30) and their delete
//!   markers are cleaned up; incomplete multipart uploads are aborted after a day; staged
//!   templates (`snowcdk/templates/`) expire after `staged_template_days` (7): CloudFormation
//!   keeps its own copy once a change set exists. Current assets do not expire by default: a
//!   deployed stack's rollback needs the code of its previous version, and assets are named by
//!   content, so they are never overwritten and do not pile up as versions. Set
//!   `asset_expiration_days` to expire them anyway (a deploy re-uploads an expired asset, since
//!   it checks by key).
//! - `DeletionPolicy: Retain` (and `UpdateReplacePolicy`), as the AWS CDK does for its staging
//!   bucket: deleting the bootstrap stack must not delete the code of deployed functions.

use snowcdk_constructs_core::error::SynthError;
use snowcdk_constructs_core::template::{DeletionPolicy, Handle, Output, Value};
use snowcdk_constructs_core::tree::{Scope, Stack};
use snowcdk_constructs_l1::s3;

use super::checkov_skip;

/// Key prefix of Lambda code assets (`snowcdk/assets/<sha256>.zip`).
pub const ASSET_PREFIX: &str = "snowcdk/assets/";
/// Key prefix of templates staged for CloudFormation (`snowcdk/templates/<stack>/<sha256>.json`).
pub const TEMPLATE_PREFIX: &str = "snowcdk/templates/";
/// The bootstrap template's version, in the `BootstrapVersion` output; raised whenever the
/// template changes in a way deploy may come to rely on.
pub const BOOTSTRAP_VERSION: u32 = 1;
/// The output holding the bucket name.
pub const OUTPUT_BUCKET_NAME: &str = "BucketName";
/// The output holding [`BOOTSTRAP_VERSION`].
pub const OUTPUT_VERSION: &str = "BootstrapVersion";

/// Options of a [`StagingBucket`] and of the bootstrap stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagingBucketProps {
    /// Tells several staging stacks in one account and region apart (1 to 10 lower-case letters,
    /// digits or `-`, starting with a letter or digit); `None` for the default one.
    pub qualifier: Option<String>,
    /// Days a noncurrent object version is kept.
    pub noncurrent_version_days: u32,
    /// Days a staged template is kept.
    pub staged_template_days: u32,
    /// Days an asset is kept after upload; `None` (the default) keeps assets.
    pub asset_expiration_days: Option<u32>,
}

impl Default for StagingBucketProps {
    fn default() -> Self {
        Self {
            qualifier: None,
            noncurrent_version_days: 30,
            staged_template_days: 7,
            asset_expiration_days: None,
        }
    }
}

/// `snowcdk-staging` or `snowcdk-<qualifier>-staging`: the stem of every name.
fn stem(qualifier: Option<&str>) -> String {
    match qualifier {
        Some(q) => format!("snowcdk-{q}-staging"),
        None => "snowcdk-staging".into(),
    }
}

/// The bootstrap stack's name: `snowcdk-staging` (or `snowcdk-<qualifier>-staging`).
pub fn bootstrap_stack_name(qualifier: Option<&str>) -> String {
    stem(qualifier)
}

/// The export holding the bucket name: `snowcdk-staging-bucket` (or
/// `snowcdk-<qualifier>-staging-bucket`).
pub fn staging_bucket_export(qualifier: Option<&str>) -> String {
    format!("{}-bucket", stem(qualifier))
}

/// The bucket name the bootstrap stack gives the bucket in this account and region.
pub fn staging_bucket_name(qualifier: Option<&str>, account: &str, region: &str) -> String {
    format!("{}-{account}-{region}", stem(qualifier))
}

/// `Fn::ImportValue` of the bucket name, for app stacks that reference assets.
pub fn import_staging_bucket(qualifier: Option<&str>) -> Value {
    Value::import(Value::str(staging_bucket_export(qualifier)))
}

/// Checks an S3 general purpose bucket name against S3's naming rules ("General purpose bucket
/// naming rules", <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>):
/// 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or
/// digit, no `..`, not an IP address, none of the prefixes and suffixes S3 reserves.
pub fn check_bucket_name(b: &str) -> Result<(), String> {
    const RESERVED_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
    const RESERVED_SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];
    let shape = (3..=63).contains(&b.len())
        && b.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && b.starts_with(|c: char| c.is_ascii_alphanumeric())
        && b.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !shape {
        return Err(format!(
            "{b:?} is not an S3 bucket name: 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit"
        ));
    }
    if b.contains("..") {
        return Err(format!("{b:?}: S3 bucket names cannot contain \"..\""));
    }
    if b.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(format!(
            "{b:?}: S3 bucket names cannot be formatted as an IP address"
        ));
    }
    if let Some(p) = RESERVED_PREFIXES.iter().find(|p| b.starts_with(*p)) {
        return Err(format!("{b:?}: S3 reserves the prefix {p:?}"));
    }
    if let Some(x) = RESERVED_SUFFIXES.iter().find(|x| b.ends_with(*x)) {
        return Err(format!("{b:?}: S3 reserves the suffix {x:?}"));
    }
    Ok(())
}

/// Checks a qualifier: 1 to 10 of `[a-z0-9-]`, starting with a letter or digit.
pub fn validate_qualifier(q: &str) -> Result<(), String> {
    let ok = (1..=10).contains(&q.len())
        && q.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && q.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "qualifier {q:?} is not 1 to 10 lower-case letters, digits or '-' starting with a letter or digit"
        ))
    }
}

/// The staging bucket and its policy.
#[derive(Debug, Clone)]
pub struct StagingBucket {
    /// The bucket.
    pub bucket: Handle<s3::Bucket>,
    /// Its policy, which denies requests not made over TLS.
    pub policy: Handle<s3::BucketPolicy>,
}

impl StagingBucket {
    /// Adds the bucket and its TLS-only policy under `scope/id`.
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        props: &StagingBucketProps,
    ) -> Result<StagingBucket, SynthError> {
        let mut s = scope.child(id);
        let path = s.path().to_owned();
        validate(props).map_err(|message| SynthError::Construct {
            path: path.clone(),
            message,
        })?;
        let q = props.qualifier.as_deref();

        let mut rules = vec![
            s3::BucketRule::new(s3::BucketRuleStatus::Enabled)
                .id("ExpireNoncurrentVersions")
                .noncurrent_version_expiration(s3::BucketNoncurrentVersionExpiration::new(
                    props.noncurrent_version_days,
                ))
                .expired_object_delete_marker(true),
            s3::BucketRule::new(s3::BucketRuleStatus::Enabled)
                .id("AbortIncompleteUploads")
                .abort_incomplete_multipart_upload(s3::BucketAbortIncompleteMultipartUpload::new(
                    1,
                )),
            s3::BucketRule::new(s3::BucketRuleStatus::Enabled)
                .id("ExpireStagedTemplates")
                .prefix(TEMPLATE_PREFIX)
                .expiration_in_days(props.staged_template_days),
        ];
        if let Some(days) = props.asset_expiration_days {
            rules.push(
                s3::BucketRule::new(s3::BucketRuleStatus::Enabled)
                    .id("ExpireAssets")
                    .prefix(ASSET_PREFIX)
                    .expiration_in_days(days),
            );
        }

        let bucket = s.add(
            "Bucket",
            s3::Bucket::new()
                .bucket_name(Value::sub(format!(
                    "{}-${{AWS::AccountId}}-${{AWS::Region}}",
                    stem(q)
                )))
                .bucket_encryption(s3::BucketEncryption::new(vec![
                    s3::BucketServerSideEncryptionRule::new().server_side_encryption_by_default(
                        s3::BucketServerSideEncryptionByDefault::new(
                            s3::BucketServerSideEncryptionByDefaultSseAlgorithm::Aes256,
                        ),
                    ),
                ]))
                .versioning_configuration(s3::BucketVersioningConfiguration::new(
                    s3::BucketVersioningConfigurationStatus::Enabled,
                ))
                .public_access_block_configuration(
                    s3::BucketPublicAccessBlockConfiguration::new()
                        .block_public_acls(true)
                        .block_public_policy(true)
                        .ignore_public_acls(true)
                        .restrict_public_buckets(true),
                )
                .ownership_controls(s3::BucketOwnershipControls::new(vec![
                    s3::BucketOwnershipControlsRule::new().object_ownership(
                        s3::BucketOwnershipControlsRuleObjectOwnership::BucketOwnerEnforced,
                    ),
                ]))
                .lifecycle_configuration(s3::BucketLifecycleConfiguration::new(rules)),
        );
        s.set_policies(&bucket, DeletionPolicy::Retain);
        checkov_skip(
            &mut s,
            &bucket,
            "CKV_AWS_18",
            "Staging bucket of build artifacts written only by deploys; access is audited with CloudTrail, not server access logs (which would need a second bucket per region)",
        );

        let arn = bucket.attr_arn();
        let document = Value::map([
            ("Version", Value::str("2012-10-17")),
            (
                "Statement",
                Value::list([Value::map([
                    ("Sid", Value::str("DenyInsecureTransport")),
                    ("Effect", Value::str("Deny")),
                    ("Principal", Value::str("*")),
                    ("Action", Value::str("s3:*")),
                    (
                        "Resource",
                        Value::list([arn.clone(), Value::join("", [arn, Value::str("/*")])]),
                    ),
                    (
                        "Condition",
                        Value::map([(
                            "Bool",
                            Value::map([("aws:SecureTransport", Value::str("false"))]),
                        )]),
                    ),
                ])]),
            ),
        ]);
        let policy = s.add("Policy", s3::BucketPolicy::new(bucket.ref_(), document));
        Ok(StagingBucket { bucket, policy })
    }

    /// The bucket name (`Ref`).
    pub fn bucket_name(&self) -> Value {
        self.bucket.ref_()
    }
}

fn validate(props: &StagingBucketProps) -> Result<(), String> {
    if let Some(q) = &props.qualifier {
        validate_qualifier(q)?;
    }
    let days = [
        (
            "noncurrent_version_days",
            Some(props.noncurrent_version_days),
        ),
        ("staged_template_days", Some(props.staged_template_days)),
        ("asset_expiration_days", props.asset_expiration_days),
    ];
    for (name, d) in days {
        if d == Some(0) {
            return Err(format!(
                "{name} is 0; S3 lifecycle rules count at least 1 day"
            ));
        }
    }
    Ok(())
}

/// The whole bootstrap stack: the staging bucket, its name as an exported output, and the
/// bootstrap version.
pub fn bootstrap_stack(props: &StagingBucketProps) -> Result<Stack, SynthError> {
    let q = props.qualifier.as_deref();
    let mut stack = Stack::new(bootstrap_stack_name(q));
    stack.set_description(format!(
        "snowcdk staging bucket (bootstrap version {BOOTSTRAP_VERSION}): Lambda code assets and large templates for app stacks in this account and region. Deployed by `snowcdk bootstrap`; do not edit."
    ));
    stack.add_tag("snowcdk:bootstrap", stem(q));
    let staging = {
        let mut root = stack.root();
        StagingBucket::new(&mut root, "Staging", props)?
    };
    stack.add_output(
        OUTPUT_BUCKET_NAME,
        Output::new(staging.bucket_name())
            .description("The staging bucket for assets and large templates")
            .export(Value::str(staging_bucket_export(q))),
    );
    stack.add_output(
        OUTPUT_VERSION,
        Output::new(Value::str(BOOTSTRAP_VERSION.to_string()))
            .description("The version of the bootstrap template"),
    );
    Ok(stack)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3_rules() {
        for ok in [
            "snowex-artifacts",
            "a.b.c",
            "abc",
            "snowcdk-staging-123456789012-us-west-2",
        ] {
            assert!(check_bucket_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "Snowex",
            "snow_ex",
            "-snowex",
            "snowex.",
            "snow..ex",
            "192.168.5.4",
            "xn--snowex",
            "sthree-snowex",
            "amzn-s3-demo-snowex",
            "snowex-s3alias",
            "snowex--ol-s3",
            "snowex.mrap",
            "snowex--x-s3",
            "snowex--table-s3",
        ] {
            assert!(check_bucket_name(bad).is_err(), "{bad}");
        }
    }
    use serde_json::json;
    use snowcdk_constructs_rules::synth_stack;

    fn template(props: &StagingBucketProps) -> serde_json::Value {
        let stack = bootstrap_stack(props).expect("build");
        synth_stack(&stack).expect("synth").template.to_json()
    }

    #[test]
    fn the_bucket_is_private_encrypted_versioned_and_retained() {
        let t = template(&StagingBucketProps::default());
        let b = &t["Resources"]["StagingBucket"];
        assert_eq!(b["Type"], "AWS::S3::Bucket");
        assert_eq!(b["DeletionPolicy"], "Retain");
        assert_eq!(b["UpdateReplacePolicy"], "Retain");
        let p = &b["Properties"];
        assert_eq!(
            p["BucketName"],
            json!({"Fn::Sub": "snowcdk-staging-${AWS::AccountId}-${AWS::Region}"})
        );
        assert_eq!(
            p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
                ["SSEAlgorithm"],
            "AES256"
        );
        assert_eq!(p["VersioningConfiguration"]["Status"], "Enabled");
        for k in [
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        ] {
            assert_eq!(p["PublicAccessBlockConfiguration"][k], true, "{k}");
        }
        assert_eq!(
            p["OwnershipControls"]["Rules"][0]["ObjectOwnership"],
            "BucketOwnerEnforced"
        );
        let rules = p["LifecycleConfiguration"]["Rules"].as_array().unwrap();
        let ids: Vec<&str> = rules.iter().map(|r| r["Id"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            [
                "ExpireNoncurrentVersions",
                "AbortIncompleteUploads",
                "ExpireStagedTemplates"
            ]
        );
        assert_eq!(
            rules[0]["NoncurrentVersionExpiration"]["NoncurrentDays"],
            30
        );
        assert_eq!(rules[2]["Prefix"], "snowcdk/templates/");
        assert_eq!(rules[2]["ExpirationInDays"], 7);
        assert_eq!(b["Properties"]["Tags"][0]["Key"], "snowcdk:bootstrap");
    }

    #[test]
    fn the_policy_denies_requests_without_tls() {
        let t = template(&StagingBucketProps::default());
        let p = &t["Resources"]["StagingPolicy"];
        assert_eq!(p["Type"], "AWS::S3::BucketPolicy");
        assert_eq!(p["Properties"]["Bucket"], json!({"Ref": "StagingBucket"}));
        let st = &p["Properties"]["PolicyDocument"]["Statement"][0];
        assert_eq!(st["Effect"], "Deny");
        assert_eq!(st["Principal"], "*");
        assert_eq!(st["Action"], "s3:*");
        assert_eq!(
            st["Condition"],
            json!({"Bool": {"aws:SecureTransport": "false"}})
        );
        assert_eq!(
            st["Resource"],
            json!([
                {"Fn::GetAtt": ["StagingBucket", "Arn"]},
                {"Fn::Join": ["", [{"Fn::GetAtt": ["StagingBucket", "Arn"]}, "/*"]]}
            ])
        );
    }

    #[test]
    fn the_name_is_exported_per_qualifier() {
        let t = template(&StagingBucketProps::default());
        assert_eq!(
            t["Outputs"]["BucketName"],
            json!({
                "Description": "The staging bucket for assets and large templates",
                "Value": {"Ref": "StagingBucket"},
                "Export": {"Name": "snowcdk-staging-bucket"}
            })
        );
        assert_eq!(t["Outputs"]["BootstrapVersion"]["Value"], "1");

        let props = StagingBucketProps {
            qualifier: Some("team-a".into()),
            asset_expiration_days: Some(400),
            ..StagingBucketProps::default()
        };
        let stack = bootstrap_stack(&props).unwrap();
        assert_eq!(stack.name(), "snowcdk-team-a-staging");
        let t = synth_stack(&stack).unwrap().template.to_json();
        assert_eq!(
            t["Outputs"]["BucketName"]["Export"]["Name"],
            "snowcdk-team-a-staging-bucket"
        );
        assert_eq!(
            t["Resources"]["StagingBucket"]["Properties"]["BucketName"],
            json!({"Fn::Sub": "snowcdk-team-a-staging-${AWS::AccountId}-${AWS::Region}"})
        );
        let rules =
            &t["Resources"]["StagingBucket"]["Properties"]["LifecycleConfiguration"]["Rules"];
        assert_eq!(rules[3]["Id"], "ExpireAssets");
        assert_eq!(rules[3]["Prefix"], "snowcdk/assets/");
        assert_eq!(rules[3]["ExpirationInDays"], 400);

        assert_eq!(
            staging_bucket_name(Some("team-a"), "123456789012", "us-west-2"),
            "snowcdk-team-a-staging-123456789012-us-west-2"
        );
        assert_eq!(
            import_staging_bucket(None).to_json(),
            json!({"Fn::ImportValue": "snowcdk-staging-bucket"})
        );
    }

    #[test]
    fn bad_props_are_errors_naming_the_construct() {
        for (props, needle) in [
            (
                StagingBucketProps {
                    qualifier: Some("Team".into()),
                    ..StagingBucketProps::default()
                },
                "qualifier",
            ),
            (
                StagingBucketProps {
                    qualifier: Some("-a".into()),
                    ..StagingBucketProps::default()
                },
                "qualifier",
            ),
            (
                StagingBucketProps {
                    qualifier: Some("abcdefghijk".into()),
                    ..StagingBucketProps::default()
                },
                "qualifier",
            ),
            (
                StagingBucketProps {
                    noncurrent_version_days: 0,
                    ..StagingBucketProps::default()
                },
                "noncurrent_version_days",
            ),
        ] {
            let e = bootstrap_stack(&props).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
            assert!(e.contains("Staging"), "{e}");
        }
    }
}
