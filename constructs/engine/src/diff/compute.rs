//! Computes a stack's diff from two template documents: resources (with replacement predicted
//! from the schema's create-only properties and propagated through references), template
//! sections, and the security view.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;
use snowcdk_constructs::rules::json::{glob_match, intrinsic, ref_target};
use snowcdk_constructs::rules::{iam, network};
use snowcdk_constructs::template::value::sub_placeholders;

use super::equivalence::{contains_if, depends_on, equivalent, equivalent_opt, may_be_unchanged};
use super::foreach;
use super::model::{
    ChangeKind, Destruction, PropertyChange, Replacement, ResourceChange, SectionChange,
    SecurityChanges, StackDiff, StackStatus,
};
use super::replacement::{predict, reference_level};
use crate::assembly::ResourceFacts;
use crate::risk::{self, Policy};

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

/// A map with no entries, for a template or section that is absent.
static NO_ENTRIES: std::sync::LazyLock<serde_json::Map<String, Json>> =
    std::sync::LazyLock::new(serde_json::Map::new);

/// The template's `key` section (`Resources`, `Outputs` ...), borrowed; empty when absent.
fn object<'a>(t: Option<&'a Json>, key: &str) -> &'a serde_json::Map<String, Json> {
    t.and_then(|t| t.get(key))
        .and_then(Json::as_object)
        .unwrap_or(&NO_ENTRIES)
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
///
/// `Fn::ForEach` loops over literal lists are expanded first, and values are compared as
/// CloudFormation reads them (`true` and `"true"` are the same, as are the two `Fn::GetAtt`
/// forms).
pub fn diff_stack(stack: &str, old: Option<&Json>, new: Option<&Json>, cx: &Context) -> StackDiff {
    let old = old.map(foreach::expand_template);
    let new = new.map(foreach::expand_template);
    let (old, new) = (old.as_ref(), new.as_ref());
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
    entry_changes(object(old, key), object(new, key), &[])
}

/// Top-level keys other than the sections (`Description`, `Transform` ...); only when both
/// templates exist.
fn diff_top_level(old: Option<&Json>, new: Option<&Json>) -> Vec<SectionChange> {
    let (Some(old), Some(new)) = (old, new) else {
        return Vec::new();
    };
    let (o, n) = (old.as_object(), new.as_object());
    entry_changes(o.unwrap_or(&NO_ENTRIES), n.unwrap_or(&NO_ENTRIES), SECTIONS)
}

/// What was added, removed or changed (as CloudFormation compares values) between two maps,
/// in `union_keys` order, leaving out the keys in `skip`.
fn entry_changes(
    o: &serde_json::Map<String, Json>,
    n: &serde_json::Map<String, Json>,
    skip: &[&str],
) -> Vec<SectionChange> {
    let mut out = Vec::new();
    for name in union_keys(o, n) {
        if skip.contains(&name.as_str()) {
            continue;
        }
        let (ov, nv) = (o.get(name), n.get(name));
        let kind = match (ov, nv) {
            (None, Some(_)) => ChangeKind::Added,
            (Some(_), None) => ChangeKind::Removed,
            (Some(a), Some(b)) if !equivalent(a, b) => ChangeKind::Modified,
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

fn type_of(r: &Json) -> String {
    r.get("Type")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// A resource change with nothing decided yet.
fn change(id: &str, type_name: String, path: Option<String>, kind: ChangeKind) -> ResourceChange {
    ResourceChange {
        logical_id: id.to_owned(),
        type_name,
        path,
        kind,
        replacement: Replacement::Never,
        changes: Vec::new(),
        destructive: None,
        kept: false,
        notes: Vec::new(),
    }
}

/// Whether two resource bodies are the same to CloudFormation: values by [`equivalent`],
/// `DependsOn` as a set.
fn same_resource(a: &Json, b: &Json) -> bool {
    let (Some(x), Some(y)) = (a.as_object(), b.as_object()) else {
        return equivalent(a, b);
    };
    union_keys(x, y).into_iter().all(|k| {
        if k == "DependsOn"
            && let (Some(p), Some(q)) = (depends_on(x.get(k)), depends_on(y.get(k)))
        {
            return p == q;
        }
        equivalent_opt(x.get(k), y.get(k))
    })
}

/// The type shown for a loop that could not be expanded.
const FOREACH_TYPE: &str = "Fn::ForEach";

/// A `Fn::ForEach` loop that stayed in `Resources` (its collection is not a literal list):
/// reported as one entry, not analysable.
fn loop_change(
    id: &str,
    old: Option<&Json>,
    new: Option<&Json>,
    cx: &Context,
) -> Option<ResourceChange> {
    let kind = match (old, new) {
        (None, Some(_)) => ChangeKind::Added,
        (Some(_), None) => ChangeKind::Removed,
        (Some(a), Some(b)) if !equivalent(a, b) => ChangeKind::Modified,
        _ => return None,
    };
    let body = new.or(old)?;
    let types = foreach::types_inside(body);
    let mut c = change(id, FOREACH_TYPE.to_owned(), None, kind);
    let what = if types.is_empty() {
        "resources of unknown types".to_owned()
    } else {
        types.join(", ")
    };
    c.notes.push(format!(
        "not analysable: snowcdk cannot expand this loop because {}; it makes {what}",
        foreach::why_unexpanded(body)
    ));
    let allowed = !types.is_empty()
        && types
            .iter()
            .all(|t| cx.allow_destroy.iter().any(|p| glob_match(p.trim(), t)));
    let reason = match kind {
        ChangeKind::Removed => Some(format!(
            "removed: every resource this loop made ({what}) is deleted, and snowcdk cannot tell which or what they held"
        )),
        ChangeKind::Modified => {
            c.replacement = Replacement::Unknown;
            (types.is_empty() || types.iter().any(|t| risk::is_stateful(t))).then(|| {
                format!("changed: snowcdk cannot tell which of the resources this loop makes ({what}) are replaced or removed")
            })
        }
        ChangeKind::Added => None,
    };
    c.destructive = reason.map(|reason| Destruction { reason, allowed });
    Some(c)
}

fn diff_resources(old: Option<&Json>, new: Option<&Json>, cx: &Context) -> Vec<ResourceChange> {
    let (o, n) = (object(old, "Resources"), object(new, "Resources"));
    let mut changes: BTreeMap<String, ResourceChange> = BTreeMap::new();
    let mut loops: Vec<ResourceChange> = Vec::new();
    let path_of = |id: &str| cx.paths.and_then(|p| p.get(id)).cloned();
    for id in union_keys(o, n) {
        if id.starts_with(foreach::PREFIX) {
            loops.extend(loop_change(id, o.get(id), n.get(id), cx));
            continue;
        }
        let c = match (o.get(id), n.get(id)) {
            (None, Some(r)) => change(id, type_of(r), path_of(id), ChangeKind::Added),
            (Some(r), None) => change(id, type_of(r), None, ChangeKind::Removed),
            (Some(a), Some(b)) if !same_resource(a, b) => modified(id, a, b, path_of(id)),
            _ => continue,
        };
        changes.insert(id.clone(), c);
    }
    propagate(n, &mut changes, cx);
    for c in changes.values_mut() {
        let (old_body, new_body) = (o.get(&c.logical_id), n.get(&c.logical_id));
        let (old_facts, new_facts) = (
            old_body.map(ResourceFacts::from_body),
            new_body.map(ResourceFacts::from_body),
        );
        if c.kind == ChangeKind::Removed
            && let Some(facts) = &old_facts
        {
            let removal = risk::removal(&c.type_name, facts.deletion_policy);
            if removal.kept() {
                c.kept = true;
                c.notes.push(removal.description);
            }
        }
        let restore = (c.kind == ChangeKind::Modified)
            .then(|| {
                risk::restore_change(
                    &c.type_name,
                    old_facts.as_ref().and_then(|f| f.restored_from.as_deref()),
                    new_facts.as_ref().and_then(|f| f.restored_from.as_deref()),
                )
            })
            .flatten();
        let restore_reason = restore.map(|r| {
            // Replaced for certain (the schema says only "conditionally").
            let effect = r.effect(
                new_facts
                    .as_ref()
                    .or(old_facts.as_ref())
                    .map(|f| f.update_replace_policy)
                    .unwrap_or(Policy::Delete),
            );
            c.replacement = Replacement::Always;
            let path = format!("Properties.{}", risk::restore::SNAPSHOT_PROPERTY);
            for p in c.changes.iter_mut().filter(|p| p.path == path) {
                p.replacement = Replacement::Always;
                p.note = Some(effect.clone());
            }
            format!("replaced: {effect}")
        });
        c.destructive = restore_reason
            .or_else(|| destruction(c, old_facts.as_ref(), new_facts.as_ref()))
            .map(|reason| Destruction {
                allowed: cx
                    .allow_destroy
                    .iter()
                    .any(|p| glob_match(p.trim(), &c.type_name)),
                reason,
            });
        if matches!(
            c.replacement,
            Replacement::Always | Replacement::Conditional
        ) && let Some(new_body) = new_body
            && let Some(note) = fixed_name_note(c, new_body)
        {
            c.notes.push(note);
        }
    }
    let mut out: Vec<ResourceChange> = changes.into_values().chain(loops).collect();
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
        if *attr == "DependsOn"
            && let (Some(p), Some(q)) = (depends_on(old.get(*attr)), depends_on(new.get(*attr)))
            && p == q
        {
            // `"X"` and `["X"]`, or the same ids in another order: no change.
            continue;
        }
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
        let mut note = reorder_note(&a, &b);
        let r = if ot != nt {
            Replacement::Always
        } else {
            let r = predict(spec, &schema);
            let conditional = [&a, &b].iter().any(|v| v.as_ref().is_some_and(contains_if));
            if r == Replacement::Always && conditional && may_be_unchanged(a.as_ref(), b.as_ref()) {
                // A create-only property whose value depends on a condition: replaced only
                // where the condition picks a different value.
                note = Some("depends on a condition (Fn::If): replaced only if the value it resolves to changes".into());
                Replacement::Conditional
            } else {
                r
            }
        };
        replacement = replacement.max(r);
        changes.push(PropertyChange {
            path,
            note,
            old: a,
            new: b,
            replacement: r,
        });
    }
    ResourceChange {
        replacement,
        changes,
        ..change(id, nt, path, ChangeKind::Modified)
    }
}

type Leaf = (String, Vec<String>, Option<Json>, Option<Json>);

/// Whether two lists hold the same items in a different order.
fn same_items(a: &[Json], b: &[Json]) -> bool {
    if a.len() != b.len() || equivalent(&Json::Array(a.to_vec()), &Json::Array(b.to_vec())) {
        return false;
    }
    let mut used = vec![false; b.len()];
    a.iter().all(
        |x| match (0..b.len()).find(|&j| !used[j] && equivalent(&b[j], x)) {
            Some(j) => {
                used[j] = true;
                true
            }
            None => false,
        },
    )
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
    if equivalent_opt(old, new) {
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
                    _ if !equivalent_opt(x, y) => {
                        out.push((p, schema.clone(), x.cloned(), y.cloned()))
                    }
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
                match (0..b.len()).find(|&j| !used[j] && equivalent(&b[j], x)) {
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
                let entry = changes.entry((*id).to_owned()).or_insert_with(|| {
                    change(
                        id,
                        type_name.clone(),
                        _cx.paths.and_then(|p| p.get(*id)).cloned(),
                        ChangeKind::Modified,
                    )
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

/// The note for a replaced resource whose physical name is fixed by its template: the property
/// that names it ([`risk::name_property`], never e.g. `DBName`) is set, and this change leaves
/// it as it is, so the replacement would need the name the old resource still holds.
fn fixed_name_note(c: &ResourceChange, body: &Json) -> Option<String> {
    let prop = risk::name_property(&c.type_name)?;
    let value = body.get("Properties")?.get(prop)?;
    if matches!(intrinsic(value), Some(("Ref", Json::String(s))) if s == "AWS::NoValue") {
        return None;
    }
    let path = format!("Properties.{prop}");
    if c.changes.iter().any(|p| p.path == path) {
        return None;
    }
    let shown = match value {
        Json::String(s) => format!("\"{s}\""),
        other => serde_json::to_string(other).unwrap_or_default(),
    };
    let when = if c.replacement == Replacement::Always {
        "so this update fails"
    } else {
        "so if CloudFormation does need to replace it, the update fails"
    };
    Some(format!(
        "{prop} is a custom name ({shown}): CloudFormation cannot replace a custom-named resource, {when} (and rolls back) unless {prop} changes too"
    ))
}

/// Why a change destroys data, if it does.
///
/// A removed resource meets the `DeletionPolicy` it was deployed with ([`risk::removal`]: a
/// retained one is kept, not destroyed); a replaced one the `UpdateReplacePolicy` of the
/// template being deployed. A resource counts as holding data when its type does, or when either
/// template gives it a Retain/Snapshot policy ([`risk::holds_data`]).
fn destruction(
    c: &ResourceChange,
    old: Option<&ResourceFacts>,
    new: Option<&ResourceFacts>,
) -> Option<String> {
    if c.kind == ChangeKind::Removed {
        let policy = old.map(|f| f.deletion_policy).unwrap_or(Policy::Delete);
        let removal = risk::removal(&c.type_name, policy);
        return removal
            .destructive
            .then(|| format!("removed: {}", removal.description));
    }
    let policies: Vec<Policy> = [old, new]
        .into_iter()
        .flatten()
        .flat_map(ResourceFacts::policies)
        .collect();
    if !risk::holds_data(&c.type_name, &policies) {
        return None;
    }
    let replace_policy = new
        .or(old)
        .map(|f| f.update_replace_policy)
        .unwrap_or(Policy::Delete);
    let effect = risk::policy::replacement_effect(&c.type_name, replace_policy);
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
    match (c.kind, c.replacement) {
        (ChangeKind::Modified, Replacement::Always) => {
            Some(format!("replaced{}: {effect}", causes(),))
        }
        (ChangeKind::Modified, Replacement::Conditional) => {
            Some(format!("may be replaced{}: if so, {effect}", causes(),))
        }
        (ChangeKind::Modified, Replacement::Unknown) => Some(format!(
            "may be replaced: snowcdk has no schema for {} to tell",
            c.type_name
        )),
        (ChangeKind::Modified, Replacement::Never) => {
            risk::data_losing_update(&c.type_name, c.changes.iter().map(|p| p.path.as_str()))
                .map(|d| format!("updated ({}): {}", d.property, d.effect))
        }
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
