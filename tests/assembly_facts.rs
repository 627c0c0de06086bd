//! The assembly's facts come from the template model; templates from elsewhere are parsed into
//! the same type. Both roads must agree, or deploy would judge our own stacks differently from
//! the same template once it is deployed: checked here on every SnowEx stage, for the JSON body
//! synth writes and deploys and for the YAML rendering.

use std::path::Path;

use snowcdk::app;
use snowcdk::assembly::{Assembly, TemplateFacts};
use snowcdk::risk::{Capability, Policy};
use snowcdk::snowex::{SnowEx, SnowexConfig};
use snowcdk_constructs::template::TemplateFormat;

fn assembly() -> Assembly {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = SnowexConfig::load(&root.join("snowcdk.toml")).expect("the shipped config loads");
    app::synth(&SnowEx, &config, &[]).expect("every stage synthesizes")
}

#[test]
fn facts_from_the_model_equal_facts_read_from_the_written_body() {
    let a = assembly();
    assert_eq!(
        a.stacks
            .iter()
            .map(|s| s.stage.as_str())
            .collect::<Vec<_>>(),
        vec!["dev", "prod"]
    );
    for s in &a.stacks {
        let from_json = TemplateFacts::parse(&s.body).expect("our body reads");
        assert_eq!(s.facts, from_json, "{}: model vs JSON body", s.stack_name);
        let yaml = s.render(TemplateFormat::Yaml);
        let from_yaml = TemplateFacts::parse(&yaml).expect("our YAML reads");
        assert_eq!(s.facts, from_yaml, "{}: model vs YAML body", s.stack_name);
        // The document kept for diff is the one the body was rendered from.
        let parsed: serde_json::Value = serde_json::from_str(&s.body).expect("JSON");
        assert_eq!(s.document, parsed, "{}", s.stack_name);
    }
}

#[test]
fn the_facts_say_what_the_snowex_stack_is() {
    let a = assembly();
    let dev = a.stage("dev").expect("dev");
    assert_eq!(dev.stack_name, "snowex-dev");
    assert_eq!(dev.environment.region, "us-west-2");
    let f = &dev.facts;
    // Roles without custom names: IAM, not named IAM.
    assert_eq!(f.capabilities, vec![Capability::Iam]);
    let (db_id, db) = f
        .resources
        .iter()
        .find(|(_, r)| r.type_name == "AWS::RDS::DBInstance")
        .expect("one database");
    assert!(db.stateful, "{db_id}");
    assert_ne!(db.deletion_policy, Policy::Delete, "{db_id}");
    assert!(
        db.create_only.contains(&"DBInstanceIdentifier"),
        "create-only properties come from the L1 spec: {:?}",
        db.create_only
    );
    let sg = f
        .resources
        .values()
        .find(|r| r.type_name == "AWS::EC2::SecurityGroup")
        .expect("a security group");
    assert!(!sg.stateful);
    // The image parameter's default is the stage's image, known without reading the body.
    let image = f
        .parameters
        .iter()
        .find(|p| p.name == "LambdaImageUri")
        .expect("image parameter");
    assert_eq!(image.type_name, "String");
    assert_eq!(
        image.default.as_ref().and_then(|d| d.as_str()),
        Some("123456789012.dkr.ecr.us-west-2.amazonaws.com/snowex-api:latest")
    );
    assert!(f.outputs.iter().any(|o| o == "DbEndpointAddress"));
}

/// The app says which stages to protect; the engine only sees the flag. SnowEx protects a stage
/// whose database has deletion protection (prod), and the stack policy covers its data.
#[test]
fn protected_stages_ask_for_termination_protection() {
    let a = assembly();
    assert!(!a.stage("dev").expect("dev").termination_protection);
    let prod = a.stage("prod").expect("prod");
    assert!(prod.termination_protection);
    let body = snowcdk::deploy::policy::strict_policy(&prod.facts);
    for (id, r) in &prod.facts.resources {
        let named = body.contains(&format!("\"LogicalResourceId/{id}\""));
        assert_eq!(
            named,
            snowcdk::risk::is_stateful(&r.type_name),
            "{id} ({}) in {body}",
            r.type_name
        );
    }
    assert!(
        !body.contains("AWS::") && body.contains("Update:Replace"),
        "{body}"
    );
}
