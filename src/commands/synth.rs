//! `snowcdk synth`: build every stage's stack and write the templates and manifest to
//! `templates_out/` (or check that they are current with `--check`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ValueEnum;
use snowcdk_constructs::template::TemplateFormat;

use crate::config::Config;
use crate::{app, exit, writer};

/// Output format of the templates.
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

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this stage (repeatable); all stages by default.
    #[arg(long = "stage", value_name = "NAME")]
    pub stages: Vec<String>,
    /// The output directory.
    #[arg(long, default_value = "templates_out", value_name = "DIR")]
    pub out: PathBuf,
    /// Template format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Write nothing; exit 1 and name what differs when the output directory is stale.
    #[arg(long)]
    pub check: bool,
}

pub fn run(config_path: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let config = Config::load(config_path)?;
    let stacks = app::synth(&config, &args.stages)?;
    for s in &stacks {
        for w in &s.synthesized.warnings {
            eprintln!("warning: {w}");
        }
    }
    let files = writer::render(&stacks, args.format.into());
    if args.check {
        let stale = writer::check(&args.out, &files);
        if stale.is_current() {
            println!("{} is current", args.out.display());
            return Ok(exit::code(exit::OK));
        }
        eprintln!(
            "{} is stale; run `snowcdk synth` and commit the result:",
            args.out.display()
        );
        for l in &stale.lines {
            eprintln!("  {l}");
        }
        return Ok(exit::code(exit::ERROR));
    }
    writer::write_atomic(&args.out, &files)?;
    writer::write_assets(&args.out, &stacks, args.stages.is_empty())?;
    for s in &stacks {
        println!(
            "{}: {} resources -> {}",
            s.synthesized.name,
            s.synthesized.template.resources.len(),
            args.out
                .join(writer::template_file_name(
                    &s.synthesized.name,
                    args.format.into()
                ))
                .display()
        );
    }
    Ok(exit::code(exit::OK))
}
