//! `snowcdk diff`: compare what synth produces now with a base and show what will change in
//! AWS, which changes destroy data, and why.
//!
//! The base is, in order: `--deployed` (the deployed stacks' templates, through CloudFormation
//! GetTemplate), `--base DIR` (a directory of templates), `--base REV` (`templates_out/` at a
//! git revision, read with git, no checkout), and by default `templates_out/` at `HEAD`: "what
//! does my working tree change compared with the last commit", which is what a pull request
//! shows too (`--base origin/main`). Outside a git repository the default is `templates_out/` on
//! disk, said on stderr; inside one, git failing is an error, never a quiet fallback to the disk.
//! A base template that cannot be read fails the diff (exit 1) after the other stacks are shown.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ValueEnum;

use crate::app::App;
use crate::config::Config;
use crate::diff::{self, Current, base};
use crate::{app, exit, writer};

/// Output format of the diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// For a terminal.
    #[default]
    Text,
    /// For a pull-request comment.
    Markdown,
    /// For scripts: the full model.
    Json,
}

/// `diff`'s options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this stage (repeatable); all stages by default.
    #[arg(long = "stage", value_name = "NAME")]
    pub stages: Vec<String>,
    /// What to compare with: a directory of templates, or a git revision whose templates
    /// directory is read (e.g. origin/main). Default: HEAD (the templates directory on disk
    /// outside a git repository).
    #[arg(long, value_name = "DIR|GIT_REF", conflicts_with = "deployed")]
    pub base: Option<String>,
    /// Compare with the templates of the deployed stacks (CloudFormation GetTemplate; needs
    /// credentials).
    #[arg(long)]
    pub deployed: bool,
    /// The templates directory, on disk and inside the git revision, relative to the current
    /// directory [default: templates_out/ next to the config file, where synth writes it].
    #[arg(long, value_name = "DIR")]
    pub templates_dir: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 6 when a change removes or replaces a resource that holds data (RDS, secrets,
    /// buckets, log groups, tables, volumes, anything with DeletionPolicy Retain/Snapshot) and
    /// its type is not allowed by --allow-destroy.
    #[arg(long)]
    pub fail_on_destructive: bool,
    /// Resource types whose destruction is accepted (several after one flag, repeated, or
    /// comma-separated; `*` wildcards, e.g. AWS::Logs::*).
    #[arg(
        long = "allow-destroy",
        value_name = "TYPE",
        value_delimiter = ',',
        num_args = 1..
    )]
    pub allow_destroy: Vec<String>,
    /// AWS profile for --deployed.
    #[arg(long, requires = "deployed")]
    pub profile: Option<String>,
    /// Endpoint override for --deployed (a local emulator).
    #[arg(long, requires = "deployed", value_name = "URL")]
    pub endpoint_url: Option<String>,
}

pub fn run<A: App>(app: &A, config_path: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let config = Config::<A::Settings>::load(config_path)?;
    let assembly = app::synth(app, &config, &args.stages)?;
    let stacks = &assembly.stacks;
    let current: Vec<Current> = stacks
        .iter()
        .map(|s| {
            Ok(Current {
                stack: s.stack_name.clone(),
                template: s.document.clone(),
                paths: s.construct_paths(),
            })
        })
        .collect::<anyhow::Result<_>>()?;

    let base = if args.deployed {
        diff::deployed::load(
            stacks,
            args.profile.as_deref(),
            args.endpoint_url.as_deref(),
        )?
    } else {
        // Where synth writes by default (next to the config), read with git run there; or the
        // directory given, relative to the current directory.
        let (repo, dir) = match &args.templates_dir {
            Some(d) => (PathBuf::from("."), d.clone()),
            None => match config_path.parent() {
                Some(p) if !p.as_os_str().is_empty() => {
                    (p.to_owned(), PathBuf::from(writer::DEFAULT_OUT))
                }
                _ => (PathBuf::from("."), PathBuf::from(writer::DEFAULT_OUT)),
            },
        };
        let resolved = base::resolve(args.base.as_deref(), &repo, &dir)?;
        if let Some(fallback) = &resolved.fallback {
            eprintln!("note: {fallback}");
        }
        base::load(&resolved.base)?
    };
    // With --deployed only the synthesized stacks are looked up; with --stage only those.
    let all_stacks = args.stages.is_empty() && !args.deployed;
    let report = diff::diff(&base, &current, all_stacks, &args.allow_destroy);
    let rendered = match args.format {
        Format::Text => diff::render_text::render(&report),
        Format::Markdown => diff::render_markdown::render(&report),
        Format::Json => diff::render_json::render(&report),
    };
    print!("{rendered}");
    let blocking = report.blocking().count();
    if args.fail_on_destructive && blocking > 0 {
        eprintln!(
            "error: {blocking} destructive change{} not allowed; review them, then allow the types with --allow-destroy TYPE",
            if blocking == 1 { "" } else { "s" }
        );
    }
    // A stack that could not be compared fails the diff: its changes are unknown.
    for u in &report.unreadable {
        eprintln!("error: stack {} not compared: {}", u.stack, u.error);
    }
    if !report.unreadable.is_empty() {
        return Ok(exit::code(exit::ERROR));
    }
    if args.fail_on_destructive && blocking > 0 {
        return Ok(exit::code(exit::DESTRUCTIVE));
    }
    Ok(exit::code(exit::OK))
}
