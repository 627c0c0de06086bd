//! The app: the root of the construct tree, holding stacks; `synth` turns it into templates,
//! running the rules over each. It lives in the facade because it joins the tree (core) and
//! the rules, and neither of those depends on the other's direction.

use snowcdk_constructs_core::error::{SynthError, SynthErrors};
use snowcdk_constructs_core::tree::{Stack, SynthesizedStack};

pub use snowcdk_constructs_rules::synth_stack;

/// The root of the construct tree.
#[derive(Debug, Default)]
pub struct App {
    stacks: Vec<Stack>,
}

impl App {
    /// An app with no stacks.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a stack and returns it for construction.
    pub fn add_stack(&mut self, stack: Stack) -> &mut Stack {
        self.stacks.push(stack);
        let last = self.stacks.len() - 1;
        &mut self.stacks[last]
    }

    /// The stacks, in the order they were added.
    pub fn stacks(&self) -> &[Stack] {
        &self.stacks
    }

    /// Synthesizes every stack; all errors of all stacks are reported together.
    pub fn synth(&self) -> Result<Vec<SynthesizedStack>, SynthErrors> {
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for (i, s) in self.stacks.iter().enumerate() {
            if self.stacks[..i].iter().any(|o| o.name() == s.name()) {
                errors.push(SynthError::InvalidId {
                    path: s.name().to_owned(),
                    message: "two stacks share this name".into(),
                });
            }
            match synth_stack(s) {
                Ok(st) => out.push(st),
                Err(mut e) => errors.append(&mut e),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(SynthErrors(errors))
        }
    }
}
