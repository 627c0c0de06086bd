//! Exit codes, one per outcome a script or CI job may want to branch on. Documented in the README.

use std::process::ExitCode;

/// Success: synthesized, deployed, destroyed, or nothing to change.
pub const OK: u8 = 0;
/// An error: bad config, synth errors, unreachable endpoint, missing credentials,
/// `synth --check` found stale templates.
pub const ERROR: u8 = 1;
/// Bad command line (clap's own code).
pub const USAGE: u8 = 2;
/// A guard refused: a destructive change without `--allow-replacement`, no approval in a
/// non-interactive run, a stack already busy. Nothing was changed.
pub const REFUSED: u8 = 3;
/// CloudFormation failed and the stack is not usable as it was (a failed create, DELETE_FAILED).
pub const FAILED: u8 = 4;
/// An update failed and CloudFormation rolled the stack back to its previous state.
pub const ROLLED_BACK: u8 = 5;
/// `diff --fail-on-destructive` found a destructive change that is not allowed.
pub const DESTRUCTIVE: u8 = 6;
/// `drift` found resources modified or deleted outside CloudFormation.
pub const DRIFTED: u8 = 7;

/// Interrupted by Ctrl-C, SIGTERM or SIGHUP (128 + SIGINT, as a shell reports Ctrl-C). Before
/// `ExecuteChangeSet` nothing was executed; after it the operation goes on in CloudFormation. The
/// message says which, and how to follow or roll it back. `synth`: nothing was changed.
pub const INTERRUPTED: u8 = 130;

/// Converts one of the constants above into a process exit code.
pub fn code(c: u8) -> ExitCode {
    ExitCode::from(c)
}
