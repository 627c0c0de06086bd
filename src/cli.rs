//! The command-line surface: global options and one subcommand per module in `commands/`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::commands;

/// Typed Rust constructs for AWS, synthesized to CloudFormation and deployed through change sets.
///
/// Exit codes: 0 success (also "no changes"), 1 error, 2 bad usage, 3 refused by a guard,
/// 4 CloudFormation failed, 5 update rolled back, 6 destructive change found by `diff`.
#[derive(Debug, Parser)]
#[command(name = "snowcdk", version, about, long_about = None)]
pub struct Cli {
    /// The stage config file.
    #[arg(
        long,
        global = true,
        default_value = "snowcdk.toml",
        env = "SNOWCDK_CONFIG"
    )]
    pub config: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
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
    /// Open a Session Manager port-forwarding tunnel to the database through the bastion.
    Tunnel(commands::tunnel::Args),
    /// Run the built-in security and hygiene rules over the synthesized templates.
    Validate(commands::validate::Args),
    /// Deploy the asset staging stack (S3 bucket) for an account and region.
    Bootstrap(commands::bootstrap::Args),
}
