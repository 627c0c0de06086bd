//! YAML output that every YAML reader reads back as the JSON it came from.
//!
//! CloudFormation and cfn-lint read YAML 1.1, where `no`, `on`, `y`, `1_000`, `0755`, `12:30:45`,
//! `.5`, `=` and `<<` are not strings, while YAML 1.2 readers see `1e3` and `0o17` as numbers. A
//! general-purpose emitter (serde_yaml) follows YAML 1.2 only, so a tag value `no` became the
//! boolean false and `=` made cfn-lint fail to parse the template. This emitter writes a string
//! plain only when it is plainly a string under both versions (it starts with an ASCII letter,
//! is not a boolean or null spelling, and holds only printable ASCII with no `: ` or ` #`); every
//! other string is quoted. Numbers are written so that YAML 1.1 reads them as numbers too (a float
//! always has a `.` and a signed exponent). The layout is block style, 2-space indentation,
//! sequences flush with their key, one line per scalar, deterministic.

use serde_json::Value as Json;

/// Renders a JSON value as a YAML document (newline-terminated).
pub fn to_yaml(j: &Json) -> String {
    let mut out = String::new();
    match j {
        Json::Object(m) if !m.is_empty() => write_map(m, 0, false, &mut out),
        Json::Array(l) if !l.is_empty() => write_list(l, 0, false, &mut out),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn indent(n: usize, out: &mut String) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A map's entries at `ind`; with `inline`, the first entry continues the current line (after
/// `- `).
fn write_map(m: &serde_json::Map<String, Json>, ind: usize, inline: bool, out: &mut String) {
    for (i, (k, v)) in m.iter().enumerate() {
        if !(inline && i == 0) {
            indent(ind, out);
        }
        out.push_str(&string(k));
        out.push(':');
        match v {
            Json::Object(m) if !m.is_empty() => {
                out.push('\n');
                write_map(m, ind + 2, false, out);
            }
            Json::Array(l) if !l.is_empty() => {
                out.push('\n');
                write_list(l, ind, false, out);
            }
            other => {
                out.push(' ');
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }
}

fn write_list(l: &[Json], ind: usize, inline: bool, out: &mut String) {
    for (i, v) in l.iter().enumerate() {
        if !(inline && i == 0) {
            indent(ind, out);
        }
        out.push_str("- ");
        match v {
            Json::Object(m) if !m.is_empty() => write_map(m, ind + 2, true, out),
            Json::Array(l) if !l.is_empty() => write_list(l, ind + 2, true, out),
            other => {
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }
}

/// A scalar or an empty collection.
fn scalar(j: &Json) -> String {
    match j {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => number(n),
        Json::String(s) => string(s),
        Json::Array(_) => "[]".into(),
        Json::Object(_) => "{}".into(),
    }
}

/// Integers as they are; floats with a `.` and, when there is an exponent, its sign (YAML 1.1
/// reads `1e30` as a string, `1.0e+30` as a float).
fn number(n: &serde_json::Number) -> String {
    let s = n.to_string();
    if n.is_i64() || n.is_u64() {
        return s;
    }
    let (mantissa, exponent) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m.to_owned(), Some(e.to_owned())),
        None => (s.clone(), None),
    };
    let mantissa = if mantissa.contains('.') {
        mantissa
    } else {
        format!("{mantissa}.0")
    };
    match exponent {
        None => mantissa,
        Some(e) if e.starts_with(['+', '-']) => format!("{mantissa}e{e}"),
        Some(e) => format!("{mantissa}e+{e}"),
    }
}

/// Spellings that YAML 1.1 (booleans, null) or YAML 1.2 (core schema) resolve to something other
/// than a string, among the strings that start with a letter. Every other non-string plain
/// scalar (numbers, `.inf`, `.nan`, timestamps, sexagesimal, `~`, `=`, `<<`) starts with a
/// character other than a letter and is quoted anyway.
const NON_STRING_WORDS: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
    "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL",
];

/// Whether `s` can be written without quotes and read back as the same string by YAML 1.1 and
/// 1.2 readers.
fn is_plain_safe(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().all(|c| matches!(c, ' '..='~'))
        && !s.ends_with([' ', ':'])
        && !s.contains(": ")
        && !s.contains(" #")
        && !NON_STRING_WORDS.contains(&s)
}

/// A string as a YAML scalar: plain when safe, single-quoted when every character can stand as it
/// is, double-quoted with escapes otherwise.
fn string(s: &str) -> String {
    if is_plain_safe(s) {
        return s.to_owned();
    }
    if s.chars().all(is_literal_char) {
        return format!("'{}'", s.replace('\'', "''"));
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if is_literal_char(c) => out.push(c),
            c if (c as u32) <= 0xFF => out.push_str(&format!("\\x{:02X}", c as u32)),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// A character that may appear as itself inside a quoted scalar: printable for YAML 1.1 readers
/// (PyYAML's and SnakeYAML's printable set) and not a line break or byte-order mark, which
/// readers fold or drop.
fn is_literal_char(c: char) -> bool {
    matches!(c, ' '..='~')
        || (('\u{A0}'..='\u{D7FF}').contains(&c) && !matches!(c, '\u{2028}' | '\u{2029}'))
        || (('\u{E000}'..='\u{FFFD}').contains(&c) && c != '\u{FEFF}')
        || ('\u{10000}'..='\u{10FFFF}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ambiguous_strings_are_quoted_and_plain_ones_are_not() {
        let y = to_yaml(&json!({
            "a": "no", "b": "yes", "c": "on", "d": "1_000", "e": "12:30:45", "f": "=",
            "g": "<<", "h": "snowex", "i": "Fn::Sub", "j": "", "k": "a: b", "<<": "x"
        }));
        for quoted in [
            "a: 'no'",
            "b: 'yes'",
            "c: 'on'",
            "d: '1_000'",
            "e: '12:30:45'",
            "f: '='",
            "g: '<<'",
            "j: ''",
            "k: 'a: b'",
            "'<<': x",
        ] {
            assert!(y.contains(quoted), "{quoted} in\n{y}");
        }
        assert!(
            y.contains("h: snowex\n") && y.contains("i: Fn::Sub\n"),
            "{y}"
        );
    }

    #[test]
    fn control_and_line_break_characters_are_escaped() {
        let y = to_yaml(&json!({"v": "a\u{0}b\nc\u{2028}d\u{85}e\u{FEFF}é😀"}));
        assert_eq!(y, "v: \"a\\0b\\nc\\u2028d\\x85e\\uFEFFé😀\"\n");
    }

    #[test]
    fn floats_keep_a_point_and_a_signed_exponent() {
        assert_eq!(to_yaml(&json!(1e30)), "1.0e+30\n");
        assert_eq!(to_yaml(&json!(2.5)), "2.5\n");
        assert_eq!(to_yaml(&json!(5432)), "5432\n");
    }

    #[test]
    fn nested_layout() {
        let y = to_yaml(&json!({"Tags": [{"Key": "A", "Value": "b"}], "L": [[1, 2], []], "M": {}}));
        assert_eq!(
            y,
            "Tags:\n- Key: A\n  Value: b\nL:\n- - 1\n  - 2\n- []\nM: {}\n"
        );
    }
}
