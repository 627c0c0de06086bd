//! `snowcdk validate`: run the built-in security and hygiene rules over every stage's stack and
//! explain what they find. `synth` runs the same rules (errors stop it, warnings print); this
//! command shows everything at once, with explanations, even when synth would stop, and lists
//! the suppressions (`--list-suppressions`) and the rules (`--list-rules`).

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use clap::ValueEnum;
use serde::Serialize;
use snowcdk_constructs::SynthError;
use snowcdk_constructs::rules::{self, Finding, RULES, Report, Severity, SuppressionEntry};
use snowcdk_constructs::tree::synth_stack;

use crate::app::App;
use crate::config::Config;
use crate::{app, exit};

/// Output format: `Text` (lines for a person) or `Json` (one document, for scripts and CI).
// Doc comments on the variants would become clap's possible-value help and change `--help`.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// `validate`'s options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this stage (repeatable); all stages by default.
    #[arg(long = "stage", value_name = "NAME")]
    pub stages: Vec<String>,
    /// List the suppressions (stack, logical id, construct path, rule, reason) instead.
    #[arg(long, conflicts_with = "list_rules")]
    pub list_suppressions: bool,
    /// List the built-in rules with their explanations (no config needed).
    #[arg(long)]
    pub list_rules: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Fail on warnings too.
    #[arg(long)]
    pub strict: bool,
}

/// One stack's result.
#[derive(Debug, Serialize)]
pub struct StackReport {
    /// The stack's name.
    pub stack: String,
    /// The stage it was synthesized for.
    pub stage: String,
    /// The rules' findings and the suppressions that silenced others.
    pub report: Report,
    /// Synth errors that are not rule findings (an empty suppression reason, a bad reference).
    pub synth_errors: Vec<String>,
}

/// Runs the rules over one stage's stack.
pub fn check_stage<A: App>(
    app: &A,
    config: &Config<A::Settings>,
    stage: &str,
) -> anyhow::Result<StackReport> {
    let (stack, _assets) = app::build_stage(app, config, stage)?;
    let (report, synth_errors) = match synth_stack(&stack) {
        Ok(out) => (rules::check(&out.template), Vec::new()),
        Err(errors) => (
            rules::check_stack(&stack),
            errors
                .iter()
                .filter(|e| !matches!(e, SynthError::Rule { .. }))
                .map(ToString::to_string)
                .collect(),
        ),
    };
    Ok(StackReport {
        stack: stack.name().to_owned(),
        stage: stage.to_owned(),
        report,
        synth_errors,
    })
}

fn wrap(text: &str, indent: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            let _ = writeln!(out, "{indent}{line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{indent}{line}");
    }
    out
}

/// The rules catalog as text.
pub fn render_rules() -> String {
    let mut out = String::new();
    for r in RULES {
        let _ = writeln!(out, "{} ({}): {}", r.id, r.severity, r.title);
        out.push_str(&wrap(r.explanation, "    ", 92));
    }
    out.push_str(
        "\nSuppress a rule for one resource next to its construct, with the reason:\n    snowcdk_constructs::rules::suppress(&mut scope, &handle, \"SNX-...\", \"why it does not apply\");\n",
    );
    out
}

fn finding_line(f: &Finding) -> String {
    let mut s = format!("  {:<7} {:<14} {}", f.severity, f.rule, f.path);
    if !f.property.is_empty() {
        let _ = write!(s, " {}", f.property);
    }
    let _ = write!(s, ": {}", f.message);
    s
}

/// The findings of every stack as text, with the explanation of each rule that fired.
pub fn render_findings(stacks: &[StackReport]) -> String {
    let mut out = String::new();
    let mut fired: Vec<&str> = Vec::new();
    for s in stacks {
        let r = &s.report;
        let _ = writeln!(
            out,
            "{} (stage {}): {} error{}, {} warning{}, {} suppressed",
            s.stack,
            s.stage,
            r.errors().count(),
            if r.errors().count() == 1 { "" } else { "s" },
            r.warnings().count(),
            if r.warnings().count() == 1 { "" } else { "s" },
            r.suppressed.len()
        );
        for e in &s.synth_errors {
            let _ = writeln!(out, "  error   {e}");
        }
        for f in &r.findings {
            out.push_str(&finding_line(f));
            out.push('\n');
            if !fired.contains(&f.rule) {
                fired.push(f.rule);
            }
        }
        for u in r.unused() {
            let _ = writeln!(
                out,
                "  warning {:<14} {}: the suppression matches no finding; remove it",
                u.rule, u.path
            );
        }
    }
    fired.sort();
    if !fired.is_empty() {
        out.push_str("\nWhy:\n");
        for id in fired {
            if let Some(r) = rules::rule(id) {
                let _ = writeln!(out, "  {} {}", r.id, r.title);
                out.push_str(&wrap(r.explanation, "      ", 90));
            }
        }
    }
    out
}

/// The suppressions of every stack as an aligned table.
pub fn render_suppressions(stacks: &[StackReport]) -> String {
    let rows: Vec<(&str, &SuppressionEntry)> = stacks
        .iter()
        .flat_map(|s| {
            s.report
                .suppressions
                .iter()
                .map(move |e| (s.stack.as_str(), e))
        })
        .collect();
    if rows.is_empty() {
        return "no suppressions\n".into();
    }
    let header = ["STACK", "LOGICAL ID", "PATH", "RULE", "REASON"];
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|(stack, e)| {
            [
                (*stack).to_owned(),
                e.logical_id.clone(),
                e.path.clone(),
                e.rule.clone(),
                if e.used {
                    e.reason.clone()
                } else {
                    format!("{} (unused: matches no finding)", e.reason)
                },
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |row: [&str; 5]| {
        let mut s = String::new();
        for (i, (c, w)) in row.iter().zip(widths).enumerate() {
            if i == 4 {
                s.push_str(c);
            } else {
                let _ = write!(s, "{c:<w$}  ");
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(header);
    for row in &cells {
        out.push_str(&line([&row[0], &row[1], &row[2], &row[3], &row[4]]));
    }
    out
}

pub fn run<A: App>(app: &A, config_path: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    if args.list_rules {
        match args.format {
            Format::Text => print!("{}", render_rules()),
            Format::Json => println!("{}", serde_json::to_string_pretty(RULES)?),
        }
        return Ok(exit::code(exit::OK));
    }
    let config = Config::<A::Settings>::load(config_path)?;
    let stages: Vec<String> = if args.stages.is_empty() {
        config.stages.keys().cloned().collect()
    } else {
        args.stages.clone()
    };
    let stacks = stages
        .iter()
        .map(|s| check_stage(app, &config, s))
        .collect::<anyhow::Result<Vec<_>>>()?;

    if args.list_suppressions {
        match args.format {
            Format::Text => print!("{}", render_suppressions(&stacks)),
            Format::Json => {
                let rows: Vec<serde_json::Value> = stacks
                    .iter()
                    .flat_map(|s| {
                        s.report.suppressions.iter().map(move |e| {
                            let mut v = serde_json::to_value(e).unwrap_or_default();
                            v["stack"] = serde_json::Value::String(s.stack.clone());
                            v
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            }
        }
        return Ok(exit::code(exit::OK));
    }

    match args.format {
        Format::Text => print!("{}", render_findings(&stacks)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&stacks)?),
    }
    let errors: usize = stacks
        .iter()
        .map(|s| s.report.errors().count() + s.synth_errors.len())
        .sum();
    let warnings: usize = stacks
        .iter()
        .map(|s| {
            s.report
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Warning)
                .count()
                + s.report.unused().count()
        })
        .sum();
    if errors > 0 || (args.strict && warnings > 0) {
        return Ok(exit::code(exit::ERROR));
    }
    Ok(exit::code(exit::OK))
}
