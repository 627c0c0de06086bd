//! Database engine versions across an update, for every `AWS::RDS::DBInstance` the deployed
//! stack already has (generic: by resource type, literal `EngineVersion`s only):
//!
//! - **A major version change** (postgres 16.x -> 17.x; 5.7 -> 8.0 for the engines that count
//!   majors in two parts) is refused unless the deploy passes `--allow-major-upgrade`: it cannot
//!   be undone, and a snapshot should come first. With the flag, the body sent to CloudFormation
//!   gets `AllowMajorVersionUpgrade: true` on that resource, which RDS demands for a major
//!   upgrade; the deployed template then differs from `templates_out/` by exactly that property.
//!   A major downgrade is refused always (RDS cannot do it).
//! - **A minor version behind the live one**: with `AutoMinorVersionUpgrade` (on by default) RDS
//!   moves the instance past the configured minor on its own (config `17.11`, live `17.12`).
//!   Sending `17.11` would ask CloudFormation for a downgrade, which fails the update; the body
//!   sent keeps the live version instead, and the run says so.
//!
//! The live version comes from `DescribeStackResource` (the physical id) and
//! `rds:DescribeDBInstances`; when either cannot be read, the deployed template's version stands in
//! and a warning says so.

use serde_json::Value as Json;

use super::Console;
use super::client::{Clients, retry_throttled};

/// What the version check decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Versions {
    /// Send this body (the request's, or one edited as the module doc says).
    Send(String),
    /// Refuse the deploy with this sentence.
    Refuse(String),
}

/// The major version of `version` for `engine`: the first number for PostgreSQL 10 and later,
/// the first two otherwise (PostgreSQL 9.6, MySQL 8.0, MariaDB 10.11, ...).
pub fn major(engine: &str, version: &str) -> String {
    let mut parts = version.split('.');
    let first = parts.next().unwrap_or_default();
    let postgres = engine.contains("postgres");
    if postgres && first.parse::<u32>().is_ok_and(|n| n >= 10) {
        return first.to_owned();
    }
    match parts.next() {
        Some(second) => format!("{first}.{second}"),
        None => first.to_owned(),
    }
}

/// Compares dotted versions by their numeric parts (`17.12` > `17.9`); non-numeric parts compare
/// as text.
fn newer(a: &str, b: &str) -> bool {
    let key = |v: &str| -> Vec<(u64, String)> {
        v.split('.')
            .map(|p| (p.parse::<u64>().unwrap_or(0), p.to_owned()))
            .collect()
    };
    key(a) > key(b)
}

/// Checks every database of `new_body` that the deployed stack (`stack_id`, `deployed_body`)
/// already has; returns the body to send or the refusal. Notes and warnings go to `console`.
pub async fn check(
    clients: &Clients,
    console: &mut Console,
    stack_id: &str,
    deployed_body: &str,
    new_body: &str,
    allow_major: bool,
) -> Versions {
    let (Ok(mut new), Ok(old)) = (
        serde_json::from_str::<Json>(new_body),
        serde_json::from_str::<Json>(deployed_body),
    ) else {
        return Versions::Send(new_body.to_owned());
    };
    let ids: Vec<String> = new
        .get("Resources")
        .and_then(Json::as_object)
        .map(|r| {
            r.iter()
                .filter(|(_, v)| {
                    v.get("Type").and_then(Json::as_str) == Some("AWS::RDS::DBInstance")
                })
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default();
    let mut edited = false;
    for id in ids {
        let props = |t: &Json| t["Resources"][&id]["Properties"].clone();
        let (np, op) = (props(&new), props(&old));
        let (Some(engine), Some(want)) = (
            np.get("Engine").and_then(Json::as_str),
            np.get("EngineVersion").and_then(Json::as_str),
        ) else {
            continue;
        };
        let Some(deployed) = op.get("EngineVersion").and_then(Json::as_str) else {
            continue;
        };
        let auto_minor = np.get("AutoMinorVersionUpgrade") != Some(&Json::Bool(false));
        let live = if auto_minor {
            live_version(clients, console, stack_id, &id).await
        } else {
            None
        };
        let current = live.as_deref().unwrap_or(deployed);
        let (from, to) = (major(engine, current), major(engine, want));
        let Some(res) = new
            .get_mut("Resources")
            .and_then(|r| r.get_mut(&id))
            .and_then(|r| r.get_mut("Properties"))
            .and_then(Json::as_object_mut)
        else {
            continue;
        };
        if from != to {
            if newer(current, want) {
                return Versions::Refuse(format!(
                    "{id}: {engine} {current} -> {want} is a major version downgrade, which RDS cannot do; keep EngineVersion at {from}.x (restore a snapshot into a new instance to go back)"
                ));
            }
            if !allow_major {
                return Versions::Refuse(format!(
                    "{id}: {engine} {current} -> {want} is a major version upgrade: it cannot be undone and takes the database down while it runs. Take a snapshot first (`aws rds create-db-snapshot --db-instance-identifier <instance> --db-snapshot-identifier <name>{}`), then deploy again with --allow-major-upgrade",
                    clients.aws_cli_flags()
                ));
            }
            res.insert("AllowMajorVersionUpgrade".into(), Json::Bool(true));
            edited = true;
            console.warn(format!(
                "{id}: major version upgrade {engine} {current} -> {want} (--allow-major-upgrade): the template sent sets AllowMajorVersionUpgrade: true on {id}"
            ));
        } else if newer(current, want) {
            res.insert("EngineVersion".into(), Json::String(current.to_owned()));
            edited = true;
            console.line(format!(
                "{id}: RDS already runs {engine} {current} (automatic minor upgrade), newer than the configured {want}; keeping {current} in the template sent, since CloudFormation cannot downgrade it (raise engine_version to {current} to silence this)"
            ));
        }
    }
    if edited {
        Versions::Send(new.to_string())
    } else {
        Versions::Send(new_body.to_owned())
    }
}

/// The engine version the instance behind `logical_id` runs now; `None` (with a warning) when it
/// cannot be read.
async fn live_version(
    clients: &Clients,
    console: &mut Console,
    stack_id: &str,
    logical_id: &str,
) -> Option<String> {
    let res = retry_throttled(|| {
        clients
            .cfn
            .describe_stack_resource()
            .stack_name(stack_id)
            .logical_resource_id(logical_id)
            .send()
    })
    .await;
    let physical = match res {
        Ok(o) => o
            .stack_resource_detail()
            .and_then(|d| d.physical_resource_id())
            .map(str::to_owned),
        Err(e) => {
            console.warn(format!(
                "warning: could not read the physical id of {logical_id} ({}); comparing engine versions with the deployed template's",
                super::client::describe("describe a stack resource", &e, clients)
            ));
            return None;
        }
    }?;
    let res = retry_throttled(|| {
        clients
            .rds
            .describe_db_instances()
            .db_instance_identifier(&physical)
            .send()
    })
    .await;
    match res {
        Ok(o) => o
            .db_instances()
            .first()
            .and_then(|i| i.engine_version())
            .map(str::to_owned),
        Err(e) => {
            console.warn(format!(
                "warning: could not read the live engine version of {logical_id} ({physical}): {}; comparing with the deployed template's",
                aws_smithy_types::error::display::DisplayErrorContext(&e)
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudformation::operation::describe_stack_resource::DescribeStackResourceOutput;
    use aws_sdk_cloudformation::types::StackResourceDetail;
    use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
    use aws_sdk_rds::types::DbInstance;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    fn body(version: &str) -> String {
        serde_json::json!({"Resources": {"Database": {"Type": "AWS::RDS::DBInstance",
            "Properties": {"Engine": "postgres", "EngineVersion": version,
                "AutoMinorVersionUpgrade": true}}}})
        .to_string()
    }

    fn clients(live: &'static str) -> Clients {
        let res = mock!(aws_sdk_cloudformation::Client::describe_stack_resource)
            .match_requests(|r| r.logical_resource_id() == Some("Database"))
            .then_output(|| {
                DescribeStackResourceOutput::builder()
                    .stack_resource_detail(
                        StackResourceDetail::builder()
                            .physical_resource_id("db-abc")
                            .build(),
                    )
                    .build()
            });
        let db = mock!(aws_sdk_rds::Client::describe_db_instances)
            .match_requests(|r| r.db_instance_identifier() == Some("db-abc"))
            .then_output(move || {
                DescribeDbInstancesOutput::builder()
                    .db_instances(DbInstance::builder().engine_version(live).build())
                    .build()
            });
        let cfn = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, &[res]);
        Clients::from_cfn(cfn).with_rds(mock_client!(aws_sdk_rds, RuleMode::MatchAny, &[db]))
    }

    fn text(out: &std::sync::Arc<std::sync::Mutex<Vec<u8>>>) -> String {
        String::from_utf8_lossy(&out.lock().expect("console")).into_owned()
    }

    fn sent(v: &Versions) -> Json {
        match v {
            Versions::Send(b) => serde_json::from_str(b).expect("json"),
            Versions::Refuse(r) => panic!("refused: {r}"),
        }
    }

    #[test]
    fn majors_follow_each_engines_numbering() {
        assert_eq!(major("postgres", "17.11"), "17");
        assert_eq!(major("postgres", "9.6.24"), "9.6");
        assert_eq!(major("mysql", "8.0.39"), "8.0");
        assert_eq!(major("mysql", "8.4.3"), "8.4");
        assert!(newer("17.12", "17.9"));
        assert!(!newer("17.11", "17.11"));
    }

    #[tokio::test]
    async fn a_live_minor_past_the_configured_one_is_kept_and_said() {
        let c = clients("17.12");
        let (mut console, out, _h) = Console::capture(None);
        let v = check(
            &c,
            &mut console,
            "stack",
            &body("17.11"),
            &body("17.11"),
            false,
        )
        .await;
        let b = sent(&v);
        assert_eq!(
            b["Resources"]["Database"]["Properties"]["EngineVersion"],
            "17.12"
        );
        assert!(
            text(&out).contains("RDS already runs postgres 17.12 (automatic minor upgrade), newer than the configured 17.11; keeping 17.12"),
            "{}",
            text(&out)
        );
    }

    #[tokio::test]
    async fn an_unchanged_version_sends_the_body_as_is() {
        let c = clients("17.11");
        let (mut console, _out, _h) = Console::capture(None);
        let v = check(
            &c,
            &mut console,
            "stack",
            &body("17.11"),
            &body("17.11"),
            false,
        )
        .await;
        assert_eq!(v, Versions::Send(body("17.11")));
        // A configured minor upgrade is CloudFormation's to do.
        let v = check(
            &c,
            &mut console,
            "stack",
            &body("17.11"),
            &body("17.13"),
            false,
        )
        .await;
        assert_eq!(v, Versions::Send(body("17.13")));
    }

    #[tokio::test]
    async fn a_major_upgrade_is_refused_without_the_flag_and_allowed_with_it() {
        let c = clients("16.8");
        let (mut console, out, _h) = Console::capture(None);
        let v = check(
            &c,
            &mut console,
            "stack",
            &body("16.8"),
            &body("17.11"),
            false,
        )
        .await;
        let Versions::Refuse(msg) = v else {
            panic!("not refused: {v:?}")
        };
        assert!(
            msg.starts_with("Database: postgres 16.8 -> 17.11 is a major version upgrade"),
            "{msg}"
        );
        assert!(
            msg.contains("aws rds create-db-snapshot") && msg.contains("--allow-major-upgrade"),
            "{msg}"
        );

        let v = check(
            &c,
            &mut console,
            "stack",
            &body("16.8"),
            &body("17.11"),
            true,
        )
        .await;
        let b = sent(&v);
        let p = &b["Resources"]["Database"]["Properties"];
        assert_eq!(p["AllowMajorVersionUpgrade"], true);
        assert!(
            text(&out)
                .contains("the template sent sets AllowMajorVersionUpgrade: true on Database"),
            "{}",
            text(&out)
        );
        assert_eq!(p["EngineVersion"], "17.11");
    }

    #[tokio::test]
    async fn a_major_downgrade_is_refused_even_with_the_flag() {
        let c = clients("17.11");
        let (mut console, _out, _h) = Console::capture(None);
        let v = check(
            &c,
            &mut console,
            "stack",
            &body("17.11"),
            &body("16.8"),
            true,
        )
        .await;
        assert!(
            matches!(&v, Versions::Refuse(m) if m.contains("major version downgrade")),
            "{v:?}"
        );
    }
}
