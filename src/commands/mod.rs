//! One module per command. Commands are thin: they parse options and call the library.

pub mod bootstrap;
pub mod deploy;
pub mod destroy;
pub mod diff;
pub mod outputs;
pub mod synth;
pub mod tunnel;
pub mod validate;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = cli.config.as_path();
    match &cli.command {
        Command::Synth(args) => synth::run(config, args),
        Command::Deploy(args) => deploy::run(config, args),
        Command::Diff(args) => diff::run(config, args),
        Command::Destroy(args) => destroy::run(config, args),
        Command::Outputs(args) => outputs::run(config, args),
        Command::Tunnel(args) => tunnel::run(config, args),
        Command::Validate(args) => validate::run(config, args),
        Command::Bootstrap(args) => bootstrap::run(config, args),
    }
}
