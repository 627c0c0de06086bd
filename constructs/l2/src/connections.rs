//! Security groups and the connections between them.
//!
//! A [`SecurityGroup`] is created with its whole *outbound* policy declared inline, because
//! CloudFormation gives a group that declares no inline egress an implicit allow-all egress rule,
//! and a standalone `AWS::EC2::SecurityGroupEgress` added later does not remove it. A group is
//! therefore either explicitly open outbound ([`Egress::AllowAll`], written as a described rule
//! rather than left implicit) or restricted to the listed CIDR rules ([`Egress::Only`]; with no
//! rules at all it gets the no-op rule the AWS CDK uses for `allowAllOutbound: false`, so that
//! nothing is allowed until a connection adds something).
//!
//! Group-to-group rules go through [`Connections`]: `db.connections().allow_from(..)` adds an
//! ingress rule on the database's group *and* the matching egress rule on the peer's group, as
//! standalone `AWS::EC2::SecurityGroupIngress`/`Egress` resources. Standalone rules reference both
//! groups while the groups reference neither, so two groups that talk to each other never form a
//! dependency cycle (inline cross-references would).

use snowcdk_constructs_core::error::SynthError;
use snowcdk_constructs_core::template::{Handle, Resource, Value};
use snowcdk_constructs_core::tree::{Node, Scope};
use snowcdk_constructs_l1::ec2;

use super::vpc::Vpc;

/// The IP protocol of a [`Port`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP.
    Icmp,
    /// Every protocol (`-1`).
    All,
}

/// A protocol and a port range (for ICMP: type and code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port {
    /// The IP protocol.
    pub protocol: Protocol,
    /// First port (ICMP: type).
    pub from: i64,
    /// Last port (ICMP: code).
    pub to: i64,
}

impl Port {
    /// One TCP port.
    pub const fn tcp(port: u16) -> Port {
        Port {
            protocol: Protocol::Tcp,
            from: port as i64,
            to: port as i64,
        }
    }

    /// Every protocol and port.
    pub const fn all_traffic() -> Port {
        Port {
            protocol: Protocol::All,
            from: -1,
            to: -1,
        }
    }

    /// The `IpProtocol` value.
    pub fn ip_protocol(&self) -> &'static str {
        match self.protocol {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Icmp => "icmp",
            Protocol::All => "-1",
        }
    }

    /// A readable label, e.g. `TCP 5432`.
    pub fn label(&self) -> String {
        let proto = match self.protocol {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Icmp => "ICMP",
            Protocol::All => return "all traffic".into(),
        };
        if self.from == self.to {
            format!("{proto} {}", self.from)
        } else {
            format!("{proto} {}-{}", self.from, self.to)
        }
    }

    /// The part of a rule's construct id that names the port, e.g. `Tcp5432`.
    fn id(&self) -> String {
        let proto = match self.protocol {
            Protocol::Tcp => "Tcp",
            Protocol::Udp => "Udp",
            Protocol::Icmp => "Icmp",
            Protocol::All => return "AllTraffic".into(),
        };
        if self.from == self.to {
            format!("{proto}{}", self.from)
        } else {
            format!("{proto}{}to{}", self.from, self.to)
        }
    }

    /// `(FromPort, ToPort)`, left out for "all traffic".
    fn range(&self) -> Option<(i64, i64)> {
        (self.protocol != Protocol::All).then_some((self.from, self.to))
    }
}

/// An outbound rule to an IPv4 range, declared inline on the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CidrRule {
    /// The destination IPv4 block.
    pub cidr: String,
    /// What may go there.
    pub port: Port,
    /// The rule's description, shown in the console.
    pub description: String,
}

impl CidrRule {
    /// A rule to `cidr` on `port`.
    pub fn new(cidr: impl Into<String>, port: Port, description: impl Into<String>) -> Self {
        Self {
            cidr: cidr.into(),
            port,
            description: description.into(),
        }
    }

    /// `port` to anywhere on the IPv4 internet (`0.0.0.0/0`).
    pub fn any_ipv4(port: Port, description: impl Into<String>) -> Self {
        Self::new("0.0.0.0/0", port, description)
    }
}

/// A group's outbound policy, fixed when it is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Egress {
    /// Everything to `0.0.0.0/0`, as an explicit, described rule (what EC2 does by default).
    AllowAll {
        /// The rule's description.
        description: String,
    },
    /// Only these rules, plus whatever connections add later. With none, nothing: the group
    /// gets a rule that matches no traffic (ICMP type 252 code 86 to 255.255.255.255/32), since an
    /// empty inline list would leave CloudFormation's implicit allow-all in place.
    Only(Vec<CidrRule>),
}

/// Options of a [`SecurityGroup`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroupProps {
    /// `GroupDescription` (replaces the group when changed, so keep it stable).
    pub description: String,
    /// The outbound policy, fixed at creation.
    pub egress: Egress,
    /// `GroupName`: the live group's name when the stack adopts an existing group
    /// (`snowcdk import`); `None` lets CloudFormation generate one. Create-only.
    pub name: Option<String>,
}

/// A security group in a VPC. Its inbound rules come only from [`Connections`].
#[derive(Debug, Clone)]
pub struct SecurityGroup {
    /// The `AWS::EC2::SecurityGroup`.
    pub group: Handle<ec2::SecurityGroup>,
    /// The construct node the group's rules are added under.
    node: Node,
    /// Its path, for messages.
    path: String,
    allows_all_outbound: bool,
}

/// The characters EC2 accepts in group and rule descriptions.
fn check_description(what: &str, d: &str) -> Result<(), String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(c);
    if d.is_empty() || d.len() > 255 {
        return Err(format!("{what} must be 1-255 characters"));
    }
    if let Some(bad) = d.chars().find(|c| !ok(*c)) {
        return Err(format!(
            "{what} {d:?}: EC2 does not accept {bad:?} in descriptions (letters, digits, spaces and ._-:/()#,@[]+=&;{{}}!$* only)"
        ));
    }
    Ok(())
}

impl SecurityGroup {
    /// Adds the group under `scope/id` (logical id from that path), tagged `Name` with its path.
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        vpc: &Vpc,
        props: &SecurityGroupProps,
    ) -> Result<SecurityGroup, SynthError> {
        let mut s = scope.child(id);
        let path = s.path().to_owned();
        let err = |message: String| SynthError::Construct {
            path: path.clone(),
            message,
        };
        check_description("the group description", &props.description).map_err(&err)?;
        let (rules, allows_all_outbound) = match &props.egress {
            Egress::AllowAll { description } => {
                check_description("the egress description", description).map_err(&err)?;
                let all = Port::all_traffic();
                let rule = ec2::SecurityGroupEgressProperty::new(all.ip_protocol())
                    .cidr_ip("0.0.0.0/0")
                    .description(description.as_str());
                (vec![rule], true)
            }
            Egress::Only(list) if list.is_empty() => {
                let rule = ec2::SecurityGroupEgressProperty::new("icmp")
                    .cidr_ip("255.255.255.255/32")
                    .from_port(252)
                    .to_port(86)
                    .description("No outbound traffic (rule matching nothing)");
                (vec![rule], false)
            }
            Egress::Only(list) => {
                let mut rules = Vec::new();
                for r in list {
                    check_description("an egress description", &r.description).map_err(&err)?;
                    if r.cidr.parse::<ipnet::Ipv4Net>().is_err() {
                        return Err(err(format!("{:?} is not an IPv4 CIDR block", r.cidr)));
                    }
                    let mut rule = ec2::SecurityGroupEgressProperty::new(r.port.ip_protocol())
                        .cidr_ip(r.cidr.as_str())
                        .description(r.description.as_str());
                    if let Some((from, to)) = r.port.range() {
                        rule = rule.from_port(from).to_port(to);
                    }
                    rules.push(rule);
                }
                (rules, false)
            }
        };
        s.add_tag(snowcdk_constructs_core::tree::tags::NAME, &path);
        let mut resource = ec2::SecurityGroup::new(props.description.as_str())
            .vpc_id(vpc.vpc.ref_())
            .security_group_egress(rules);
        if let Some(name) = &props.name {
            if name.is_empty() || name.len() > 255 || name.starts_with("sg-") {
                return Err(err(format!(
                    "group name {name:?}: 1-255 characters, not starting with sg-"
                )));
            }
            resource = resource.group_name(name.as_str());
        }
        let group = s.add("Resource", resource);
        Ok(SecurityGroup {
            group,
            node: s.node(),
            path,
            allows_all_outbound,
        })
    }

    /// `Fn::GetAtt GroupId`: what instances, functions and databases are given.
    pub fn group_id(&self) -> Value {
        self.group.attr_group_id()
    }

    /// Whether the group was created with [`Egress::AllowAll`] (then connections add no
    /// egress rules to it: they would be redundant).
    pub fn allows_all_outbound(&self) -> bool {
        self.allows_all_outbound
    }
}

/// Anything with a security group that others connect to or from.
pub trait Connectable {
    /// The security group and default port of this construct.
    fn connections(&self) -> &Connections;
}

/// A security group and the port its owner listens on, if any.
#[derive(Debug, Clone)]
pub struct Connections {
    /// The group.
    pub security_group: SecurityGroup,
    /// The port peers reach this on (5432 for PostgreSQL); `None` for pure clients.
    pub default_port: Option<Port>,
}

impl Connectable for Connections {
    fn connections(&self) -> &Connections {
        self
    }
}

impl Connections {
    /// Connections of `security_group`, reached on `default_port`.
    pub fn new(security_group: SecurityGroup, default_port: Option<Port>) -> Self {
        Self {
            security_group,
            default_port,
        }
    }

    /// Lets `peer` open connections to this on `port`: an ingress rule on this group from the
    /// peer's group, and an egress rule on the peer's group to this one (unless the peer already
    /// allows all outbound). Both carry `description`. `scope` must be the stack's root scope (or
    /// any scope above both groups): each rule is added under its own group's path, so its logical
    /// id names the group it belongs to (`DatabaseSecurityGroupFromApiSecurityGroupTcp5432`).
    pub fn allow_from(
        &self,
        scope: &mut Scope<'_>,
        peer: &dyn Connectable,
        port: Port,
        description: &str,
    ) -> Result<(), SynthError> {
        let me = &self.security_group;
        let other = &peer.connections().security_group;
        check_description("the rule description", description).map_err(|message| {
            SynthError::Construct {
                path: me.path.clone(),
                message,
            }
        })?;
        if me.group.logical_id() == other.group.logical_id() {
            return Err(SynthError::Construct {
                path: me.path.clone(),
                message: "a group connecting to itself is not supported".into(),
            });
        }
        let mut ingress = ec2::SecurityGroupIngress::new(port.ip_protocol())
            .group_id(me.group_id())
            .source_security_group_id(other.group_id())
            .description(description);
        if let Some((from, to)) = port.range() {
            ingress = ingress.from_port(from).to_port(to);
        }
        let id = format!("From{}{}", other.group.logical_id(), port.id());
        within(scope, me, |s| add_rule(s, &id, ingress))?;
        if !other.allows_all_outbound {
            let mut egress = ec2::SecurityGroupEgress::new(other.group_id(), port.ip_protocol())
                .destination_security_group_id(me.group_id())
                .description(description);
            if let Some((from, to)) = port.range() {
                egress = egress.from_port(from).to_port(to);
            }
            let id = format!("To{}{}", me.group.logical_id(), port.id());
            within(scope, other, |s| add_rule(s, &id, egress))?;
        }
        Ok(())
    }

    /// [`allow_from`](Self::allow_from) on this side's default port.
    pub fn allow_default_port_from(
        &self,
        scope: &mut Scope<'_>,
        peer: &dyn Connectable,
        description: &str,
    ) -> Result<(), SynthError> {
        let port = self.default_port.ok_or_else(|| SynthError::Construct {
            path: self.security_group.path.clone(),
            message: "this group has no default port; use allow_from with a port".into(),
        })?;
        self.allow_from(scope, peer, port, description)
    }
}

/// Adds `rule` as child `id` of `scope` unless that child is already this very rule, so a
/// repeated identical `allow_from` is a no-op (as `addIngressRule` is in the AWS CDK). A
/// different rule under the same id (another description) is still added, and synth reports
/// the duplicate logical id rather than silently keeping either.
fn add_rule<R: Resource>(scope: &mut Scope<'_>, id: &str, rule: R) {
    let same = scope
        .find_child(id)
        .is_some_and(|e| e.type_name == R::SPEC.type_name && e.properties == rule.properties());
    if !same {
        scope.add(id, rule);
    }
}

/// Runs `f` in the scope of `group`, which must be `scope` itself or below it.
fn within<T>(
    scope: &mut Scope<'_>,
    group: &SecurityGroup,
    f: impl FnOnce(&mut Scope<'_>) -> T,
) -> Result<T, SynthError> {
    let from = scope.path().to_owned();
    match scope.at(&group.node) {
        Some(mut s) => Ok(f(&mut s)),
        None => Err(SynthError::Construct {
            path: group.path.clone(),
            message: format!(
                "connections are added from a scope above both groups (the stack root), not from {from}"
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Vpc, VpcProps};
    use serde_json::json;
    use snowcdk_constructs_core::tree::Stack;
    use snowcdk_constructs_rules::synth_stack;

    fn groups(stack: &mut Stack) -> (Connections, Connections, Connections) {
        let mut root = stack.root();
        let vpc = Vpc::new(&mut root, "Net", &VpcProps::default()).expect("vpc");
        let https = CidrRule::any_ipv4(Port::tcp(443), "HTTPS out");
        let db = SecurityGroup::new(
            &mut root,
            "Db",
            &vpc,
            &SecurityGroupProps {
                name: None,
                description: "db".into(),
                egress: Egress::AllowAll {
                    description: "all out".into(),
                },
            },
        )
        .expect("db");
        let app = SecurityGroup::new(
            &mut root,
            "App",
            &vpc,
            &SecurityGroupProps {
                name: None,
                description: "app".into(),
                egress: Egress::Only(vec![https]),
            },
        )
        .expect("app");
        let closed = SecurityGroup::new(
            &mut root,
            "Closed",
            &vpc,
            &SecurityGroupProps {
                name: None,
                description: "closed".into(),
                egress: Egress::Only(vec![]),
            },
        )
        .expect("closed");
        (
            Connections::new(db, Some(Port::tcp(5432))),
            Connections::new(app, None),
            Connections::new(closed, None),
        )
    }

    #[test]
    fn a_repeated_identical_rule_is_a_no_op_and_a_different_one_an_error() {
        let mut stack = Stack::new("T");
        let (db, app, _) = groups(&mut stack);
        let mut root = stack.root();
        for _ in 0..2 {
            db.allow_default_port_from(&mut root, &app, "app to db")
                .expect("rule");
        }
        let t = synth_stack(&stack).expect("synth").template.to_json();
        let ids: Vec<&String> = t["Resources"]
            .as_object()
            .expect("resources")
            .keys()
            .filter(|k| k.contains("Tcp5432"))
            .collect();
        assert_eq!(ids, ["DbFromAppTcp5432", "AppToDbTcp5432"]);

        // Same groups and port, another description: not silently merged.
        let mut stack = Stack::new("T");
        let (db, app, _) = groups(&mut stack);
        let mut root = stack.root();
        db.allow_default_port_from(&mut root, &app, "app to db")
            .expect("rule");
        db.allow_default_port_from(&mut root, &app, "app to db again")
            .expect("rule");
        let errors = synth_stack(&stack).expect_err("duplicate");
        assert!(
            errors.iter().any(|e| matches!(
                e,
                SynthError::DuplicateLogicalId { id, .. } if id == "DbFromAppTcp5432"
            )),
            "{errors:?}"
        );
    }

    #[test]
    fn rules_are_standalone_on_both_sides_and_acyclic() {
        let mut stack = Stack::new("T");
        let (db, app, _) = groups(&mut stack);
        let mut root = stack.root();
        db.allow_default_port_from(&mut root, &app, "app to db")
            .expect("rule");
        let t = synth_stack(&stack).expect("synth").template.to_json();
        let r = &t["Resources"];
        assert_eq!(
            r["DbFromAppTcp5432"]["Properties"],
            json!({"Description": "app to db", "FromPort": 5432,
                   "GroupId": {"Fn::GetAtt": ["Db", "GroupId"]}, "IpProtocol": "tcp",
                   "SourceSecurityGroupId": {"Fn::GetAtt": ["App", "GroupId"]}, "ToPort": 5432})
        );
        assert_eq!(
            r["AppToDbTcp5432"]["Properties"]["DestinationSecurityGroupId"],
            json!({"Fn::GetAtt": ["Db", "GroupId"]})
        );
        // The peer that allows all outbound gets no redundant egress rule.
        let mut stack = Stack::new("T");
        let (db, app, _) = groups(&mut stack);
        let mut root = stack.root();
        app.allow_from(&mut root, &db, Port::tcp(8080), "db to app")
            .expect("rule");
        let t = synth_stack(&stack).expect("synth").template.to_json();
        assert!(t["Resources"].get("AppFromDbTcp8080").is_some());
        assert!(t["Resources"].get("DbToAppTcp8080").is_none());
    }

    #[test]
    fn inline_egress_always_present() {
        let mut stack = Stack::new("T");
        let _ = groups(&mut stack);
        let t = synth_stack(&stack).expect("synth").template.to_json();
        let egress = |id: &str| t["Resources"][id]["Properties"]["SecurityGroupEgress"].clone();
        assert_eq!(
            egress("Db"),
            json!([{"CidrIp": "0.0.0.0/0", "Description": "all out", "IpProtocol": "-1"}])
        );
        assert_eq!(egress("App")[0]["FromPort"], json!(443));
        assert_eq!(egress("Closed")[0]["CidrIp"], json!("255.255.255.255/32"));
    }

    #[test]
    fn bad_descriptions_and_scopes_are_errors() {
        let mut stack = Stack::new("T");
        let (db, app, _) = groups(&mut stack);
        let mut root = stack.root();
        let e = db
            .allow_default_port_from(&mut root, &app, "app's access")
            .expect_err("apostrophe");
        assert!(e.to_string().contains("T/Db"), "{e}");
        let mut inner = root.child("Elsewhere");
        let e = db
            .allow_default_port_from(&mut inner, &app, "ok")
            .expect_err("scope");
        assert!(e.to_string().contains("stack root"), "{e}");
        let e = app
            .allow_default_port_from(&mut root, &db, "ok")
            .expect_err("no default port");
        assert!(e.to_string().contains("no default port"), "{e}");
    }
}
