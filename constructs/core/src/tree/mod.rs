//! The construct tree: stacks -> constructs, logical ids from construct paths, tags, and the
//! synth of a stack with the checks passed in.

pub mod logical_id;
pub mod scope;
pub mod stack;
pub mod synth;
pub mod tags;

pub use scope::{Node, Scope};
pub use stack::Stack;
pub use synth::{NoChecks, StackCheck, Synthesized, SynthesizedStack, synth_stack_with};
