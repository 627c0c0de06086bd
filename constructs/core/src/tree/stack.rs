//! A stack: the unit CloudFormation deploys. Holds the resources its constructs added, in
//! construct-tree order, plus parameters, conditions, mappings, outputs and tags.

use std::collections::BTreeMap;

use crate::error::SynthError;
use crate::template::{
    Checker, Output, Parameter, Resource, ResourceEntry, ResourceSpec, Template, Value,
};

use super::scope::Scope;

/// The template `Metadata` key that maps each pinned parameter (see
/// [`Stack::add_pinned_parameter`]) to its source: `{"Name": {"SsmParameter": "/aws/..."}}`.
pub const PINNED_PARAMETERS: &str = "snowcdk:pinned-parameters";

/// The key, inside a [`PINNED_PARAMETERS`] entry, that names the SSM parameter.
pub const PINNED_SOURCE_KEY: &str = "SsmParameter";

/// A resource added to a stack, with its schema facts and the issues found when it was added.
#[derive(Debug, Clone)]
pub struct StackResource {
    /// The template entry.
    pub entry: ResourceEntry,
    /// The type's schema facts.
    pub spec: &'static ResourceSpec,
}

/// A CloudFormation stack under construction.
#[derive(Debug, Clone)]
pub struct Stack {
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) resources: Vec<StackResource>,
    pub(crate) ids: BTreeMap<String, String>,
    pub(crate) overrides: BTreeMap<String, String>,
    pub(crate) parameters: Vec<(String, Parameter)>,
    pub(crate) mappings: Vec<(String, Value)>,
    pub(crate) conditions: Vec<(String, Value)>,
    pub(crate) outputs: Vec<(String, Output)>,
    pub(crate) metadata: Vec<(String, Value)>,
    /// `(path prefix, key, value)`; a prefix of `""` is the whole stack.
    pub(crate) tags: Vec<(String, String, String)>,
    pub(crate) errors: Vec<SynthError>,
}

impl Stack {
    /// A new, empty stack. `name` is the CloudFormation stack name and the root of construct paths.
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        let mut errors = Vec::new();
        if !is_valid_stack_name(&name) {
            errors.push(SynthError::InvalidId {
                path: name.clone(),
                message: "a stack name starts with a letter and holds only letters, digits and hyphens (at most 128)".into(),
            });
        }
        Self {
            name,
            description: None,
            resources: Vec::new(),
            ids: BTreeMap::new(),
            overrides: BTreeMap::new(),
            parameters: Vec::new(),
            mappings: Vec::new(),
            conditions: Vec::new(),
            outputs: Vec::new(),
            metadata: Vec::new(),
            tags: Vec::new(),
            errors,
        }
    }

    /// The stack name, also the root of construct paths.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sets the template's `Description`.
    pub fn set_description(&mut self, d: impl Into<String>) {
        self.description = Some(d.into());
    }

    /// The root scope: constructs are added under it.
    pub fn root(&mut self) -> Scope<'_> {
        let path = self.name.clone();
        Scope::new(self, path)
    }

    /// Pins the logical id of the resource at `path` (a full construct path such as
    /// `SnowEx/Database/Resource`), e.g. to adopt a resource deployed under another id.
    /// Must be called before the construct is added.
    pub fn override_logical_id(&mut self, path: impl Into<String>, logical_id: impl Into<String>) {
        self.overrides.insert(path.into(), logical_id.into());
    }

    /// Adds a tag to every taggable resource in the stack.
    pub fn add_tag(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.tags.push((String::new(), key.into(), value.into()));
    }

    /// Adds a parameter and returns a `Ref` to it.
    pub fn add_parameter(&mut self, name: impl Into<String>, p: Parameter) -> Value {
        let name = name.into();
        self.check_section_name("parameter", &name);
        self.parameters.push((name.clone(), p));
        Value::param_ref(name)
    }

    /// Adds a parameter whose value `deploy` looks up from the SSM parameter `ssm_name` on the
    /// first deploy and then keeps (a *pinned* parameter), and returns a `Ref` to it. The source
    /// is recorded under [`PINNED_PARAMETERS`] in the template's `Metadata`.
    ///
    /// Why: a parameter of type `AWS::SSM::Parameter::Value<...>` is resolved again by
    /// CloudFormation on every update, so a create-only property fed from it (an instance's
    /// `ImageId`) replaces its resource whenever the SSM value moves (every Amazon Linux
    /// release). Pinned, it changes only when its source changes or `deploy --refresh-pinned`
    /// asks, as the AWS CDK's `cachedInContext` AMI lookups do.
    pub fn add_pinned_parameter(
        &mut self,
        name: impl Into<String>,
        p: Parameter,
        ssm_name: impl Into<String>,
    ) -> Value {
        let name = name.into();
        let r = self.add_parameter(name.clone(), p);
        let entry = (
            name,
            Value::Map(vec![(
                PINNED_SOURCE_KEY.to_owned(),
                Value::String(ssm_name.into()),
            )]),
        );
        match self
            .metadata
            .iter_mut()
            .find(|(k, _)| k == PINNED_PARAMETERS)
        {
            Some((_, Value::Map(entries))) => entries.push(entry),
            _ => self
                .metadata
                .push((PINNED_PARAMETERS.to_owned(), Value::Map(vec![entry]))),
        }
        r
    }

    /// Adds a condition (an `Fn::Equals`/`And`/`Or`/`Not` expression).
    pub fn add_condition(&mut self, name: impl Into<String>, expr: Value) {
        let name = name.into();
        self.check_section_name("condition", &name);
        self.conditions.push((name, expr));
    }

    /// Adds a mapping (`{top: {second: value}}`).
    pub fn add_mapping(&mut self, name: impl Into<String>, map: Value) {
        let name = name.into();
        self.check_section_name("mapping", &name);
        self.mappings.push((name, map));
    }

    /// Adds an output.
    pub fn add_output(&mut self, name: impl Into<String>, o: Output) {
        let name = name.into();
        self.check_section_name("output", &name);
        self.outputs.push((name, o));
    }

    /// Records a problem found while building the stack; synth reports it with the others.
    /// Constructs and suppressions in other crates use it to reject an argument without
    /// panicking.
    pub fn add_error(&mut self, e: SynthError) {
        self.errors.push(e);
    }

    /// Adds template-level metadata.
    pub fn add_metadata(&mut self, key: impl Into<String>, v: Value) {
        self.metadata.push((key.into(), v));
    }

    /// The stack as a template, tags not yet applied (synth applies them; the rules read none).
    pub fn untagged_template(&self) -> Template {
        Template {
            description: self.description.clone(),
            metadata: self.metadata.clone(),
            parameters: self.parameters.clone(),
            mappings: self.mappings.clone(),
            conditions: self.conditions.clone(),
            resources: self.resources.iter().map(|r| r.entry.clone()).collect(),
            outputs: self.outputs.clone(),
        }
    }

    /// The resources added so far, in order.
    pub fn resources(&self) -> impl Iterator<Item = &StackResource> {
        self.resources.iter()
    }

    fn check_section_name(&mut self, kind: &str, name: &str) {
        let taken = match kind {
            "parameter" => self.parameters.iter().any(|(n, _)| n == name),
            "condition" => self.conditions.iter().any(|(n, _)| n == name),
            "mapping" => self.mappings.iter().any(|(n, _)| n == name),
            _ => self.outputs.iter().any(|(n, _)| n == name),
        };
        if taken || !super::logical_id::is_valid_logical_id(name) {
            self.errors.push(SynthError::InvalidId {
                path: format!("{}/{kind}:{name}", self.name),
                message: format!(
                    "{kind} names must be unique and alphanumeric; {name:?} is {}",
                    if taken {
                        "used twice"
                    } else {
                        "not alphanumeric"
                    }
                ),
            });
        }
    }

    /// Adds a resource at `path`; called by `Scope::add`.
    pub(crate) fn add_resource<R: Resource>(
        &mut self,
        path: String,
        components: &[&str],
        r: &R,
    ) -> String {
        let id = match self.overrides.get(&path) {
            Some(id) => id.clone(),
            None => match super::logical_id::logical_id_for(components) {
                Some(id) => id,
                None => {
                    self.errors.push(SynthError::InvalidId {
                        path: path.clone(),
                        message: "no logical id can be made from this path; give the construct an alphanumeric id".into(),
                    });
                    format!("Invalid{}", self.resources.len())
                }
            },
        };
        if !super::logical_id::is_valid_logical_id(&id) {
            self.errors.push(SynthError::InvalidId {
                path: path.clone(),
                message: format!("logical id {id:?} must be 1-255 ASCII letters and digits"),
            });
        }
        if let Some(other) = self.ids.get(&id) {
            self.errors.push(SynthError::DuplicateLogicalId {
                id: id.clone(),
                path: path.clone(),
                other: other.clone(),
            });
        } else {
            self.ids.insert(id.clone(), path.clone());
        }
        let mut checker = Checker::new();
        r.validate(&mut checker);
        for issue in checker.issues {
            self.errors.push(SynthError::InvalidProperty {
                path: path.clone(),
                type_name: R::SPEC.type_name.to_owned(),
                property: issue.property,
                message: issue.message,
            });
        }
        self.resources.push(StackResource {
            entry: ResourceEntry {
                path,
                logical_id: id.clone(),
                type_name: R::SPEC.type_name,
                properties: r.properties(),
                depends_on: Vec::new(),
                condition: None,
                deletion_policy: None,
                update_replace_policy: None,
                metadata: Vec::new(),
            },
            spec: R::SPEC,
        });
        id
    }
}

/// CloudFormation's stack name rule.
pub fn is_valid_stack_name(name: &str) -> bool {
    name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}
