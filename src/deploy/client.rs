//! AWS clients for one target (profile, region, endpoint) and the translation of SDK errors into
//! one readable sentence each, with the fix.
//!
//! The real-AWS path and the emulator path are the same code: only the endpoint and the
//! credentials differ. Every call goes through [`retry_throttled`], which adds our own backoff on
//! top of the SDK's retry policy when CloudFormation keeps answering `Throttling`.

use std::error::Error as StdError;
use std::future::Future;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};

/// Where to deploy: everything that selects credentials, region and endpoint.
#[derive(Debug, Clone, Default)]
pub struct AwsTarget {
    /// A named profile from `~/.aws/config` (`--profile`); the default chain otherwise.
    pub profile: Option<String>,
    /// The region (`--region`, else the stage's `region`).
    pub region: String,
    /// An endpoint override for local emulators (`--endpoint-url`); `AWS_ENDPOINT_URL` is read
    /// by the SDK itself when this is unset.
    pub endpoint_url: Option<String>,
}

/// The service clients for one target plus what error messages need to name it.
#[derive(Debug, Clone)]
pub struct Clients {
    pub cfn: aws_sdk_cloudformation::Client,
    pub s3: aws_sdk_s3::Client,
    pub sts: aws_sdk_sts::Client,
    /// The region, for messages and for the commands we suggest.
    pub region: String,
    /// The endpoint override, when one is in force (emulators); `None` means AWS itself.
    pub endpoint_url: Option<String>,
    /// The profile, for the commands we suggest.
    pub profile: Option<String>,
}

impl Clients {
    /// Loads the SDK config through the default chain (env, profiles, SSO, IMDS), applying the
    /// target's profile, region and endpoint, and builds the clients.
    pub async fn connect(target: &AwsTarget) -> Clients {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(target.region.clone()))
            .retry_config(retry_config())
            .timeout_config(timeout_config());
        if let Some(p) = &target.profile {
            loader = loader.profile_name(p);
        }
        if let Some(url) = &target.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let config = loader.load().await;
        let mut clients = Clients::from_sdk_config(&config);
        clients.profile = target.profile.clone();
        clients
    }

    /// Builds the clients from an SDK config made elsewhere (tests, emulators with static
    /// credentials).
    pub fn from_sdk_config(config: &SdkConfig) -> Clients {
        let endpoint_url = config.endpoint_url().map(str::to_owned);
        let s3_config = aws_sdk_s3::config::Builder::from(config)
            // Emulators serve buckets by path, not by virtual host.
            .force_path_style(endpoint_url.is_some())
            .build();
        Clients {
            cfn: aws_sdk_cloudformation::Client::new(config),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            sts: aws_sdk_sts::Client::new(config),
            region: config
                .region()
                .map(|r| r.to_string())
                .unwrap_or_else(|| "us-east-1".into()),
            endpoint_url,
            profile: None,
        }
    }

    /// Wraps an existing CloudFormation client (the SDK's mock clients in tests). The S3 and STS
    /// clients point nowhere and fail if used.
    pub fn from_cfn(cfn: aws_sdk_cloudformation::Client) -> Clients {
        let region = cfn
            .config()
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".into());
        let nowhere = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.clone()))
            .endpoint_url("http://127.0.0.1:9")
            .build();
        let mut c = Clients::from_sdk_config(&nowhere);
        c.cfn = cfn;
        c.endpoint_url = None;
        c
    }

    /// The endpoint CloudFormation calls go to, for messages.
    pub fn cfn_endpoint(&self) -> String {
        match &self.endpoint_url {
            Some(u) => u.clone(),
            None => format!("https://cloudformation.{}.amazonaws.com", self.region),
        }
    }

    /// ` --region R [--profile P] [--endpoint-url U]`: the flags that make a suggested `aws`
    /// command talk to the same place we do.
    pub fn aws_cli_flags(&self) -> String {
        let mut s = format!(" --region {}", self.region);
        if let Some(p) = &self.profile {
            s.push_str(&format!(" --profile {p}"));
        }
        if let Some(u) = &self.endpoint_url {
            s.push_str(&format!(" --endpoint-url {u}"));
        }
        s
    }
}

/// The SDK's standard retry mode with a few more attempts than the default three: transient
/// network errors and throttling are retried with jittered exponential backoff.
fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(4)
        .with_initial_backoff(Duration::from_millis(500))
        .with_max_backoff(Duration::from_secs(10))
}

/// Connect fast (an unreachable endpoint fails in seconds, not minutes); give each attempt long
/// enough for a large template upload.
fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .operation_attempt_timeout(Duration::from_secs(60))
        .build()
}

/// What kind of failure an AWS call had, for callers that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// The endpoint cannot be reached (DNS, refused connection, timeout, TLS).
    Unreachable,
    /// No credentials anywhere in the chain.
    NoCredentials,
    /// The session token or SSO session has expired.
    ExpiredToken,
    /// The credentials are not valid (wrong key, not enabled in this region).
    InvalidCredentials,
    /// The credentials are valid but not allowed to do this.
    AccessDenied,
    /// Still throttled after every retry.
    Throttled,
    /// Any other error CloudFormation (or S3, STS) returned.
    Service,
    /// Anything else (a response we could not read, a bug).
    Other,
}

/// An AWS call failed. `Display` is one sentence that says what failed and how to fix it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct AwsError {
    pub kind: AwsErrorKind,
    /// The service error code (`ValidationError`, `AccessDenied`, ...), when there is one.
    pub code: Option<String>,
    pub message: String,
}

impl AwsError {
    /// An error from one of our own checks that is worded like an AWS failure.
    pub fn other(message: impl Into<String>) -> AwsError {
        AwsError {
            kind: AwsErrorKind::Other,
            code: None,
            message: message.into(),
        }
    }
}

/// The service error code of an SDK error, if it carried one.
pub fn error_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    match err {
        SdkError::ServiceError(s) => s.err().code(),
        _ => None,
    }
}

/// The service error message of an SDK error, if it carried one.
pub fn error_message<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    match err {
        SdkError::ServiceError(s) => s.err().message(),
        _ => None,
    }
}

/// True for the error codes AWS services use for throttling.
pub fn is_throttling_code(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            | "RequestThrottled"
            | "SlowDown"
    )
}

/// Runs an AWS call, retrying with our own backoff (2 s, 4 s, 8 s, 16 s) when it still fails
/// with a throttling error after the SDK's own retries. Other errors return at once.
pub async fn retry_throttled<T, E, R, F, Fut>(mut call: F) -> Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, R>>>,
{
    let mut delay = Duration::from_secs(2);
    let mut left = 4;
    loop {
        match call().await {
            Err(e) if left > 0 && error_code(&e).is_some_and(is_throttling_code) => {
                left -= 1;
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            r => return r,
        }
    }
}

/// Turns an SDK error into one readable sentence with the fix. `what` names the call in plain
/// words ("describe stack snowex-dev").
pub fn describe<E, R>(what: &str, err: &SdkError<E, R>, clients: &Clients) -> AwsError
where
    E: ProvideErrorMetadata + StdError + 'static,
    R: std::fmt::Debug + 'static,
{
    let endpoint = clients.cfn_endpoint();
    let region = &clients.region;
    let profile_hint = match &clients.profile {
        Some(p) => format!("profile {p}"),
        None => "the default credentials".to_owned(),
    };
    if has_credentials_error(err) {
        return AwsError {
            kind: AwsErrorKind::NoCredentials,
            code: None,
            message: format!(
                "cannot {what}: no AWS credentials found ({}); run `aws configure` or `aws sso login`, or pass --profile",
                innermost(err)
            ),
        };
    }
    match err {
        SdkError::DispatchFailure(d) => {
            let cause = innermost(err);
            let hint = if clients.endpoint_url.is_some() {
                "is the emulator running at that address?".to_owned()
            } else if d.is_timeout() {
                "check your network, proxy (HTTPS_PROXY) and VPN".to_owned()
            } else {
                format!("check the region ({region}) and your network")
            };
            AwsError {
                kind: AwsErrorKind::Unreachable,
                code: None,
                message: format!("cannot reach {endpoint} to {what}: {cause}; {hint}"),
            }
        }
        SdkError::TimeoutError(_) => AwsError {
            kind: AwsErrorKind::Unreachable,
            code: None,
            message: format!(
                "cannot reach {endpoint} to {what}: timed out; check your network, proxy and the region ({region})"
            ),
        },
        SdkError::ServiceError(s) => {
            let code = s.err().code().unwrap_or("Unknown").to_owned();
            let msg = s
                .err()
                .message()
                .unwrap_or("")
                .trim_end_matches('.')
                .to_owned();
            let (kind, message) = match code.as_str() {
                "ExpiredToken"
                | "ExpiredTokenException"
                | "RequestExpired"
                | "TokenRefreshRequired" => (
                    AwsErrorKind::ExpiredToken,
                    format!(
                        "cannot {what}: the AWS session token has expired; run `aws sso login` (or refresh the credentials of {profile_hint}) and retry"
                    ),
                ),
                "InvalidClientTokenId"
                | "UnrecognizedClientException"
                | "SignatureDoesNotMatch"
                | "IncompleteSignature"
                | "AuthFailure"
                | "InvalidAccessKeyId" => (
                    AwsErrorKind::InvalidCredentials,
                    format!(
                        "cannot {what}: AWS rejected the credentials of {profile_hint} in region {region} ({code}: {msg}); check the profile and that the region is enabled for the account"
                    ),
                ),
                "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => (
                    AwsErrorKind::AccessDenied,
                    format!(
                        "cannot {what}: access denied ({msg}); use a profile whose role may call CloudFormation, or ask for the permission"
                    ),
                ),
                c if is_throttling_code(c) => (
                    AwsErrorKind::Throttled,
                    format!(
                        "cannot {what}: AWS is still throttling after retries ({msg}); wait a minute and run again"
                    ),
                ),
                _ => (
                    AwsErrorKind::Service,
                    if msg.is_empty() {
                        format!("cannot {what}: {code}")
                    } else {
                        format!("cannot {what}: {msg} ({code})")
                    },
                ),
            };
            AwsError {
                kind,
                code: Some(code),
                message,
            }
        }
        SdkError::ResponseError(_) => AwsError {
            kind: AwsErrorKind::Other,
            code: None,
            message: format!(
                "cannot {what}: {endpoint} sent a response that is not a CloudFormation answer ({}); is the endpoint right?",
                innermost(err)
            ),
        },
        _ => AwsError {
            kind: AwsErrorKind::Other,
            code: None,
            message: format!("cannot {what}: {}", innermost(err)),
        },
    }
}

/// True when a credentials provider failure sits anywhere in the error's source chain.
fn has_credentials_error(err: &(dyn StdError + 'static)) -> bool {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if e.downcast_ref::<CredentialsError>().is_some() {
            return true;
        }
        cur = e.source();
    }
    false
}

/// The most specific message in an error's source chain (the SDK's top-level messages are
/// generic: "dispatch failure").
fn innermost(err: &(dyn StdError + 'static)) -> String {
    let mut last = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !s.is_empty() {
            last = s;
        }
        cur = e.source();
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_codes() {
        assert!(is_throttling_code("Throttling"));
        assert!(is_throttling_code("ThrottlingException"));
        assert!(!is_throttling_code("ValidationError"));
    }
}
