//! Tag propagation: tags set on a stack or a construct reach every taggable resource below it.
//!
//! Deeper scopes win over shallower ones, later tags over earlier ones on the same scope, and tags
//! a resource sets itself win over inherited ones. Tags are written sorted by key so that adding
//! one shows as a one-line diff.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::template::{Tagging, Value};

/// The `Name` tag the L2 constructs give the VPC, subnets, security groups, NAT gateway and
/// bastion: the name the EC2 console shows.
pub const NAME: &str = "Name";

/// Tags one resource may carry (user tags, counting the ones snowcdk adds itself; tags with the
/// `aws:` prefix that AWS adds do not count). Source: "Tag restrictions",
/// <https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions>.
pub const MAX_TAGS_PER_RESOURCE: usize = 50;
/// Longest tag key, in Unicode characters (not bytes).
pub const MAX_KEY_CHARS: usize = 128;
/// Longest tag value, in Unicode characters (not bytes).
pub const MAX_VALUE_CHARS: usize = 256;
/// The characters AWS accepts in tag keys and values (same source): letters, separators
/// (spaces), numbers and `_ . : / = + - @`. Not NUL, newlines, emoji or directional marks.
pub const CHARACTERS: &str = r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$";
/// The prefix AWS reserves for its own tag keys, in any case.
pub const RESERVED_PREFIX: &str = "aws:";

fn has_allowed_characters(s: &str) -> bool {
    static RE: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(CHARACTERS).expect("the tag character class compiles"));
    RE.is_match(s)
}

/// The first character AWS refuses in a tag, shown escaped (`'\u{200f}'`).
fn bad_character(s: &str) -> Option<String> {
    s.chars()
        .find(|c| !has_allowed_characters(c.encode_utf8(&mut [0; 4])))
        .map(|c| format!("{}", c.escape_debug()))
}

/// Checks a tag key as AWS will: 1 to 128 characters, the allowed characters, no `aws:` prefix.
pub fn check_key(key: &str) -> Result<(), String> {
    let n = key.chars().count();
    if !(1..=MAX_KEY_CHARS).contains(&n) {
        return Err(format!(
            "tag key {key:?} has {n} characters; AWS allows 1 to {MAX_KEY_CHARS}"
        ));
    }
    if key
        .get(..RESERVED_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(RESERVED_PREFIX))
    {
        return Err(format!(
            "tag key {key:?} starts with {RESERVED_PREFIX:?} (in any case), which AWS reserves for its own tags"
        ));
    }
    if let Some(c) = bad_character(key) {
        return Err(format!(
            "tag key {key:?} contains '{c}'; AWS allows only letters, numbers, spaces and _ . : / = + - @"
        ));
    }
    Ok(())
}

/// Checks a tag value as AWS will: at most 256 characters, the allowed characters.
pub fn check_value(value: &str) -> Result<(), String> {
    let n = value.chars().count();
    if n > MAX_VALUE_CHARS {
        return Err(format!(
            "tag value of {n} characters; AWS allows at most {MAX_VALUE_CHARS}"
        ));
    }
    if let Some(c) = bad_character(value) {
        return Err(format!(
            "tag value {value:?} contains '{c}'; AWS allows only letters, numbers, spaces and _ . : / = + - @"
        ));
    }
    Ok(())
}

/// Checks the tags a resource ends up with (after [`apply`]): how many, and each key and literal
/// value. Values that are expressions are checked by CloudFormation.
pub fn check_applied(properties: &Value, tagging: Tagging) -> Result<(), String> {
    let (prop, as_list) = match tagging {
        Tagging::None => return Ok(()),
        Tagging::List(p) => (p, true),
        Tagging::Map(p) => (p, false),
    };
    let Value::Map(pairs) = properties else {
        return Ok(());
    };
    let Some((_, tags)) = pairs.iter().find(|(k, _)| k == prop) else {
        return Ok(());
    };
    let pairs: Vec<(String, Value)> = match tags {
        Value::List(items) if as_list => items.iter().filter_map(tag_pair).collect(),
        Value::Map(kv) if !as_list => kv.clone(),
        _ => return Ok(()),
    };
    let count = pairs
        .iter()
        .filter(|(k, _)| {
            !k.get(..RESERVED_PREFIX.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(RESERVED_PREFIX))
        })
        .count();
    if count > MAX_TAGS_PER_RESOURCE {
        return Err(format!(
            "{count} tags; AWS allows at most {MAX_TAGS_PER_RESOURCE} per resource"
        ));
    }
    for (k, v) in &pairs {
        check_key(k)?;
        if let Some(v) = v.as_str() {
            check_value(v).map_err(|e| format!("tag {k}: {e}"))?;
        }
    }
    Ok(())
}

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
    fn tag_rules_count_characters_not_bytes() {
        assert!(check_value(&"é".repeat(256)).is_ok());
        assert!(check_value(&"é".repeat(257)).is_err());
        assert!(check_key(&"ü".repeat(128)).is_ok());
        assert!(check_key(&"ü".repeat(129)).is_err());
        assert!(check_key("").is_err());
    }

    #[test]
    fn tag_rules_refuse_what_aws_refuses() {
        for ok in [
            "Cost Center",
            "team:data/x=1+2-3@_.",
            "日本語",
            "Ünïcode 42",
        ] {
            assert!(check_key(ok).is_ok(), "{ok}");
            assert!(check_value(ok).is_ok(), "{ok}");
        }
        for bad in [
            "a\0b",
            "line\nbreak",
            "tab\t",
            "emoji😀",
            "rtl\u{200F}mark",
            "semi;colon",
            "quote\"",
        ] {
            assert!(check_key(bad).is_err(), "{bad:?}");
            assert!(check_value(bad).is_err(), "{bad:?}");
        }
        for reserved in ["aws:x", "AWS:x", "Aws:cost"] {
            assert!(check_key(reserved).is_err(), "{reserved}");
        }
        assert!(check_value("aws:fine-as-a-value").is_ok());
    }

    #[test]
    fn more_than_fifty_applied_tags_are_refused() {
        let tags: Vec<(String, String, String)> = (0..51)
            .map(|i| (String::new(), format!("k{i}"), "v".to_owned()))
            .collect();
        let inh = inherited(&tags, "S/R");
        let mut props = Value::Map(vec![]);
        apply(&mut props, Tagging::List("Tags"), &inh);
        let e = check_applied(&props, Tagging::List("Tags")).expect_err("51 tags");
        assert!(e.contains("51 tags"), "{e}");
        let inh = inherited(&tags[..50], "S/R");
        let mut props = Value::Map(vec![]);
        apply(&mut props, Tagging::Map("Tags"), &inh);
        assert!(check_applied(&props, Tagging::Map("Tags")).is_ok());
    }

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
