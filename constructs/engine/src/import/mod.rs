//! Adopting resources that already run: the plan an app's discovery produces (which live
//! resource each logical id of the stack takes over, and what discovery read from it), and what
//! the engine does with it.
//!
//! Discovery is the app's part: only the app knows which construct owns a VPC, a database or a
//! function (SnowEx: `snowcdk import --from-db ...`). Everything after the plan is generic: the
//! preview of what an import would change on the live resources, the IMPORT change set and the
//! update that follows, as `cdk import` does, but declarative and resumable.

pub mod execute;
pub mod template;

pub use execute::{
    ImportError, ImportOptions, ImportOutcome, ImportRequest, execute, import_stack,
};
pub mod preview;

use std::collections::BTreeMap;

use serde::Serialize;

/// What `import` brings into one stage's stack.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportPlan {
    /// The stage (its stack name and region come from the stage config).
    pub stage: String,
    /// The live resources the stack takes over, one per logical id.
    pub resources: Vec<Adoption>,
    /// Live resources discovery found but that the stack will not import, and why.
    pub not_imported: Vec<NotImported>,
}

/// One live resource and the logical id that will own it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Adoption {
    /// The logical id in the synthesized template (`Database`, `NetworkVpc`, ...).
    pub logical_id: String,
    /// The CloudFormation type (`AWS::RDS::DBInstance`).
    pub resource_type: String,
    /// The identifier CloudFormation's `ResourcesToImport` needs: the type's identifier
    /// properties and their live values (`{"DBInstanceIdentifier": "snowexdb"}`).
    pub identifier: BTreeMap<String, String>,
    /// The physical id a `Ref` to this logical id resolves to (the security group's id, the
    /// secret's ARN, the role's name), for resolving references in the preview.
    pub physical_id: String,
    /// Live attributes a `Fn::GetAtt` to this logical id resolves to (`Arn`, `Endpoint.Address`).
    pub attributes: BTreeMap<String, String>,
    /// The live values of the properties discovery read, in the template's property shape
    /// (names and JSON types as in CloudFormation), for the preview.
    pub live: serde_json::Map<String, serde_json::Value>,
}

/// A live resource (or a template resource) that is not imported, and what happens to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotImported {
    /// The logical id in the template, when there is one.
    pub logical_id: Option<String>,
    /// The CloudFormation type.
    pub resource_type: String,
    /// The live resource's id, when there is one.
    pub physical_id: Option<String>,
    /// What happens to it: "created by the update after the import", "left unmanaged: ...".
    pub note: String,
}
