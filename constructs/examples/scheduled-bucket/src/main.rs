//! The `scheduled-bucket` command: snowcdk's command line (synth, diff, deploy, outputs, destroy,
//! validate, bootstrap) for this app.

use std::process::ExitCode;

fn main() -> ExitCode {
    snowcdk_engine::cli::main(scheduled_bucket::ScheduledBucket)
}
