//! `snowcdk drift`: run CloudFormation's drift detection on a deployed stack and show what was
//! changed outside CloudFormation (see `crate::deploy::drift`). Exit 0 in sync,
//! [`exit::DRIFTED`] when drifted, 1 when drift could not be told (also a detection that ended
//! without a verdict), 130 when interrupted.

use std::path::Path;
use std::process::ExitCode;

use crate::app::App;
use crate::config::Config;
use crate::deploy::StackDrift;
use crate::deploy::drift::{DriftError, DriftTiming, detect};
use crate::deploy::{Clients, Console};
use crate::exit;

use super::shared::{AwsArgs, print_json, runtime, select_one};

/// `drift`'s options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The stack, by stack name or stage name (default: the only stage).
    #[arg(value_name = "STACK")]
    pub stack: Option<String>,
    /// The stage whose stack to check.
    #[arg(long, value_name = "NAME")]
    pub stage: Option<String>,
    /// Profile, region and endpoint of the stack's account.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Print the drift report as JSON on stdout (progress stays on stderr).
    #[arg(long)]
    pub json: bool,
}

/// Loads the config with the app's settings, so a bad config is refused as by every command.
pub fn run<A: App>(config_path: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let config = Config::<A::Settings>::load(config_path)?;
    let (_, s) = select_one(&config, args.stack.as_ref(), args.stage.as_ref())?;
    let rt = runtime()?;
    let report = rt.block_on(async {
        // Progress goes to stderr whatever the output: stdout carries the table or the JSON.
        let mut console = Console::terminal(true);
        let clients = Clients::connect(&args.aws.target(&s.region)).await?;
        let report = detect(
            &clients,
            &s.stack_name,
            &mut console,
            &DriftTiming::default(),
        )
        .await;
        if let Err(e @ DriftError::Interrupted { .. }) = &report {
            console.warn(e.to_string());
            return Ok(None);
        }
        anyhow::Ok(Some(report?))
    })?;
    let Some(report) = report else {
        return Ok(exit::code(exit::INTERRUPTED));
    };
    if args.json {
        print_json(&report)?;
    } else {
        let table = report.render_table();
        if !table.is_empty() {
            println!("{table}");
        }
        println!("{}", report.summary());
    }
    if report.is_drifted() {
        return Ok(exit::code(exit::DRIFTED));
    }
    if report.status != StackDrift::InSync {
        anyhow::bail!(
            "CloudFormation did not say whether {} drifted (status {}); run drift again, or look in the CloudFormation console",
            report.stack,
            report.status.as_str()
        );
    }
    Ok(exit::code(exit::OK))
}
