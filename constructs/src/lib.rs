//! The snowcdk construct library, one facade over its layers:
//!
//! - [`template`], [`tree`], [`error`]: the template model and construct tree
//!   (`snowcdk-constructs-core`).
//! - [`l1`]: typed resources generated from CloudFormation's registry schemas, never edited by
//!   hand (`snowcdk-constructs-l1`).
//! - [`l2`]: hand-written building blocks for the SnowEx stack (`snowcdk-constructs-l2`).
//! - [`rules`]: checks run on every synth (`snowcdk-constructs-rules`).
//!
//! The layers are separate crates so their dependency arrows are visible in their `Cargo.toml`
//! files and a change to one rebuilds only what sits above it. This crate adds only [`App`] and
//! [`tree::synth_stack`], synth with the rules, which need both the tree and the rules.

#![deny(missing_docs)]

mod app;

pub use snowcdk_constructs_core::{error, template};
pub use snowcdk_constructs_l1 as l1;
pub use snowcdk_constructs_l2 as l2;
pub use snowcdk_constructs_rules as rules;

/// The construct tree (`snowcdk-constructs-core`), plus the app and synth with the rules.
pub mod tree {
    pub use crate::app::{App, synth_stack};
    pub use snowcdk_constructs_core::tree::*;
}

pub use error::{SynthError, SynthErrors};
pub use template::{Handle, Output, Parameter, Prop, Pseudo, Value};
pub use tree::{App, Scope, Stack, SynthesizedStack};
