//! What deploy needs to know about a template body (the one we synthesized, or the deployed one
//! from `GetTemplate`): resource types, deletion policies, and the capabilities it requires.
//!
//! Works on the raw body (JSON or YAML) so it handles any stack, not only ours.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::risk::policy::{self as risk_policy, Policy};

/// One resource of a template, as far as safety checks care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceFacts {
    pub type_name: String,
    /// The `DeletionPolicy` CloudFormation applies: the explicit one, else the type's default
    /// (`Snapshot` for RDS clusters and stand-alone instances, `Delete` otherwise); see
    /// [`crate::risk::policy`].
    pub deletion_policy: String,
    /// `UpdateReplacePolicy` (`Delete` when absent).
    pub update_replace_policy: String,
}

impl ResourceFacts {
    /// True when the template marks the resource as holding data: a `Retain`, `RetainExceptOnCreate`
    /// or `Snapshot` deletion or update-replace policy.
    pub fn keeps_data(&self) -> bool {
        [&self.deletion_policy, &self.update_replace_policy]
            .iter()
            .any(|p| Policy::parse(Some(p)).keeps_data())
    }
}

/// The facts of a whole template.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateFacts {
    /// Resources by logical id.
    pub resources: BTreeMap<String, ResourceFacts>,
    /// The capabilities CloudFormation will demand for this template.
    pub capabilities: Vec<Capability>,
    /// Template parameter names (to check `--parameters`).
    pub parameters: Vec<String>,
}

/// A capability acknowledgement passed to `CreateChangeSet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Capability {
    Iam,
    NamedIam,
    AutoExpand,
}

impl Capability {
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Iam => "CAPABILITY_IAM",
            Capability::NamedIam => "CAPABILITY_NAMED_IAM",
            Capability::AutoExpand => "CAPABILITY_AUTO_EXPAND",
        }
    }
}

/// The template body could not be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the template is not valid JSON or YAML: {0}")]
pub struct TemplateError(pub String);

/// IAM resource types: any of them requires `CAPABILITY_IAM`.
const IAM_TYPES: &[&str] = &[
    "AWS::IAM::AccessKey",
    "AWS::IAM::Group",
    "AWS::IAM::GroupPolicy",
    "AWS::IAM::InstanceProfile",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::Policy",
    "AWS::IAM::Role",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::User",
    "AWS::IAM::UserPolicy",
    "AWS::IAM::UserToGroupAddition",
];

/// Properties that give an IAM resource a custom name: any of them requires
/// `CAPABILITY_NAMED_IAM`.
const IAM_NAME_PROPERTIES: &[(&str, &str)] = &[
    ("AWS::IAM::Role", "RoleName"),
    ("AWS::IAM::User", "UserName"),
    ("AWS::IAM::Group", "GroupName"),
    ("AWS::IAM::ManagedPolicy", "ManagedPolicyName"),
    ("AWS::IAM::InstanceProfile", "InstanceProfileName"),
];

impl TemplateFacts {
    /// Reads a template body: JSON (what we synthesize), or CloudFormation YAML, short forms
    /// included (what other tools may have deployed), through [`crate::template_read`].
    pub fn parse(body: &str) -> Result<TemplateFacts, TemplateError> {
        let doc = crate::template_read::parse_document("template body", body, None)
            .map_err(|e| TemplateError(e.to_string()))?;
        Ok(Self::from_json(&doc))
    }

    /// Reads an already parsed template document.
    ///
    /// `Fn::ForEach` loops over literal lists are expanded first (the deployed template is the
    /// original one), so a looped resource's policy is found under its expanded logical id.
    pub fn from_json(doc: &Value) -> TemplateFacts {
        let doc = &crate::diff::foreach::expand_template(doc);
        let mut facts = TemplateFacts::default();
        let mut iam = false;
        let mut named = false;
        if let Some(resources) = doc.get("Resources").and_then(Value::as_object) {
            for (id, r) in resources {
                let type_name = r
                    .get("Type")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                if IAM_TYPES.contains(&type_name.as_str()) {
                    iam = true;
                }
                let props = r.get("Properties");
                if IAM_NAME_PROPERTIES
                    .iter()
                    .any(|(t, p)| *t == type_name && props.and_then(|ps| ps.get(p)).is_some())
                {
                    named = true;
                }
                facts.resources.insert(
                    id.clone(),
                    ResourceFacts {
                        deletion_policy: risk_policy::deletion_policy(r).as_str().to_owned(),
                        update_replace_policy: risk_policy::update_replace_policy(r)
                            .as_str()
                            .to_owned(),
                        type_name,
                    },
                );
            }
        }
        if iam {
            facts.capabilities.push(Capability::Iam);
        }
        if named {
            facts.capabilities.push(Capability::NamedIam);
        }
        if doc.get("Transform").is_some() {
            facts.capabilities.push(Capability::AutoExpand);
        }
        if let Some(params) = doc.get("Parameters").and_then(Value::as_object) {
            facts.parameters = params.keys().cloned().collect();
        }
        facts
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
        assert_eq!(f.resources["BTable"].deletion_policy, "Retain");
    }

    #[test]
    fn yaml_bodies_and_policies() {
        let yaml = "Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    DeletionPolicy: Snapshot\n  Log:\n    Type: AWS::Logs::LogGroup\nParameters:\n  Env:\n    Type: String\n";
        let f = TemplateFacts::parse(yaml).unwrap();
        assert!(f.resources["Db"].keeps_data());
        assert!(!f.resources["Log"].keeps_data());
        assert_eq!(f.parameters, vec!["Env".to_owned()]);
        assert!(TemplateFacts::parse("{not json: [").is_err());
    }
}
