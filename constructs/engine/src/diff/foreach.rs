//! `Fn::ForEach` (the `AWS::LanguageExtensions` transform), expanded before the diff so the
//! resources a loop makes are compared one by one, as CloudFormation will create and delete
//! them.
//!
//! `"Fn::ForEach::Name": [Identifier, Collection, {OutputKey: OutputValue}]` makes one
//! `OutputKey: OutputValue` per item of the collection, where (per the CloudFormation template
//! reference) every `${Identifier}` in the key and the value is replaced by the item, every
//! `&{Identifier}` by the item without its non-alphanumeric characters, and `{"Ref": Identifier}`
//! by the item itself. Loops nest, and appear in `Resources`, `Conditions`, `Outputs` and inside
//! resource properties.
//!
//! Only a literal list is expanded. A collection that is a `Ref` to a parameter (or anything
//! else computed at deploy time) cannot be known offline: such a loop stays in the template
//! under its `Fn::ForEach::Name` key, and the diff reports it as not analysable (and its
//! removal as destructive).

use serde_json::{Map, Value as Json};

/// The prefix of a loop's key.
pub const PREFIX: &str = "Fn::ForEach::";

/// Most entries one template's loops may produce; past it a loop is left unexpanded rather
/// than let a hostile template (nested loops over long lists) grow without bound.
const MAX_ENTRIES: usize = 10_000;

/// The template with every loop over a literal list expanded.
pub fn expand_template(t: &Json) -> Json {
    let mut budget = MAX_ENTRIES;
    expand_value(t, &mut budget)
}

fn expand_value(v: &Json, budget: &mut usize) -> Json {
    match v {
        Json::Object(o) => Json::Object(expand_object(o, budget)),
        Json::Array(a) => Json::Array(a.iter().map(|x| expand_value(x, budget)).collect()),
        other => other.clone(),
    }
}

fn expand_object(map: &Map<String, Json>, budget: &mut usize) -> Map<String, Json> {
    let mut out = Map::new();
    for (k, v) in map {
        if k.starts_with(PREFIX)
            && let Some(entries) = expand_loop(v, budget)
        {
            out.extend(entries);
            continue;
        }
        out.insert(k.clone(), expand_value(v, budget));
    }
    out
}

/// One loop's entries, or `None` when it cannot be expanded offline (see [`why_unexpanded`]).
fn expand_loop(v: &Json, budget: &mut usize) -> Option<Vec<(String, Json)>> {
    let (ident, items, body) = parts(v)?;
    let mut out = Vec::new();
    for item in items {
        let Json::Object(instance) = substitute(body, ident, &item) else {
            return None;
        };
        for (k, v) in expand_object(&instance, budget) {
            // A nested loop that could not be expanded makes the whole loop unknown.
            if k.starts_with(PREFIX) {
                return None;
            }
            *budget = budget.checked_sub(1)?;
            out.push((k, v));
        }
    }
    Some(out)
}

/// `(identifier, items, body)` of a loop whose collection is a literal list of scalars.
fn parts(v: &Json) -> Option<(&str, Vec<String>, &Json)> {
    let [ident, collection, body] = v.as_array()?.as_slice() else {
        return None;
    };
    let items = collection
        .as_array()?
        .iter()
        .map(|i| match i {
            Json::String(s) => Some(s.clone()),
            Json::Number(n) => Some(n.to_string()),
            Json::Bool(b) => Some(b.to_string()),
            _ => None,
        })
        .collect::<Option<Vec<String>>>()?;
    body.is_object().then_some((ident.as_str()?, items, body))
}

/// Why a loop left in the template could not be expanded, in a few words.
pub fn why_unexpanded(v: &Json) -> String {
    match v.as_array().map(Vec::as_slice) {
        Some([_, Json::Array(_), Json::Object(_)]) => {
            "its collection holds something other than plain values, a nested loop cannot be expanded, or it makes too many entries".into()
        }
        Some([_, c, Json::Object(_)]) if !c.is_array() => format!(
            "its collection ({}) is only known at deploy time",
            serde_json::to_string(c).unwrap_or_default()
        ),
        _ => "it is not of the form [Identifier, Collection, {OutputKey: OutputValue}]".into(),
    }
}

/// The resource types a loop's body makes (for messages about a loop that stays unexpanded).
pub fn types_inside(v: &Json) -> Vec<String> {
    fn walk(v: &Json, out: &mut Vec<String>) {
        match v {
            Json::Object(o) => {
                for (k, x) in o {
                    match x {
                        Json::String(s) if k == "Type" && s.contains("::") => {
                            if !out.contains(s) {
                                out.push(s.clone());
                            }
                        }
                        _ => walk(x, out),
                    }
                }
            }
            Json::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut out);
    out.sort();
    out
}

/// Keeps letters and digits only (`&{Identifier}`).
fn alphanumeric(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

fn substitute(v: &Json, ident: &str, item: &str) -> Json {
    match v {
        Json::String(s) => Json::String(substitute_str(s, ident, item)),
        Json::Object(o) => {
            if o.len() == 1 && o.get("Ref").and_then(Json::as_str) == Some(ident) {
                return Json::String(item.to_owned());
            }
            Json::Object(
                o.iter()
                    .map(|(k, x)| (substitute_str(k, ident, item), substitute(x, ident, item)))
                    .collect(),
            )
        }
        Json::Array(a) => Json::Array(a.iter().map(|x| substitute(x, ident, item)).collect()),
        other => other.clone(),
    }
}

fn substitute_str(s: &str, ident: &str, item: &str) -> String {
    s.replace(&format!("${{{ident}}}"), item)
        .replace(&format!("&{{{ident}}}"), &alphanumeric(item))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literal_loops_expand_keys_refs_and_subs() {
        let t = json!({"Resources": {
            "Fn::ForEach::Tables": ["Name", ["Points", "Sites"], {
                "${Name}Table": {"Type": "AWS::DynamoDB::Table", "Properties": {
                    "TableName": {"Fn::Sub": "snowex-${Name}"},
                    "Tags": [{"Key": "Name", "Value": {"Ref": "Name"}}]}}}],
            "Fn::ForEach::Subnets": ["Cidr", ["10.0.2.0/24"], {
                "Subnet&{Cidr}": {"Type": "AWS::EC2::Subnet", "Properties": {"CidrBlock": {"Ref": "Cidr"}}}}],
            "Plain": {"Type": "AWS::SQS::Queue"}}});
        let e = expand_template(&t);
        let r = e["Resources"].as_object().unwrap();
        let keys: Vec<&str> = r.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["PointsTable", "SitesTable", "Subnet1002024", "Plain"]
        );
        assert_eq!(
            r["SitesTable"]["Properties"]["TableName"],
            json!({"Fn::Sub": "snowex-Sites"})
        );
        assert_eq!(
            r["SitesTable"]["Properties"]["Tags"][0]["Value"],
            json!("Sites")
        );
        assert_eq!(
            r["Subnet1002024"]["Properties"]["CidrBlock"],
            json!("10.0.2.0/24")
        );
    }

    #[test]
    fn nested_loops_expand() {
        let t = json!({"Resources": {"Fn::ForEach::Envs": ["Env", ["dev", "prod"], {
            "Fn::ForEach::Apps": ["App", ["api", "web"], {
                "${Env}${App}Queue": {"Type": "AWS::SQS::Queue"}}]}]}});
        let e = expand_template(&t);
        let keys: Vec<&String> = e["Resources"].as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["devapiQueue", "devwebQueue", "prodapiQueue", "prodwebQueue"]
        );
    }

    #[test]
    fn loops_over_parameters_stay_and_say_why() {
        let body = json!(["Name", {"Ref": "Names"}, {"${Name}": {"Type": "AWS::DynamoDB::Table"}}]);
        let t = json!({"Resources": {"Fn::ForEach::Tables": body.clone()}});
        assert_eq!(expand_template(&t), t);
        assert!(why_unexpanded(&body).contains("only known at deploy time"));
        assert_eq!(types_inside(&body), ["AWS::DynamoDB::Table"]);
        // A nested loop over a parameter keeps the outer one too.
        let t = json!({"Resources": {"Fn::ForEach::Outer": ["A", ["x"], {
            "Fn::ForEach::Inner": ["B", {"Ref": "P"}, {"${A}${B}": {"Type": "AWS::SQS::Queue"}}]}]}});
        assert_eq!(expand_template(&t), t);
    }

    #[test]
    fn huge_loops_are_left_unexpanded() {
        let items: Vec<String> = (0..200).map(|i| i.to_string()).collect();
        let t = json!({"Resources": {"Fn::ForEach::A": ["A", items.clone(), {
            "Fn::ForEach::B": ["B", items, {"Q${A}x${B}": {"Type": "AWS::SQS::Queue"}}]}]}});
        let e = expand_template(&t);
        assert!(e["Resources"].get("Fn::ForEach::A").is_some());
    }
}
