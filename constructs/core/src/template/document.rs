//! The template document: the sections of a CloudFormation template, in the order they are written.
//!
//! Rendering is deterministic: sections in a fixed order, resources in construct-tree order,
//! properties in schema order, 2-space JSON with a trailing newline.

use serde_json::{Map, Value as Json, json};

use super::value::Value;

/// A CloudFormation parameter type, including the AWS-specific and SSM-backed ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamType {
    /// A string.
    String,
    /// An integer or float.
    Number,
    /// An array of numbers.
    ListOfNumber,
    /// Comma-separated strings.
    CommaDelimitedList,
    /// An AWS-specific type such as `AWS::EC2::VPC::Id` or `AWS::EC2::KeyPair::KeyName`.
    Aws(String),
    /// `List<AWS::EC2::Subnet::Id>` and friends.
    ListOfAws(String),
    /// `AWS::SSM::Parameter::Name`.
    SsmName,
    /// `AWS::SSM::Parameter::Value<T>`: the value of an SSM parameter of type `T`
    /// (`String`, `List<String>`, `AWS::EC2::Image::Id`, ...).
    SsmValue(String),
}

impl ParamType {
    /// The `Type` string in the template.
    pub fn as_type(&self) -> String {
        match self {
            ParamType::String => "String".into(),
            ParamType::Number => "Number".into(),
            ParamType::ListOfNumber => "List<Number>".into(),
            ParamType::CommaDelimitedList => "CommaDelimitedList".into(),
            ParamType::Aws(t) => t.clone(),
            ParamType::ListOfAws(t) => format!("List<{t}>"),
            ParamType::SsmName => "AWS::SSM::Parameter::Name".into(),
            ParamType::SsmValue(t) => format!("AWS::SSM::Parameter::Value<{t}>"),
        }
    }
}

/// A template parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    /// The CloudFormation parameter type.
    pub kind: ParamType,
    /// `Description`.
    pub description: Option<String>,
    /// `Default`, used when the deploy passes no value.
    pub default: Option<Json>,
    /// `AllowedValues`.
    pub allowed_values: Vec<String>,
    /// `AllowedPattern`.
    pub allowed_pattern: Option<String>,
    /// `ConstraintDescription`, shown when a value is rejected.
    pub constraint_description: Option<String>,
    /// `MinLength`.
    pub min_length: Option<u32>,
    /// `MaxLength`.
    pub max_length: Option<u32>,
    /// `MinValue`.
    pub min_value: Option<f64>,
    /// `MaxValue`.
    pub max_value: Option<f64>,
    /// `NoEcho`: the value is masked in the console and API.
    pub no_echo: bool,
}

impl Parameter {
    /// A parameter of this type with no other setting.
    pub fn new(kind: ParamType) -> Self {
        Self {
            kind,
            description: None,
            default: None,
            allowed_values: Vec::new(),
            allowed_pattern: None,
            constraint_description: None,
            min_length: None,
            max_length: None,
            min_value: None,
            max_value: None,
            no_echo: false,
        }
    }

    /// Sets `Description`.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }

    /// Sets `Default`.
    pub fn default(mut self, d: impl Into<Json>) -> Self {
        self.default = Some(d.into());
        self
    }

    /// Sets `AllowedPattern`.
    pub fn allowed_pattern(mut self, p: impl Into<String>) -> Self {
        self.allowed_pattern = Some(p.into());
        self
    }

    fn to_json(&self) -> Json {
        let mut m = Map::new();
        m.insert("Type".into(), json!(self.kind.as_type()));
        if let Some(d) = &self.description {
            m.insert("Description".into(), json!(d));
        }
        if let Some(d) = &self.default {
            m.insert("Default".into(), d.clone());
        }
        if !self.allowed_values.is_empty() {
            m.insert("AllowedValues".into(), json!(self.allowed_values));
        }
        if let Some(p) = &self.allowed_pattern {
            m.insert("AllowedPattern".into(), json!(p));
        }
        if let Some(c) = &self.constraint_description {
            m.insert("ConstraintDescription".into(), json!(c));
        }
        for (k, v) in [
            ("MinLength", self.min_length),
            ("MaxLength", self.max_length),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        }
        for (k, v) in [("MinValue", self.min_value), ("MaxValue", self.max_value)] {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        }
        if self.no_echo {
            m.insert("NoEcho".into(), json!(true));
        }
        Json::Object(m)
    }
}

/// A stack output.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// `Value`.
    pub value: Value,
    /// `Description`.
    pub description: Option<String>,
    /// `Export.Name`, for `Fn::ImportValue` in other stacks.
    pub export_name: Option<Value>,
    /// `Condition`: the output exists only when it holds.
    pub condition: Option<String>,
}

impl Output {
    /// An output of `value`.
    pub fn new(value: impl Into<Value>) -> Self {
        Self {
            value: value.into(),
            description: None,
            export_name: None,
            condition: None,
        }
    }

    /// Sets `Description`.
    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }

    /// Exports the output under `name`.
    pub fn export(mut self, name: impl Into<Value>) -> Self {
        self.export_name = Some(name.into());
        self
    }

    fn to_json(&self) -> Json {
        let mut m = Map::new();
        if let Some(d) = &self.description {
            m.insert("Description".into(), json!(d));
        }
        m.insert("Value".into(), self.value.to_json());
        if let Some(e) = &self.export_name {
            m.insert("Export".into(), json!({ "Name": e.to_json() }));
        }
        if let Some(c) = &self.condition {
            m.insert("Condition".into(), json!(c));
        }
        Json::Object(m)
    }
}

/// `DeletionPolicy` / `UpdateReplacePolicy` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletionPolicy {
    /// The resource is deleted with the stack.
    Delete,
    /// The resource is kept (and left outside any stack).
    Retain,
    /// Kept, unless the stack's creation fails and rolls back.
    RetainExceptOnCreate,
    /// A final snapshot is taken, then the resource is deleted.
    Snapshot,
}

impl DeletionPolicy {
    /// The policy as written in the template.
    pub fn as_str(self) -> &'static str {
        match self {
            DeletionPolicy::Delete => "Delete",
            DeletionPolicy::Retain => "Retain",
            DeletionPolicy::RetainExceptOnCreate => "RetainExceptOnCreate",
            DeletionPolicy::Snapshot => "Snapshot",
        }
    }
}

/// One resource as it will be written: its place in the construct tree and its template entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceEntry {
    /// The construct path, for error messages.
    pub path: String,
    /// The logical id in the template.
    pub logical_id: String,
    /// `AWS::Service::Type`.
    pub type_name: &'static str,
    /// `Properties`, as the construct set them (tags are added at synth).
    pub properties: Value,
    /// `DependsOn`: logical ids created first.
    pub depends_on: Vec<String>,
    /// `Condition`: the resource exists only when it holds.
    pub condition: Option<String>,
    /// `DeletionPolicy`.
    pub deletion_policy: Option<DeletionPolicy>,
    /// `UpdateReplacePolicy`.
    pub update_replace_policy: Option<DeletionPolicy>,
    /// `Metadata`, in insertion order.
    pub metadata: Vec<(String, Value)>,
}

/// What [`ResourceEntry::add_metadata_item`] does when the list already holds an item with the
/// same `"id"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnRepeat {
    /// Keep the item already there (checkov skips: the first reason stands).
    KeepFirst,
    /// Replace it (rule suppressions: the last reason stands).
    Replace,
}

impl ResourceEntry {
    /// Adds `item`, a map whose `"id"` is `id`, to the list at `Metadata.<section>.<list>`, keeping
    /// the resource's other metadata. The one writer of the annotations tools read from a
    /// resource's metadata: checkov skips (`checkov.skip`) and snowcdk's rule suppressions
    /// (`snowcdk.suppressions`). A section or list that is not a map or list is replaced.
    pub fn add_metadata_item(
        &mut self,
        section: &str,
        list: &str,
        id: &str,
        item: Value,
        on_repeat: OnRepeat,
    ) {
        let section = entry_in(&mut self.metadata, section, || Value::Map(Vec::new()));
        if !matches!(section, Value::Map(_)) {
            *section = Value::Map(Vec::new());
        }
        let Value::Map(pairs) = section else {
            return;
        };
        let list = entry_in(pairs, list, || Value::List(Vec::new()));
        if !matches!(list, Value::List(_)) {
            *list = Value::List(Vec::new());
        }
        let Value::List(items) = list else {
            return;
        };
        let same = |v: &Value| match v {
            Value::Map(p) => p.iter().any(|(k, v)| k == "id" && v.as_str() == Some(id)),
            _ => false,
        };
        match (items.iter_mut().find(|v| same(v)), on_repeat) {
            (Some(existing), OnRepeat::Replace) => *existing = item,
            (Some(_), OnRepeat::KeepFirst) => {}
            (None, _) => items.push(item),
        }
    }

    fn to_json(&self) -> Json {
        let mut m = Map::new();
        m.insert("Type".into(), json!(self.type_name));
        if let Some(c) = &self.condition {
            m.insert("Condition".into(), json!(c));
        }
        if !self.depends_on.is_empty() {
            m.insert("DependsOn".into(), json!(self.depends_on));
        }
        if let Some(p) = self.deletion_policy {
            m.insert("DeletionPolicy".into(), json!(p.as_str()));
        }
        if let Some(p) = self.update_replace_policy {
            m.insert("UpdateReplacePolicy".into(), json!(p.as_str()));
        }
        if !self.metadata.is_empty() {
            m.insert(
                "Metadata".into(),
                Value::Map(self.metadata.clone()).to_json(),
            );
        }
        let props = self.properties.to_json();
        if props.as_object().is_some_and(|o| !o.is_empty()) {
            m.insert("Properties".into(), props);
        }
        Json::Object(m)
    }
}

/// Output formats of `synth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TemplateFormat {
    /// JSON, 2-space indented: what is deployed.
    #[default]
    Json,
    /// YAML, for reading.
    Yaml,
}

/// A whole template, ready to render.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Template {
    /// `Description`.
    pub description: Option<String>,
    /// `Metadata`.
    pub metadata: Vec<(String, Value)>,
    /// `Parameters`, in insertion order.
    pub parameters: Vec<(String, Parameter)>,
    /// `Mappings`.
    pub mappings: Vec<(String, Value)>,
    /// `Conditions`.
    pub conditions: Vec<(String, Value)>,
    /// `Resources`, in construct-tree order.
    pub resources: Vec<ResourceEntry>,
    /// `Outputs`.
    pub outputs: Vec<(String, Output)>,
}

impl Template {
    /// The template as JSON, sections in CloudFormation's documented order.
    pub fn to_json(&self) -> Json {
        let mut m = Map::new();
        m.insert("AWSTemplateFormatVersion".into(), json!("2010-09-09"));
        if let Some(d) = &self.description {
            m.insert("Description".into(), json!(d));
        }
        if !self.metadata.is_empty() {
            m.insert(
                "Metadata".into(),
                Value::Map(self.metadata.clone()).to_json(),
            );
        }
        let section = |pairs: Vec<(String, Json)>| Json::Object(pairs.into_iter().collect());
        if !self.parameters.is_empty() {
            m.insert(
                "Parameters".into(),
                section(
                    self.parameters
                        .iter()
                        .map(|(k, p)| (k.clone(), p.to_json()))
                        .collect(),
                ),
            );
        }
        for (name, items) in [
            ("Mappings", &self.mappings),
            ("Conditions", &self.conditions),
        ] {
            if !items.is_empty() {
                m.insert(
                    name.into(),
                    section(
                        items
                            .iter()
                            .map(|(k, v)| (k.clone(), v.to_json()))
                            .collect(),
                    ),
                );
            }
        }
        m.insert(
            "Resources".into(),
            section(
                self.resources
                    .iter()
                    .map(|r| (r.logical_id.clone(), r.to_json()))
                    .collect(),
            ),
        );
        if !self.outputs.is_empty() {
            m.insert(
                "Outputs".into(),
                section(
                    self.outputs
                        .iter()
                        .map(|(k, o)| (k.clone(), o.to_json()))
                        .collect(),
                ),
            );
        }
        Json::Object(m)
    }

    /// The template text in the chosen format: 2-space JSON or long-form YAML, newline-terminated.
    pub fn render(&self, format: TemplateFormat) -> String {
        render_json_value(&self.to_json(), format)
    }
}

/// Renders a JSON template in the chosen format. YAML keeps intrinsics in their long form
/// (`Fn::Sub:`), which CloudFormation and cfn-lint read like the short tags, and quotes every
/// string a YAML 1.1 reader would take for something else (see [`super::yaml`]).
pub fn render_json_value(j: &Json, format: TemplateFormat) -> String {
    match format {
        TemplateFormat::Json => {
            // Serializing a `serde_json::Value` to a String cannot fail (all keys are strings).
            let mut s = serde_json::to_string_pretty(j).unwrap_or_default();
            s.push('\n');
            s
        }
        TemplateFormat::Yaml => super::yaml::to_yaml(j),
    }
}

/// The value under `key` in an ordered map, inserted from `new` at the end when absent.
fn entry_in<'a>(
    pairs: &'a mut Vec<(String, Value)>,
    key: &str,
    new: impl FnOnce() -> Value,
) -> &'a mut Value {
    let i = match pairs.iter().position(|(k, _)| k == key) {
        Some(i) => i,
        None => {
            pairs.push((key.to_owned(), new()));
            pairs.len() - 1
        }
    };
    &mut pairs[i].1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> ResourceEntry {
        ResourceEntry {
            path: "T/R".into(),
            logical_id: "R".into(),
            type_name: "AWS::Logs::LogGroup",
            properties: Value::Null,
            depends_on: Vec::new(),
            condition: None,
            deletion_policy: None,
            update_replace_policy: None,
            metadata: vec![("other".into(), Value::str("kept"))],
        }
    }

    fn item(id: &str, why: &str) -> Value {
        Value::map([("id", Value::str(id)), ("why", Value::str(why))])
    }

    #[test]
    fn metadata_items_keep_other_keys_and_follow_the_repeat_policy() {
        let mut e = entry();
        e.add_metadata_item("s", "l", "A", item("A", "first"), OnRepeat::KeepFirst);
        e.add_metadata_item("s", "l", "A", item("A", "second"), OnRepeat::KeepFirst);
        e.add_metadata_item("s", "l", "B", item("B", "first"), OnRepeat::Replace);
        e.add_metadata_item("s", "l", "B", item("B", "second"), OnRepeat::Replace);
        assert_eq!(
            e.to_json()["Metadata"],
            json!({"other": "kept", "s": {"l": [
                {"id": "A", "why": "first"},
                {"id": "B", "why": "second"}
            ]}})
        );
    }

    #[test]
    fn a_malformed_section_is_replaced_not_dropped() {
        let mut e = entry();
        e.metadata.push(("s".into(), Value::str("not a map")));
        e.add_metadata_item("s", "l", "A", item("A", "x"), OnRepeat::Replace);
        assert_eq!(
            e.to_json()["Metadata"]["s"],
            json!({"l": [{"id": "A", "why": "x"}]})
        );
    }
}
