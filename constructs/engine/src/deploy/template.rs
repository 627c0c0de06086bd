//! What deploy knows about a template: for our stacks the facts the assembly carries (from the
//! model), for the deployed one (`GetTemplate`) the same facts read from its body. The type and
//! both roads into it live in [`crate::assembly`]; the capabilities in [`crate::risk`].

pub use crate::assembly::{TemplateError, TemplateFacts};
pub use crate::risk::Capability;
