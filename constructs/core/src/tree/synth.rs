//! Synth of one stack: tags applied, the template rendered once, then the checks run over the
//! result. The checks are passed in ([`StackCheck`]) rather than called from here, so the tree
//! does not depend on the rules: `snowcdk-constructs-rules` implements the trait and the
//! `snowcdk-constructs` facade wires the two together.

use serde_json::Value as Json;

use crate::error::SynthError;
use crate::template::{Template, TemplateFormat};

use super::stack::Stack;
use super::tags;

/// A synthesized stack: its template, rendered once, and what the manifest reports about it.
#[derive(Debug, Clone)]
pub struct SynthesizedStack {
    /// The CloudFormation stack name.
    pub name: String,
    /// The template model, tags applied.
    pub template: Template,
    /// The JSON template body (2-space, trailing newline): what is written and deployed.
    pub body: String,
    /// The JSON tree `body` was rendered from, kept so a reader (the diff) need not parse the
    /// body back.
    pub document: Json,
    /// Problems that do not stop synth (e.g. a body that must be deployed through S3).
    pub warnings: Vec<String>,
}

impl SynthesizedStack {
    /// The body in another format.
    pub fn render(&self, format: TemplateFormat) -> String {
        match format {
            TemplateFormat::Json => self.body.clone(),
            TemplateFormat::Yaml => self.template.render(format),
        }
    }
}

/// What a synth checks once the template is built. Errors stop synth; warnings are reported.
pub trait StackCheck {
    /// Checks one stack's synthesized template: `template` has tags applied, `json` is its
    /// rendered tree and `body` the JSON text that will be written. Appends what it finds, in
    /// the order the user should read it.
    fn check(
        &self,
        stack: &Stack,
        synthesized: &Synthesized<'_>,
        errors: &mut Vec<SynthError>,
        warnings: &mut Vec<String>,
    );
}

/// The synthesized result a [`StackCheck`] reads.
pub struct Synthesized<'a> {
    /// The template model, tags applied.
    pub template: &'a Template,
    /// The template's JSON tree, rendered once for the body and the checks.
    pub json: &'a Json,
    /// The JSON template body.
    pub body: &'a str,
}

/// No checks beyond the tree's own (ids, property literals, tags): for tools that only render.
pub struct NoChecks;

impl StackCheck for NoChecks {
    fn check(&self, _: &Stack, _: &Synthesized<'_>, _: &mut Vec<SynthError>, _: &mut Vec<String>) {}
}

/// Builds one stack's template: applies tags, renders it, runs `checks` over the result.
pub fn synth_stack_with(
    s: &Stack,
    checks: &dyn StackCheck,
) -> Result<SynthesizedStack, Vec<SynthError>> {
    let mut errors = s.errors.clone();
    let mut template = s.untagged_template();
    for (entry, r) in template.resources.iter_mut().zip(&s.resources) {
        let inherited = tags::inherited(&s.tags, &entry.path);
        tags::apply(&mut entry.properties, r.spec.tagging, &inherited);
        if let Err(message) = tags::check_applied(&entry.properties, r.spec.tagging) {
            errors.push(SynthError::InvalidId {
                path: entry.path.clone(),
                message,
            });
        }
    }
    // Render the JSON tree once: the body and the checks both read it.
    let json = template.to_json();
    let body = crate::template::document::render_json_value(&json, TemplateFormat::Json);
    let mut warnings = Vec::new();
    let synthesized = Synthesized {
        template: &template,
        json: &json,
        body: &body,
    };
    checks.check(s, &synthesized, &mut errors, &mut warnings);
    if errors.is_empty() {
        Ok(SynthesizedStack {
            name: s.name.clone(),
            template,
            body,
            document: json,
            warnings,
        })
    } else {
        Err(errors)
    }
}
