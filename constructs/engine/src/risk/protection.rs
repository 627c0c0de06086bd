//! Resources that refuse to be deleted: a database with `DeletionProtection`, a table with
//! `DeletionProtectionEnabled`. CloudFormation's `DeleteStack` does not check them first: it
//! deletes everything else, then fails on the protected resource and leaves the stack
//! `DELETE_FAILED`, half deleted (the API gone, the database still there). `destroy` reads this
//! list to refuse before anything is deleted: what the deployed template says here, what the
//! live resource says through [`Protection::of_value`] on its actual properties.

use serde_json::Value as Json;

/// A type whose deletion a property can forbid, and the value that forbids it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtectedType {
    /// The resource type.
    pub type_name: &'static str,
    /// The property that forbids deletion.
    pub property: &'static str,
    /// The value that turns the protection on (compared case-insensitively as text: templates
    /// write `true` and `"true"` alike).
    pub on: &'static str,
}

const fn p(type_name: &'static str, property: &'static str, on: &'static str) -> ProtectedType {
    ProtectedType {
        type_name,
        property,
        on,
    }
}

/// Every type with a deletion-protection property, sorted by type name.
pub const PROTECTABLE_TYPES: &[ProtectedType] = &[
    p("AWS::Cognito::UserPool", "DeletionProtection", "ACTIVE"),
    p("AWS::DocDB::DBCluster", "DeletionProtection", "true"),
    p("AWS::DynamoDB::Table", "DeletionProtectionEnabled", "true"),
    p("AWS::Logs::LogGroup", "DeletionProtectionEnabled", "true"),
    p("AWS::Neptune::DBCluster", "DeletionProtection", "true"),
    p("AWS::RDS::DBCluster", "DeletionProtection", "true"),
    p("AWS::RDS::DBInstance", "DeletionProtection", "true"),
];

/// The protection property of a type, if it has one.
pub fn protectable(type_name: &str) -> Option<&'static ProtectedType> {
    PROTECTABLE_TYPES
        .binary_search_by(|t| t.type_name.cmp(type_name))
        .ok()
        .map(|i| &PROTECTABLE_TYPES[i])
}

/// What a template (or the live resource) says about one resource's deletion protection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protection {
    /// On: deleting the resource fails.
    On,
    /// Off, or not set (every type here defaults to off).
    Off,
    /// Set through an expression (a parameter, a condition) the template alone cannot decide;
    /// the text is the expression, for messages.
    Unknown(String),
}

impl Protection {
    /// Reads a property value: a literal is on or off, anything else (a `Ref`, an `Fn::If`)
    /// is unknown.
    pub fn of_value(t: &ProtectedType, value: Option<&Json>) -> Protection {
        match value {
            None | Some(Json::Null) => Protection::Off,
            Some(Json::Bool(b)) => {
                if *b {
                    Protection::On
                } else {
                    Protection::Off
                }
            }
            Some(Json::String(s)) => {
                if s.eq_ignore_ascii_case(t.on) {
                    Protection::On
                } else {
                    Protection::Off
                }
            }
            Some(other) => Protection::Unknown(other.to_string()),
        }
    }
}

/// One resource of a template whose type can refuse deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protected {
    /// The resource in the template.
    pub logical_id: String,
    /// Its type.
    pub type_name: String,
    /// The property that holds the protection (`DeletionProtection`, ...).
    pub property: &'static str,
    /// What the template says.
    pub protection: Protection,
}

/// Every resource of a template document whose type can refuse deletion, with what the
/// template says, in logical-id order (pure).
pub fn protectable_resources(doc: &Json) -> Vec<Protected> {
    let Some(resources) = doc.get("Resources").and_then(Json::as_object) else {
        return Vec::new();
    };
    let mut out: Vec<Protected> = resources
        .iter()
        .filter_map(|(id, r)| {
            let type_name = r.get("Type").and_then(Json::as_str)?;
            let t = protectable(type_name)?;
            let value = r.get("Properties").and_then(|p| p.get(t.property));
            Some(Protected {
                logical_id: id.clone(),
                type_name: type_name.to_owned(),
                property: t.property,
                protection: Protection::of_value(t, value),
            })
        })
        .collect();
    out.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
    out
}

/// The resources whose deletion protection the template turns on or leaves to an expression.
pub fn deletion_protected(doc: &Json) -> Vec<Protected> {
    protectable_resources(doc)
        .into_iter()
        .filter(|p| p.protection != Protection::Off)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_so_lookups_find_every_entry() {
        for w in PROTECTABLE_TYPES.windows(2) {
            assert!(w[0].type_name < w[1].type_name, "{w:?}");
        }
        for t in PROTECTABLE_TYPES {
            assert_eq!(protectable(t.type_name), Some(t));
        }
    }

    #[test]
    fn literal_on_values_are_on_off_values_are_absent_expressions_are_unknown() {
        let doc = serde_json::json!({"Resources": {
            "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"DeletionProtection": true}},
            "Cluster": {"Type": "AWS::RDS::DBCluster", "Properties": {"DeletionProtection": "True"}},
            "Off": {"Type": "AWS::RDS::DBInstance", "Properties": {"DeletionProtection": false}},
            "Unset": {"Type": "AWS::RDS::DBInstance", "Properties": {}},
            "Param": {"Type": "AWS::RDS::DBInstance",
                      "Properties": {"DeletionProtection": {"Ref": "Protect"}}},
            "Pool": {"Type": "AWS::Cognito::UserPool", "Properties": {"DeletionProtection": "ACTIVE"}},
            "Other": {"Type": "AWS::SSM::Parameter", "Properties": {"DeletionProtection": true}}
        }});
        let found = deletion_protected(&doc);
        let ids: Vec<(&str, &Protection)> = found
            .iter()
            .map(|p| (p.logical_id.as_str(), &p.protection))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("Cluster", &Protection::On),
                ("Db", &Protection::On),
                (
                    "Param",
                    &Protection::Unknown(r#"{"Ref":"Protect"}"#.to_owned())
                ),
                ("Pool", &Protection::On),
            ]
        );
        assert!(deletion_protected(&serde_json::json!({})).is_empty());
        let all: Vec<String> = protectable_resources(&doc)
            .into_iter()
            .map(|p| p.logical_id)
            .collect();
        assert_eq!(all, vec!["Cluster", "Db", "Off", "Param", "Pool", "Unset"]);
    }
}
