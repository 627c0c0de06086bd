//! Which value each template parameter gets on a deploy, and why.
//!
//! CloudFormation keeps nothing about where a parameter value came from, so an update that sends
//! `UsePreviousValue` for everything silently ignores an edited default (a new image URI in the
//! config, the AMI path of another architecture), while an update that sends nothing throws away
//! a value CI set at deploy time (an image tag rolled out with `--parameters`). The precedence,
//! highest first, as the README's "Parameters" section states it:
//!
//! 1. `--parameters KEY=VALUE` on this deploy;
//! 2. the template's default, when it differs from the default of the deployed template (the
//!    config changed, so the change applies);
//! 3. the deployed value, when the default did not change (a value set at deploy time is kept);
//! 4. the template's default, for a parameter the deployed stack does not have yet.
//!
//! The plan is a pure function of the new template's facts, the deployed stack's parameters and
//! the deployed template's facts, so it is tested without AWS.

use serde::Serialize;

use crate::assembly::{ParameterFacts, TemplateFacts};

/// A parameter as the deployed stack holds it (`DescribeStacks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeployedParameter {
    /// The parameter's name.
    pub key: String,
    /// The value CloudFormation stored (for an SSM-typed parameter: the SSM parameter name).
    pub value: Option<String>,
    /// For an SSM-typed parameter, the value it resolved to on the last deploy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<String>,
}

/// Why a parameter gets the value it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// `--parameters` on this deploy.
    CommandLine,
    /// The template's default changed since the last deploy, so the new default is sent.
    DefaultChanged,
    /// The deployed value is kept (`UsePreviousValue`): the default did not change.
    Kept,
    /// A parameter the deployed stack does not have (or a first deploy): the template default.
    Default,
}

impl Source {
    /// A short phrase for the change table.
    pub fn describe(self) -> &'static str {
        match self {
            Source::CommandLine => "--parameters",
            Source::DefaultChanged => "template default changed",
            Source::Kept => "kept from the deployed stack",
            Source::Default => "template default",
        }
    }
}

/// What is sent to CloudFormation for one parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "value")]
pub enum Send {
    /// `ParameterValue`.
    Value(String),
    /// `UsePreviousValue: true`.
    UsePrevious,
    /// Nothing: CloudFormation applies the template default.
    Omit,
}

/// The decision for one parameter of the new template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParameterPlan {
    /// The parameter's name.
    pub key: String,
    /// Where its value comes from.
    pub source: Source,
    /// What goes into the change set request.
    pub send: Send,
    /// The deployed value, when the stack has this parameter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    /// The value it will have after the deploy, when known before it (an SSM-typed parameter
    /// holds the SSM name here; CloudFormation resolves it during the update).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
}

impl ParameterPlan {
    /// True when the deploy gives this parameter another value than the deployed one.
    pub fn changes(&self) -> bool {
        match &self.old {
            None => false,
            Some(old) => self.new.as_deref() != Some(old.as_str()),
        }
    }
}

/// A parameter without a value: neither `--parameters`, nor a default, nor a deployed value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "parameter {key} has no default in the template and no deployed value: pass it with --parameters {key}=VALUE"
)]
pub struct MissingParameter {
    /// The parameter's name.
    pub key: String,
}

/// A template default as CloudFormation reads it: a string as is, a number or boolean as its
/// text, a list (a `CommaDelimitedList` default written as an array) joined with commas.
pub fn default_text(p: &ParameterFacts) -> Option<String> {
    use serde_json::Value;
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    p.default.as_ref().map(|v| match v {
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(","),
        Value::Null => String::new(),
        other => text(other),
    })
}

/// Plans every parameter of `new` (in template order). `deployed` is the stack's parameters and
/// the deployed template's facts; `None` for a first deploy.
pub fn plan(
    new: &TemplateFacts,
    deployed: Option<(&[DeployedParameter], &TemplateFacts)>,
    overrides: &[(String, String)],
) -> Result<Vec<ParameterPlan>, MissingParameter> {
    let mut out = Vec::with_capacity(new.parameters.len());
    for p in &new.parameters {
        let new_default = default_text(p);
        let live = deployed.and_then(|(params, _)| params.iter().find(|d| d.key == p.name));
        let old = live.and_then(|d| d.value.clone());
        let old_default = deployed.and_then(|(_, facts)| {
            facts
                .parameters
                .iter()
                .find(|q| q.name == p.name)
                .and_then(default_text)
        });
        let (source, send, value) =
            if let Some((_, v)) = overrides.iter().rev().find(|(k, _)| *k == p.name) {
                (Source::CommandLine, Send::Value(v.clone()), Some(v.clone()))
            } else if live.is_some() {
                match &new_default {
                    Some(d) if old_default.as_ref() != Some(d) => (
                        Source::DefaultChanged,
                        Send::Value(d.clone()),
                        Some(d.clone()),
                    ),
                    _ => (Source::Kept, Send::UsePrevious, old.clone()),
                }
            } else if new_default.is_some() {
                (Source::Default, Send::Omit, new_default.clone())
            } else {
                return Err(MissingParameter {
                    key: p.name.clone(),
                });
            };
        out.push(ParameterPlan {
            key: p.name.clone(),
            source,
            send,
            old,
            new: value,
        });
    }
    Ok(out)
}

/// The parameter lines of the change table: one per parameter whose value changes, `KEY: old ->
/// new (why)`. Empty when none changes.
pub fn render(plans: &[ParameterPlan]) -> String {
    plans
        .iter()
        .filter(|p| p.changes())
        .map(|p| {
            format!(
                "parameter {}: {} -> {} ({})",
                p.key,
                p.old.as_deref().unwrap_or("-"),
                p.new.as_deref().unwrap_or("-"),
                p.source.describe()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(params: &[(&str, Option<serde_json::Value>)]) -> TemplateFacts {
        TemplateFacts {
            parameters: params
                .iter()
                .map(|(n, d)| ParameterFacts {
                    name: (*n).to_owned(),
                    type_name: "String".into(),
                    default: d.clone(),
                })
                .collect(),
            ..TemplateFacts::default()
        }
    }

    fn deployed(pairs: &[(&str, &str)]) -> Vec<DeployedParameter> {
        pairs
            .iter()
            .map(|(k, v)| DeployedParameter {
                key: (*k).to_owned(),
                value: Some((*v).to_owned()),
                resolved: None,
            })
            .collect()
    }

    fn s(v: &str) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(v.into()))
    }

    #[test]
    fn an_edited_default_is_sent_and_shown() {
        let old = facts(&[("Image", s("repo:v1"))]);
        let new = facts(&[("Image", s("repo:v2"))]);
        let live = deployed(&[("Image", "repo:v1")]);
        let p = plan(&new, Some((&live, &old)), &[]).unwrap();
        assert_eq!(p[0].source, Source::DefaultChanged);
        assert_eq!(p[0].send, Send::Value("repo:v2".into()));
        assert!(p[0].changes());
        assert_eq!(
            render(&p),
            "parameter Image: repo:v1 -> repo:v2 (template default changed)"
        );
    }

    #[test]
    fn a_value_set_at_deploy_time_is_kept_while_the_default_stays() {
        let old = facts(&[("Image", s("repo:v1"))]);
        let new = facts(&[("Image", s("repo:v1"))]);
        let live = deployed(&[("Image", "repo:ci-build-7")]);
        let p = plan(&new, Some((&live, &old)), &[]).unwrap();
        assert_eq!(p[0].source, Source::Kept);
        assert_eq!(p[0].send, Send::UsePrevious);
        assert_eq!(p[0].new.as_deref(), Some("repo:ci-build-7"));
        assert!(!p[0].changes());
        assert_eq!(render(&p), "");
    }

    #[test]
    fn the_command_line_wins_over_a_changed_default() {
        let old = facts(&[("Image", s("repo:v1"))]);
        let new = facts(&[("Image", s("repo:v2"))]);
        let live = deployed(&[("Image", "repo:v1")]);
        let overrides = [("Image".to_owned(), "repo:v3".to_owned())];
        let p = plan(&new, Some((&live, &old)), &overrides).unwrap();
        assert_eq!(p[0].source, Source::CommandLine);
        assert_eq!(p[0].send, Send::Value("repo:v3".into()));
    }

    #[test]
    fn a_new_parameter_takes_its_default_and_one_without_default_is_an_error() {
        let old = facts(&[]);
        let new = facts(&[("Memory", Some(serde_json::json!(512)))]);
        let p = plan(&new, Some((&[], &old)), &[]).unwrap();
        assert_eq!(p[0].source, Source::Default);
        assert_eq!(p[0].send, Send::Omit);
        assert_eq!(p[0].new.as_deref(), Some("512"));
        let bare = facts(&[("Token", None)]);
        let err = plan(&bare, None, &[]).unwrap_err();
        assert_eq!(err.key, "Token");
        assert!(err.to_string().contains("--parameters Token=VALUE"));
    }

    #[test]
    fn a_default_added_to_a_parameter_that_had_none_applies() {
        let old = facts(&[("Image", None)]);
        let new = facts(&[("Image", s("repo:v2"))]);
        let live = deployed(&[("Image", "repo:given")]);
        let p = plan(&new, Some((&live, &old)), &[]).unwrap();
        assert_eq!(p[0].source, Source::DefaultChanged);
    }

    #[test]
    fn a_removed_default_keeps_the_deployed_value() {
        let old = facts(&[("Image", s("repo:v1"))]);
        let new = facts(&[("Image", None)]);
        let live = deployed(&[("Image", "repo:v1")]);
        let p = plan(&new, Some((&live, &old)), &[]).unwrap();
        assert_eq!(p[0].send, Send::UsePrevious);
    }

    #[test]
    fn list_and_number_defaults_read_as_cloudformation_reads_them() {
        let p = ParameterFacts {
            name: "L".into(),
            type_name: "CommaDelimitedList".into(),
            default: Some(serde_json::json!(["a", "b"])),
        };
        assert_eq!(default_text(&p).as_deref(), Some("a,b"));
        let n = ParameterFacts {
            default: Some(serde_json::json!(7)),
            ..p
        };
        assert_eq!(default_text(&n).as_deref(), Some("7"));
    }
}
