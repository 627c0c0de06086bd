//! What a template diff is made of. Serialized as-is by `--format json`; the text and markdown
//! renderings read the same structure.

use serde::Serialize;
use serde_json::Value as Json;

/// The whole comparison: every selected stack against the base.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffReport {
    /// What the templates were compared with, e.g. `templates_out/ at origin/main`.
    pub base: String,
    /// Remarks about the base (e.g. it had no templates directory).
    pub notes: Vec<String>,
    /// Stacks that could not be compared because their base template cannot be read. The diff
    /// fails when there is any: a stack left out must never read as "no changes".
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<Unreadable>,
    /// One entry per compared stack, in stage order.
    pub stacks: Vec<StackDiff>,
}

/// A stack whose base template cannot be read, and why (file, line, column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unreadable {
    /// The stack's name.
    pub stack: String,
    /// Why its base template cannot be read (file, line, column).
    pub error: String,
}

impl DiffReport {
    /// Destructive changes not allowed by `--allow-destroy`, over all stacks.
    pub fn blocking(&self) -> impl Iterator<Item = (&StackDiff, &ResourceChange)> {
        self.stacks.iter().flat_map(|s| {
            s.resources
                .iter()
                .filter(|r| r.destructive.as_ref().is_some_and(|d| !d.allowed))
                .map(move |r| (s, r))
        })
    }

    /// Whether any stack changes at all.
    pub fn has_changes(&self) -> bool {
        self.stacks
            .iter()
            .any(|s| s.status != StackStatus::Unchanged)
    }
}

/// How a stack compares with its base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StackStatus {
    /// Not in the base: every resource is added.
    New,
    /// In the base but no longer synthesized. snowcdk never deletes a deployed stack by itself
    /// (`snowcdk destroy` does), so nothing is destroyed by this diff.
    NoLongerSynthesized,
    /// In both, with at least one difference.
    Changed,
    /// In both and the same to CloudFormation (formatting and equivalent forms aside).
    Unchanged,
}

/// One stack's changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StackDiff {
    /// The stack's name.
    pub stack: String,
    /// New, changed, unchanged or no longer synthesized.
    pub status: StackStatus,
    /// Resource changes, destructive first, then removals, replacements, updates, additions.
    pub resources: Vec<ResourceChange>,
    /// `Parameters` entries added, removed or changed.
    pub parameters: Vec<SectionChange>,
    /// `Conditions` entries added, removed or changed.
    pub conditions: Vec<SectionChange>,
    /// `Mappings` entries added, removed or changed.
    pub mappings: Vec<SectionChange>,
    /// `Outputs` entries added, removed or changed: what other stacks and scripts read.
    pub outputs: Vec<SectionChange>,
    /// `Description`, `Metadata`, `Transform` and other top-level keys.
    pub other: Vec<SectionChange>,
    /// Security group rules and IAM grants added or removed, for the reviewer's eye.
    pub security: SecurityChanges,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Resources added.
    pub add: usize,
    /// Resources updated in place.
    pub update: usize,
    /// Resources that are or may be replaced (or whose replacement is unknown).
    pub replace: usize,
    /// Resources removed.
    pub remove: usize,
    /// Changes that remove or replace a resource holding data.
    pub destructive: usize,
    /// Destructive changes not allowed by `--allow-destroy`.
    pub blocking: usize,
}

impl StackDiff {
    /// The summary counts over the stack's resource changes.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for r in &self.resources {
            match (r.kind, r.replacement) {
                (ChangeKind::Added, _) => c.add += 1,
                (ChangeKind::Removed, _) => c.remove += 1,
                (ChangeKind::Modified, Replacement::Never) => c.update += 1,
                (ChangeKind::Modified, _) => c.replace += 1,
            }
            if let Some(d) = &r.destructive {
                c.destructive += 1;
                if !d.allowed {
                    c.blocking += 1;
                }
            }
        }
        c
    }

    /// Whether anything outside the resources changed too.
    pub fn section_changes(&self) -> usize {
        self.parameters.len()
            + self.conditions.len()
            + self.mappings.len()
            + self.outputs.len()
            + self.other.len()
    }
}

/// Added, removed or modified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// In the base only.
    Removed,
    /// In both, with different values.
    Modified,
    /// In the current template only.
    Added,
}

/// Whether CloudFormation replaces a resource (creates a new one, then deletes the old one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Replacement {
    /// Updated in place.
    Never,
    /// The schema marks a changed property as conditionally create-only: replaced for some
    /// values (e.g. an engine change), updated in place for others.
    Conditional,
    /// A changed property is create-only (or the type changed): replaced.
    Always,
    /// No schema for the type: snowcdk cannot tell.
    Unknown,
}

impl Replacement {
    /// The stronger of two predictions.
    pub fn max(self, other: Replacement) -> Replacement {
        fn rank(r: Replacement) -> u8 {
            match r {
                Replacement::Never => 0,
                Replacement::Unknown => 1,
                Replacement::Conditional => 2,
                Replacement::Always => 3,
            }
        }
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }

    /// How the prediction reads in a table: `update in place`, `may be replaced`, ...
    pub fn label(self) -> &'static str {
        match self {
            Replacement::Never => "update in place",
            Replacement::Conditional => "may be replaced",
            Replacement::Always => "replaced",
            Replacement::Unknown => "unknown (no schema)",
        }
    }
}

/// Why a change destroys data, and whether `--allow-destroy` accepts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Destruction {
    /// What is lost and why (the type holds data, or its policy says so).
    pub reason: String,
    /// `--allow-destroy` names its type: reported, but not failing `--fail-on-destructive`.
    pub allowed: bool,
}

/// One resource's change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceChange {
    /// The resource's logical id.
    pub logical_id: String,
    /// The type now (the old type for a removal).
    pub type_name: String,
    /// The construct path, when the resource is in the current synth.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Added, removed or modified.
    pub kind: ChangeKind,
    /// For modifications: the strongest prediction over all changed properties.
    pub replacement: Replacement,
    /// What changed, in template order. Empty for additions and removals.
    pub changes: Vec<PropertyChange>,
    /// Set when the change removes or replaces a resource that holds data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destructive: Option<Destruction>,
    /// A removal whose `DeletionPolicy` (Retain, RetainExceptOnCreate) keeps the resource in
    /// AWS, no longer managed by the stack: not destructive.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub kept: bool,
    /// Further remarks, e.g. a custom-named resource that CloudFormation cannot replace.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl ResourceChange {
    /// The label of the change as a reviewer reads it: `add`, `remove`, `update`, `replace`, ...
    pub fn action(&self) -> &'static str {
        match (self.kind, self.replacement) {
            (ChangeKind::Added, _) => "add",
            (ChangeKind::Removed, _) if self.kept => "kept, no longer managed",
            (ChangeKind::Removed, _) => "remove",
            (ChangeKind::Modified, Replacement::Never) => "update",
            (ChangeKind::Modified, Replacement::Conditional) => "may replace",
            (ChangeKind::Modified, Replacement::Always) => "replace",
            (ChangeKind::Modified, Replacement::Unknown) => "update (replacement unknown)",
        }
    }

    /// The changed properties that cause a replacement.
    pub fn replacement_causes(&self) -> Vec<&PropertyChange> {
        self.changes
            .iter()
            .filter(|c| {
                matches!(
                    c.replacement,
                    Replacement::Always | Replacement::Conditional
                )
            })
            .collect()
    }
}

/// One changed value inside a resource, at a path such as `Properties.DBSubnetGroupName`,
/// `Properties.Tags[Key=Stage].Value` or `DeletionPolicy`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropertyChange {
    /// Where in the resource, in the form above.
    pub path: String,
    /// The base value; `None` when the property is added.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Json>,
    /// The current value; `None` when the property is removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Json>,
    /// Whether changing this property replaces the resource.
    pub replacement: Replacement,
    /// Why, when it is not just "the value changed" (e.g. it refers to a replaced resource).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A parameter, output, condition, mapping or top-level key that changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectionChange {
    /// The entry's name (parameter, output, ... or the top-level key).
    pub name: String,
    /// Added, removed or modified.
    pub kind: ChangeKind,
    /// The base value; `None` when added.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Json>,
    /// The current value; `None` when removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Json>,
}

/// Who can now reach what: security group rules and IAM grants added or removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SecurityChanges {
    /// `ingress to DbSg: tcp 5432 from sg ApiSg`, sorted.
    pub sg_added: Vec<String>,
    /// Security group rules removed, in the same form.
    pub sg_removed: Vec<String>,
    /// `role ApiRole: Allow secretsmanager:GetSecretValue on ${DbSecret}`, sorted.
    pub iam_added: Vec<String>,
    /// IAM grants removed, in the same form.
    pub iam_removed: Vec<String>,
}

impl SecurityChanges {
    /// Whether no rule or grant changed.
    pub fn is_empty(&self) -> bool {
        self.sg_added.is_empty()
            && self.sg_removed.is_empty()
            && self.iam_added.is_empty()
            && self.iam_removed.is_empty()
    }

    /// How many rules and grants changed, for the summary.
    pub fn len(&self) -> usize {
        self.sg_added.len() + self.sg_removed.len() + self.iam_added.len() + self.iam_removed.len()
    }
}
