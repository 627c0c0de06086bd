//! `snowcdk tunnel`: a Session Manager port-forwarding tunnel to the database through the bastion,
//! built from the stack's outputs ([`OUTPUT_BASTION_ID`], [`OUTPUT_DB_ADDRESS`], [`OUTPUT_DB_PORT`],
//! defined with the stack in `super::stack`). SnowEx's own command: the generic tool has none.
//!
//! Runs `aws ssm start-session ... --document-name AWS-StartPortForwardingSessionToRemoteHost`,
//! or prints it with `--print`. Needs the AWS CLI and the Session Manager plugin on PATH.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::commands::fetch_outputs as fetch;
use crate::commands::shared::{AwsArgs, runtime, select_one};
use crate::config::Config;
use crate::deploy::Clients;
use crate::deploy::OutputValue;
use crate::exit;

use super::settings::SnowexSettings;
use super::stack::{OUTPUT_BASTION_ID, OUTPUT_DB_ADDRESS, OUTPUT_DB_PORT};

/// The database port when the stack has no [`OUTPUT_DB_PORT`] output.
pub const DEFAULT_DB_PORT: u16 = 5432;

/// `tunnel`'s options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The stack, by stack name or stage name (default: the only stage).
    #[arg(value_name = "STACK")]
    pub stack: Option<String>,
    /// The stage whose database to reach.
    #[arg(long, value_name = "NAME")]
    pub stage: Option<String>,
    /// Profile, region and endpoint to read the stack's outputs with.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The local port to listen on (then `psql -h localhost -p PORT`).
    #[arg(long, value_name = "N", default_value_t = 5432)]
    pub local_port: u16,
    /// Print the command instead of running it.
    #[arg(long)]
    pub print: bool,
}

/// The tunnel's ends, from the stack outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelSpec {
    /// The bastion instance id: the SSM session's target.
    pub bastion: String,
    /// The database endpoint address, reached from the bastion.
    pub db_host: String,
    /// The database port (the stack's output, else [`DEFAULT_DB_PORT`]).
    pub db_port: u16,
}

impl TunnelSpec {
    /// Reads the outputs; names what is missing.
    pub fn from_outputs(stack: &str, outputs: &[OutputValue]) -> anyhow::Result<TunnelSpec> {
        let get = |k: &str| outputs.iter().find(|o| o.key == k).map(|o| o.value.clone());
        let missing: Vec<&str> = [OUTPUT_BASTION_ID, OUTPUT_DB_ADDRESS]
            .into_iter()
            .filter(|k| get(k).is_none())
            .collect();
        if !missing.is_empty() {
            anyhow::bail!(
                "stack {stack} has no output {}; is it a SnowEx stack deployed with a bastion and a database? (`snowcdk outputs {stack}` lists what it has)",
                missing.join(" or ")
            );
        }
        let db_port = match get(OUTPUT_DB_PORT) {
            Some(p) => p.trim().parse().with_context(|| {
                format!("stack {stack}: output {OUTPUT_DB_PORT} {p:?} is not a port")
            })?,
            None => DEFAULT_DB_PORT,
        };
        Ok(TunnelSpec {
            bastion: get(OUTPUT_BASTION_ID).unwrap_or_default(),
            db_host: get(OUTPUT_DB_ADDRESS).unwrap_or_default(),
            db_port,
        })
    }

    /// The `aws` command line (program first).
    pub fn command(&self, local_port: u16, region: &str, aws: &AwsArgs) -> Vec<String> {
        let mut c: Vec<String> = [
            "aws",
            "ssm",
            "start-session",
            "--target",
            &self.bastion,
            "--document-name",
            "AWS-StartPortForwardingSessionToRemoteHost",
            "--parameters",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        c.push(format!(
            "host={},portNumber={},localPortNumber={local_port}",
            self.db_host, self.db_port
        ));
        c.push("--region".into());
        c.push(region.to_owned());
        if let Some(p) = &aws.profile {
            c.push("--profile".into());
            c.push(p.clone());
        }
        c
    }
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn shell_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=,:@".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Finds a program on PATH.
fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Reads the stage's stack outputs and starts an SSM port forward from `localhost:<local_port>`
/// through the bastion to the database (or prints the `aws ssm start-session` command).
pub fn run(config_path: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let config = Config::<SnowexSettings>::load(config_path)?;
    let (_, s) = select_one(&config, args.stack.as_ref(), args.stage.as_ref())?;
    let target = args.aws.target(&s.region);
    let rt = runtime()?;
    let outputs = rt.block_on(async {
        let clients = Clients::connect(&target).await?;
        fetch(&clients, &s.stack_name).await
    })?;
    let spec = TunnelSpec::from_outputs(&s.stack_name, &outputs)?;
    let cmd = spec.command(args.local_port, &target.region, &args.aws);
    let line = cmd
        .iter()
        .map(|w| shell_quote(w))
        .collect::<Vec<_>>()
        .join(" ");
    if args.print {
        println!("{line}");
        return Ok(exit::code(exit::OK));
    }
    if which("aws").is_none() {
        anyhow::bail!(
            "the AWS CLI (`aws`) is not on PATH; install AWS CLI v2 (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html) and the Session Manager plugin, or run `snowcdk tunnel --print` to see the command"
        );
    }
    if which("session-manager-plugin").is_none() {
        anyhow::bail!(
            "the Session Manager plugin (`session-manager-plugin`) is not on PATH; install it (https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html), then run snowcdk tunnel again"
        );
    }
    eprintln!(
        "tunnel: localhost:{} -> {}:{} through {} (Ctrl-C to close)\n  {line}",
        args.local_port, spec.db_host, spec.db_port, spec.bastion
    );
    let status = std::process::Command::new("aws")
        .args(&cmd[1..])
        .status()
        .context("cannot start `aws ssm start-session`")?;
    Ok(match status.code() {
        Some(0) => exit::code(exit::OK),
        _ => exit::code(exit::ERROR),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(k: &str, v: &str) -> OutputValue {
        OutputValue {
            key: k.into(),
            value: v.into(),
            description: None,
            export: None,
        }
    }

    #[test]
    fn command_from_outputs() {
        let outputs = [
            out(OUTPUT_BASTION_ID, "i-0abc"),
            out(OUTPUT_DB_ADDRESS, "db.example.internal"),
            out(OUTPUT_DB_PORT, "5432"),
        ];
        let spec = TunnelSpec::from_outputs("snowex-dev", &outputs).expect("spec");
        let aws = AwsArgs {
            profile: Some("snow".into()),
            ..AwsArgs::default()
        };
        let line = spec
            .command(15432, "us-west-2", &aws)
            .iter()
            .map(|w| shell_quote(w))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(
            line,
            "aws ssm start-session --target i-0abc --document-name AWS-StartPortForwardingSessionToRemoteHost --parameters host=db.example.internal,portNumber=5432,localPortNumber=15432 --region us-west-2 --profile snow"
        );
        let err = TunnelSpec::from_outputs("snowex-dev", &outputs[1..]).expect_err("no bastion");
        assert!(err.to_string().contains("BastionInstanceId"), "{err}");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
