//! The construct tree: app -> stacks -> constructs, logical ids from construct paths, tags.

pub mod app;
pub mod logical_id;
pub mod scope;
pub mod stack;
pub mod tags;

pub use app::{App, SynthesizedStack, synth_stack};
pub use scope::Scope;
pub use stack::Stack;
