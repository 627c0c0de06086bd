//! `NatGateway`: outbound internet access for the private subnets, through a NAT gateway with an
//! Elastic IP in a public subnet. One gateway shared by all AZs (the seed design, and cheaper),
//! or one per AZ so an AZ outage does not cut the others off: each private subnet then routes
//! through the gateway of its own AZ (and its traffic crosses no AZ boundary). An extra gateway
//! costs its hourly charge (about $32/month in us-west-2, plus $0.045 per GB processed) and its
//! Elastic IP's public IPv4 charge (about $3.60/month).
//!
//! Ordering, as the AWS CDK does it: each gateway waits for the default route of its public
//! subnet (not just the gateway attachment), and [`NatGateway::routes`] are what a resource
//! that needs egress when it starts (a Lambda function fetching a secret, an SSM agent) should
//! wait for. The first gateway is always `Gateway`, so turning `per_az` on later adds gateways
//! and keeps the existing one and its Elastic IP (the stack's egress address).

use snowcdk_constructs_core::template::Handle;
use snowcdk_constructs_core::tree::Scope;
use snowcdk_constructs_l1::ec2;

use super::vpc::Vpc;

/// Options of a [`NatGateway`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NatGatewayProps {
    /// One gateway per AZ instead of one shared.
    pub per_az: bool,
}

/// The NAT gateways and their Elastic IPs.
#[derive(Debug, Clone)]
pub struct NatGateway {
    /// The gateways, one per AZ or a single one.
    pub gateways: Vec<Handle<ec2::NatGateway>>,
    /// Their Elastic IPs, in the same order.
    pub eips: Vec<Handle<ec2::Eip>>,
    /// The private subnets' default routes through the gateways, in the VPC's private subnet
    /// order: the private subnets reach the internet once these exist.
    pub routes: Vec<Handle<ec2::Route>>,
}

impl NatGateway {
    /// Adds the gateway(s) under `scope/id` and points every private route table's default
    /// route at the gateway of its AZ (or the shared one).
    pub fn new(scope: &mut Scope<'_>, id: &str, vpc: &Vpc, props: NatGatewayProps) -> NatGateway {
        let mut s = scope.child(id);
        let count = if props.per_az {
            vpc.public_subnets.len()
        } else {
            1
        };
        let mut gateways = Vec::new();
        let mut eips = Vec::new();
        for (i, public) in vpc.public_subnets.iter().take(count).enumerate() {
            let name = if i == 0 {
                "Gateway".to_owned()
            } else {
                format!("Gateway{}", i + 1)
            };
            let mut g = s.child(&name);
            let g_path = g.path().to_owned();
            g.add_tag(snowcdk_constructs_core::tree::tags::NAME, &g_path);
            let eip = g.add("Eip", ec2::Eip::new().domain("vpc"));
            g.depends_on(&eip, &vpc.gateway_attachment);
            let nat = g.add(
                "Resource",
                ec2::NatGateway::new()
                    .allocation_id(eip.attr_allocation_id())
                    .subnet_id(public.subnet.ref_()),
            );
            match &public.default_route {
                Some(route) => g.depends_on(&nat, route),
                None => g.depends_on(&nat, &vpc.gateway_attachment),
            }
            gateways.push(nat);
            eips.push(eip);
        }
        let mut routes = Vec::new();
        for private in &vpc.private_subnets {
            let nat = &gateways[private.az_index.min(gateways.len() - 1)];
            let route = s.add(
                &format!("DefaultRoutePrivate{}", private.az_index + 1),
                ec2::Route::new(private.route_table.ref_())
                    .destination_cidr_block("0.0.0.0/0")
                    .nat_gateway_id(nat.ref_()),
            );
            routes.push(route);
        }
        NatGateway {
            gateways,
            eips,
            routes,
        }
    }
}
