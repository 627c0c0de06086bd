//! The construct tree and synth: logical ids, collisions, overrides, tags, reference checks,
//! cycles and quotas, each failing with the construct path in the message.

use serde_json::json;
use snowcdk_constructs::l1::{ec2, ssm};
use snowcdk_constructs::template::{DeletionPolicy, Intrinsic, ParamType, Pseudo};
use snowcdk_constructs::tree::synth_stack;
use snowcdk_constructs::{Output, Parameter, Stack, SynthError, Value};

fn errors_of(stack: &Stack) -> Vec<String> {
    match synth_stack(stack) {
        Ok(_) => Vec::new(),
        Err(e) => e.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn logical_ids_follow_paths_and_are_stable() {
    let mut a = Stack::new("A");
    {
        let mut root = a.root();
        let mut net = root.child("Network");
        net.add("Resource", ec2::Vpc::new().cidr_block("10.0.0.0/16"));
        net.add("Igw", ec2::InternetGateway::new());
    }
    let mut b = Stack::new("B");
    {
        let mut root = b.root();
        root.add("Extra", ec2::InternetGateway::new());
        let mut net = root.child("Network");
        net.add("Resource", ec2::Vpc::new().cidr_block("10.0.0.0/16"));
        net.add("Igw", ec2::InternetGateway::new());
    }
    let ids =
        |s: &Stack| -> Vec<String> { s.resources().map(|r| r.entry.logical_id.clone()).collect() };
    assert_eq!(ids(&a), ["Network", "NetworkIgw"]);
    // Adding an unrelated construct leaves the other ids alone.
    assert_eq!(ids(&b), ["Extra", "Network", "NetworkIgw"]);
}

#[test]
fn a_collision_names_both_paths_and_an_override_resolves_it() {
    let mut s = Stack::new("S");
    {
        let mut root = s.root();
        root.child("A").add("BC", ec2::InternetGateway::new());
        root.child("AB").add("C", ec2::InternetGateway::new());
    }
    let errs = errors_of(&s);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].contains("S/AB/C") && errs[0].contains("S/A/BC"),
        "{errs:?}"
    );

    let mut s = Stack::new("S");
    s.override_logical_id("S/AB/C", "AdoptedGateway");
    {
        let mut root = s.root();
        root.child("A").add("BC", ec2::InternetGateway::new());
        let h = root.child("AB").add("C", ec2::InternetGateway::new());
        assert_eq!(h.logical_id(), "AdoptedGateway");
    }
    assert!(errors_of(&s).is_empty());
}

#[test]
fn tags_reach_taggable_resources_below_the_scope() {
    let mut s = Stack::new("S");
    s.add_tag("Project", "snowex");
    {
        let mut root = s.root();
        let mut net = root.child("Net");
        net.add_tag("Tier", "network");
        net.add("Vpc", ec2::Vpc::new().cidr_block("10.0.0.0/16"));
        root.add("Param", ssm::Parameter::new("String", "v"));
        // Not taggable: gets no Tags property.
        root.add(
            "Attach",
            ec2::VpcGatewayAttachment::new("vpc-1").internet_gateway_id("igw-1"),
        );
    }
    let t = synth_stack(&s).expect("synth").template.to_json();
    assert_eq!(
        t["Resources"]["NetVpc"]["Properties"]["Tags"],
        json!([{"Key": "Project", "Value": "snowex"}, {"Key": "Tier", "Value": "network"}])
    );
    assert_eq!(
        t["Resources"]["Param"]["Properties"]["Tags"],
        json!({"Project": "snowex"})
    );
    assert!(t["Resources"]["Attach"]["Properties"].get("Tags").is_none());
}

#[test]
fn references_must_resolve_and_attributes_must_exist() {
    let mut s = Stack::new("S");
    {
        let mut root = s.root();
        let vpc = root.add("Vpc", ec2::Vpc::new().cidr_block("10.0.0.0/16"));
        root.add(
            "Subnet",
            ec2::Subnet::new(vpc.ref_()).cidr_block("10.0.0.0/24"),
        );
        root.add(
            "Bad",
            ec2::Subnet::new(Value::from(Intrinsic::GetAtt {
                logical_id: "Vpc".into(),
                attribute: "Nope".into(),
            }))
            .cidr_block(Value::sub("${Missing.Arn}")),
        );
    }
    s.add_output("Dangling", Output::new(Value::param_ref("NoSuchParam")));
    let errs = errors_of(&s);
    assert!(
        errs.iter()
            .any(|e| e.contains("S/Bad") && e.contains("has no attribute Nope")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("S/Bad") && e.contains("refers to Missing")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("Output:Dangling") && e.contains("NoSuchParam")),
        "{errs:?}"
    );
}

#[test]
fn parameters_and_pseudo_parameters_resolve_in_sub() {
    let mut s = Stack::new("S");
    let ami = s.add_parameter(
        "Ami",
        Parameter::new(ParamType::SsmValue("AWS::EC2::Image::Id".into()))
            .default("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"),
    );
    {
        let mut root = s.root();
        root.add(
            "P",
            ssm::Parameter::new("String", Value::sub("${Ami}-${AWS::Region}")),
        );
        root.add("Q", ssm::Parameter::new("String", ami));
    }
    s.add_output("Region", Output::new(Value::pseudo(Pseudo::Region)));
    let t = synth_stack(&s).expect("synth").template.to_json();
    assert_eq!(
        t["Parameters"]["Ami"]["Type"],
        json!("AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>")
    );
    assert_eq!(
        t["Resources"]["Q"]["Properties"]["Value"],
        json!({"Ref": "Ami"})
    );
}

#[test]
fn cycles_are_reported_with_paths() {
    let mut s = Stack::new("S");
    {
        let mut root = s.root();
        let a = root.add("A", ssm::Parameter::new("String", Value::sub("${B}")));
        let b = root.add("B", ssm::Parameter::new("String", "x"));
        root.depends_on(&b, &a);
    }
    let errs = errors_of(&s);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].contains("dependency cycle"), "{errs:?}");
    assert!(
        errs[0].contains("A (S/A)") && errs[0].contains("B (S/B)"),
        "{errs:?}"
    );
}

#[test]
fn the_resource_quota_is_enforced() {
    let mut s = Stack::new("S");
    {
        let mut root = s.root();
        for i in 0..501 {
            root.add(&format!("P{i}"), ssm::Parameter::new("String", "x"));
        }
    }
    let e = synth_stack(&s).expect_err("over quota");
    assert!(
        e.iter().any(|e| matches!(
            e,
            SynthError::Limit {
                what: "resources",
                count: 501,
                ..
            }
        )),
        "{e:?}"
    );
}

#[test]
fn policies_and_depends_on_are_written() {
    let mut s = Stack::new("S");
    {
        let mut root = s.root();
        let a = root.add("A", ssm::Parameter::new("String", "x"));
        let b = root.add("B", ssm::Parameter::new("String", "y"));
        root.depends_on(&b, &a);
        root.set_policies(&a, DeletionPolicy::Retain);
    }
    let t = synth_stack(&s).expect("synth").template.to_json();
    assert_eq!(t["Resources"]["A"]["DeletionPolicy"], json!("Retain"));
    assert_eq!(t["Resources"]["A"]["UpdateReplacePolicy"], json!("Retain"));
    assert_eq!(t["Resources"]["B"]["DependsOn"], json!(["A"]));
}

#[test]
fn schema_checks_name_the_type_and_property() {
    let mut s = Stack::new("S");
    s.root().add(
        "Param",
        ssm::Parameter::new("String", "x")
            .data_type("binary")
            .name(""),
    );
    let errs = errors_of(&s);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs[0].contains("S/Param (AWS::SSM::Parameter): property DataType")
            && errs[0].contains("not one of text, aws:ec2:image"),
        "{errs:?}"
    );
    assert!(errs[1].contains("property Name: length 0"), "{errs:?}");
}

#[test]
fn bad_construct_ids_are_errors_not_panics() {
    let mut s = Stack::new("9bad name");
    s.root().add("-", ssm::Parameter::new("String", "x"));
    let errs = errors_of(&s);
    assert!(errs.iter().any(|e| e.contains("stack name")), "{errs:?}");
    assert!(errs.iter().any(|e| e.contains("no logical id")), "{errs:?}");
}
