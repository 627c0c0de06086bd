//! Reading a rendered template: resources, intrinsics, literals. Rules work on the JSON that is
//! written and deployed, so they see exactly what CloudFormation sees (tags, policies, metadata).

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::finding::{Finding, rule};

/// One resource of a template.
#[derive(Debug, Clone, Copy)]
pub struct Res<'a> {
    /// The logical id.
    pub id: &'a str,
    /// `AWS::Service::Type`.
    pub type_name: &'a str,
    /// The resource's JSON.
    pub body: &'a Json,
    /// `Properties`, or `Null` when the resource has none.
    pub props: &'a Json,
}

static NULL: Json = Json::Null;

impl<'a> Res<'a> {
    /// A property by name (`Null` when absent).
    pub fn prop(&self, name: &str) -> &'a Json {
        self.props.get(name).unwrap_or(&NULL)
    }

    /// `DeletionPolicy` / `UpdateReplacePolicy` / ... as a string.
    pub fn attr_str(&self, name: &str) -> Option<&'a str> {
        self.body.get(name).and_then(Json::as_str)
    }
}

/// The resources of a template, in template order.
pub fn resources(t: &Json) -> Vec<Res<'_>> {
    t.get("Resources")
        .and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .map(|(id, body)| Res {
                    id,
                    type_name: body.get("Type").and_then(Json::as_str).unwrap_or(""),
                    body,
                    props: body.get("Properties").unwrap_or(&NULL),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The state rules share while they run over one template.
pub struct Ctx<'a> {
    /// The whole template.
    pub template: &'a Json,
    /// Its resources, in template order.
    pub resources: Vec<Res<'a>>,
    paths: &'a BTreeMap<String, String>,
    /// What the rules found so far.
    pub findings: Vec<Finding>,
}

impl<'a> Ctx<'a> {
    /// A context over `template`, with construct paths for messages.
    pub fn new(template: &'a Json, paths: &'a BTreeMap<String, String>) -> Self {
        Self {
            template,
            resources: resources(template),
            paths,
            findings: Vec::new(),
        }
    }

    /// The resources of one type.
    pub fn of_type(&self, type_name: &str) -> Vec<Res<'a>> {
        self.resources
            .iter()
            .filter(|r| r.type_name == type_name)
            .copied()
            .collect()
    }

    /// A resource by logical id.
    pub fn resource(&self, id: &str) -> Option<Res<'a>> {
        self.resources.iter().find(|r| r.id == id).copied()
    }

    /// Whether `name` is a template parameter with `NoEcho: true`.
    pub fn is_no_echo_param(&self, name: &str) -> bool {
        self.template
            .get("Parameters")
            .and_then(|p| p.get(name))
            .and_then(|p| p.get("NoEcho"))
            .is_some_and(|v| v == &Json::Bool(true) || v == "true")
    }

    /// Whether `name` is a template parameter.
    pub fn is_param(&self, name: &str) -> bool {
        self.template
            .get("Parameters")
            .and_then(|p| p.get(name))
            .is_some()
    }

    /// Records a finding of `rule_id` (which must be in the catalog) on resource `id`.
    pub fn report(
        &mut self,
        rule_id: &'static str,
        id: &str,
        property: impl Into<String>,
        message: impl Into<String>,
    ) {
        let severity = rule(rule_id)
            .map(|r| r.severity)
            .unwrap_or(super::Severity::Error);
        self.findings.push(Finding {
            rule: rule_id,
            severity,
            logical_id: id.to_owned(),
            path: self.paths.get(id).cloned().unwrap_or_else(|| id.to_owned()),
            property: property.into(),
            message: message.into(),
        });
    }
}

/// A list property as a slice (a single value counts as a one-item list; absent is empty).
pub fn items(v: &Json) -> Vec<&Json> {
    match v {
        Json::Null => Vec::new(),
        Json::Array(a) => a.iter().collect(),
        other => vec![other],
    }
}

/// A literal string (not an intrinsic).
pub fn lit_str(v: &Json) -> Option<&str> {
    v.as_str()
}

/// A literal integer, also from a numeric string (`"22"`), as templates often carry ports.
pub fn lit_int(v: &Json) -> Option<i64> {
    match v {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A literal boolean, also from `"true"` / `"false"`.
pub fn lit_bool(v: &Json) -> Option<bool> {
    match v {
        Json::Bool(b) => Some(*b),
        Json::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Json::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// The intrinsic function of a one-key `{"Fn::X": ...}` / `{"Ref": ...}` object.
pub fn intrinsic(v: &Json) -> Option<(&str, &Json)> {
    let o = v.as_object()?;
    if o.len() != 1 {
        return None;
    }
    let (k, arg) = o.iter().next()?;
    (k == "Ref" || k.starts_with("Fn::") || k == "Condition").then_some((k.as_str(), arg))
}

/// The logical id a `Ref` or `Fn::GetAtt` points at, with the attribute for `GetAtt`.
pub fn ref_target(v: &Json) -> Option<(&str, Option<&str>)> {
    match intrinsic(v)? {
        ("Ref", Json::String(id)) => Some((id.as_str(), None)),
        ("Fn::GetAtt", Json::Array(a)) if a.len() == 2 => {
            Some((a[0].as_str()?, Some(a[1].as_str()?)))
        }
        ("Fn::GetAtt", Json::String(s)) => {
            let (id, attr) = s.split_once('.')?;
            Some((id, Some(attr)))
        }
        _ => None,
    }
}

/// Whether a string holds a secret dynamic reference (`{{resolve:secretsmanager:...}}` or
/// `{{resolve:ssm-secure:...}}`).
pub fn has_secret_reference(s: &str) -> bool {
    s.contains("{{resolve:secretsmanager:") || s.contains("{{resolve:ssm-secure:")
}

/// Whether any string inside `v` (a literal, an `Fn::Sub` template, `Fn::Join` parts) holds a
/// secret dynamic reference.
pub fn contains_secret_reference(v: &Json) -> bool {
    match v {
        Json::String(s) => has_secret_reference(s),
        Json::Array(a) => a.iter().any(contains_secret_reference),
        Json::Object(o) => o.values().any(contains_secret_reference),
        _ => false,
    }
}

/// Shell-style glob with `*` and `?`, ASCII case-insensitive (IAM actions are case-insensitive).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<u8> = pattern.bytes().map(|b| b.to_ascii_lowercase()).collect();
    let t: Vec<u8> = text.bytes().map(|b| b.to_ascii_lowercase()).collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn globs_refs_and_literals() {
        assert!(glob_match("s3:*", "s3:GetObject"));
        assert!(glob_match("S3:get*", "s3:GetObject"));
        assert!(glob_match("*", "kms:Decrypt"));
        assert!(!glob_match("s3:Put*", "s3:GetObject"));
        assert!(glob_match("ssm:GetParameter?", "ssm:GetParameters"));
        assert_eq!(ref_target(&json!({"Ref": "A"})), Some(("A", None)));
        assert_eq!(
            ref_target(&json!({"Fn::GetAtt": ["A", "GroupId"]})),
            Some(("A", Some("GroupId")))
        );
        assert_eq!(
            ref_target(&json!({"Fn::GetAtt": "A.Arn"})),
            Some(("A", Some("Arn")))
        );
        assert_eq!(lit_int(&json!("22")), Some(22));
        assert_eq!(lit_bool(&json!("true")), Some(true));
        assert!(contains_secret_reference(&json!({"Fn::Join": ["", [
            "{{resolve:secretsmanager:", {"Ref": "S"}, ":SecretString:password}}"
        ]]})));
    }
}
