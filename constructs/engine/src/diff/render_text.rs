//! The terminal rendering: one block per stack, resources first (destructive at the top), then
//! security groups, IAM, and the other sections. Plain text, no colors, stable order.

use std::fmt::Write as _;

use serde_json::Value as Json;

use super::model::{
    ChangeKind, DiffReport, PropertyChange, Replacement, ResourceChange, SectionChange, StackDiff,
    StackStatus,
};

/// Longest value shown inline; longer ones are cut (the JSON format has them whole).
const MAX_VALUE: usize = 160;

/// A value in one line: compact JSON, cut at `max` characters.
pub fn compact(v: Option<&Json>, max: usize) -> String {
    let s = match v {
        None => "(absent)".to_owned(),
        Some(v) => serde_json::to_string(v).unwrap_or_default(),
    };
    if s.chars().count() > max {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// A property path without the `Properties.` prefix.
pub fn short_path(p: &str) -> &str {
    p.strip_prefix("Properties.").unwrap_or(p)
}

/// `1 to add, 2 to update, 1 to replace, 0 to remove` (+ destructive count).
pub fn summary(s: &StackDiff) -> String {
    match s.status {
        StackStatus::Unchanged => return "no changes".into(),
        StackStatus::NoLongerSynthesized => {
            return format!(
                "no longer synthesized (the deployed stack is not deleted by this change; `{} destroy` deletes it)",
                crate::app::program_name()
            );
        }
        _ => {}
    }
    let c = s.counts();
    let mut out = format!(
        "{} to add, {} to update, {} to replace, {} to remove",
        c.add, c.update, c.replace, c.remove
    );
    if s.status == StackStatus::New {
        out.push_str(" (new stack)");
    }
    if c.destructive > 0 {
        let allowed = c.destructive - c.blocking;
        let _ = write!(out, "; {} destructive", c.destructive);
        if allowed > 0 {
            let _ = write!(out, " ({allowed} allowed)");
        }
    }
    out
}

fn marker(r: &ResourceChange) -> &'static str {
    match (r.kind, r.replacement) {
        (ChangeKind::Added, _) => "[+]",
        (ChangeKind::Removed, _) => "[-]",
        (ChangeKind::Modified, Replacement::Always) => "[-/+]",
        (ChangeKind::Modified, Replacement::Conditional) => "[-/+?]",
        (ChangeKind::Modified, _) => "[~]",
    }
}

fn property_line(c: &PropertyChange) -> String {
    let p = short_path(&c.path);
    let mut line = match (&c.old, &c.new) {
        (None, new) => format!("+ {p}: {}", compact(new.as_ref(), MAX_VALUE)),
        (old, None) => format!("- {p}: {}", compact(old.as_ref(), MAX_VALUE)),
        (old, new) if old == new => format!("~ {p}: {}", compact(new.as_ref(), MAX_VALUE)),
        (old, new) => format!(
            "~ {p}: {} -> {}",
            compact(old.as_ref(), MAX_VALUE),
            compact(new.as_ref(), MAX_VALUE)
        ),
    };
    match c.replacement {
        Replacement::Always => line.push_str("  (requires replacement)"),
        Replacement::Conditional => line.push_str("  (may require replacement)"),
        _ => {}
    }
    if let Some(n) = &c.note {
        let _ = write!(line, "  [{n}]");
    }
    line
}

fn section(out: &mut String, title: &str, changes: &[SectionChange]) {
    if changes.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title}");
    for c in changes {
        match c.kind {
            ChangeKind::Added => {
                let _ = writeln!(
                    out,
                    "  [+] {}: {}",
                    c.name,
                    compact(c.new.as_ref(), MAX_VALUE)
                );
            }
            ChangeKind::Removed => {
                let _ = writeln!(
                    out,
                    "  [-] {}: {}",
                    c.name,
                    compact(c.old.as_ref(), MAX_VALUE)
                );
            }
            ChangeKind::Modified => {
                let _ = writeln!(
                    out,
                    "  [~] {}: {} -> {}",
                    c.name,
                    compact(c.old.as_ref(), MAX_VALUE),
                    compact(c.new.as_ref(), MAX_VALUE)
                );
            }
        }
    }
}

fn stack(out: &mut String, s: &StackDiff) {
    let _ = writeln!(out, "Stack {}: {}", s.stack, summary(s));
    if !s.resources.is_empty() {
        let _ = writeln!(out, "Resources");
    }
    for r in &s.resources {
        let _ = write!(out, "  {} {} {}", marker(r), r.type_name, r.logical_id);
        if let Some(p) = &r.path {
            let _ = write!(out, " ({p})");
        }
        let _ = writeln!(out, ": {}", r.action());
        if let Some(d) = &r.destructive {
            let _ = writeln!(
                out,
                "      DESTRUCTIVE{}: {}",
                if d.allowed {
                    " (allowed by --allow-destroy)"
                } else {
                    ""
                },
                d.reason
            );
        }
        for n in &r.notes {
            let _ = writeln!(out, "      NOTE: {n}");
        }
        for c in &r.changes {
            let _ = writeln!(out, "      {}", property_line(c));
        }
    }
    let sec = &s.security;
    if !sec.sg_added.is_empty() || !sec.sg_removed.is_empty() {
        let _ = writeln!(out, "Security group rules");
        for l in &sec.sg_added {
            let _ = writeln!(out, "  + {l}");
        }
        for l in &sec.sg_removed {
            let _ = writeln!(out, "  - {l}");
        }
    }
    if !sec.iam_added.is_empty() || !sec.iam_removed.is_empty() {
        let _ = writeln!(out, "IAM");
        for l in &sec.iam_added {
            let _ = writeln!(out, "  + {l}");
        }
        for l in &sec.iam_removed {
            let _ = writeln!(out, "  - {l}");
        }
    }
    section(out, "Parameters", &s.parameters);
    section(out, "Conditions", &s.conditions);
    section(out, "Mappings", &s.mappings);
    section(out, "Outputs", &s.outputs);
    section(out, "Template", &s.other);
}

/// The whole report as text.
pub fn render(report: &DiffReport) -> String {
    let mut out = format!("Comparing with {}\n", report.base);
    for n in &report.notes {
        let _ = writeln!(out, "note: {n}");
    }
    for u in &report.unreadable {
        let _ = writeln!(
            out,
            "\nStack {}: NOT COMPARED, its base template cannot be read:\n  {}",
            u.stack, u.error
        );
    }
    for s in &report.stacks {
        out.push('\n');
        stack(&mut out, s);
    }
    let blocking: Vec<_> = report.blocking().collect();
    if !blocking.is_empty() {
        let _ = writeln!(
            out,
            "\n{} destructive change{} not allowed by --allow-destroy:",
            blocking.len(),
            if blocking.len() == 1 { "" } else { "s" }
        );
        for (s, r) in blocking {
            let _ = writeln!(
                out,
                "  {} {} ({}): {}",
                s.stack,
                r.logical_id,
                r.type_name,
                r.destructive
                    .as_ref()
                    .map(|d| d.reason.as_str())
                    .unwrap_or_default()
            );
        }
    }
    out
}
