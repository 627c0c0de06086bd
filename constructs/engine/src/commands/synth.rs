//! `snowcdk synth`: build every stage's stack and write the templates, `manifest.json` and
//! asset zips to `templates_out/` next to the config (or check that they are current with
//! `--check`). What synth may write where, and how, is the [`writer`]'s business.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::ValueEnum;
use snowcdk_constructs::template::TemplateFormat;

use crate::app::App;
use crate::config::{Config, Settings};
use crate::writer::{self, Protected, WriteError};
use crate::{app, exit};

/// Output format of the templates: `Json` (`<stack>.template.json`, the bytes deploy sends) or
/// `Yaml` (`<stack>.template.yaml`, the same template for reading).
// Doc comments on the variants would become clap's possible-value help and change `--help`.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Json,
    Yaml,
}

impl From<Format> for TemplateFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Json => TemplateFormat::Json,
            Format::Yaml => TemplateFormat::Yaml,
        }
    }
}

/// `synth`'s options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this stage (repeatable); all stages by default. Only its files and manifest entries
    /// are rewritten.
    #[arg(long = "stage", value_name = "NAME")]
    pub stages: Vec<String>,
    /// The output directory [default: templates_out/ next to the config file].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Template format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Write nothing; exit 1 and name what differs when the output directory is stale.
    #[arg(long)]
    pub check: bool,
}

/// The directories synth output must stay clear of, for this config.
fn protected<S: Settings>(config: &Config<S>, config_path: &Path) -> anyhow::Result<Protected> {
    let cwd = std::env::current_dir()
        .map_err(|e| anyhow::anyhow!("cannot read the current directory: {e}"))?;
    let config_dir = config_path.parent().unwrap_or_else(|| Path::new(""));
    Ok(Protected {
        cwd,
        config_file: config_path.to_owned(),
        code_paths: config
            .settings
            .values()
            .flat_map(Settings::source_paths)
            .map(|p| config_dir.join(p))
            .collect(),
    })
}

/// Sets the flag on Ctrl-C, SIGTERM and SIGHUP, so the writer can clean up and stop before it
/// changes anything (instead of the process dying with temporary files behind).
fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let mut signals = vec![signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM];
    #[cfg(unix)]
    signals.push(signal_hook::consts::SIGHUP);
    for s in signals {
        // If a handler cannot be installed the signal keeps its default action, which is
        // still safe: nothing is visible until the renames.
        let _ = signal_hook::flag::register(s, Arc::clone(&flag));
    }
    flag
}

pub fn run<A: App>(app: &A, config_path: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let config = Config::<A::Settings>::load(config_path)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| writer::default_output_dir(config_path));
    let format: TemplateFormat = args.format.into();
    if !args.check {
        // Refused before the (possibly slow) build, and before anything is touched.
        writer::check_output_dir(&out, &protected(&config, config_path)?)?;
    }
    let assembly = app::synth(app, &config, &args.stages)?;
    let stacks = &assembly.stacks;
    for s in stacks {
        for w in &s.warnings {
            eprintln!("warning: {w}");
        }
    }
    if args.check {
        let stale = writer::check(&out, stacks, format, &args.stages)?;
        if stale.is_current() {
            println!("{} is current", out.display());
            return Ok(exit::code(exit::OK));
        }
        eprintln!(
            "{} is stale; run `{} synth` and commit the result:",
            out.display(),
            crate::app::program_name()
        );
        for l in &stale.lines {
            eprintln!("  {l}");
        }
        return Ok(exit::code(exit::ERROR));
    }
    let interrupt = interrupt_flag();
    let waiting = || {
        eprintln!(
            "waiting for another {} synth writing {} to finish...",
            crate::app::program_name(),
            out.display()
        )
    };
    let report = match writer::write(&out, stacks, format, &args.stages, &interrupt, &waiting) {
        Ok((_, report)) => report,
        Err(e @ WriteError::Interrupted { .. }) => {
            eprintln!("error: {e}");
            return Ok(exit::code(exit::INTERRUPTED));
        }
        Err(e) => return Err(e.into()),
    };
    for p in &report.cleaned {
        eprintln!("removed {} (left by an interrupted synth)", p.display());
    }
    for n in &report.notes {
        eprintln!("note: {n}");
    }
    for f in &report.removed {
        eprintln!("removed {} (no longer synthesized)", out.join(f).display());
    }
    for s in stacks {
        println!(
            "{}: {} resources -> {}",
            s.stack_name,
            s.facts.resources.len(),
            out.join(writer::template_file_name(&s.stack_name, format))
                .display()
        );
    }
    Ok(exit::code(exit::OK))
}
