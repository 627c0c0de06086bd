//! Template diff and its text / markdown / json renderings (`snowcdk diff`).
//!
//! - [`base`]: the base templates (a directory, or `templates_out/` at a git revision).
//! - [`diff_stack`]: resources (added / removed / modified, replacement predicted offline from the
//!   schema's create-only properties and propagated through references), parameters,
//!   conditions, mappings, outputs, and who-can-reach-what (security group rules, IAM grants).
//! - `equivalence`: when two values are the same to CloudFormation (`true`/`"true"`, the two
//!   `Fn::GetAtt` forms, `DependsOn` as a set), and what an `Fn::If` can resolve to.
//! - `foreach`: `Fn::ForEach` loops over literal lists, expanded before comparing.
//! - what holds data and what deletion policies do: [`crate::risk`], shared with deploy/destroy.
//! - [`DiffReport`]: the result; [`render_text`], [`render_markdown`] (PR comment), [`render_json`].

pub mod base;
mod compute;
pub mod deployed;
mod equivalence;
pub(crate) mod foreach;
mod model;
pub mod render_json;
pub mod render_markdown;
pub mod render_text;
mod replacement;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

pub use compute::{Context, diff_stack};
pub use model::{
    ChangeKind, Counts, Destruction, DiffReport, PropertyChange, Replacement, ResourceChange,
    SectionChange, SecurityChanges, StackDiff, StackStatus, Unreadable,
};

/// A current template to compare: the stack name, its JSON, and its construct paths.
#[derive(Debug, Clone)]
pub struct Current {
    /// The stack name, matched against the base's file names.
    pub stack: String,
    /// The template as synth renders it.
    pub template: Json,
    /// Construct path by logical id, so a change names the code that made it.
    pub paths: BTreeMap<String, String>,
}

/// Compares the current templates with the base ones. Stacks are matched by name; a base stack
/// with no current counterpart is reported as no longer synthesized only when `all_stacks`
/// (no `--stage` filter narrowed the synth). A stack whose base cannot be read is not compared
/// (it would read as new) but listed in [`DiffReport::unreadable`].
pub fn diff(
    base: &base::BaseTemplates,
    current: &[Current],
    all_stacks: bool,
    allow_destroy: &[String],
) -> DiffReport {
    let mut stacks = Vec::new();
    let mut seen = BTreeSet::new();
    for c in current {
        seen.insert(c.stack.as_str());
        if base.unreadable.contains_key(&c.stack) {
            continue;
        }
        let cx = Context {
            paths: Some(&c.paths),
            allow_destroy,
        };
        stacks.push(diff_stack(
            &c.stack,
            base.stacks.get(&c.stack),
            Some(&c.template),
            &cx,
        ));
    }
    if all_stacks {
        for (name, t) in &base.stacks {
            if !seen.contains(name.as_str()) {
                let cx = Context {
                    paths: None,
                    allow_destroy,
                };
                stacks.push(diff_stack(name, Some(t), None, &cx));
            }
        }
    }
    DiffReport {
        base: base.description.clone(),
        notes: base.notes.clone(),
        unreadable: base
            .unreadable
            .iter()
            .map(|(stack, error)| model::Unreadable {
                stack: stack.clone(),
                error: error.clone(),
            })
            .collect(),
        stacks,
    }
}
