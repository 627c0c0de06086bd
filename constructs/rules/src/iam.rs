//! IAM: `SNX-IAM-001` (no data-access actions on every resource). [`statements`] lists every
//! grant of a template (identity, trust and resource policies, managed policy attachments,
//! Lambda permissions and URLs); `snowcdk diff` shows which ones a change adds or removes.

use serde::Serialize;
use serde_json::Value as Json;

use super::finding::IAM_DATA_WILDCARD;
use super::json::{Ctx, Res, glob_match, items, resources};
use super::network::display;

/// Actions that read, write or delete data. A statement's action patterns are matched against
/// these (so `s3:Get*`, `s3:*` and `*` count, `s3:GetBucketLocation` does not).
pub const DATA_ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:ListBucket",
    "s3:RestoreObject",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecret",
    "secretsmanager:DeleteSecret",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "ssm:GetParameterHistory",
    "ssm:PutParameter",
    "ssm:DeleteParameter",
    "ssm:DeleteParameters",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:ReEncryptFrom",
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLSelect",
    "rds-db:connect",
    "rds-data:ExecuteStatement",
    "rds-data:BatchExecuteStatement",
    "rds:DeleteDBInstance",
    "rds:DeleteDBCluster",
    "rds:ModifyDBSnapshotAttribute",
    "sqs:ReceiveMessage",
    "sqs:SendMessage",
    "sqs:DeleteMessage",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
];

/// What kind of policy a statement belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyKind {
    /// What a role, user or group may do.
    Identity,
    /// Who may assume a role.
    Trust,
    /// Who may use a resource (bucket policy, Lambda permission, ...).
    Resource,
}

/// One policy statement (or grant), normalized for review.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Statement {
    /// Where the statement comes from.
    pub kind: PolicyKind,
    /// Who holds the permissions: `role ApiRole`, `bucket policy on ${Bucket}`, ...
    pub subject: String,
    /// `Allow` or `Deny`.
    pub effect: String,
    /// The principal, for resource policies.
    pub principal: Option<String>,
    /// Action patterns, sorted; `NOT [...]` for `NotAction`.
    pub actions: Vec<String>,
    /// Resource patterns, sorted.
    pub resources: Vec<String>,
    /// The condition block, rendered.
    pub condition: Option<String>,
    /// The resource that holds the statement and where, for messages.
    pub holder: String,
    /// The property holding it, for messages.
    pub property: String,
    #[serde(skip)]
    not_action: bool,
}

impl Statement {
    /// `role ApiRole: Allow secretsmanager:GetSecretValue on ${DbSecret}`.
    pub fn summary(&self) -> String {
        let mut s = format!("{}: {}", self.subject, self.effect);
        if let Some(p) = &self.principal {
            s.push_str(&format!(" {p}"));
        }
        s.push(' ');
        if self.not_action {
            s.push_str("all actions except ");
        }
        s.push_str(&self.actions.join(", "));
        if !self.resources.is_empty() {
            s.push_str(&format!(" on {}", self.resources.join(", ")));
        }
        if let Some(c) = &self.condition {
            s.push_str(&format!(" when {c}"));
        }
        s
    }
}

fn strings(v: &Json) -> Vec<String> {
    let mut out: Vec<String> = items(v).into_iter().map(display).collect();
    out.sort();
    out.dedup();
    out
}

fn principal(v: Option<&Json>) -> Option<String> {
    let v = v?;
    Some(match v {
        Json::Object(o) => o
            .iter()
            .map(|(k, who)| format!("{} {}", k.to_ascii_lowercase(), strings(who).join(", ")))
            .collect::<Vec<_>>()
            .join("; "),
        other => display(other),
    })
}

fn document(
    doc: &Json,
    kind: PolicyKind,
    subject: &str,
    holder: &str,
    property: &str,
    out: &mut Vec<Statement>,
) {
    let Some(stmts) = doc.get("Statement") else {
        return;
    };
    for (i, st) in items(stmts).into_iter().enumerate() {
        let not_action = st.get("NotAction").is_some();
        let actions = strings(
            st.get("Action")
                .or_else(|| st.get("NotAction"))
                .unwrap_or(&Json::Null),
        );
        let mut resources = strings(st.get("Resource").unwrap_or(&Json::Null));
        if let Some(nr) = st.get("NotResource") {
            resources = vec![format!("all resources except {}", strings(nr).join(", "))];
        }
        out.push(Statement {
            kind,
            subject: subject.to_owned(),
            effect: st
                .get("Effect")
                .map(display)
                .unwrap_or_else(|| "Allow".into()),
            principal: principal(st.get("Principal")).or_else(|| {
                principal(st.get("NotPrincipal")).map(|p| format!("everyone except {p}"))
            }),
            actions,
            resources,
            condition: st
                .get("Condition")
                .map(|c| serde_json::to_string(c).unwrap_or_default()),
            holder: holder.to_owned(),
            property: format!("{property}.Statement[{i}]"),
            not_action,
        });
    }
}

fn attached(r: &Res<'_>) -> String {
    let mut who = Vec::new();
    for (key, kind) in [("Roles", "role"), ("Users", "user"), ("Groups", "group")] {
        for v in items(r.prop(key)) {
            let name = super::json::ref_target(v)
                .map(|(id, _)| id.to_owned())
                .unwrap_or_else(|| display(v));
            who.push(format!("{kind} {name}"));
        }
    }
    if who.is_empty() {
        format!("policy {}", r.id)
    } else {
        format!("policy {} of {}", r.id, who.join(", "))
    }
}

fn statements_of(r: &Res<'_>) -> Vec<Statement> {
    let mut out = Vec::new();
    match r.type_name {
        "AWS::IAM::Role" | "AWS::IAM::User" | "AWS::IAM::Group" => {
            let kind = r.type_name.rsplit("::").next().unwrap_or("").to_lowercase();
            let subject = format!("{kind} {}", r.id);
            if let Some(doc) = r.props.get("AssumeRolePolicyDocument") {
                document(
                    doc,
                    PolicyKind::Trust,
                    &format!("trust of {subject}"),
                    r.id,
                    "AssumeRolePolicyDocument",
                    &mut out,
                );
            }
            for (i, p) in items(r.prop("Policies")).into_iter().enumerate() {
                if let Some(doc) = p.get("PolicyDocument") {
                    document(
                        doc,
                        PolicyKind::Identity,
                        &subject,
                        r.id,
                        &format!("Policies[{i}].PolicyDocument"),
                        &mut out,
                    );
                }
            }
            for (i, arn) in items(r.prop("ManagedPolicyArns")).into_iter().enumerate() {
                out.push(Statement {
                    kind: PolicyKind::Identity,
                    subject: subject.clone(),
                    effect: "Attach".into(),
                    principal: None,
                    actions: vec![format!("managed policy {}", display(arn))],
                    resources: Vec::new(),
                    condition: None,
                    holder: r.id.to_owned(),
                    property: format!("ManagedPolicyArns[{i}]"),
                    not_action: false,
                });
            }
        }
        "AWS::IAM::Policy"
        | "AWS::IAM::ManagedPolicy"
        | "AWS::IAM::RolePolicy"
        | "AWS::IAM::UserPolicy"
        | "AWS::IAM::GroupPolicy" => {
            let mut subject = attached(r);
            if let Some(role) = r.props.get("RoleName") {
                subject = format!("policy {} of role {}", r.id, display(role));
            }
            if let Some(doc) = r.props.get("PolicyDocument") {
                document(
                    doc,
                    PolicyKind::Identity,
                    &subject,
                    r.id,
                    "PolicyDocument",
                    &mut out,
                );
            }
        }
        "AWS::S3::BucketPolicy"
        | "AWS::SecretsManager::ResourcePolicy"
        | "AWS::KMS::Key"
        | "AWS::SQS::QueuePolicy"
        | "AWS::SNS::TopicPolicy" => {
            let (doc_key, target_key) = match r.type_name {
                "AWS::S3::BucketPolicy" => ("PolicyDocument", "Bucket"),
                "AWS::SecretsManager::ResourcePolicy" => ("ResourcePolicy", "SecretId"),
                "AWS::KMS::Key" => ("KeyPolicy", ""),
                "AWS::SQS::QueuePolicy" => ("PolicyDocument", "Queues"),
                _ => ("PolicyDocument", "Topics"),
            };
            let target = if target_key.is_empty() {
                format!("${{{}}}", r.id)
            } else {
                strings(r.prop(target_key)).join(", ")
            };
            if let Some(doc) = r.props.get(doc_key) {
                document(
                    doc,
                    PolicyKind::Resource,
                    &format!("resource policy of {target}"),
                    r.id,
                    doc_key,
                    &mut out,
                );
            }
        }
        "AWS::Lambda::Permission" => {
            let mut condition = Vec::new();
            for key in [
                "SourceArn",
                "SourceAccount",
                "FunctionUrlAuthType",
                "PrincipalOrgID",
            ] {
                if let Some(v) = r.props.get(key) {
                    condition.push(format!("{key}={}", display(v)));
                }
            }
            out.push(Statement {
                kind: PolicyKind::Resource,
                subject: format!("permission {}", r.id),
                effect: "Allow".into(),
                principal: r.props.get("Principal").map(display),
                actions: strings(r.prop("Action")),
                resources: strings(r.prop("FunctionName")),
                condition: (!condition.is_empty()).then(|| condition.join(", ")),
                holder: r.id.to_owned(),
                property: String::new(),
                not_action: false,
            });
        }
        "AWS::Lambda::Url" => {
            let auth = r.props.get("AuthType").map(display).unwrap_or_default();
            out.push(Statement {
                kind: PolicyKind::Resource,
                subject: format!("function URL {}", r.id),
                effect: "Allow".into(),
                principal: Some(if auth == "NONE" {
                    "anyone on the internet (AuthType NONE)".into()
                } else {
                    format!("IAM-signed callers (AuthType {auth})")
                }),
                actions: vec!["lambda:InvokeFunctionUrl".into()],
                resources: strings(r.prop("TargetFunctionArn")),
                condition: None,
                holder: r.id.to_owned(),
                property: String::new(),
                not_action: false,
            });
        }
        _ => {}
    }
    out
}

/// Every policy statement and grant of a template, in template order.
pub fn statements(t: &Json) -> Vec<Statement> {
    resources(t).iter().flat_map(statements_of).collect()
}

/// Whether a resource pattern covers every resource of a type: `*`, `arn:...:*`,
/// `arn:aws:s3:::*`, `arn:...:secret:*`, `arn:...:parameter/*`, `arn:...:table/*`.
pub fn is_wildcard_resource(r: &str) -> bool {
    if r == "*" {
        return true;
    }
    // `${AWS::Partition}` and friends hold colons; they never name the resource part.
    let mut flat = String::with_capacity(r.len());
    let mut rest = r;
    while let Some(start) = rest.find("${") {
        flat.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => {
                flat.push('x');
                rest = &rest[start + end + 1..];
            }
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    flat.push_str(rest);
    let parts: Vec<&str> = flat.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" {
        return false;
    }
    let res = parts[5];
    if res == "*" || res == "*/*" {
        return true;
    }
    // S3 ARNs have no resource type: the resource part starts with the bucket name.
    if parts[2] == "s3" {
        return res.starts_with('*');
    }
    match res.split_once([':', '/']) {
        Some((kind, rest)) => {
            !kind.is_empty() && kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && {
                rest == "*" || rest == "*/*"
            }
        }
        None => false,
    }
}

/// The data-access actions a statement's action list allows.
fn data_actions(st: &Statement) -> Vec<&'static str> {
    DATA_ACTIONS
        .iter()
        .copied()
        .filter(|a| {
            let matched = st.actions.iter().any(|p| glob_match(p, a));
            if st.not_action { !matched } else { matched }
        })
        .collect()
}

pub(super) fn check(ctx: &mut Ctx<'_>) {
    let mut found = Vec::new();
    for r in &ctx.resources {
        for st in statements_of(r) {
            if st.kind != PolicyKind::Identity || st.effect != "Allow" {
                continue;
            }
            let wildcard: Vec<&String> = st
                .resources
                .iter()
                .filter(|r| is_wildcard_resource(r))
                .collect();
            if wildcard.is_empty() {
                continue;
            }
            let data = data_actions(&st);
            if data.is_empty() {
                continue;
            }
            let shown: Vec<&str> = data.iter().take(4).copied().collect();
            let more = if data.len() > shown.len() {
                format!(" and {} more", data.len() - shown.len())
            } else {
                String::new()
            };
            found.push((
                st.holder.clone(),
                st.property.clone(),
                format!(
                    "{} allows {}{more} on {}",
                    st.subject,
                    shown.join(", "),
                    wildcard
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    for (id, property, message) in found {
        ctx.report(IAM_DATA_WILDCARD, &id, property, message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_resources() {
        for r in [
            "*",
            "arn:aws:s3:::*",
            "arn:aws:s3:::*/*",
            "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:*",
            "arn:aws:ssm:us-west-2:123456789012:parameter/*",
            "arn:aws:dynamodb:*:*:table/*",
        ] {
            assert!(is_wildcard_resource(r), "{r}");
        }
        for r in [
            "arn:aws:s3:::snowex-data/*",
            "arn:aws:secretsmanager:us-west-2:123456789012:secret:snowex/db-*",
            "arn:aws:ssm:us-west-2:123456789012:parameter/snowex/*",
            "${DbSecret}",
        ] {
            assert!(!is_wildcard_resource(r), "{r}");
        }
    }
}
