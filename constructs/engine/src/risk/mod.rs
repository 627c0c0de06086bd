//! What a change risks, decided in one place for `diff`, `deploy` and `destroy`: which types
//! hold data ([`stateful()`], [`STATEFUL_TYPES`]), what deletion and update-replace policies do
//! ([`Policy`], [`removal`]), which property fixes a resource's physical name
//! ([`name_property`]), which types can widen access ([`is_security_sensitive`]), which
//! capabilities a template needs ([`Capability`]), what a change set's replacement verdict
//! means ([`Replacement`]), which in-place updates lose data anyway ([`data_losing_update`]),
//! which resources refuse deletion ([`Protection`]) and which edit of a restored database
//! replaces it ([`restore_change`]).
//!
//! The three commands used to carry their own lists, and they disagreed (ECR repositories were
//! stateful for `diff` and not for `deploy`; queues, caches, streams and user pools for
//! neither). Everything that decides "this loses data" reads from here.

pub(crate) mod capabilities;
mod in_place;
mod names;
pub(crate) mod policy;
pub(crate) mod protection;
mod replacement;
pub(crate) mod restore;
mod security;
mod stateful;

pub use capabilities::Capability;
pub use in_place::{DATA_LOSING_UPDATES, DataLosingUpdate, data_losing_update};
pub use names::name_property;
pub use policy::{Fate, Policy, Removal, removal};
pub use protection::{Protected, ProtectedType, Protection, deletion_protected, protectable};
pub use replacement::Replacement;
pub use restore::{RestoreChange, restore_change};
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
