//! Tag propagation: tags set on a stack or a construct reach every taggable resource below it.
//!
//! Deeper scopes win over shallower ones, later tags over earlier ones on the same scope, and tags
//! a resource sets itself win over inherited ones. Tags are written sorted by key so that adding
//! one shows as a one-line diff.

use std::collections::BTreeMap;

use crate::template::{Tagging, Value};

/// The inherited tags for a resource at `path`.
pub fn inherited<'a>(
    tags: &'a [(String, String, String)],
    path: &str,
) -> BTreeMap<&'a str, &'a str> {
    let mut applicable: Vec<(usize, usize, &str, &str)> = tags
        .iter()
        .enumerate()
        .filter(|(_, (prefix, _, _))| {
            prefix.is_empty() || path == prefix || path.starts_with(&format!("{prefix}/"))
        })
        .map(|(i, (prefix, k, v))| (prefix.len(), i, k.as_str(), v.as_str()))
        .collect();
    applicable.sort();
    applicable.into_iter().map(|(_, _, k, v)| (k, v)).collect()
}

/// Merges inherited tags into a resource's properties according to its type's tag format.
pub fn apply(properties: &mut Value, tagging: Tagging, inherited: &BTreeMap<&str, &str>) {
    let (prop, as_list) = match tagging {
        Tagging::None => return,
        Tagging::List(p) => (p, true),
        Tagging::Map(p) => (p, false),
    };
    if inherited.is_empty() {
        return;
    }
    let Value::Map(pairs) = properties else {
        return;
    };
    let mut merged: BTreeMap<String, Value> = inherited
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::str(*v)))
        .collect();
    let mut opaque = Vec::new();
    let existing = pairs.iter().position(|(k, _)| k == prop);
    if let Some(i) = existing {
        match &pairs[i].1 {
            Value::List(items) if as_list => {
                for item in items {
                    match tag_pair(item) {
                        Some((k, v)) => {
                            merged.insert(k, v);
                        }
                        None => opaque.push(item.clone()),
                    }
                }
            }
            Value::Map(kv) if !as_list => {
                for (k, v) in kv {
                    merged.insert(k.clone(), v.clone());
                }
            }
            // An expression for the whole tag property: leave it as the construct wrote it.
            _ => return,
        }
    }
    let rendered = if as_list {
        let mut items: Vec<Value> = merged
            .into_iter()
            .map(|(k, v)| Value::map([("Key", Value::String(k)), ("Value", v)]))
            .collect();
        items.extend(opaque);
        Value::List(items)
    } else {
        Value::Map(merged.into_iter().collect())
    };
    match existing {
        Some(i) => pairs[i].1 = rendered,
        None => pairs.push((prop.to_owned(), rendered)),
    }
}

fn tag_pair(item: &Value) -> Option<(String, Value)> {
    let Value::Map(kv) = item else { return None };
    let key = kv.iter().find(|(k, _)| k == "Key")?.1.as_str()?.to_owned();
    let value = kv.iter().find(|(k, _)| k == "Value")?.1.clone();
    Some((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deeper_scopes_win_and_explicit_tags_win() {
        let tags = vec![
            (String::new(), "Project".into(), "snowex".into()),
            ("S/Net".into(), "Tier".into(), "network".into()),
            ("S/Netx".into(), "Tier".into(), "wrong".into()),
            ("S".into(), "Tier".into(), "base".into()),
        ];
        let inh = inherited(&tags, "S/Net/Subnet");
        assert_eq!(inh.get("Tier"), Some(&"network"));
        assert_eq!(inh.get("Project"), Some(&"snowex"));
        let mut props = Value::map([(
            "Tags",
            Value::list([Value::map([
                ("Key", Value::str("Project")),
                ("Value", Value::str("mine")),
            ])]),
        )]);
        apply(&mut props, Tagging::List("Tags"), &inh);
        assert_eq!(
            props.to_json(),
            serde_json::json!({"Tags": [{"Key": "Project", "Value": "mine"}, {"Key": "Tier", "Value": "network"}]})
        );
        let mut m = Value::Map(vec![]);
        apply(&mut m, Tagging::Map("Tags"), &inh);
        assert_eq!(
            m.to_json(),
            serde_json::json!({"Tags": {"Project": "snowex", "Tier": "network"}})
        );
    }
}
