//! CloudFormation values: literals, intrinsic functions, pseudo parameters and dynamic
//! references, as one typed tree.
//!
//! Why a tree of our own rather than `serde_json::Value`: references between resources must be
//! visible to synth (to check them, to order them, to find cycles), and an intrinsic must never be
//! confused with a literal object that happens to have a `Ref` key.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json, json};

/// A value anywhere in a template: a literal or an intrinsic function.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null` is never written into a template; it only marks "absent" while building.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating point number.
    Float(f64),
    /// A string.
    String(String),
    /// A list.
    List(Vec<Value>),
    /// Object keys are written in insertion order (policy documents read Version before Statement).
    Map(Vec<(String, Value)>),
    /// An intrinsic function.
    Fn(Box<Intrinsic>),
}

/// The pseudo parameters CloudFormation defines for every stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pseudo {
    /// `AWS::Region`.
    Region,
    /// `AWS::AccountId`.
    AccountId,
    /// `AWS::Partition`.
    Partition,
    /// `AWS::StackName`.
    StackName,
    /// `AWS::StackId`.
    StackId,
    /// `AWS::URLSuffix`.
    UrlSuffix,
    /// `AWS::NoValue`: removes the property.
    NoValue,
    /// `AWS::NotificationARNs`.
    NotificationArns,
}

impl Pseudo {
    /// The name used in `Ref` and in `${...}` inside `Fn::Sub`.
    pub fn name(self) -> &'static str {
        match self {
            Pseudo::Region => "AWS::Region",
            Pseudo::AccountId => "AWS::AccountId",
            Pseudo::Partition => "AWS::Partition",
            Pseudo::StackName => "AWS::StackName",
            Pseudo::StackId => "AWS::StackId",
            Pseudo::UrlSuffix => "AWS::URLSuffix",
            Pseudo::NoValue => "AWS::NoValue",
            Pseudo::NotificationArns => "AWS::NotificationARNs",
        }
    }
}

/// What a `Ref` points at. Kept apart so synth can check that the target exists.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RefTarget {
    /// A resource in this stack, by logical id.
    Resource(String),
    /// A template parameter, by name.
    Parameter(String),
    /// A pseudo parameter.
    Pseudo(Pseudo),
}

/// The intrinsic functions of CloudFormation.
#[derive(Debug, Clone, PartialEq)]
pub enum Intrinsic {
    /// `Ref`.
    Ref(RefTarget),
    /// `Fn::GetAtt`.
    GetAtt {
        /// The resource.
        logical_id: String,
        /// The attribute (`.`-separated for nested ones).
        attribute: String,
    },
    /// `Fn::Sub` with an optional variable map (`[template, {vars}]`).
    Sub {
        /// The string with `${...}` placeholders.
        template: String,
        /// Placeholder values given inline.
        vars: Vec<(String, Value)>,
    },
    /// `Fn::Join`.
    Join {
        /// The separator.
        delimiter: String,
        /// The list joined.
        values: Value,
    },
    /// `Fn::Select`.
    Select {
        /// The index.
        index: Value,
        /// The list selected from.
        list: Value,
    },
    /// `Fn::Split`.
    Split {
        /// The separator.
        delimiter: String,
        /// The string split.
        source: Value,
    },
    /// `Fn::GetAZs`; an empty region value means "this stack's region".
    GetAZs(Value),
    /// `Fn::If`.
    If {
        /// The condition's name.
        condition: String,
        /// The value when it holds.
        then: Value,
        /// The value when it does not.
        otherwise: Value,
    },
    /// `Fn::Equals`.
    Equals(Value, Value),
    /// `Fn::And`.
    And(Vec<Value>),
    /// `Fn::Or`.
    Or(Vec<Value>),
    /// `Fn::Not`.
    Not(Value),
    /// A reference to a named condition inside a condition expression.
    Condition(String),
    /// `Fn::Base64`.
    Base64(Value),
    /// `Fn::ImportValue`.
    ImportValue(Value),
    /// `Fn::FindInMap`.
    FindInMap {
        /// The mapping's name.
        map: String,
        /// The top-level key.
        top_key: Value,
        /// The second-level key.
        second_key: Value,
    },
    /// `Fn::Cidr`.
    Cidr {
        /// The block to divide.
        ip_block: Value,
        /// How many blocks.
        count: Value,
        /// Host bits per block.
        cidr_bits: Value,
    },
}

impl Value {
    /// A literal string.
    pub fn str(s: impl Into<String>) -> Self {
        Value::String(s.into())
    }

    /// An object built from pairs, kept in the given order.
    pub fn map<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Self {
        Value::Map(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A list of values.
    pub fn list(items: impl IntoIterator<Item = Value>) -> Self {
        Value::List(items.into_iter().collect())
    }

    /// `{"Ref": "<pseudo>"}`.
    pub fn pseudo(p: Pseudo) -> Self {
        Intrinsic::Ref(RefTarget::Pseudo(p)).into()
    }

    /// `{"Ref": "<parameter>"}`.
    pub fn param_ref(name: impl Into<String>) -> Self {
        Intrinsic::Ref(RefTarget::Parameter(name.into())).into()
    }

    /// `Fn::Sub` without variables.
    pub fn sub(template: impl Into<String>) -> Self {
        Intrinsic::Sub {
            template: template.into(),
            vars: Vec::new(),
        }
        .into()
    }

    /// `Fn::Sub` with a variable map.
    pub fn sub_with<K: Into<String>>(
        template: impl Into<String>,
        vars: impl IntoIterator<Item = (K, Value)>,
    ) -> Self {
        Intrinsic::Sub {
            template: template.into(),
            vars: vars.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        }
        .into()
    }

    /// `Fn::Join`.
    pub fn join(delimiter: impl Into<String>, values: impl IntoIterator<Item = Value>) -> Self {
        Intrinsic::Join {
            delimiter: delimiter.into(),
            values: Value::list(values),
        }
        .into()
    }

    /// `Fn::Select`.
    pub fn select(index: i64, list: Value) -> Self {
        Intrinsic::Select {
            index: Value::Int(index),
            list,
        }
        .into()
    }

    /// `Fn::Split`.
    pub fn split(delimiter: impl Into<String>, source: Value) -> Self {
        Intrinsic::Split {
            delimiter: delimiter.into(),
            source,
        }
        .into()
    }

    /// `Fn::GetAZs` for this stack's region.
    pub fn azs() -> Self {
        Intrinsic::GetAZs(Value::str("")).into()
    }

    /// `Fn::If`.
    pub fn if_(condition: impl Into<String>, then: Value, otherwise: Value) -> Self {
        Intrinsic::If {
            condition: condition.into(),
            then,
            otherwise,
        }
        .into()
    }

    /// `Fn::Base64`.
    pub fn base64(v: Value) -> Self {
        Intrinsic::Base64(v).into()
    }

    /// `Fn::ImportValue`.
    pub fn import(export_name: Value) -> Self {
        Intrinsic::ImportValue(export_name).into()
    }

    /// `Fn::FindInMap`.
    pub fn find_in_map(map: impl Into<String>, top: Value, second: Value) -> Self {
        Intrinsic::FindInMap {
            map: map.into(),
            top_key: top,
            second_key: second,
        }
        .into()
    }

    /// `Fn::Cidr`.
    pub fn cidr(ip_block: Value, count: i64, cidr_bits: i64) -> Self {
        Intrinsic::Cidr {
            ip_block,
            count: Value::Int(count),
            cidr_bits: Value::Int(cidr_bits),
        }
        .into()
    }

    /// A `{{resolve:ssm:NAME}}` dynamic reference (optionally pinned to a version).
    pub fn resolve_ssm(name: &str, version: Option<u32>) -> Self {
        match version {
            Some(v) => Value::String(format!("{{{{resolve:ssm:{name}:{v}}}}}")),
            None => Value::String(format!("{{{{resolve:ssm:{name}}}}}")),
        }
    }

    /// A `{{resolve:secretsmanager:SECRET:SecretString:KEY}}` dynamic reference. `secret` may
    /// itself contain a `${LogicalId}` placeholder; the result is then wrapped in `Fn::Sub`.
    pub fn resolve_secret(secret: &str, json_key: &str) -> Self {
        let text = format!("{{{{resolve:secretsmanager:{secret}:SecretString:{json_key}}}}}");
        if secret.contains("${") {
            Value::sub(text)
        } else {
            Value::String(text)
        }
    }

    /// True for a literal (no intrinsic anywhere inside).
    pub fn is_literal(&self) -> bool {
        match self {
            Value::Fn(_) => false,
            Value::List(items) => items.iter().all(Value::is_literal),
            Value::Map(pairs) => pairs.iter().all(|(_, v)| v.is_literal()),
            _ => true,
        }
    }

    /// The literal string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Every reference this value makes, in order: `(logical id or parameter, is_parameter)`.
    /// Synth uses it to check targets and to build the dependency graph.
    pub fn visit_refs<'a>(&'a self, f: &mut dyn FnMut(Reference<'a>)) {
        match self {
            Value::List(items) => items.iter().for_each(|v| v.visit_refs(f)),
            Value::Map(pairs) => pairs.iter().for_each(|(_, v)| v.visit_refs(f)),
            Value::Fn(i) => i.visit_refs(f),
            _ => {}
        }
    }

    /// The JSON form CloudFormation reads. `Null` entries inside maps are dropped.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => json!(i),
            Value::Float(f) => json!(f),
            Value::String(s) => Json::String(s.clone()),
            Value::List(items) => Json::Array(items.iter().map(Value::to_json).collect()),
            Value::Map(pairs) => {
                let mut m = Map::new();
                for (k, v) in pairs {
                    if *v != Value::Null {
                        m.insert(k.clone(), v.to_json());
                    }
                }
                Json::Object(m)
            }
            Value::Fn(i) => i.to_json(),
        }
    }

    /// Reads a literal JSON document (a policy, say) into a value, keeping key order.
    pub fn from_json(j: &Json) -> Self {
        match j {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => n
                .as_i64()
                .map(Value::Int)
                .unwrap_or_else(|| Value::Float(n.as_f64().unwrap_or_default())),
            Json::String(s) => Value::String(s.clone()),
            Json::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            Json::Object(o) => Value::Map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// One reference found inside a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference<'a> {
    /// `Ref` to a resource, or `Fn::GetAtt` (with its attribute).
    Resource {
        /// The resource.
        logical_id: &'a str,
        /// The attribute, for `Fn::GetAtt`.
        attribute: Option<&'a str>,
    },
    /// `Ref` to a parameter.
    Parameter(&'a str),
    /// A condition by name.
    Condition(&'a str),
    /// A mapping by name.
    Mapping(&'a str),
}

impl Intrinsic {
    fn visit_refs<'a>(&'a self, f: &mut dyn FnMut(Reference<'a>)) {
        match self {
            Intrinsic::Ref(RefTarget::Resource(id)) => f(Reference::Resource {
                logical_id: id,
                attribute: None,
            }),
            Intrinsic::Ref(RefTarget::Parameter(p)) => f(Reference::Parameter(p)),
            Intrinsic::Ref(RefTarget::Pseudo(_)) => {}
            Intrinsic::GetAtt {
                logical_id,
                attribute,
            } => f(Reference::Resource {
                logical_id,
                attribute: Some(attribute),
            }),
            Intrinsic::Sub { template, vars } => {
                for (_, v) in vars {
                    v.visit_refs(f);
                }
                for name in sub_placeholders(template) {
                    if vars.iter().any(|(k, _)| k == name) || name.starts_with("AWS::") {
                        continue;
                    }
                    match name.split_once('.') {
                        Some((id, attr)) => f(Reference::Resource {
                            logical_id: id,
                            attribute: Some(attr),
                        }),
                        // Sub's `${Name}` may be a resource or a parameter; synth decides.
                        None => f(Reference::Resource {
                            logical_id: name,
                            attribute: None,
                        }),
                    }
                }
            }
            Intrinsic::Join { values, .. } => values.visit_refs(f),
            Intrinsic::Select { index, list } => {
                index.visit_refs(f);
                list.visit_refs(f);
            }
            Intrinsic::Split { source, .. } => source.visit_refs(f),
            Intrinsic::GetAZs(v)
            | Intrinsic::Not(v)
            | Intrinsic::Base64(v)
            | Intrinsic::ImportValue(v) => v.visit_refs(f),
            Intrinsic::If {
                condition,
                then,
                otherwise,
            } => {
                f(Reference::Condition(condition));
                then.visit_refs(f);
                otherwise.visit_refs(f);
            }
            Intrinsic::Equals(a, b) => {
                a.visit_refs(f);
                b.visit_refs(f);
            }
            Intrinsic::And(vs) | Intrinsic::Or(vs) => vs.iter().for_each(|v| v.visit_refs(f)),
            Intrinsic::Condition(c) => f(Reference::Condition(c)),
            Intrinsic::FindInMap {
                map,
                top_key,
                second_key,
            } => {
                f(Reference::Mapping(map));
                top_key.visit_refs(f);
                second_key.visit_refs(f);
            }
            Intrinsic::Cidr {
                ip_block,
                count,
                cidr_bits,
            } => {
                ip_block.visit_refs(f);
                count.visit_refs(f);
                cidr_bits.visit_refs(f);
            }
        }
    }

    fn to_json(&self) -> Json {
        match self {
            Intrinsic::Ref(RefTarget::Resource(id)) | Intrinsic::Ref(RefTarget::Parameter(id)) => {
                json!({ "Ref": id })
            }
            Intrinsic::Ref(RefTarget::Pseudo(p)) => json!({ "Ref": p.name() }),
            Intrinsic::GetAtt {
                logical_id,
                attribute,
            } => json!({ "Fn::GetAtt": [logical_id, attribute] }),
            Intrinsic::Sub { template, vars } if vars.is_empty() => json!({ "Fn::Sub": template }),
            Intrinsic::Sub { template, vars } => {
                let mut m = Map::new();
                for (k, v) in vars {
                    m.insert(k.clone(), v.to_json());
                }
                json!({ "Fn::Sub": [template, m] })
            }
            Intrinsic::Join { delimiter, values } => {
                json!({ "Fn::Join": [delimiter, values.to_json()] })
            }
            Intrinsic::Select { index, list } => {
                json!({ "Fn::Select": [index.to_json(), list.to_json()] })
            }
            Intrinsic::Split { delimiter, source } => {
                json!({ "Fn::Split": [delimiter, source.to_json()] })
            }
            Intrinsic::GetAZs(v) => json!({ "Fn::GetAZs": v.to_json() }),
            Intrinsic::If {
                condition,
                then,
                otherwise,
            } => json!({ "Fn::If": [condition, then.to_json(), otherwise.to_json()] }),
            Intrinsic::Equals(a, b) => json!({ "Fn::Equals": [a.to_json(), b.to_json()] }),
            Intrinsic::And(vs) => {
                json!({ "Fn::And": vs.iter().map(Value::to_json).collect::<Vec<_>>() })
            }
            Intrinsic::Or(vs) => {
                json!({ "Fn::Or": vs.iter().map(Value::to_json).collect::<Vec<_>>() })
            }
            Intrinsic::Not(v) => json!({ "Fn::Not": [v.to_json()] }),
            Intrinsic::Condition(c) => json!({ "Condition": c }),
            Intrinsic::Base64(v) => json!({ "Fn::Base64": v.to_json() }),
            Intrinsic::ImportValue(v) => json!({ "Fn::ImportValue": v.to_json() }),
            Intrinsic::FindInMap {
                map,
                top_key,
                second_key,
            } => json!({ "Fn::FindInMap": [map, top_key.to_json(), second_key.to_json()] }),
            Intrinsic::Cidr {
                ip_block,
                count,
                cidr_bits,
            } => json!({ "Fn::Cidr": [ip_block.to_json(), count.to_json(), cidr_bits.to_json()] }),
        }
    }
}

/// The `${Name}` / `${Res.Attr}` placeholders of an `Fn::Sub` template (`${!Literal}` skipped).
pub fn sub_placeholders(template: &str) -> impl Iterator<Item = &str> {
    template.split("${").skip(1).filter_map(|part| {
        let name = part.split('}').next()?;
        if name.starts_with('!') || name.is_empty() || part.find('}').is_none() {
            None
        } else {
            Some(name.trim())
        }
    })
}

impl From<Intrinsic> for Value {
    fn from(i: Intrinsic) -> Self {
        Value::Fn(Box::new(i))
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::String(s.clone())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Int(i64::from(i))
    }
}

impl From<u16> for Value {
    fn from(i: u16) -> Self {
        Value::Int(i64::from(i))
    }
}

impl From<u32> for Value {
    fn from(i: u32) -> Self {
        Value::Int(i64::from(i))
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<Pseudo> for Value {
    fn from(p: Pseudo) -> Self {
        Value::pseudo(p)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Self {
        Value::List(v.into_iter().map(Into::into).collect())
    }
}

impl<V: Into<Value>> From<BTreeMap<String, V>> for Value {
    fn from(m: BTreeMap<String, V>) -> Self {
        Value::Map(m.into_iter().map(|(k, v)| (k, v.into())).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intrinsics_render_in_cloudformation_form() {
        let sub = Value::sub_with("${A}-x", [("A", Value::pseudo(Pseudo::Region))]);
        assert_eq!(
            sub.to_json(),
            json!({"Fn::Sub": ["${A}-x", {"A": {"Ref": "AWS::Region"}}]})
        );
        assert_eq!(
            Value::select(0, Value::azs()).to_json(),
            json!({"Fn::Select": [0, {"Fn::GetAZs": ""}]})
        );
        assert_eq!(
            Value::cidr(Value::str("10.0.0.0/16"), 4, 8).to_json(),
            json!({"Fn::Cidr": ["10.0.0.0/16", 4, 8]})
        );
        let cond = Value::from(Intrinsic::And(vec![
            Intrinsic::Equals(Value::param_ref("Stage"), Value::str("prod")).into(),
            Intrinsic::Not(Intrinsic::Condition("Other".into()).into()).into(),
        ]));
        assert_eq!(
            cond.to_json(),
            json!({"Fn::And": [{"Fn::Equals": [{"Ref": "Stage"}, "prod"]}, {"Fn::Not": [{"Condition": "Other"}]}]})
        );
        assert_eq!(
            Value::if_("IsProd", Value::Bool(true), Value::pseudo(Pseudo::NoValue)).to_json(),
            json!({"Fn::If": ["IsProd", true, {"Ref": "AWS::NoValue"}]})
        );
        assert_eq!(
            Value::find_in_map("M", Value::pseudo(Pseudo::Region), Value::str("Ami")).to_json(),
            json!({"Fn::FindInMap": ["M", {"Ref": "AWS::Region"}, "Ami"]})
        );
        assert_eq!(
            Value::join(",", [Value::str("a"), Value::split(",", Value::str("b,c"))]).to_json(),
            json!({"Fn::Join": [",", ["a", {"Fn::Split": [",", "b,c"]}]]})
        );
        assert_eq!(
            Value::base64(Value::import(Value::str("X"))).to_json(),
            json!({"Fn::Base64": {"Fn::ImportValue": "X"}})
        );
    }

    #[test]
    fn dynamic_references() {
        assert_eq!(
            Value::resolve_ssm("/a/b", None).to_json(),
            json!("{{resolve:ssm:/a/b}}")
        );
        assert_eq!(
            Value::resolve_secret("${DbSecret}", "password").to_json(),
            json!({"Fn::Sub": "{{resolve:secretsmanager:${DbSecret}:SecretString:password}}"})
        );
    }

    #[test]
    fn sub_placeholders_skip_literals_and_pseudos() {
        let names: Vec<_> =
            sub_placeholders("arn:${AWS::Partition}:${Res.Arn}/${!Lit}/${Param}").collect();
        assert_eq!(names, ["AWS::Partition", "Res.Arn", "Param"]);
        let mut seen = Vec::new();
        let v = Value::sub("${AWS::Region}-${Res.Arn}-${Other}");
        v.visit_refs(&mut |r| seen.push(r));
        assert_eq!(
            seen,
            [
                Reference::Resource {
                    logical_id: "Res",
                    attribute: Some("Arn")
                },
                Reference::Resource {
                    logical_id: "Other",
                    attribute: None
                }
            ]
        );
    }
}
