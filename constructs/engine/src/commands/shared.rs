//! What the commands share: the AWS flags ([`AwsArgs`], flattened into every command that talks
//! to AWS, so they are defined once), stage selection, the runtime, connecting with the account
//! announced ([`connect`]), and how a command ends ([`finish`]). Commands import from here, not
//! from each other.

use std::collections::BTreeSet;
use std::process::ExitCode;

use anyhow::Context;

use crate::config::{Config, StageConfig};
use crate::deploy::{AwsTarget, Clients, Console, RunResult, StackResult, Status, announce};
use crate::exit;

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

/// `--json` for the commands whose result is a [`RunResult`] (`deploy`, `destroy`, `bootstrap`):
/// one definition, one help text.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct JsonArg {
    /// Print a machine-readable result on stdout (human text goes to stderr).
    #[arg(long)]
    pub json: bool,
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

/// How [`connect`] ended.
pub enum Connected {
    /// Connected, and the account announced: go on.
    Ready(Clients),
    /// A signal came while checking the account: nothing was changed; report this result.
    Interrupted(Box<StackResult>),
    /// Connecting or checking the account failed.
    Failed(anyhow::Error),
}

/// Connects to the stage's account and region and announces the account (and checks it, see
/// [`announce`]); a signal while doing so ends the stack's run with nothing changed. The start
/// of `deploy`, `destroy` and `bootstrap`.
pub async fn connect(
    console: &mut Console,
    aws: &AwsArgs,
    region: &str,
    stack: &str,
    stage: &str,
) -> Connected {
    let clients = match Clients::connect(&aws.target(region)).await {
        Ok(c) => c,
        Err(e) => return Connected::Failed(e.into()),
    };
    let mut intr = console.interrupt().clone();
    match intr.guard(announce(&clients, console)).await {
        Some(Ok(_)) => Connected::Ready(clients),
        Some(Err(e)) => Connected::Failed(e.into()),
        None => Connected::Interrupted(Box::new(interrupted_early(
            console, &clients, stack, stage, &intr,
        ))),
    }
}

/// The result of a run interrupted before any change set was made (while checking the account
/// or uploading assets): nothing was changed in CloudFormation.
pub fn interrupted_early(
    console: &mut Console,
    clients: &Clients,
    stack: &str,
    stage: &str,
    intr: &crate::deploy::ui::Interrupt,
) -> StackResult {
    let msg = format!(
        "{} before a change set was made: nothing was changed on {stack}",
        intr.signal().unwrap_or("interrupted")
    );
    console.warn(&msg);
    StackResult::new(stack, Some(stage), &clients.region).finish(Status::Interrupted, Some(msg))
}

/// Ends a command: prints the JSON document when asked, and returns the exit code (or the error,
/// which `main` prints as one line).
pub fn finish(
    json: bool,
    results: Vec<StackResult>,
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

/// Parses `--allow-replacement TYPE`: a full resource type such as `AWS::RDS::DBInstance`, no
/// wildcards (a command that replaces a database must name it).
pub fn parse_resource_type(s: &str) -> Result<String, String> {
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

/// Parses `--parameters KEY=VALUE`.
pub fn parse_parameter(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("{s:?} is not KEY=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

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
}
