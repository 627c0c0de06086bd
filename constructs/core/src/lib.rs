//! snowcdk's template model and construct tree, the layer every other construct crate builds on.
//!
//! - [`template`]: the CloudFormation template model (values, intrinsics, parameters, outputs).
//! - [`tree`]: stack -> constructs, logical ids, tags, and synth with checks passed in.
//! - [`error`]: the synth errors, each naming the construct path it is about.
//!
//! It knows no resource type (those are generated into `snowcdk-constructs-l1`) and no rule
//! (`snowcdk-constructs-rules` plugs in through [`tree::StackCheck`]).

#![deny(missing_docs)]

pub mod error;
pub mod template;
pub mod tree;

pub use error::{SynthError, SynthErrors};
pub use template::{Handle, Output, Parameter, Prop, Pseudo, Value};
pub use tree::{Scope, Stack, SynthesizedStack};
