//! `SsmBastion`: an admin host reached only through AWS Systems Manager Session Manager.
//!
//! An EC2 instance in a private subnet (no public IP, no key pair, no inbound rule at all): the
//! SSM agent dials out over HTTPS through the NAT gateway, and administrators reach the database
//! with Session Manager port forwarding (`AWS-StartPortForwardingSessionToRemoteHost`).
//!
//! - IAM role with `AmazonSSMManagedInstanceCore` (ARN built with `${AWS::Partition}`), and its
//!   instance profile.
//! - Amazon Linux 2023, its AMI a *pinned* template parameter (`Stack::add_pinned_parameter`):
//!   `deploy` looks it up from AWS's public SSM parameter for the architecture on the first
//!   deploy, in whatever region the stack goes to, and keeps it afterwards. The architecture
//!   (`x86_64` or `arm64`) follows the instance type (Graviton families carry a `g`: `t4g`,
//!   `m7g`, `c7gn`), so a change of family looks up the other architecture's AMI. Why pinned: a
//!   parameter of type `AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>` is resolved again on
//!   every update and `ImageId` is create-only, so every Amazon Linux release would replace the
//!   host (new instance id, new tunnel target, its state lost) on an unrelated deploy.
//!   `deploy --refresh-pinned` takes the latest AMI on purpose.
//! - IMDSv2 only (`HttpTokens: required`, hop limit 1: containers on the host cannot reach it).
//! - Encrypted gp3 root volume, deleted with the instance.

use std::ops::RangeInclusive;

use snowcdk_constructs_core::error::SynthError;
use snowcdk_constructs_core::template::{Handle, ParamType, Parameter, Value};
use snowcdk_constructs_core::tree::Scope;
use snowcdk_constructs_l1::{ec2, iam};

use super::PropError;
use super::connections::{
    CidrRule, Connectable, Connections, Egress, Port, SecurityGroup, SecurityGroupProps,
};
use super::vpc::Vpc;

/// Options of an [`SsmBastion`].
/// Deserializable as it stands (a stage config can hold it): a missing field takes the default
/// below, an unknown one is an error; then [`Self::validate`] checks the ranges, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SsmBastionProps {
    /// `<family>.<size>`, e.g. `t4g.micro` (Graviton, arm64) or `t3.micro` (x86_64).
    pub instance_type: String,
    /// Root volume size in GiB (at least the AMI's 8).
    pub root_volume_gb: u32,
    /// Which private subnet (by AZ index) the host goes in.
    pub subnet_index: usize,
    /// The names and image of an adopted host; `Default`: generated (the AMI pinned).
    pub adopted: AdoptedHost,
}

impl Default for SsmBastionProps {
    fn default() -> Self {
        Self {
            instance_type: "t4g.micro".into(),
            root_volume_gb: 8,
            subnet_index: 0,
            adopted: AdoptedHost::default(),
        }
    }
}

/// Names an adopted host already has (`snowcdk import` records them), so the template
/// describes what runs. `None` everywhere (the default): generated, as for a new stack. Most
/// are create-only: on a deployed stack, changing one replaces the resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdoptedHost {
    /// `ImageId`: the running instance's AMI, in place of the pinned Amazon Linux 2023
    /// parameter (create-only: a new AMI replaces the instance).
    pub image_id: Option<String>,
    /// The role's `RoleName`.
    pub role_name: Option<String>,
    /// `InstanceProfileName`.
    pub instance_profile_name: Option<String>,
    /// The security group's `GroupName`.
    pub security_group_name: Option<String>,
    /// The security group's `GroupDescription`.
    pub security_group_description: Option<String>,
}

impl SsmBastionProps {
    /// Root volume sizes in GiB: at least the Amazon Linux 2023 AMI's 8, at most gp3's 16384.
    pub const ROOT_VOLUME_GB: RangeInclusive<u32> = 8..=16384;

    /// Checks the instance type's shape and the root volume's size, naming the field at fault
    /// (the construct calls it; an app may call it to report under its own keys).
    pub fn validate(&self) -> Result<(), PropError> {
        if !is_instance_type(&self.instance_type) {
            return Err(PropError::new(
                "instance_type",
                format!(
                    "{:?} is not an EC2 instance type of the form <family>.<size>, such as \"t4g.micro\"",
                    self.instance_type
                ),
            ));
        }
        let sizes = Self::ROOT_VOLUME_GB;
        if !sizes.contains(&self.root_volume_gb) {
            return Err(PropError::new(
                "root_volume_gb",
                format!(
                    "{} GiB: at least the AMI's {} GiB, at most {}",
                    self.root_volume_gb,
                    sizes.start(),
                    sizes.end()
                ),
            ));
        }
        Ok(())
    }
}

/// The admin host.
#[derive(Debug, Clone)]
pub struct SsmBastion {
    /// The EC2 instance.
    pub instance: Handle<ec2::Instance>,
    /// Its role (SSM managed instance core).
    pub role: Handle<iam::Role>,
    /// The instance profile that carries the role.
    pub instance_profile: Handle<iam::InstanceProfile>,
    /// `Ref` to the template parameter that supplies the AMI.
    pub image_parameter: Value,
    connections: Connections,
}

impl Connectable for SsmBastion {
    fn connections(&self) -> &Connections {
        &self.connections
    }
}

/// The public SSM parameter with the latest Amazon Linux 2023 AMI for an architecture.
pub fn al2023_parameter(arch: &str) -> String {
    format!("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}")
}

/// `<family>.<size>`: lower-case family letters, a generation digit, optional attribute letters
/// (and `-flex`), then a size such as `micro`, `2xlarge` or `metal-24xl`.
pub fn is_instance_type(t: &str) -> bool {
    let Some((family, size)) = t.split_once('.') else {
        return false;
    };
    let letters = family
        .chars()
        .take_while(|c| c.is_ascii_lowercase())
        .count();
    let rest = &family[letters..];
    let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
    let attrs = &rest[digits..];
    letters > 0
        && digits > 0
        && attrs
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !size.is_empty()
        && size
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Whether an instance type is a Graviton (arm64) one: a `g` among the attribute letters after
/// the generation digit (`t4g`, `m6gd`, `c7gn`, `im4gn`; not `g5`, which is an x86 GPU family).
pub fn is_graviton(instance_type: &str) -> bool {
    let family = instance_type.split('.').next().unwrap_or_default();
    let after_digit = family
        .trim_start_matches(|c: char| c.is_ascii_lowercase())
        .trim_start_matches(|c: char| c.is_ascii_digit());
    after_digit
        .split('-')
        .next()
        .unwrap_or_default()
        .contains('g')
}

impl SsmBastion {
    /// Adds the host under `scope/id`, and a template parameter `<id>ImageId` for its AMI.
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        vpc: &Vpc,
        props: &SsmBastionProps,
    ) -> Result<SsmBastion, SynthError> {
        let mut s = scope.child(id);
        let path = s.path().to_owned();
        let err = |message: String| SynthError::Construct {
            path: path.clone(),
            message,
        };
        props.validate().map_err(|e| err(e.to_string()))?;
        let subnet = vpc.private_subnets.get(props.subnet_index).ok_or_else(|| {
            err(format!(
                "no private subnet {} (the VPC has {})",
                props.subnet_index,
                vpc.private_subnets.len()
            ))
        })?;
        let arch = if is_graviton(&props.instance_type) {
            "arm64"
        } else {
            "x86_64"
        };
        let param_name = format!(
            "{}ImageId",
            id.replace(|c: char| !c.is_ascii_alphanumeric(), "")
        );
        let image_parameter = match &props.adopted.image_id {
            Some(ami) => Value::str(ami.as_str()),
            None => s.stack().add_pinned_parameter(
                param_name,
                Parameter::new(ParamType::Aws("AWS::EC2::Image::Id".into())).description(format!(
                    "AMI of the SSM bastion: looked up from the latest Amazon Linux 2023 ({arch}) on the first deploy, then kept until the instance architecture changes or deploy --refresh-pinned"
                )),
                al2023_parameter(arch),
            ),
        };

        let security_group = SecurityGroup::new(
            &mut s,
            "SecurityGroup",
            vpc,
            &SecurityGroupProps {
                name: props.adopted.security_group_name.clone(),
                description: props
                    .adopted
                    .security_group_description
                    .clone()
                    .unwrap_or_else(|| {
                        "SSM bastion: no inbound (Session Manager needs none)".into()
                    }),
                egress: Egress::Only(vec![CidrRule::any_ipv4(
                    Port::tcp(443),
                    "HTTPS for the SSM agent and package updates",
                )]),
            },
        )?;

        let mut role = iam::Role::new(assume_role_policy("ec2.amazonaws.com"))
            .description(format!("SSM-managed admin host {path}"))
            .managed_policy_arns(vec![Value::sub(
                "arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore",
            )]);
        if let Some(name) = &props.adopted.role_name {
            role = role.role_name(name.as_str());
        }
        let role = s.add("Role", role);
        let mut profile = iam::InstanceProfile::new(vec![role.ref_()]);
        if let Some(name) = &props.adopted.instance_profile_name {
            profile = profile.instance_profile_name(name.as_str());
        }
        let instance_profile = s.add("InstanceProfile", profile);

        let mut host = s.child("Instance");
        let host_path = host.path().to_owned();
        host.add_tag(snowcdk_constructs_core::tree::tags::NAME, &host_path);
        let instance = host.add(
            "Resource",
            ec2::Instance::new()
                .image_id(image_parameter.clone())
                .instance_type(props.instance_type.as_str())
                .subnet_id(subnet.subnet.ref_())
                .security_group_ids(vec![security_group.group_id()])
                .iam_instance_profile(instance_profile.ref_())
                .metadata_options(
                    ec2::InstanceMetadataOptions::new()
                        .http_endpoint(ec2::InstanceMetadataOptionsHttpEndpoint::Enabled)
                        .http_tokens(ec2::InstanceMetadataOptionsHttpTokens::Required)
                        .http_put_response_hop_limit(1),
                )
                .block_device_mappings(vec![
                    ec2::InstanceBlockDeviceMapping::new("/dev/xvda").ebs(
                        ec2::InstanceEbs::new()
                            .volume_type(ec2::InstanceEbsVolumeType::Gp3)
                            .volume_size(i64::from(props.root_volume_gb))
                            .encrypted(true)
                            .delete_on_termination(true),
                    ),
                ])
                .ebs_optimized(true)
                .propagate_tags_to_volume_on_creation(true),
        );

        Ok(SsmBastion {
            instance,
            role,
            instance_profile,
            image_parameter,
            connections: Connections::new(security_group, None),
        })
    }

    /// `Ref`: the instance id, the `--target` of `aws ssm start-session`.
    pub fn instance_id(&self) -> Value {
        self.instance.ref_()
    }
}

/// A trust policy letting one AWS service assume the role.
pub(crate) fn assume_role_policy(service: &str) -> Value {
    Value::map([
        ("Version", Value::str("2012-10-17")),
        (
            "Statement",
            Value::list([Value::map([
                ("Effect", Value::str("Allow")),
                ("Principal", Value::map([("Service", Value::str(service))])),
                ("Action", Value::str("sts:AssumeRole")),
            ])]),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_types_and_architectures() {
        for t in [
            "t4g.micro",
            "t3.micro",
            "m7i-flex.large",
            "c7gn.16xlarge",
            "g5.xlarge",
        ] {
            assert!(is_instance_type(t), "{t}");
        }
        for t in [
            "t4g",
            "micro",
            "T3.micro",
            "t.micro",
            "t3.",
            "db.t3.micro",
            "t3.micro.x",
        ] {
            assert!(!is_instance_type(t), "{t}");
        }
        assert!(is_graviton("t4g.micro"));
        assert!(is_graviton("m6gd.large"));
        assert!(is_graviton("im4gn.large"));
        assert!(!is_graviton("t3.micro"));
        assert!(!is_graviton("g5.xlarge"));
        assert!(!is_graviton("m7i-flex.large"));
        let ok = SsmBastionProps::default();
        assert_eq!(ok.validate(), Ok(()));
        for (bad, field) in [
            (
                SsmBastionProps {
                    instance_type: "micro".into(),
                    ..ok.clone()
                },
                "instance_type",
            ),
            (
                SsmBastionProps {
                    root_volume_gb: 4,
                    ..ok.clone()
                },
                "root_volume_gb",
            ),
        ] {
            assert_eq!(bad.validate().expect_err("refused").field, field);
        }
        assert_eq!(
            al2023_parameter("arm64"),
            "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
        );
    }
}
