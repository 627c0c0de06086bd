//! Reading a CloudFormation template the way CloudFormation reads it: JSON, or YAML with the
//! short-form intrinsic tags (`!Ref`, `!GetAtt a.b`, `!Sub`, ...) and YAML 1.1 plain scalars.
//!
//! Why a loader of its own: a generic YAML library reads YAML 1.2 and rejects unknown tags, so a
//! template in short form (most hand-written templates, and most of the public
//! aws-cloudformation-templates repository) could not be read at all, and `Enabled: yes` or
//! `Mode: 0755` would not mean what CloudFormation takes them to mean. This module builds JSON from
//! the events of `saphyr-parser`, which tell each scalar's style (plain or quoted) and tag, and
//! resolves plain scalars with the YAML 1.1 rules of PyYAML (the reader of cfn-lint, cfn-flip and
//! `aws cloudformation package`):
//!
//! - `yes/no/on/off/true/false` (lower, Capitalized or UPPER case) are booleans; `y`/`n` stay
//!   strings, as in PyYAML and SnakeYAML.
//! - `~`, `null`, `Null`, `NULL` and an empty value are null.
//! - integers: `0x1F`, `0b101`, `017` (octal), `1_000`, `12:30:45` (base 60); `0o17` is YAML 1.2
//!   and stays a string, as does `08`.
//! - floats need a dot (`1.5`, `1.`, `.5`, `6.8523015e+5`, `.inf`, `.nan`); `1e5` stays a string.
//!   JSON has no infinity or NaN, so `.inf`/`.nan` keep their text.
//! - dates and timestamps keep their text (CloudFormation's `AWSTemplateFormatVersion: 2010-09-09`).
//! - quoted and block scalars are always strings.
//!
//! Mapping keys are taken as written (`123456789012:` is the key "123456789012"), a duplicate key
//! is an error (it would silently drop half of a definition), anchors, aliases and `<<` merge keys
//! work as in YAML 1.1, and the document may nest at most [`MAX_DEPTH`] levels and expand aliases to
//! at most [`MAX_VALUES`] values, so no input can exhaust the stack or the memory.
//!
//! The module depends on nothing else in snowcdk: any command that reads a template (the diff base,
//! deployed templates from `GetTemplate`, and later template assembly) uses it.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};
use serde_json::{Map, Number, Value as Json};

/// How deep a document may nest (serde_json allows 128; real templates stay under 20).
pub const MAX_DEPTH: usize = 256;
/// How many values a YAML document may expand to through aliases (a 1 MB template, the largest
/// CloudFormation accepts, has far fewer than this).
pub const MAX_VALUES: usize = 2_000_000;

/// The syntax of a template file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON: what synth writes by default and what deploy sends.
    Json,
    /// YAML, with CloudFormation's short-form tags (`!Ref`, `!Sub`, ...).
    Yaml,
}

impl Format {
    /// The format a file name announces (`.json`, `.yaml`, `.yml`), if any.
    pub fn from_file_name(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".json") {
            Some(Format::Json)
        } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            Some(Format::Yaml)
        } else {
            None
        }
    }
}

/// What is wrong with a template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The JSON parser's complaint.
    #[error("not valid JSON: {0}")]
    Json(String),
    /// The YAML parser's complaint.
    #[error("not valid YAML: {0}")]
    Yaml(String),
    /// A `!Tag` that is neither a CloudFormation short form nor a YAML core tag.
    #[error(
        "unknown tag {0} (CloudFormation's short forms are written !Name, e.g. !Ref, !GetAtt, !Sub)"
    )]
    UnknownTag(String),
    /// A tagged value of the wrong shape (e.g. `!!int` on text, `!!str` on a mapping).
    #[error("{value:?} is not a valid {tag}")]
    BadTaggedValue {
        /// The tag as written.
        tag: String,
        /// The value it was put on, or its kind for a collection.
        value: String,
    },
    /// A mapping repeats a key: CloudFormation would silently keep one, so it is refused rather
    /// than guessed.
    #[error("duplicate key {0:?} (CloudFormation would keep only one of them)")]
    DuplicateKey(String),
    /// A mapping key that is a collection, an alias of one, or a tagged value: JSON keys are
    /// strings.
    #[error("a mapping key must be a plain string, not {0}")]
    BadKey(&'static str),
    /// `<<` merges something other than mappings.
    #[error("the merge key << needs a mapping or a list of mappings")]
    BadMerge,
    /// The file holds several YAML documents; which one CloudFormation reads would be a guess.
    #[error("more than one YAML document (---): a template is a single document")]
    MultipleDocuments,
    /// Nesting deeper than [`MAX_DEPTH`]: no real template is, and deep recursion could overflow
    /// the stack.
    #[error("nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// Aliases expand to more than [`MAX_VALUES`] values (a "billion laughs" document).
    #[error("aliases expand to more than {MAX_VALUES} values")]
    TooLarge,
    /// Valid JSON or YAML, but not shaped like a template (no `Resources`, a resource without
    /// `Type`, a section that is not a mapping).
    #[error("not a CloudFormation template: {0}")]
    NotTemplate(String),
}

/// A template that could not be read: where (file or other origin, line and column when known)
/// and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ReadError {
    /// The file name or a description such as "the deployed template of app-dev".
    pub origin: String,
    /// 1-based line.
    pub line: Option<usize>,
    /// 1-based column.
    pub column: Option<usize>,
    /// What is wrong.
    pub problem: Problem,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.origin, self.problem),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.origin, self.problem),
            _ => write!(f, "{}: {}", self.origin, self.problem),
        }
    }
}

impl ReadError {
    fn new(origin: &str, problem: Problem) -> ReadError {
        ReadError {
            origin: origin.to_owned(),
            line: None,
            column: None,
            problem,
        }
    }

    fn at(origin: &str, span: Span, problem: Problem) -> ReadError {
        ReadError {
            origin: origin.to_owned(),
            line: Some(span.start.line()),
            column: Some(span.start.col() + 1),
            problem,
        }
    }
}

/// Reads and checks a template: [`parse_document`], then [`check_template`].
pub fn read_template(origin: &str, text: &str, format: Option<Format>) -> Result<Json, ReadError> {
    let doc = parse_document(origin, text, format)?;
    check_template(origin, &doc)?;
    Ok(doc)
}

/// Parses a document as `format`, or, when the format is unknown (a `GetTemplate` body), as JSON
/// when it looks like JSON (starts with `{` or `[`) and parses as JSON, else as YAML.
pub fn parse_document(origin: &str, text: &str, format: Option<Format>) -> Result<Json, ReadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match format {
        Some(Format::Json) => parse_json(origin, text),
        Some(Format::Yaml) => parse_yaml(origin, text),
        None => {
            if text.trim_start().starts_with(['{', '[']) {
                match parse_json(origin, text) {
                    Ok(v) => Ok(v),
                    // A YAML flow mapping also starts with `{`.
                    Err(json_err) => parse_yaml(origin, text).map_err(|_| json_err),
                }
            } else {
                parse_yaml(origin, text)
            }
        }
    }
}

/// Parses JSON.
pub fn parse_json(origin: &str, text: &str) -> Result<Json, ReadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_json::from_str(text).map_err(|e| ReadError {
        origin: origin.to_owned(),
        line: Some(e.line()),
        column: Some(e.column()),
        problem: Problem::Json(strip_position(&e.to_string())),
    })
}

/// serde_json appends " at line L column C" to its messages; the location is ours to print.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// Checks that a parsed document is a template: a mapping with a `Resources` mapping whose
/// entries have a `Type`, and mappings for the other sections it has. Anything else (`[]`, an
/// empty file, a scalar) would otherwise be compared as a template with no resources, which
/// reads as "every resource is new" or "every resource is removed".
pub fn check_template(origin: &str, doc: &Json) -> Result<(), ReadError> {
    let not = |why: String| Err(ReadError::new(origin, Problem::NotTemplate(why)));
    let Some(top) = doc.as_object() else {
        return not(format!(
            "the document is {}, not a mapping with a Resources section",
            kind(doc)
        ));
    };
    match top.get("Resources") {
        None => return not("it has no Resources section".into()),
        Some(Json::Object(resources)) => {
            for (id, r) in resources {
                // `Fn::ForEach::Name: [identifier, collection, fragment]` (LanguageExtensions).
                if id.starts_with("Fn::ForEach::") {
                    continue;
                }
                match r {
                    // A `Type` that is not a string (a tool's module tag) is CloudFormation's to refuse.
                    Json::Object(m) if m.contains_key("Type") => {}
                    Json::Object(_) => return not(format!("resource {id} has no Type")),
                    other => {
                        return not(format!(
                            "resource {id} is {}, not a mapping with a Type",
                            kind(other)
                        ));
                    }
                }
            }
        }
        Some(other) => return not(format!("Resources is {}, not a mapping", kind(other))),
    }
    for section in ["Parameters", "Mappings", "Conditions", "Outputs", "Rules"] {
        if let Some(v) = top.get(section)
            && !v.is_object()
        {
            return not(format!("{section} is {}, not a mapping", kind(v)));
        }
    }
    Ok(())
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "empty (null)",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a mapping",
    }
}

/// Parses CloudFormation YAML into the JSON CloudFormation would see.
pub fn parse_yaml(origin: &str, text: &str) -> Result<Json, ReadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut loader = Loader {
        origin,
        stack: Vec::new(),
        anchors: HashMap::new(),
        values: 0,
        root: None,
        documents: 0,
    };
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| scan_error(origin, &e))?;
        loader.event(event, span)?;
    }
    Ok(loader.root.unwrap_or(Json::Null))
}

fn scan_error(origin: &str, e: &ScanError) -> ReadError {
    ReadError {
        origin: origin.to_owned(),
        line: Some(e.marker().line()),
        column: Some(e.marker().col() + 1),
        problem: Problem::Yaml(e.info().to_owned()),
    }
}

/// The long-form key of a short-form tag `!Name`: `Ref` and `Condition` as they are, any other
/// name `Fn::Name`. Like cfn-lint and cfn-flip, a name CloudFormation does not know (a macro's or
/// a tool's, such as `!Rain::Embed`) is kept as `Fn::Name` rather than refused: the diff then shows
/// it, and CloudFormation is the one to reject it.
fn long_form(suffix: &str) -> String {
    match suffix {
        "Ref" | "Condition" => suffix.to_owned(),
        _ => format!("Fn::{suffix}"),
    }
}

/// What a node's tag asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tagged {
    /// No tag: plain scalars are resolved.
    None,
    /// `!` alone: a string, never resolved.
    NonSpecific,
    /// A short form: wrap in `{key: value}` (`!GetAtt a.b` also splits).
    Intrinsic(String),
    /// `!!str`, `!!int`, ... (the suffix).
    Core(&'static str),
}

const CORE_TAGS: &[&str] = &[
    "str",
    "int",
    "float",
    "bool",
    "null",
    "binary",
    "timestamp",
    "seq",
    "map",
];

fn classify(origin: &str, tag: Option<&Tag>, span: Span) -> Result<Tagged, ReadError> {
    let Some(tag) = tag else {
        return Ok(Tagged::None);
    };
    if tag.handle.is_empty() && tag.suffix == "!" {
        return Ok(Tagged::NonSpecific);
    }
    if tag.handle == "!" && !tag.suffix.is_empty() {
        return Ok(Tagged::Intrinsic(long_form(&tag.suffix)));
    } else if tag.is_yaml_core_schema()
        && let Some(core) = CORE_TAGS.iter().find(|c| **c == tag.suffix)
    {
        return Ok(Tagged::Core(core));
    }
    Err(ReadError::at(
        origin,
        span,
        Problem::UnknownTag(tag.to_string()),
    ))
}

fn tag_name(t: &Tagged) -> String {
    match t {
        Tagged::Core(c) => format!("!!{c}"),
        Tagged::Intrinsic(k) => format!("!{}", k.trim_start_matches("Fn::")),
        Tagged::NonSpecific => "!".into(),
        Tagged::None => String::new(),
    }
}

/// A mapping key waiting for its value.
enum Key {
    Name(String),
    /// `<<`: the value is merged into the mapping.
    Merge(Span),
}

// One frame per nesting level (at most MAX_DEPTH), so the size of the larger variant is no cost.
#[allow(clippy::large_enum_variant)]
enum Frame {
    Seq {
        items: Vec<Json>,
        tag: Tagged,
        anchor: usize,
        values_before: usize,
    },
    Map {
        map: Map<String, Json>,
        key: Option<(Key, Span)>,
        /// Entries from `<<` merge keys; explicit keys win over them.
        merged: Map<String, Json>,
        tag: Tagged,
        anchor: usize,
        values_before: usize,
    },
}

struct Loader<'o> {
    origin: &'o str,
    stack: Vec<Frame>,
    /// Anchor id -> its value and how many values it holds.
    anchors: HashMap<usize, (Json, usize)>,
    /// Values built so far, aliases counted at their full size.
    values: usize,
    root: Option<Json>,
    documents: usize,
}

impl Loader<'_> {
    fn err(&self, span: Span, problem: Problem) -> ReadError {
        ReadError::at(self.origin, span, problem)
    }

    fn awaiting_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    fn count(&mut self, n: usize, span: Span) -> Result<(), ReadError> {
        self.values = self.values.saturating_add(n);
        if self.values > MAX_VALUES {
            return Err(self.err(span, Problem::TooLarge));
        }
        Ok(())
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), ReadError> {
        let is_map = matches!(event, Event::MappingStart(..));
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(self.err(span, Problem::MultipleDocuments));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let tagged = classify(self.origin, tag.as_deref(), span)?;
                self.count(1, span)?;
                if self.awaiting_key() {
                    let key = match &tagged {
                        Tagged::None if style == ScalarStyle::Plain && text == "<<" => {
                            Key::Merge(span)
                        }
                        Tagged::None | Tagged::NonSpecific | Tagged::Core("str") => {
                            Key::Name(text.to_string())
                        }
                        _ => return Err(self.err(span, Problem::BadKey("a tagged value"))),
                    };
                    if anchor > 0 {
                        self.anchors
                            .insert(anchor, (Json::String(text.to_string()), 1));
                    }
                    if let Some(Frame::Map { key: slot, .. }) = self.stack.last_mut() {
                        *slot = Some((key, span));
                    }
                    return Ok(());
                }
                let value = self.scalar(&text, style, tagged, span)?;
                self.finish(value, anchor, 1, span)?;
            }
            Event::Alias(id) => {
                let Some((value, size)) = self.anchors.get(&id).cloned() else {
                    return Err(self.err(span, Problem::Yaml("unknown anchor".into())));
                };
                self.count(size, span)?;
                if self.awaiting_key() {
                    let Json::String(name) = value else {
                        return Err(self.err(span, Problem::BadKey("an alias of a collection")));
                    };
                    if let Some(Frame::Map { key: slot, .. }) = self.stack.last_mut() {
                        *slot = Some((Key::Name(name), span));
                    }
                    return Ok(());
                }
                self.finish(value, 0, size, span)?;
            }
            Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag) => {
                if self.awaiting_key() {
                    return Err(self.err(
                        span,
                        Problem::BadKey(if is_map { "a mapping" } else { "a list" }),
                    ));
                }
                if self.stack.len() >= MAX_DEPTH {
                    return Err(self.err(span, Problem::TooDeep));
                }
                let tag = classify(self.origin, tag.as_deref(), span)?;
                if let Tagged::Core(c) = tag
                    && c != if is_map { "map" } else { "seq" }
                {
                    return Err(self.err(
                        span,
                        Problem::BadTaggedValue {
                            tag: tag_name(&tag),
                            value: if is_map { "a mapping" } else { "a list" }.into(),
                        },
                    ));
                }
                self.count(1, span)?;
                let values_before = self.values;
                self.stack.push(if is_map {
                    Frame::Map {
                        map: Map::new(),
                        key: None,
                        merged: Map::new(),
                        tag,
                        anchor,
                        values_before,
                    }
                } else {
                    Frame::Seq {
                        items: Vec::new(),
                        tag,
                        anchor,
                        values_before,
                    }
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Err(self.err(span, Problem::Yaml("unbalanced collection".into())));
                };
                let (value, tag, anchor, values_before) = match frame {
                    Frame::Seq {
                        items,
                        tag,
                        anchor,
                        values_before,
                    } => (Json::Array(items), tag, anchor, values_before),
                    Frame::Map {
                        mut map,
                        merged,
                        tag,
                        anchor,
                        values_before,
                        ..
                    } => {
                        for (k, v) in merged {
                            map.entry(k).or_insert(v);
                        }
                        (Json::Object(map), tag, anchor, values_before)
                    }
                };
                let value = match tag {
                    Tagged::Intrinsic(key) => wrap(&key, value),
                    _ => value,
                };
                let size = self.values - values_before + 1;
                self.finish(value, anchor, size, span)?;
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }

    /// The value of a scalar that is not a mapping key.
    fn scalar(
        &self,
        text: &str,
        style: ScalarStyle,
        tagged: Tagged,
        span: Span,
    ) -> Result<Json, ReadError> {
        let bad = || {
            self.err(
                span,
                Problem::BadTaggedValue {
                    tag: tag_name(&tagged),
                    value: text.to_owned(),
                },
            )
        };
        Ok(match tagged {
            Tagged::None if style == ScalarStyle::Plain => resolve_plain(text),
            Tagged::None | Tagged::NonSpecific => Json::String(text.to_owned()),
            // A short form's scalar is taken as a string, whatever it looks like (`!Ref 123`).
            Tagged::Intrinsic(key) if key == "Fn::GetAtt" => wrap(
                "Fn::GetAtt",
                Json::Array(match text.split_once('.') {
                    Some((resource, attribute)) => vec![
                        Json::String(resource.to_owned()),
                        Json::String(attribute.to_owned()),
                    ],
                    None => vec![Json::String(text.to_owned())],
                }),
            ),
            Tagged::Intrinsic(key) => wrap(&key, Json::String(text.to_owned())),
            Tagged::Core("int") => {
                if INT.is_match(text) {
                    construct_int(text)
                } else {
                    return Err(bad());
                }
            }
            Tagged::Core("float") => {
                if FLOAT.is_match(text) || INT.is_match(text) {
                    construct_float(text)
                } else {
                    return Err(bad());
                }
            }
            Tagged::Core("bool") => match resolve_plain(text) {
                b @ Json::Bool(_) => b,
                _ => return Err(bad()),
            },
            Tagged::Core("null") => Json::Null,
            Tagged::Core("seq" | "map") => return Err(bad()),
            Tagged::Core(_) => Json::String(text.to_owned()),
        })
    }

    /// Attaches a finished value to its parent (or makes it the document).
    fn finish(
        &mut self,
        value: Json,
        anchor: usize,
        size: usize,
        span: Span,
    ) -> Result<(), ReadError> {
        if anchor > 0 {
            self.anchors.insert(anchor, (value.clone(), size));
        }
        let origin = self.origin;
        match self.stack.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Seq { items, .. }) => items.push(value),
            Some(Frame::Map {
                map, key, merged, ..
            }) => match key.take() {
                Some((Key::Name(name), key_span)) => {
                    if map.contains_key(&name) {
                        return Err(ReadError::at(origin, key_span, Problem::DuplicateKey(name)));
                    }
                    map.insert(name, value);
                }
                Some((Key::Merge(merge_span), _)) => {
                    let sources = match value {
                        Json::Object(m) => vec![m],
                        Json::Array(items) => {
                            let mut maps = Vec::new();
                            for item in items {
                                let Json::Object(m) = item else {
                                    return Err(ReadError::at(
                                        origin,
                                        merge_span,
                                        Problem::BadMerge,
                                    ));
                                };
                                maps.push(m);
                            }
                            // The first mapping of the list wins, as in YAML 1.1.
                            maps.reverse();
                            maps
                        }
                        _ => return Err(ReadError::at(origin, merge_span, Problem::BadMerge)),
                    };
                    for m in sources {
                        for (k, v) in m {
                            merged.insert(k, v);
                        }
                    }
                }
                None => {
                    return Err(ReadError::at(
                        origin,
                        span,
                        Problem::Yaml("a value without a key".into()),
                    ));
                }
            },
        }
        Ok(())
    }
}

fn wrap(key: &str, value: Json) -> Json {
    let mut m = Map::new();
    m.insert(key.to_owned(), value);
    Json::Object(m)
}

// YAML 1.1 implicit types, as PyYAML's resolver spells them.
static BOOL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")
        .expect("static regex")
});
static INT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
    )
    .expect("static regex")
});
static FLOAT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
    )
    .expect("static regex")
});

/// A plain (unquoted, untagged) scalar as YAML 1.1 reads it.
pub fn resolve_plain(text: &str) -> Json {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Json::Null,
        _ => {}
    }
    if BOOL.is_match(text) {
        return Json::Bool(matches!(
            text,
            "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON"
        ));
    }
    if INT.is_match(text) {
        return construct_int(text);
    }
    if FLOAT.is_match(text) {
        return construct_float(text);
    }
    Json::String(text.to_owned())
}

/// An integer matched by [`INT`]; one too large for 128 bits keeps its text.
fn construct_int(text: &str) -> Json {
    let cleaned = text.replace('_', "");
    let (negative, digits) = match cleaned.as_bytes().first() {
        Some(b'-') => (true, &cleaned[1..]),
        Some(b'+') => (false, &cleaned[1..]),
        _ => (false, cleaned.as_str()),
    };
    let magnitude: Option<u128> = if digits == "0" || digits.is_empty() {
        Some(0)
    } else if let Some(b) = digits.strip_prefix("0b") {
        u128::from_str_radix(b, 2).ok()
    } else if let Some(h) = digits.strip_prefix("0x") {
        u128::from_str_radix(h, 16).ok()
    } else if let Some(o) = digits.strip_prefix('0') {
        u128::from_str_radix(o, 8).ok()
    } else if digits.contains(':') {
        digits.split(':').try_fold(0u128, |acc, part| {
            acc.checked_mul(60)?.checked_add(part.parse::<u128>().ok()?)
        })
    } else {
        digits.parse::<u128>().ok()
    };
    let Some(m) = magnitude else {
        return Json::String(text.to_owned());
    };
    let number = if negative {
        i64::try_from(m)
            .ok()
            .map(|v| Number::from(-v))
            .or_else(|| (m == 1u128 << 63).then(|| Number::from(i64::MIN)))
    } else {
        u64::try_from(m).ok().map(Number::from)
    };
    match number {
        Some(n) => Json::Number(n),
        // As a JSON reader would take the same digits: a float.
        None => float_or_text(if negative { -(m as f64) } else { m as f64 }, text),
    }
}

/// A float matched by [`FLOAT`] (or, for `!!float`, [`INT`]).
fn construct_float(text: &str) -> Json {
    let cleaned = text.replace('_', "").to_ascii_lowercase();
    let (sign, body) = match cleaned.as_bytes().first() {
        Some(b'-') => (-1.0, &cleaned[1..]),
        Some(b'+') => (1.0, &cleaned[1..]),
        _ => (1.0, cleaned.as_str()),
    };
    let value = if body.contains(':') {
        body.split(':').try_fold(0.0f64, |acc, part| {
            Some(acc * 60.0 + part.parse::<f64>().ok()?)
        })
    } else if let Some(h) = body.strip_prefix("0x") {
        u128::from_str_radix(h, 16).ok().map(|v| v as f64)
    } else if let Some(b) = body.strip_prefix("0b") {
        u128::from_str_radix(b, 2).ok().map(|v| v as f64)
    } else if body.len() > 1 && body.starts_with('0') && !body.contains('.') {
        u128::from_str_radix(&body[1..], 8).ok().map(|v| v as f64)
    } else {
        body.parse::<f64>().ok()
    };
    match value {
        Some(v) => float_or_text(sign * v, text),
        None => Json::String(text.to_owned()),
    }
}

/// JSON has no infinity or NaN: those keep their YAML text.
fn float_or_text(v: f64, text: &str) -> Json {
    Number::from_f64(v).map_or_else(|| Json::String(text.to_owned()), Json::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_1_1_plain_scalars() {
        for (text, want) in [
            ("yes", json!(true)),
            ("No", json!(false)),
            ("ON", json!(true)),
            ("off", json!(false)),
            ("y", json!("y")),
            ("~", json!(null)),
            ("", json!(null)),
            ("0x1F", json!(31)),
            ("017", json!(15)),
            ("0o17", json!("0o17")),
            ("08", json!("08")),
            ("0b101", json!(5)),
            ("1_000", json!(1000)),
            ("-12", json!(-12)),
            ("12:30:45", json!(45045)),
            ("1.5", json!(1.5)),
            ("1.", json!(1.0)),
            (".5", json!(0.5)),
            ("6.8523015e+5", json!(685230.15)),
            ("1e5", json!("1e5")),
            ("190:20:30.15", json!(685230.15)),
            (".inf", json!(".inf")),
            ("2010-09-09", json!("2010-09-09")),
            ("=", json!("=")),
            ("99999999999999999999", json!(1e20)),
        ] {
            assert_eq!(resolve_plain(text), want, "{text}");
        }
    }
}
