//! The `snowcdk` command line: parse, dispatch to one module per command, map errors to exit codes.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;

use clap::Parser;

use snowcdk::cli::Cli;
use snowcdk::exit;

fn main() -> ExitCode {
    install_panic_report();
    let cli = Cli::parse();
    match catch_unwind(AssertUnwindSafe(|| snowcdk::commands::run(cli))) {
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
            "error: internal error{at}: {what}; this is a bug in snowcdk, please report it with the command line (RUST_BACKTRACE=1 adds a backtrace)"
        );
        if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
            eprintln!("{}", std::backtrace::Backtrace::force_capture());
        }
    }));
}
