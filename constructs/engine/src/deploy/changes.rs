//! The change table: one row per resource change of a change set, classified as destructive
//! (data may be lost) or security-widening (IAM, network exposure), and rendered as text.
//!
//! Classification is pure and unit-tested: it takes the change set's rows plus the old and new
//! templates' facts, nothing else.

use serde::Serialize;

use aws_sdk_cloudformation::types::ChangeAction;

use super::template::TemplateFacts;
pub use crate::risk::Replacement;
use crate::risk::{self, Policy};

/// What happens to a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Action {
    /// The resource is created.
    Add,
    /// The resource is updated in place or replaced (see [`Change::replacement`]).
    Modify,
    /// The resource is deleted, unless its `DeletionPolicy` retains it.
    Remove,
    /// An existing resource is brought under the stack's management.
    Import,
    /// CloudFormation cannot tell until it executes (the change depends on something resolved
    /// at run time, such as a nested stack's output).
    Dynamic,
    /// An action this code does not know (CloudFormation added one).
    Other(String),
}

impl From<&ChangeAction> for Action {
    fn from(a: &ChangeAction) -> Action {
        match a {
            ChangeAction::Add => Action::Add,
            ChangeAction::Modify => Action::Modify,
            ChangeAction::Remove => Action::Remove,
            ChangeAction::Import => Action::Import,
            ChangeAction::Dynamic => Action::Dynamic,
            other => Action::Other(other.as_str().to_owned()),
        }
    }
}

impl Action {
    /// The action from CloudFormation's name for it (`Add`, `Modify`, ...); an unknown name is
    /// kept as [`Action::Other`] rather than refused.
    pub fn parse(s: &str) -> Action {
        match s {
            "Add" => Action::Add,
            "Modify" => Action::Modify,
            "Remove" => Action::Remove,
            "Import" => Action::Import,
            "Dynamic" => Action::Dynamic,
            o => Action::Other(o.to_owned()),
        }
    }

    /// CloudFormation's name for the action, as the change table shows it.
    pub fn as_str(&self) -> &str {
        match self {
            Action::Add => "Add",
            Action::Modify => "Modify",
            Action::Remove => "Remove",
            Action::Import => "Import",
            Action::Dynamic => "Dynamic",
            Action::Other(s) => s,
        }
    }
}

/// One row of the change table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// What CloudFormation will do to the resource.
    pub action: Action,
    /// The resource's logical id in the template.
    pub logical_id: String,
    /// The name AWS knows it by; `None` before it exists.
    pub physical_id: Option<String>,
    /// The CloudFormation type, which decides whether it holds data.
    pub resource_type: String,
    /// Only for `Modify`.
    pub replacement: Option<Replacement>,
    /// The properties that cause the replacement (when it may replace), else the properties that
    /// change.
    pub causes: Vec<String>,
}

/// Why a change needs more than a glance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Risk {
    /// Data may be lost: removing or replacing a stateful resource. The text says why.
    pub destructive: Option<String>,
    /// Access may widen: an IAM, security group or resource-policy change.
    pub broadening: bool,
    /// A removal whose `DeletionPolicy` keeps the resource: it stays in AWS, no longer managed
    /// by the stack. Not destructive; the text says so.
    pub kept: Option<String>,
    /// The change cannot succeed: CloudFormation replaces the resource, but its physical name is
    /// fixed by the template and unchanged, and it refuses to replace a custom-named resource
    /// (the update fails and rolls back). Deploy refuses it before executing; the text says why
    /// and what would work.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked: Option<String>,
}

/// A change and its risk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassifiedChange {
    /// The change as CloudFormation described it.
    #[serde(flatten)]
    pub change: Change,
    /// What it risks, as [`classify`] judged it.
    #[serde(flatten)]
    pub risk: Risk,
}

impl ClassifiedChange {
    /// Whether data may be lost: such a change needs `--allow-replacement` for its type.
    pub fn is_destructive(&self) -> bool {
        self.risk.destructive.is_some()
    }
}

/// Classifies one change. `old` is the deployed template (absent on create), `new` ours.
///
/// What holds data and what a deletion policy does come from [`crate::risk`], the same
/// judgement `diff` and `destroy` make.
pub fn classify(change: &Change, old: Option<&TemplateFacts>, new: &TemplateFacts) -> Risk {
    let id = &change.logical_id;
    let ty = change.resource_type.as_str();
    let old_r = old.and_then(|f| f.resources.get(id));
    let new_r = new.resources.get(id);
    let policies: Vec<Policy> = [old_r, new_r]
        .into_iter()
        .flatten()
        .flat_map(|r| r.policies())
        .collect();
    let why_stateful = risk::why_stateful(ty, &policies);
    let mut kept = None;
    // A restored database whose snapshot is dropped, changed or added is replaced, whatever
    // the change set's verdict (the schema calls it only conditionally create-only).
    let restore = (change.action == Action::Modify)
        .then(|| {
            risk::restore_change(
                ty,
                old_r.and_then(|r| r.restored_from.as_deref()),
                new_r.and_then(|r| r.restored_from.as_deref()),
            )
        })
        .flatten();
    let destructive = match (&change.action, change.replacement) {
        _ if restore.is_some() => restore.map(|r| {
            let policy = new_r
                .or(old_r)
                .map(|r| r.update_replace_policy)
                .unwrap_or(Policy::Delete);
            format!("replaced: {}", r.effect(policy))
        }),
        (Action::Remove, _) => {
            // The deployed template's policy decides; without it, assume the worst (Delete).
            let policy = old_r.map(|r| r.deletion_policy).unwrap_or(Policy::Delete);
            let removal = risk::removal(ty, policy);
            if removal.kept() {
                kept = Some(format!(
                    "removed from the stack but {}",
                    removal.description
                ));
            }
            removal
                .destructive
                .then(|| format!("removed from the stack: {}", removal.description))
        }
        // No replacement information (emulators) or an action this code does not know: a
        // stateful resource may be replaced, so treat it as if it were.
        (Action::Modify, None) | (Action::Dynamic | Action::Other(_), _) => why_stateful
            .map(|w| format!("changed and CloudFormation did not say whether it is replaced: {w}")),
        (Action::Modify, Some(r)) if r.may_replace() => {
            let how = if r == Replacement::True {
                "replaced"
            } else {
                "may be replaced"
            };
            let by = if change.causes.is_empty() {
                String::new()
            } else {
                format!(" (because of {})", change.causes.join(", "))
            };
            let replace_policy = new_r
                .or(old_r)
                .map(|r| r.update_replace_policy)
                .unwrap_or(Policy::Delete);
            why_stateful.map(|w| {
                format!(
                    "{how}{by}: {w}; {}",
                    risk::policy::replacement_effect(ty, replace_policy)
                )
            })
        }
        (Action::Modify, Some(_)) => {
            risk::data_losing_update(ty, change.causes.iter().map(String::as_str))
                .map(|d| format!("updated ({}): {}", d.property, d.effect))
        }
        _ => None,
    };
    let broadening = risk::is_security_sensitive(&change.resource_type)
        && matches!(
            change.action,
            Action::Add | Action::Modify | Action::Import | Action::Dynamic | Action::Other(_)
        );
    Risk {
        destructive,
        broadening,
        kept,
        blocked: fixed_name_block(change, new_r),
    }
}

/// Why a certain replacement cannot succeed: the template sets the resource's name property
/// ([`risk::name_property`]) and the change leaves it as it is, so the replacement would need
/// the name the old resource still holds. Only for `Replacement: True`; a conditional one may
/// not replace at all (diff notes that case).
fn fixed_name_block(
    change: &Change,
    new_r: Option<&crate::assembly::ResourceFacts>,
) -> Option<String> {
    if change.action != Action::Modify || change.replacement != Some(Replacement::True) {
        return None;
    }
    let prop = risk::name_property(&change.resource_type)?;
    let name = new_r?.fixed_name.as_deref()?;
    if change.causes.iter().any(|c| c == prop) {
        return None;
    }
    let by = if change.causes.is_empty() {
        String::new()
    } else {
        format!(" (because of {})", change.causes.join(", "))
    };
    Some(format!(
        "replaced{by}, but its {prop} is fixed by the template ({name}) and stays the same: CloudFormation cannot create the replacement while the old resource holds that name, so the update would fail and roll back. Change {prop} in the same deploy, or remove the resource in one deploy and add it back in the next"
    ))
}

/// Classifies every change.
pub fn classify_all(
    changes: &[Change],
    old: Option<&TemplateFacts>,
    new: &TemplateFacts,
) -> Vec<ClassifiedChange> {
    changes
        .iter()
        .map(|c| ClassifiedChange {
            change: c.clone(),
            risk: classify(c, old, new),
        })
        .collect()
}

/// Text styling for the table: plain, or ANSI colours on a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// No escape codes: not a terminal, or `NO_COLOR` is set.
    Plain,
    /// ANSI colours, for a terminal.
    Color,
}

/// Wraps text in an ANSI colour when `style` allows (31 red, 33 yellow, 1 bold).
pub fn paint(style: Style, code: &str, text: &str) -> String {
    match style {
        Style::Plain => text.to_owned(),
        Style::Color => format!("\x1b[{code}m{text}\x1b[0m"),
    }
}

/// Renders the change table (without a trailing newline). Destructive rows are marked `!!` (and
/// red), security-widening rows `+!` (and yellow), removals a deletion policy keeps `--`, with a
/// legend under the table.
pub fn render_table(changes: &[ClassifiedChange], style: Style) -> String {
    let headers = [
        "",
        "Action",
        "Logical ID",
        "Type",
        "Replacement",
        "Caused by",
    ];
    let rows: Vec<[String; 6]> = changes
        .iter()
        .map(|c| {
            let mark = if c.risk.blocked.is_some() {
                "xx"
            } else if c.is_destructive() {
                "!!"
            } else if c.risk.broadening {
                "+!"
            } else if c.risk.kept.is_some() {
                "--"
            } else {
                ""
            };
            [
                mark.to_owned(),
                c.change.action.as_str().to_owned(),
                c.change.logical_id.clone(),
                c.change.resource_type.clone(),
                match c.change.replacement {
                    Some(Replacement::True) => "True".into(),
                    Some(Replacement::Conditional) => "Conditional".into(),
                    Some(Replacement::False) => "False".into(),
                    None => "-".into(),
                },
                if c.change.causes.is_empty() {
                    "-".into()
                } else {
                    c.change.causes.join(", ")
                },
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String; 6]| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        s.trim_end().to_owned()
    };
    let mut out = vec![line(&headers.map(str::to_owned))];
    for (r, c) in rows.iter().zip(changes) {
        let text = line(r);
        out.push(if c.is_destructive() {
            paint(style, "1;31", &text)
        } else if c.risk.broadening {
            paint(style, "33", &text)
        } else {
            text
        });
    }
    let destructive: Vec<&ClassifiedChange> =
        changes.iter().filter(|c| c.is_destructive()).collect();
    for c in &destructive {
        out.push(paint(
            style,
            "1;31",
            &format!(
                "!! {} ({}) is {}",
                c.change.logical_id,
                c.change.resource_type,
                c.risk.destructive.as_deref().unwrap_or("destructive")
            ),
        ));
    }
    for c in changes {
        if let Some(blocked) = &c.risk.blocked {
            out.push(paint(
                style,
                "1;31",
                &format!(
                    "xx {} ({}) cannot be updated: it is {blocked}",
                    c.change.logical_id, c.change.resource_type
                ),
            ));
        }
    }
    for c in changes {
        if let Some(kept) = &c.risk.kept {
            out.push(format!(
                "-- {} ({}) is {kept}",
                c.change.logical_id, c.change.resource_type
            ));
        }
    }
    if changes
        .iter()
        .any(|c| c.risk.broadening && !c.is_destructive())
    {
        out.push(paint(
            style,
            "33",
            "+! security-sensitive: IAM, security group or resource-policy changes that may widen access",
        ));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(action: Action, id: &str, ty: &str, repl: Option<Replacement>) -> Change {
        Change {
            action,
            logical_id: id.into(),
            physical_id: None,
            resource_type: ty.into(),
            replacement: repl,
            causes: vec!["Engine".into()],
        }
    }

    fn facts(body: &str) -> TemplateFacts {
        TemplateFacts::parse(body).expect("template")
    }

    const EMPTY: &str = r#"{"Resources":{}}"#;

    /// A function whose template fixes its name (as `VpcLambda` does), switched to zip.
    const NAMED_FUNCTION: &str = r#"{"Resources":{"Api":{"Type":"AWS::Lambda::Function",
        "Properties":{"FunctionName":{"Fn::Sub":"${AWS::StackName}-api"},"PackageType":"Zip"}}}}"#;

    #[test]
    fn replacing_a_resource_with_a_fixed_name_is_blocked_and_explained() {
        let new = facts(NAMED_FUNCTION);
        let mut c = change(
            Action::Modify,
            "Api",
            "AWS::Lambda::Function",
            Some(Replacement::True),
        );
        c.causes = vec!["PackageType".into()];
        let risk = classify(&c, None, &new);
        let why = risk.blocked.clone().expect("blocked");
        assert!(why.contains("because of PackageType"), "{why}");
        assert!(
            why.contains(
                r#"FunctionName is fixed by the template ({"Fn::Sub":"${AWS::StackName}-api"})"#
            ),
            "{why}"
        );
        assert!(why.contains("would fail and roll back"), "{why}");
        // Not stateful: blocked, not destructive.
        assert!(risk.destructive.is_none());
        let table = render_table(
            &[ClassifiedChange {
                change: c.clone(),
                risk,
            }],
            Style::Plain,
        );
        assert!(
            table.lines().nth(1).expect("row").starts_with("xx"),
            "{table}"
        );
        assert!(
            table.contains("xx Api (AWS::Lambda::Function) cannot be updated: it is replaced"),
            "{table}"
        );

        // The name changes too: the replacement gets a new name and works.
        c.causes = vec!["PackageType".into(), "FunctionName".into()];
        assert_eq!(classify(&c, None, &new).blocked, None);
        // A conditional replacement may not replace at all: not refused (diff notes it).
        c.causes = vec!["PackageType".into()];
        c.replacement = Some(Replacement::Conditional);
        assert_eq!(classify(&c, None, &new).blocked, None);
        // No name in the template: CloudFormation generates a new one.
        c.replacement = Some(Replacement::True);
        let unnamed = facts(
            r#"{"Resources":{"Api":{"Type":"AWS::Lambda::Function","Properties":{"PackageType":"Zip"}}}}"#,
        );
        assert_eq!(classify(&c, None, &unnamed).blocked, None);
        let no_value = facts(
            r#"{"Resources":{"Api":{"Type":"AWS::Lambda::Function","Properties":{"FunctionName":{"Ref":"AWS::NoValue"}}}}}"#,
        );
        assert_eq!(classify(&c, None, &no_value).blocked, None);
    }

    #[test]
    fn replacing_or_removing_a_database_is_destructive() {
        let new = facts(EMPTY);
        for r in [Replacement::True, Replacement::Conditional] {
            let c = change(Action::Modify, "Db", "AWS::RDS::DBInstance", Some(r));
            let risk = classify(&c, None, &new);
            let why = risk.destructive.expect("destructive");
            assert!(why.contains("Engine"), "{why}");
        }
        let c = change(Action::Remove, "Db", "AWS::RDS::DBInstance", None);
        assert!(classify(&c, None, &new).destructive.is_some());
        let c = change(
            Action::Modify,
            "Db",
            "AWS::RDS::DBInstance",
            Some(Replacement::False),
        );
        assert!(classify(&c, None, &new).destructive.is_none());
        let c = change(Action::Add, "Db", "AWS::RDS::DBInstance", None);
        assert!(classify(&c, None, &new).destructive.is_none());
        // No replacement information: assume the worst for stateful types only.
        let c = change(Action::Modify, "Db", "AWS::RDS::DBInstance", None);
        assert!(classify(&c, None, &new).destructive.is_some());
        let c = change(Action::Modify, "P", "AWS::SSM::Parameter", None);
        assert!(classify(&c, None, &new).destructive.is_none());
    }

    #[test]
    fn retain_or_snapshot_policies_make_any_type_stateful() {
        let old = facts(
            r#"{"Resources":{"P":{"Type":"AWS::SSM::Parameter","DeletionPolicy":"Snapshot"}}}"#,
        );
        let new = facts(EMPTY);
        let c = change(Action::Remove, "P", "AWS::SSM::Parameter", None);
        // Snapshot on a type CloudFormation cannot snapshot: deleted, and the policy says it
        // held data.
        assert!(classify(&c, Some(&old), &new).destructive.is_some());
        assert!(classify(&c, None, &new).destructive.is_none());
        let new = facts(
            r#"{"Resources":{"P":{"Type":"AWS::SSM::Parameter","UpdateReplacePolicy":"Snapshot"}}}"#,
        );
        let c = change(
            Action::Modify,
            "P",
            "AWS::SSM::Parameter",
            Some(Replacement::True),
        );
        assert!(classify(&c, None, &new).destructive.is_some());
    }

    #[test]
    fn removing_a_retained_resource_is_kept_not_destructive() {
        for policy in ["Retain", "RetainExceptOnCreate"] {
            let old = facts(&format!(
                r#"{{"Resources":{{"Table":{{"Type":"AWS::DynamoDB::Table","DeletionPolicy":"{policy}"}}}}}}"#
            ));
            let c = change(Action::Remove, "Table", "AWS::DynamoDB::Table", None);
            let risk = classify(&c, Some(&old), &facts(EMPTY));
            assert_eq!(risk.destructive, None, "{policy}");
            let kept = risk.kept.expect("kept");
            assert!(kept.contains("kept in AWS, no longer managed"), "{kept}");
            let t = render_table(
                &[ClassifiedChange {
                    change: c.clone(),
                    risk: classify(&c, Some(&old), &facts(EMPTY)),
                }],
                Style::Plain,
            );
            assert!(t.contains("--  Remove  Table"), "{t}");
            assert!(
                t.contains(
                    "-- Table (AWS::DynamoDB::Table) is removed from the stack but kept in AWS"
                ),
                "{t}"
            );
        }
        // Without the deployed template the policy is unknown: assume Delete.
        let c = change(Action::Remove, "Table", "AWS::DynamoDB::Table", None);
        assert!(classify(&c, None, &facts(EMPTY)).destructive.is_some());
    }

    #[test]
    fn security_changes_are_broadening_but_removals_are_not() {
        let new = facts(EMPTY);
        for ty in [
            "AWS::IAM::Role",
            "AWS::EC2::SecurityGroupIngress",
            "AWS::Lambda::Url",
        ] {
            let c = change(Action::Add, "X", ty, None);
            assert!(classify(&c, None, &new).broadening, "{ty}");
            let c = change(Action::Remove, "X", ty, None);
            assert!(!classify(&c, None, &new).broadening, "{ty}");
        }
        let c = change(Action::Add, "X", "AWS::SSM::Parameter", None);
        assert!(!classify(&c, None, &new).broadening);
    }

    #[test]
    fn table_marks_and_legend() {
        let new = facts(EMPTY);
        let changes = classify_all(
            &[
                change(
                    Action::Modify,
                    "Db",
                    "AWS::RDS::DBInstance",
                    Some(Replacement::True),
                ),
                change(Action::Add, "Role", "AWS::IAM::Role", None),
                change(Action::Add, "P", "AWS::SSM::Parameter", None),
            ],
            None,
            &new,
        );
        let t = render_table(&changes, Style::Plain);
        assert!(t.contains("!!  Modify  Db"), "{t}");
        assert!(t.contains("+!  Add     Role"), "{t}");
        assert!(
            t.contains("!! Db (AWS::RDS::DBInstance) is replaced"),
            "{t}"
        );
        assert!(!t.contains('\x1b'));
        assert!(render_table(&changes, Style::Color).contains("\x1b[1;31m"));
    }
}
