//! The template of an IMPORT change set, built from the synthesized template and (when the stack
//! exists) the deployed one.
//!
//! Why a template of its own: CloudFormation's import may only *add* the resources it imports.
//! It refuses a template that creates other resources, changes the stack's existing resources or
//! adds or changes Outputs ("As part of the import operation, you cannot modify or add
//! [Outputs]"), and every imported resource needs a `DeletionPolicy`. The AWS CDK's `cdk import`
//! does the same: it starts from the deployed template (a copy, never the cached one) and adds the
//! imported resources with `DeletionPolicy: Retain` (`currentTemplateWithAdditions`), and for a
//! new stack it drops `CDKMetadata` and the Outputs (`removeNonImportResources`).
//!
//! What [`build`] does:
//! - the base is the deployed template as it is (its resources, Outputs, Parameters, Conditions,
//!   Mappings and Rules unchanged), or, for a new stack, the synthesized template's header
//!   (`AWSTemplateFormatVersion`, `Description`, `Metadata`, `Transform`) with no Outputs and no
//!   Rules (the update after the import adds them);
//! - each resource to import is the synthesized definition with `DeletionPolicy` and
//!   `UpdateReplacePolicy` set to `Retain` for the import (the update then sets the final
//!   policies), so a rolled-back or reverted import can never delete a live resource;
//! - the Parameters, Conditions and Mappings those resources use are added from the synthesized
//!   template (a condition's own references too);
//! - a `DependsOn` on a resource that is not in the import template is dropped (ordering means
//!   nothing to an import; the update restores it);
//! - a `Ref`, `Fn::GetAtt` or `Fn::Sub` to a resource the update creates (in the synthesized
//!   template, not imported, not in the stack) cannot be resolved by the import. Where discovery
//!   read the live value at that place (the function's `LoggingConfig.LogGroup`, which Lambda
//!   always has, referring to the log group the update creates), the import template holds that
//!   live value instead: it then describes the resource exactly as it runs, and the update puts
//!   the reference back through its own change table. Where the live value is not known it is an
//!   error naming both.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value as Json};

/// Why the import template cannot be built. Each names the logical ids involved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportTemplateError {
    /// A template is not a JSON object with a `Resources` object.
    #[error("the {which} template has no Resources object")]
    NoResources {
        /// `synthesized` or `deployed`.
        which: &'static str,
    },
    /// The plan adopts a logical id the synthesized template does not have.
    #[error(
        "the import plan adopts {logical_id} ({resource_type}), but the synthesized template has no resource {logical_id}; the stage's config and the plan disagree (run discovery again)"
    )]
    NotInTemplate {
        /// The plan's logical id.
        logical_id: String,
        /// The plan's type.
        resource_type: String,
    },
    /// The plan and the template disagree on a resource's type.
    #[error(
        "the import plan adopts {logical_id} as {planned}, but the synthesized template makes it a {in_template}"
    )]
    WrongType {
        /// The logical id.
        logical_id: String,
        /// The plan's type.
        planned: String,
        /// The synthesized template's type.
        in_template: String,
    },
    /// A resource to import is already in the deployed template (the caller skips those).
    #[error("{logical_id} is already in the deployed template of the stack; it cannot be imported")]
    AlreadyDeployed {
        /// The logical id.
        logical_id: String,
    },
    /// A resource to import refers to a resource that is neither imported nor in the stack.
    #[error(
        "{from} refers to {to} ({how} at {path}), but {to} is neither imported nor already in the stack, so the IMPORT change set cannot resolve it; import {to} too (add it to the plan) or create it first"
    )]
    DanglingReference {
        /// The resource being imported.
        from: String,
        /// The resource it refers to.
        to: String,
        /// `Ref`, `Fn::GetAtt` or `Fn::Sub`.
        how: &'static str,
        /// Where in `from` (`Properties.VpcSecurityGroups[0]`).
        path: String,
    },
}

/// The IMPORT change set's template and what was left out of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportTemplate {
    /// The template document.
    pub document: Json,
    /// The resources it imports, in the plan's order.
    pub imported: Vec<String>,
    /// What the synthesized template has that the import leaves to the update, one line each
    /// (`Outputs: DbEndpoint`, `DependsOn: Function -> LogGroup`).
    pub left_out: Vec<String>,
}

impl ImportTemplate {
    /// The body to send (compact JSON: the inline limit counts bytes).
    pub fn body(&self) -> String {
        self.document.to_string()
    }
}

/// Top-level sections a new stack's import template takes from the synthesized template as
/// they are.
const HEADER: [&str; 4] = [
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Transform",
];

/// Builds the import template. `synthesized` is the stage's full template, `deployed` the
/// stack's current template (`None` when the stack does not exist yet or holds nothing),
/// `import` the `(logical id, type)` pairs to import now, `live` the live properties discovery
/// read for them (by logical id, in the template's property shape). See the module docs for
/// the rules.
pub fn build(
    synthesized: &Json,
    deployed: Option<&Json>,
    import: &[(&str, &str)],
    live: &BTreeMap<String, Map<String, Json>>,
) -> Result<ImportTemplate, ImportTemplateError> {
    let new_resources = synthesized
        .get("Resources")
        .and_then(Json::as_object)
        .ok_or(ImportTemplateError::NoResources {
            which: "synthesized",
        })?;
    let mut left_out = Vec::new();
    let mut doc: Map<String, Json> = match deployed {
        Some(d) => {
            let d = d
                .as_object()
                .ok_or(ImportTemplateError::NoResources { which: "deployed" })?;
            d.clone()
        }
        None => {
            let mut m = Map::new();
            for key in HEADER {
                if let Some(v) = synthesized.get(key) {
                    m.insert(key.to_owned(), v.clone());
                }
            }
            for (section, what) in [("Outputs", "Outputs"), ("Rules", "Rules")] {
                if let Some(o) = synthesized.get(section).and_then(Json::as_object)
                    && !o.is_empty()
                {
                    let names: Vec<&str> = o.keys().map(String::as_str).collect();
                    left_out.push(format!("{what}: {}", names.join(", ")));
                }
            }
            m
        }
    };
    let mut resources: Map<String, Json> = match doc.get("Resources") {
        Some(Json::Object(r)) => r.clone(),
        Some(_) => {
            return Err(ImportTemplateError::NoResources { which: "deployed" });
        }
        None => Map::new(),
    };
    for (id, ty) in import {
        let Some(def) = new_resources.get(*id) else {
            return Err(ImportTemplateError::NotInTemplate {
                logical_id: (*id).to_owned(),
                resource_type: (*ty).to_owned(),
            });
        };
        let in_template = def.get("Type").and_then(Json::as_str).unwrap_or_default();
        if in_template != *ty {
            return Err(ImportTemplateError::WrongType {
                logical_id: (*id).to_owned(),
                planned: (*ty).to_owned(),
                in_template: in_template.to_owned(),
            });
        }
        if resources.contains_key(*id) {
            return Err(ImportTemplateError::AlreadyDeployed {
                logical_id: (*id).to_owned(),
            });
        }
    }
    let ids: BTreeSet<&str> = import.iter().map(|(id, _)| *id).collect();
    let present: BTreeSet<String> = resources
        .keys()
        .cloned()
        .chain(ids.iter().map(|s| (*s).to_owned()))
        .collect();
    let mut uses = Uses::default();
    for (id, _) in import {
        let mut def = new_resources.get(*id).cloned().unwrap_or(Json::Null);
        let Json::Object(body) = &mut def else {
            continue;
        };
        // DependsOn: keep what stays in the template; the rest is ordering for the update.
        if let Some(dep) = body.remove("DependsOn") {
            let list: Vec<Json> = match dep {
                Json::Array(a) => a,
                other => vec![other],
            };
            let (keep, drop): (Vec<Json>, Vec<Json>) = list
                .into_iter()
                .partition(|d| d.as_str().is_some_and(|s| present.contains(s)));
            for d in &drop {
                left_out.push(format!("DependsOn: {id} -> {}", d.as_str().unwrap_or("?")));
            }
            match keep.len() {
                0 => {}
                1 => {
                    body.insert(
                        "DependsOn".into(),
                        keep.into_iter().next().unwrap_or_default(),
                    );
                }
                _ => {
                    body.insert("DependsOn".into(), Json::Array(keep));
                }
            }
        }
        body.insert("DeletionPolicy".into(), Json::String("Retain".into()));
        body.insert("UpdateReplacePolicy".into(), Json::String("Retain".into()));
        if let Some(c) = body.get("Condition").and_then(Json::as_str) {
            uses.conditions.insert(c.to_owned());
        }
        let mut found = Vec::new();
        for section in ["Properties", "Metadata"] {
            if let Some(v) = body.get(section) {
                walk(section, v, &mut found, &mut uses);
            }
        }
        for r in found {
            if r.target.starts_with("AWS::") || present.contains(&r.target) {
                continue;
            }
            if new_resources.contains_key(&r.target) {
                let known = live
                    .get(*id)
                    .and_then(|props| r.path.strip_prefix("Properties.").map(|p| (props, p)))
                    .and_then(|(props, p)| live_at(props, p))
                    .filter(|v| !v.is_null())
                    .cloned();
                if let Some(value) = known
                    && let Some(slot) = body_at(body, &r.path)
                {
                    left_out.push(format!(
                        "{} {}: {id}.{} (the live value {value} until the update creates {})",
                        r.how,
                        r.target,
                        r.path.trim_start_matches("Properties."),
                        r.target
                    ));
                    *slot = value;
                    continue;
                }
                return Err(ImportTemplateError::DanglingReference {
                    from: (*id).to_owned(),
                    to: r.target,
                    how: r.how,
                    path: r.path,
                });
            }
            // Not a resource: a parameter (or something CloudFormation will name itself).
            uses.parameters.insert(r.target);
        }
        resources.insert((*id).to_owned(), def);
    }
    // Conditions may use other conditions, parameters and mappings: close over them.
    let new_conditions = section(synthesized, "Conditions");
    let mut conditions: BTreeMap<String, Json> = BTreeMap::new();
    let mut todo: Vec<String> = uses.conditions.iter().cloned().collect();
    while let Some(name) = todo.pop() {
        if conditions.contains_key(&name) {
            continue;
        }
        let Some(def) = new_conditions.and_then(|c| c.get(&name)) else {
            continue;
        };
        let mut inner = Uses::default();
        let mut found = Vec::new();
        walk("Conditions", def, &mut found, &mut inner);
        uses.parameters.extend(
            found
                .into_iter()
                .map(|r| r.target)
                .filter(|t| !t.starts_with("AWS::")),
        );
        uses.mappings.extend(inner.mappings);
        todo.extend(inner.conditions);
        conditions.insert(name, def.clone());
    }
    merge(&mut doc, synthesized, "Parameters", &uses.parameters);
    merge(&mut doc, synthesized, "Mappings", &uses.mappings);
    merge(
        &mut doc,
        synthesized,
        "Conditions",
        &conditions.keys().cloned().collect(),
    );
    doc.insert("Resources".into(), Json::Object(resources));
    Ok(ImportTemplate {
        document: Json::Object(doc),
        imported: import.iter().map(|(id, _)| (*id).to_owned()).collect(),
        left_out,
    })
}

/// A path's parts: `LoggingConfig.LogGroup` -> keys, `Subnets[1]` -> a key and an index.
fn steps(path: &str) -> Vec<Result<&str, usize>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            out.push(Ok(&rest[..i]));
            rest = &rest[i..];
            while let Some(end) = rest.find(']') {
                match rest[1..end].parse::<usize>() {
                    Ok(n) => out.push(Err(n)),
                    Err(_) => return Vec::new(),
                }
                rest = &rest[end + 1..];
            }
        } else {
            out.push(Ok(rest));
        }
    }
    out
}

/// The live value at a property path (`LoggingConfig.LogGroup`), when discovery read it.
fn live_at<'a>(props: &'a Map<String, Json>, path: &str) -> Option<&'a Json> {
    let steps = steps(path);
    let (first, rest) = steps.split_first()?;
    let mut v = props.get(first.ok()?)?;
    for s in rest {
        v = match s {
            Ok(k) => v.get(*k)?,
            Err(i) => v.get(*i)?,
        };
    }
    Some(v)
}

/// The node of a resource definition at a reference's path (`Properties.LoggingConfig.LogGroup`).
fn body_at<'a>(body: &'a mut Map<String, Json>, path: &str) -> Option<&'a mut Json> {
    let steps = steps(path);
    let (first, rest) = steps.split_first()?;
    let mut v = body.get_mut(first.ok()?)?;
    for s in rest {
        v = match s {
            Ok(k) => v.get_mut(*k)?,
            Err(i) => v.get_mut(*i)?,
        };
    }
    Some(v)
}

/// A top-level section of a template as an object.
fn section<'a>(doc: &'a Json, name: &str) -> Option<&'a Map<String, Json>> {
    doc.get(name).and_then(Json::as_object)
}

/// Adds the named entries of `from`'s section to `doc`'s, keeping what `doc` already has (the
/// deployed definition wins: the import changes nothing that exists).
fn merge(doc: &mut Map<String, Json>, from: &Json, name: &str, wanted: &BTreeSet<String>) {
    let Some(src) = section(from, name) else {
        return;
    };
    let picked: Vec<(&String, &Json)> = src.iter().filter(|(k, _)| wanted.contains(*k)).collect();
    if picked.is_empty() {
        return;
    }
    let entry = doc
        .entry(name.to_owned())
        .or_insert_with(|| Json::Object(Map::new()));
    if let Json::Object(target) = entry {
        for (k, v) in picked {
            if !target.contains_key(k) {
                target.insert(k.clone(), v.clone());
            }
        }
    }
}

/// What a resource's definition uses besides other resources.
#[derive(Debug, Default)]
struct Uses {
    parameters: BTreeSet<String>,
    conditions: BTreeSet<String>,
    mappings: BTreeSet<String>,
}

/// A reference by name (`Ref`, `Fn::GetAtt`, `Fn::Sub` placeholder).
#[derive(Debug)]
struct Reference {
    target: String,
    how: &'static str,
    path: String,
}

/// Collects references, conditions (`Fn::If`, `Condition`) and mappings (`Fn::FindInMap`).
fn walk(path: &str, v: &Json, out: &mut Vec<Reference>, uses: &mut Uses) {
    match v {
        Json::Object(o) if o.len() == 1 => {
            let Some((key, arg)) = o.iter().next() else {
                return;
            };
            let mut push = |target: &str, how: &'static str| {
                out.push(Reference {
                    target: target.to_owned(),
                    how,
                    path: path.to_owned(),
                })
            };
            match key.as_str() {
                "Ref" => {
                    if let Some(t) = arg.as_str() {
                        push(t, "Ref");
                    }
                    return;
                }
                "Fn::GetAtt" => {
                    let target = match arg {
                        Json::Array(a) => a.first().and_then(Json::as_str).map(str::to_owned),
                        Json::String(s) => s.split_once('.').map(|(t, _)| t.to_owned()),
                        _ => None,
                    };
                    if let Some(t) = target {
                        push(&t, "Fn::GetAtt");
                    }
                    return;
                }
                "Fn::Sub" => {
                    let (text, vars) = match arg {
                        Json::Array(a) => (a.first().and_then(Json::as_str), a.get(1)),
                        other => (other.as_str(), None),
                    };
                    for name in text.map(placeholders).into_iter().flatten() {
                        if vars.is_some_and(|m| m.get(&name).is_some()) {
                            continue;
                        }
                        let target = name.split_once('.').map_or(name.as_str(), |(t, _)| t);
                        push(target, "Fn::Sub");
                    }
                    if let Some(vars) = vars {
                        walk(path, vars, out, uses);
                    }
                    return;
                }
                "Fn::If" => {
                    if let Some(c) = arg
                        .as_array()
                        .and_then(|a| a.first())
                        .and_then(Json::as_str)
                    {
                        uses.conditions.insert(c.to_owned());
                    }
                    if let Some(a) = arg.as_array() {
                        for x in a.iter().skip(1) {
                            walk(path, x, out, uses);
                        }
                    }
                    return;
                }
                "Condition" => {
                    if let Some(c) = arg.as_str() {
                        uses.conditions.insert(c.to_owned());
                        return;
                    }
                }
                "Fn::FindInMap" => {
                    if let Some(m) = arg
                        .as_array()
                        .and_then(|a| a.first())
                        .and_then(Json::as_str)
                    {
                        uses.mappings.insert(m.to_owned());
                    }
                }
                _ => {}
            }
            walk_children(path, v, out, uses);
        }
        _ => walk_children(path, v, out, uses),
    }
}

fn walk_children(path: &str, v: &Json, out: &mut Vec<Reference>, uses: &mut Uses) {
    match v {
        Json::Object(o) => {
            let intrinsic = o.len() == 1 && o.keys().all(|k| k.starts_with("Fn::"));
            for (k, child) in o {
                let p = if intrinsic {
                    path.to_owned()
                } else {
                    format!("{path}.{k}")
                };
                walk(&p, child, out, uses);
            }
        }
        Json::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                walk(&format!("{path}[{i}]"), child, out, uses);
            }
        }
        _ => {}
    }
}

/// The `${Name}` / `${Name.Attr}` placeholders of an `Fn::Sub` string (`${!Literal}` is not one).
fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            break;
        };
        let name = &after[..end];
        if !name.starts_with('!') && !name.is_empty() {
            out.push(name.trim().to_owned());
        }
        rest = &after[end + 1..];
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn synthesized() -> Json {
        json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": "app",
            "Parameters": {
                "Env": {"Type": "String", "Default": "dev"},
                "Unused": {"Type": "String", "Default": "x"},
                "Image": {"Type": "String", "Default": "i"}
            },
            "Conditions": {
                "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
                "Big": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Equals": ["a", "a"]}]},
                "Other": {"Fn::Equals": [{"Ref": "Unused"}, "y"]}
            },
            "Mappings": {"Sizes": {"dev": {"n": "1"}}, "Unused": {"a": {"b": "c"}}},
            "Rules": {"R": {"Assertions": []}},
            "Resources": {
                "Bucket": {
                    "Type": "AWS::S3::Bucket",
                    "DeletionPolicy": "Delete",
                    "Properties": {
                        "BucketName": {"Fn::Sub": "${Env}-data-${AWS::Region}"},
                        "Tags": [{"Key": "n", "Value": {"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "n"]}}],
                        "VersioningConfiguration": {"Fn::If": ["Big", {"Status": "Enabled"}, {"Ref": "AWS::NoValue"}]}
                    }
                },
                "Policy": {
                    "Type": "AWS::S3::BucketPolicy",
                    "DependsOn": ["Log", "Bucket"],
                    "Properties": {"Bucket": {"Ref": "Bucket"}, "PolicyDocument": {}}
                },
                "Log": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
                "Url": {
                    "Type": "AWS::Lambda::Url",
                    "Properties": {"TargetFunctionArn": {"Fn::GetAtt": ["Fn", "Arn"]}}
                },
                "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"ImageUri": {"Ref": "Image"}}},
                "CDKMetadata": {"Type": "AWS::CDK::Metadata"}
            },
            "Outputs": {"BucketName": {"Value": {"Ref": "Bucket"}}}
        })
    }

    #[test]
    fn a_new_stack_gets_only_the_imported_resources_retained_and_what_they_use() {
        let t = build(
            &synthesized(),
            None,
            &[
                ("Bucket", "AWS::S3::Bucket"),
                ("Policy", "AWS::S3::BucketPolicy"),
            ],
            &none(),
        )
        .expect("template");
        let d = &t.document;
        let ids: Vec<&String> = d["Resources"]
            .as_object()
            .expect("resources")
            .keys()
            .collect();
        assert_eq!(ids, ["Bucket", "Policy"]);
        for id in ["Bucket", "Policy"] {
            assert_eq!(d["Resources"][id]["DeletionPolicy"], "Retain", "{id}");
            assert_eq!(d["Resources"][id]["UpdateReplacePolicy"], "Retain", "{id}");
        }
        // The dependency on a resource the import does not bring is left to the update.
        assert_eq!(d["Resources"]["Policy"]["DependsOn"], "Bucket");
        assert!(
            t.left_out.contains(&"DependsOn: Policy -> Log".to_owned()),
            "{:?}",
            t.left_out
        );
        // No Outputs or Rules (an import may not add them); the header stays.
        assert!(d.get("Outputs").is_none() && d.get("Rules").is_none());
        assert!(t.left_out.contains(&"Outputs: BucketName".to_owned()));
        assert_eq!(d["Description"], "app");
        // Only the parameters, conditions (with what they use) and mappings referenced.
        let keys = |s: &str| -> Vec<String> {
            d[s].as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default()
        };
        assert_eq!(keys("Parameters"), ["Env"]);
        assert_eq!(keys("Conditions"), ["IsProd", "Big"]);
        assert_eq!(keys("Mappings"), ["Sizes"]);
        // The synthesized template is untouched.
        assert_eq!(
            synthesized()["Resources"]["Bucket"]["DeletionPolicy"],
            "Delete"
        );
    }

    #[test]
    fn an_existing_stack_keeps_its_template_and_outputs_and_gains_the_imports() {
        let deployed = json!({
            "Resources": {"Log": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}}},
            "Outputs": {"Old": {"Value": "x"}}
        });
        let t = build(
            &synthesized(),
            Some(&deployed),
            &[
                ("Bucket", "AWS::S3::Bucket"),
                ("Policy", "AWS::S3::BucketPolicy"),
            ],
            &none(),
        )
        .expect("template");
        let d = &t.document;
        // The deployed resource as deployed (not the synthesized definition), Outputs unchanged.
        assert_eq!(d["Resources"]["Log"], deployed["Resources"]["Log"]);
        assert_eq!(d["Outputs"], deployed["Outputs"]);
        // The dependency on a resource already in the stack is kept.
        assert_eq!(
            d["Resources"]["Policy"]["DependsOn"],
            json!(["Log", "Bucket"])
        );
        assert_eq!(d["Resources"]["Bucket"]["DeletionPolicy"], "Retain");
    }

    #[test]
    fn a_reference_to_a_resource_outside_the_import_is_an_error_naming_both() {
        let err = build(
            &synthesized(),
            None,
            &[("Url", "AWS::Lambda::Url")],
            &none(),
        )
        .expect_err("dangling");
        assert_eq!(
            err,
            ImportTemplateError::DanglingReference {
                from: "Url".into(),
                to: "Fn".into(),
                how: "Fn::GetAtt",
                path: "Properties.TargetFunctionArn".into(),
            }
        );
        assert!(err.to_string().contains("import Fn too"), "{err}");
        // With the function in the stack already, the same import is fine.
        let deployed = json!({"Resources": {"Fn": {"Type": "AWS::Lambda::Function"}}});
        build(
            &synthesized(),
            Some(&deployed),
            &[("Url", "AWS::Lambda::Url")],
            &none(),
        )
        .expect("resolvable");
    }

    #[test]
    fn a_reference_to_a_resource_the_update_creates_holds_the_live_value_meanwhile() {
        let s = json!({"Resources": {
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
                "FunctionName": "api",
                "LoggingConfig": {"LogGroup": {"Ref": "Logs"}},
                "VpcConfig": {"SecurityGroupIds": [{"Fn::GetAtt": ["Sg", "GroupId"]}]}
            }},
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/aws/lambda/api"}},
            "Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {}}
        }});
        let live: BTreeMap<String, Map<String, Json>> = [(
            "Fn".to_owned(),
            json!({
                "LoggingConfig": {"LogGroup": "/aws/lambda/api"},
                "VpcConfig": {"SecurityGroupIds": ["sg-1"]}
            })
            .as_object()
            .cloned()
            .unwrap_or_default(),
        )]
        .into_iter()
        .collect();
        let t = build(&s, None, &[("Fn", "AWS::Lambda::Function")], &live).expect("template");
        let props = &t.document["Resources"]["Fn"]["Properties"];
        assert_eq!(props["LoggingConfig"]["LogGroup"], "/aws/lambda/api");
        assert_eq!(props["VpcConfig"]["SecurityGroupIds"][0], "sg-1");
        assert_eq!(props["FunctionName"], "api");
        assert!(
            t.left_out
                .iter()
                .any(|l| l.starts_with("Ref Logs: Fn.LoggingConfig.LogGroup")),
            "{:?}",
            t.left_out
        );
        // Without the live value the reference stays an error.
        let err =
            build(&s, None, &[("Fn", "AWS::Lambda::Function")], &none()).expect_err("dangling");
        assert!(
            matches!(err, ImportTemplateError::DanglingReference { ref to, .. } if to == "Logs"),
            "{err}"
        );
    }

    fn none() -> BTreeMap<String, Map<String, Json>> {
        BTreeMap::new()
    }

    #[test]
    fn plan_and_template_must_agree() {
        let s = synthesized();
        assert!(matches!(
            build(&s, None, &[("Nope", "AWS::S3::Bucket")], &none()),
            Err(ImportTemplateError::NotInTemplate { .. })
        ));
        assert!(matches!(
            build(&s, None, &[("Bucket", "AWS::SQS::Queue")], &none()),
            Err(ImportTemplateError::WrongType { .. })
        ));
        let deployed = json!({"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}});
        assert!(matches!(
            build(
                &s,
                Some(&deployed),
                &[("Bucket", "AWS::S3::Bucket")],
                &none()
            ),
            Err(ImportTemplateError::AlreadyDeployed { .. })
        ));
    }

    #[test]
    fn sub_placeholders() {
        assert_eq!(
            placeholders("${A}-${B.Arn}-${!Literal}-${AWS::Region}"),
            ["A", "B.Arn", "AWS::Region"]
        );
    }
}
