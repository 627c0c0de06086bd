//! Synth-time checks over a stack's template.
//!
//! `structure`: references, attributes, cycles and quotas (always errors).

pub mod structure;
