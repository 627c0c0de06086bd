//! Synth-time checks over a stack's template.
//!
//! - `structure`: references, attributes, cycles and quotas (always errors).
//! - the built-in security and hygiene rules ([`RULES`]), run over the rendered template JSON by
//!   every synth and by `snowcdk validate`: `network` (security groups), `database` (RDS),
//!   `secrets`, `compute` (IMDSv2, Lambda in the VPC, log retention), `iam`. Errors stop synth,
//!   warnings are printed. A rule is switched off for one resource with [`suppress`], next to
//!   the construct, with a reason.
//!
//! The rules read the synthesized result, never the other way round: [`Rules`] is the
//! [`StackCheck`] synth runs, and [`synth_stack`] is synth with it.

#![deny(missing_docs)]

pub mod compute;
pub mod database;
pub mod finding;
pub mod iam;
pub mod json;
pub mod network;
pub mod secrets;
pub mod structure;
pub mod suppress;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value as Json;

use snowcdk_constructs_core::error::SynthError;
use snowcdk_constructs_core::template::Template;
use snowcdk_constructs_core::tree::{
    Stack, StackCheck, Synthesized, SynthesizedStack, synth_stack_with,
};

pub use finding::{Finding, RULES, RuleInfo, Severity, rule};
pub use suppress::{Suppression, suppress, suppressions_of};

/// A suppression written on a resource, and whether it matched a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuppressionEntry {
    /// The resource's logical id.
    pub logical_id: String,
    /// Its construct path (or logical id).
    pub path: String,
    /// The rule suppressed.
    pub rule: String,
    /// Why.
    pub reason: String,
    /// Whether a finding matched it.
    pub used: bool,
}

/// What the rules found in one template.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Findings not suppressed, in template order.
    pub findings: Vec<Finding>,
    /// Findings a suppression switched off, with its reason.
    pub suppressed: Vec<(Finding, Suppression)>,
    /// Every suppression in the template.
    pub suppressions: Vec<SuppressionEntry>,
}

impl Report {
    /// Findings that stop synth.
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }

    /// Findings that are printed.
    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
    }

    /// Suppressions that matched no finding (stale: the code they excused changed).
    pub fn unused(&self) -> impl Iterator<Item = &SuppressionEntry> {
        self.suppressions.iter().filter(|s| !s.used)
    }
}

/// Runs every rule over a rendered template. `paths` maps logical ids to construct paths for
/// messages; ids without one are named by their logical id.
pub fn check_json(t: &Json, paths: &BTreeMap<String, String>) -> Report {
    let mut ctx = json::Ctx::new(t, paths);
    network::check(&mut ctx);
    database::check(&mut ctx);
    secrets::check(&mut ctx);
    compute::check(&mut ctx);
    iam::check(&mut ctx);

    let order: BTreeMap<&str, usize> = ctx
        .resources
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id, i))
        .collect();
    let mut all = std::mem::take(&mut ctx.findings);
    all.sort_by(|a, b| {
        let key = |f: &Finding| (order.get(f.logical_id.as_str()).copied(), f.rule);
        key(a)
            .cmp(&key(b))
            .then_with(|| a.property.cmp(&b.property))
    });

    let mut report = Report::default();
    for r in &ctx.resources {
        for s in suppressions_of(r.body) {
            report.suppressions.push(SuppressionEntry {
                logical_id: r.id.to_owned(),
                path: paths.get(r.id).cloned().unwrap_or_else(|| r.id.to_owned()),
                rule: s.id,
                reason: s.reason,
                used: false,
            });
        }
    }
    for f in all {
        let hit = report
            .suppressions
            .iter_mut()
            .find(|s| s.logical_id == f.logical_id && s.rule == f.rule);
        match hit {
            Some(s) => {
                s.used = true;
                let sup = Suppression {
                    id: s.rule.clone(),
                    reason: s.reason.clone(),
                };
                report.suppressed.push((f, sup));
            }
            None => report.findings.push(f),
        }
    }
    report
}

/// Runs every rule over a template model (construct paths known).
pub fn check(template: &Template) -> Report {
    let paths = template
        .resources
        .iter()
        .map(|r| (r.logical_id.clone(), r.path.clone()))
        .collect();
    check_json(&template.to_json(), &paths)
}

/// Runs every rule over a stack under construction, without synthesizing it (so a stack whose
/// rule errors would stop synth can still be reported in full by `snowcdk validate`). Tags are
/// not applied: no rule reads them.
pub fn check_stack(stack: &Stack) -> Report {
    check(&stack.untagged_template())
}

/// The checks every synth runs, in this order: structure (references, attributes, cycles,
/// quotas), the built-in rules (errors stop synth, warnings and stale suppressions are
/// reported), then the template's size.
pub struct Rules;

impl StackCheck for Rules {
    fn check(
        &self,
        s: &Stack,
        synthesized: &Synthesized<'_>,
        errors: &mut Vec<SynthError>,
        warnings: &mut Vec<String>,
    ) {
        let template = synthesized.template;
        let body = synthesized.body;
        errors.extend(structure::check(s, template));
        let paths = template
            .resources
            .iter()
            .map(|r| (r.logical_id.clone(), r.path.clone()))
            .collect();
        let report = check_json(synthesized.json, &paths);
        for f in &report.findings {
            let message = if f.property.is_empty() {
                f.message.clone()
            } else {
                format!("{}: {}", f.property, f.message)
            };
            match f.severity {
                Severity::Error => errors.push(SynthError::Rule {
                    path: f.path.clone(),
                    rule: f.rule.to_owned(),
                    message,
                }),
                Severity::Warning => warnings.push(f.to_string()),
            }
        }
        for u in report.unused() {
            warnings.push(format!(
                "{}: the suppression of {} matches no finding; remove it",
                u.path, u.rule
            ));
        }
        if let Err(e) = structure::check_size(s.name(), body.len()) {
            errors.push(e);
        } else if body.len() > structure::MAX_BODY_BYTES {
            warnings.push(format!(
                "stack {}: the template is {} bytes, over the {} bytes CloudFormation accepts inline; deploy uploads it to the staging bucket",
                s.name(),
                body.len(),
                structure::MAX_BODY_BYTES
            ));
        }
    }
}

/// Builds one stack's template: applies tags, renders it, runs [`Rules`] over the result.
pub fn synth_stack(s: &Stack) -> Result<SynthesizedStack, Vec<SynthError>> {
    synth_stack_with(s, &Rules)
}

#[cfg(test)]
mod tests;
