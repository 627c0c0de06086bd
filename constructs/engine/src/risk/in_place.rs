//! Updates that lose data without a replacement.
//!
//! CloudFormation reports some property changes as "no replacement" although they throw away
//! what the resource held. The change set's `Replacement: False` lets them through every gate
//! that looks only at replacements, so they are listed here, once, for `diff` and `deploy`.

/// A property whose in-place update loses data, and what is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataLosingUpdate {
    /// The resource type.
    pub type_name: &'static str,
    /// The top-level property whose change loses data.
    pub property: &'static str,
    /// What happens, for the change table and the diff.
    pub effect: &'static str,
}

/// Every known data-losing in-place update.
pub const DATA_LOSING_UPDATES: &[DataLosingUpdate] = &[DataLosingUpdate {
    type_name: "AWS::SecretsManager::Secret",
    property: "GenerateSecretString",
    effect: "CloudFormation generates a new secret value from the new options and drops the keys it did not generate (host, port, dbname of a database secret), while a database that references the secret keeps its old password (an unchanged dynamic reference is not re-resolved): whatever reads the secret can no longer log in",
}];

/// The data-losing update among `properties` (top-level names, or `Properties.X...` paths) of a
/// resource of `type_name`, if any.
pub fn data_losing_update<'a>(
    type_name: &str,
    properties: impl IntoIterator<Item = &'a str>,
) -> Option<&'static DataLosingUpdate> {
    let props: Vec<&str> = properties
        .into_iter()
        .map(|p| {
            let p = p.strip_prefix("Properties.").unwrap_or(p);
            p.split(['.', '[']).next().unwrap_or(p)
        })
        .collect();
    DATA_LOSING_UPDATES
        .iter()
        .find(|d| d.type_name == type_name && props.contains(&d.property))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_secret_generation_options_lose_the_password() {
        let d = data_losing_update(
            "AWS::SecretsManager::Secret",
            ["Properties.GenerateSecretString.PasswordLength"],
        )
        .expect("listed");
        assert!(d.effect.contains("old password"));
        assert!(
            data_losing_update("AWS::SecretsManager::Secret", ["GenerateSecretString"]).is_some()
        );
        assert!(data_losing_update("AWS::SecretsManager::Secret", ["Description"]).is_none());
        assert!(data_losing_update("AWS::SSM::Parameter", ["GenerateSecretString"]).is_none());
    }
}
