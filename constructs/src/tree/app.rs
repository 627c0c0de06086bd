//! The app: the root of the construct tree, holding stacks; `synth` turns it into templates.

use crate::error::{SynthError, SynthErrors};
use crate::template::{Template, TemplateFormat};

use super::stack::Stack;
use super::tags;

/// A synthesized stack: its template, rendered once, and what the manifest reports about it.
#[derive(Debug, Clone)]
pub struct SynthesizedStack {
    pub name: String,
    pub template: Template,
    /// The JSON template body (2-space, trailing newline): what is written and deployed.
    pub body: String,
    /// The JSON tree `body` was rendered from, kept so a reader (the diff) need not parse the
    /// body back.
    pub document: serde_json::Value,
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

/// The root of the construct tree.
#[derive(Debug, Default)]
pub struct App {
    stacks: Vec<Stack>,
}

impl App {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a stack and returns it for construction.
    pub fn add_stack(&mut self, stack: Stack) -> &mut Stack {
        self.stacks.push(stack);
        let last = self.stacks.len() - 1;
        &mut self.stacks[last]
    }

    pub fn stacks(&self) -> &[Stack] {
        &self.stacks
    }

    /// Synthesizes every stack; all errors of all stacks are reported together.
    pub fn synth(&self) -> Result<Vec<SynthesizedStack>, SynthErrors> {
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for (i, s) in self.stacks.iter().enumerate() {
            if self.stacks[..i].iter().any(|o| o.name == s.name) {
                errors.push(SynthError::InvalidId {
                    path: s.name.clone(),
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

/// Builds one stack's template: applies tags, checks it, renders it.
pub fn synth_stack(s: &Stack) -> Result<SynthesizedStack, Vec<SynthError>> {
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
    errors.extend(crate::rules::structure::check(s, &template));
    // Render the JSON tree once: the body and the rules both read it.
    let json = template.to_json();
    let body = crate::template::document::render_json_value(&json, TemplateFormat::Json);
    let mut warnings = Vec::new();
    let paths = template
        .resources
        .iter()
        .map(|r| (r.logical_id.clone(), r.path.clone()))
        .collect();
    let report = crate::rules::check_json(&json, &paths);
    for f in &report.findings {
        let message = if f.property.is_empty() {
            f.message.clone()
        } else {
            format!("{}: {}", f.property, f.message)
        };
        match f.severity {
            crate::rules::Severity::Error => errors.push(SynthError::Rule {
                path: f.path.clone(),
                rule: f.rule.to_owned(),
                message,
            }),
            crate::rules::Severity::Warning => warnings.push(f.to_string()),
        }
    }
    for u in report.unused() {
        warnings.push(format!(
            "{}: the suppression of {} matches no finding; remove it",
            u.path, u.rule
        ));
    }
    if let Err(e) = crate::rules::structure::check_size(&s.name, body.len()) {
        errors.push(e);
    } else if body.len() > crate::rules::structure::MAX_BODY_BYTES {
        warnings.push(format!(
            "stack {}: the template is {} bytes, over the {} bytes CloudFormation accepts inline; deploy uploads it to the staging bucket",
            s.name,
            body.len(),
            crate::rules::structure::MAX_BODY_BYTES
        ));
    }
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
