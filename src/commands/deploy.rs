//! `snowcdk deploy` (being built; see the issue tracker).

use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_config_path: &Path, _args: &Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`snowcdk deploy` is not implemented yet")
}
