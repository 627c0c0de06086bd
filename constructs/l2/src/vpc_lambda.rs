//! `VpcLambda`: a Lambda function in the VPC's private subnets, with its own security group, an
//! execution role, a log group with a retention, and optionally a public Function URL.
//!
//! - The security group allows no inbound (Lambda is invoked through its API, never over the
//!   network) and only HTTPS outbound to the internet, through the NAT gateway (Secrets Manager
//!   and other AWS APIs); connections to databases are added with [`Connections`].
//! - The role gets the AWS-managed `AWSLambdaVPCAccessExecutionRole` (the ENI permissions a
//!   function in a VPC needs, plus writing its logs), with an ARN built from `${AWS::Partition}`,
//!   and `secretsmanager:GetSecretValue` on exactly the secrets in the props (never `*`).
//! - The function has a deterministic name, `<stack name>-<id in lower case>`, so that its log
//!   group can be created first, as `/aws/lambda/<name>` with a retention, and wired in through
//!   `LoggingConfig`: Lambda then never creates a never-expiring group of its own.
//! - Function URL: `AuthType NONE` (public) adds the two resource-policy statements Lambda
//!   requires for a public URL: `lambda:InvokeFunctionUrl` with `FunctionUrlAuthType NONE`, and
//!   (since October 2025) `lambda:InvokeFunction` restricted to calls through the URL
//!   (`InvokedViaFunctionUrl`), so the function cannot be invoked directly by anyone.
//!   `AWS_IAM` adds no statement: callers need `lambda:InvokeFunctionUrl` in their own policies.
//!
//! - Removal: the log group is `Retain` (on deletion and on replacement) with
//!   [`VpcLambdaProps::retain_logs`], for stages whose logs must outlive the stack, else an
//!   explicit `Delete` (chosen, not defaulted: the logs of a disposable stage go with it).
//! - Reserved concurrency ([`VpcLambdaProps::reserved_concurrency`]) caps how many copies run at
//!   once; for a function that holds a database connection per copy, that caps connections.
//!
//! Code comes from a container image, a zip in S3, or inline source;
//! [`LambdaCode`] is non-exhaustive so a local-directory asset variant can join them.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use snowcdk_constructs_core::error::SynthError;
use snowcdk_constructs_core::template::{DeletionPolicy, Handle, Value};
use snowcdk_constructs_core::tree::Scope;
use snowcdk_constructs_l1::{iam, lambda, logs};

use super::connections::{
    CidrRule, Connectable, Connections, Egress, Port, SecurityGroup, SecurityGroupProps,
};
use super::ssm_bastion::assume_role_policy;
use super::vpc::Vpc;
use super::{CheckovReasons, PropError, checkov_skip, checkov_skip_with};

/// Where the function's code comes from.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LambdaCode {
    /// A container image in ECR (`PackageType: Image`); the image defines runtime and handler.
    /// A `Value`, so it can be a template parameter that CI sets per deploy.
    Image {
        /// The image URI (or a parameter holding it).
        uri: Value,
    },
    /// A zip package in S3.
    S3 {
        /// The bucket.
        bucket: Value,
        /// The object key.
        key: Value,
        /// The Lambda runtime.
        runtime: String,
        /// The handler.
        handler: String,
    },
    /// Source text in the template (`ZipFile`; interpreted runtimes, at most 4 KB).
    Inline {
        /// The code.
        source: String,
        /// The Lambda runtime.
        runtime: String,
        /// The handler.
        handler: String,
    },
}

/// The instruction set the function runs on; must match the image or package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Architecture {
    /// x86-64.
    #[default]
    X86_64,
    /// ARM64 (Graviton).
    Arm64,
}

impl Architecture {
    /// The `Architectures` value.
    pub fn l1(self) -> lambda::FunctionArchitecture {
        match self {
            Architecture::X86_64 => lambda::FunctionArchitecture::X86_64,
            Architecture::Arm64 => lambda::FunctionArchitecture::Arm64,
        }
    }
}

/// Who may call the Function URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionUrlAuth {
    /// Anyone, with no AWS credentials (`AuthType: NONE`): a public API.
    Public,
    /// Only callers with IAM permission, requests signed with SigV4 (`AuthType: AWS_IAM`).
    AwsIam,
}

impl FunctionUrlAuth {
    /// The `AuthType` value.
    pub fn auth_type(self) -> lambda::UrlAuthType {
        match self {
            FunctionUrlAuth::Public => lambda::UrlAuthType::None,
            FunctionUrlAuth::AwsIam => lambda::UrlAuthType::AwsIam,
        }
    }
}

/// Options of a [`VpcLambda`].
#[derive(Debug, Clone, PartialEq)]
pub struct VpcLambdaProps {
    /// Where the code comes from.
    pub code: LambdaCode,
    /// `Description`.
    pub description: String,
    /// `MemorySize` in MB.
    pub memory_mb: u32,
    /// `Timeout` in seconds.
    pub timeout_seconds: u32,
    /// The CPU architecture.
    pub architecture: Architecture,
    /// Environment variables.
    pub environment: BTreeMap<String, Value>,
    /// ARNs of secrets the function may read (`secretsmanager:GetSecretValue`).
    pub readable_secrets: Vec<Value>,
    /// Days the log group keeps logs (one of CloudWatch Logs' allowed values).
    pub log_retention_days: u32,
    /// A Function URL and its auth type; `None` for no URL.
    pub url: Option<FunctionUrlAuth>,
    /// Reserved concurrency: caps parallel executions (and so database connections).
    pub reserved_concurrency: Option<u32>,
    /// Keep the log group when the stack is deleted or the group replaced (`Retain`); `false`
    /// deletes it with the stack (`Delete`).
    pub retain_logs: bool,
    /// The app's reasons for the checkov checks the construct skips (`CKV_AWS_115`, no reserved
    /// concurrency; `CKV_AWS_258`, a public URL), replacing the construct's generic ones.
    pub checkov_reasons: CheckovReasons,
    /// The names of an adopted function's resources; `Default`: generated.
    pub adopted: AdoptedFunction,
}

/// Names an adopted function already has (`snowcdk import` records them), so the template
/// describes what runs. `None` everywhere (the default): generated, as for a new stack. Most
/// are create-only: on a deployed stack, changing one replaces the resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdoptedFunction {
    /// `FunctionName` (also names the log group `/aws/lambda/<name>`, where it logs).
    pub function_name: Option<String>,
    /// The execution role's `RoleName`.
    pub role_name: Option<String>,
    /// The security group's `GroupName`.
    pub security_group_name: Option<String>,
    /// The security group's `GroupDescription`.
    pub security_group_description: Option<String>,
}

impl VpcLambdaProps {
    /// Defaults around the given code: 1024 MB, 30 s, x86_64, 30 days of logs, public URL.
    pub fn new(code: LambdaCode) -> Self {
        Self {
            code,
            description: String::new(),
            memory_mb: 1024,
            timeout_seconds: 30,
            architecture: Architecture::X86_64,
            environment: BTreeMap::new(),
            readable_secrets: Vec::new(),
            log_retention_days: 30,
            url: Some(FunctionUrlAuth::Public),
            reserved_concurrency: None,
            retain_logs: false,
            checkov_reasons: CheckovReasons::new(),
            adopted: AdoptedFunction::default(),
        }
    }

    /// `MemorySize` values Lambda accepts, in MB.
    pub const MEMORY_MB: RangeInclusive<u32> = 128..=10240;
    /// `Timeout` values Lambda accepts, in seconds.
    pub const TIMEOUT_SECONDS: RangeInclusive<u32> = 1..=900;
    /// The most bytes of inline source (`ZipFile`) Lambda accepts.
    pub const MAX_INLINE_SOURCE: usize = 4096;

    /// Checks what Lambda would refuse at deploy time, naming the field at fault (the function
    /// name's length depends on the stack and is checked by the construct). The construct calls
    /// it; an app may call it on props built from its settings to report under its own keys.
    pub fn validate(&self) -> Result<(), PropError> {
        let p = self;
        let memory = Self::MEMORY_MB;
        if !memory.contains(&p.memory_mb) {
            return Err(PropError::new(
                "memory_mb",
                format!(
                    "{} MB: Lambda allows {} to {}",
                    p.memory_mb,
                    memory.start(),
                    memory.end()
                ),
            ));
        }
        let timeout = Self::TIMEOUT_SECONDS;
        if !timeout.contains(&p.timeout_seconds) {
            return Err(PropError::new(
                "timeout_seconds",
                format!(
                    "{} s: Lambda allows {} to {}",
                    p.timeout_seconds,
                    timeout.start(),
                    timeout.end()
                ),
            ));
        }
        if !LOG_RETENTION_DAYS.contains(&p.log_retention_days) {
            return Err(PropError::new(
                "log_retention_days",
                format!(
                    "{} is not a retention CloudWatch Logs accepts: {LOG_RETENTION_DAYS:?}",
                    p.log_retention_days
                ),
            ));
        }
        match &p.code {
            LambdaCode::Image { uri } => {
                // Only a literal can be checked; a parameter is checked by its AllowedPattern.
                if let Some(u) = uri.as_str()
                    && !is_ecr_image_uri(u)
                {
                    return Err(PropError::new(
                        "code",
                        format!(
                            "image URI {u:?} is not <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag> or @sha256:<digest>"
                        ),
                    ));
                }
            }
            LambdaCode::S3 {
                runtime, handler, ..
            }
            | LambdaCode::Inline {
                runtime, handler, ..
            } => {
                if runtime.is_empty() || handler.is_empty() {
                    return Err(PropError::new(
                        "code",
                        "a zip package needs a runtime and a handler",
                    ));
                }
            }
        }
        if let LambdaCode::Inline { source, .. } = &p.code
            && source.len() > Self::MAX_INLINE_SOURCE
        {
            return Err(PropError::new(
                "code",
                format!(
                    "inline source is {} bytes; Lambda accepts {}: use an S3 package",
                    source.len(),
                    Self::MAX_INLINE_SOURCE
                ),
            ));
        }
        for k in p.environment.keys() {
            if !k.starts_with(|c: char| c.is_ascii_alphabetic())
                || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(PropError::new(
                    "environment",
                    format!("variable name {k:?} is not valid"),
                ));
            }
        }
        if p.reserved_concurrency == Some(0) {
            return Err(PropError::new(
                "reserved_concurrency",
                "0 would stop the function from ever running; leave it out for no reservation",
            ));
        }
        Ok(())
    }
}

/// CloudWatch Logs' allowed `RetentionInDays` values.
pub const LOG_RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// The function and what came with it.
#[derive(Debug, Clone)]
pub struct VpcLambda {
    /// The `AWS::Lambda::Function`.
    pub function: Handle<lambda::Function>,
    /// Its execution role.
    pub role: Handle<iam::Role>,
    /// Its log group, with retention.
    pub log_group: Handle<logs::LogGroup>,
    /// The Function URL, when enabled.
    pub url: Option<Handle<lambda::Url>>,
    connections: Connections,
}

impl Connectable for VpcLambda {
    fn connections(&self) -> &Connections {
        &self.connections
    }
}

impl VpcLambda {
    /// Adds the function under `scope/id`, attached to every private subnet of `vpc`.
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        vpc: &Vpc,
        props: &VpcLambdaProps,
    ) -> Result<VpcLambda, SynthError> {
        let suffix: String = id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect::<String>()
            .to_ascii_lowercase();
        let stack_name_len = scope.stack().name().len();
        let mut s = scope.child(id);
        let path = s.path().to_owned();
        let name_len = match &props.adopted.function_name {
            Some(n) => n.len(),
            None => stack_name_len + 1 + suffix.len(),
        };
        validate(props, name_len).map_err(|message| SynthError::Construct {
            path: path.clone(),
            message,
        })?;
        let (function_name, log_group_name) = match &props.adopted.function_name {
            Some(n) => (
                Value::str(n.as_str()),
                Value::str(format!("/aws/lambda/{n}")),
            ),
            None => (
                Value::sub(format!("${{AWS::StackName}}-{suffix}")),
                Value::sub(format!("/aws/lambda/${{AWS::StackName}}-{suffix}")),
            ),
        };

        let security_group = SecurityGroup::new(
            &mut s,
            "SecurityGroup",
            vpc,
            &SecurityGroupProps {
                name: props.adopted.security_group_name.clone(),
                description: props
                    .adopted
                    .security_group_description
                    .clone()
                    .unwrap_or_else(|| {
                        "Lambda function: no inbound (invoked through the Lambda API)".into()
                    }),
                egress: Egress::Only(vec![CidrRule::any_ipv4(
                    Port::tcp(443),
                    "HTTPS to the internet through the NAT gateway (Secrets Manager, AWS APIs)",
                )]),
            },
        )?;

        let mut role = iam::Role::new(assume_role_policy("lambda.amazonaws.com"))
            .description(format!("Execution role of the Lambda function {path}"))
            .managed_policy_arns(vec![Value::sub(
                "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
            )]);
        if let Some(name) = &props.adopted.role_name {
            role = role.role_name(name.as_str());
        }
        if !props.readable_secrets.is_empty() {
            let document = Value::map([
                ("Version", Value::str("2012-10-17")),
                (
                    "Statement",
                    Value::list([Value::map([
                        ("Effect", Value::str("Allow")),
                        ("Action", Value::str("secretsmanager:GetSecretValue")),
                        ("Resource", Value::List(props.readable_secrets.clone())),
                    ])]),
                ),
            ]);
            role = role.policies(vec![iam::RolePolicy::new(document, "ReadSecrets")]);
        }
        let role = s.add("ServiceRole", role);

        let log_group = s.add(
            "LogGroup",
            logs::LogGroup::new()
                .log_group_name(log_group_name)
                .retention_in_days(i64::from(props.log_retention_days)),
        );
        s.set_policies(
            &log_group,
            if props.retain_logs {
                DeletionPolicy::Retain
            } else {
                DeletionPolicy::Delete
            },
        );
        checkov_skip(
            &mut s,
            &log_group,
            "CKV_AWS_158",
            "Encrypted at rest by CloudWatch Logs with its service key; the logs hold no secrets, so a customer-managed KMS key would add cost and a key policy for nothing",
        );

        let environment: BTreeMap<String, Value> = props.environment.clone();
        let mut function = lambda::Function::new(code(&props.code), role.attr_arn())
            .function_name(function_name.clone())
            .memory_size(i64::from(props.memory_mb))
            .timeout(i64::from(props.timeout_seconds))
            .architectures(vec![props.architecture.l1()])
            .vpc_config(
                lambda::FunctionVpcConfig::new()
                    .subnet_ids(vpc.private_subnet_ids())
                    .security_group_ids(vec![security_group.group_id()]),
            )
            .logging_config(lambda::FunctionLoggingConfig::new().log_group(log_group.ref_()));
        if !props.description.is_empty() {
            function = function.description(props.description.as_str());
        }
        if !environment.is_empty() {
            function =
                function.environment(lambda::FunctionEnvironment::new().variables(environment));
        }
        match &props.code {
            LambdaCode::Image { .. } => {
                function = function.package_type(lambda::FunctionPackageType::Image)
            }
            LambdaCode::S3 {
                runtime, handler, ..
            }
            | LambdaCode::Inline {
                runtime, handler, ..
            } => {
                function = function
                    .package_type(lambda::FunctionPackageType::Zip)
                    .runtime(lambda::FunctionRuntime::from(runtime.as_str()))
                    .handler(handler.as_str());
            }
        }
        if let Some(n) = props.reserved_concurrency {
            function = function.reserved_concurrent_executions(i64::from(n));
        }
        let function = s.add("Resource", function);
        checkov_skip(
            &mut s,
            &function,
            "CKV_AWS_116",
            "No dead-letter queue: the function is only invoked synchronously through its Function URL, where the caller sees every error; DLQs apply to asynchronous invocations",
        );
        if props.reserved_concurrency.is_none() {
            checkov_skip_with(
                &mut s,
                &function,
                "CKV_AWS_115",
                "No reserved concurrency by default: on a new account (10 concurrent executions in all) any reservation fails; set reserved_concurrency in the props to cap concurrent executions",
                &props.checkov_reasons,
            );
        }

        let url = props.url.map(|auth| {
            let url = s.add(
                "Url",
                lambda::Url::new(auth.auth_type(), function.attr_arn()),
            );
            if auth == FunctionUrlAuth::Public {
                s.add(
                    "PublicUrlPermission",
                    lambda::Permission::new(
                        "lambda:InvokeFunctionUrl",
                        function.attr_arn(),
                        "*",
                    )
                    .function_url_auth_type(lambda::PermissionFunctionUrlAuthType::None),
                );
                s.add(
                    "PublicInvokePermission",
                    lambda::Permission::new("lambda:InvokeFunction", function.attr_arn(), "*")
                        .invoked_via_function_url(true),
                );
                checkov_skip_with(
                    &mut s,
                    &url,
                    "CKV_AWS_258",
                    "Intentionally public (AuthType NONE): the function is a public API, called without AWS credentials; FunctionUrlAuth::AwsIam makes it private",
                    &props.checkov_reasons,
                );
            }
            url
        });

        Ok(VpcLambda {
            function,
            role,
            log_group,
            url,
            connections: Connections::new(security_group, None),
        })
    }

    /// `Fn::GetAtt Url.FunctionUrl`, when the function has a URL.
    pub fn function_url(&self) -> Option<Value> {
        self.url.as_ref().map(|u| u.attr_function_url())
    }

    /// `Ref`: the function name.
    pub fn function_name(&self) -> Value {
        self.function.ref_()
    }
}

/// The `Code` property for each code source.
fn code(c: &LambdaCode) -> lambda::FunctionCode {
    match c {
        LambdaCode::Image { uri } => lambda::FunctionCode::new().image_uri(uri.clone()),
        LambdaCode::S3 { bucket, key, .. } => lambda::FunctionCode::new()
            .s3_bucket(bucket.clone())
            .s3_key(key.clone()),
        LambdaCode::Inline { source, .. } => lambda::FunctionCode::new().zip_file(source.as_str()),
    }
}

/// The props' own checks, then the function name's length, which depends on the stack.
fn validate(p: &VpcLambdaProps, function_name_len: usize) -> Result<(), String> {
    if function_name_len > 64 {
        return Err(format!(
            "the function name <stack name>-<id> would be {function_name_len} characters; Lambda allows 64: shorten the stack name or the construct id"
        ));
    }
    p.validate().map_err(|e| e.to_string())
}

/// The regular expression an ECR image URI must match (also the template parameter's
/// `AllowedPattern`): `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>` followed by
/// `:<tag>` or `@sha256:<64 hex digits>`.
pub const ECR_IMAGE_URI_PATTERN: &str = r"^\d{12}\.dkr\.ecr\.[a-z]{2}(-[a-z]+)+-\d\.amazonaws\.com(\.cn)?/[a-z0-9]+([._/-][a-z0-9]+)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})$";

/// Whether `uri` has the shape of an ECR image URI (see [`ECR_IMAGE_URI_PATTERN`]).
pub fn is_ecr_image_uri(uri: &str) -> bool {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(ECR_IMAGE_URI_PATTERN).expect("ECR_IMAGE_URI_PATTERN compiles")
    });
    RE.is_match(uri)
}

/// The region of an ECR image URI (`<account>.dkr.ecr.<region>.amazonaws.com/...`). Lambda only
/// runs images from its own region's registry.
pub fn ecr_image_region(uri: &str) -> Option<&str> {
    let host = uri.split('/').next()?;
    let rest = host.split_once(".dkr.ecr.")?.1;
    rest.split_once(".amazonaws.com").map(|(region, _)| region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_region() {
        assert_eq!(
            ecr_image_region("123456789012.dkr.ecr.eu-west-1.amazonaws.com/a:b"),
            Some("eu-west-1")
        );
        assert_eq!(
            ecr_image_region("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/a:b"),
            Some("cn-north-1")
        );
        assert_eq!(ecr_image_region("python:3.13"), None);
    }

    #[test]
    fn ecr_uris() {
        for ok in [
            "123456789012.dkr.ecr.us-west-2.amazonaws.com/snowex-api:latest",
            "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/team/api:v1.2.3",
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(is_ecr_image_uri(ok), "{ok}");
        }
        for bad in [
            "snowex-api:latest",
            "123456789012.dkr.ecr.us-west-2.amazonaws.com/snowex-api",
            "12345.dkr.ecr.us-west-2.amazonaws.com/api:latest",
            "123456789012.dkr.ecr.us-west-2.amazonaws.com/Api:latest",
            "docker.io/library/python:3.13",
            "123456789012.dkr.ecr.us-west-2.amazonaws.com/api@sha256:abc",
        ] {
            assert!(!is_ecr_image_uri(bad), "{bad}");
        }
    }

    #[test]
    fn props_are_checked() {
        let ok = VpcLambdaProps::new(LambdaCode::Image {
            uri: Value::str("123456789012.dkr.ecr.us-west-2.amazonaws.com/api:1"),
        });
        assert_eq!(validate(&ok, 20), Ok(()));
        assert!(validate(&ok, 65).is_err());
        let bad = [
            VpcLambdaProps {
                memory_mb: 64,
                ..ok.clone()
            },
            VpcLambdaProps {
                timeout_seconds: 901,
                ..ok.clone()
            },
            VpcLambdaProps {
                log_retention_days: 10,
                ..ok.clone()
            },
            VpcLambdaProps {
                code: LambdaCode::Image {
                    uri: Value::str("nginx:latest"),
                },
                ..ok.clone()
            },
            VpcLambdaProps {
                code: LambdaCode::Inline {
                    source: "x".into(),
                    runtime: String::new(),
                    handler: "index.handler".into(),
                },
                ..ok.clone()
            },
        ];
        for p in bad {
            assert!(validate(&p, 20).is_err(), "{p:?}");
        }
        // A parameter reference is not checked here (its AllowedPattern is).
        let param = VpcLambdaProps::new(LambdaCode::Image {
            uri: Value::param_ref("LambdaImageUri"),
        });
        assert_eq!(validate(&param, 20), Ok(()));
    }
}
