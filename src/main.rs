//! The `snowcdk` command line for the SnowEx app: the generic tool run with [`SnowEx`].

use std::process::ExitCode;

use snowcdk::snowex::SnowEx;

fn main() -> ExitCode {
    snowcdk::cli::main(SnowEx)
}
