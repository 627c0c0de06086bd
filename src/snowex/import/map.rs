//! Mapping: which logical id of the stage's synthesized template owns each live resource.
//!
//! The template is read, not assumed: a subnet is public when the template routes its table to
//! the internet gateway, its AZ position is its `Fn::Select` index, a security group belongs to
//! the database, the function or the instance that lists it, a role to the function (its
//! `Role`) or to the instance profile. Live resources are matched by the same relations (a live
//! subnet is public when its route table sends 0.0.0.0/0 to an internet gateway; subnets of a
//! kind pair up in AZ order). What has no counterpart on either side goes to `not_imported`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value as Json, json};

use crate::import::{Adoption, ImportPlan, NotImported};

use super::discover::{LiveRole, LiveRule, LiveSecurityGroup, LiveSystem};

/// The template's resources, read by type and reference.
struct Template<'a> {
    resources: Vec<(&'a str, &'a str, &'a Map<String, Json>)>,
}

static EMPTY: std::sync::LazyLock<Map<String, Json>> = std::sync::LazyLock::new(Map::new);

impl<'a> Template<'a> {
    fn new(doc: &'a Json) -> Template<'a> {
        let resources = doc
            .get("Resources")
            .and_then(Json::as_object)
            .map(|r| {
                r.iter()
                    .map(|(id, body)| {
                        (
                            id.as_str(),
                            body.get("Type").and_then(Json::as_str).unwrap_or_default(),
                            body.get("Properties")
                                .and_then(Json::as_object)
                                .unwrap_or(&EMPTY),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Template { resources }
    }

    fn of_type(&self, ty: &str) -> Vec<(&'a str, &'a Map<String, Json>)> {
        self.resources
            .iter()
            .filter(|(_, t, _)| *t == ty)
            .map(|(id, _, p)| (*id, *p))
            .collect()
    }

    fn type_of(&self, id: &str) -> Option<&'a str> {
        self.resources
            .iter()
            .find(|(i, _, _)| *i == id)
            .map(|(_, t, _)| *t)
    }
}

/// The logical id a `Ref` or `Fn::GetAtt` points at.
fn target(v: Option<&Json>) -> Option<&str> {
    let v = v?;
    if let Some(r) = v.get("Ref").and_then(Json::as_str) {
        return Some(r);
    }
    v.get("Fn::GetAtt")
        .and_then(Json::as_array)
        .and_then(|a| a.first())
        .and_then(Json::as_str)
}

fn first_target(v: Option<&Json>) -> Option<&str> {
    target(v?.as_array()?.first())
}

fn tags_json(tags: &BTreeMap<String, String>) -> Option<Json> {
    if tags.is_empty() {
        return None;
    }
    Some(Json::Array(
        tags.iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect(),
    ))
}

/// Builds the plan as it goes.
struct Builder<'a> {
    t: Template<'a>,
    plan: ImportPlan,
    /// Live ids already adopted (one live resource has one owner).
    taken: BTreeSet<String>,
}

impl Builder<'_> {
    fn adopted(&self, logical_id: &str) -> Option<&Adoption> {
        self.plan
            .resources
            .iter()
            .find(|a| a.logical_id == logical_id)
    }

    /// The live id adopted by a logical id.
    fn physical(&self, logical_id: &str) -> Option<String> {
        self.adopted(logical_id).map(|a| a.physical_id.clone())
    }

    #[allow(clippy::too_many_arguments)]
    fn adopt(
        &mut self,
        logical_id: &str,
        identifier: &[(&str, &str)],
        physical_id: &str,
        attributes: &[(&str, &str)],
        mut live: Map<String, Json>,
        tags: Option<&BTreeMap<String, String>>,
    ) {
        if self.adopted(logical_id).is_some() {
            return;
        }
        let resource_type = self.t.type_of(logical_id).unwrap_or_default().to_owned();
        let key = format!("{resource_type}|{physical_id}");
        if !self.taken.insert(key) {
            self.plan.not_imported.push(NotImported {
                logical_id: Some(logical_id.to_owned()),
                resource_type,
                physical_id: Some(physical_id.to_owned()),
                note: "the live resource is already taken by another logical id (shared on the live side); the update creates this one".into(),
            });
            return;
        }
        if let Some(t) = tags.and_then(tags_json) {
            live.insert("Tags".into(), t);
        }
        self.plan.resources.push(Adoption {
            logical_id: logical_id.to_owned(),
            resource_type,
            identifier: identifier
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            physical_id: physical_id.to_owned(),
            attributes: attributes
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            live,
        });
    }

    fn unmanaged(&mut self, resource_type: &str, physical_id: &str, note: &str) {
        self.plan.not_imported.push(NotImported {
            logical_id: None,
            resource_type: resource_type.to_owned(),
            physical_id: Some(physical_id.to_owned()),
            note: note.to_owned(),
        });
    }
}

fn obj(pairs: Vec<(&str, Json)>) -> Map<String, Json> {
    pairs
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

fn rule_json(r: &LiveRule) -> Json {
    let mut m = obj(vec![
        ("IpProtocol", json!(r.protocol)),
        ("CidrIp", json!(r.cidr)),
        ("Description", json!(r.description)),
    ]);
    if r.protocol != "-1" {
        if let Some(p) = r.from_port {
            m.insert("FromPort".into(), json!(p));
        }
        if let Some(p) = r.to_port {
            m.insert("ToPort".into(), json!(p));
        }
    }
    Json::Object(m)
}

fn group_live(g: &LiveSecurityGroup, vpc: Option<&str>) -> Map<String, Json> {
    let cidr = |egress: bool| -> Vec<Json> {
        g.rules
            .iter()
            .filter(|r| r.egress == egress && r.cidr.is_some())
            .map(rule_json)
            .collect()
    };
    let mut m = obj(vec![
        ("GroupDescription", json!(g.description)),
        ("GroupName", json!(g.name)),
        ("VpcId", json!(vpc)),
    ]);
    m.insert("SecurityGroupEgress".into(), Json::Array(cidr(true)));
    let ingress = cidr(false);
    if !ingress.is_empty() {
        m.insert("SecurityGroupIngress".into(), Json::Array(ingress));
    }
    m
}

fn role_live(r: &LiveRole) -> Map<String, Json> {
    let mut m = obj(vec![
        ("RoleName", json!(r.name)),
        ("AssumeRolePolicyDocument", json!(r.assume_role_policy)),
    ]);
    // Read and absent (null) or none (empty): a template that sets them is a difference.
    m.insert("Description".into(), json!(r.description));
    if r.path != "/" {
        m.insert("Path".into(), json!(r.path));
    }
    m.insert("ManagedPolicyArns".into(), json!(r.managed_policies));
    {
        m.insert(
            "Policies".into(),
            Json::Array(
                r.inline_policies
                    .iter()
                    .map(|(n, d)| json!({"PolicyName": n, "PolicyDocument": d}))
                    .collect(),
            ),
        );
    }
    m
}

/// The template's subnets of one kind, in AZ order: (logical id, AZ index).
fn template_subnets<'a>(t: &Template<'a>, public: bool) -> Vec<&'a str> {
    let igws: BTreeSet<&str> = t
        .of_type("AWS::EC2::InternetGateway")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let public_tables: BTreeSet<&str> = t
        .of_type("AWS::EC2::Route")
        .into_iter()
        .filter(|(_, p)| target(p.get("GatewayId")).is_some_and(|g| igws.contains(g)))
        .filter_map(|(_, p)| target(p.get("RouteTableId")))
        .collect();
    let table_of = |subnet: &str| {
        t.of_type("AWS::EC2::SubnetRouteTableAssociation")
            .into_iter()
            .find(|(_, p)| target(p.get("SubnetId")) == Some(subnet))
            .and_then(|(_, p)| target(p.get("RouteTableId")))
    };
    let mut subnets: Vec<(usize, usize, &str)> = t
        .of_type("AWS::EC2::Subnet")
        .into_iter()
        .enumerate()
        .filter(|(_, (id, _))| table_of(id).is_some_and(|rt| public_tables.contains(rt)) == public)
        .map(|(order, (id, p))| {
            let az = p
                .get("AvailabilityZone")
                .and_then(|a| a.get("Fn::Select"))
                .and_then(|s| s.get(0))
                .and_then(Json::as_u64)
                .map(|i| i as usize)
                .unwrap_or(order);
            (az, order, id)
        })
        .collect();
    subnets.sort();
    subnets.into_iter().map(|(_, _, id)| id).collect()
}

/// The template's association of a subnet: (association id, route table id).
fn association<'a>(t: &Template<'a>, subnet: &str) -> Option<(&'a str, &'a str)> {
    t.of_type("AWS::EC2::SubnetRouteTableAssociation")
        .into_iter()
        .find(|(_, p)| target(p.get("SubnetId")) == Some(subnet))
        .map(|(id, p)| (id, target(p.get("RouteTableId")).unwrap_or_default()))
}

/// Maps the live system onto the stage's template.
pub fn map(stage: &str, doc: &Json, live: &LiveSystem) -> ImportPlan {
    let mut b = Builder {
        t: Template::new(doc),
        plan: ImportPlan {
            stage: stage.to_owned(),
            ..ImportPlan::default()
        },
        taken: BTreeSet::new(),
    };
    network(&mut b, live);
    groups(&mut b, live);
    database(&mut b, live);
    function(&mut b, live);
    instance(&mut b, live);
    rules(&mut b, live);
    // Template resources without a live counterpart: the update creates them.
    let adopted: BTreeSet<String> = b
        .plan
        .resources
        .iter()
        .map(|a| a.logical_id.clone())
        .collect();
    let skipped: BTreeSet<String> = b
        .plan
        .not_imported
        .iter()
        .filter_map(|n| n.logical_id.clone())
        .collect();
    let missing: Vec<NotImported> = b
        .t
        .resources
        .iter()
        .filter(|(id, _, _)| !adopted.contains(*id) && !skipped.contains(*id))
        .map(|(id, ty, _)| NotImported {
            logical_id: Some((*id).to_owned()),
            resource_type: (*ty).to_owned(),
            physical_id: None,
            note: match *ty {
                "AWS::Lambda::Url" => "no Function URL runs: created by the update after the import".into(),
                "AWS::SecretsManager::SecretTargetAttachment" => "created by the update after the import: it writes the instance's host, port and engine into the secret (the password is kept)".into(),
                _ => "no live counterpart found: created by the update after the import".into(),
            },
        })
        .collect();
    b.plan.not_imported.extend(missing);
    b.plan
}

fn network(b: &mut Builder<'_>, live: &LiveSystem) {
    let Some(vpc) = &live.vpc else { return };
    if let Some((id, _)) = b.t.of_type("AWS::EC2::VPC").first().copied() {
        b.adopt(
            id,
            &[("VpcId", &vpc.id)],
            &vpc.id,
            &[("VpcId", &vpc.id), ("CidrBlock", &vpc.cidr)],
            obj(vec![
                ("CidrBlock", json!(vpc.cidr)),
                ("EnableDnsSupport", json!(vpc.dns_support)),
                ("EnableDnsHostnames", json!(vpc.dns_hostnames)),
            ]),
            Some(&vpc.tags),
        );
    }
    if let (Some((igw, tags)), Some((id, _))) = (
        &live.igw,
        b.t.of_type("AWS::EC2::InternetGateway").first().copied(),
    ) {
        b.adopt(
            id,
            &[("InternetGatewayId", igw)],
            igw,
            &[("InternetGatewayId", igw)],
            Map::new(),
            Some(tags),
        );
        if let Some((att, _)) =
            b.t.of_type("AWS::EC2::VPCGatewayAttachment")
                .first()
                .copied()
        {
            b.adopt(
                att,
                &[("AttachmentType", "igw"), ("VpcId", &vpc.id)],
                &format!("IGW|{}", vpc.id),
                &[],
                obj(vec![
                    ("InternetGatewayId", json!(igw)),
                    ("VpcId", json!(vpc.id)),
                ]),
                None,
            );
        }
    }
    for public in [true, false] {
        let wanted = template_subnets(&b.t, public);
        let have: Vec<_> = live.subnets.iter().filter(|s| s.public == public).collect();
        for (i, s) in have.iter().enumerate() {
            let Some(logical) = wanted.get(i).copied() else {
                b.unmanaged(
                    "AWS::EC2::Subnet",
                    &s.id,
                    &format!(
                        "a {} subnet the template has no place for (network.az_count): left unmanaged",
                        if public { "public" } else { "private" }
                    ),
                );
                continue;
            };
            b.adopt(
                logical,
                &[("SubnetId", &s.id)],
                &s.id,
                &[("SubnetId", &s.id), ("AvailabilityZone", &s.az)],
                obj(vec![
                    ("CidrBlock", json!(s.cidr)),
                    ("AvailabilityZone", json!(s.az)),
                    ("MapPublicIpOnLaunch", json!(s.map_public_ip)),
                    ("VpcId", json!(vpc.id)),
                ]),
                Some(&s.tags),
            );
            let Some((assoc_id, table)) = association(&b.t, logical) else {
                continue;
            };
            match (&s.route_table, &s.association) {
                (Some(rt), Some(a)) => {
                    let t = live.route_tables.iter().find(|t| &t.id == rt);
                    b.adopt(
                        table,
                        &[("RouteTableId", rt)],
                        rt,
                        &[("RouteTableId", rt)],
                        obj(vec![("VpcId", json!(vpc.id))]),
                        t.map(|t| &t.tags),
                    );
                    b.adopt(
                        assoc_id,
                        &[("Id", a)],
                        a,
                        &[("Id", a)],
                        obj(vec![
                            ("RouteTableId", json!(rt)),
                            ("SubnetId", json!(s.id)),
                        ]),
                        None,
                    );
                }
                _ => b.plan.not_imported.push(NotImported {
                    logical_id: Some(table.to_owned()),
                    resource_type: "AWS::EC2::RouteTable".into(),
                    physical_id: s.route_table.clone(),
                    note: format!(
                        "subnet {} uses the VPC's main route table: the update creates the stack's own table with the same default route and associates the subnet with it",
                        s.id
                    ),
                }),
            }
        }
    }
    // NAT gateways and their addresses: by the public subnet they sit in, else in order.
    let mut nats: Vec<_> = live.nats.iter().collect();
    for (nat_id, p) in b.t.of_type("AWS::EC2::NatGateway") {
        let want_subnet = target(p.get("SubnetId")).and_then(|s| b.physical(s));
        let pick = nats
            .iter()
            .position(|n| Some(&n.subnet) == want_subnet.as_ref())
            .or(if nats.is_empty() { None } else { Some(0) });
        let Some(i) = pick else { continue };
        let n = nats.remove(i);
        if let (Some(eip), Some(alloc), Some(ip)) = (
            target(p.get("AllocationId")),
            &n.allocation_id,
            &n.public_ip,
        ) {
            b.adopt(
                eip,
                &[("PublicIp", ip), ("AllocationId", alloc)],
                ip,
                &[("AllocationId", alloc), ("PublicIp", ip)],
                obj(vec![("Domain", json!("vpc"))]),
                Some(&n.eip_tags),
            );
        }
        b.adopt(
            nat_id,
            &[("NatGatewayId", &n.id)],
            &n.id,
            &[("NatGatewayId", &n.id)],
            obj(vec![
                ("SubnetId", json!(n.subnet)),
                ("AllocationId", json!(n.allocation_id)),
            ]),
            Some(&n.tags),
        );
    }
    for n in nats {
        b.unmanaged(
            "AWS::EC2::NatGateway",
            &n.id,
            "a NAT gateway the template has no place for (network.nat_per_az): left unmanaged",
        );
    }
    // Default routes: a live table's 0.0.0.0/0 route, when the template declares one.
    for (route, p) in b.t.of_type("AWS::EC2::Route") {
        let Some(rt) = target(p.get("RouteTableId")).and_then(|t| b.physical(t)) else {
            continue;
        };
        let dest = p
            .get("DestinationCidrBlock")
            .and_then(Json::as_str)
            .unwrap_or_default();
        let Some(table) = live.route_tables.iter().find(|t| t.id == rt) else {
            continue;
        };
        let (key, value) = if p.contains_key("GatewayId") {
            ("GatewayId", table.default_igw.clone())
        } else {
            ("NatGatewayId", table.default_nat.clone())
        };
        let Some(value) = value.filter(|_| dest == "0.0.0.0/0") else {
            continue;
        };
        b.adopt(
            route,
            &[("RouteTableId", &rt), ("CidrBlock", dest)],
            &format!("{rt}|{dest}"),
            &[],
            obj(vec![
                ("DestinationCidrBlock", json!(dest)),
                (key, json!(value)),
                ("RouteTableId", json!(rt)),
            ]),
            None,
        );
    }
}

/// The security groups, by the resource that lists them.
fn groups(b: &mut Builder<'_>, live: &LiveSystem) {
    let vpc = live.vpc.as_ref().map(|v| v.id.as_str());
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let (Some(db), Some((_, p))) = (
        &live.db,
        b.t.of_type("AWS::RDS::DBInstance").first().copied(),
    ) && let (Some(sg), Some(live_sg)) = (
        first_target(p.get("VPCSecurityGroups")),
        db.security_groups.first(),
    ) {
        pairs.push((sg.to_owned(), live_sg.clone()));
    }
    if let (Some(f), Some((_, p))) = (
        &live.function,
        b.t.of_type("AWS::Lambda::Function").first().copied(),
    ) && let (Some(sg), Some(live_sg)) = (
        first_target(p.get("VpcConfig").and_then(|v| v.get("SecurityGroupIds"))),
        f.security_groups.first(),
    ) {
        pairs.push((sg.to_owned(), live_sg.clone()));
    }
    if let (Some(i), Some((_, p))) = (
        &live.instance,
        b.t.of_type("AWS::EC2::Instance").first().copied(),
    ) && let (Some(sg), Some(live_sg)) = (
        first_target(p.get("SecurityGroupIds")),
        i.security_groups.first(),
    ) {
        pairs.push((sg.to_owned(), live_sg.clone()));
    }
    for (logical, id) in pairs {
        let Some(g) = live.group(&id) else { continue };
        b.adopt(
            &logical,
            &[("Id", &g.id)],
            &g.id,
            &[("GroupId", &g.id), ("VpcId", vpc.unwrap_or_default())],
            group_live(g, vpc),
            Some(&g.tags),
        );
    }
    for g in &live.security_groups {
        if !b
            .taken
            .contains(&format!("AWS::EC2::SecurityGroup|{}", g.id))
        {
            b.unmanaged(
                "AWS::EC2::SecurityGroup",
                &g.id,
                "an additional group of a discovered resource: left unmanaged (the template lists one group per resource, so the update detaches this one)",
            );
        }
    }
}

/// The group-to-group rules: the template's standalone ingress and egress resources.
fn rules(b: &mut Builder<'_>, live: &LiveSystem) {
    let mut used: BTreeSet<String> = BTreeSet::new();
    for (ty, egress, peer_key) in [
        (
            "AWS::EC2::SecurityGroupIngress",
            false,
            "SourceSecurityGroupId",
        ),
        (
            "AWS::EC2::SecurityGroupEgress",
            true,
            "DestinationSecurityGroupId",
        ),
    ] {
        for (logical, p) in b.t.of_type(ty) {
            let group = target(p.get("GroupId")).and_then(|g| b.physical(g));
            let peer = target(p.get(peer_key)).and_then(|g| b.physical(g));
            let (Some(group), Some(peer)) = (group, peer) else {
                continue;
            };
            let port = |k: &str| p.get(k).and_then(Json::as_i64).map(|n| n as i32);
            let proto = p.get("IpProtocol").and_then(Json::as_str).unwrap_or("-1");
            let Some(rule) = live.group(&group).and_then(|g| {
                g.rules.iter().find(|r| {
                    r.egress == egress
                        && r.peer_group.as_deref() == Some(peer.as_str())
                        && r.protocol == proto
                        && r.from_port == port("FromPort")
                        && r.to_port == port("ToPort")
                })
            }) else {
                continue;
            };
            used.insert(rule.id.clone());
            let mut l = obj(vec![
                ("GroupId", json!(group)),
                (peer_key, json!(peer)),
                ("IpProtocol", json!(rule.protocol)),
                ("FromPort", json!(rule.from_port)),
                ("ToPort", json!(rule.to_port)),
            ]);
            // No description is a value too: the template's would be added.
            l.insert(
                "Description".into(),
                json!(rule.description.clone().unwrap_or_default()),
            );
            b.adopt(
                logical,
                &[("Id", &rule.id)],
                &rule.id,
                &[("Id", &rule.id)],
                l,
                None,
            );
        }
    }
    for g in &live.security_groups {
        for r in g.rules.iter().filter(|r| r.peer_group.is_some()) {
            if !used.contains(&r.id) {
                b.unmanaged(
                    if r.egress {
                        "AWS::EC2::SecurityGroupEgress"
                    } else {
                        "AWS::EC2::SecurityGroupIngress"
                    },
                    &r.id,
                    &format!(
                        "a rule of {} the template does not declare: left unmanaged",
                        g.id
                    ),
                );
            }
        }
    }
}

fn database(b: &mut Builder<'_>, live: &LiveSystem) {
    let Some(db) = &live.db else { return };
    let Some((logical, p)) = b.t.of_type("AWS::RDS::DBInstance").first().copied() else {
        return;
    };
    let port = db.port.to_string();
    b.adopt(
        logical,
        &[("DBInstanceIdentifier", &db.identifier)],
        &db.identifier,
        &[
            ("Endpoint.Address", &db.address),
            ("Endpoint.Port", &port),
            ("DBInstanceArn", &db.arn),
        ],
        db.properties.clone(),
        Some(&db.tags),
    );
    if let Some(sg) = target(p.get("DBSubnetGroupName")) {
        b.adopt(
            sg,
            &[("DBSubnetGroupName", &db.subnet_group)],
            &db.subnet_group,
            &[],
            obj(vec![
                ("DBSubnetGroupName", json!(db.subnet_group)),
                (
                    "DBSubnetGroupDescription",
                    json!(db.subnet_group_description),
                ),
                ("SubnetIds", json!(db.subnet_group_subnets)),
            ]),
            None,
        );
    }
    if let Some(pg) = target(p.get("DBParameterGroupName")) {
        match &db.parameter_group {
            Some(g) => b.adopt(
                pg,
                &[("DBParameterGroupName", &g.name)],
                &g.name,
                &[],
                obj(vec![
                    ("DBParameterGroupName", json!(g.name)),
                    ("Description", json!(g.description)),
                    ("Family", json!(g.family)),
                    ("Parameters", json!(g.parameters)),
                ]),
                None,
            ),
            None => b.plan.not_imported.push(NotImported {
                logical_id: Some(pg.to_owned()),
                resource_type: "AWS::RDS::DBParameterGroup".into(),
                physical_id: db
                    .properties
                    .get("DBParameterGroupName")
                    .and_then(Json::as_str)
                    .map(str::to_owned),
                note: "the instance uses a default parameter group (not importable): the update creates the stack's group and switches the instance to it; static parameters apply at the next reboot".into(),
            }),
        }
    }
    // The secret the instance's password comes from.
    if let Some(s) = &live.secret
        && let Some((logical, _)) = b.t.of_type("AWS::SecretsManager::Secret").first().copied()
    {
        b.adopt(
            logical,
            &[("Id", &s.arn)],
            &s.arn,
            &[("Id", &s.arn)],
            obj(vec![
                ("Name", json!(s.name)),
                ("Description", json!(s.description)),
            ]),
            Some(&s.tags),
        );
    }
    for (logical, p) in b.t.of_type("AWS::Logs::LogGroup") {
        let Some(name) = p.get("LogGroupName").and_then(Json::as_str) else {
            continue;
        };
        if live.log_groups.iter().any(|g| g == name) {
            b.adopt(
                logical,
                &[("LogGroupName", name)],
                name,
                &[],
                log_group_live(live, name),
                None,
            );
        }
    }
}

/// A log group's name and retention (null: never expire).
fn log_group_live(live: &LiveSystem, name: &str) -> Map<String, Json> {
    let mut m = Map::new();
    m.insert("LogGroupName".into(), json!(name));
    m.insert(
        "RetentionInDays".into(),
        json!(live.log_retention.get(name)),
    );
    m
}

fn function(b: &mut Builder<'_>, live: &LiveSystem) {
    let Some(f) = &live.function else { return };
    let Some((logical, p)) = b.t.of_type("AWS::Lambda::Function").first().copied() else {
        return;
    };
    b.adopt(
        logical,
        &[("FunctionName", &f.name)],
        &f.name,
        &[("Arn", &f.arn)],
        f.properties.clone(),
        None,
    );
    if let (Some(role), Some(r)) = (target(p.get("Role")), &live.function_role) {
        b.adopt(
            role,
            &[("RoleName", &r.name)],
            &r.name,
            &[("Arn", &r.arn), ("RoleId", &r.id)],
            role_live(r),
            Some(&r.tags),
        );
    }
    if let Some(lg) = target(p.get("LoggingConfig").and_then(|l| l.get("LogGroup")))
        && live.log_groups.contains(&f.log_group)
    {
        b.adopt(
            lg,
            &[("LogGroupName", &f.log_group)],
            &f.log_group,
            &[],
            log_group_live(live, &f.log_group),
            None,
        );
    }
    if let (Some((auth, url)), Some((url_id, _))) =
        (&f.url, b.t.of_type("AWS::Lambda::Url").first().copied())
    {
        b.adopt(
            url_id,
            &[("FunctionArn", &f.arn)],
            &f.arn,
            &[("FunctionUrl", url), ("FunctionArn", &f.arn)],
            obj(vec![
                ("AuthType", json!(auth)),
                ("TargetFunctionArn", json!(f.arn)),
            ]),
            None,
        );
    }
    // Resource-policy statements, matched on action and principal (and the URL condition).
    let mut statements: Vec<&Json> = f.permissions.iter().collect();
    for (perm, p) in b.t.of_type("AWS::Lambda::Permission") {
        let action = p.get("Action").and_then(Json::as_str).unwrap_or_default();
        let principal = p
            .get("Principal")
            .and_then(Json::as_str)
            .unwrap_or_default();
        let pick = statements.iter().position(|s| {
            s.get("Action").and_then(Json::as_str) == Some(action)
                && match s.get("Principal") {
                    Some(Json::String(x)) => x == principal,
                    Some(o) => {
                        o.get("Service")
                            .or_else(|| o.get("AWS"))
                            .and_then(Json::as_str)
                            == Some(principal)
                    }
                    None => false,
                }
        });
        let Some(i) = pick else { continue };
        let s = statements.remove(i);
        let sid = s.get("Sid").and_then(Json::as_str).unwrap_or_default();
        let url_auth = s
            .pointer("/Condition/StringEquals/lambda:FunctionUrlAuthType")
            .cloned();
        let mut l = obj(vec![
            ("Action", json!(action)),
            ("Principal", json!(principal)),
            ("FunctionName", json!(f.arn)),
        ]);
        if let Some(a) = url_auth {
            l.insert("FunctionUrlAuthType".into(), a);
        }
        b.adopt(
            perm,
            &[("FunctionName", &f.arn), ("Id", sid)],
            sid,
            &[],
            l,
            None,
        );
    }
    for s in statements {
        b.unmanaged(
            "AWS::Lambda::Permission",
            s.get("Sid").and_then(Json::as_str).unwrap_or_default(),
            "a statement of the function's resource policy the template does not declare: left unmanaged",
        );
    }
}

fn instance(b: &mut Builder<'_>, live: &LiveSystem) {
    let Some(i) = &live.instance else { return };
    let Some((logical, p)) = b.t.of_type("AWS::EC2::Instance").first().copied() else {
        return;
    };
    b.adopt(
        logical,
        &[("InstanceId", &i.id)],
        &i.id,
        &[("InstanceId", &i.id)],
        i.properties.clone(),
        None,
    );
    let Some(profile) = target(p.get("IamInstanceProfile")) else {
        return;
    };
    let profile_props =
        b.t.of_type("AWS::IAM::InstanceProfile")
            .into_iter()
            .find(|(id, _)| *id == profile)
            .map(|(_, p)| p);
    if let (Some(name), Some(arn)) = (&i.profile, &i.profile_arn) {
        let roles: Vec<&str> = i.role.iter().map(|r| r.name.as_str()).collect();
        b.adopt(
            profile,
            &[("InstanceProfileName", name)],
            name,
            &[("Arn", arn)],
            obj(vec![
                ("InstanceProfileName", json!(name)),
                ("Roles", json!(roles)),
            ]),
            None,
        );
    }
    if let (Some(role), Some(r)) = (
        profile_props.and_then(|p| first_target(p.get("Roles"))),
        &i.role,
    ) {
        b.adopt(
            role,
            &[("RoleName", &r.name)],
            &r.name,
            &[("Arn", &r.arn), ("RoleId", &r.id)],
            role_live(r),
            Some(&r.tags),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snowex::import::discover::{LiveRouteTable, LiveSubnet, LiveVpc};

    /// A VPC with a public and a private subnet per AZ, shaped like the Vpc construct's.
    fn template() -> Json {
        let mut r = serde_json::Map::new();
        r.insert(
            "Vpc".into(),
            json!({"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}}),
        );
        r.insert("Igw".into(), json!({"Type": "AWS::EC2::InternetGateway"}));
        for (kind, public) in [("Public", true), ("Private", false)] {
            for i in 0..2 {
                let s = format!("{kind}{}", i + 1);
                r.insert(
                    format!("{s}Subnet"),
                    json!({"Type": "AWS::EC2::Subnet", "Properties": {
                        "VpcId": {"Ref": "Vpc"},
                        "AvailabilityZone": {"Fn::Select": [i, {"Fn::GetAZs": ""}]}
                    }}),
                );
                r.insert(format!("{s}Rt"), json!({"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "Vpc"}}}));
                r.insert(format!("{s}Assoc"), json!({"Type": "AWS::EC2::SubnetRouteTableAssociation", "Properties": {
                    "RouteTableId": {"Ref": format!("{s}Rt")}, "SubnetId": {"Ref": format!("{s}Subnet")}
                }}));
                if public {
                    r.insert(format!("{s}Route"), json!({"Type": "AWS::EC2::Route", "Properties": {
                        "RouteTableId": {"Ref": format!("{s}Rt")}, "DestinationCidrBlock": "0.0.0.0/0",
                        "GatewayId": {"Ref": "Igw"}
                    }}));
                }
            }
        }
        json!({"Resources": r})
    }

    fn subnet(id: &str, az: &str, public: bool, rt: &str, assoc: Option<&str>) -> LiveSubnet {
        LiveSubnet {
            id: id.into(),
            cidr: format!("10.0.{}.0/24", id.len()),
            az: az.into(),
            public,
            route_table: Some(rt.into()),
            association: assoc.map(str::to_owned),
            ..LiveSubnet::default()
        }
    }

    #[test]
    fn subnets_pair_by_kind_and_zone_order_and_the_rest_is_explained() {
        let live = LiveSystem {
            azs: vec![
                "us-west-2a".into(),
                "us-west-2b".into(),
                "us-west-2c".into(),
            ],
            vpc: Some(LiveVpc {
                id: "vpc-1".into(),
                cidr: "10.0.0.0/16".into(),
                ..LiveVpc::default()
            }),
            igw: Some(("igw-1".into(), BTreeMap::new())),
            route_tables: vec![
                LiveRouteTable {
                    id: "rtb-pub".into(),
                    default_igw: Some("igw-1".into()),
                    ..LiveRouteTable::default()
                },
                LiveRouteTable {
                    id: "rtb-main".into(),
                    main: true,
                    ..LiveRouteTable::default()
                },
                LiveRouteTable {
                    id: "rtb-priv".into(),
                    ..LiveRouteTable::default()
                },
            ],
            // Sorted by zone as discovery sorts them; both public subnets share one table.
            subnets: vec![
                subnet("subnet-pa", "us-west-2a", true, "rtb-pub", Some("a-1")),
                subnet("subnet-qa", "us-west-2a", false, "rtb-main", None),
                subnet("subnet-pc", "us-west-2c", true, "rtb-pub", Some("a-2")),
                subnet("subnet-qc", "us-west-2c", false, "rtb-priv", Some("a-3")),
                subnet("subnet-qx", "us-west-2c", false, "rtb-priv", Some("a-4")),
            ],
            ..LiveSystem::default()
        };
        let plan = map("dev", &template(), &live);
        let owner = |logical: &str| {
            plan.resources
                .iter()
                .find(|a| a.logical_id == logical)
                .map(|a| a.physical_id.as_str())
        };
        assert_eq!(owner("Vpc"), Some("vpc-1"));
        assert_eq!(owner("Public1Subnet"), Some("subnet-pa"));
        assert_eq!(owner("Public2Subnet"), Some("subnet-pc"));
        assert_eq!(owner("Private1Subnet"), Some("subnet-qa"));
        assert_eq!(owner("Private2Subnet"), Some("subnet-qc"));
        assert_eq!(owner("Public1Rt"), Some("rtb-pub"));
        assert_eq!(owner("Public1Route"), Some("rtb-pub|0.0.0.0/0"));
        assert_eq!(owner("Private2Assoc"), Some("a-3"));
        // One live table, two logical ones: the second is created by the update.
        assert_eq!(owner("Public2Rt"), None);
        let note = |logical: &str| {
            plan.not_imported
                .iter()
                .find(|n| n.logical_id.as_deref() == Some(logical))
                .map(|n| n.note.as_str())
                .unwrap_or_default()
        };
        assert!(note("Public2Rt").contains("already taken"), "{plan:#?}");
        // A subnet on the main table: its own table is created, with a note.
        assert!(note("Private1Rt").contains("main route table"), "{plan:#?}");
        // A third private subnet has no place: left unmanaged.
        assert!(
            plan.not_imported
                .iter()
                .any(|n| n.physical_id.as_deref() == Some("subnet-qx")
                    && n.note.contains("left unmanaged"))
        );
        // The live zone is read as is; the preview compares it with the template's.
        let az = plan
            .resources
            .iter()
            .find(|a| a.logical_id == "Public2Subnet")
            .and_then(|a| a.live.get("AvailabilityZone").cloned());
        assert_eq!(az, Some(json!("us-west-2c")));
    }
}
