//! `snowcdk snapshot`: a manual DB snapshot of a stage's database (`--stage`) or of any
//! instance (`--db`, also one no stack owns, such as a hand-built one), waited for until it is
//! `available`. Progress goes to stderr; stdout gets the snapshot's ARN alone (or, with
//! `--json`, an object), so a script can capture it for `restore_from_snapshot`.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use crate::app::App;
use crate::config::Config;
use crate::deploy::snapshot::{
    self, SnapshotInfo, WaitEnd, WaitOptions, check_command, default_snapshot_id,
};
use crate::deploy::{Clients, Interrupt};
use crate::exit;

use super::shared::{AwsArgs, print_json, runtime, select_one};

/// `snapshot`'s options.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["stage", "db"])))]
pub struct Args {
    /// Snapshot the AWS::RDS::DBInstance of this stage's deployed stack.
    #[arg(long, value_name = "NAME")]
    pub stage: Option<String>,
    /// Snapshot this DB instance (its identifier), whether a stack owns it or not. The region is
    /// --region, else the config's stages' region.
    #[arg(long, value_name = "ID")]
    pub db: Option<String>,
    /// The snapshot's identifier (default: `<db-id>-<UTC yyyymmdd-hhmmss>`).
    #[arg(long, value_name = "ID")]
    pub snapshot_id: Option<String>,
    /// With --stage: the logical id of the DB instance, when the stack has several.
    #[arg(long, value_name = "LOGICAL_ID", requires = "stage")]
    pub resource: Option<String>,
    /// Stop waiting (an error; the snapshot goes on in AWS) after this many minutes.
    #[arg(long, value_name = "MINUTES", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..=1440))]
    pub max_wait: u64,
    /// Profile, region and endpoint of the instance's account.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Print a JSON object (id, arn, db_instance, status, region) instead of the ARN alone.
    #[arg(long)]
    pub json: bool,
}

/// Where the instance is: a stage's stack, or an identifier in a region.
enum Source {
    Stack { stack: String, region: String },
    Db { id: String, region: String },
}

/// Resolves the source; the config is read only when it is needed (a stage, or `--db` without
/// `--region`), so snapshotting a hand-built instance needs no config.
fn source<A: App>(config_path: &Path, args: &Args) -> anyhow::Result<Source> {
    if let (Some(id), Some(region)) = (&args.db, &args.aws.region) {
        return Ok(Source::Db {
            id: id.clone(),
            region: region.clone(),
        });
    }
    let config = Config::<A::Settings>::load(config_path)?;
    if let Some(id) = &args.db {
        let regions: std::collections::BTreeSet<&str> =
            config.stages.values().map(|s| s.region.as_str()).collect();
        let mut it = regions.iter();
        return match (it.next(), it.next()) {
            (Some(r), None) => Ok(Source::Db {
                id: id.clone(),
                region: (*r).to_owned(),
            }),
            _ => anyhow::bail!(
                "--db {id}: {} names several regions ({}); pass --region",
                config.file.display(),
                regions.into_iter().collect::<Vec<_>>().join(", ")
            ),
        };
    }
    let (_, s) = select_one(&config, None, args.stage.as_ref())?;
    Ok(Source::Stack {
        stack: s.stack_name.clone(),
        region: s.region.clone(),
    })
}

/// Creates the snapshot and waits for it; Ctrl-C stops the wait (exit 130) and says how to check.
pub fn run<A: App>(config_path: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let src = source::<A>(config_path, args)?;
    let region = match &src {
        Source::Stack { region, .. } | Source::Db { region, .. } => region.clone(),
    };
    let rt = runtime()?;
    let end = rt.block_on(async {
        let clients = Clients::connect(&args.aws.target(&region)).await?;
        let db = match &src {
            Source::Db { id, .. } => id.clone(),
            Source::Stack { stack, .. } => {
                snapshot::instance_of_stack(&clients, stack, args.resource.as_deref()).await?
            }
        };
        let id = args
            .snapshot_id
            .clone()
            .unwrap_or_else(|| default_snapshot_id(&db, SystemTime::now()));
        let mut intr = Interrupt::signals();
        let Some(started) = intr.guard(snapshot::create(&clients, &db, &id)).await else {
            anyhow::bail!(
                "interrupted while asking RDS for the snapshot {id} of {db} in {}: it may have started; check with `{}`",
                clients.region,
                check_command(&clients, &id)
            );
        };
        let started = started?;
        eprintln!(
            "snapshot {} of the DB instance {db} in {} started",
            started.id, clients.region
        );
        let opts = WaitOptions {
            max_wait: Duration::from_secs(args.max_wait * 60),
            ..WaitOptions::default()
        };
        let end = snapshot::wait_available(&clients, started, opts, &mut intr, &mut |s| {
            eprintln!("snapshot {}: {}", s.id, s.progress())
        })
        .await?;
        Ok::<_, anyhow::Error>((end, check_command(&clients, &id)))
    });
    let (end, check) = end?;
    match end {
        WaitEnd::Available(s) => {
            print_result(&s, args.json)?;
            Ok(exit::code(exit::OK))
        }
        WaitEnd::Interrupted(s) => {
            eprintln!(
                "interrupted: stopped waiting for the snapshot {} of {} in {} ({}); the snapshot goes on in AWS. Check it with `{check}`",
                s.id,
                s.db_instance,
                s.region,
                s.progress()
            );
            Ok(exit::code(exit::INTERRUPTED))
        }
    }
}

fn print_result(s: &SnapshotInfo, json: bool) -> anyhow::Result<()> {
    if json {
        print_json(s)
    } else {
        println!("{}", s.arn);
        Ok(())
    }
}
