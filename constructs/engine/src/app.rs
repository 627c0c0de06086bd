//! What the generic tool asks of an app: the [`App`] trait. The tool (commands, deploy engine,
//! diff, writer, assets, the stage config's generic fields) knows no app's types; an app brings
//! its settings type (its part of each stage table), the stack it builds for a stage, and
//! optionally commands of its own.
//!
//! SnowEx is one app (the `snowcdk` crate's `snowex` module); `constructs/examples/scheduled-bucket`
//! is another.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::OnceLock;

use snowcdk_constructs::tree::{App as TreeApp, Stack};
use snowcdk_constructs::{SynthError, SynthErrors, SynthesizedStack};

use crate::assembly::{Assembly, AssemblyStack, Environment};
use crate::assets::PackagedAsset;
use crate::config::{self, Config, Project, Settings, StageConfig};

/// An app built on snowcdk: its settings and its stack.
pub trait App {
    /// The app's part of a stage table (`[stages.<name>.*]` besides the generic fields),
    /// deserialized strictly and checked by [`Settings::validate`].
    type Settings: Settings;
    /// Extra subcommands (SnowEx's `tunnel`); [`NoCommands`] for none.
    type Commands: AppCommands;

    /// Builds one stage's stack. Start from [`StageContext::new_stack`] (the stack name and the
    /// tags every stack carries); return the stack and the assets (code packaged from local
    /// paths, see `crate::assets::lambda_code_from_path`) it references.
    fn build(
        &self,
        ctx: &StageContext<'_>,
        settings: &Self::Settings,
    ) -> Result<(Stack, Vec<PackagedAsset>), SynthError>;

    /// How the program introduces itself in `--help` and `--version`: the app's crate, not the
    /// engine's. Write `snowcdk_engine::identity!()`, which reads the app's own `Cargo.toml`.
    fn identity(&self) -> Identity;
}

/// The name, version and one-line description `--help` and `--version` show. They belong to the
/// app's crate: the engine is a library, and its own package description would misname the tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// The program's name (`snowcdk 0.1.0` in `--version`).
    pub name: &'static str,
    /// The version `--version` prints.
    pub version: &'static str,
    /// The one-line description at the top of `--help`.
    pub about: &'static str,
}

/// The [`Identity`] of the crate this is written in: its package name, version and description.
#[macro_export]
macro_rules! identity {
    () => {
        $crate::app::Identity {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
            about: env!("CARGO_PKG_DESCRIPTION"),
        }
    };
}

/// The running program's name, set once by [`crate::cli::main`].
static PROGRAM_NAME: OnceLock<&'static str> = OnceLock::new();

/// The name the user runs this program by (the app's [`Identity::name`]), for hints that tell
/// them what to run next: "run `scheduled-bucket synth`", not another app's `snowcdk synth`.
/// Before [`set_program_name`] (the engine used as a library, its tests) it is `snowcdk`.
pub fn program_name() -> &'static str {
    PROGRAM_NAME.get().copied().unwrap_or("snowcdk")
}

/// Sets the name [`program_name`] returns, once per process; later calls are ignored, so the
/// name a hint prints cannot change halfway through a run. [`crate::cli::main`] calls it with
/// the app's [`Identity::name`]; an app with its own `main` calls it first.
pub fn set_program_name(name: &'static str) {
    let _ = PROGRAM_NAME.set(name);
}

/// An app's own subcommands: a clap `Subcommand` enum that runs itself.
pub trait AppCommands: clap::Subcommand + fmt::Debug {
    /// Runs the command with the `--config` path the user gave.
    fn run(&self, config_path: &Path) -> anyhow::Result<ExitCode>;
}

/// No extra subcommands.
#[derive(Debug, Clone, Copy, clap::Subcommand)]
pub enum NoCommands {}

impl AppCommands for NoCommands {
    fn run(&self, _config_path: &Path) -> anyhow::Result<ExitCode> {
        match *self {}
    }
}

/// What an app's `build` knows about the stage besides its own settings.
#[derive(Debug, Clone, Copy)]
pub struct StageContext<'a> {
    /// The stage name (the `Stage` tag).
    pub name: &'a str,
    /// The generic fields: stack name, region, account, staging bucket, tags.
    pub stage: &'a StageConfig,
    /// The project (its name is the `Project` tag).
    pub project: &'a Project,
    /// The config file: relative paths in the settings are relative to its directory.
    pub config_file: &'a Path,
}

impl StageContext<'_> {
    /// A new stack named after the stage's `stack_name`, tagged `Project`, `Stage` and with the
    /// stage's own tags (every taggable resource gets them).
    pub fn new_stack(&self) -> Stack {
        let mut stack = Stack::new(&self.stage.stack_name);
        stack.add_tag(config::PROJECT_TAG, &self.project.name);
        stack.add_tag(config::STAGE_TAG, self.name);
        for (k, v) in &self.stage.tags {
            stack.add_tag(k, v);
        }
        stack
    }

    /// A path from the settings, relative to the config file's directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        self.config_file
            .parent()
            .unwrap_or_else(|| Path::new(""))
            .join(path)
    }
}

/// The context for one stage of the config.
pub fn context<'a, S>(
    config: &'a Config<S>,
    name: &'a str,
    stage: &'a StageConfig,
) -> StageContext<'a> {
    StageContext {
        name,
        stage,
        project: &config.project,
        config_file: &config.file,
    }
}

/// Builds one stage's stack (not synthesized): what `validate` checks.
pub fn build_stage<A: App>(
    app: &A,
    config: &Config<A::Settings>,
    name: &str,
) -> anyhow::Result<(Stack, Vec<PackagedAsset>)> {
    let stage = config.stage(name)?;
    let settings = config.settings(name)?;
    app.build(&context(config, name, stage), settings)
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Builds and synthesizes the selected stages (all when `only` is empty), in stage-name order,
/// into the assembly the engine reads.
pub fn synth<A: App>(
    app: &A,
    config: &Config<A::Settings>,
    only: &[String],
) -> anyhow::Result<Assembly> {
    for name in only {
        config.stage(name)?;
    }
    let selected: Vec<(&String, &StageConfig)> = config
        .stages
        .iter()
        .filter(|(name, _)| only.is_empty() || only.contains(name))
        .collect();
    let mut tree = TreeApp::new();
    let mut errors = Vec::new();
    let mut assets = Vec::new();
    for (name, s) in &selected {
        let settings = config.settings(name)?;
        match app.build(&context(config, name, s), settings) {
            Ok((stack, a)) => {
                tree.add_stack(stack);
                assets.push((a, settings.termination_protection()));
            }
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        anyhow::bail!("{}", SynthErrors(errors));
    }
    let stacks = tree
        .synth()
        .map_err(|e: SynthErrors| anyhow::anyhow!("{e}"))?;
    Ok(Assembly {
        stacks: selected
            .into_iter()
            .zip(stacks)
            .zip(assets)
            .map(|(((name, s), synthesized), (assets, protect))| {
                let mut stack = assembly_stack(name, s, synthesized, assets);
                stack.termination_protection = protect;
                stack
            })
            .collect(),
    })
}

/// The one place a SnowEx stage becomes generic: what the engine needs from the stage config
/// (region, account, staging bucket) moves into the assembly's fields.
fn assembly_stack(
    stage: &str,
    s: &StageConfig,
    synthesized: SynthesizedStack,
    assets: Vec<PackagedAsset>,
) -> AssemblyStack {
    let environment = Environment {
        region: s.region.clone(),
        account: s.account.clone(),
    };
    AssemblyStack::new(
        stage,
        synthesized,
        environment,
        s.staging_bucket.clone(),
        assets,
    )
}
