//! Container image URIs for Lambda: the shape of an ECR image reference, checked before a deploy
//! so a typo fails in `synth` with a sentence, not minutes later in CloudFormation.
//!
//! Accepted: `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>` followed by `:<tag>` or
//! `@sha256:<64 hex>` (Lambda needs one of them). The account is 12 digits; the region looks like
//! `us-west-2` (and `.com.cn` goes with the `cn-` regions only); the repository is ECR's (lower
//! case, `/`-separated parts of letters and digits joined by `.`, `_` or `-`, 2 to 256
//! characters); a tag is Docker's (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`). Everything accepted
//! here also matches the template parameter's `AllowedPattern`
//! (`snowcdk_constructs::l2::vpc_lambda::ECR_IMAGE_URI_PATTERN`), which a test checks.
//!
//! A tag or digest that changes with every build (a commit SHA tag, or the digest) is what makes
//! CloudFormation update the function: re-pushing `:latest` changes nothing in the template.

use std::fmt;
use std::str::FromStr;

/// What follows the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageReference {
    /// `:<tag>`.
    Tag(String),
    /// `@sha256:<64 lower-case hex>` (the hex only).
    Digest(String),
}

/// A parsed ECR image URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrImageUri {
    pub account: String,
    pub region: String,
    pub repository: String,
    pub reference: ImageReference,
}

/// Why a string is not an ECR image URI: the string, the part that is wrong, and the shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{uri:?} is not an ECR image URI: {problem}; expected <12-digit account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> (or @sha256:<64 hex>)"
)]
pub struct ImageUriError {
    pub uri: String,
    pub problem: String,
}

impl EcrImageUri {
    /// Parses and checks an image URI (see the module docs).
    pub fn parse(uri: &str) -> Result<EcrImageUri, ImageUriError> {
        let fail = |problem: String| ImageUriError {
            uri: uri.to_owned(),
            problem,
        };
        if uri != uri.trim() || uri.is_empty() {
            return Err(fail("it is empty or has spaces around it".into()));
        }
        if uri.contains("://") {
            return Err(fail("it has a scheme; leave out https://".into()));
        }
        let (host, rest) = uri
            .split_once('/')
            .ok_or_else(|| fail("there is no /<repository> after the registry".into()))?;
        let (account, region) = parse_host(host).map_err(fail)?;

        let (repository, reference) = if let Some((repo, digest)) = rest.split_once('@') {
            let hex = digest
                .strip_prefix("sha256:")
                .ok_or_else(|| fail(format!("digest {digest:?} does not start with sha256:")))?;
            if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                return Err(fail(format!(
                    "digest {digest:?} is not sha256: and 64 lower-case hex characters"
                )));
            }
            (repo, ImageReference::Digest(hex.to_owned()))
        } else if let Some((repo, tag)) = rest.rsplit_once(':') {
            if !is_tag(tag) {
                return Err(fail(format!(
                    "tag {tag:?} is not 1 to 128 letters, digits, '_', '.' or '-' (not starting with '.' or '-')"
                )));
            }
            (repo, ImageReference::Tag(tag.to_owned()))
        } else {
            return Err(fail(
                "there is no :<tag> or @sha256:<digest>; Lambda needs one (a tag that changes with every build, or the digest)".into(),
            ));
        };
        if !is_repository(repository) {
            return Err(fail(format!(
                "repository {repository:?} is not 2 to 256 lower-case letters and digits in '/'-separated parts joined by '.', '_' or '-'"
            )));
        }
        Ok(EcrImageUri {
            account,
            region,
            repository: repository.to_owned(),
            reference,
        })
    }

    /// The registry host (`<account>.dkr.ecr.<region>.amazonaws.com`).
    pub fn registry(&self) -> String {
        let suffix = if self.region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        };
        format!("{}.dkr.ecr.{}.{suffix}", self.account, self.region)
    }
}

impl FromStr for EcrImageUri {
    type Err = ImageUriError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EcrImageUri::parse(s)
    }
}

impl fmt::Display for EcrImageUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry(), self.repository)?;
        match &self.reference {
            ImageReference::Tag(t) => write!(f, ":{t}"),
            ImageReference::Digest(d) => write!(f, "@sha256:{d}"),
        }
    }
}

/// Checks an image URI; the error is one sentence (for config and CLI validation).
pub fn validate_image_uri(uri: &str) -> Result<(), ImageUriError> {
    EcrImageUri::parse(uri).map(|_| ())
}

/// `<account>.dkr.ecr.<region>.amazonaws.com[.cn]` -> (account, region).
fn parse_host(host: &str) -> Result<(String, String), String> {
    let labels: Vec<&str> = host.split('.').collect();
    let (account, ecr, region, domain) = match labels.as_slice() {
        [account, "dkr", ecr, region, domain @ ..] => (*account, *ecr, *region, domain),
        _ => {
            return Err(format!(
                "registry {host:?} is not <account>.dkr.ecr.<region>.amazonaws.com"
            ));
        }
    };
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("account {account:?} is not 12 digits"));
    }
    if ecr != "ecr" {
        return Err(format!("{ecr:?} in the registry should be ecr"));
    }
    if !is_region(region) {
        return Err(format!(
            "region {region:?} is not a region name such as us-west-2"
        ));
    }
    let china = region.starts_with("cn-");
    match (domain, china) {
        (["amazonaws", "com"], false) | (["amazonaws", "com", "cn"], true) => {}
        _ => {
            let expected = if china {
                "amazonaws.com.cn"
            } else {
                "amazonaws.com"
            };
            return Err(format!(
                "registry {host:?} should end in .{region}.{expected}"
            ));
        }
    }
    Ok((account.to_owned(), region.to_owned()))
}

/// `us-west-2`, `us-gov-east-1`, `ap-southeast-5`, `cn-north-1`: letters in 2 to 4 dash-separated
/// parts, then one digit.
fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let Some((number, names)) = parts.split_last() else {
        return false;
    };
    (2..=4).contains(&names.len())
        && names[0].len() == 2
        && names
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && number.len() == 1
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// Docker's tag grammar: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn is_tag(s: &str) -> bool {
    let mut bytes = s.bytes();
    let Some(first) = bytes.next() else {
        return false;
    };
    s.len() <= 128
        && (first.is_ascii_alphanumeric() || first == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// ECR's repository grammar: `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*`,
/// 2 to 256 characters.
fn is_repository(s: &str) -> bool {
    (2..=256).contains(&s.len())
        && s.split('/').all(|part| {
            !part.is_empty()
                && part.split(['.', '_', '-']).all(|run| {
                    !run.is_empty()
                        && run
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn accepts_tags_and_digests() {
        let u =
            EcrImageUri::parse("123456789012.dkr.ecr.us-west-2.amazonaws.com/snowex/api:v1.2.3")
                .unwrap();
        assert_eq!(u.account, "123456789012");
        assert_eq!(u.region, "us-west-2");
        assert_eq!(u.repository, "snowex/api");
        assert_eq!(u.reference, ImageReference::Tag("v1.2.3".into()));

        let d = format!("123456789012.dkr.ecr.eu-central-1.amazonaws.com/api@sha256:{DIGEST}");
        let u = EcrImageUri::parse(&d).unwrap();
        assert_eq!(u.reference, ImageReference::Digest(DIGEST.into()));
        assert_eq!(u.to_string(), d);

        for ok in [
            "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/api:abc123",
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/api:1",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/my_repo.x-y:_x",
            "123456789012.dkr.ecr.ap-southeast-5.amazonaws.com/a/b/c:T.ag-1",
        ] {
            let u = EcrImageUri::parse(ok).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(u.to_string(), ok, "round trip");
        }
    }

    #[test]
    fn refuses_wrong_shapes_naming_the_part() {
        let cases = [
            (
                "12345678901.dkr.ecr.us-west-2.amazonaws.com/api:1",
                "12 digits",
            ),
            (
                "12345678901a.dkr.ecr.us-west-2.amazonaws.com/api:1",
                "12 digits",
            ),
            ("123456789012.dkr.ecr.uswest2.amazonaws.com/api:1", "region"),
            (
                "123456789012.dkr.ecr.us-west-2.amazonaws.org/api:1",
                "should end in",
            ),
            (
                "123456789012.dkr.ecr.us-west-2.amazonaws.com.cn/api:1",
                "should end in",
            ),
            (
                "123456789012.dkr.ecs.us-west-2.amazonaws.com/api:1",
                "should be ecr",
            ),
            ("docker.io/library/python:3.12", "registry"),
            (
                "123456789012.dkr.ecr.us-west-2.amazonaws.com/api",
                "no :<tag>",
            ),
            (
                "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/api:1",
                "should be ecr",
            ),
            (
                "123456789012.dkr.ecr.us-west-12.amazonaws.com/api:1",
                "region",
            ),
            (
                "123456789012.dkr.ecr.us-west-2.amazonaws.com",
                "no /<repository>",
            ),
            (
                "https://123456789012.dkr.ecr.us-west-2.amazonaws.com/api:1",
                "scheme",
            ),
            (
                "123456789012.dkr.ecr.us-west-2.amazonaws.com/API:1",
                "repository",
            ),
            (
                "123456789012.dkr.ecr.us-west-2.amazonaws.com/a//b:1",
                "repository",
            ),
            (
                "123456789012.dkr.ecr.us-west-2.amazonaws.com/a-:1",
                "repository",
            ),
            ("123456789012.dkr.ecr.us-west-2.amazonaws.com/api:", "tag"),
            ("123456789012.dkr.ecr.us-west-2.amazonaws.com/api:-x", "tag"),
            (
                "123456789012.dkr.ecr.us-west-2.amazonaws.com/api:a/b",
                "tag",
            ),
            (
                "123456789012.dkr.ecr.us-west-2.amazonaws.com/api@sha256:abc",
                "digest",
            ),
            (
                "123456789012.dkr.ecr.us-west-2.amazonaws.com/api@md5:abc",
                "sha256:",
            ),
            (
                " 123456789012.dkr.ecr.us-west-2.amazonaws.com/api:1",
                "spaces",
            ),
            ("", "empty"),
        ];
        for (uri, needle) in cases {
            let e = EcrImageUri::parse(uri).expect_err(uri);
            let msg = e.to_string();
            assert!(msg.contains(needle), "{uri}: {msg}");
            assert!(msg.contains("expected <12-digit account>"), "{msg}");
        }
        let long_tag = format!(
            "123456789012.dkr.ecr.us-west-2.amazonaws.com/api:{}",
            "a".repeat(129)
        );
        assert!(validate_image_uri(&long_tag).is_err());
        let upper_digest = format!(
            "123456789012.dkr.ecr.us-west-2.amazonaws.com/api@sha256:{}",
            DIGEST.to_uppercase()
        );
        assert!(validate_image_uri(&upper_digest).is_err());
    }

    /// What this validator accepts, the template parameter's AllowedPattern accepts too (so a
    /// URI that passes here never fails in CloudFormation on the pattern).
    #[test]
    fn accepted_uris_match_the_template_pattern() {
        use snowcdk_constructs::l2::vpc_lambda::is_ecr_image_uri;
        let accepted = [
            "123456789012.dkr.ecr.us-west-2.amazonaws.com/snowex-api:latest".to_owned(),
            "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/team/api:v1.2.3".to_owned(),
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/api:1".to_owned(),
            "123456789012.dkr.ecr.ap-southeast-5.amazonaws.com/a/b/c:T.ag-1".to_owned(),
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/my_repo.x-y:_x".to_owned(),
            format!("123456789012.dkr.ecr.eu-central-1.amazonaws.com/api@sha256:{DIGEST}"),
            format!(
                "123456789012.dkr.ecr.us-west-2.amazonaws.com/api:{}",
                "a".repeat(128)
            ),
        ];
        for uri in &accepted {
            assert!(validate_image_uri(uri).is_ok(), "{uri}");
            assert!(is_ecr_image_uri(uri), "the template pattern refuses {uri}");
        }
    }
}
