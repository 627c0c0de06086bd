//! Synth-time checks of literal property values against the schema: enums, patterns, lengths,
//! numeric ranges. Generated L1 code calls these; expressions (intrinsics) are not checked,
//! because their value is only known to CloudFormation.

use std::sync::LazyLock;

use regex::Regex;

use super::prop::{Prop, SchemaEnum};

/// One problem found in a resource's properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyIssue {
    /// Dotted property path inside the resource, e.g. `Properties.SecurityGroupIngress[0].IpProtocol`.
    pub property: String,
    /// What is wrong.
    pub message: String,
}

/// Collects issues while walking a resource's properties; keeps the current property path.
#[derive(Debug, Default)]
pub struct Checker {
    path: Vec<String>,
    /// What was found, in walk order.
    pub issues: Vec<PropertyIssue>,
}

impl Checker {
    /// An empty checker at the top of a resource.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f` with `segment` pushed on the property path.
    pub fn at(&mut self, segment: &str, f: impl FnOnce(&mut Checker)) {
        self.path.push(segment.to_owned());
        f(self);
        self.path.pop();
    }

    /// Records an issue at the current path.
    pub fn report(&mut self, message: impl Into<String>) {
        self.issues.push(PropertyIssue {
            property: self.path.join("."),
            message: message.into(),
        });
    }

    /// Checks a literal string against the schema's allowed values.
    pub fn enum_of(&mut self, v: &Prop<String>, allowed: &[&str]) {
        if let Some(s) = v.lit()
            && !allowed.contains(&s.as_str())
        {
            self.report(format!("{s:?} is not one of {}", allowed.join(", ")));
        }
    }

    /// Checks a literal schema enum: an `Unknown` value the schema does not list is reported
    /// exactly as [`Checker::enum_of`] reports a string outside the list.
    pub fn known<T: SchemaEnum>(&mut self, v: &Prop<T>) {
        if let Some(e) = v.lit()
            && !e.is_known()
        {
            let s = e.as_ref();
            self.report(format!("{s:?} is not one of {}", T::VALUES.join(", ")));
        }
    }

    /// Checks a literal string against a schema pattern (compiled once, by the caller's static).
    pub fn pattern(&mut self, v: &Prop<String>, re: &LazyLock<Option<Regex>>, pattern: &str) {
        self.pattern_of(v, re, pattern);
    }

    /// [`Checker::pattern`] for any string-like literal (a schema enum's wire string).
    pub fn pattern_of<T: AsRef<str>>(
        &mut self,
        v: &Prop<T>,
        re: &LazyLock<Option<Regex>>,
        pattern: &str,
    ) {
        if let (Some(s), Some(re)) = (v.lit(), re.as_ref())
            && !re.is_match(s.as_ref())
        {
            let s = s.as_ref();
            self.report(format!("{s:?} does not match the pattern {pattern}"));
        }
    }

    /// Checks a literal string's length (in characters).
    pub fn length(&mut self, v: &Prop<String>, min: Option<u64>, max: Option<u64>) {
        self.length_of(v, min, max);
    }

    /// [`Checker::length`] for any string-like literal (a schema enum's wire string).
    pub fn length_of<T: AsRef<str>>(&mut self, v: &Prop<T>, min: Option<u64>, max: Option<u64>) {
        if let Some(s) = v.lit() {
            let s = s.as_ref();
            let n = s.chars().count() as u64;
            if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                self.report(format!(
                    "length {n} is outside {}..={}",
                    min.map_or("0".into(), |m| m.to_string()),
                    max.map_or("any".into(), |m| m.to_string())
                ));
            }
        }
    }

    /// Checks a literal integer against the schema's minimum and maximum.
    pub fn range(&mut self, v: &Prop<i64>, min: Option<i64>, max: Option<i64>) {
        if let Some(&n) = v.lit()
            && (min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m))
        {
            self.report(format!(
                "{n} is outside {}..={}",
                min.map_or("any".into(), |m| m.to_string()),
                max.map_or("any".into(), |m| m.to_string())
            ));
        }
    }

    /// Checks a literal list's item count.
    pub fn items<T>(&mut self, v: &Prop<Vec<T>>, min: Option<u64>, max: Option<u64>) {
        if let Some(l) = v.lit() {
            let n = l.len() as u64;
            if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                self.report(format!("{n} items is outside the allowed count"));
            }
        }
    }
}

/// Compiles a schema pattern for a generated `LazyLock`. Schema patterns are ECMAScript; the few
/// the `regex` crate cannot compile (look-around) are skipped rather than failing synth.
pub fn compile_pattern(pattern: &str) -> Option<Regex> {
    Regex::new(&ecmascript_classes(pattern)).ok()
}

/// Gives `\d` and `\w` their ECMAScript meaning (ASCII only: `[0-9]`, `[0-9A-Za-z_]`). The
/// `regex` crate reads them as Unicode classes, which is both wrong for schema patterns and
/// expensive: compiling the Unicode `\d{12}` of every ARN pattern was most of a synth process's
/// time.
fn ecmascript_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut in_class = false;
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('d') if in_class => out.push_str("0-9"),
                Some('d') => out.push_str("[0-9]"),
                Some('w') if in_class => out.push_str("0-9A-Za-z_"),
                Some('w') => out.push_str("[0-9A-Za-z_]"),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            },
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // A `]` right after `[` or `[^` is a literal, not the end of the class.
                if chars.clone().next() == Some('^') {
                    out.push('^');
                    chars.next();
                }
                if chars.clone().next() == Some(']') {
                    out.push(']');
                    chars.next();
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Validation of a generated type's literals against its schema.
pub trait Validate {
    /// Reports each literal the schema rejects.
    fn validate(&self, c: &mut Checker);
}

impl<T: Validate> Validate for Prop<T> {
    fn validate(&self, c: &mut Checker) {
        if let Prop::Lit(t) = self {
            t.validate(c);
        }
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn validate(&self, c: &mut Checker) {
        for (i, item) in self.iter().enumerate() {
            c.at(&format!("[{i}]"), |c| item.validate(c));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static RE: LazyLock<Option<Regex>> = LazyLock::new(|| compile_pattern("^sg-[a-z0-9]+$"));

    #[test]
    fn digit_and_word_classes_are_ascii_as_in_ecmascript() {
        assert_eq!(ecmascript_classes(r"^\d{12}$"), "^[0-9]{12}$");
        assert_eq!(
            ecmascript_classes(r"^[\w.\-]+:\\d$"),
            r"^[0-9A-Za-z_.\-]+:\\d$"
        );
        assert_eq!(ecmascript_classes(r"[^\d]\s"), r"[^0-9]\s");
        assert_eq!(ecmascript_classes(r"[]\d]"), "[]0-9]");
        let re = compile_pattern(r"^\d{12}$").expect("compiles");
        assert!(re.is_match("123456789012"));
        // Arabic-Indic digits are Unicode \d, but not ECMAScript \d.
        assert!(!re.is_match("١٢٣٤٥٦٧٨٩٠١٢"));
    }

    #[test]
    fn literals_are_checked_expressions_are_not() {
        let mut c = Checker::new();
        c.at("Engine", |c| {
            c.enum_of(&Prop::from("mysqlx"), &["postgres", "mysql"]);
            c.enum_of(&Prop::from("postgres"), &["postgres", "mysql"]);
            c.enum_of(
                &Prop::from(crate::template::Value::param_ref("E")),
                &["postgres"],
            );
        });
        c.at("Port", |c| {
            c.range(&Prop::from(70000), Some(1), Some(65535))
        });
        c.at("Id", |c| {
            c.pattern(&Prop::from("vpc-1"), &RE, "^sg-[a-z0-9]+$")
        });
        c.at("Name", |c| c.length(&Prop::from("abc"), Some(4), None));
        let props: Vec<_> = c.issues.iter().map(|i| i.property.as_str()).collect();
        assert_eq!(props, ["Engine", "Port", "Id", "Name"]);
    }
}
