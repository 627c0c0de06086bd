//! What every resource type offers synth: its schema facts (`ResourceSpec`, generated from the
//! CloudFormation registry schema) and its properties (`Resource`, implemented by generated L1 types).

use std::fmt;
use std::marker::PhantomData;

use super::check::Checker;
use super::value::{Intrinsic, RefTarget, Value};

/// How a resource type carries tags, from the schema's `tagging` section and the tag property's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tagging {
    /// Not taggable through CloudFormation.
    None,
    /// `Tags: [{Key, Value}, ...]` in the named property.
    List(&'static str),
    /// `Tags: {key: value}` in the named property.
    Map(&'static str),
}

/// Facts about one resource type, generated from its registry schema. The diff and tagging
/// features read these at run time, by type name, through `l1::spec`.
#[derive(Debug)]
pub struct ResourceSpec {
    /// `AWS::Service::Type`.
    pub type_name: &'static str,
    /// Property paths (`/`-separated, without `/properties/`) whose change replaces the resource.
    pub create_only: &'static [&'static str],
    /// Property paths whose change may replace the resource (`conditionalCreateOnlyProperties`).
    pub conditional_create_only: &'static [&'static str],
    /// Attributes `Fn::GetAtt` may ask for (`.`-separated for nested ones).
    pub attributes: &'static [&'static str],
    /// Properties that are never returned by reads (passwords and the like).
    pub write_only: &'static [&'static str],
    /// Required properties (also enforced by the generated constructors).
    pub required: &'static [&'static str],
    pub tagging: Tagging,
}

impl ResourceSpec {
    /// Whether a change to the property at `path` (`/`-separated) replaces the resource:
    /// `Some(true)` always, `Some(false)` conditionally, `None` not.
    pub fn replacement_for(&self, path: &str) -> Option<bool> {
        let hit = |p: &&str| path == *p || path.starts_with(&format!("{p}/"));
        if self.create_only.iter().any(hit) {
            Some(true)
        } else if self.conditional_create_only.iter().any(hit) {
            Some(false)
        } else {
            None
        }
    }

    pub fn has_attribute(&self, name: &str) -> bool {
        self.attributes.contains(&name)
    }
}

/// A resource type's typed properties. Generated for every L1 type.
pub trait Resource {
    /// The schema facts of this type.
    const SPEC: &'static ResourceSpec;

    /// The `Properties` object, in schema order, absent properties left out.
    fn properties(&self) -> Value;

    /// Checks literal values against the schema (enums, patterns, lengths, ranges).
    fn validate(&self, c: &mut Checker);
}

/// A typed reference to a resource in a stack. Only `Handle<ec2::SecurityGroup>` fits where a
/// security group is expected; generated `attr_*` methods exist only for the type's real attributes.
pub struct Handle<T> {
    logical_id: String,
    path: String,
    _type: PhantomData<fn() -> T>,
}

impl<T> Handle<T> {
    /// Made by `Scope::add`; not public so a handle always names a resource that exists.
    pub(crate) fn new(logical_id: String, path: String) -> Self {
        Self {
            logical_id,
            path,
            _type: PhantomData,
        }
    }

    /// The logical id in the template.
    pub fn logical_id(&self) -> &str {
        &self.logical_id
    }

    /// The construct path, e.g. `SnowEx/Network/PublicSubnet1/Subnet`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// `{"Ref": "<logical id>"}`.
    pub fn ref_(&self) -> Value {
        Intrinsic::Ref(RefTarget::Resource(self.logical_id.clone())).into()
    }

    /// `Fn::GetAtt`; used by the generated `attr_*` methods, which pin the attribute name.
    pub fn get_att(&self, attribute: &str) -> Value {
        Intrinsic::GetAtt {
            logical_id: self.logical_id.clone(),
            attribute: attribute.to_owned(),
        }
        .into()
    }
}

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        Self::new(self.logical_id.clone(), self.path.clone())
    }
}

impl<T> fmt::Debug for Handle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle({} at {})", self.logical_id, self.path)
    }
}

impl<T> From<&Handle<T>> for Value {
    fn from(h: &Handle<T>) -> Self {
        h.ref_()
    }
}
