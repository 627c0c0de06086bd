//! Computes a stack's diff from two template documents: resources (with replacement predicted
//! from the schema's create-only properties and propagated through references), template
//! sections, and the security view.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;
use snowcdk_constructs::rules::json::{glob_match, intrinsic, ref_target};
use snowcdk_constructs::rules::{iam, network};
use snowcdk_constructs::template::value::sub_placeholders;

use super::model::{
    ChangeKind, Destruction, PropertyChange, Replacement, ResourceChange, SectionChange,
    SecurityChanges, StackDiff, StackStatus,
};
use super::replacement::{predict, reference_level};

/// Types that hold data: removing or replacing one loses it.
pub const STATEFUL_TYPES: &[&str] = &[
    "AWS::DynamoDB::Table",
    "AWS::EC2::Volume",
    "AWS::ECR::Repository",
    "AWS::EFS::FileSystem",
    "AWS::KMS::Key",
    "AWS::Logs::LogGroup",
    "AWS::RDS::DBCluster",
    "AWS::RDS::DBInstance",
    "AWS::S3::Bucket",
    "AWS::SecretsManager::Secret",
];

/// Resource keys compared besides `Type` and `Properties`.
const RESOURCE_ATTRIBUTES: &[&str] = &[
    "Condition",
    "DependsOn",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "UpdatePolicy",
    "CreationPolicy",
    "Metadata",
];

/// Template sections with their own part of the diff.
const SECTIONS: &[&str] = &[
    "Resources",
    "Parameters",
    "Conditions",
    "Mappings",
    "Outputs",
];

/// Inputs of one stack's comparison besides the two templates.
#[derive(Debug, Default, Clone)]
pub struct Context<'a> {
    /// Logical id -> construct path of the current synth.
    pub paths: Option<&'a BTreeMap<String, String>>,
    /// Type patterns (`AWS::Logs::LogGroup`, `AWS::Logs::*`) whose destruction is accepted.
    pub allow_destroy: &'a [String],
}

fn object(t: Option<&Json>, key: &str) -> serde_json::Map<String, Json> {
    t.and_then(|t| t.get(key))
        .and_then(Json::as_object)
        .cloned()
        .unwrap_or_default()
}

/// Keys of `new` in order, then keys only in `old`, in order.
fn union_keys<'a>(
    old: &'a serde_json::Map<String, Json>,
    new: &'a serde_json::Map<String, Json>,
) -> Vec<&'a String> {
    let mut keys: Vec<&String> = new.keys().collect();
    keys.extend(old.keys().filter(|k| !new.contains_key(*k)));
    keys
}

/// Compares one stack. `old` is `None` for a new stack, `new` is `None` for a stack that is no
/// longer synthesized.
pub fn diff_stack(stack: &str, old: Option<&Json>, new: Option<&Json>, cx: &Context) -> StackDiff {
    let status = match (old, new) {
        (None, _) => StackStatus::New,
        (_, None) => StackStatus::NoLongerSynthesized,
        _ => StackStatus::Unchanged,
    };
    let mut d = StackDiff {
        stack: stack.to_owned(),
        status,
        resources: Vec::new(),
        parameters: diff_section(old, new, "Parameters"),
        conditions: diff_section(old, new, "Conditions"),
        mappings: diff_section(old, new, "Mappings"),
        outputs: diff_section(old, new, "Outputs"),
        other: diff_top_level(old, new),
        security: SecurityChanges::default(),
    };
    if new.is_none() {
        // Nothing is deployed or destroyed by a stack leaving the app; report it, not its contents.
        return d;
    }
    d.resources = diff_resources(old, new, cx);
    d.security = security(old, new);
    if d.status == StackStatus::Unchanged
        && (!d.resources.is_empty() || d.section_changes() > 0 || !d.security.is_empty())
    {
        d.status = StackStatus::Changed;
    }
    d
}

fn diff_section(old: Option<&Json>, new: Option<&Json>, key: &str) -> Vec<SectionChange> {
    let (o, n) = (object(old, key), object(new, key));
    let mut out = Vec::new();
    for name in union_keys(&o, &n) {
        let (ov, nv) = (o.get(name), n.get(name));
        let kind = match (ov, nv) {
            (None, Some(_)) => ChangeKind::Added,
            (Some(_), None) => ChangeKind::Removed,
            (Some(a), Some(b)) if a != b => ChangeKind::Modified,
            _ => continue,
        };
        out.push(SectionChange {
            name: name.clone(),
            kind,
            old: ov.cloned(),
            new: nv.cloned(),
        });
    }
    out
}

fn diff_top_level(old: Option<&Json>, new: Option<&Json>) -> Vec<SectionChange> {
    let o = old.and_then(Json::as_object).cloned().unwrap_or_default();
    let n = new.and_then(Json::as_object).cloned().unwrap_or_default();
    if old.is_none() || new.is_none() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for key in union_keys(&o, &n) {
        if SECTIONS.contains(&key.as_str()) {
            continue;
        }
        let (ov, nv) = (o.get(key), n.get(key));
        let kind = match (ov, nv) {
            (None, Some(_)) => ChangeKind::Added,
            (Some(_), None) => ChangeKind::Removed,
            (Some(a), Some(b)) if a != b => ChangeKind::Modified,
            _ => continue,
        };
        out.push(SectionChange {
            name: key.clone(),
            kind,
            old: ov.cloned(),
            new: nv.cloned(),
        });
    }
    out
}

fn type_of(r: &Json) -> String {
    r.get("Type")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn diff_resources(old: Option<&Json>, new: Option<&Json>, cx: &Context) -> Vec<ResourceChange> {
    let (o, n) = (object(old, "Resources"), object(new, "Resources"));
    let mut changes: BTreeMap<String, ResourceChange> = BTreeMap::new();
    let path_of = |id: &str| cx.paths.and_then(|p| p.get(id)).cloned();
    for id in union_keys(&o, &n) {
        let change = match (o.get(id), n.get(id)) {
            (None, Some(r)) => ResourceChange {
                logical_id: id.clone(),
                type_name: type_of(r),
                path: path_of(id),
                kind: ChangeKind::Added,
                replacement: Replacement::Never,
                changes: Vec::new(),
                destructive: None,
                notes: Vec::new(),
            },
            (Some(r), None) => ResourceChange {
                logical_id: id.clone(),
                type_name: type_of(r),
                path: None,
                kind: ChangeKind::Removed,
                replacement: Replacement::Never,
                changes: Vec::new(),
                destructive: None,
                notes: Vec::new(),
            },
            (Some(a), Some(b)) if a != b => modified(id, a, b, path_of(id)),
            _ => continue,
        };
        changes.insert(id.clone(), change);
    }
    propagate(&n, &mut changes, cx);
    for c in changes.values_mut() {
        let (old_body, new_body) = (o.get(&c.logical_id), n.get(&c.logical_id));
        c.destructive = destruction(c, old_body, new_body).map(|reason| Destruction {
            allowed: cx
                .allow_destroy
                .iter()
                .any(|p| glob_match(p.trim(), &c.type_name)),
            reason,
        });
        if c.replacement == Replacement::Always
            && let Some(new_body) = n.get(&c.logical_id)
            && let Some(name) = custom_name(&c.type_name, new_body, &c.changes)
        {
            c.notes.push(format!(
                "{name} is a custom name: CloudFormation cannot replace a custom-named resource, so this update fails unless the name changes too"
            ));
        }
    }
    let mut out: Vec<ResourceChange> = changes.into_values().collect();
    out.sort_by_key(|c| {
        let rank = match (c.kind, c.replacement) {
            (ChangeKind::Removed, _) => 0,
            (ChangeKind::Modified, Replacement::Always) => 1,
            (ChangeKind::Modified, Replacement::Conditional) => 2,
            (ChangeKind::Modified, Replacement::Unknown) => 3,
            (ChangeKind::Modified, Replacement::Never) => 4,
            (ChangeKind::Added, _) => 5,
        };
        (c.destructive.is_none(), rank, c.logical_id.clone())
    });
    out
}

fn modified(id: &str, old: &Json, new: &Json, path: Option<String>) -> ResourceChange {
    let (ot, nt) = (type_of(old), type_of(new));
    let mut changes = Vec::new();
    let mut replacement = Replacement::Never;
    if ot != nt {
        changes.push(PropertyChange {
            path: "Type".into(),
            old: Some(Json::String(ot.clone())),
            new: Some(Json::String(nt.clone())),
            replacement: Replacement::Always,
            note: Some("a new type is a new resource".into()),
        });
        replacement = Replacement::Always;
    }
    for attr in RESOURCE_ATTRIBUTES {
        // Metadata and update policies are objects: show the keys that changed inside.
        let mut leaves = Vec::new();
        diff_values(
            attr,
            &mut Vec::new(),
            old.get(*attr),
            new.get(*attr),
            &mut leaves,
        );
        for (path, _, a, b) in leaves {
            changes.push(PropertyChange {
                path,
                note: reorder_note(&a, &b),
                old: a,
                new: b,
                replacement: Replacement::Never,
            });
        }
    }
    let spec = snowcdk_constructs::l1::spec(&nt);
    let mut props = Vec::new();
    diff_values(
        "Properties",
        &mut Vec::new(),
        old.get("Properties"),
        new.get("Properties"),
        &mut props,
    );
    for (path, schema, a, b) in props {
        let r = if ot != nt {
            Replacement::Always
        } else {
            predict(spec, &schema)
        };
        replacement = replacement.max(r);
        changes.push(PropertyChange {
            path,
            note: reorder_note(&a, &b),
            old: a,
            new: b,
            replacement: r,
        });
    }
    ResourceChange {
        logical_id: id.to_owned(),
        type_name: nt,
        path,
        kind: ChangeKind::Modified,
        replacement,
        changes,
        destructive: None,
        notes: Vec::new(),
    }
}

type Leaf = (String, Vec<String>, Option<Json>, Option<Json>);

/// Whether two lists hold the same items in a different order.
fn same_items(a: &[Json], b: &[Json]) -> bool {
    if a.len() != b.len() || a == b {
        return false;
    }
    let mut used = vec![false; b.len()];
    a.iter()
        .all(|x| match (0..b.len()).find(|&j| !used[j] && &b[j] == x) {
            Some(j) => {
                used[j] = true;
                true
            }
            None => false,
        })
}

/// `same items, reordered` for a change that only reorders a list.
fn reorder_note(a: &Option<Json>, b: &Option<Json>) -> Option<String> {
    match (a, b) {
        (Some(Json::Array(x)), Some(Json::Array(y))) if same_items(x, y) => {
            Some("same items, reordered".into())
        }
        _ => None,
    }
}

fn is_plain_object(v: Option<&Json>) -> bool {
    v.is_some_and(|v| v.is_object() && intrinsic(v).is_none())
}

/// Items of a list keyed by their `Key` (tags), when every item has a distinct string `Key`.
fn keyed(items: &[Json]) -> Option<Vec<(String, &Json)>> {
    let mut seen = BTreeSet::new();
    items
        .iter()
        .map(|i| {
            let k = i.get("Key")?.as_str()?.to_owned();
            seen.insert(k.clone()).then_some((k, i))
        })
        .collect()
}

/// Walks two values, emitting the changed leaves: `(display path, schema path, old, new)`.
/// Objects recurse by key (also when one side is absent, so each property is judged on its own),
/// tag-like lists by `Key`, equal-length lists by index; anything else is one leaf.
fn diff_values(
    path: &str,
    schema: &mut Vec<String>,
    old: Option<&Json>,
    new: Option<&Json>,
    out: &mut Vec<Leaf>,
) {
    if old == new {
        return;
    }
    let objects =
        (is_plain_object(old) || old.is_none()) && (is_plain_object(new) || new.is_none());
    if objects {
        let empty = serde_json::Map::new();
        let o = old.and_then(Json::as_object).unwrap_or(&empty);
        let n = new.and_then(Json::as_object).unwrap_or(&empty);
        for k in union_keys(o, n) {
            schema.push(k.clone());
            diff_values(&format!("{path}.{k}"), schema, o.get(k), n.get(k), out);
            schema.pop();
        }
        return;
    }
    if let (Some(Json::Array(a)), Some(Json::Array(b))) = (old, new) {
        if let (Some(ka), Some(kb)) = (keyed(a), keyed(b)) {
            let ma: BTreeMap<&str, &Json> = ka.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            let mb: BTreeMap<&str, &Json> = kb.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            let mut keys: Vec<&str> = kb.iter().map(|(k, _)| k.as_str()).collect();
            keys.extend(
                ka.iter()
                    .map(|(k, _)| k.as_str())
                    .filter(|k| !mb.contains_key(k)),
            );
            schema.push("*".into());
            for k in keys {
                let (x, y) = (ma.get(k).copied(), mb.get(k).copied());
                let p = format!("{path}[Key={k}]");
                match (x, y) {
                    (Some(x), Some(y)) => diff_values(&p, schema, Some(x), Some(y), out),
                    _ if x != y => out.push((p, schema.clone(), x.cloned(), y.cloned())),
                    _ => {}
                }
            }
            schema.pop();
            return;
        }
        if same_items(a, b) {
            // Same items in another order: one change, not one per position.
            out.push((path.to_owned(), schema.clone(), old.cloned(), new.cloned()));
            return;
        }
        schema.push("*".into());
        if a.len() == b.len() {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff_values(&format!("{path}[{i}]"), schema, Some(x), Some(y), out);
            }
        } else {
            // Items added or removed: match equal items, report the rest (old index for
            // removed items, new index for added ones).
            let mut used = vec![false; b.len()];
            let mut removed = Vec::new();
            for (i, x) in a.iter().enumerate() {
                match (0..b.len()).find(|&j| !used[j] && &b[j] == x) {
                    Some(j) => used[j] = true,
                    None => removed.push(i),
                }
            }
            for i in removed {
                out.push((
                    format!("{path}[{i}]"),
                    schema.clone(),
                    Some(a[i].clone()),
                    None,
                ));
            }
            for (j, y) in b.iter().enumerate().filter(|(j, _)| !used[*j]) {
                out.push((
                    format!("{path}[{j}]"),
                    schema.clone(),
                    None,
                    Some(y.clone()),
                ));
            }
        }
        schema.pop();
        return;
    }
    out.push((path.to_owned(), schema.clone(), old.cloned(), new.cloned()));
}

/// A `Ref` / `Fn::GetAtt` / `Fn::Sub` placeholder inside a resource's properties.
struct RefSite {
    /// Display path, e.g. `Properties.VpcConfig.SubnetIds[0]`.
    path: String,
    /// Schema path (property names, `*` for list items).
    schema: Vec<String>,
    target: String,
    attribute: Option<String>,
}

/// Every reference in a value.
fn references(path: &str, schema: &mut Vec<String>, v: &Json, out: &mut Vec<RefSite>) {
    if let Some((id, attr)) = ref_target(v) {
        out.push(RefSite {
            path: path.to_owned(),
            schema: schema.clone(),
            target: id.to_owned(),
            attribute: attr.map(str::to_owned),
        });
        return;
    }
    if let Some(("Fn::Sub", arg)) = intrinsic(v) {
        let (template, vars) = match arg {
            Json::Array(a) => (a.first().and_then(Json::as_str), a.get(1)),
            other => (other.as_str(), None),
        };
        for name in template.map(sub_placeholders).into_iter().flatten() {
            if name.starts_with("AWS::") || vars.is_some_and(|m| m.get(name).is_some()) {
                continue;
            }
            let (id, attr) = match name.split_once('.') {
                Some((id, attr)) => (id, Some(attr.to_owned())),
                None => (name, None),
            };
            out.push(RefSite {
                path: path.to_owned(),
                schema: schema.clone(),
                target: id.to_owned(),
                attribute: attr,
            });
        }
        if let Some(vars) = vars {
            references(path, schema, vars, out);
        }
        return;
    }
    match v {
        Json::Object(o) if intrinsic(v).is_none() => {
            for (k, child) in o {
                schema.push(k.clone());
                references(&format!("{path}.{k}"), schema, child, out);
                schema.pop();
            }
        }
        Json::Object(o) => {
            for child in o.values() {
                references(path, schema, child, out);
            }
        }
        Json::Array(a) => {
            schema.push("*".into());
            for (i, child) in a.iter().enumerate() {
                references(&format!("{path}[{i}]"), schema, child, out);
            }
            schema.pop();
        }
        _ => {}
    }
}

/// A replaced resource gets a new physical id, so whatever refers to it changes too: replaced
/// when the reference sits in a create-only property, updated in place otherwise. Repeats until
/// nothing new is replaced (a subnet replaced -> its subnet group's ids change -> ...).
fn propagate(
    new: &serde_json::Map<String, Json>,
    changes: &mut BTreeMap<String, ResourceChange>,
    _cx: &Context,
) {
    let mut refs: BTreeMap<&str, Vec<RefSite>> = BTreeMap::new();
    for (id, body) in new {
        let mut found = Vec::new();
        if let Some(p) = body.get("Properties") {
            references("Properties", &mut Vec::new(), p, &mut found);
        }
        refs.insert(id.as_str(), found);
    }
    let mut noted: BTreeSet<(String, String, String)> = BTreeSet::new();
    loop {
        let replaced: BTreeMap<String, Replacement> = changes
            .values()
            .filter(|c| {
                c.kind == ChangeKind::Modified
                    && matches!(
                        c.replacement,
                        Replacement::Always | Replacement::Conditional
                    )
            })
            .map(|c| (c.logical_id.clone(), c.replacement))
            .collect();
        let mut grew = false;
        for (id, found) in &refs {
            if changes
                .get(*id)
                .is_some_and(|c| c.kind == ChangeKind::Added)
            {
                continue;
            }
            for RefSite {
                path,
                schema,
                target,
                attribute: attr,
            } in found
            {
                let Some(level) = replaced.get(target) else {
                    continue;
                };
                if !noted.insert(((*id).to_owned(), path.clone(), target.clone())) {
                    continue;
                }
                let body = &new[*id];
                let type_name = type_of(body);
                let spec = snowcdk_constructs::l1::spec(&type_name);
                let impact = reference_level(*level, attr.as_deref(), predict(spec, schema));
                let entry = changes
                    .entry((*id).to_owned())
                    .or_insert_with(|| ResourceChange {
                        logical_id: (*id).to_owned(),
                        type_name: type_name.clone(),
                        path: _cx.paths.and_then(|p| p.get(*id)).cloned(),
                        kind: ChangeKind::Modified,
                        replacement: Replacement::Never,
                        changes: Vec::new(),
                        destructive: None,
                        notes: Vec::new(),
                    });
                let verb = if *level == Replacement::Always {
                    "is replaced"
                } else {
                    "may be replaced"
                };
                let note = format!("refers to {target}, which {verb}");
                match entry.changes.iter_mut().find(|c| &c.path == path) {
                    Some(c) => {
                        c.replacement = c.replacement.max(impact);
                        c.note = Some(note);
                    }
                    None => {
                        let value = value_at(body, path);
                        entry.changes.push(PropertyChange {
                            path: path.clone(),
                            old: value.clone(),
                            new: value,
                            replacement: impact,
                            note: Some(note),
                        });
                    }
                }
                let before = entry.replacement;
                entry.replacement = entry.replacement.max(impact);
                if entry.replacement != before
                    && matches!(
                        entry.replacement,
                        Replacement::Always | Replacement::Conditional
                    )
                {
                    grew = true;
                }
            }
        }
        if !grew {
            break;
        }
    }
}

/// The value at a display path like `Properties.VpcConfig.SubnetIds[0]`.
fn value_at(body: &Json, path: &str) -> Option<Json> {
    let mut cur = body;
    for seg in path.split('.') {
        let (key, indexes) = match seg.find('[') {
            Some(i) => (&seg[..i], &seg[i..]),
            None => (seg, ""),
        };
        if !key.is_empty() {
            cur = cur.get(key)?;
        }
        for idx in indexes
            .split(['[', ']'])
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<usize>().ok())
        {
            cur = cur.get(idx?)?;
        }
    }
    Some(cur.clone())
}

/// A literal create-only name property (`DBInstanceIdentifier`, `BucketName`, ...) that this
/// change does not touch.
fn custom_name(type_name: &str, body: &Json, changes: &[PropertyChange]) -> Option<String> {
    let spec = snowcdk_constructs::l1::spec(type_name)?;
    spec.create_only
        .iter()
        .filter(|p| !p.contains('/') && (p.ends_with("Name") || p.ends_with("Identifier")))
        .find(|p| {
            body.get("Properties")
                .and_then(|props| props.get(**p))
                .is_some_and(Json::is_string)
                && !changes.iter().any(|c| c.path == format!("Properties.{p}"))
        })
        .map(|p| (*p).to_owned())
}

fn policy(body: Option<&Json>, key: &str) -> Option<String> {
    body?.get(key)?.as_str().map(str::to_owned)
}

/// Why a change destroys data, if it does.
///
/// A removed resource meets the `DeletionPolicy` it was deployed with; a replaced one the
/// `UpdateReplacePolicy` of the template being deployed. A resource counts as holding data when
/// its type does, or when either template gives it a Retain/Snapshot policy.
fn destruction(
    c: &ResourceChange,
    old_body: Option<&Json>,
    new_body: Option<&Json>,
) -> Option<String> {
    let deletion = policy(old_body, "DeletionPolicy");
    let replace_policy = policy(new_body.or(old_body), "UpdateReplacePolicy");
    let keeps = |p: &Option<String>| {
        matches!(
            p.as_deref(),
            Some("Retain" | "Snapshot" | "RetainExceptOnCreate")
        )
    };
    let stateful = STATEFUL_TYPES.contains(&c.type_name.as_str())
        || [old_body, new_body].into_iter().any(|b| {
            keeps(&policy(b, "DeletionPolicy")) || keeps(&policy(b, "UpdateReplacePolicy"))
        });
    if !stateful {
        return None;
    }
    let fate = |p: &Option<String>| match p.as_deref() {
        Some("Snapshot") => "deleted after a final snapshot",
        Some("Retain") | Some("RetainExceptOnCreate") => {
            "kept in AWS but no longer managed by the stack"
        }
        _ => "deleted with its data",
    };
    let causes = || {
        let names: Vec<String> = c
            .replacement_causes()
            .iter()
            .map(|p| p.path.trim_start_matches("Properties.").to_owned())
            .collect();
        if names.is_empty() {
            String::new()
        } else {
            format!(" by {}", names.join(", "))
        }
    };
    let old_fate = |p: &Option<String>| match p.as_deref() {
        Some("Snapshot") => "deletes the old one after a final snapshot",
        Some("Retain") | Some("RetainExceptOnCreate") => "keeps the old one outside the stack",
        _ => "deletes the old one with its data",
    };
    match (c.kind, c.replacement) {
        (ChangeKind::Removed, _) => Some(format!("removed: {}", fate(&deletion))),
        (ChangeKind::Modified, Replacement::Always) => Some(format!(
            "replaced{}: CloudFormation creates a new, empty one and {}",
            causes(),
            old_fate(&replace_policy)
        )),
        (ChangeKind::Modified, Replacement::Conditional) => Some(format!(
            "may be replaced{}: if so, CloudFormation creates a new, empty one and {}",
            causes(),
            old_fate(&replace_policy)
        )),
        (ChangeKind::Modified, Replacement::Unknown) => Some(format!(
            "may be replaced: snowcdk has no schema for {} to tell",
            c.type_name
        )),
        _ => None,
    }
}

fn security(old: Option<&Json>, new: Option<&Json>) -> SecurityChanges {
    fn lines<T>(
        t: Option<&Json>,
        f: impl Fn(&Json) -> Vec<T>,
        s: impl Fn(&T) -> String,
    ) -> BTreeSet<String> {
        t.map(|t| f(t).iter().map(&s).collect()).unwrap_or_default()
    }
    let (so, sn) = (
        lines(old, network::sg_rules, network::SgRule::summary),
        lines(new, network::sg_rules, network::SgRule::summary),
    );
    let (io, inew) = (
        lines(old, iam::statements, iam::Statement::summary),
        lines(new, iam::statements, iam::Statement::summary),
    );
    SecurityChanges {
        sg_added: sn.difference(&so).cloned().collect(),
        sg_removed: so.difference(&sn).cloned().collect(),
        iam_added: inew.difference(&io).cloned().collect(),
        iam_removed: io.difference(&inew).cloned().collect(),
    }
}
