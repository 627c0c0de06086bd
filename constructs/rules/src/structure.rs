//! Structural checks run by every synth: references resolve, attributes exist, no dependency
//! cycles, CloudFormation's quotas hold. CloudFormation would reject such a template at deploy
//! time; synth rejects it first, naming the construct path.

use std::collections::{BTreeMap, BTreeSet};

use snowcdk_constructs_core::error::SynthError;
use snowcdk_constructs_core::template::{Reference, Template, Value};
use snowcdk_constructs_core::tree::Stack;

/// Inline template body limit (`TemplateBody`).
pub const MAX_BODY_BYTES: usize = 51_200;
/// Template size limit through S3 (`TemplateURL`).
pub const MAX_S3_BYTES: usize = 1_000_000;
/// Resources per stack.
pub const MAX_RESOURCES: usize = 500;
/// Parameters per stack.
pub const MAX_PARAMETERS: usize = 200;
/// Outputs per stack.
pub const MAX_OUTPUTS: usize = 200;
/// Mappings per stack.
pub const MAX_MAPPINGS: usize = 200;

/// Checks references, attributes, cycles and counts of a stack's template.
pub fn check(stack: &Stack, t: &Template) -> Vec<SynthError> {
    let mut errors = Vec::new();
    let specs: BTreeMap<&str, _> = stack
        .resources()
        .map(|r| (r.entry.logical_id.as_str(), r.spec))
        .collect();
    let params: BTreeSet<&str> = t.parameters.iter().map(|(n, _)| n.as_str()).collect();
    let conditions: BTreeSet<&str> = t.conditions.iter().map(|(n, _)| n.as_str()).collect();
    let mappings: BTreeSet<&str> = t.mappings.iter().map(|(n, _)| n.as_str()).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();

    let mut visit = |path: &str, owner: Option<&str>, v: &Value, errors: &mut Vec<SynthError>| {
        let mut deps = Vec::new();
        v.visit_refs(&mut |r| match r {
            Reference::Resource {
                logical_id,
                attribute,
            } => match (specs.get(logical_id), attribute) {
                (Some(spec), Some(attr)) if !spec.has_attribute(attr) => {
                    errors.push(SynthError::UnknownAttribute {
                        path: path.to_owned(),
                        logical_id: logical_id.to_owned(),
                        type_name: spec.type_name.to_owned(),
                        attribute: attr.to_owned(),
                    })
                }
                (Some(_), _) => deps.push(logical_id.to_owned()),
                (None, None) if params.contains(logical_id) => {}
                (None, _) => errors.push(SynthError::MissingReference {
                    path: path.to_owned(),
                    target: logical_id.to_owned(),
                    stack: stack.name().to_owned(),
                }),
            },
            Reference::Parameter(p) if !params.contains(p) => {
                errors.push(SynthError::MissingReference {
                    path: path.to_owned(),
                    target: format!("parameter {p}"),
                    stack: stack.name().to_owned(),
                })
            }
            Reference::Condition(c) if !conditions.contains(c) => {
                errors.push(SynthError::MissingDefinition {
                    path: path.to_owned(),
                    kind: "condition",
                    name: c.to_owned(),
                    stack: stack.name().to_owned(),
                })
            }
            Reference::Mapping(m) if !mappings.contains(m) => {
                errors.push(SynthError::MissingDefinition {
                    path: path.to_owned(),
                    kind: "mapping",
                    name: m.to_owned(),
                    stack: stack.name().to_owned(),
                })
            }
            _ => {}
        });
        if let Some(owner) = owner {
            edges.entry(owner.to_owned()).or_default().extend(deps);
        }
    };

    let mut depends = Vec::new();
    for r in &t.resources {
        visit(&r.path, Some(&r.logical_id), &r.properties, &mut errors);
        for d in &r.depends_on {
            if specs.contains_key(d.as_str()) {
                depends.push((r.logical_id.clone(), d.clone()));
            } else {
                errors.push(SynthError::MissingReference {
                    path: r.path.clone(),
                    target: format!("{d} (DependsOn)"),
                    stack: stack.name().to_owned(),
                });
            }
        }
        if let Some(c) = &r.condition
            && !conditions.contains(c.as_str())
        {
            errors.push(SynthError::MissingDefinition {
                path: r.path.clone(),
                kind: "condition",
                name: c.clone(),
                stack: stack.name().to_owned(),
            });
        }
    }
    for (name, o) in &t.outputs {
        let path = format!("{}/Output:{name}", stack.name());
        visit(&path, None, &o.value, &mut errors);
        if let Some(e) = &o.export_name {
            visit(&path, None, e, &mut errors);
        }
    }
    for (name, c) in &t.conditions {
        visit(
            &format!("{}/Condition:{name}", stack.name()),
            None,
            c,
            &mut errors,
        );
    }

    for (from, to) in depends {
        edges.entry(from).or_default().insert(to);
    }
    if let Some(cycle) = find_cycle(&edges) {
        let paths: Vec<String> = cycle
            .iter()
            .map(|id| {
                let path = t
                    .resources
                    .iter()
                    .find(|r| r.logical_id == *id)
                    .map_or("?", |r| r.path.as_str());
                format!("{id} ({path})")
            })
            .collect();
        errors.push(SynthError::Cycle {
            stack: stack.name().to_owned(),
            cycle: paths.join(" -> "),
        });
    }

    for (what, count, limit) in [
        ("resources", t.resources.len(), MAX_RESOURCES),
        ("parameters", t.parameters.len(), MAX_PARAMETERS),
        ("outputs", t.outputs.len(), MAX_OUTPUTS),
        ("mappings", t.mappings.len(), MAX_MAPPINGS),
    ] {
        if count > limit {
            errors.push(SynthError::Limit {
                stack: stack.name().to_owned(),
                what,
                count,
                limit,
            });
        }
    }
    errors
}

/// The body must fit CloudFormation's S3 limit.
pub fn check_size(stack: &str, size: usize) -> Result<(), SynthError> {
    if size > MAX_S3_BYTES {
        Err(SynthError::TooLarge {
            stack: stack.to_owned(),
            size,
            limit: MAX_S3_BYTES,
        })
    } else {
        Ok(())
    }
}

/// A cycle in the dependency graph, as the list of ids that form it (first repeated at the end).
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<&str>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Active,
        Done,
    }
    let mut marks: BTreeMap<&str, Mark> = BTreeMap::new();
    for start in edges.keys().map(String::as_str) {
        if marks.contains_key(start) {
            continue;
        }
        // Iterative DFS: (node, its successors not yet visited).
        let mut stack: Vec<(&str, Vec<&str>)> = vec![(start, successors(edges, start))];
        marks.insert(start, Mark::Active);
        while let Some((node, rest)) = stack.last_mut() {
            let node = *node;
            match rest.pop() {
                Some(next) => match marks.get(next) {
                    Some(Mark::Active) => {
                        let mut cycle: Vec<&str> = stack.iter().map(|(n, _)| *n).collect();
                        let from = cycle.iter().position(|n| *n == next).unwrap_or(0);
                        cycle.drain(..from);
                        cycle.push(next);
                        return Some(cycle);
                    }
                    Some(Mark::Done) => {}
                    None => {
                        marks.insert(next, Mark::Active);
                        stack.push((next, successors(edges, next)));
                    }
                },
                None => {
                    marks.insert(node, Mark::Done);
                    stack.pop();
                }
            }
        }
    }
    None
}

fn successors<'a>(edges: &'a BTreeMap<String, BTreeSet<String>>, n: &str) -> Vec<&'a str> {
    edges
        .get(n)
        .map(|s| s.iter().rev().map(String::as_str).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_cycle_and_none_in_a_dag() {
        let mut e: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        e.entry("A".into()).or_default().insert("B".into());
        e.entry("B".into()).or_default().insert("C".into());
        assert_eq!(find_cycle(&e), None);
        e.entry("C".into()).or_default().insert("A".into());
        assert_eq!(find_cycle(&e), Some(vec!["A", "B", "C", "A"]));
    }
}
