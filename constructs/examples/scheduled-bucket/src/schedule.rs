//! `AWS::Events::Rule`, written by hand: the generated L1 types do not include EventBridge yet.
//! A resource type is a struct that implements [`Resource`]: its schema facts (what the diff
//! reads to know what replaces it) and its `Properties`. Once the type is generated
//! (`constructs/schemas`, `cargo run -p snowcdk-codegen`), use the generated one instead.

use snowcdk_constructs::Value;
use snowcdk_constructs::template::{Checker, NoAttrs, Resource, ResourceSpec, Tagging};

/// The schema facts of `AWS::Events::Rule` (from its CloudFormation registry schema).
static RULE_SPEC: ResourceSpec = ResourceSpec {
    type_name: "AWS::Events::Rule",
    create_only: &["Name"],
    conditional_create_only: &[],
    attributes: &["Arn"],
    write_only: &[],
    required: &[],
    tagging: Tagging::None,
};

/// An EventBridge rule that invokes one target on a schedule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `rate(1 hour)` or `cron(0 12 * * ? *)`.
    pub schedule_expression: String,
    pub description: Option<String>,
    /// The target's id within the rule.
    pub target_id: String,
    /// The target's ARN (the Lambda function).
    pub target_arn: Value,
}

impl Rule {
    pub fn new(schedule: &str, target_id: &str, target_arn: Value) -> Rule {
        Rule {
            schedule_expression: schedule.to_owned(),
            description: None,
            target_id: target_id.to_owned(),
            target_arn,
        }
    }

    pub fn description(mut self, d: &str) -> Rule {
        self.description = Some(d.to_owned());
        self
    }
}

impl Resource for Rule {
    const SPEC: &'static ResourceSpec = &RULE_SPEC;
    /// `Fn::GetAtt` on the rule is not needed here.
    type Attrs = NoAttrs;

    fn properties(&self) -> Value {
        let mut props = Vec::new();
        if let Some(d) = &self.description {
            props.push(("Description".to_owned(), Value::str(d)));
        }
        props.push((
            "ScheduleExpression".to_owned(),
            Value::str(&self.schedule_expression),
        ));
        props.push(("State".to_owned(), Value::str("ENABLED")));
        props.push((
            "Targets".to_owned(),
            Value::list([Value::map([
                ("Arn", self.target_arn.clone()),
                ("Id", Value::str(&self.target_id)),
            ])]),
        ));
        Value::Map(props)
    }

    /// The settings checked the schedule expression already (`settings::is_schedule`).
    fn validate(&self, _c: &mut Checker) {}
}
