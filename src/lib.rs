//! snowcdk: describe AWS infrastructure as typed Rust constructs, synthesize it to CloudFormation,
//! review it as template diffs, and deploy it through change sets.
//!
//! Data flows one way:
//! `snowcdk.toml` (stage) -> an [`app::App`] (composes constructs) -> construct tree -> template
//! model -> validate -> [`assembly`] (stacks, their facts and assets) -> [`writer`]
//! (`templates_out/`) | `diff` (PR review) | `deploy` (change sets).
//!
//! Everything but [`snowex`] is the generic tool and imports no app: [`cli::main`] runs the
//! command line for whichever app it is given (`main.rs` gives it [`snowex::SnowEx`]).

pub mod app;
pub mod assembly;
pub mod assets;
pub mod cli;
pub mod commands;
pub mod config;
pub mod deploy;
pub mod diff;
pub mod exit;
pub mod regions;
pub mod risk;
pub mod snowex;
pub mod template_read;
pub mod writer;
