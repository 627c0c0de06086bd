//! Replacement prediction, offline, from the registry schema's `createOnlyProperties` and
//! `conditionalCreateOnlyProperties` (generated into `l1::spec`).

use snowcdk_constructs::template::ResourceSpec;

use super::model::Replacement;

/// What changing the property at `schema` (property names, `*` for list items) does to a
/// resource of the type described by `spec` (`None`: no schema).
///
/// A change to a create-only property, or to an object that contains one, replaces the
/// resource; a conditionally create-only one may replace it.
pub fn predict(spec: Option<&ResourceSpec>, schema: &[String]) -> Replacement {
    let Some(spec) = spec else {
        return Replacement::Unknown;
    };
    let path = schema.join("/");
    match spec.replacement_for(&path) {
        Some(true) => return Replacement::Always,
        Some(false) => return Replacement::Conditional,
        None => {}
    }
    // A change of a whole object (added, removed, or a different shape) changes what is inside.
    let prefix = format!("{path}/");
    let inside = |list: &[&str]| {
        list.iter()
            .any(|p| path.is_empty() || p.starts_with(&prefix))
    };
    if inside(spec.create_only) {
        Replacement::Always
    } else if inside(spec.conditional_create_only) {
        Replacement::Conditional
    } else {
        Replacement::Never
    }
}

/// What a reference to a replaced resource does to the property that holds it: its value is
/// the new resource's id, so `at_property` (the prediction for that property) applies, except
/// that an attribute that is not an id (an endpoint port, say) may keep its value.
pub fn reference_level(
    target: Replacement,
    attribute: Option<&str>,
    at_property: Replacement,
) -> Replacement {
    let id_like = attribute.is_none_or(|a| {
        a == "Id" || a.ends_with("Arn") || a.ends_with("Id") || a.ends_with("Name")
    });
    let level = if target == Replacement::Always && id_like {
        Replacement::Always
    } else {
        Replacement::Conditional
    };
    match at_property {
        Replacement::Always => level,
        Replacement::Conditional => Replacement::Conditional,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Vec<String> {
        s.split('/').map(str::to_owned).collect()
    }

    #[test]
    fn rds_predictions_follow_the_schema() {
        let spec = snowcdk_constructs::l1::spec("AWS::RDS::DBInstance");
        assert_eq!(predict(spec, &p("DBInstanceClass")), Replacement::Never);
        assert_eq!(predict(spec, &p("DBSubnetGroupName")), Replacement::Always);
        assert_eq!(predict(spec, &p("Engine")), Replacement::Conditional);
        assert_eq!(predict(None, &p("Anything")), Replacement::Unknown);
        let sg = snowcdk_constructs::l1::spec("AWS::EC2::SecurityGroup");
        assert_eq!(
            predict(sg, &p("SecurityGroupIngress/*/FromPort")),
            Replacement::Never
        );
        assert_eq!(predict(sg, &p("VpcId")), Replacement::Always);
    }

    #[test]
    fn references_to_replaced_resources() {
        use Replacement::*;
        assert_eq!(reference_level(Always, None, Always), Always);
        assert_eq!(
            reference_level(Always, Some("Endpoint.Port"), Always),
            Conditional
        );
        assert_eq!(reference_level(Always, Some("GroupId"), Never), Never);
        assert_eq!(reference_level(Conditional, None, Always), Conditional);
    }
}
