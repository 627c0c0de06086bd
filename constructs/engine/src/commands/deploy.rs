//! `snowcdk deploy`: synthesize in process, then deploy each selected stack through a change set
//! (see `crate::deploy`). The options and helpers it shares with the other commands are in
//! [`super::shared`].

use std::path::Path;
use std::process::ExitCode;

use crate::app::App;
use crate::config::Config;
use crate::deploy::{
    ApprovalPolicy, Console, DeployRequest, RequireApproval, Timing, deploy_stack,
};
use crate::{app, exit};

use super::shared::{AwsArgs, parse_parameter, parse_resource_type, runtime};
use super::shared::{Connected, JsonArg, connect, finish, interrupted_early, select_stages};

/// `deploy`'s options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stacks to deploy, by stack name or stage name (default: the only stage; with several
    /// stages, name one: deploying every stage at once is never the default).
    #[arg(value_name = "STACK")]
    pub stacks: Vec<String>,
    /// Deploy this stage (repeatable).
    #[arg(long = "stage", value_name = "NAME")]
    pub stages: Vec<String>,
    /// Profile, region and endpoint to deploy with.
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
    /// Create a change set even when the template and every parameter equal the deployed
    /// stack's (by default that is reported as "no changes" without one).
    #[arg(long)]
    pub force: bool,
    /// Look pinned parameters up again (the bastion's AMI: the latest Amazon Linux release
    /// replaces the instance). Without it they keep their deployed value.
    #[arg(long, alias = "refresh-ami")]
    pub refresh_pinned: bool,
    /// Skip the read-only checks before the change set (the image exists in ECR for the
    /// function's architecture, the database's engine version and class are offered): for
    /// emergencies only, e.g. when a describe API is down or the role may not call it.
    #[arg(long)]
    pub skip_preflight: bool,
    /// Let a database's engine go to a new major version (e.g. PostgreSQL 16 -> 17): snapshot
    /// first. The template sent then sets AllowMajorVersionUpgrade on that database.
    #[arg(long)]
    pub allow_major_upgrade: bool,
    /// Run a fresh drift detection before showing the changes, and warn about each drifted
    /// resource the change set modifies (without it, the stack's last detection is used, when
    /// there is one).
    #[arg(long)]
    pub check_drift: bool,
    /// Allow removing or replacing stateful resources of this type, e.g. AWS::RDS::DBInstance
    /// (repeatable). You are still asked unless --yes is given too.
    #[arg(long, value_name = "TYPE", value_parser = parse_resource_type)]
    pub allow_replacement: Vec<String>,
    /// A template parameter value (repeatable). Wins over everything; a parameter not given gets
    /// its template default when that default changed since the last deploy, else keeps its
    /// deployed value.
    #[arg(long = "parameters", value_name = "KEY=VALUE", value_parser = parse_parameter)]
    pub parameters: Vec<(String, String)>,
    /// `--json`: the run's result as JSON on stdout.
    #[command(flatten)]
    pub output: JsonArg,
}

pub fn run<A: App>(app: &A, config_path: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let config = Config::<A::Settings>::load(config_path)?;
    let selected = select_stages(&config, &args.stacks, &args.stages)?;
    let stage_names: Vec<String> = selected.iter().map(|(n, _)| (*n).clone()).collect();
    let assembly = app::synth(app, &config, &stage_names)?;
    let rt = runtime()?;
    rt.block_on(async {
        let mut console = Console::terminal(args.output.json);
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
                force: args.force,
                refresh_pinned: args.refresh_pinned,
                timing: Timing::default(),
                termination_protection: s.termination_protection,
                skip_preflight: args.skip_preflight,
                allow_major_upgrade: args.allow_major_upgrade,
                check_drift: args.check_drift,
            };
            let connected = connect(
                &mut console,
                &args.aws,
                &s.environment.region,
                &s.stack_name,
                &s.stage,
            )
            .await;
            let clients = match connected {
                Connected::Ready(c) => c,
                Connected::Interrupted(r) => {
                    results.push(*r);
                    break;
                }
                Connected::Failed(e) => {
                    error = Some(e);
                    break;
                }
            };
            let mut intr = console.interrupt().clone();
            // The account first: nothing (not even an asset upload) goes to another account.
            let account = intr
                .guard(crate::deploy::check_account(
                    &clients,
                    &s.stage,
                    s.environment.account.as_deref(),
                ))
                .await;
            match account {
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
                Some(Err(e)) => {
                    error = Some(e.into());
                    break;
                }
                Some(Ok(())) => {}
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
        finish(args.output.json, results, error)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
