//! The `snowcdk` command line: parse, dispatch to one module per command, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;

use snowcdk::cli::Cli;
use snowcdk::exit;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match snowcdk::commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            exit::code(exit::ERROR)
        }
    }
}
