//! `Vpc`: a VPC with one public and one private subnet per Availability Zone, an internet
//! gateway, and a route table per subnet (public ones route to the internet gateway; private ones
//! get their default route from a `NatGateway`).
//!
//! Subnet CIDRs are computed at synth time, so the template shows literal, reviewable ranges;
//! AZs are `Fn::Select [i, Fn::GetAZs ""]`, so the same template works in any region.

use std::ops::RangeInclusive;

use ipnet::Ipv4Net;

use snowcdk_constructs_core::error::SynthError;
use snowcdk_constructs_core::template::{Handle, Value};
use snowcdk_constructs_core::tree::Scope;
use snowcdk_constructs_l1::ec2;

use super::PropError;

/// Options of a [`Vpc`].
/// Deserializable as it stands (a stage config can hold it): a missing field takes the default
/// below, an unknown one is an error; then [`Self::validate`] checks the ranges, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VpcProps {
    /// The VPC's IPv4 range.
    pub cidr: String,
    /// How many AZs get a public and a private subnet.
    pub az_count: u8,
    /// Prefix length of the generated subnets.
    pub subnet_prefix: u8,
    /// Explicit public subnet ranges, one per AZ (overrides the generated ones).
    pub public_cidrs: Option<Vec<String>>,
    /// Explicit private subnet ranges, one per AZ (overrides the generated ones).
    pub private_cidrs: Option<Vec<String>>,
    /// Explicit Availability Zone names, one per AZ index (an adopted VPC's zones); `None`: the
    /// region's first zones (`Fn::Select` over `Fn::GetAZs`). Create-only for the subnets.
    pub availability_zones: Option<Vec<String>>,
}

impl Default for VpcProps {
    /// 10.0.0.0/16, 2 AZs, /24 subnets: the seed design.
    fn default() -> Self {
        Self {
            cidr: "10.0.0.0/16".into(),
            az_count: 2,
            subnet_prefix: 24,
            public_cidrs: None,
            private_cidrs: None,
            availability_zones: None,
        }
    }
}

impl VpcProps {
    /// How many AZs a VPC may span here (six covers every region's usable zones).
    pub const AZ_COUNT: RangeInclusive<u8> = 1..=6;
    /// Prefix lengths AWS allows for a VPC's and a subnet's IPv4 block.
    pub const PREFIX_LEN: RangeInclusive<u8> = 16..=28;

    /// Checks the range and the layout (explicit subnet ranges are checked when the VPC is
    /// built), naming the field at fault. The construct calls it; an app may call it to report
    /// under its own keys.
    pub fn validate(&self) -> Result<(), PropError> {
        self.check().map(|_| ())
    }

    /// [`Self::validate`], returning the parsed block.
    fn check(&self) -> Result<Ipv4Net, PropError> {
        let bad = |field, message: String| PropError::new(field, message);
        if let Some(zones) = &self.availability_zones {
            if zones.len() != usize::from(self.az_count) {
                return Err(bad(
                    "availability_zones",
                    format!("{} zones given for {} AZs", zones.len(), self.az_count),
                ));
            }
            let distinct: std::collections::BTreeSet<&String> = zones.iter().collect();
            if distinct.len() != zones.len() || zones.iter().any(|z| z.is_empty()) {
                return Err(bad(
                    "availability_zones",
                    format!("{zones:?}: name each zone once, such as \"us-west-2a\""),
                ));
            }
        }
        let net: Ipv4Net = self.cidr.parse().map_err(|_| {
            bad(
                "cidr",
                format!(
                    "{:?} is not an IPv4 CIDR block such as \"10.0.0.0/16\"",
                    self.cidr
                ),
            )
        })?;
        if net.network() != net.addr() {
            return Err(bad(
                "cidr",
                format!(
                    "{} has host bits set; did you mean {}?",
                    self.cidr,
                    net.trunc()
                ),
            ));
        }
        check_private_range(net).map_err(|e| bad("cidr", e))?;
        let prefixes = Self::PREFIX_LEN;
        if !prefixes.contains(&net.prefix_len()) {
            return Err(bad(
                "cidr",
                format!(
                    "a VPC's prefix length must be between /{} and /{}",
                    prefixes.start(),
                    prefixes.end()
                ),
            ));
        }
        let azs = Self::AZ_COUNT;
        if !azs.contains(&self.az_count) {
            return Err(bad(
                "az_count",
                format!(
                    "{} AZs: use {} to {}",
                    self.az_count,
                    azs.start(),
                    azs.end()
                ),
            ));
        }
        if self.subnet_prefix < net.prefix_len() || self.subnet_prefix > *prefixes.end() {
            return Err(bad(
                "subnet_prefix",
                format!(
                    "/{} does not fit inside {}: use a prefix between /{} and /{}",
                    self.subnet_prefix,
                    self.cidr,
                    net.prefix_len(),
                    prefixes.end()
                ),
            ));
        }
        let needed = u32::from(self.az_count) * 2;
        let available = 1u64 << (self.subnet_prefix - net.prefix_len());
        if u64::from(needed) > available {
            return Err(bad(
                "subnet_prefix",
                format!(
                    "{needed} subnets of /{} do not fit in {} (room for {available}); use a longer prefix or fewer AZs",
                    self.subnet_prefix, self.cidr
                ),
            ));
        }
        Ok(net)
    }
}

/// The IPv4 ranges a VPC may take its CIDR from: the RFC 1918 private ranges, which the Amazon
/// VPC User Guide recommends ("VPC CIDR blocks",
/// <https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html>), and the RFC 6598
/// shared address space 100.64.0.0/10, which the same page allows. Publicly routable ranges
/// (possible in AWS, but they shadow real internet addresses for everything in the VPC) and
/// ranges EC2 refuses (0.0.0.0/8, 127.0.0.0/8, 169.254.0.0/16, 224.0.0.0/4) are not offered.
pub const PRIVATE_RANGES: [&str; 4] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
];

/// Checks that a VPC range lies inside one of [`PRIVATE_RANGES`].
pub fn check_private_range(net: Ipv4Net) -> Result<(), String> {
    let inside = PRIVATE_RANGES
        .iter()
        .filter_map(|r| r.parse::<Ipv4Net>().ok())
        .any(|r| r.contains(&net));
    if inside {
        Ok(())
    } else {
        Err(format!(
            "{net} is not a private range; a VPC takes its range from {}",
            PRIVATE_RANGES.join(", ")
        ))
    }
}

/// Whether a subnet routes to the internet gateway (public) or not (private).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubnetKind {
    /// Routes to the internet gateway.
    Public,
    /// Routes through a NAT gateway (or nowhere).
    Private,
}

/// One subnet with its route table.
#[derive(Debug, Clone)]
pub struct VpcSubnet {
    /// Public or private.
    pub kind: SubnetKind,
    /// Index of its AZ in `Fn::GetAZs`.
    pub az_index: usize,
    /// The subnet's block.
    pub cidr: Ipv4Net,
    /// The `AWS::EC2::Subnet`.
    pub subnet: Handle<ec2::Subnet>,
    /// The subnet's own route table.
    pub route_table: Handle<ec2::RouteTable>,
    /// A public subnet's default route to the internet gateway: what "this subnet reaches the
    /// internet" waits for (a NAT gateway in it, as the AWS CDK orders it). `None` for a
    /// private subnet, whose default route a `NatGateway` adds.
    pub default_route: Option<Handle<ec2::Route>>,
}

/// The network tier.
#[derive(Debug, Clone)]
pub struct Vpc {
    /// The `AWS::EC2::VPC`.
    pub vpc: Handle<ec2::Vpc>,
    /// The VPC's block.
    pub cidr: Ipv4Net,
    /// The internet gateway (attached).
    pub internet_gateway: Handle<ec2::InternetGateway>,
    /// Resources that reach the internet must wait for this (CloudFormation needs the gateway
    /// attached before an EIP, a NAT gateway or a route to it can be created).
    pub gateway_attachment: Handle<ec2::VpcGatewayAttachment>,
    /// Public subnets, one per AZ.
    pub public_subnets: Vec<VpcSubnet>,
    /// Private subnets, one per AZ.
    pub private_subnets: Vec<VpcSubnet>,
    /// The explicit zones ([`VpcProps::availability_zones`]), when given.
    pub availability_zones: Option<Vec<String>>,
}

impl Vpc {
    /// The zone of AZ index `i`: the explicit one, else `Fn::Select [i, Fn::GetAZs]`.
    pub fn availability_zone(&self, i: usize) -> Value {
        match self.availability_zones.as_ref().and_then(|z| z.get(i)) {
            Some(zone) => Value::str(zone.as_str()),
            None => Value::select(i as i64, Value::azs()),
        }
    }

    /// Adds the VPC under `scope/id`. Bad ranges (invalid CIDR, a subnet outside the VPC,
    /// overlapping subnets, more subnets than fit) are errors naming the construct path.
    pub fn new(scope: &mut Scope<'_>, id: &str, props: &VpcProps) -> Result<Vpc, SynthError> {
        let mut s = scope.child(id);
        let path = s.path().to_owned();
        let err = |message: String| SynthError::Construct {
            path: path.clone(),
            message,
        };
        let cidr = props.check().map_err(|e| err(e.to_string()))?;
        let (public, private) = plan_subnets(cidr, props).map_err(err)?;

        s.add_tag(snowcdk_constructs_core::tree::tags::NAME, &path);
        let vpc = s.add(
            "Resource",
            ec2::Vpc::new()
                .cidr_block(cidr.to_string())
                .enable_dns_support(true)
                .enable_dns_hostnames(true),
        );
        let internet_gateway = s.add("InternetGateway", ec2::InternetGateway::new());
        let gateway_attachment = s.add(
            "GatewayAttachment",
            ec2::VpcGatewayAttachment::new(vpc.ref_()).internet_gateway_id(internet_gateway.ref_()),
        );

        let make = |s: &mut Scope<'_>, kind: SubnetKind, i: usize, net: Ipv4Net| {
            let name = match kind {
                SubnetKind::Public => format!("PublicSubnet{}", i + 1),
                SubnetKind::Private => format!("PrivateSubnet{}", i + 1),
            };
            let mut sub = s.child(&name);
            let sub_path = sub.path().to_owned();
            sub.add_tag(snowcdk_constructs_core::tree::tags::NAME, &sub_path);
            let subnet = sub.add(
                "Subnet",
                ec2::Subnet::new(vpc.ref_())
                    .cidr_block(net.to_string())
                    .availability_zone(
                        match props.availability_zones.as_ref().and_then(|z| z.get(i)) {
                            Some(zone) => Value::str(zone.as_str()),
                            None => Value::select(i as i64, Value::azs()),
                        },
                    )
                    .map_public_ip_on_launch(false),
            );
            let route_table = sub.add("RouteTable", ec2::RouteTable::new(vpc.ref_()));
            sub.add(
                "RouteTableAssociation",
                ec2::SubnetRouteTableAssociation::new(route_table.ref_(), subnet.ref_()),
            );
            let mut default_route = None;
            if kind == SubnetKind::Public {
                let route = sub.add(
                    "DefaultRoute",
                    ec2::Route::new(route_table.ref_())
                        .destination_cidr_block("0.0.0.0/0")
                        .gateway_id(internet_gateway.ref_()),
                );
                sub.depends_on(&route, &gateway_attachment);
                default_route = Some(route);
            }
            VpcSubnet {
                kind,
                az_index: i,
                cidr: net,
                subnet,
                route_table,
                default_route,
            }
        };
        let public_subnets = public
            .into_iter()
            .enumerate()
            .map(|(i, net)| make(&mut s, SubnetKind::Public, i, net))
            .collect();
        let private_subnets = private
            .into_iter()
            .enumerate()
            .map(|(i, net)| make(&mut s, SubnetKind::Private, i, net))
            .collect();
        Ok(Vpc {
            vpc,
            cidr,
            internet_gateway,
            gateway_attachment,
            public_subnets,
            private_subnets,
            availability_zones: props.availability_zones.clone(),
        })
    }

    /// `Ref`s of the private subnets, e.g. for a DB subnet group or a Lambda's VPC config.
    pub fn private_subnet_ids(&self) -> Vec<Value> {
        self.private_subnets
            .iter()
            .map(|s| s.subnet.ref_())
            .collect()
    }
}

/// Picks the public and private subnet ranges: explicit ones when given, else consecutive
/// blocks of `subnet_prefix` (public first, then private). Checks containment and overlap; the
/// counts and prefixes were checked by [`VpcProps::validate`].
fn plan_subnets(vpc: Ipv4Net, props: &VpcProps) -> Result<(Vec<Ipv4Net>, Vec<Ipv4Net>), String> {
    let n = usize::from(props.az_count);
    let generated: Vec<Ipv4Net> = vpc
        .subnets(props.subnet_prefix)
        .map_err(|e| e.to_string())?
        .take(2 * n)
        .collect();
    if generated.len() < 2 * n {
        return Err(format!(
            "{} subnets of /{} do not fit in {vpc}",
            2 * n,
            props.subnet_prefix
        ));
    }
    let parse_list = |list: &Option<Vec<String>>, default: &[Ipv4Net], what: &str| match list {
        None => Ok(default.to_vec()),
        Some(l) if l.len() != n => Err(format!("{what}: {} ranges given for {n} AZs", l.len())),
        Some(l) => l
            .iter()
            .map(|c| {
                c.parse::<Ipv4Net>()
                    .map_err(|_| format!("{what}: {c:?} is not an IPv4 CIDR block"))
            })
            .collect(),
    };
    let public = parse_list(&props.public_cidrs, &generated[..n], "public subnets")?;
    let private = parse_list(&props.private_cidrs, &generated[n..], "private subnets")?;
    let all: Vec<&Ipv4Net> = public.iter().chain(&private).collect();
    for (i, a) in all.iter().enumerate() {
        if !vpc.contains(*a) {
            return Err(format!("subnet {a} is outside the VPC range {vpc}"));
        }
        if let Some(b) = all[..i].iter().find(|b| b.contains(*a) || a.contains(**b)) {
            return Err(format!("subnets {b} and {a} overlap"));
        }
    }
    Ok((public, private))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().expect("test cidr")
    }

    #[test]
    fn default_layout_is_two_public_then_two_private() {
        let (public, private) =
            plan_subnets(net("10.0.0.0/16"), &VpcProps::default()).expect("plan");
        assert_eq!(public, [net("10.0.0.0/24"), net("10.0.1.0/24")]);
        assert_eq!(private, [net("10.0.2.0/24"), net("10.0.3.0/24")]);
    }

    #[test]
    fn only_private_ranges_are_vpc_ranges() {
        for ok in [
            "10.0.0.0/16",
            "172.31.0.0/16",
            "192.168.0.0/20",
            "100.64.0.0/16",
        ] {
            assert!(check_private_range(net(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "127.0.0.0/16",
            "0.0.0.0/16",
            "224.0.0.0/16",
            "169.254.0.0/16",
            "8.8.0.0/16",
            "172.32.0.0/16",
        ] {
            assert!(check_private_range(net(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_layouts_are_explained() {
        let too_many = VpcProps {
            cidr: "10.0.0.0/24".into(),
            subnet_prefix: 26,
            az_count: 3,
            ..VpcProps::default()
        };
        let e = too_many.validate().expect_err("too many");
        assert_eq!(e.field, "subnet_prefix");
        assert!(e.message.contains("6 subnets of /26 do not fit"), "{e}");
        for (bad, field) in [
            ("10.0.0.1/16", "cidr"),
            ("10.0.0.0/8", "cidr"),
            ("8.8.0.0/16", "cidr"),
        ] {
            let props = VpcProps {
                cidr: bad.into(),
                ..VpcProps::default()
            };
            assert_eq!(props.validate().expect_err(bad).field, field);
        }
        let seven = VpcProps {
            az_count: 7,
            ..VpcProps::default()
        };
        assert_eq!(seven.validate().expect_err("7 AZs").field, "az_count");
        assert_eq!(VpcProps::default().validate(), Ok(()));
        let overlap = VpcProps {
            public_cidrs: Some(vec!["10.0.0.0/24".into(), "10.0.0.128/25".into()]),
            ..VpcProps::default()
        };
        let e = plan_subnets(net("10.0.0.0/16"), &overlap).expect_err("overlap");
        assert!(e.contains("overlap"), "{e}");
        let outside = VpcProps {
            private_cidrs: Some(vec!["10.9.0.0/24".into(), "10.0.9.0/24".into()]),
            ..VpcProps::default()
        };
        let e = plan_subnets(net("10.0.0.0/16"), &outside).expect_err("outside");
        assert!(e.contains("outside the VPC"), "{e}");
    }
}
