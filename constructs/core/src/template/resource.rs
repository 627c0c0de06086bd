//! What every resource type offers synth: its schema facts (`ResourceSpec`, generated from the
//! CloudFormation registry schema) and its properties (`Resource`, implemented by generated L1 types).

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

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
    /// How the type carries tags.
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

    /// Whether `Fn::GetAtt` may ask for `name`.
    pub fn has_attribute(&self, name: &str) -> bool {
        self.attributes.contains(&name)
    }
}

/// A resource type's typed properties. Generated for every L1 type.
pub trait Resource {
    /// The schema facts of this type.
    const SPEC: &'static ResourceSpec;

    /// The type's `Fn::GetAtt` methods (`attr_*`), which its [`Handle`] derefs to: generated
    /// next to the type ([`NoAttrs`] when it has none). They sit on their own type, not on
    /// `Handle<Self>`, because the generated crate may not add methods to a type defined here.
    type Attrs: ResourceAttrs;

    /// The `Properties` object, in schema order, absent properties left out.
    fn properties(&self) -> Value;

    /// Checks literal values against the schema (enums, patterns, lengths, ranges).
    fn validate(&self, c: &mut Checker);
}

/// The `Fn::GetAtt` methods of one resource type, made for the logical id a handle names.
pub trait ResourceAttrs {
    /// The attributes of the resource with this logical id.
    fn for_logical_id(logical_id: &str) -> Self;
}

/// The attributes of a type that has none.
#[derive(Debug, Clone, Copy)]
pub struct NoAttrs;

impl ResourceAttrs for NoAttrs {
    fn for_logical_id(_: &str) -> Self {
        NoAttrs
    }
}

/// A typed reference to a resource in a stack. Only `Handle<ec2::SecurityGroup>` fits where a
/// security group is expected; the generated `attr_*` methods, reached through `Deref`, exist
/// only for the type's real attributes.
pub struct Handle<T: Resource> {
    logical_id: String,
    path: String,
    attrs: T::Attrs,
    _type: PhantomData<fn() -> T>,
}

impl<T: Resource> Handle<T> {
    /// Made by `Scope::add`; not public so a handle always names a resource that exists.
    pub(crate) fn new(logical_id: String, path: String) -> Self {
        Self {
            attrs: T::Attrs::for_logical_id(&logical_id),
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

    /// `Fn::GetAtt`; the generated `attr_*` methods pin the attribute name.
    pub fn get_att(&self, attribute: &str) -> Value {
        get_att(&self.logical_id, attribute)
    }
}

/// `{"Fn::GetAtt": [logical_id, attribute]}`; what the generated `attr_*` methods return.
pub fn get_att(logical_id: &str, attribute: &str) -> Value {
    Intrinsic::GetAtt {
        logical_id: logical_id.to_owned(),
        attribute: attribute.to_owned(),
    }
    .into()
}

impl<T: Resource> Deref for Handle<T> {
    type Target = T::Attrs;

    fn deref(&self) -> &T::Attrs {
        &self.attrs
    }
}

impl<T: Resource> Clone for Handle<T> {
    fn clone(&self) -> Self {
        Self::new(self.logical_id.clone(), self.path.clone())
    }
}

impl<T: Resource> fmt::Debug for Handle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Handle({} at {})", self.logical_id, self.path)
    }
}

impl<T: Resource> From<&Handle<T>> for Value {
    fn from(h: &Handle<T>) -> Self {
        h.ref_()
    }
}
