//! What the engine needs to know about a template besides its body: parameters, outputs, the
//! capabilities it demands, and per resource its type, the deletion and update-replace policy
//! CloudFormation will apply, whether it holds data and which properties replace it.
//!
//! For the stacks we synthesize the facts come from the template model
//! ([`TemplateFacts::from_model`]), computed once when the assembly is built: the model already
//! knows them, so nothing re-parses the body it was rendered to. Templates from elsewhere (the
//! deployed stack, a git base, `--templates-dir`) are read once through
//! [`crate::template_read`] into the same type ([`TemplateFacts::parse`],
//! [`TemplateFacts::from_json`]). A unit test checks that both roads give the same facts for
//! every SnowEx stack.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value as Json;
use snowcdk_constructs::l1;
use snowcdk_constructs::template::{Template, Value};
use snowcdk_constructs::tree::stack::{PINNED_PARAMETERS, PINNED_SOURCE_KEY};

use crate::risk::policy::{self as risk_policy, CLUSTER_MEMBER_PROPERTY};
use crate::risk::{self, Capability, Policy};

/// One resource of a template, as far as safety checks care.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceFacts {
    /// The CloudFormation type (`AWS::S3::Bucket`): what the risk lists are keyed by.
    pub type_name: String,
    /// The `DeletionPolicy` CloudFormation applies: the explicit one, else the type's default
    /// (`Snapshot` for RDS clusters and stand-alone instances, `Delete` otherwise); see
    /// [`crate::risk::Policy`].
    pub deletion_policy: Policy,
    /// `UpdateReplacePolicy` (`Delete` when absent).
    pub update_replace_policy: Policy,
    /// Whether the type holds data ([`crate::risk::is_stateful`]).
    pub stateful: bool,
    /// Property paths whose change replaces the resource (the registry schema's
    /// `createOnlyProperties`, when snowcdk has the type's schema).
    pub create_only: &'static [&'static str],
    /// The value (compact JSON) of the property that fixes the resource's physical name
    /// ([`crate::risk::name_property`], e.g. a function's `FunctionName`), when the template
    /// sets it: such a resource cannot be replaced unless that name changes too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_name: Option<String>,
    /// The snapshot a DB instance is restored from (its `DBSnapshotIdentifier`, see
    /// [`crate::risk::restore_change`]): once deployed it must stay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restored_from: Option<String>,
}

impl ResourceFacts {
    fn new(
        type_name: &str,
        deletion_policy: Policy,
        update_replace_policy: Policy,
        name: impl Fn(&str) -> Option<Json>,
    ) -> ResourceFacts {
        let restored_from = (type_name == risk::restore::DB_INSTANCE)
            .then(|| name(risk::restore::SNAPSHOT_PROPERTY))
            .flatten()
            .filter(|v| *v != serde_json::json!({"Ref": "AWS::NoValue"}) && !v.is_null())
            .map(|v| risk::restore::shown(&v));
        let fixed_name = risk::name_property(type_name)
            .and_then(&name)
            .filter(|v| *v != serde_json::json!({"Ref": "AWS::NoValue"}) && !v.is_null())
            .map(|v| v.to_string());
        ResourceFacts {
            type_name: type_name.to_owned(),
            deletion_policy,
            update_replace_policy,
            stateful: risk::is_stateful(type_name),
            create_only: l1::spec(type_name).map(|s| s.create_only).unwrap_or(&[]),
            fixed_name,
            restored_from,
        }
    }

    /// The facts of one resource body from a template read from elsewhere
    /// (`{"Type": ..., "DeletionPolicy": ..., ...}`): the policies CloudFormation applies, read
    /// through [`crate::risk::Policy`].
    pub fn from_body(body: &Json) -> ResourceFacts {
        ResourceFacts::new(
            body.get("Type").and_then(Json::as_str).unwrap_or(""),
            risk_policy::deletion_policy(body),
            risk_policy::update_replace_policy(body),
            |p| body.get("Properties")?.get(p).cloned(),
        )
    }

    /// Both policies, for [`crate::risk::holds_data`] and [`crate::risk::why_stateful`].
    pub fn policies(&self) -> [Policy; 2] {
        [self.deletion_policy, self.update_replace_policy]
    }

    /// True when the template marks the resource as holding data: a `Retain`,
    /// `RetainExceptOnCreate` or `Snapshot` deletion or update-replace policy.
    pub fn keeps_data(&self) -> bool {
        self.deletion_policy.keeps_data() || self.update_replace_policy.keeps_data()
    }
}

/// A template parameter: what `deploy --parameters` is checked against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParameterFacts {
    /// The parameter's logical name, as `--parameters NAME=VALUE` gives it.
    pub name: String,
    /// The `Type` as written (`String`, `List<AWS::EC2::Subnet::Id>`, ...).
    pub type_name: String,
    /// The `Default`, when there is one.
    pub default: Option<Json>,
    /// For a pinned parameter, the SSM parameter deploy looks its value up from (see
    /// `Stack::add_pinned_parameter`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned_from: Option<String>,
}

/// The facts of a whole template.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TemplateFacts {
    /// Resources by logical id.
    pub resources: BTreeMap<String, ResourceFacts>,
    /// The capabilities CloudFormation will demand for this template.
    pub capabilities: Vec<Capability>,
    /// Template parameters, in template order.
    pub parameters: Vec<ParameterFacts>,
    /// Output names, in template order.
    pub outputs: Vec<String>,
}

/// The template body could not be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the template is not valid JSON or YAML: {0}")]
pub struct TemplateError(pub String);

/// Marks the parameters a `snowcdk:pinned-parameters` metadata map names with their source.
fn set_pinned(params: &mut [ParameterFacts], pinned: Option<&Json>) {
    let Some(map) = pinned.and_then(Json::as_object) else {
        return;
    };
    for p in params {
        p.pinned_from = map
            .get(&p.name)
            .and_then(|e| e.get(PINNED_SOURCE_KEY))
            .and_then(Json::as_str)
            .map(str::to_owned);
    }
}

/// Whether a model value is a map with `key` set (a `Null` entry is not written).
fn model_has(v: &Value, key: &str) -> bool {
    match v {
        Value::Map(entries) => entries.iter().any(|(k, v)| k == key && *v != Value::Null),
        _ => false,
    }
}

/// A model map's property `key` as the JSON synth writes (a `Null` entry is not written).
fn model_property(v: &Value, key: &str) -> Option<Json> {
    match v {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, v)| k == key && *v != Value::Null)
            .map(|(_, v)| v.to_json()),
        _ => None,
    }
}

impl TemplateFacts {
    /// The facts of a template model, as synth will render it.
    pub fn from_model(t: &Template) -> TemplateFacts {
        let mut facts = TemplateFacts::default();
        for r in &t.resources {
            let deletion = match r.deletion_policy {
                Some(p) => Policy::from(p),
                None => risk_policy::default_deletion_policy(
                    r.type_name,
                    model_has(&r.properties, CLUSTER_MEMBER_PROPERTY),
                ),
            };
            let replace = r
                .update_replace_policy
                .map(Policy::from)
                .unwrap_or(Policy::Delete);
            facts.resources.insert(
                r.logical_id.clone(),
                ResourceFacts::new(r.type_name, deletion, replace, |p| {
                    model_property(&r.properties, p)
                }),
            );
        }
        facts.capabilities = risk::capabilities::required(
            t.resources.iter().map(|r| {
                let named = risk::capabilities::iam_name_property(r.type_name)
                    .is_some_and(|p| model_has(&r.properties, p));
                (r.type_name, named)
            }),
            // The model has no `Transform` section.
            false,
        );
        facts.parameters = t
            .parameters
            .iter()
            .map(|(name, p)| ParameterFacts {
                name: name.clone(),
                type_name: p.kind.as_type(),
                default: p.default.clone(),
                pinned_from: None,
            })
            .collect();
        // The model's metadata says the same as the body's: read it the one way.
        let pinned = t
            .metadata
            .iter()
            .find(|(k, _)| k == PINNED_PARAMETERS)
            .map(|(_, v)| v.to_json());
        set_pinned(&mut facts.parameters, pinned.as_ref());
        facts.outputs = t.outputs.iter().map(|(n, _)| n.clone()).collect();
        facts
    }

    /// Reads a template body from elsewhere: JSON, or CloudFormation YAML, short forms included
    /// (what other tools may have deployed), through [`crate::template_read`].
    pub fn parse(body: &str) -> Result<TemplateFacts, TemplateError> {
        let doc = crate::template_read::parse_document("template body", body, None)
            .map_err(|e| TemplateError(e.to_string()))?;
        Ok(Self::from_json(&doc))
    }

    /// Reads an already parsed template document.
    ///
    /// `Fn::ForEach` loops over literal lists are expanded first (the deployed template is the
    /// original one), so a looped resource's policy is found under its expanded logical id.
    pub fn from_json(doc: &Json) -> TemplateFacts {
        let doc = &crate::diff::foreach::expand_template(doc);
        let mut facts = TemplateFacts::default();
        let mut types: Vec<(&str, bool)> = Vec::new();
        if let Some(resources) = doc.get("Resources").and_then(Json::as_object) {
            for (id, r) in resources {
                let type_name = r.get("Type").and_then(Json::as_str).unwrap_or("");
                let props = r.get("Properties");
                let named = risk::capabilities::iam_name_property(type_name)
                    .is_some_and(|p| props.and_then(|ps| ps.get(p)).is_some());
                types.push((type_name, named));
                facts
                    .resources
                    .insert(id.clone(), ResourceFacts::from_body(r));
            }
        }
        facts.capabilities = risk::capabilities::required(types, doc.get("Transform").is_some());
        if let Some(params) = doc.get("Parameters").and_then(Json::as_object) {
            facts.parameters = params
                .iter()
                .map(|(name, p)| ParameterFacts {
                    name: name.clone(),
                    type_name: p
                        .get("Type")
                        .and_then(Json::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    default: p.get("Default").cloned(),
                    pinned_from: None,
                })
                .collect();
        }
        set_pinned(
            &mut facts.parameters,
            doc.get("Metadata").and_then(|m| m.get(PINNED_PARAMETERS)),
        );
        if let Some(outputs) = doc.get("Outputs").and_then(Json::as_object) {
            facts.outputs = outputs.keys().cloned().collect();
        }
        facts
    }

    /// Whether the template declares the parameter.
    pub fn has_parameter(&self, name: &str) -> bool {
        self.parameters.iter().any(|p| p.name == name)
    }

    /// The parameter names, in template order.
    pub fn parameter_names(&self) -> Vec<&str> {
        self.parameters.iter().map(|p| p.name.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_and_named_iam_capabilities() {
        let plain = r#"{"Resources":{"P":{"Type":"AWS::SSM::Parameter","Properties":{}}}}"#;
        assert!(TemplateFacts::parse(plain).unwrap().capabilities.is_empty());
        let role = r#"{"Resources":{"R":{"Type":"AWS::IAM::Role","Properties":{}}}}"#;
        assert_eq!(
            TemplateFacts::parse(role).unwrap().capabilities,
            vec![Capability::Iam]
        );
        let named =
            r#"{"Resources":{"R":{"Type":"AWS::IAM::Role","Properties":{"RoleName":"x"}}}}"#;
        assert_eq!(
            TemplateFacts::parse(named).unwrap().capabilities,
            vec![Capability::Iam, Capability::NamedIam]
        );
    }

    #[test]
    fn policies_inside_for_each_loops_are_found_by_expanded_id() {
        let t = r#"{"Transform":"AWS::LanguageExtensions","Resources":{"Fn::ForEach::T":["N",["A","B"],
            {"${N}Table":{"Type":"AWS::DynamoDB::Table","DeletionPolicy":"Retain"}}]}}"#;
        let f = TemplateFacts::parse(t).unwrap();
        assert_eq!(f.resources["BTable"].deletion_policy, Policy::Retain);
        assert!(f.resources["BTable"].stateful);
        assert!(f.capabilities.contains(&Capability::AutoExpand));
    }

    #[test]
    fn yaml_bodies_and_policies() {
        let yaml = "Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    DeletionPolicy: Snapshot\n  Log:\n    Type: AWS::Logs::LogGroup\nParameters:\n  Env:\n    Type: String\n";
        let f = TemplateFacts::parse(yaml).unwrap();
        assert!(f.resources["Db"].keeps_data());
        assert!(!f.resources["Log"].keeps_data());
        assert_eq!(f.parameter_names(), vec!["Env"]);
        assert!(TemplateFacts::parse("{not json: [").is_err());
    }
}
