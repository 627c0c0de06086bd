//! Logical ids from construct paths.
//!
//! The scheme (a promise: changing a logical id replaces the resource):
//! - take the construct path below the stack (`Network/PublicSubnet1/Subnet`);
//! - drop components named `Resource` or `Default` (the main resource of a construct is named
//!   after the construct itself, as in the AWS CDK);
//! - keep only ASCII letters and digits of each component, upper-case its first letter;
//! - drop a component that repeats the previous one (`Vpc/Vpc` -> `Vpc`);
//! - concatenate.
//!
//! There is no hash suffix, so ids stay readable; two paths that map to the same id are an error
//! naming both paths, and any id can be overridden to adopt an existing resource.

/// The logical id for a path below the stack, or `None` when nothing alphanumeric is left.
pub fn logical_id_for(components: &[&str]) -> Option<String> {
    let mut out = String::new();
    let mut prev: Option<String> = None;
    for c in components {
        if *c == "Resource" || *c == "Default" {
            continue;
        }
        let mut clean: String = c.chars().filter(char::is_ascii_alphanumeric).collect();
        if let Some(first) = clean.get(0..1) {
            let up = first.to_ascii_uppercase();
            clean.replace_range(0..1, &up);
        }
        if clean.is_empty() || prev.as_deref() == Some(clean.as_str()) {
            continue;
        }
        out.push_str(&clean);
        prev = Some(clean);
    }
    if out.is_empty() || !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return if out.is_empty() {
            None
        } else {
            Some(format!("R{out}"))
        };
    }
    Some(out)
}

/// Whether a string is a valid CloudFormation logical id (alphanumeric, at most 255 chars).
pub fn is_valid_logical_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 255 && id.chars().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable_ids_from_paths() {
        assert_eq!(
            logical_id_for(&["Network", "PublicSubnet1", "Subnet"]).as_deref(),
            Some("NetworkPublicSubnet1Subnet")
        );
        assert_eq!(
            logical_id_for(&["Database", "Resource"]).as_deref(),
            Some("Database")
        );
        assert_eq!(logical_id_for(&["vpc", "Vpc"]).as_deref(), Some("Vpc"));
        assert_eq!(
            logical_id_for(&["db-secret", "attach_1"]).as_deref(),
            Some("DbsecretAttach1")
        );
        assert_eq!(logical_id_for(&["1a"]).as_deref(), Some("R1a"));
        assert_eq!(logical_id_for(&["Resource", "--"]), None);
    }

    #[test]
    fn validity() {
        assert!(is_valid_logical_id("Abc123"));
        assert!(!is_valid_logical_id("Abc-123"));
        assert!(!is_valid_logical_id(&"a".repeat(256)));
    }
}
