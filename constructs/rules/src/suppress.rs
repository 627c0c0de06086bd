//! Suppressions: a rule switched off for one resource, in code next to the construct, with the
//! reason a reviewer reads. They are written to the resource's `Metadata`:
//!
//! ```json
//! "Metadata": {"snowcdk": {"suppressions": [{"id": "SNX-SG-001", "reason": "public HTTPS endpoint"}]}}
//! ```
//!
//! so they show in template diffs and `snowcdk validate --list-suppressions` lists them.

use serde::Serialize;
use serde_json::Value as Json;

use snowcdk_constructs_core::error::SynthError;
use snowcdk_constructs_core::template::{Handle, OnRepeat, Resource, Value};
use snowcdk_constructs_core::tree::Scope;

use super::finding::{RULES, rule};

/// The metadata key snowcdk owns on a resource.
pub const METADATA_KEY: &str = "snowcdk";
/// The list of suppressions under [`METADATA_KEY`].
pub const SUPPRESSIONS_KEY: &str = "suppressions";

/// One suppressed rule on one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    /// The rule id.
    pub id: String,
    /// Why the rule does not apply.
    pub reason: String,
}

/// Suppresses rule `rule_id` on the resource behind `handle`, for `reason`.
///
/// The reason is mandatory: an empty one, or an unknown rule id, is a synth error. Suppressing
/// the same rule twice keeps the last reason.
///
/// ```
/// use snowcdk_constructs_core::Stack;
/// use snowcdk_constructs_l1::logs;
/// use snowcdk_constructs_rules as rules;
///
/// let mut stack = Stack::new("T");
/// let mut root = stack.root();
/// let lg = root.add("Audit", logs::LogGroup::new());
/// rules::suppress(&mut root, &lg, "SNX-LOGS-001", "audit logs are kept forever by policy");
/// ```
pub fn suppress<T: Resource>(
    scope: &mut Scope<'_>,
    handle: &Handle<T>,
    rule_id: &str,
    reason: &str,
) {
    let reason = reason.trim();
    if rule(rule_id).is_none() {
        let known: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        scope.stack().add_error(SynthError::Construct {
            path: handle.path().to_owned(),
            message: format!(
                "cannot suppress unknown rule {rule_id:?}; the rules are {}",
                known.join(", ")
            ),
        });
        return;
    }
    if reason.is_empty() {
        scope.stack().add_error(SynthError::Construct {
            path: handle.path().to_owned(),
            message: format!(
                "the suppression of {rule_id} has no reason; say why the rule does not apply here"
            ),
        });
        return;
    }
    let item = Value::Map(vec![
        ("id".into(), Value::from(rule_id)),
        ("reason".into(), Value::from(reason)),
    ]);
    scope.entry(handle).add_metadata_item(
        METADATA_KEY,
        SUPPRESSIONS_KEY,
        rule_id,
        item,
        OnRepeat::Replace,
    );
}

/// The suppressions written in a rendered resource's metadata.
pub fn suppressions_of(resource: &Json) -> Vec<Suppression> {
    resource
        .get("Metadata")
        .and_then(|m| m.get(METADATA_KEY))
        .and_then(|m| m.get(SUPPRESSIONS_KEY))
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| {
                    Some(Suppression {
                        id: s.get("id")?.as_str()?.to_owned(),
                        reason: s
                            .get("reason")
                            .and_then(Json::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}
