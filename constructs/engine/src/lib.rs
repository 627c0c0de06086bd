//! snowcdk-engine: the generic tool. It runs any [`app::App`]: reads the stage config, synthesizes
//! the app's stacks into an [`assembly`], writes `templates_out/` ([`writer`]), reviews changes
//! ([`diff`]) and deploys them through change sets ([`deploy`]), asking one [`risk`] module what
//! is stateful or destructive.
//!
//! Data flows one way:
//! `snowcdk.toml` (stage) -> an [`app::App`] (composes constructs) -> construct tree -> template
//! model -> validate -> [`assembly`] (stacks, their facts and assets) -> [`writer`]
//! (`templates_out/`) | [`diff`] (PR review) | [`deploy`] (change sets).
//!
//! This crate knows no app's types: the SnowEx app lives in the `snowcdk` crate beside it, and
//! `constructs/examples/scheduled-bucket` depends on this crate alone. [`cli::main`] runs the
//! command line for whichever app it is given.

#![deny(missing_docs)]

pub mod app;
pub mod assembly;
pub mod assets;
pub mod cli;
pub mod commands;
pub mod config;
pub mod deploy;
pub mod diff;
pub mod exit;
pub mod import;
pub mod regions;
pub mod risk;
pub mod template_read;
pub mod writer;
