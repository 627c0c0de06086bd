//! Security group rules: `SNX-SG-001` (open to the internet), `SNX-SG-002` (SSH/RDP),
//! `SNX-SG-003` (description). [`sg_rules`] is also what `snowcdk diff` uses to list who can
//! reach what.

use serde::Serialize;
use serde_json::Value as Json;

use super::finding::{SG_ADMIN_PORTS, SG_DESCRIPTION, SG_OPEN_INGRESS};
use super::json::{Ctx, Res, intrinsic, items, lit_int, lit_str, ref_target, resources};

/// Ingress or egress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Inbound.
    Ingress,
    /// Outbound.
    Egress,
}

/// One security group rule, inline or standalone, normalized for review.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SgRule {
    /// The group the rule belongs to: its logical id, or the expression that names it.
    pub group: String,
    /// Inbound or outbound.
    pub direction: Direction,
    /// `tcp`, `udp`, `icmp`, `icmpv6`, `all` or the protocol number.
    pub protocol: String,
    /// `5432`, `1024-65535`, `all` (or an expression).
    pub ports: String,
    /// `sg <logical id>`, a CIDR, `prefix list <id>`, or an expression.
    pub peer: String,
    /// The rule's description, if any.
    pub description: Option<String>,
    /// The resource that holds the rule (the group itself for inline rules).
    pub holder: String,
    /// Where in the holder, e.g. `SecurityGroupIngress[1]`; empty for standalone rules.
    pub property: String,
    /// Literal source/destination CIDR, if any (for the rules' checks).
    #[serde(skip)]
    cidr: Option<String>,
    #[serde(skip)]
    port_range: Option<(i64, i64)>,
}

impl SgRule {
    /// `tcp 5432 from sg LambdaSecurityGroup`, `all traffic to 0.0.0.0/0`.
    pub fn summary(&self) -> String {
        let (prep, what) = match self.direction {
            Direction::Ingress => ("from", "ingress to"),
            Direction::Egress => ("to", "egress from"),
        };
        let traffic = if self.protocol == "all" {
            "all traffic".to_owned()
        } else {
            format!("{} {}", self.protocol, self.ports)
        };
        format!("{what} {}: {traffic} {prep} {}", self.group, self.peer)
    }

    /// The identity of a rule for diffing: everything but where it is written and its text.
    pub fn key(&self) -> (String, Direction, String, String, String) {
        (
            self.group.clone(),
            self.direction,
            self.protocol.clone(),
            self.ports.clone(),
            self.peer.clone(),
        )
    }

    fn is_open_to_world(&self) -> bool {
        self.cidr
            .as_deref()
            .and_then(|c| c.parse::<ipnet::IpNet>().ok())
            .is_some_and(|n| n.prefix_len() == 0)
    }

    fn covers(&self, port: i64) -> bool {
        self.port_range.is_some_and(|(a, b)| a <= port && port <= b)
    }
}

/// A value as a reviewer reads it: `${Id}` for `Ref`, `${Id.Attr}` for `GetAtt`, the template
/// of an `Fn::Sub`, literals as themselves, anything else as compact JSON.
pub fn display(v: &Json) -> String {
    if let Some((id, attr)) = ref_target(v) {
        return match attr {
            Some(a) => format!("${{{id}.{a}}}"),
            None => format!("${{{id}}}"),
        };
    }
    match (v, intrinsic(v)) {
        (_, Some(("Fn::Sub", Json::String(s)))) => s.clone(),
        (_, Some(("Fn::Sub", Json::Array(a)))) if a.first().is_some_and(Json::is_string) => {
            a[0].as_str().unwrap_or_default().to_owned()
        }
        (_, Some(("Fn::Join", Json::Array(a)))) if a.len() == 2 => {
            let sep = a[0].as_str().unwrap_or_default();
            match &a[1] {
                Json::Array(parts) => parts.iter().map(display).collect::<Vec<_>>().join(sep),
                other => display(other),
            }
        }
        (Json::String(s), _) => s.clone(),
        (Json::Null, _) => String::new(),
        (other, _) => serde_json::to_string(other).unwrap_or_default(),
    }
}

fn protocol_name(v: &Json) -> String {
    let raw = match v {
        Json::Number(n) => n.to_string(),
        Json::String(s) => s.to_ascii_lowercase(),
        Json::Null => "all".into(),
        other => return display(other),
    };
    match raw.as_str() {
        "-1" | "all" => "all".into(),
        "6" | "tcp" => "tcp".into(),
        "17" | "udp" => "udp".into(),
        "1" | "icmp" => "icmp".into(),
        "58" | "icmpv6" => "icmpv6".into(),
        _ => raw,
    }
}

fn group_name(v: &Json) -> String {
    match ref_target(v) {
        Some((id, _)) => id.to_owned(),
        None => display(v),
    }
}

fn peer_of(rule: &Json, direction: Direction) -> (String, Option<String>) {
    let (sg, pl) = match direction {
        Direction::Ingress => ("SourceSecurityGroupId", "SourcePrefixListId"),
        Direction::Egress => ("DestinationSecurityGroupId", "DestinationPrefixListId"),
    };
    for key in ["CidrIp", "CidrIpv6"] {
        if let Some(v) = rule.get(key) {
            let cidr = lit_str(v).map(str::to_owned);
            return (display(v), cidr);
        }
    }
    if let Some(v) = rule.get(sg) {
        return (format!("sg {}", group_name(v)), None);
    }
    if let Some(v) = rule.get("SourceSecurityGroupName") {
        return (format!("sg {}", display(v)), None);
    }
    if let Some(v) = rule.get(pl) {
        return (format!("prefix list {}", display(v)), None);
    }
    ("(no peer)".into(), None)
}

fn normalize(
    rule: &Json,
    group: String,
    direction: Direction,
    holder: &str,
    property: String,
) -> SgRule {
    let protocol = protocol_name(rule.get("IpProtocol").unwrap_or(&Json::Null));
    let from = rule.get("FromPort");
    let to = rule.get("ToPort");
    let (ports, port_range) = if protocol == "all" {
        ("all".to_owned(), Some((0, 65535)))
    } else {
        match (from.and_then(lit_int), to.and_then(lit_int)) {
            (Some(-1), _) | (_, Some(-1)) => ("all".to_owned(), Some((0, 65535))),
            (Some(a), Some(b)) if a == b => (a.to_string(), Some((a, b))),
            (Some(0), Some(65535)) => ("all".to_owned(), Some((0, 65535))),
            (Some(a), Some(b)) => (format!("{a}-{b}"), Some((a, b))),
            (Some(a), None) => (a.to_string(), Some((a, a))),
            _ => (
                format!(
                    "{}-{}",
                    from.map(display).unwrap_or_default(),
                    to.map(display).unwrap_or_default()
                ),
                None,
            ),
        }
    };
    let (peer, cidr) = peer_of(rule, direction);
    SgRule {
        group,
        direction,
        protocol,
        ports,
        peer,
        description: rule
            .get("Description")
            .map(display)
            .filter(|d| !d.trim().is_empty()),
        holder: holder.to_owned(),
        property,
        cidr,
        port_range,
    }
}

fn rules_of(r: &Res<'_>) -> Vec<SgRule> {
    match r.type_name {
        "AWS::EC2::SecurityGroup" => {
            let mut out = Vec::new();
            for (key, direction) in [
                ("SecurityGroupIngress", Direction::Ingress),
                ("SecurityGroupEgress", Direction::Egress),
            ] {
                for (i, rule) in items(r.prop(key)).into_iter().enumerate() {
                    out.push(normalize(
                        rule,
                        r.id.to_owned(),
                        direction,
                        r.id,
                        format!("{key}[{i}]"),
                    ));
                }
            }
            out
        }
        "AWS::EC2::SecurityGroupIngress" | "AWS::EC2::SecurityGroupEgress" => {
            let direction = if r.type_name.ends_with("Ingress") {
                Direction::Ingress
            } else {
                Direction::Egress
            };
            let group = r
                .props
                .get("GroupId")
                .map(group_name)
                .or_else(|| r.props.get("GroupName").map(display))
                .unwrap_or_default();
            vec![normalize(r.props, group, direction, r.id, String::new())]
        }
        _ => Vec::new(),
    }
}

/// Every security group rule of a template, inline and standalone, in template order.
pub fn sg_rules(t: &Json) -> Vec<SgRule> {
    resources(t).iter().flat_map(rules_of).collect()
}

pub(super) fn check(ctx: &mut Ctx<'_>) {
    let rules: Vec<SgRule> = ctx.resources.iter().flat_map(rules_of).collect();
    for rule in rules {
        let holder = rule.holder.clone();
        if rule.direction == Direction::Ingress && rule.is_open_to_world() {
            ctx.report(
                SG_OPEN_INGRESS,
                &holder,
                rule.property.clone(),
                format!("{} is open to the internet", rule.summary()),
            );
        }
        if rule.direction == Direction::Ingress {
            let admin: Vec<&str> = [(22, "SSH"), (3389, "RDP")]
                .into_iter()
                .filter(|(port, _)| match rule.protocol.as_str() {
                    "tcp" => rule.covers(*port),
                    "udp" => *port == 3389 && rule.covers(*port),
                    // All traffic from an address range includes the login ports; all traffic
                    // from another security group is a peer relationship, not a login path.
                    "all" => rule.cidr.is_some(),
                    _ => false,
                })
                .map(|(_, name)| name)
                .collect();
            if !admin.is_empty() {
                ctx.report(
                    SG_ADMIN_PORTS,
                    &holder,
                    rule.property.clone(),
                    format!("{} opens {}", rule.summary(), admin.join(" and ")),
                );
            }
        }
        if rule.description.is_none() {
            ctx.report(
                SG_DESCRIPTION,
                &holder,
                rule.property.clone(),
                format!("{} has no Description", rule.summary()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summaries_name_protocol_ports_and_peer() {
        let t = json!({"Resources": {
            "DbSg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
                "GroupDescription": "db",
                "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
                    "SourceSecurityGroupId": {"Fn::GetAtt": ["ApiSg", "GroupId"]}, "Description": "api"}],
                "SecurityGroupEgress": [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}]
            }},
            "Https": {"Type": "AWS::EC2::SecurityGroupEgress", "Properties": {
                "GroupId": {"Ref": "ApiSg"}, "IpProtocol": 6, "FromPort": "443", "ToPort": "443",
                "DestinationPrefixListId": "pl-123"
            }}
        }});
        let s: Vec<String> = sg_rules(&t).iter().map(SgRule::summary).collect();
        assert_eq!(
            s,
            [
                "ingress to DbSg: tcp 5432 from sg ApiSg",
                "egress from DbSg: all traffic to 0.0.0.0/0",
                "egress from ApiSg: tcp 443 to prefix list pl-123",
            ]
        );
    }
}
