//! The capabilities CloudFormation demands before it creates a change set for a template, decided
//! once for templates from the model (synth) and templates read from elsewhere (the deployed
//! stack, a git base).
//!
//! CloudFormation refuses a change set that creates IAM resources without `CAPABILITY_IAM`, one
//! that gives them custom names without `CAPABILITY_NAMED_IAM`, and one with a `Transform`
//! without `CAPABILITY_AUTO_EXPAND`.

use serde::Serialize;

/// A capability acknowledgement passed to `CreateChangeSet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Capability {
    /// `CAPABILITY_IAM`: the template creates or changes IAM resources.
    Iam,
    /// `CAPABILITY_NAMED_IAM`: an IAM resource has a fixed name, so it can clash with one that
    /// exists and cannot be replaced without a new name.
    NamedIam,
    /// `CAPABILITY_AUTO_EXPAND`: the template has a `Transform` (macros run at deploy time).
    AutoExpand,
}

impl Capability {
    /// The name CloudFormation uses (`CAPABILITY_IAM`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Iam => "CAPABILITY_IAM",
            Capability::NamedIam => "CAPABILITY_NAMED_IAM",
            Capability::AutoExpand => "CAPABILITY_AUTO_EXPAND",
        }
    }
}

/// IAM resource types: any of them requires `CAPABILITY_IAM`.
pub const IAM_TYPES: &[&str] = &[
    "AWS::IAM::AccessKey",
    "AWS::IAM::Group",
    "AWS::IAM::GroupPolicy",
    "AWS::IAM::InstanceProfile",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::Policy",
    "AWS::IAM::Role",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::User",
    "AWS::IAM::UserPolicy",
    "AWS::IAM::UserToGroupAddition",
];

/// Properties that give an IAM resource a custom name: any of them requires
/// `CAPABILITY_NAMED_IAM`.
pub const IAM_NAME_PROPERTIES: &[(&str, &str)] = &[
    ("AWS::IAM::Role", "RoleName"),
    ("AWS::IAM::User", "UserName"),
    ("AWS::IAM::Group", "GroupName"),
    ("AWS::IAM::ManagedPolicy", "ManagedPolicyName"),
    ("AWS::IAM::InstanceProfile", "InstanceProfileName"),
];

/// The property that gives an IAM resource of this type a custom name, if any.
pub fn iam_name_property(type_name: &str) -> Option<&'static str> {
    IAM_NAME_PROPERTIES
        .iter()
        .find(|(t, _)| *t == type_name)
        .map(|(_, p)| *p)
}

/// The capabilities a template needs. `resources` yields each resource's type and whether it
/// sets its type's [`iam_name_property`]; `transform` is whether the template has a `Transform`.
pub fn required<'a>(
    resources: impl IntoIterator<Item = (&'a str, bool)>,
    transform: bool,
) -> Vec<Capability> {
    let (mut iam, mut named) = (false, false);
    for (type_name, sets_name) in resources {
        iam |= IAM_TYPES.contains(&type_name);
        named |= sets_name && iam_name_property(type_name).is_some();
    }
    let mut out = Vec::new();
    if iam {
        out.push(Capability::Iam);
    }
    if named {
        out.push(Capability::NamedIam);
    }
    if transform {
        out.push(Capability::AutoExpand);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_named_iam_and_transforms() {
        assert!(required([("AWS::SSM::Parameter", false)], false).is_empty());
        assert_eq!(
            required([("AWS::IAM::Role", false)], false),
            vec![Capability::Iam]
        );
        assert_eq!(
            required([("AWS::IAM::Role", true)], true),
            vec![
                Capability::Iam,
                Capability::NamedIam,
                Capability::AutoExpand
            ]
        );
        // A `RoleName` on something that is not a role names nothing in IAM.
        assert!(required([("AWS::SSM::Parameter", true)], false).is_empty());
    }
}
