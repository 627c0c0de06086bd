//! The snowcdk construct library.
//!
//! - [`template`]: the CloudFormation template model (values, intrinsics, parameters, outputs).
//! - [`tree`]: app -> stack -> constructs, logical ids, tags, synth.
//! - [`l1`]: typed resources generated from CloudFormation's registry schemas (never edited by hand).
//! - [`l2`]: hand-written building blocks for the SnowEx stack.
//! - [`rules`]: checks run on every synth.

pub mod error;
pub mod l1;
pub mod l2;
pub mod rules;
pub mod template;
pub mod tree;

pub use error::{SynthError, SynthErrors};
pub use template::{Handle, Output, Parameter, Prop, Pseudo, Value};
pub use tree::{App, Scope, Stack, SynthesizedStack};
