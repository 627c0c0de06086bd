//! Plaintext secrets: `SNX-SECRET-001` (resource properties), `SNX-SECRET-002` (literal Lambda
//! environment variables with secret-like names), `SNX-SECRET-003` (secrets resolved into
//! environment variables at deploy time).

use serde_json::Value as Json;

use super::finding::{SECRET_ENV, SECRET_ENV_RESOLVED, SECRET_PROPERTY};
use super::json::{Ctx, has_secret_reference, intrinsic, ref_target};

/// Property names (lowercase, letters and digits only) whose value is a secret.
const SECRET_PROPERTY_SUFFIXES: &[&str] = &[
    "password",
    "passwd",
    "secretstring",
    "secretaccesskey",
    "secretkey",
    "authtoken",
    "accesstoken",
    "apikey",
    "privatekey",
    "clientsecret",
];

/// Words in an environment variable name that say it holds a secret.
const SECRET_ENV_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "CREDENTIAL",
];

/// Name endings that say the variable holds a pointer to a secret, not the secret.
const POINTER_SUFFIXES: &[&str] = &[
    "_ARN",
    "_ID",
    "_NAME",
    "_PARAM",
    "_PARAMETER",
    "_PATH",
    "_URL",
    "_FILE",
    "_REGION",
];

fn normalized(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn is_secret_property(name: &str) -> bool {
    let n = normalized(name);
    SECRET_PROPERTY_SUFFIXES.iter().any(|s| n.ends_with(s))
}

fn is_secret_env(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_ENV_WORDS.iter().any(|w| upper.contains(w))
        && !POINTER_SUFFIXES.iter().any(|s| upper.ends_with(s))
}

/// How a secret-holding value is written.
#[derive(Debug, PartialEq, Eq)]
enum Secrecy {
    /// A dynamic reference, a NoEcho parameter, another resource's attribute: not in the template.
    Hidden,
    /// Written into the template (or a visible parameter): `what` says how.
    Plain(String),
}

fn secrecy(ctx: &Ctx<'_>, v: &Json) -> Secrecy {
    match v {
        Json::String(s) if s.is_empty() || has_secret_reference(s) => Secrecy::Hidden,
        Json::String(_) | Json::Number(_) => Secrecy::Plain("a literal value".into()),
        Json::Bool(_) | Json::Null => Secrecy::Hidden,
        _ => {
            if let Some((id, attr)) = ref_target(v) {
                return if attr.is_none() && ctx.is_param(id) && !ctx.is_no_echo_param(id) {
                    Secrecy::Plain(format!("parameter {id}, which is not NoEcho"))
                } else {
                    Secrecy::Hidden
                };
            }
            match intrinsic(v) {
                Some(("Fn::Sub", arg)) => {
                    let template = match arg {
                        Json::Array(a) => a.first().and_then(Json::as_str).unwrap_or_default(),
                        other => other.as_str().unwrap_or_default(),
                    };
                    if has_secret_reference(template) {
                        Secrecy::Hidden
                    } else {
                        Secrecy::Plain("an Fn::Sub without a secret reference".into())
                    }
                }
                Some(("Fn::Join", Json::Array(a))) if a.len() == 2 => {
                    let parts = a[1].as_array().map(Vec::as_slice).unwrap_or_default();
                    let text: String = parts.iter().filter_map(Json::as_str).collect();
                    if has_secret_reference(&text)
                        || parts.iter().all(|p| secrecy(ctx, p) == Secrecy::Hidden)
                    {
                        Secrecy::Hidden
                    } else {
                        Secrecy::Plain("an Fn::Join of literal parts".into())
                    }
                }
                Some(("Fn::If", Json::Array(a))) if a.len() == 3 => {
                    match (secrecy(ctx, &a[1]), secrecy(ctx, &a[2])) {
                        (Secrecy::Plain(w), _) | (_, Secrecy::Plain(w)) => Secrecy::Plain(w),
                        _ => Secrecy::Hidden,
                    }
                }
                _ => Secrecy::Hidden,
            }
        }
    }
}

/// Walks properties, reporting secret-named properties with plaintext values.
fn walk(ctx: &Ctx<'_>, v: &Json, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Json::Object(o) if intrinsic(v).is_none() => {
            for (k, child) in o {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if is_secret_property(k)
                    && let Secrecy::Plain(how) = secrecy(ctx, child)
                {
                    out.push((p.clone(), how));
                    continue;
                }
                walk(ctx, child, &p, out);
            }
        }
        Json::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                walk(ctx, child, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn is_literal_value(v: &Json) -> bool {
    match v {
        Json::String(s) => !s.is_empty(),
        Json::Number(_) => true,
        _ => false,
    }
}

pub(super) fn check(ctx: &mut Ctx<'_>) {
    let mut found = Vec::new();
    for r in &ctx.resources {
        let mut props = r.props.clone();
        // Environment variables follow their own naming; SNX-SECRET-002 reads them.
        if r.type_name == "AWS::Lambda::Function"
            && let Some(env) = props.get_mut("Environment").and_then(Json::as_object_mut)
        {
            env.remove("Variables");
        }
        let mut hits = Vec::new();
        walk(ctx, &props, "", &mut hits);
        for (property, how) in hits {
            found.push((
                SECRET_PROPERTY,
                r.id.to_owned(),
                property,
                format!("the secret is written into the template as {how}"),
            ));
        }
        if r.type_name != "AWS::Lambda::Function" {
            continue;
        }
        let Some(vars) = r
            .props
            .get("Environment")
            .and_then(|e| e.get("Variables"))
            .and_then(Json::as_object)
        else {
            continue;
        };
        for (name, v) in vars {
            let property = format!("Environment.Variables.{name}");
            let resolved = match v {
                Json::String(s) => has_secret_reference(s),
                _ => super::json::contains_secret_reference(v),
            } || ref_target(v)
                .is_some_and(|(id, attr)| attr.is_none() && ctx.is_no_echo_param(id));
            if resolved {
                found.push((
                    SECRET_ENV_RESOLVED,
                    r.id.to_owned(),
                    property,
                    format!(
                        "{name} is resolved at deploy time and stored in plaintext in the function configuration"
                    ),
                ));
            } else if is_secret_env(name) && is_literal_value(v) {
                found.push((
                    SECRET_ENV,
                    r.id.to_owned(),
                    property,
                    format!("{name} holds a literal value"),
                ));
            }
        }
    }
    for (rule, id, property, message) in found {
        ctx.report(rule, &id, property, message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_secret_property("MasterUserPassword"));
        assert!(is_secret_property("SecretString"));
        assert!(!is_secret_property("SecretStringTemplate"));
        assert!(!is_secret_property("HttpTokens"));
        assert!(is_secret_env("DB_PASSWORD"));
        assert!(is_secret_env("GITHUB_TOKEN"));
        assert!(!is_secret_env("DB_SECRET_ARN"));
        assert!(!is_secret_env("DB_HOST"));
    }
}
