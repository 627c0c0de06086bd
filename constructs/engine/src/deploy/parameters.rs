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
//! A *pinned* parameter (its source an SSM parameter, recorded in the template's metadata by
//! `Stack::add_pinned_parameter`) has no default: its value is looked up on the first deploy,
//! when its source changes (another architecture's AMI) or when `--refresh-pinned` asks, and is
//! kept otherwise, so a new Amazon Linux release never replaces an instance behind the user's
//! back. A stack deployed before the parameter was pinned keeps the value CloudFormation
//! resolved last.
//!
//! The plan is a pure function of the new template's facts, the deployed stack's parameters and
//! the deployed template's facts, so it is tested without AWS.

use std::collections::BTreeMap;

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
    /// A pinned parameter's value, looked up now from its SSM parameter.
    LookedUp,
}

impl Source {
    /// A short phrase for the change table.
    pub fn describe(self) -> &'static str {
        match self {
            Source::CommandLine => "--parameters",
            Source::DefaultChanged => "template default changed",
            Source::Kept => "kept from the deployed stack",
            Source::Default => "template default",
            Source::LookedUp => "looked up",
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
    /// Why, when the source alone does not say (a pinned parameter: which lookup and why).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
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

/// A pinned parameter that must be looked up on this deploy, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The parameter.
    pub key: String,
    /// The SSM parameter holding its value.
    pub ssm_name: String,
    /// Why now: first deploy, source changed, `--refresh-pinned`.
    pub why: String,
}

/// What a pinned parameter gets when `--parameters` does not set it: `Ok(plan)` when no lookup
/// is needed, `Err(lookup)` when one is.
fn pinned(
    p: &ParameterFacts,
    source: &str,
    live: Option<&DeployedParameter>,
    old: Option<&ParameterFacts>,
    refresh: bool,
) -> Result<(Source, Send, Option<String>, Option<String>), Lookup> {
    let lookup = |why: String| Lookup {
        key: p.name.clone(),
        ssm_name: source.to_owned(),
        why,
    };
    let Some(live) = live else {
        return Err(lookup("first deploy of this parameter".into()));
    };
    if refresh {
        return Err(lookup("--refresh-pinned".into()));
    }
    match old.and_then(|o| o.pinned_from.as_deref()) {
        Some(was) if was == source => {
            Ok((Source::Kept, Send::UsePrevious, live.value.clone(), None))
        }
        Some(was) => Err(lookup(format!("its source changed from {was}"))),
        // Deployed before it was pinned, as an SSM-typed parameter reading the same source:
        // keep what CloudFormation resolved last, so upgrading replaces nothing.
        None if live.value.as_deref() == Some(source) && live.resolved.is_some() => Ok((
            Source::Kept,
            Send::Value(live.resolved.clone().unwrap_or_default()),
            live.resolved.clone(),
            Some(format!(
                "pinned to the value {source} resolved to on the last deploy"
            )),
        )),
        None => Err(lookup("it was not pinned before".into())),
    }
}

/// The pinned parameters of `new` whose value must be looked up before [`plan`] can decide.
pub fn lookups_needed(
    new: &TemplateFacts,
    deployed: Option<(&[DeployedParameter], &TemplateFacts)>,
    overrides: &[(String, String)],
    refresh: bool,
) -> Vec<Lookup> {
    new.parameters
        .iter()
        .filter(|p| !overrides.iter().any(|(k, _)| *k == p.name))
        .filter_map(|p| {
            let source = p.pinned_from.as_deref()?;
            let live = deployed.and_then(|(params, _)| params.iter().find(|d| d.key == p.name));
            let old = deployed.and_then(|(_, f)| f.parameters.iter().find(|q| q.name == p.name));
            pinned(p, source, live, old, refresh).err()
        })
        .collect()
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
///
/// Pinned parameters take their value from `looked_up` (SSM name -> value, filled from
/// [`lookups_needed`]) when they need one; `refresh` is `--refresh-pinned`.
pub fn plan(
    new: &TemplateFacts,
    deployed: Option<(&[DeployedParameter], &TemplateFacts)>,
    overrides: &[(String, String)],
    refresh: bool,
    looked_up: &BTreeMap<String, String>,
) -> Result<Vec<ParameterPlan>, MissingParameter> {
    let mut out = Vec::with_capacity(new.parameters.len());
    for p in &new.parameters {
        let mut note = None;
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
        let (source, send, value) = if let Some((_, v)) =
            overrides.iter().rev().find(|(k, _)| *k == p.name)
        {
            (Source::CommandLine, Send::Value(v.clone()), Some(v.clone()))
        } else if let Some(source) = p.pinned_from.as_deref() {
            let old_p = deployed.and_then(|(_, f)| f.parameters.iter().find(|q| q.name == p.name));
            match pinned(p, source, live, old_p, refresh) {
                Ok((source, send, value, why)) => {
                    note = why;
                    (source, send, value)
                }
                Err(lookup) => {
                    let Some(v) = looked_up.get(&lookup.ssm_name) else {
                        return Err(MissingParameter {
                            key: p.name.clone(),
                        });
                    };
                    note = Some(format!("from {} ({})", lookup.ssm_name, lookup.why));
                    (Source::LookedUp, Send::Value(v.clone()), Some(v.clone()))
                }
            }
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
            note,
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
                p.note.as_deref().unwrap_or(p.source.describe())
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
                    pinned_from: None,
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
        let p = plan(&new, Some((&live, &old)), &[], false, &BTreeMap::new()).unwrap();
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
        let p = plan(&new, Some((&live, &old)), &[], false, &BTreeMap::new()).unwrap();
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
        let p = plan(
            &new,
            Some((&live, &old)),
            &overrides,
            false,
            &BTreeMap::new(),
        )
        .unwrap();
        assert_eq!(p[0].source, Source::CommandLine);
        assert_eq!(p[0].send, Send::Value("repo:v3".into()));
    }

    #[test]
    fn a_new_parameter_takes_its_default_and_one_without_default_is_an_error() {
        let old = facts(&[]);
        let new = facts(&[("Memory", Some(serde_json::json!(512)))]);
        let p = plan(&new, Some((&[], &old)), &[], false, &BTreeMap::new()).unwrap();
        assert_eq!(p[0].source, Source::Default);
        assert_eq!(p[0].send, Send::Omit);
        assert_eq!(p[0].new.as_deref(), Some("512"));
        let bare = facts(&[("Token", None)]);
        let err = plan(&bare, None, &[], false, &BTreeMap::new()).unwrap_err();
        assert_eq!(err.key, "Token");
        assert!(err.to_string().contains("--parameters Token=VALUE"));
    }

    #[test]
    fn a_default_added_to_a_parameter_that_had_none_applies() {
        let old = facts(&[("Image", None)]);
        let new = facts(&[("Image", s("repo:v2"))]);
        let live = deployed(&[("Image", "repo:given")]);
        let p = plan(&new, Some((&live, &old)), &[], false, &BTreeMap::new()).unwrap();
        assert_eq!(p[0].source, Source::DefaultChanged);
    }

    #[test]
    fn a_removed_default_keeps_the_deployed_value() {
        let old = facts(&[("Image", s("repo:v1"))]);
        let new = facts(&[("Image", None)]);
        let live = deployed(&[("Image", "repo:v1")]);
        let p = plan(&new, Some((&live, &old)), &[], false, &BTreeMap::new()).unwrap();
        assert_eq!(p[0].send, Send::UsePrevious);
    }

    #[test]
    fn list_and_number_defaults_read_as_cloudformation_reads_them() {
        let p = ParameterFacts {
            name: "L".into(),
            type_name: "CommaDelimitedList".into(),
            default: Some(serde_json::json!(["a", "b"])),
            pinned_from: None,
        };
        assert_eq!(default_text(&p).as_deref(), Some("a,b"));
        let n = ParameterFacts {
            default: Some(serde_json::json!(7)),
            ..p
        };
        assert_eq!(default_text(&n).as_deref(), Some("7"));
    }

    fn pinned_facts(source: &str) -> TemplateFacts {
        TemplateFacts {
            parameters: vec![ParameterFacts {
                name: "Ami".into(),
                type_name: "AWS::EC2::Image::Id".into(),
                default: None,
                pinned_from: Some(source.into()),
            }],
            ..TemplateFacts::default()
        }
    }

    const ARM: &str = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64";
    const X86: &str = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

    fn looked(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_pinned_parameter_is_looked_up_once_then_kept() {
        let new = pinned_facts(ARM);
        let first = lookups_needed(&new, None, &[], false);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].ssm_name, ARM);
        let p = plan(&new, None, &[], false, &looked(&[(ARM, "ami-1")])).unwrap();
        assert_eq!(p[0].source, Source::LookedUp);
        assert_eq!(p[0].send, Send::Value("ami-1".into()));

        // The next deploy: same source, no lookup, the deployed AMI stays.
        let live = deployed(&[("Ami", "ami-1")]);
        assert!(lookups_needed(&new, Some((&live, &new)), &[], false).is_empty());
        let p = plan(&new, Some((&live, &new)), &[], false, &BTreeMap::new()).unwrap();
        assert_eq!(p[0].send, Send::UsePrevious);
        assert!(!p[0].changes());
    }

    #[test]
    fn a_new_source_or_refresh_looks_up_again_and_says_why() {
        let old = pinned_facts(ARM);
        let new = pinned_facts(X86);
        let live = deployed(&[("Ami", "ami-1")]);
        let need = lookups_needed(&new, Some((&live, &old)), &[], false);
        assert_eq!(need[0].ssm_name, X86);
        let p = plan(
            &new,
            Some((&live, &old)),
            &[],
            false,
            &looked(&[(X86, "ami-2")]),
        )
        .unwrap();
        assert_eq!(
            render(&p),
            format!("parameter Ami: ami-1 -> ami-2 (from {X86} (its source changed from {ARM}))")
        );
        let need = lookups_needed(&old, Some((&live, &old)), &[], true);
        assert_eq!(need[0].why, "--refresh-pinned");
        // Asked for but not looked up: an error, never a silent empty value.
        assert!(plan(&old, Some((&live, &old)), &[], true, &BTreeMap::new()).is_err());
        // --parameters needs no lookup.
        let o = [("Ami".to_owned(), "ami-9".to_owned())];
        assert!(lookups_needed(&old, Some((&live, &old)), &o, true).is_empty());
    }

    #[test]
    fn a_stack_from_before_pinning_keeps_the_ami_it_resolved() {
        let old = TemplateFacts {
            parameters: vec![ParameterFacts {
                name: "Ami".into(),
                type_name: "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>".into(),
                default: Some(serde_json::Value::String(ARM.into())),
                pinned_from: None,
            }],
            ..TemplateFacts::default()
        };
        let new = pinned_facts(ARM);
        let live = vec![DeployedParameter {
            key: "Ami".into(),
            value: Some(ARM.into()),
            resolved: Some("ami-0".into()),
        }];
        assert!(lookups_needed(&new, Some((&live, &old)), &[], false).is_empty());
        let p = plan(&new, Some((&live, &old)), &[], false, &BTreeMap::new()).unwrap();
        assert_eq!(p[0].send, Send::Value("ami-0".into()));
        assert_eq!(p[0].source, Source::Kept);
    }
}
