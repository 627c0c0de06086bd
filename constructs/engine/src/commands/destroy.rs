//! `snowcdk destroy`: delete a deployed stack, showing first what is deleted and what is retained
//! (see `crate::deploy::destroy`).

use std::path::Path;
use std::process::ExitCode;

use crate::app::App;
use crate::config::Config;
use crate::deploy::destroy::{DestroyRequest, destroy_stack};
use crate::deploy::{Console, Timing};

use super::shared::{AwsArgs, Connected, JsonArg, connect, finish, runtime, select_one};

/// `destroy`'s options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The stack, by stack name or stage name (default: the only stage).
    #[arg(value_name = "STACK")]
    pub stack: Option<String>,
    /// The stage whose stack to delete.
    #[arg(long, value_name = "NAME")]
    pub stage: Option<String>,
    /// Profile, region and endpoint of the stack's account.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Delete without asking (required when there is no terminal). A stack with termination
    /// protection still asks for its name to be typed.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// `--json`: the run's result as JSON on stdout.
    #[command(flatten)]
    pub output: JsonArg,
}

/// Loads the config with the app's settings, so a bad config is refused as by every command.
pub fn run<A: App>(config_path: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let config = Config::<A::Settings>::load(config_path)?;
    let (stage, s) = select_one(&config, args.stack.as_ref(), args.stage.as_ref())?;
    let rt = runtime()?;
    rt.block_on(async {
        let mut console = Console::terminal(args.output.json);
        let clients = match connect(&mut console, &args.aws, &s.region, &s.stack_name, stage).await
        {
            Connected::Ready(c) => c,
            Connected::Interrupted(r) => return finish(args.output.json, vec![*r], None),
            Connected::Failed(e) => return finish(args.output.json, Vec::new(), Some(e)),
        };
        let req = DestroyRequest {
            stack_name: s.stack_name.clone(),
            stage: Some(stage.clone()),
            yes: args.yes,
            timing: Timing::default(),
        };
        match destroy_stack(&clients, &req, &mut console).await {
            Ok(r) => finish(args.output.json, vec![r], None),
            Err(e) => finish(args.output.json, Vec::new(), Some(e.into())),
        }
    })
}
