//! The command-line surface: global options, one subcommand per module in `commands/`, and the
//! app's own subcommands; [`main`] runs it all for one app.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::app::App;
use crate::{commands, exit};

/// Typed Rust constructs for AWS, synthesized to CloudFormation and deployed through change sets.
///
/// Exit codes: 0 success (also "no changes"), 1 error, 2 bad usage, 3 refused by a guard,
/// 4 CloudFormation failed, 5 update rolled back, 6 destructive change found by `diff`,
/// 7 drift found by `drift`.
#[derive(Debug, Parser)]
#[command(name = "snowcdk", version, about, long_about = None)]
pub struct Cli<E: Subcommand> {
    /// The stage config file.
    #[arg(
        long,
        global = true,
        default_value = "snowcdk.toml",
        env = "SNOWCDK_CONFIG"
    )]
    pub config: PathBuf,

    /// What to run.
    #[command(subcommand)]
    pub command: Command<E>,
}

/// The generic commands, and the app's (`E`) among them.
#[derive(Debug, Subcommand)]
pub enum Command<E: Subcommand> {
    /// Synthesize the stacks to CloudFormation templates in templates_out/.
    Synth(commands::synth::Args),
    /// Deploy stacks through CloudFormation change sets: show, approve, execute, watch.
    Deploy(commands::deploy::Args),
    /// Compare what synth produces now with a base (directory, git ref, or the deployed stack).
    Diff(commands::diff::Args),
    /// Delete a deployed stack, showing what is deleted and what is retained.
    Destroy(commands::destroy::Args),
    /// Print a deployed stack's outputs.
    Outputs(commands::outputs::Args),
    /// Detect what was changed on a deployed stack's resources outside CloudFormation.
    Drift(commands::drift::Args),
    /// The app's own commands (SnowEx: `tunnel`).
    #[command(flatten)]
    App(E),
    /// Run the built-in security and hygiene rules over the synthesized templates.
    Validate(commands::validate::Args),
    /// Deploy the asset staging stack (S3 bucket) for an account and region.
    Bootstrap(commands::bootstrap::Args),
    /// Take a manual snapshot of a stage's database or of any DB instance; prints its ARN.
    Snapshot(commands::snapshot::Args),
}

/// The whole `snowcdk` program for one app: parse the command line, run the command, map errors
/// to exit codes. An app's `main` is `fn main() -> ExitCode { snowcdk_engine::cli::main(MyApp) }`.
pub fn main<A: App>(app: A) -> ExitCode {
    install_panic_report();
    let id = app.identity();
    crate::app::set_program_name(id.name);
    let command = Cli::<A::Commands>::command()
        .name(id.name)
        .version(id.version)
        .about(id.about);
    let cli =
        Cli::<A::Commands>::from_arg_matches(&command.get_matches()).unwrap_or_else(|e| e.exit());
    match catch_unwind(AssertUnwindSafe(|| commands::run(&app, cli))) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            eprintln!("error: {e:#}");
            exit::code(exit::ERROR)
        }
        // The panic hook has printed the one-line report.
        Err(_) => exit::code(exit::ERROR),
    }
}

/// A panic is a bug, never the user's input: instead of a backtrace dump (exit 101), one line
/// that says so and where, then exit 1. `RUST_BACKTRACE=1` still adds the backtrace.
fn install_panic_report() {
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        let what = what.split_whitespace().collect::<Vec<_>>().join(" ");
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: internal error{at}: {what}; this is a bug in {}, please report it with the command line (RUST_BACKTRACE=1 adds a backtrace)",
            crate::app::program_name()
        );
        if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
            eprintln!("{}", std::backtrace::Backtrace::force_capture());
        }
    }));
}
