//! `snowcdk deploy`: synthesize in process, then deploy each selected stack through a change set
//! (see `crate::deploy`). Also the options and helpers shared by `destroy`, `outputs` and `tunnel`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::app::App;
use crate::config::{Config, StageConfig};
use crate::deploy::{
    ApprovalPolicy, AwsTarget, Clients, Console, DeployRequest, RequireApproval, RunResult, Timing,
    announce, deploy_stack,
};
use crate::{app, exit};

/// Where the AWS calls go: shared by every command that talks to AWS.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AwsArgs {
    /// A named profile from ~/.aws/config (default: the SDK's default chain: env, profiles, SSO,
    /// instance roles).
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// The region (default: the stage's `region` in the config).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Send every AWS call to this endpoint (a local emulator); AWS_ENDPOINT_URL works too.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Give up on an AWS request that has not been answered after this many seconds (retries
    /// included). A note names the request after 10 s.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, env = "SNOWCDK_TIMEOUT", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

impl AwsArgs {
    /// The target for a stage in `region` (`--region` overrides it).
    pub fn target(&self, region: &str) -> AwsTarget {
        AwsTarget {
            profile: self.profile.clone(),
            region: self.region.clone().unwrap_or_else(|| region.to_owned()),
            endpoint_url: self.endpoint_url.clone(),
            timeout: Some(std::time::Duration::from_secs(self.timeout)),
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stacks to deploy, by stack name or stage name (default: the only stage; with several
    /// stages, name one: deploying every stage at once is never the default).
    #[arg(value_name = "STACK")]
    pub stacks: Vec<String>,
    /// Deploy this stage (repeatable).
    #[arg(long = "stage", value_name = "NAME")]
    pub stages: Vec<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Approve without asking. Destructive changes still need --allow-replacement for their type.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// When to ask before executing (destructive changes always ask).
    #[arg(long, value_enum, default_value_t = RequireApproval::Broadening, conflicts_with = "yes")]
    pub require_approval: RequireApproval,
    /// Create the change set, show it, and leave it for review without executing it.
    #[arg(long)]
    pub no_execute: bool,
    /// Allow removing or replacing stateful resources of this type, e.g. AWS::RDS::DBInstance
    /// (repeatable). You are still asked unless --yes is given too.
    #[arg(long, value_name = "TYPE", value_parser = parse_resource_type)]
    pub allow_replacement: Vec<String>,
    /// A template parameter value (repeatable). Parameters not given keep their deployed value.
    #[arg(long = "parameters", value_name = "KEY=VALUE", value_parser = parse_parameter)]
    pub parameters: Vec<(String, String)>,
    /// Print a machine-readable result on stdout (human text goes to stderr).
    #[arg(long)]
    pub json: bool,
}

fn parse_resource_type(s: &str) -> Result<String, String> {
    let parts: Vec<&str> = s.split("::").collect();
    if parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "{s:?} is not a resource type such as AWS::RDS::DBInstance (wildcards are not accepted)"
        ))
    }
}

fn parse_parameter(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("{s:?} is not KEY=VALUE")),
    }
}

/// Resolves `[STACK...]` and `--stage` to stages. With neither, the only stage; several stages
/// need a choice.
pub fn select_stages<'c, S>(
    config: &'c Config<S>,
    names: &[String],
    stages: &[String],
) -> anyhow::Result<Vec<(&'c String, &'c StageConfig)>> {
    let mut wanted: BTreeSet<&String> = BTreeSet::new();
    for s in stages {
        config.stage(s)?;
        wanted.insert(config.stages.get_key_value(s).map(|(k, _)| k).unwrap_or(s));
    }
    for n in names {
        let hit = config
            .stages
            .iter()
            .find(|(stage, s)| *stage == n || s.stack_name == *n)
            .map(|(stage, _)| stage);
        match hit {
            Some(stage) => {
                wanted.insert(stage);
            }
            None => anyhow::bail!(
                "{}: no stack or stage named {n}; the stacks are: {}",
                config.file.display(),
                describe_stages(config)
            ),
        }
    }
    if wanted.is_empty() {
        if config.stages.len() == 1 {
            return Ok(config.stages.iter().collect());
        }
        anyhow::bail!(
            "{} has several stages; name the stack or pass --stage: {}",
            config.file.display(),
            describe_stages(config)
        );
    }
    Ok(config
        .stages
        .iter()
        .filter(|(name, _)| wanted.contains(name))
        .collect())
}

/// Exactly one stage, for commands that act on one stack.
pub fn select_one<'c, S>(
    config: &'c Config<S>,
    stack: Option<&String>,
    stage: Option<&String>,
) -> anyhow::Result<(&'c String, &'c StageConfig)> {
    let names: Vec<String> = stack.cloned().into_iter().collect();
    let stages: Vec<String> = stage.cloned().into_iter().collect();
    let mut sel = select_stages(config, &names, &stages)?;
    if sel.len() != 1 {
        anyhow::bail!(
            "the stack name and --stage name different stacks; pass one of them: {}",
            describe_stages(config)
        );
    }
    Ok(sel.remove(0))
}

fn describe_stages<S>(config: &Config<S>) -> String {
    config
        .stages
        .iter()
        .map(|(stage, s)| format!("{} (stage {stage})", s.stack_name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A tokio runtime for one command (current thread: the work is sequential I/O).
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Prints the `--json` document on stdout.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!(
        "{}",
        serde_json::to_string_pretty(value).context("cannot encode the JSON result")?
    );
    Ok(())
}

pub fn run<A: App>(app: &A, config_path: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let config = Config::<A::Settings>::load(config_path)?;
    let selected = select_stages(&config, &args.stacks, &args.stages)?;
    let stage_names: Vec<String> = selected.iter().map(|(n, _)| (*n).clone()).collect();
    let assembly = app::synth(app, &config, &stage_names)?;
    let rt = runtime()?;
    rt.block_on(async {
        let mut console = Console::terminal(args.json);
        let mut results = Vec::new();
        let mut error: Option<anyhow::Error> = None;
        for s in &assembly.stacks {
            for w in &s.warnings {
                console.warn(format!("warning: {w}"));
            }
            let mut req = DeployRequest {
                stack_name: s.stack_name.clone(),
                stage: Some(s.stage.clone()),
                template_body: s.body.clone(),
                facts: Some(s.facts.clone()),
                parameters: args.parameters.clone(),
                staging_bucket: s.staging_bucket.clone(),
                account: s.environment.account.clone(),
                approval: ApprovalPolicy {
                    require: args.require_approval,
                    yes: args.yes,
                    allow_replacement: args.allow_replacement.iter().cloned().collect(),
                },
                no_execute: args.no_execute,
                timing: Timing::default(),
            };
            let clients = match Clients::connect(&args.aws.target(&s.environment.region)).await {
                Ok(c) => c,
                Err(e) => {
                    error = Some(e.into());
                    break;
                }
            };
            let mut intr = console.interrupt().clone();
            match intr.guard(announce(&clients, &mut console)).await {
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    error = Some(e.into());
                    break;
                }
                None => {
                    results.push(interrupted_early(
                        &mut console,
                        &clients,
                        &s.stack_name,
                        &s.stage,
                        &intr,
                    ));
                    break;
                }
            }
            // Assets (Lambda code packaged by synth) go up first, once each (HEAD by key); the
            // same bucket takes templates over the inline limit.
            let staged = intr
                .guard(crate::deploy::staging::stage_for_deploy(
                    &clients,
                    s.staging_bucket.as_deref(),
                    None,
                    &s.assets,
                    s.body.len(),
                ))
                .await;
            let Some(staged) = staged else {
                results.push(interrupted_early(
                    &mut console,
                    &clients,
                    &s.stack_name,
                    &s.stage,
                    &intr,
                ));
                break;
            };
            match staged {
                Ok(staged) => {
                    if let Some(r) = &staged.report {
                        console.line(r.summary());
                    }
                    req.staging_bucket = staged.bucket;
                }
                Err(e) => {
                    error = Some(e.into());
                    break;
                }
            }
            match deploy_stack(&clients, &req, &mut console).await {
                Ok(r) => {
                    let ok = r.exit_code == exit::OK;
                    results.push(r);
                    if !ok {
                        break;
                    }
                }
                Err(e) => {
                    error = Some(e.into());
                    break;
                }
            }
        }
        finish(args.json, results, error)
    })
}

/// The result of a run interrupted before any change set was made (while checking the account
/// or uploading assets): nothing was changed in CloudFormation.
pub fn interrupted_early(
    console: &mut Console,
    clients: &Clients,
    stack: &str,
    stage: &str,
    intr: &crate::deploy::ui::Interrupt,
) -> crate::deploy::StackResult {
    let msg = format!(
        "{} before a change set was made: nothing was changed on {stack}",
        intr.signal().unwrap_or("interrupted")
    );
    console.warn(&msg);
    crate::deploy::StackResult::new(stack, Some(stage), &clients.region)
        .finish(crate::deploy::Status::Interrupted, Some(msg))
}

/// Ends a command: prints the JSON document when asked, and returns the exit code (or the error,
/// which `main` prints as one line).
pub fn finish(
    json: bool,
    results: Vec<crate::deploy::StackResult>,
    error: Option<anyhow::Error>,
) -> anyhow::Result<ExitCode> {
    let mut run = RunResult::from_stacks(results);
    if let Some(e) = &error {
        run.exit_code = exit::ERROR;
        run.error = Some(format!("{e:#}"));
    }
    if json {
        print_json(&run)?;
    }
    match error {
        Some(e) => Err(e),
        None => Ok(exit::code(run.exit_code)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The repository's own config: stages dev (snowex-dev) and prod (snowex-prod); only the
    /// generic fields matter here, so the app's sections are taken as they are.
    fn config() -> Config<toml::Table> {
        Config::parse(
            Path::new("snowcdk.toml"),
            include_str!("../../../../snowcdk.toml"),
        )
        .expect("config")
    }

    #[test]
    fn several_stages_need_a_choice() {
        let c = config();
        let err = select_stages(&c, &[], &[]).expect_err("ambiguous");
        assert!(
            err.to_string().contains("snowex-prod (stage prod)"),
            "{err}"
        );
        let by_stack = select_stages(&c, &["snowex-prod".into()], &[]).expect("by stack");
        assert_eq!(by_stack[0].0, "prod");
        let by_stage = select_stages(&c, &[], &["dev".into()]).expect("by stage");
        assert_eq!(by_stage[0].1.stack_name, "snowex-dev");
        assert!(select_stages(&c, &["nope".into()], &[]).is_err());
        assert!(select_one(&c, Some(&"dev".into()), Some(&"prod".into())).is_err());
    }

    #[test]
    fn flags_are_typed() {
        assert!(parse_resource_type("AWS::RDS::DBInstance").is_ok());
        assert!(parse_resource_type("AWS::RDS::*").is_err());
        assert!(parse_resource_type("rds").is_err());
        assert_eq!(
            parse_parameter("K=a=b"),
            Ok(("K".to_owned(), "a=b".to_owned()))
        );
        assert!(parse_parameter("=v").is_err());
    }
}
