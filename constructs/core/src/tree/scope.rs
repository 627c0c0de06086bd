//! `Scope`: a place in the construct tree. Constructs take a scope and an id, make a child scope
//! for themselves, and add resources and children under it.

use crate::template::{DeletionPolicy, Handle, Resource, ResourceEntry, Value};

use super::stack::Stack;

/// Where a node sits in its stack's construct tree, kept by a construct so it can add children
/// to that node later from a scope above it (a connection adds each rule under its own
/// security group). Only [`Scope::node`] makes one; [`Scope::at`] goes back to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Node {
    /// The construct ids from the stack root down, the stack's own id first.
    segments: Vec<String>,
}

impl Node {
    /// The construct path (`Stack/Construct/Child`), for messages.
    pub fn path(&self) -> String {
        self.segments.join("/")
    }
}

/// A node of the construct tree: a path inside a stack.
pub struct Scope<'s> {
    stack: &'s mut Stack,
    path: String,
}

impl<'s> Scope<'s> {
    pub(crate) fn new(stack: &'s mut Stack, path: String) -> Self {
        Self { stack, path }
    }

    /// This node's construct path (`Stack/Construct/Child`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// This node, to come back to with [`Scope::at`].
    pub fn node(&self) -> Node {
        Node {
            segments: self.path.split('/').map(str::to_owned).collect(),
        }
    }

    /// The scope of `node`, which must be this node or below it (the AWS CDK reaches a
    /// construct's own scope through `node.scope`; here a scope above lends itself). `None` when
    /// `node` is elsewhere in the tree.
    pub fn at(&mut self, node: &Node) -> Option<Scope<'_>> {
        let depth = self.path.split('/').count();
        let mine = self.path.split('/');
        if node.segments.len() < depth
            || !mine.eq(node.segments[..depth].iter().map(String::as_str))
        {
            return None;
        }
        let mut path = self.path.clone();
        for id in &node.segments[depth..] {
            path.push('/');
            path.push_str(id);
        }
        Some(Scope {
            stack: &mut *self.stack,
            path,
        })
    }

    /// A child node with the given id.
    pub fn child(&mut self, id: &str) -> Scope<'_> {
        let path = format!("{}/{id}", self.path);
        if id.is_empty() || id.contains('/') {
            self.stack.errors.push(crate::error::SynthError::InvalidId {
                path: path.clone(),
                message: "a construct id is non-empty and holds no '/'".into(),
            });
        }
        Scope {
            stack: &mut *self.stack,
            path,
        }
    }

    /// The stack this scope belongs to.
    pub fn stack(&mut self) -> &mut Stack {
        self.stack
    }

    /// Adds an L1 resource as child `id` and returns a typed handle to it.
    pub fn add<R: Resource>(&mut self, id: &str, resource: R) -> Handle<R> {
        let path = format!("{}/{id}", self.path);
        let components: Vec<&str> = path.split('/').skip(1).collect();
        let logical_id = self
            .stack
            .add_resource(path.clone(), &components, &resource);
        Handle::new(logical_id, path)
    }

    /// The resource added as child `id` of this node, if any (the AWS CDK's `tryFindChild`),
    /// so a construct can make an addition idempotent instead of adding a duplicate.
    pub fn find_child(&self, id: &str) -> Option<&ResourceEntry> {
        let path = format!("{}/{id}", self.path);
        self.stack
            .resources
            .iter()
            .map(|r| &r.entry)
            .find(|e| e.path == path)
    }

    /// The template entry behind a handle, to set DependsOn, policies, condition or metadata.
    pub fn entry<R: Resource>(&mut self, h: &Handle<R>) -> &mut ResourceEntry {
        // A handle is only made by `add` on this stack, so the entry exists; fall back to a
        // detached entry (never written) rather than panic if a handle from another stack is used.
        let id = h.logical_id().to_owned();
        let idx = self
            .stack
            .resources
            .iter()
            .position(|r| r.entry.logical_id == id);
        match idx {
            Some(i) => &mut self.stack.resources[i].entry,
            None => {
                self.stack.errors.push(crate::error::SynthError::Construct {
                    path: h.path().to_owned(),
                    message: format!("handle {id} does not belong to stack {}", self.stack.name),
                });
                self.stack.resources.push(super::stack::StackResource {
                    entry: ResourceEntry {
                        path: h.path().to_owned(),
                        logical_id: id,
                        type_name: "Invalid",
                        properties: Value::Null,
                        depends_on: Vec::new(),
                        condition: None,
                        deletion_policy: None,
                        update_replace_policy: None,
                        metadata: Vec::new(),
                    },
                    spec: &INVALID_SPEC,
                });
                let last = self.stack.resources.len() - 1;
                &mut self.stack.resources[last].entry
            }
        }
    }

    /// Makes `r` wait for `on` (`DependsOn`), for orderings that no reference expresses.
    pub fn depends_on<A: Resource, B: Resource>(&mut self, r: &Handle<A>, on: &Handle<B>) {
        let on = on.logical_id().to_owned();
        let e = self.entry(r);
        if !e.depends_on.contains(&on) {
            e.depends_on.push(on);
        }
    }

    /// Sets both `DeletionPolicy` and `UpdateReplacePolicy`.
    pub fn set_policies<R: Resource>(&mut self, r: &Handle<R>, policy: DeletionPolicy) {
        let e = self.entry(r);
        e.deletion_policy = Some(policy);
        e.update_replace_policy = Some(policy);
    }

    /// Adds a tag to every taggable resource at or below this node.
    pub fn add_tag(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.stack
            .tags
            .push((self.path.clone(), key.into(), value.into()));
    }
}

static INVALID_SPEC: crate::template::ResourceSpec = crate::template::ResourceSpec {
    type_name: "Invalid",
    create_only: &[],
    conditional_create_only: &[],
    attributes: &[],
    write_only: &[],
    required: &[],
    tagging: crate::template::Tagging::None,
};

#[cfg(test)]
mod node_tests {
    use super::*;

    #[test]
    fn at_goes_back_to_a_node_below_and_refuses_one_elsewhere() {
        let mut stack = Stack::new("App");
        let mut root = stack.root();
        let (a, b) = {
            let mut x = root.child("X");
            let a = x.child("A").node();
            (a, root.child("B").node())
        };
        assert_eq!(a.path(), "App/X/A");
        let mut x = root.child("X");
        assert_eq!(
            x.at(&a).map(|s| s.path().to_owned()).as_deref(),
            Some("App/X/A")
        );
        assert!(x.at(&b).is_none(), "B is not below X");
        assert_eq!(
            root.at(&b).map(|s| s.path().to_owned()).as_deref(),
            Some("App/B")
        );
        // A sibling whose id starts the same is not below.
        let xy = root.child("XY").node();
        assert!(root.child("X").at(&xy).is_none());
    }
}
