//! The SnowEx app: PostgreSQL on RDS in private subnets, a Lambda API behind a Function URL, a NAT
//! gateway and an SSM-only admin host, one stack per stage of `snowcdk.toml`.
//!
//! Everything SnowEx is here: its settings ([`settings`]: the `network`, `database`, `lambda`
//! and `bastion` sections), its stack ([`stack`]) and its `tunnel` command ([`tunnel`]). The
//! generic tool never imports this module; `main` hands [`SnowEx`] to [`crate::cli::main`].

pub mod import;
pub mod settings;
pub mod stack;
pub mod tunnel;

use std::path::Path;
use std::process::ExitCode;

use snowcdk_constructs::SynthError;
use snowcdk_constructs::tree::Stack;

use crate::app::{App, AppCommands, Identity, StageContext};
use crate::assets::PackagedAsset;

pub use settings::SnowexSettings;
pub use stack::build_stack;

/// The SnowEx config: the generic stage fields plus [`SnowexSettings`] per stage.
pub type SnowexConfig = crate::config::Config<SnowexSettings>;

/// The SnowEx app.
#[derive(Debug, Clone, Copy, Default)]
pub struct SnowEx;

/// SnowEx's own subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum SnowexCommands {
    /// Open a Session Manager port-forwarding tunnel to the database through the bastion.
    Tunnel(tunnel::Args),
    /// Adopt the running, hand-built system into a stage's stack: discover it from the anchors
    /// given, map it to the stack's logical ids, record its identifying values in the config and
    /// preview what the import would change.
    Import(import::Args),
}

impl AppCommands for SnowexCommands {
    fn run(&self, config_path: &Path) -> anyhow::Result<ExitCode> {
        match self {
            SnowexCommands::Tunnel(args) => tunnel::run(config_path, args),
            SnowexCommands::Import(args) => import::run(config_path, args),
        }
    }
}

impl App for SnowEx {
    type Settings = SnowexSettings;
    type Commands = SnowexCommands;

    fn identity(&self) -> Identity {
        snowcdk_engine::identity!()
    }

    fn build(
        &self,
        ctx: &StageContext<'_>,
        settings: &SnowexSettings,
    ) -> Result<(Stack, Vec<PackagedAsset>), SynthError> {
        build_stack(ctx, settings)
    }
}
