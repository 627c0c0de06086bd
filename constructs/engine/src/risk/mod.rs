//! What a change risks, decided in one place for `diff`, `deploy` and `destroy`: which types
//! hold data ([`stateful`]), what deletion and update-replace policies do ([`policy`]), which
//! property fixes a resource's physical name ([`names`]), which types can widen access
//! ([`security`]), which capabilities a template needs ([`capabilities`]), what a change
//! set's replacement verdict means ([`replacement`]) and which resources refuse deletion
//! ([`protection`]).
//!
//! The three commands used to carry their own lists, and they disagreed (ECR repositories were
//! stateful for `diff` and not for `deploy`; queues, caches, streams and user pools for
//! neither). Everything that decides "this loses data" reads from here.

pub mod capabilities;
pub mod names;
pub mod policy;
pub mod protection;
pub mod replacement;
pub mod security;
pub mod stateful;

pub use capabilities::Capability;
pub use names::name_property;
pub use policy::{Fate, Policy, Removal, removal};
pub use replacement::Replacement;
pub use security::{SECURITY_TYPES, is_security_sensitive};
pub use stateful::{STATEFUL_TYPES, StatefulType, is_stateful, stateful};

/// Whether a resource counts as holding data: its type does, or one of its policies (in the old
/// or the new template) keeps or snapshots it, which says its author thinks so.
pub fn holds_data(type_name: &str, policies: &[Policy]) -> bool {
    is_stateful(type_name) || policies.iter().any(|p| p.keeps_data())
}

/// Why a resource of this type holds data, for messages: `AWS::SQS::Queue holds the messages
/// in the queue`, or the policy's word when only a policy says so.
pub fn why_stateful(type_name: &str, policies: &[Policy]) -> Option<String> {
    if let Some(s) = stateful(type_name) {
        return Some(format!("{type_name} holds {}", s.reason));
    }
    policies
        .iter()
        .any(|p| p.keeps_data())
        .then(|| "its DeletionPolicy/UpdateReplacePolicy marks it as holding data".to_owned())
}
