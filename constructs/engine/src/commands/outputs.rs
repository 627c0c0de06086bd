//! `snowcdk outputs`: print a deployed stack's outputs (`KEY = value` lines, or a JSON object
//! of key to value with `--json`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use crate::app::App;
use crate::config::Config;
use crate::deploy::Clients;
use crate::deploy::outcome::OutputValue;
use crate::deploy::stack::describe_stack;
use crate::exit;

use super::shared::{AwsArgs, print_json, runtime, select_one};

/// `outputs`' options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The stack, by stack name or stage name (default: the only stage).
    #[arg(value_name = "STACK")]
    pub stack: Option<String>,
    /// The stage whose stack to read.
    #[arg(long, value_name = "NAME")]
    pub stage: Option<String>,
    /// Profile, region and endpoint of the stack's account.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Print a JSON object of output key to value.
    #[arg(long)]
    pub json: bool,
}

/// The outputs of a deployed stack, or a readable error when it is not deployed.
pub async fn fetch(clients: &Clients, stack: &str) -> anyhow::Result<Vec<OutputValue>> {
    match describe_stack(clients, stack).await {
        Ok(Some(info)) => Ok(info.outputs),
        Ok(None) => anyhow::bail!(
            "stack {stack} does not exist in {}; deploy it first (`{} deploy {stack}`)",
            clients.region,
            crate::app::program_name()
        ),
        Err(e) => Err(e.into()),
    }
}

/// Loads the config with the app's settings, so a bad config is refused as by every command.
pub fn run<A: App>(config_path: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let config = Config::<A::Settings>::load(config_path)?;
    let (_, s) = select_one(&config, args.stack.as_ref(), args.stage.as_ref())?;
    let rt = runtime()?;
    let outputs = rt.block_on(async {
        let clients = Clients::connect(&args.aws.target(&s.region)).await?;
        fetch(&clients, &s.stack_name).await
    })?;
    if args.json {
        let map: BTreeMap<&str, &str> = outputs
            .iter()
            .map(|o| (o.key.as_str(), o.value.as_str()))
            .collect();
        print_json(&map)?;
    } else if outputs.is_empty() {
        eprintln!("{} has no outputs", s.stack_name);
    } else {
        for o in &outputs {
            println!("{} = {}", o.key, o.value);
        }
    }
    Ok(exit::code(exit::OK))
}
