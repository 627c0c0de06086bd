//! The CloudFormation template model: values and intrinsics, typed properties, resources,
//! parameters and outputs, and the rendered document.

pub mod check;
pub mod document;
pub mod prop;
pub mod resource;
pub mod value;
pub mod yaml;

pub use check::{Checker, PropertyIssue, Validate};
pub use document::{
    DeletionPolicy, OnRepeat, Output, ParamType, Parameter, ResourceEntry, Template, TemplateFormat,
};
pub use prop::{Prop, SchemaEnum, ToValue};
pub use resource::{Handle, NoAttrs, Resource, ResourceAttrs, ResourceSpec, Tagging, get_att};
pub use value::{Intrinsic, Pseudo, RefTarget, Reference, Value};
