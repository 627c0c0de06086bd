//! Whether CloudFormation replaces a resource on a `Modify` (a new physical resource; the old one
//! is deleted under its `UpdateReplacePolicy`), as the change set says it, typed from the SDK's
//! enum so an unknown value is never mistaken for "no".

use aws_sdk_cloudformation::types::Replacement as SdkReplacement;
use serde::Serialize;

/// A change set's replacement verdict for one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Replacement {
    /// A new physical resource replaces the old one.
    True,
    /// Replaced or not depending on a value CloudFormation resolves only while executing.
    Conditional,
    /// Updated in place.
    False,
}

impl Replacement {
    /// Reads the change set's value; `None` for one this code does not know (treated as unknown
    /// by the classification, which assumes the worst for stateful types).
    pub fn from_sdk(r: &SdkReplacement) -> Option<Replacement> {
        match r {
            SdkReplacement::True => Some(Replacement::True),
            SdkReplacement::Conditional => Some(Replacement::Conditional),
            SdkReplacement::False => Some(Replacement::False),
            _ => None,
        }
    }

    /// Reads the string form (`True`, `Conditional`, `False`).
    pub fn parse(s: &str) -> Option<Replacement> {
        Self::from_sdk(&SdkReplacement::from(s))
    }

    /// True or Conditional: the resource may be replaced.
    pub fn may_replace(self) -> bool {
        !matches!(self, Replacement::False)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_are_not_a_no() {
        assert_eq!(Replacement::parse("True"), Some(Replacement::True));
        assert_eq!(Replacement::parse("Sometimes"), None);
        assert!(Replacement::Conditional.may_replace());
        assert!(!Replacement::False.may_replace());
    }
}
