//! The import preview: per adopted resource, what the template would change on the live
//! resource. CloudFormation applies the template's configuration to what it imports (the update
//! that follows an import sets every property the template names, and resets what it leaves
//! out: cloudformation-coverage-roadmap #809, a missing `StorageType` turned gp2 into standard),
//! so an honest import starts from zero differences.
//!
//! The comparison is generic: the template's `Properties` of each adopted logical id against the
//! plan's `live` map, after resolving `Ref`/`Fn::GetAtt` through the plan (physical ids and
//! attributes), parameters through their defaults, pseudo parameters through the
//! [`PreviewContext`], and `Fn::Sub`/`Fn::Join`/`Fn::Select`/`Fn::GetAZs` where their inputs
//! resolve. What cannot be resolved, and what discovery did not read, is reported as *not
//! checked*, never as a difference. Tags are reported apart: adding the stack's tags changes no
//! behaviour, and a hand-built resource rarely has them.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value as Json};
use snowcdk_constructs::l1;

use super::ImportPlan;

/// What the resolver needs besides the plan and the template.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PreviewContext {
    /// `AWS::Region`.
    pub region: String,
    /// `AWS::AccountId`, when known.
    pub account: Option<String>,
    /// `AWS::StackName`.
    pub stack_name: String,
    /// `AWS::Partition` (`aws` when empty).
    pub partition: String,
    /// The region's Availability Zones in name order (what `Fn::GetAZs` returns); empty: unknown.
    pub azs: Vec<String>,
}

/// One property the import would change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    /// The logical id.
    pub logical_id: String,
    /// The CloudFormation type.
    pub resource_type: String,
    /// The property path, `/`-separated (`Environment/Variables/DB_SECRET_NAME`).
    pub path: String,
    /// The template's value, resolved (`null`: the template leaves it unset).
    pub template: Json,
    /// The live value (`null`: the live resource has none).
    pub live: Json,
    /// Never acceptable: the change replaces the resource (create-only per the schema), or
    /// touches the engine, the storage type or the master credentials.
    pub blocking: bool,
}

impl Difference {
    /// `LogicalId.Path` with `/` as in the path: the name `--accept-changes` takes.
    pub fn key(&self) -> String {
        format!("{}.{}", self.logical_id, self.path)
    }

    /// Whether `--accept-changes NAME` covers it: `LogicalId.Path`, `LogicalId.TopProperty` or
    /// a bare top-level property name (every resource's).
    pub fn accepted_by(&self, name: &str) -> bool {
        let top = self.path.split('/').next().unwrap_or_default();
        name == self.key() || name == format!("{}.{top}", self.logical_id) || name == top
    }
}

/// A property the preview could not compare, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotChecked {
    /// The logical id.
    pub logical_id: String,
    /// The property path.
    pub path: String,
    /// "not read by discovery" or what could not be resolved.
    pub why: String,
}

/// The tags the update after the import adds to a resource (informational).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TagsAdded {
    /// The logical id.
    pub logical_id: String,
    /// The tag keys the template sets that the live resource lacks (or has with another value).
    pub keys: Vec<String>,
}

/// The preview of one plan against one template.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Preview {
    /// What the import would change, in plan order.
    pub differences: Vec<Difference>,
    /// What was not compared.
    pub not_checked: Vec<NotChecked>,
    /// Tags the update adds.
    pub tags_added: Vec<TagsAdded>,
}

impl Preview {
    /// The differences `accepted` does not cover; a blocking one is never covered.
    pub fn unaccepted(&self, accepted: &[String]) -> Vec<&Difference> {
        self.differences
            .iter()
            .filter(|d| d.blocking || !accepted.iter().any(|a| d.accepted_by(a)))
            .collect()
    }

    /// The preview as text: one line per difference, then what was not checked.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if self.differences.is_empty() {
            out.push_str("preview: no differences between the template and the live resources\n");
        } else {
            out.push_str(&format!(
                "preview: {} difference(s) the import would apply to live resources:\n",
                self.differences.len()
            ));
            for d in &self.differences {
                out.push_str(&format!(
                    "  {} {}: template {} live {}{}\n",
                    d.logical_id,
                    d.path,
                    short(&d.template),
                    short(&d.live),
                    if d.blocking {
                        "  [blocking: never accepted]"
                    } else {
                        "  [--accept-changes to accept]"
                    }
                ));
            }
        }
        if !self.tags_added.is_empty() {
            out.push_str("tags the update adds (no behaviour change):\n");
            for t in &self.tags_added {
                out.push_str(&format!("  {}: {}\n", t.logical_id, t.keys.join(", ")));
            }
        }
        if !self.not_checked.is_empty() {
            out.push_str(&format!("not checked ({}):\n", self.not_checked.len()));
            for n in &self.not_checked {
                out.push_str(&format!("  {} {}: {}\n", n.logical_id, n.path, n.why));
            }
        }
        out
    }
}

fn short(v: &Json) -> String {
    let s = match v {
        Json::Null => "(unset)".to_owned(),
        other => other.to_string(),
    };
    if s.chars().count() > 80 {
        format!("{}...", s.chars().take(77).collect::<String>())
    } else {
        s
    }
}

/// Properties of a type whose change is never accepted, besides the create-only ones.
fn never_acceptable(resource_type: &str, top: &str) -> bool {
    resource_type == "AWS::RDS::DBInstance"
        && matches!(
            top,
            "Engine" | "StorageType" | "MasterUsername" | "MasterUserPassword"
        )
}

fn blocking(resource_type: &str, path: &str) -> bool {
    let top = path.split('/').next().unwrap_or_default();
    if never_acceptable(resource_type, top) {
        return true;
    }
    // Replacement, always or conditionally: the schema's paths have no list indexes.
    let schema_path: String = path
        .split('/')
        .filter(|s| s.parse::<usize>().is_err())
        .collect::<Vec<_>>()
        .join("/");
    l1::spec(resource_type)
        .and_then(|s| s.replacement_for(&schema_path))
        .is_some()
}

/// Resolves template values through the plan, the parameters' defaults and the context.
#[derive(Debug)]
pub struct Resolver<'a> {
    ctx: &'a PreviewContext,
    physical: BTreeMap<&'a str, &'a str>,
    attributes: BTreeMap<&'a str, &'a BTreeMap<String, String>>,
    parameters: Option<&'a Map<String, Json>>,
}

impl<'a> Resolver<'a> {
    /// A resolver for `template` (the JSON document) and `plan`.
    pub fn new(plan: &'a ImportPlan, template: &'a Json, ctx: &'a PreviewContext) -> Resolver<'a> {
        Resolver {
            ctx,
            physical: plan
                .resources
                .iter()
                .map(|a| (a.logical_id.as_str(), a.physical_id.as_str()))
                .collect(),
            attributes: plan
                .resources
                .iter()
                .map(|a| (a.logical_id.as_str(), &a.attributes))
                .collect(),
            parameters: template.get("Parameters").and_then(Json::as_object),
        }
    }

    /// The value with every intrinsic resolved, or `Err(what could not be)`.
    pub fn resolve(&self, v: &Json) -> Result<Json, String> {
        match v {
            Json::Array(items) => items.iter().map(|i| self.resolve(i)).collect(),
            Json::Object(m) if m.len() == 1 => {
                let Some((k, arg)) = m.iter().next() else {
                    return self.object(m);
                };
                match k.as_str() {
                    "Ref" => self.reference(arg),
                    "Fn::GetAtt" => self.get_att(arg),
                    "Fn::Sub" => self.sub(arg),
                    "Fn::Join" => self.join(arg),
                    "Fn::Select" => self.select(arg),
                    "Fn::GetAZs" => self.get_azs(),
                    k if k.starts_with("Fn::") || k == "Condition" => {
                        Err(format!("{k} is not resolved by the preview"))
                    }
                    _ => self.object(m),
                }
            }
            Json::Object(m) => self.object(m),
            scalar => Ok(scalar.clone()),
        }
    }

    fn object(&self, m: &Map<String, Json>) -> Result<Json, String> {
        let mut out = Map::new();
        for (k, v) in m {
            out.insert(k.clone(), self.resolve(v)?);
        }
        Ok(Json::Object(out))
    }

    fn name(&self, name: &str) -> Result<String, String> {
        let partition = if self.ctx.partition.is_empty() {
            "aws"
        } else {
            &self.ctx.partition
        };
        match name {
            "AWS::Region" => Ok(self.ctx.region.clone()),
            "AWS::AccountId" => self
                .ctx
                .account
                .clone()
                .ok_or_else(|| "AWS::AccountId is not known".to_owned()),
            "AWS::StackName" => Ok(self.ctx.stack_name.clone()),
            "AWS::Partition" => Ok(partition.to_owned()),
            "AWS::URLSuffix" => Ok(if partition == "aws-cn" {
                "amazonaws.com.cn".into()
            } else {
                "amazonaws.com".into()
            }),
            other => {
                if let Some(p) = self.parameters.and_then(|p| p.get(other)) {
                    return match p.get("Default") {
                        Some(Json::String(s)) => Ok(s.clone()),
                        Some(d) if !d.is_null() => Ok(d.to_string()),
                        _ => Err(format!("parameter {other} has no default")),
                    };
                }
                self.physical
                    .get(other)
                    .map(|s| (*s).to_owned())
                    .ok_or_else(|| format!("Ref {other}: not in the import plan"))
            }
        }
    }

    fn reference(&self, arg: &Json) -> Result<Json, String> {
        let name = arg.as_str().ok_or("Ref takes a name")?;
        self.name(name).map(Json::String)
    }

    fn attribute(&self, logical_id: &str, attribute: &str) -> Result<String, String> {
        self.attributes
            .get(logical_id)
            .and_then(|a| a.get(attribute))
            .cloned()
            .ok_or_else(|| format!("GetAtt {logical_id}.{attribute}: not in the import plan"))
    }

    fn get_att(&self, arg: &Json) -> Result<Json, String> {
        let (id, attr) = match arg {
            Json::Array(a) if a.len() == 2 => (
                a[0].as_str().ok_or("GetAtt takes names")?.to_owned(),
                self.resolve(&a[1])?
                    .as_str()
                    .ok_or("GetAtt takes names")?
                    .to_owned(),
            ),
            Json::String(s) => match s.split_once('.') {
                Some((i, a)) => (i.to_owned(), a.to_owned()),
                None => return Err(format!("GetAtt {s}: no attribute")),
            },
            _ => return Err("GetAtt takes [id, attribute]".into()),
        };
        self.attribute(&id, &attr).map(Json::String)
    }

    fn sub(&self, arg: &Json) -> Result<Json, String> {
        let (text, vars) = match arg {
            Json::String(s) => (s.as_str(), None),
            Json::Array(a) if a.len() == 2 => (
                a[0].as_str().ok_or("Fn::Sub takes a string")?,
                a[1].as_object(),
            ),
            _ => return Err("Fn::Sub takes a string or [string, variables]".into()),
        };
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            if let Some(stripped) = after.strip_prefix('!') {
                // `${!Literal}` is the literal `${Literal}`.
                out.push_str("${");
                rest = stripped;
                continue;
            }
            let end = after.find('}').ok_or("Fn::Sub: unclosed ${")?;
            let var = &after[..end];
            let value = match vars.and_then(|v| v.get(var)) {
                Some(v) => match self.resolve(v)? {
                    Json::String(s) => s,
                    other => other.to_string(),
                },
                None => match var.split_once('.') {
                    Some((id, attr)) => self.attribute(id, attr)?,
                    None => self.name(var)?,
                },
            };
            out.push_str(&value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(Json::String(out))
    }

    fn join(&self, arg: &Json) -> Result<Json, String> {
        let a = arg
            .as_array()
            .filter(|a| a.len() == 2)
            .ok_or("Fn::Join takes [sep, list]")?;
        let sep = a[0].as_str().ok_or("Fn::Join separator")?;
        let items = self.resolve(&a[1])?;
        let items = items.as_array().ok_or("Fn::Join list")?;
        let parts: Vec<String> = items
            .iter()
            .map(|i| match i {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        Ok(Json::String(parts.join(sep)))
    }

    fn select(&self, arg: &Json) -> Result<Json, String> {
        let a = arg
            .as_array()
            .filter(|a| a.len() == 2)
            .ok_or("Fn::Select takes [index, list]")?;
        let index = match self.resolve(&a[0])? {
            Json::Number(n) => n.as_u64().ok_or("Fn::Select index")? as usize,
            Json::String(s) => s.parse().map_err(|_| "Fn::Select index")?,
            _ => return Err("Fn::Select index".into()),
        };
        let list = self.resolve(&a[1])?;
        list.as_array()
            .and_then(|l| l.get(index).cloned())
            .ok_or_else(|| format!("Fn::Select: no item {index}"))
    }

    fn get_azs(&self) -> Result<Json, String> {
        if self.ctx.azs.is_empty() {
            return Err("Fn::GetAZs: the region's zones are not known".into());
        }
        Ok(Json::Array(
            self.ctx.azs.iter().cloned().map(Json::String).collect(),
        ))
    }
}

/// Whether two scalars are the same value as CloudFormation sees it (`"20"` and `20`, `"true"`
/// and `true`).
fn same_scalar(a: &Json, b: &Json) -> bool {
    let text = |v: &Json| match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    a == b || matches!((text(a), text(b)), (Some(x), Some(y)) if x == y)
}

/// Whether two resolved values are equal (lists of scalars in any order).
pub fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        (Json::Array(x), Json::Array(y)) => {
            if x.len() != y.len() {
                return false;
            }
            if x.iter().chain(y).all(|v| !v.is_object() && !v.is_array()) {
                let mut left: Vec<&Json> = x.iter().collect();
                y.iter()
                    .all(|w| match left.iter().position(|v| same_scalar(v, w)) {
                        Some(i) => {
                            left.remove(i);
                            true
                        }
                        None => false,
                    })
            } else {
                x.iter().zip(y).all(|(v, w)| same(v, w))
            }
        }
        (x, y) => same_scalar(x, y),
    }
}

struct Walk<'p> {
    logical_id: &'p str,
    resource_type: &'p str,
    out: &'p mut Preview,
}

impl Walk<'_> {
    fn differ(&mut self, path: &str, template: Json, live: Json) {
        self.out.differences.push(Difference {
            logical_id: self.logical_id.to_owned(),
            resource_type: self.resource_type.to_owned(),
            path: path.to_owned(),
            template,
            live,
            blocking: blocking(self.resource_type, path),
        });
    }

    fn not_checked(&mut self, path: &str, why: impl Into<String>) {
        self.out.not_checked.push(NotChecked {
            logical_id: self.logical_id.to_owned(),
            path: path.to_owned(),
            why: why.into(),
        });
    }

    /// Compares one level: every template key against live, and live keys the template lacks.
    fn compare_maps(
        &mut self,
        prefix: &str,
        resolver: &Resolver<'_>,
        template: &Map<String, Json>,
        live: &Map<String, Json>,
    ) {
        let join = |k: &str| {
            if prefix.is_empty() {
                k.to_owned()
            } else {
                format!("{prefix}/{k}")
            }
        };
        for (k, t) in template {
            let path = join(k);
            if prefix.is_empty() && k == "Tags" {
                self.tags(resolver, t, live.get(k));
                continue;
            }
            let Some(l) = live.get(k) else {
                self.not_checked(&path, "not read by discovery");
                continue;
            };
            let resolved = match resolver.resolve(t) {
                Ok(v) => v,
                Err(why) => {
                    self.not_checked(&path, why);
                    continue;
                }
            };
            match (&resolved, l) {
                (Json::Object(tm), Json::Object(lm)) if !is_intrinsic(t) => {
                    self.compare_maps(&path, resolver, tm, lm);
                }
                _ => {
                    if !same(&resolved, l) {
                        self.differ(&path, resolved, l.clone());
                    }
                }
            }
        }
        for (k, l) in live {
            if !template.contains_key(k) && !is_empty(l) {
                // The template leaves it unset: the update resets it to the type's default.
                self.differ(&join(k), Json::Null, l.clone());
            }
        }
    }

    fn tags(&mut self, resolver: &Resolver<'_>, template: &Json, live: Option<&Json>) {
        let pairs = |v: &Json| -> BTreeMap<String, Json> {
            match v {
                Json::Array(a) => a
                    .iter()
                    .filter_map(|t| {
                        Some((t.get("Key")?.as_str()?.to_owned(), t.get("Value")?.clone()))
                    })
                    .collect(),
                Json::Object(m) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                _ => BTreeMap::new(),
            }
        };
        let Ok(resolved) = resolver.resolve(template) else {
            self.not_checked("Tags", "a tag value is not resolved");
            return;
        };
        let want = pairs(&resolved);
        let have = live.map(pairs).unwrap_or_default();
        let keys: Vec<String> = want
            .iter()
            .filter(|(k, v)| !have.get(*k).is_some_and(|h| same(v, h)))
            .map(|(k, _)| k.clone())
            .collect();
        if !keys.is_empty() {
            self.out.tags_added.push(TagsAdded {
                logical_id: self.logical_id.to_owned(),
                keys,
            });
        }
    }
}

/// Null, `""`, `[]` or `{}`: what a template that leaves the property unset also means.
fn is_empty(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::String(s) => s.is_empty(),
        Json::Array(a) => a.is_empty(),
        Json::Object(m) => m.is_empty(),
        _ => false,
    }
}

fn is_intrinsic(v: &Json) -> bool {
    v.as_object().is_some_and(|m| {
        m.len() == 1
            && m.keys()
                .next()
                .is_some_and(|k| k == "Ref" || k.starts_with("Fn::"))
    })
}

/// Compares each adoption's template properties with what discovery read.
pub fn preview(plan: &ImportPlan, template: &Json, ctx: &PreviewContext) -> Preview {
    let resolver = Resolver::new(plan, template, ctx);
    let mut out = Preview::default();
    let empty = Map::new();
    for a in &plan.resources {
        let Some(resource) = template.get("Resources").and_then(|r| r.get(&a.logical_id)) else {
            out.not_checked.push(NotChecked {
                logical_id: a.logical_id.clone(),
                path: String::new(),
                why: "not in the template".into(),
            });
            continue;
        };
        let props = resource
            .get("Properties")
            .and_then(Json::as_object)
            .unwrap_or(&empty);
        let mut walk = Walk {
            logical_id: &a.logical_id,
            resource_type: &a.resource_type,
            out: &mut out,
        };
        walk.compare_maps("", &resolver, props, &a.live);
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::import::Adoption;

    fn adoption(id: &str, ty: &str, physical: &str, live: Json) -> Adoption {
        Adoption {
            logical_id: id.into(),
            resource_type: ty.into(),
            identifier: BTreeMap::new(),
            physical_id: physical.into(),
            attributes: BTreeMap::from([("GroupId".to_owned(), physical.to_owned())]),
            live: live.as_object().cloned().unwrap_or_default(),
        }
    }

    fn ctx() -> PreviewContext {
        PreviewContext {
            region: "us-west-2".into(),
            account: Some("123456789012".into()),
            stack_name: "snowex-dev".into(),
            partition: String::new(),
            azs: vec!["us-west-2a".into(), "us-west-2b".into()],
        }
    }

    #[test]
    fn resolves_refs_attributes_parameters_and_functions() {
        let plan = ImportPlan {
            resources: vec![adoption("Sg", "AWS::EC2::SecurityGroup", "sg-1", json!({}))],
            ..ImportPlan::default()
        };
        let template = json!({"Parameters": {"Img": {"Type": "String", "Default": "ami-1"}}});
        let c = ctx();
        let r = Resolver::new(&plan, &template, &c);
        let cases = [
            (json!({"Ref": "Sg"}), json!("sg-1")),
            (json!({"Fn::GetAtt": ["Sg", "GroupId"]}), json!("sg-1")),
            (json!({"Ref": "Img"}), json!("ami-1")),
            (json!({"Ref": "AWS::Region"}), json!("us-west-2")),
            (
                json!({"Fn::Select": [1, {"Fn::GetAZs": ""}]}),
                json!("us-west-2b"),
            ),
            (
                json!({"Fn::Sub": "/aws/lambda/${AWS::StackName}-api"}),
                json!("/aws/lambda/snowex-dev-api"),
            ),
            (
                json!({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:x/${Sg.GroupId}"}),
                json!("arn:aws:iam::123456789012:x/sg-1"),
            ),
            (
                json!({"Fn::Sub": ["${A}-${!B}", {"A": {"Ref": "Sg"}}]}),
                json!("sg-1-${B}"),
            ),
            (
                json!({"Fn::Join": [",", ["a", {"Ref": "Sg"}]]}),
                json!("a,sg-1"),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(r.resolve(&input), Ok(want), "{input}");
        }
        for bad in [
            json!({"Ref": "Missing"}),
            json!({"Fn::GetAtt": ["Sg", "Arn"]}),
            json!({"Ref": "AWS::NoValue"}),
            json!({"Fn::If": ["C", 1, 2]}),
        ] {
            assert!(r.resolve(&bad).is_err(), "{bad}");
        }
        let unknown = PreviewContext {
            azs: Vec::new(),
            account: None,
            ..ctx()
        };
        let r = Resolver::new(&plan, &template, &unknown);
        assert!(r.resolve(&json!({"Fn::GetAZs": ""})).is_err());
        assert!(r.resolve(&json!({"Ref": "AWS::AccountId"})).is_err());
    }

    #[test]
    fn differences_not_checked_and_blocking() {
        let plan = ImportPlan {
            resources: vec![
                adoption(
                    "Vpc",
                    "AWS::EC2::VPC",
                    "vpc-1",
                    json!({"CidrBlock": "10.0.0.0/16"}),
                ),
                adoption(
                    "Db",
                    "AWS::RDS::DBInstance",
                    "snowexdb",
                    json!({
                        "AllocatedStorage": 20,
                        "StorageType": "gp2",
                        "DBInstanceClass": "db.t4g.small",
                        "VPCSecurityGroups": ["sg-2", "sg-1"],
                        "Tags": []
                    }),
                ),
                adoption("Sg1", "AWS::EC2::SecurityGroup", "sg-1", json!({})),
                adoption("Sg2", "AWS::EC2::SecurityGroup", "sg-2", json!({})),
            ],
            ..ImportPlan::default()
        };
        let template = json!({"Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16", "EnableDnsSupport": true}},
            "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {
                "AllocatedStorage": "20",
                "DBInstanceClass": "db.t4g.micro",
                "VPCSecurityGroups": [{"Fn::GetAtt": ["Sg1", "GroupId"]}, {"Fn::GetAtt": ["Sg2", "GroupId"]}],
                "DBParameterGroupName": {"Ref": "Pg"},
                "Tags": [{"Key": "Stage", "Value": "dev"}]
            }},
            "Sg1": {"Type": "AWS::EC2::SecurityGroup"},
            "Sg2": {"Type": "AWS::EC2::SecurityGroup"}
        }});
        let p = preview(&plan, &template, &ctx());
        let got: Vec<(String, bool)> = p
            .differences
            .iter()
            .map(|d| (d.key(), d.blocking))
            .collect();
        // "20" = 20 and the groups in another order are the same; the class differs (updatable),
        // the storage type is live-only (the template would reset it: never acceptable).
        assert_eq!(
            got,
            vec![
                ("Db.DBInstanceClass".to_owned(), false),
                ("Db.StorageType".to_owned(), true),
            ]
        );
        let nc: Vec<(&str, &str)> = p
            .not_checked
            .iter()
            .map(|n| (n.logical_id.as_str(), n.path.as_str()))
            .collect();
        assert_eq!(
            nc,
            vec![("Vpc", "EnableDnsSupport"), ("Db", "DBParameterGroupName")]
        );
        assert_eq!(p.tags_added.len(), 1);
        assert_eq!(p.tags_added[0].keys, vec!["Stage".to_owned()]);
        // Accepting the class leaves the storage type: blocking is never accepted.
        let left = p.unaccepted(&["Db.DBInstanceClass".into(), "StorageType".into()]);
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].path, "StorageType");
        assert_eq!(p.unaccepted(&["DBInstanceClass".into()]).len(), 1);
        let text = p.render();
        assert!(
            text.contains("Db DBInstanceClass: template \"db.t4g.micro\" live \"db.t4g.small\""),
            "{text}"
        );
        // A create-only difference blocks.
        let plan = ImportPlan {
            resources: vec![adoption(
                "Vpc",
                "AWS::EC2::VPC",
                "vpc-1",
                json!({"CidrBlock": "10.9.0.0/16"}),
            )],
            ..ImportPlan::default()
        };
        let p = preview(&plan, &template, &ctx());
        assert_eq!(p.differences.len(), 1);
        assert!(p.differences[0].blocking);
    }

    #[test]
    fn nested_maps_compare_key_by_key() {
        let plan = ImportPlan {
            resources: vec![adoption(
                "Fn",
                "AWS::Lambda::Function",
                "api",
                json!({"Environment": {"Variables": {"A": "1", "EXTRA": "x"}}, "Layers": [], "Runtime": null}),
            )],
            ..ImportPlan::default()
        };
        let template = json!({"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "Environment": {"Variables": {"A": 1, "B": {"Ref": "AWS::Region"}}}
        }}}});
        let p = preview(&plan, &template, &ctx());
        let paths: Vec<&str> = p.differences.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, vec!["Environment/Variables/EXTRA"]);
        assert_eq!(p.not_checked[0].path, "Environment/Variables/B");
    }
}
