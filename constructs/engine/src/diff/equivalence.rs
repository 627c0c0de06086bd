//! When two template values mean the same to CloudFormation, so the diff does not report a
//! change (let alone a replacement) that CloudFormation would not make.
//!
//! - Scalars compare by the text CloudFormation passes on: `true` and `"true"`, `5432` and
//!   `"5432"`, `5.0` and `"5.0"` are equal. Numbers keep their written form: `5` and `5.0`
//!   (or `"5.0"`) differ, because a string property would receive `"5"` and `"5.0"`; snowcdk
//!   does not know each property's type, and a reported change is the safe side. Case counts
//!   (`"True"` is not `true`).
//! - `{"Fn::GetAtt": "A.B"}` and `{"Fn::GetAtt": ["A", "B"]}` are the same attribute.
//! - `DependsOn: "X"` and `DependsOn: ["X"]` are the same, and so is any order or repetition
//!   of the list ([`depends_on`]).
//!
//! And when a value depends on a condition ([`alternatives`]): the values an `Fn::If` can take.

use std::collections::BTreeSet;

use serde_json::Value as Json;
use snowcdk_constructs::rules::json::intrinsic;

/// The text CloudFormation sees for a scalar.
fn scalar_text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Bool(b) => Some(b.to_string()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `Fn::GetAtt` as `(logical id, attribute)`, whichever form it is written in.
fn get_att(v: &Json) -> Option<(&str, &str)> {
    match intrinsic(v)? {
        ("Fn::GetAtt", Json::Array(a)) if a.len() == 2 => Some((a[0].as_str()?, a[1].as_str()?)),
        ("Fn::GetAtt", Json::String(s)) => s.split_once('.'),
        _ => None,
    }
}

/// Whether two values are the same to CloudFormation (see the module docs).
pub fn equivalent(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Object(x), Json::Object(y)) => {
            if let (Some(p), Some(q)) = (get_att(a), get_att(b)) {
                return p == q;
            }
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| equivalent(v, w)))
        }
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| equivalent(v, w))
        }
        (Json::Null, Json::Null) => true,
        _ => match (scalar_text(a), scalar_text(b)) {
            (Some(s), Some(t)) => s == t,
            _ => false,
        },
    }
}

/// [`equivalent`] for values that may be absent.
pub fn equivalent_opt(a: Option<&Json>, b: Option<&Json>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => equivalent(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// `DependsOn` as the set of logical ids it names (`None` when it is not a string or a list of
/// strings, which CloudFormation would reject; such a value is compared as written).
pub fn depends_on(v: Option<&Json>) -> Option<BTreeSet<&str>> {
    match v {
        None => Some(BTreeSet::new()),
        Some(Json::String(s)) => Some(BTreeSet::from([s.as_str()])),
        Some(Json::Array(a)) => a.iter().map(Json::as_str).collect(),
        Some(_) => None,
    }
}

/// Whether a value holds an `Fn::If` anywhere.
pub fn contains_if(v: &Json) -> bool {
    match v {
        Json::Object(o) => o.iter().any(|(k, v)| k == "Fn::If" || contains_if(v)),
        Json::Array(a) => a.iter().any(contains_if),
        _ => false,
    }
}

fn is_no_value(v: &Json) -> bool {
    matches!(intrinsic(v), Some(("Ref", Json::String(s))) if s == "AWS::NoValue")
}

/// The values a property can take when it is an `Fn::If` (nested ones expanded;
/// `AWS::NoValue` is absence). `None` when a condition sits deeper inside the value, where
/// snowcdk does not enumerate the combinations.
pub fn alternatives(v: Option<&Json>) -> Option<Vec<Option<Json>>> {
    let Some(v) = v else {
        return Some(vec![None]);
    };
    if is_no_value(v) {
        return Some(vec![None]);
    }
    if let Some(("Fn::If", Json::Array(args))) = intrinsic(v) {
        let [_, yes, no] = args.as_slice() else {
            return None;
        };
        let mut out = alternatives(Some(yes))?;
        out.extend(alternatives(Some(no))?);
        return Some(out);
    }
    if contains_if(v) {
        return None;
    }
    Some(vec![Some(v.clone())])
}

/// Whether a change between two values that involve conditions may be no change at all: some
/// value the old one can take equals some value the new one can take (or the conditions sit
/// too deep to tell).
pub fn may_be_unchanged(old: Option<&Json>, new: Option<&Json>) -> bool {
    match (alternatives(old), alternatives(new)) {
        (Some(xs), Some(ys)) => xs
            .iter()
            .any(|x| ys.iter().any(|y| equivalent_opt(x.as_ref(), y.as_ref()))),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_compare_as_cloudformation_text() {
        assert!(equivalent(&json!(true), &json!("true")));
        assert!(equivalent(&json!(false), &json!("false")));
        assert!(equivalent(&json!(5432), &json!("5432")));
        assert!(equivalent(&json!(5.0), &json!("5.0")));
        assert!(!equivalent(&json!(5), &json!(5.0)));
        assert!(!equivalent(&json!(5), &json!("5.0")));
        assert!(!equivalent(&json!(true), &json!("True")));
        assert!(!equivalent(&json!(true), &json!(1)));
        assert!(!equivalent(&json!(null), &json!("")));
        assert!(equivalent(&json!(["1", 2]), &json!([1, "2"])));
        assert!(!equivalent(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
    }

    #[test]
    fn get_att_forms_are_the_same() {
        assert!(equivalent(
            &json!({"Fn::GetAtt": "Db.Endpoint.Address"}),
            &json!({"Fn::GetAtt": ["Db", "Endpoint.Address"]})
        ));
        assert!(!equivalent(
            &json!({"Fn::GetAtt": "Db.Endpoint.Port"}),
            &json!({"Fn::GetAtt": ["Db", "Endpoint.Address"]})
        ));
    }

    #[test]
    fn depends_on_is_a_set() {
        assert_eq!(
            depends_on(Some(&json!("X"))),
            depends_on(Some(&json!(["X"])))
        );
        assert_eq!(
            depends_on(Some(&json!(["B", "A", "A"]))),
            depends_on(Some(&json!(["A", "B"])))
        );
        assert_eq!(depends_on(None), depends_on(Some(&json!([]))));
        assert_eq!(depends_on(Some(&json!([{"Ref": "X"}]))), None);
    }

    #[test]
    fn conditions_enumerate_their_values() {
        let v = json!({"Fn::If": ["Prod", "a", {"Fn::If": ["Big", "b", {"Ref": "AWS::NoValue"}]}]});
        assert_eq!(
            alternatives(Some(&v)),
            Some(vec![Some(json!("a")), Some(json!("b")), None])
        );
        assert!(may_be_unchanged(Some(&json!("b")), Some(&v)));
        assert!(may_be_unchanged(None, Some(&v)));
        assert!(!may_be_unchanged(Some(&json!("c")), Some(&v)));
        assert_eq!(
            alternatives(Some(&json!({"X": {"Fn::If": ["C", 1, 2]}}))),
            None
        );
    }
}
