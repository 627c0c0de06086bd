//! Tests of the generated schema enums: typed variants with the exact wire string, an
//! `Unknown(String)` fallback written verbatim, string call sites that still compile, and
//! intrinsics where the property allows them.

use std::collections::HashSet;

use serde_json::json;
use snowcdk_constructs::l1::{ec2, lambda, s3, ssm};
use snowcdk_constructs::template::{Checker, Prop, Resource, SchemaEnum, ToValue};
use snowcdk_constructs::{Stack, Value};

fn issues<R: Resource>(r: &R) -> Vec<(String, String)> {
    let mut c = Checker::new();
    r.validate(&mut c);
    c.issues
        .into_iter()
        .map(|i| (i.property, i.message))
        .collect()
}

#[test]
fn known_values_round_trip_through_the_wire_string() {
    for v in ec2::InstanceEbsVolumeType::VALUES {
        let parsed: ec2::InstanceEbsVolumeType = v.parse().expect("infallible");
        assert!(
            !matches!(parsed, ec2::InstanceEbsVolumeType::Unknown(_)),
            "{v} parsed as Unknown"
        );
        assert_eq!(parsed.as_str(), *v);
        assert_eq!(parsed.to_string(), *v);
        assert_eq!(parsed.to_value(), Value::str(*v));
        assert_eq!(ec2::InstanceEbsVolumeType::from(v.to_string()), parsed);
    }
    assert!(matches!(
        ec2::InstanceEbsVolumeType::from("gp3"),
        ec2::InstanceEbsVolumeType::Gp3
    ));
    assert_eq!(
        ec2::InstanceEbsVolumeType::VALUES,
        ["gp2", "gp3", "io1", "io2", "sc1", "st1", "standard"]
    );
    // A string call site becomes the typed literal, not an expression.
    assert_eq!(
        Prop::<ssm::ParameterType>::from("StringList"),
        Prop::Lit(ssm::ParameterType::StringList)
    );
}

#[test]
fn unknown_values_fall_back_and_are_written_verbatim() {
    let v = ec2::InstanceEbsVolumeType::from("gp9-preview");
    assert_eq!(v, ec2::InstanceEbsVolumeType::Unknown("gp9-preview".into()));
    assert!(!v.is_known());
    assert_eq!(v.as_str(), "gp9-preview");
    assert_eq!(v.to_value(), Value::str("gp9-preview"));
    assert_eq!(
        ec2::InstanceEbsVolumeType::from("gp9-preview".to_owned()),
        ec2::InstanceEbsVolumeType::Unknown("gp9-preview".into())
    );
    // Matching is exact: another case is another value.
    assert!(matches!(
        ec2::InstanceEbsVolumeType::from("GP3"),
        ec2::InstanceEbsVolumeType::Unknown(_)
    ));
    // Equality and hashing go by the wire string, so a hand-built Unknown of a listed value
    // is that value.
    let by_hand = ec2::InstanceEbsVolumeType::Unknown("gp3".into());
    assert_eq!(by_hand, ec2::InstanceEbsVolumeType::Gp3);
    assert!(by_hand.is_known());
    let set: HashSet<_> = [by_hand, ec2::InstanceEbsVolumeType::Gp3].into();
    assert_eq!(set.len(), 1);

    // In a resource: written as given, and reported at synth like any unlisted string.
    let ebs = ec2::InstanceEbs::new()
        .volume_type(ec2::InstanceEbsVolumeType::Unknown("gp9-preview".into()));
    let inst = ec2::Instance::new().block_device_mappings(vec![
        ec2::InstanceBlockDeviceMapping::new("/dev/xvda").ebs(ebs),
    ]);
    assert_eq!(
        inst.properties().to_json(),
        json!({"BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeType": "gp9-preview"}}]})
    );
    assert_eq!(
        issues(&inst),
        [(
            "BlockDeviceMappings.[0].Ebs.VolumeType".to_owned(),
            r#""gp9-preview" is not one of gp2, gp3, io1, io2, sc1, st1, standard"#.to_owned()
        )]
    );
}

#[test]
fn awkward_values_get_readable_variants_with_the_exact_wire_string() {
    assert_eq!(lambda::FunctionRuntime::Python3_12.as_str(), "python3.12");
    assert_eq!(lambda::FunctionRuntime::Nodejs20X.as_str(), "nodejs20.x");
    assert_eq!(
        lambda::FunctionRuntime::Dotnetcore2_1.as_str(),
        "dotnetcore2.1"
    );
    assert_eq!(lambda::FunctionArchitecture::X86_64.as_str(), "x86_64");
    assert_eq!(ec2::InstanceEbsVolumeType::Gp2.as_str(), "gp2");
    assert_eq!(
        ec2::InstanceMetadataOptionsHttpProtocolIpv6::Enabled.as_str(),
        "enabled"
    );
    assert_eq!(
        s3::BucketServerSideEncryptionByDefaultSseAlgorithm::AwsKmsDsse.as_str(),
        "aws:kms:dsse"
    );
    assert_eq!(
        s3::BucketBlockedEncryptionTypesEncryptionType::SseC.as_str(),
        "SSE-C"
    );
    assert_eq!(lambda::UrlCorsAllowMethod::Wildcard.as_str(), "*");
    // S3 lists both `GLACIER` and `Glacier`: the second is numbered, both stay distinct.
    assert_eq!(
        s3::BucketTransitionStorageClass::Glacier.as_str(),
        "GLACIER"
    );
    assert_eq!(
        s3::BucketTransitionStorageClass::Glacier2.as_str(),
        "Glacier"
    );
    assert_ne!(
        s3::BucketTransitionStorageClass::from("Glacier"),
        s3::BucketTransitionStorageClass::Glacier
    );
    // A list of enums takes variants, strings, or a mix through the same conversions.
    let f = lambda::Function::new(lambda::FunctionCode::new().zip_file("x"), "arn")
        .architectures(vec![lambda::FunctionArchitecture::Arm64]);
    assert_eq!(f.properties().to_json()["Architectures"], json!(["arm64"]));
}

#[test]
fn intrinsics_still_fit_enum_properties_and_are_not_checked() {
    let p = ssm::Parameter::new(Value::param_ref("ParamType"), "v")
        .tier(ssm::ParameterTier::IntelligentTiering);
    assert!(issues(&p).is_empty(), "{:?}", issues(&p));
    assert_eq!(
        p.properties().to_json(),
        json!({"Tier": "Intelligent-Tiering", "Type": {"Ref": "ParamType"}, "Value": "v"})
    );
    // Synth output of a typed value is the same as of the string it replaces.
    let mut typed = Stack::new("T");
    typed.root().add(
        "P",
        ssm::Parameter::new(ssm::ParameterType::String, "v")
            .data_type(ssm::ParameterDataType::Text),
    );
    let mut stringly = Stack::new("T");
    stringly
        .root()
        .add("P", ssm::Parameter::new("String", "v").data_type("text"));
    let render = |s: &Stack| {
        snowcdk_constructs::tree::synth_stack(s)
            .expect("synth")
            .template
            .to_json()
    };
    assert_eq!(render(&typed), render(&stringly));
}
