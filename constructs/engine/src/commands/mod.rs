//! One module per command. Commands are thin: they parse options and call the library. They are
//! generic over the [`App`]: none knows an app's types. What several commands share (the AWS
//! flags, stage selection, connecting, ending a run) is in [`shared`], public for an app's own
//! commands. The per-command modules are private: their option types are re-exported here
//! (`SynthArgs`, ...) because [`crate::cli::Command`] carries them.

pub(crate) mod bootstrap;
pub(crate) mod deploy;
pub(crate) mod destroy;
pub(crate) mod diff;
pub(crate) mod drift;
pub(crate) mod outputs;
pub mod shared;
pub(crate) mod snapshot;
pub(crate) mod synth;
pub(crate) mod validate;

pub use bootstrap::Args as BootstrapArgs;
pub use deploy::Args as DeployArgs;
pub use destroy::Args as DestroyArgs;
pub use diff::{Args as DiffArgs, Format as DiffFormat};
pub use drift::Args as DriftArgs;
pub use outputs::{Args as OutputsArgs, fetch as fetch_outputs};
pub use snapshot::Args as SnapshotArgs;
pub use synth::{Args as SynthArgs, Format as SynthFormat};
pub use validate::{
    Args as ValidateArgs, Format as ValidateFormat, StackReport, render_findings,
    render_suppressions,
};

use std::process::ExitCode;

use crate::app::{App, AppCommands};
use crate::cli::{Cli, Command};

/// Runs the parsed command line for `app`.
pub fn run<A: App>(app: &A, cli: Cli<A::Commands>) -> anyhow::Result<ExitCode> {
    let config = cli.config.as_path();
    match &cli.command {
        Command::Synth(args) => synth::run(app, config, args),
        Command::Deploy(args) => deploy::run(app, config, args),
        Command::Diff(args) => diff::run(app, config, args),
        Command::Destroy(args) => destroy::run::<A>(config, args),
        Command::Outputs(args) => outputs::run::<A>(config, args),
        Command::Drift(args) => drift::run::<A>(config, args),
        Command::App(command) => command.run(config),
        Command::Validate(args) => validate::run(app, config, args),
        Command::Bootstrap(args) => bootstrap::run::<A>(config, args),
        Command::Snapshot(args) => snapshot::run::<A>(config, args),
    }
}
