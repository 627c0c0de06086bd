//! snowcdk: describe AWS infrastructure as typed Rust constructs, synthesize it to CloudFormation,
//! review it as template diffs, and deploy it through change sets.
//!
//! This crate is the SnowEx app ([`snowex`]) and the `snowcdk` binary that runs it. The generic
//! tool (commands, config loader, assembly, writer, diff, deploy engine, assets, risk) is the
//! `snowcdk-engine` crate (`constructs/engine`), which imports no app; its modules are re-exported
//! here under their old paths so `snowcdk::deploy::...` keeps working.

#![deny(missing_docs)]

pub use snowcdk_engine::{
    app, assembly, assets, cli, commands, config, deploy, diff, exit, import, regions, risk,
    template_read, writer,
};

pub mod snowex;
