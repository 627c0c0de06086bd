//! AWS clients for one target (profile, region, endpoint, timeout) and the translation of SDK
//! errors into one readable sentence each, with the fix.
//!
//! The real-AWS path and the emulator path are the same code: only the endpoint and the
//! credentials differ. Every call goes through [`retry_throttled`], which adds our own backoff on
//! top of the SDK's retry policy when CloudFormation keeps answering `Throttling`.
//!
//! What the user typed or exported is checked before the SDK sees it: an endpoint that is not an
//! `http(s)://host` URL and a profile that no file defines are one-line errors here, because the
//! SDK panics on the first and silently falls back to other credentials on the second.

use std::any::Any;
use std::error::Error as StdError;
use std::future::Future;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_cloudformation::config::http::HttpResponse;
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};

use super::notice::SlowCallNotice;

/// How long one AWS request may go unanswered by default (`--timeout` changes it).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The environment variables that hold an endpoint override, global first. The SDK reads them
/// itself; we read them only to check them and to name them in errors.
const ENDPOINT_VARS: [&str; 4] = [
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_CLOUDFORMATION",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_STS",
];

/// Where to deploy: everything that selects credentials, region, endpoint and patience.
#[derive(Debug, Clone, Default)]
pub struct AwsTarget {
    /// A named profile from `~/.aws/config` (`--profile`); the default chain otherwise. A profile
    /// given here wins over `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, as with the AWS CLI.
    pub profile: Option<String>,
    /// The region (`--region`, else the stage's `region`).
    pub region: String,
    /// An endpoint override for local emulators (`--endpoint-url`); `AWS_ENDPOINT_URL` is read
    /// by the SDK itself when this is unset.
    pub endpoint_url: Option<String>,
    /// How long one request may go unanswered (`--timeout`); [`DEFAULT_TIMEOUT`] when `None`.
    pub timeout: Option<Duration>,
}

impl AwsTarget {
    /// The request timeout in force.
    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }
}

/// The service clients for one target plus what error messages need to name it.
#[derive(Debug, Clone)]
pub struct Clients {
    /// CloudFormation: change sets, stacks, events.
    pub cfn: aws_sdk_cloudformation::Client,
    /// S3: asset uploads and large templates in the staging bucket.
    pub s3: aws_sdk_s3::Client,
    /// STS: which account the credentials belong to.
    pub sts: aws_sdk_sts::Client,
    /// Systems Manager: the source of pinned parameters (an AMI's public SSM parameter).
    pub ssm: aws_sdk_ssm::Client,
    /// ECR: preflight reads the manifest of a function's container image (read-only).
    pub ecr: aws_sdk_ecr::Client,
    /// RDS: preflight asks which engine versions and instance classes the region offers, and
    /// deploy reads a database's live engine version (read-only).
    pub rds: aws_sdk_rds::Client,
    /// The region, for messages and for the commands we suggest.
    pub region: String,
    /// The endpoint override, when one is in force (emulators); `None` means AWS itself.
    pub endpoint_url: Option<String>,
    /// The profile, for the commands we suggest.
    pub profile: Option<String>,
    /// How long one request may go unanswered, for messages.
    pub timeout: Duration,
}

impl Clients {
    /// Checks the target (endpoint, profile), loads the SDK config through the default chain
    /// (env, profiles, SSO, IMDS) with the target's profile, region, endpoint and timeouts, and
    /// builds the clients. Nothing is sent yet.
    pub async fn connect(target: &AwsTarget) -> Result<Clients, AwsError> {
        if let Some(url) = &target.endpoint_url {
            check_endpoint("--endpoint-url", url)?;
        } else if !ignore_configured_endpoints() {
            for var in ENDPOINT_VARS {
                if let Some(v) = std::env::var_os(var) {
                    check_endpoint(var, &v.to_string_lossy())?;
                }
            }
        }
        check_region(&target.region)?;
        let env_profile = std::env::var("AWS_PROFILE").ok();
        match (&target.profile, &env_profile) {
            (Some(p), _) => check_profile(p, "--profile").await?,
            (None, Some(p)) => check_profile(p, "AWS_PROFILE").await?,
            (None, None) => {}
        }
        let timeout = match target.timeout {
            Some(t) => t,
            None => timeout_from_env()?,
        };
        if timeout.is_zero() {
            return Err(AwsError::config("--timeout must be at least 1 second"));
        }
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(target.region.clone()))
            .retry_config(retry_config())
            .timeout_config(timeout_config(timeout));
        if let Some(p) = &target.profile {
            // `profile_name` alone only changes which profile the chain reads *after* the
            // environment keys; the AWS CLI lets `--profile` win, and so do we.
            loader = loader.profile_name(p).credentials_provider(
                aws_config::profile::ProfileFileCredentialsProvider::builder()
                    .profile_name(p)
                    .build(),
            );
        }
        if let Some(url) = &target.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let config = loader.load().await;
        if target.endpoint_url.is_none()
            && let Some(url) = config.endpoint_url()
        {
            // From the profile's `endpoint_url` (the environment was checked above).
            check_endpoint("the profile's endpoint_url", url)?;
        }
        let mut clients = Clients::build(&config, Some(SlowCallNotice::new(timeout)), timeout);
        clients.profile = target.profile.clone();
        Ok(clients)
    }

    /// Builds the clients from an SDK config made elsewhere (tests, emulators with static
    /// credentials).
    pub fn from_sdk_config(config: &SdkConfig) -> Clients {
        let timeout = config
            .timeout_config()
            .and_then(|t| t.operation_timeout())
            .unwrap_or(DEFAULT_TIMEOUT);
        Clients::build(config, None, timeout)
    }

    fn build(config: &SdkConfig, notice: Option<SlowCallNotice>, timeout: Duration) -> Clients {
        let endpoint_url = config.endpoint_url().map(str::to_owned);
        let mut s3_config = aws_sdk_s3::config::Builder::from(config)
            // Emulators serve buckets by path, not by virtual host.
            .force_path_style(endpoint_url.is_some());
        let mut cfn_config = aws_sdk_cloudformation::config::Builder::from(config);
        let mut sts_config = aws_sdk_sts::config::Builder::from(config);
        let mut ssm_config = aws_sdk_ssm::config::Builder::from(config);
        let mut ecr_config = aws_sdk_ecr::config::Builder::from(config);
        let mut rds_config = aws_sdk_rds::config::Builder::from(config);
        if let Some(n) = notice {
            s3_config = s3_config.interceptor(n.clone());
            cfn_config = cfn_config.interceptor(n.clone());
            sts_config = sts_config.interceptor(n.clone());
            ssm_config = ssm_config.interceptor(n.clone());
            ecr_config = ecr_config.interceptor(n.clone());
            rds_config = rds_config.interceptor(n);
        }
        Clients {
            cfn: aws_sdk_cloudformation::Client::from_conf(cfn_config.build()),
            s3: aws_sdk_s3::Client::from_conf(s3_config.build()),
            sts: aws_sdk_sts::Client::from_conf(sts_config.build()),
            ssm: aws_sdk_ssm::Client::from_conf(ssm_config.build()),
            ecr: aws_sdk_ecr::Client::from_conf(ecr_config.build()),
            rds: aws_sdk_rds::Client::from_conf(rds_config.build()),
            region: config
                .region()
                .map(|r| r.to_string())
                .unwrap_or_else(|| "us-east-1".into()),
            endpoint_url,
            profile: None,
            timeout,
        }
    }

    /// Wraps an existing CloudFormation client (the SDK's mock clients in tests). The S3 and STS
    /// clients (and the SSM, ECR and RDS ones) point nowhere and fail if used.
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

    /// Replaces the ECR client (the SDK's mock clients in tests of preflight).
    pub fn with_ecr(mut self, ecr: aws_sdk_ecr::Client) -> Clients {
        self.ecr = ecr;
        self
    }

    /// Replaces the RDS client (the SDK's mock clients in tests of preflight and of the
    /// engine-version guard).
    pub fn with_rds(mut self, rds: aws_sdk_rds::Client) -> Clients {
        self.rds = rds;
        self
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

/// `SNOWCDK_TIMEOUT` (seconds) for commands without a `--timeout` flag (`diff --deployed`);
/// [`DEFAULT_TIMEOUT`] when unset.
fn timeout_from_env() -> Result<Duration, AwsError> {
    match std::env::var("SNOWCDK_TIMEOUT") {
        Err(_) => Ok(DEFAULT_TIMEOUT),
        Ok(v) => match v.trim().parse::<u64>() {
            Ok(n) if (1..=3600).contains(&n) => Ok(Duration::from_secs(n)),
            _ => Err(AwsError::config(format!(
                "SNOWCDK_TIMEOUT {v:?} is not a number of seconds from 1 to 3600; fix or unset it"
            ))),
        },
    }
}

/// True when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` tells the SDK to ignore endpoint variables
/// (then we do not judge them either).
fn ignore_configured_endpoints() -> bool {
    std::env::var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_ok_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// Checks an endpoint override: an `http://` or `https://` URL with a host, parsed the way the
/// SDK parses it (`http::Uri`). `source` names where it came from (`--endpoint-url`,
/// `AWS_ENDPOINT_URL`, ...). The SDK panics on an empty one, so this runs before the SDK sees it.
pub fn check_endpoint(source: &str, url: &str) -> Result<(), AwsError> {
    let fix = if source.starts_with("AWS_") {
        format!(
            "set {source} to http(s)://HOST[:PORT] (e.g. http://127.0.0.1:5000), or unset it to use AWS"
        )
    } else {
        format!(
            "pass {source} http(s)://HOST[:PORT] (e.g. http://127.0.0.1:5000), or leave it out to use AWS"
        )
    };
    let bad = |why: &str| {
        Err(AwsError::config(format!(
            "{source} {url:?} is not an endpoint URL ({why}); {fix}"
        )))
    };
    if url.trim().is_empty() {
        return Err(AwsError::config(format!("{source} is empty; {fix}")));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("it contains spaces or control characters");
    }
    if url
        .split_once("://")
        .is_some_and(|(_, rest)| rest.trim_matches('/').is_empty())
    {
        return bad("it has no host");
    }
    let uri: http::Uri = match url.parse() {
        Ok(u) => u,
        Err(e) => return bad(&e.to_string()),
    };
    match uri.scheme_str() {
        Some("http" | "https") => {}
        Some(other) => return bad(&format!("the scheme is {other}, not http or https")),
        None => return bad("it has no http:// or https:// scheme"),
    }
    match uri.host() {
        Some(h) if !h.is_empty() => {}
        _ => return bad("it has no host"),
    }
    if uri.query().is_some() {
        return bad("endpoints take no query string");
    }
    Ok(())
}

/// Checks a region name: lowercase letters, digits and dashes, as every AWS region is named
/// (`us-east-1`, `eu-central-2`, `us-gov-west-1`). Anything else would become part of a host
/// name the SDK builds, or a signature no service accepts.
pub fn check_region(region: &str) -> Result<(), AwsError> {
    let ok = !region.is_empty()
        && region.len() <= 32
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !region.starts_with('-')
        && !region.ends_with('-')
        && region.contains('-');
    if ok {
        Ok(())
    } else {
        Err(AwsError::config(format!(
            "region {region:?} is not a region name such as us-east-1; check --region and the stage's `region`"
        )))
    }
}

/// The files the SDK reads profiles from, as it resolves them, for messages.
fn profile_files() -> (String, String) {
    let home = std::env::var("HOME").unwrap_or_else(|_| "~".into());
    let config = std::env::var("AWS_CONFIG_FILE").unwrap_or_else(|_| format!("{home}/.aws/config"));
    let creds = std::env::var("AWS_SHARED_CREDENTIALS_FILE")
        .unwrap_or_else(|_| format!("{home}/.aws/credentials"));
    (config, creds)
}

/// Checks that a named profile is defined in the config or credentials file (the same files
/// and parser the SDK uses). `source` is `--profile` or `AWS_PROFILE`.
async fn check_profile(name: &str, source: &str) -> Result<(), AwsError> {
    use aws_types::os_shim_internal::{Env, Fs};
    let (config_file, creds_file) = profile_files();
    if name.trim().is_empty() {
        return Err(AwsError::config(format!(
            "{source} is empty; name a profile from {config_file} or {creds_file}, or unset it"
        )));
    }
    let set = aws_config::profile::load(&Fs::real(), &Env::real(), &Default::default(), None)
        .await
        .map_err(|e| {
            AwsError::config(format!(
                "cannot read the AWS profiles for {source} {name} ({config_file}, {creds_file}): {}",
                innermost(&e)
            ))
        })?;
    if set.get_profile(name).is_some() {
        return Ok(());
    }
    let mut known: Vec<&str> = set.profiles().collect();
    known.sort_unstable();
    Err(AwsError::config(format!(
        "{source} {name}: no such profile in {config_file} or {creds_file} ({}); check the name or create it with `aws configure --profile {name}`",
        if known.is_empty() {
            "they define none".to_owned()
        } else {
            format!("they define: {}", known.join(", "))
        }
    )))
}

/// The SDK's standard retry mode with a few more attempts than the default three: transient
/// network errors and throttling are retried with jittered exponential backoff.
fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(4)
        .with_initial_backoff(Duration::from_millis(500))
        .with_max_backoff(Duration::from_secs(10))
}

/// Connect fast (an unreachable endpoint fails in seconds, not minutes), and give up on a
/// request, retries included, after `timeout`: a listener that accepts and never answers is an
/// error after `timeout`, not after four attempts of it. Asset uploads stay within it because
/// large ones go up in parts, each its own request.
fn timeout_config(timeout: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .read_timeout(timeout)
        .operation_attempt_timeout(timeout)
        .operation_timeout(timeout)
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
    /// The target itself is wrong (a malformed endpoint, an unknown profile): nothing was sent.
    Config,
    /// Anything else (a response we could not read, a bug).
    Other,
}

/// An AWS call failed. `Display` is one sentence that says what failed and how to fix it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct AwsError {
    /// The kind of failure, for callers that branch on it (retry, exit code).
    pub kind: AwsErrorKind,
    /// The service error code (`ValidationError`, `AccessDenied`, ...), when there is one.
    pub code: Option<String>,
    /// The sentence `Display` prints: what failed and how to fix it.
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

    /// The target (endpoint, profile, region) is wrong; nothing was sent.
    pub fn config(message: impl Into<String>) -> AwsError {
        AwsError {
            kind: AwsErrorKind::Config,
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
    let secs = clients.timeout.as_secs_f64();
    let timed_out = format!("no answer within {secs} s (--timeout SECONDS to wait longer)");
    match err {
        SdkError::DispatchFailure(d) => {
            let cause = if d.is_timeout() {
                timed_out.clone()
            } else {
                innermost(err)
            };
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
                "cannot {what}: {endpoint} accepted the connection but sent {timed_out}; is it the right endpoint? (check the network, proxy and the region {region})"
            ),
        },
        SdkError::ServiceError(s) if s.err().code().is_none() => {
            let answer = http_answer(err.raw_response().map(|r| r as &dyn Any));
            AwsError {
                kind: AwsErrorKind::Service,
                code: None,
                message: format!(
                    "cannot {what}: {endpoint} answered {}",
                    answer.unwrap_or_else(|| format!(
                        "with an error that names no code ({})",
                        innermost(err)
                    ))
                ),
            }
        }
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
                message: one_line(&message),
            }
        }
        SdkError::ResponseError(_) => {
            let answer = http_answer(err.raw_response().map(|r| r as &dyn Any))
                .unwrap_or_else(|| format!("something unreadable ({})", innermost(err)));
            AwsError {
                kind: AwsErrorKind::Other,
                code: None,
                message: if answer.contains("not an AWS answer") {
                    format!("cannot {what}: {endpoint} answered {answer}")
                } else {
                    format!(
                        "cannot {what}: {endpoint} answered {answer}, which is not an AWS answer; is the endpoint right?"
                    )
                },
            }
        }
        _ => AwsError {
            kind: AwsErrorKind::Other,
            code: None,
            message: one_line(&format!("cannot {what}: {}", innermost(err))),
        },
    }
}

/// What an HTTP response said, for an error the SDK could not read as an AWS error: the status
/// with its reason, the service's own message (`<Message>`, a JSON `message`, an HTML title, or
/// the first words of the body) and what that status usually means. `None` when the raw response
/// is not an HTTP response.
fn http_answer(raw: Option<&dyn Any>) -> Option<String> {
    let resp = raw?.downcast_ref::<HttpResponse>()?;
    let status = resp.status().as_u16();
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let said = body_excerpt(resp.body().bytes().unwrap_or_default());
    let hint = match status {
        407 => "; a proxy wants credentials: check HTTPS_PROXY, HTTP_PROXY and NO_PROXY",
        401 | 403 => {
            "; the request was refused without an AWS error code: check the credentials and that the URL is the service's endpoint"
        }
        404 | 405 => {
            "; no AWS service answers at that URL: check the endpoint (AWS endpoints take no path)"
        }
        300..=399 => "; the endpoint redirects: use the URL it redirects to",
        500..=599 => "; the service failed: retry later",
        200..=299 => "; that is not an AWS answer: is the endpoint right?",
        _ => "",
    };
    Some(one_line(&format!(
        "HTTP {status}{}{}{hint}",
        if reason.is_empty() {
            String::new()
        } else {
            format!(" {reason}")
        },
        if said.is_empty() {
            String::new()
        } else {
            format!(" ({said})")
        },
    )))
}

/// The gist of a response body in a few words: an AWS `<Message>`, a JSON `message`, an HTML
/// page's `<title>`, else its first 120 characters.
fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let t = text.trim();
    if t.is_empty() {
        return "no body".into();
    }
    let lower = t.to_ascii_lowercase();
    let between = |open: &str, close: &str| -> Option<String> {
        let a = lower.find(open)? + open.len();
        let b = a + lower[a..].find(close)?;
        let inner = t.get(a..b)?.trim();
        (!inner.is_empty()).then(|| inner.to_owned())
    };
    if let Some(m) = between("<message>", "</message>") {
        return format!("\"{}\"", shorten(&m, 200));
    }
    if let Ok(serde_json::Value::Object(o)) = serde_json::from_str::<serde_json::Value>(t)
        && let Some(m) = o
            .get("message")
            .or_else(|| o.get("Message"))
            .and_then(|m| m.as_str())
    {
        return format!("\"{}\"", shorten(m, 200));
    }
    if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        return match between("<title>", "</title>") {
            Some(title) => format!("an HTML page: \"{}\"", shorten(&title, 120)),
            None => "an HTML page".into(),
        };
    }
    format!("\"{}\"", shorten(t, 120))
}

/// At most `max` characters, whitespace runs collapsed, control characters dropped.
fn shorten(s: &str, max: usize) -> String {
    let collapsed = s
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>();
    if collapsed.chars().count() > max {
        let cut: String = collapsed.chars().take(max).collect();
        format!("{cut}...")
    } else {
        collapsed
    }
}

/// Errors are one line: a service message with newlines is joined.
fn one_line(s: &str) -> String {
    if s.contains(['\n', '\r']) {
        s.split(['\n', '\r'])
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        s.to_owned()
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
    fn endpoints_are_http_urls_with_a_host() {
        for ok in [
            "http://127.0.0.1:5000",
            "https://cloudformation.us-east-1.amazonaws.com",
            "http://localhost:4566/",
        ] {
            assert!(check_endpoint("--endpoint-url", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            " ",
            "http://",
            "https:///",
            "not a url",
            "ftp://x",
            "localhost:5000",
            "http://h?x=1",
        ] {
            let e = check_endpoint("AWS_ENDPOINT_URL", bad).expect_err(bad);
            assert_eq!(e.kind, AwsErrorKind::Config);
            assert!(e.message.contains("AWS_ENDPOINT_URL"), "{e}");
            assert!(!e.message.contains('\n'), "{e}");
        }
    }

    #[test]
    fn regions_look_like_regions() {
        assert!(check_region("us-east-1").is_ok());
        assert!(check_region("us-gov-west-1").is_ok());
        for bad in ["", "US-EAST-1", "us east 1", "../x", "useast1", "-us-1"] {
            assert!(check_region(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn body_excerpts_keep_the_services_words() {
        assert_eq!(
            body_excerpt(b"<Error><Code>X</Code><Message>Bad thing.</Message></Error>"),
            "\"Bad thing.\""
        );
        assert_eq!(
            body_excerpt(b"<html><head><title>Blocked</title></head></html>"),
            "an HTML page: \"Blocked\""
        );
        assert_eq!(body_excerpt(br#"{"message":"nope"}"#), "\"nope\"");
        assert_eq!(body_excerpt(b""), "no body");
        assert_eq!(body_excerpt(b"a\n\n  b"), "\"a b\"");
    }

    #[test]
    fn throttling_codes() {
        assert!(is_throttling_code("Throttling"));
        assert!(is_throttling_code("ThrottlingException"));
        assert!(!is_throttling_code("ValidationError"));
    }
}
