//! The pull-request comment: a marker (so CI updates one comment instead of adding more), the
//! destructive changes called out first, a summary line per stack, a table of resource changes
//! (destructive ones on top), security changes in the open, details folded in `<details>`.
//! Nothing in it depends on time or order of runs, so an unchanged PR gets an identical comment.

use std::fmt::Write as _;

use super::model::{
    ChangeKind, DiffReport, Replacement, ResourceChange, SectionChange, StackDiff, StackStatus,
};
use super::render_text::{compact, short_path, summary};

/// The first line of the comment; CI finds the comment to update by it.
pub const MARKER: &str = "<!-- snowcdk-diff -->";

/// GitHub rejects comments over 65,536 characters; past this the details are left out.
pub const MAX_COMMENT: usize = 60_000;

/// Longest value in the folded details.
const MAX_DETAIL_VALUE: usize = 1_000;

/// Text for a table cell: no pipes or line breaks.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Inline code that survives backticks in the text.
fn code(s: &str) -> String {
    if s.contains('`') {
        format!("`` {} ``", s.replace("``", "` `"))
    } else {
        format!("`{s}`")
    }
}

fn icon(r: &ResourceChange) -> &'static str {
    match &r.destructive {
        Some(d) if !d.allowed => "🛑",
        Some(_) => "⚠️",
        None => "",
    }
}

/// Why the resource changes, in a few words for the table.
fn why(r: &ResourceChange) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(d) = &r.destructive {
        parts.push(format!(
            "**{}**{}",
            cell(&d.reason),
            if d.allowed { " (allowed)" } else { "" }
        ));
    } else {
        let causes = r.replacement_causes();
        let shown: Vec<&str> = if causes.is_empty() {
            r.changes.iter().map(|c| short_path(&c.path)).collect()
        } else {
            causes.iter().map(|c| short_path(&c.path)).collect()
        };
        let mut names: Vec<String> = shown.iter().take(3).map(|p| code(p)).collect();
        if shown.len() > 3 {
            names.push(format!("+{} more", shown.len() - 3));
        }
        if !names.is_empty() {
            parts.push(names.join(", "));
        }
    }
    for n in &r.notes {
        parts.push(cell(n));
    }
    parts.join("; ")
}

fn resource_table(out: &mut String, s: &StackDiff) {
    if s.resources.is_empty() {
        return;
    }
    out.push_str("\n| | Change | Resource | Type | Why |\n|---|---|---|---|---|\n");
    for r in &s.resources {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            icon(r),
            r.action(),
            code(&r.logical_id),
            code(&r.type_name),
            why(r)
        );
    }
}

fn security(out: &mut String, s: &StackDiff) {
    let sec = &s.security;
    if sec.is_empty() {
        return;
    }
    out.push_str("\n**Who can reach what**\n\n");
    for (sign, lines) in [
        ("➕", &sec.sg_added),
        ("➖", &sec.sg_removed),
        ("➕", &sec.iam_added),
        ("➖", &sec.iam_removed),
    ] {
        for l in lines {
            let _ = writeln!(out, "- {sign} {}", code(l));
        }
    }
}

fn fence(body: &str) -> String {
    format!("```diff\n{}```\n", body.replace("```", "'''"))
}

fn resource_details(r: &ResourceChange) -> String {
    let mut body = String::new();
    for c in &r.changes {
        let p = short_path(&c.path);
        let mut suffix = String::new();
        match c.replacement {
            Replacement::Always => suffix.push_str("   # requires replacement"),
            Replacement::Conditional => suffix.push_str("   # may require replacement"),
            _ => {}
        }
        if let Some(n) = &c.note {
            let _ = write!(
                suffix,
                "{}{n}",
                if suffix.is_empty() { "   # " } else { "; " }
            );
        }
        let mut lines = Vec::new();
        if c.old == c.new {
            lines.push(format!(
                "! {p}: {}",
                compact(c.new.as_ref(), MAX_DETAIL_VALUE)
            ));
        } else {
            if c.old.is_some() {
                lines.push(format!(
                    "- {p}: {}",
                    compact(c.old.as_ref(), MAX_DETAIL_VALUE)
                ));
            }
            if c.new.is_some() {
                lines.push(format!(
                    "+ {p}: {}",
                    compact(c.new.as_ref(), MAX_DETAIL_VALUE)
                ));
            }
        }
        if let Some(last) = lines.last_mut() {
            last.push_str(&suffix);
        }
        for l in lines {
            let _ = writeln!(body, "{l}");
        }
    }
    let mut out = format!(
        "{} {} ({}{})\n\n",
        r.action(),
        code(&r.logical_id),
        code(&r.type_name),
        r.path
            .as_ref()
            .map(|p| format!(", {}", code(p)))
            .unwrap_or_default()
    );
    out.push_str(&fence(&body));
    out
}

fn sections_details(s: &StackDiff) -> (usize, String) {
    let mut body = String::new();
    let mut n = 0;
    for (title, changes) in [
        ("Parameters", &s.parameters),
        ("Conditions", &s.conditions),
        ("Mappings", &s.mappings),
        ("Outputs", &s.outputs),
        ("Template", &s.other),
    ] {
        if changes.is_empty() {
            continue;
        }
        let mut lines = String::new();
        for c in changes.iter() {
            n += 1;
            section_lines(&mut lines, c);
        }
        let _ = writeln!(body, "{title}\n");
        body.push_str(&fence(&lines));
        body.push('\n');
    }
    (n, body)
}

fn section_lines(lines: &mut String, c: &SectionChange) {
    match c.kind {
        ChangeKind::Added => {
            let _ = writeln!(
                lines,
                "+ {}: {}",
                c.name,
                compact(c.new.as_ref(), MAX_DETAIL_VALUE)
            );
        }
        ChangeKind::Removed => {
            let _ = writeln!(
                lines,
                "- {}: {}",
                c.name,
                compact(c.old.as_ref(), MAX_DETAIL_VALUE)
            );
        }
        ChangeKind::Modified => {
            let _ = writeln!(
                lines,
                "- {}: {}\n+ {}: {}",
                c.name,
                compact(c.old.as_ref(), MAX_DETAIL_VALUE),
                c.name,
                compact(c.new.as_ref(), MAX_DETAIL_VALUE)
            );
        }
    }
}

fn stack(out: &mut String, s: &StackDiff, details: bool) {
    let c = s.counts();
    let flag = if c.blocking > 0 {
        "🛑 "
    } else if c.destructive > 0 {
        "⚠️ "
    } else {
        ""
    };
    let _ = writeln!(out, "\n#### {flag}{}: {}", code(&s.stack), summary(s));
    if matches!(
        s.status,
        StackStatus::Unchanged | StackStatus::NoLongerSynthesized
    ) {
        return;
    }
    resource_table(out, s);
    security(out, s);
    if !details {
        return;
    }
    let modified: Vec<&ResourceChange> = s
        .resources
        .iter()
        .filter(|r| r.kind == ChangeKind::Modified && !r.changes.is_empty())
        .collect();
    if !modified.is_empty() {
        let _ = writeln!(
            out,
            "\n<details><summary>Property changes of {} resource{}</summary>\n",
            modified.len(),
            if modified.len() == 1 { "" } else { "s" }
        );
        for r in modified {
            out.push_str(&resource_details(r));
            out.push('\n');
        }
        out.push_str("</details>\n");
    }
    let (n, body) = sections_details(s);
    if n > 0 {
        let _ = writeln!(
            out,
            "\n<details><summary>Parameters, conditions, mappings, outputs and template changes ({n})</summary>\n"
        );
        out.push_str(&body);
        out.push_str("</details>\n");
    }
}

fn render_with(report: &DiffReport, details: bool) -> String {
    let mut out = format!(
        "{MARKER}\n### {} diff\n\nCompared with {}.\n",
        crate::app::program_name(),
        code(&report.base)
    );
    for n in &report.notes {
        let _ = writeln!(out, "\n_{}_", n.replace('_', "\\_"));
    }
    if !report.unreadable.is_empty() {
        let _ = writeln!(
            out,
            "\n> [!CAUTION]\n> **{} stack{} not compared**: the base template cannot be read:\n>",
            report.unreadable.len(),
            if report.unreadable.len() == 1 {
                ""
            } else {
                "s"
            }
        );
        for u in &report.unreadable {
            let _ = writeln!(
                out,
                "> - {}: {}",
                code(&u.stack),
                code(&u.error.replace('\n', " "))
            );
        }
    }
    let blocking: Vec<_> = report.blocking().collect();
    let allowed: Vec<_> = report
        .stacks
        .iter()
        .flat_map(|s| {
            s.resources
                .iter()
                .filter(|r| r.destructive.as_ref().is_some_and(|d| d.allowed))
                .map(move |r| (s, r))
        })
        .collect();
    if !blocking.is_empty() {
        let _ = writeln!(
            out,
            "\n> [!CAUTION]\n> **{} destructive change{}** would delete or replace resources that hold data:\n>",
            blocking.len(),
            if blocking.len() == 1 { "" } else { "s" }
        );
        for (s, r) in &blocking {
            let _ = writeln!(
                out,
                "> - {} {} ({}): {}",
                code(&s.stack),
                code(&r.logical_id),
                code(&r.type_name),
                r.destructive
                    .as_ref()
                    .map(|d| d.reason.clone())
                    .unwrap_or_default()
            );
        }
    }
    if !allowed.is_empty() {
        let _ = writeln!(
            out,
            "\n> [!WARNING]\n> {} destructive change{} allowed by `--allow-destroy`:\n>",
            allowed.len(),
            if allowed.len() == 1 { "" } else { "s" }
        );
        for (s, r) in &allowed {
            let _ = writeln!(
                out,
                "> - {} {} ({})",
                code(&s.stack),
                code(&r.logical_id),
                code(&r.type_name)
            );
        }
    }
    if !report.has_changes() && report.unreadable.is_empty() {
        out.push_str("\nNo changes.\n");
    }
    for s in &report.stacks {
        stack(&mut out, s, details);
    }
    if !details {
        let _ = writeln!(
            out,
            "\n_Details left out: the comment would exceed GitHub's size limit. Run `{} diff` locally for all of them._",
            crate::app::program_name()
        );
    }
    out
}

/// The comment, details folded; without details when it would not fit a GitHub comment.
pub fn render(report: &DiffReport) -> String {
    let full = render_with(report, true);
    if full.len() <= MAX_COMMENT {
        return full;
    }
    let short = render_with(report, false);
    if short.len() <= MAX_COMMENT {
        return short;
    }
    let mut cut = MAX_COMMENT;
    while !short.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{}\n\n_Cut at {MAX_COMMENT} characters. Run `{} diff` locally for the rest._\n",
        &short[..cut],
        crate::app::program_name()
    )
}
