//! The machine-readable rendering: the report model as pretty JSON (stable key order).

use super::model::DiffReport;

/// The report as JSON, with a trailing newline.
pub fn render(report: &DiffReport) -> String {
    let mut s = serde_json::to_string_pretty(report).unwrap_or_default();
    s.push('\n');
    s
}
