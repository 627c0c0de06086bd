//! Preflight: read-only checks of what a template needs from the account and region, run after
//! the parameters are planned and before any change set is made. A failing check refuses the
//! deploy ([`super::Status::Refused`], exit 3) with the resource, the value and the fix, so a
//! stack never meets a missing image after a 30-minute database create (and, in a protected
//! stage, never rolls back into a database it cannot delete). `deploy --skip-preflight` skips
//! them for emergencies (an AWS outage of a describe API, a permission the deploy role lacks).
//!
//! The checks read the template generically, by resource type (the engine knows no app):
//! - `AWS::Lambda::Function` with `PackageType: Image`: the `Code.ImageUri` (a literal or a
//!   `Ref` to a parameter, resolved with the planned value) must name an image that exists in
//!   ECR in the deploy region (`ecr:BatchGetImage`), built for the function's `Architectures`
//!   when the manifest says (an image index lists its platforms; a single manifest keeps its
//!   architecture in a config blob preflight does not download: then a note, not a refusal);
//! - `AWS::RDS::DBInstance`: its `Engine`/`EngineVersion` must be offered in the region
//!   (`rds:DescribeDBEngineVersions`) and its `DBInstanceClass` for that version
//!   (`rds:DescribeOrderableDBInstanceOptions`); with a `DBSnapshotIdentifier` (a restore), the
//!   snapshot must exist and be `available` (`rds:DescribeDBSnapshots`), of the same engine and
//!   major version, no larger than `AllocatedStorage`, and its master user must be the one the
//!   template's credentials name (`MasterUsername`, or the `username` of the generated secret
//!   `MasterUserPassword` resolves): a restore keeps the snapshot's master user and only resets
//!   its password, so a secret naming another user could not log in. An unencrypted snapshot is
//!   a warning (the restored instance is unencrypted too).
//!
//! The account check ([`super::check_account`]) and the staging bucket (found and written to by
//! [`super::staging`] before this runs) happen earlier; see the README. A check that cannot be
//! asked (access denied, an emulator without the API) is a warning: preflight only refuses on
//! an answer that says the deploy would fail.

use std::collections::BTreeMap;

use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use serde_json::Value as Json;

use super::client::{Clients, describe, retry_throttled};
use super::parameters::ParameterPlan;

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The deploy would fail: refuse with this sentence (resource, value, fix).
    Refuse(String),
    /// Worth saying, not worth stopping for (a check that could not be made).
    Warn(String),
}

/// The account id of AWS's documentation examples, which shipped configs use as a placeholder.
const PLACEHOLDER_ACCOUNT: &str = "123456789012";

/// Media types of manifests that list platforms (an image index / manifest list).
const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];
/// The manifest types Lambda (and preflight) accept.
const ACCEPTED_TYPES: [&str; 4] = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    INDEX_TYPES[0],
    INDEX_TYPES[1],
];

/// Runs every check on `body` (the template as sent) with the parameter values of `plans`.
/// A body that is not JSON is not checked (a warning says so).
pub async fn run(clients: &Clients, body: &str, plans: &[ParameterPlan]) -> Vec<Finding> {
    let Ok(template) = serde_json::from_str::<Json>(body) else {
        return vec![Finding::Warn(
            "preflight reads JSON templates only; this one was not checked".into(),
        )];
    };
    let values: BTreeMap<&str, &str> = plans
        .iter()
        .filter_map(|p| Some((p.key.as_str(), p.new.as_deref()?)))
        .collect();
    let mut out = Vec::new();
    let Some(resources) = template.get("Resources").and_then(Json::as_object) else {
        return out;
    };
    for (id, res) in resources {
        let props = res.get("Properties").unwrap_or(&Json::Null);
        match res.get("Type").and_then(Json::as_str) {
            Some("AWS::Lambda::Function") => {
                out.extend(check_function(clients, id, props, &values).await);
            }
            Some("AWS::RDS::DBInstance") => {
                out.extend(check_db_instance(clients, id, props, &values).await);
                out.extend(check_restore(clients, id, props, resources, &values).await);
            }
            _ => {}
        }
    }
    out
}

/// Runs [`run`], prints its warnings, and returns the refusal (every failed check, one per
/// line) when there is one.
pub async fn refusal(
    clients: &Clients,
    console: &mut super::Console,
    body: &str,
    plans: &[ParameterPlan],
) -> Option<String> {
    let mut refusals = Vec::new();
    for f in run(clients, body, plans).await {
        match f {
            Finding::Warn(w) => console.warn(w),
            Finding::Refuse(r) => refusals.push(r),
        }
    }
    if refusals.is_empty() {
        return None;
    }
    Some(format!(
        "preflight: {}; nothing was created (`--skip-preflight` skips these checks)",
        refusals.join("; ")
    ))
}

/// A property's value when it is a string or a `Ref` to a parameter with a known value;
/// `Err` names what could not be resolved (an intrinsic function, an unknown parameter).
fn resolve<'a>(v: &'a Json, values: &BTreeMap<&str, &'a str>) -> Result<Option<&'a str>, String> {
    match v {
        Json::Null => Ok(None),
        Json::String(s) => Ok(Some(s)),
        Json::Number(_) => Err("a number".into()),
        Json::Object(m) => match m.get("Ref").and_then(Json::as_str) {
            Some(p) => values
                .get(p)
                .copied()
                .map(Some)
                .ok_or_else(|| format!("Ref {p} (no known value)")),
            None => Err(format!(
                "{} (an intrinsic function)",
                m.keys().next().map(String::as_str).unwrap_or("an object")
            )),
        },
        _ => Err("not a string".into()),
    }
}

/// Where an ECR image URI points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrImage {
    /// The registry's account.
    pub account: String,
    /// The registry's region.
    pub region: String,
    /// The repository (may contain `/`).
    pub repository: String,
    /// The tag or the `sha256:` digest.
    pub reference: ImageRef,
}

/// A tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    /// `:tag`.
    Tag(String),
    /// `@sha256:...`.
    Digest(String),
}

/// Parses `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>(:<tag>|@<digest>)`;
/// `None` for anything else (Lambda accepts only ECR images, CloudFormation says the rest).
pub fn parse_image_uri(uri: &str) -> Option<EcrImage> {
    let (host, path) = uri.split_once('/')?;
    let mut parts = host.split('.');
    let account = parts.next()?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if parts.next()? != "dkr" || parts.next()? != "ecr" {
        return None;
    }
    let region = parts.next()?;
    if parts.next()? != "amazonaws" || parts.next()? != "com" {
        return None;
    }
    let (repository, reference) = if let Some((r, d)) = path.split_once('@') {
        (r, ImageRef::Digest(d.to_owned()))
    } else {
        let (r, t) = path.rsplit_once(':')?;
        (r, ImageRef::Tag(t.to_owned()))
    };
    if repository.is_empty() || region.is_empty() {
        return None;
    }
    Some(EcrImage {
        account: account.to_owned(),
        region: region.to_owned(),
        repository: repository.to_owned(),
        reference,
    })
}

/// An SDK error in a few words: AWS's own message or code when it sent one, else the one
/// readable sentence [`describe`] makes of any other answer (an HTTP status and its body, a
/// timeout), never the SDK's debug chain.
fn why<E, R>(
    e: &aws_sdk_cloudformation::error::SdkError<E, R>,
    what: &str,
    clients: &Clients,
) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match e.message().or(e.code()) {
        Some(m) => m.to_owned(),
        None => describe(what, e, clients).to_string(),
    }
}

/// The OCI architecture name for a Lambda `Architectures` entry.
fn oci_arch(lambda: &str) -> &str {
    match lambda {
        "x86_64" => "amd64",
        other => other,
    }
}

async fn check_function(
    clients: &Clients,
    id: &str,
    props: &Json,
    values: &BTreeMap<&str, &str>,
) -> Vec<Finding> {
    if props.get("PackageType").and_then(Json::as_str) != Some("Image") {
        return Vec::new();
    }
    let raw = props
        .get("Code")
        .and_then(|c| c.get("ImageUri"))
        .unwrap_or(&Json::Null);
    let uri = match resolve(raw, values) {
        Ok(Some(u)) => u,
        Ok(None) => return Vec::new(),
        Err(what) => {
            return vec![Finding::Warn(format!(
                "preflight: the image of {id} is {what}; its existence was not checked"
            ))];
        }
    };
    let via = match raw.get("Ref").and_then(Json::as_str) {
        Some(p) => format!(
            "set the parameter {p} (`--parameters {p}=<account>.dkr.ecr.{}.amazonaws.com/<repository>:<tag>`, or the default in the config)",
            clients.region
        ),
        None => "change the function's ImageUri".to_owned(),
    };
    let Some(image) = parse_image_uri(uri) else {
        return vec![Finding::Warn(format!(
            "preflight: the image of {id} ({uri}) is not an ECR image URI; it was not checked"
        ))];
    };
    if image.region != clients.region {
        return vec![Finding::Refuse(format!(
            "{id}: the image {uri} is in {}, but Lambda runs images only from the function's region {}; push it to ECR in {} and {via}",
            image.region, clients.region, clients.region
        ))];
    }
    let arch = props
        .get("Architectures")
        .and_then(Json::as_array)
        .and_then(|a| a.first())
        .and_then(Json::as_str)
        .unwrap_or("x86_64");
    let image_id = match &image.reference {
        ImageRef::Tag(t) => aws_sdk_ecr::types::ImageIdentifier::builder()
            .image_tag(t)
            .build(),
        ImageRef::Digest(d) => aws_sdk_ecr::types::ImageIdentifier::builder()
            .image_digest(d)
            .build(),
    };
    let res = retry_throttled(|| {
        let mut call = clients
            .ecr
            .batch_get_image()
            .registry_id(&image.account)
            .repository_name(&image.repository)
            .image_ids(image_id.clone());
        for t in ACCEPTED_TYPES {
            call = call.accepted_media_types(t);
        }
        call.send()
    })
    .await;
    let missing = |why: &str| {
        Finding::Refuse(format!(
            "{id}: the image {uri} does not exist ({why}); the function could not be created or updated, and CloudFormation would say so only after everything before it (a database takes 10-30 minutes). Push the image, then {via}"
        ))
    };
    let out = match res {
        Ok(o) => o,
        Err(e)
            if e.code() == Some("RepositoryNotFoundException")
                || e.as_service_error()
                    .is_some_and(|s| s.is_repository_not_found_exception()) =>
        {
            return vec![missing(&format!(
                "ECR in {} of account {} has no repository {}",
                image.region, image.account, image.repository
            ))];
        }
        Err(e) if e.code().is_some_and(|c| c.contains("AccessDenied")) => {
            // Lambda needs the credentials that create the function to read the image
            // (ecr:BatchGetImage), so a denial here is a denial there.
            let placeholder = if image.account == PLACEHOLDER_ACCOUNT {
                format!(
                    " {PLACEHOLDER_ACCOUNT} is the placeholder account of the shipped config, not yours."
                )
            } else {
                String::new()
            };
            return vec![Finding::Refuse(format!(
                "{id}: the image {uri} cannot be read with these credentials ({}): Lambda needs ecr:BatchGetImage on it for the deploy to create or update the function.{placeholder} Push the image to ECR in your account, then {via}; or allow the read (a repository policy for a cross-account image)",
                why(&e, "read the image from ECR", clients)
            ))];
        }
        Err(e) => {
            return vec![Finding::Warn(format!(
                "preflight: could not check the image of {id} ({uri}): {}; it was not checked",
                why(&e, "read the image from ECR", clients)
            ))];
        }
    };
    let Some(img) = out.images().first() else {
        let why = out
            .failures()
            .first()
            .map(|f| {
                format!(
                    "{}{}",
                    f.failure_code().map(|c| c.as_str()).unwrap_or("not found"),
                    f.failure_reason()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                )
            })
            .unwrap_or_else(|| "ECR returned no image".into());
        return vec![missing(&why)];
    };
    let manifest = img.image_manifest().unwrap_or_default();
    match manifest_architectures(img.image_manifest_media_type(), manifest) {
        Some(arches) if arches.iter().any(|a| a == oci_arch(arch)) => Vec::new(),
        Some(arches) => vec![Finding::Refuse(format!(
            "{id}: the image {uri} is built for {} but the function runs on {arch}; build and push the image for {arch} (e.g. `docker buildx build --platform linux/{}`), or change the function's architecture",
            if arches.is_empty() {
                "no platform".to_owned()
            } else {
                arches.join(", ")
            },
            oci_arch(arch)
        ))],
        None => vec![Finding::Warn(format!(
            "note: the image {uri} of {id} exists; its architecture is in the image config, which preflight does not download: make sure it is built for {arch}"
        ))],
    }
}

/// The architectures an image manifest declares: the platforms of an image index (attestation
/// entries, `unknown`, left out), or `architecture` when the manifest itself carries one.
/// `None` when the manifest does not say (a single-platform manifest keeps it in its config).
pub fn manifest_architectures(media_type: Option<&str>, manifest: &str) -> Option<Vec<String>> {
    let doc: Json = serde_json::from_str(manifest).ok()?;
    let media = media_type
        .or_else(|| doc.get("mediaType").and_then(Json::as_str))
        .unwrap_or_default();
    if INDEX_TYPES.contains(&media) || doc.get("manifests").is_some() {
        let arches = doc
            .get("manifests")?
            .as_array()?
            .iter()
            .filter_map(|m| m.get("platform")?.get("architecture")?.as_str())
            .filter(|a| *a != "unknown")
            .map(str::to_owned)
            .collect();
        return Some(arches);
    }
    doc.get("architecture")
        .and_then(Json::as_str)
        .map(|a| vec![a.to_owned()])
}

async fn check_db_instance(
    clients: &Clients,
    id: &str,
    props: &Json,
    values: &BTreeMap<&str, &str>,
) -> Vec<Finding> {
    let get = |k: &str| resolve(props.get(k).unwrap_or(&Json::Null), values);
    let (Ok(Some(engine)), Ok(Some(version))) = (get("Engine"), get("EngineVersion")) else {
        // A snapshot restore, an Aurora member or an unresolvable value: nothing to compare.
        return Vec::new();
    };
    let region = &clients.region;
    let versions = retry_throttled(|| {
        clients
            .rds
            .describe_db_engine_versions()
            .engine(engine)
            .engine_version(version)
            .send()
    })
    .await;
    match versions {
        Ok(o) if o.db_engine_versions().is_empty() => {
            return vec![Finding::Refuse(format!(
                "{id}: {engine} {version} is not offered in {region}; pick a version `aws rds describe-db-engine-versions --engine {engine} --query 'DBEngineVersions[].EngineVersion'{}` lists, and set EngineVersion to it",
                clients.aws_cli_flags()
            ))];
        }
        Ok(_) => {}
        Err(e) => {
            return vec![Finding::Warn(format!(
                "preflight: could not check that {engine} {version} of {id} is offered in {region}: {}; its engine version and instance class were not checked",
                why(&e, "ask RDS which engine versions it offers", clients)
            ))];
        }
    }
    let Ok(Some(class)) = get("DBInstanceClass") else {
        return Vec::new();
    };
    let options = retry_throttled(|| {
        clients
            .rds
            .describe_orderable_db_instance_options()
            .engine(engine)
            .engine_version(version)
            .db_instance_class(class)
            .send()
    })
    .await;
    match options {
        Ok(o) if o.orderable_db_instance_options().is_empty() => vec![Finding::Refuse(format!(
            "{id}: the instance class {class} is not offered for {engine} {version} in {region}; pick one `aws rds describe-orderable-db-instance-options --engine {engine} --engine-version {version} --query 'OrderableDBInstanceOptions[].DBInstanceClass'{}` lists, and set DBInstanceClass to it",
            clients.aws_cli_flags()
        ))],
        Ok(_) => Vec::new(),
        Err(e) => vec![Finding::Warn(format!(
            "preflight: could not check that {class} is offered for {engine} {version} in {region}: {}; it was not checked",
            why(&e, "ask RDS which instance classes it offers", clients)
        ))],
    }
}

/// The user the template's credentials name for a DB instance: its `MasterUsername`, else the
/// `username` in the `SecretStringTemplate` of the generated secret its `MasterUserPassword`
/// resolves (`{{resolve:secretsmanager:${Secret}:SecretString:password}}`). `None` when the
/// template does not say (a password from a parameter, a secret made elsewhere).
fn credentials_user<'a>(
    props: &'a Json,
    resources: &'a serde_json::Map<String, Json>,
    values: &BTreeMap<&str, &'a str>,
) -> Option<String> {
    if let Ok(Some(u)) = resolve(props.get("MasterUsername").unwrap_or(&Json::Null), values) {
        return Some(u.to_owned());
    }
    let password = props.get("MasterUserPassword")?;
    let text = password
        .get("Fn::Sub")
        .and_then(Json::as_str)
        .or_else(|| password.as_str())?;
    let rest = text.strip_prefix("{{resolve:secretsmanager:${")?;
    let (secret, _) = rest.split_once('}')?;
    let template = resources
        .get(secret)?
        .get("Properties")?
        .get("GenerateSecretString")?
        .get("SecretStringTemplate")?
        .as_str()?;
    let doc: Json = serde_json::from_str(template).ok()?;
    doc.get("username")?.as_str().map(str::to_owned)
}

/// The major version of `17.11` (`17`), or of `9.6.1` (`9.6`, PostgreSQL before 10).
fn major_version(v: &str) -> &str {
    let mut it = v.splitn(3, '.');
    let first = it.next().unwrap_or(v);
    match (first.parse::<u32>(), it.next()) {
        (Ok(n), Some(_)) if n < 10 => v.rsplitn(2, '.').last().unwrap_or(v),
        _ => first,
    }
}

/// The restore checks of a DB instance with a `DBSnapshotIdentifier` (see the module docs).
async fn check_restore(
    clients: &Clients,
    id: &str,
    props: &Json,
    resources: &serde_json::Map<String, Json>,
    values: &BTreeMap<&str, &str>,
) -> Vec<Finding> {
    let raw = props.get("DBSnapshotIdentifier").unwrap_or(&Json::Null);
    let snapshot = match resolve(raw, values) {
        Ok(Some(s)) => s,
        Ok(None) => return Vec::new(),
        Err(what) => {
            return vec![Finding::Warn(format!(
                "preflight: the snapshot {id} is restored from is {what}; it was not checked"
            ))];
        }
    };
    let region = &clients.region;
    let res = retry_throttled(|| {
        clients
            .rds
            .describe_db_snapshots()
            .db_snapshot_identifier(snapshot)
            .set_include_shared(snapshot.starts_with("arn:").then_some(true))
            .send()
    })
    .await;
    let missing = || {
        vec![Finding::Refuse(format!(
            "{id}: the DB snapshot {snapshot} to restore from does not exist in {region} (DBSnapshotNotFound); take one with `{} snapshot`, or fix its DBSnapshotIdentifier",
            crate::app::program_name()
        ))]
    };
    let out = match res {
        Ok(o) => o,
        Err(e)
            if e.code() == Some("DBSnapshotNotFound")
                || e.as_service_error()
                    .is_some_and(|s| s.is_db_snapshot_not_found_fault()) =>
        {
            return missing();
        }
        Err(e) => {
            return vec![Finding::Warn(format!(
                "preflight: could not check the snapshot {snapshot} {id} is restored from in {region}: {}; it was not checked",
                why(&e, "read the DB snapshot", clients)
            ))];
        }
    };
    let Some(snap) = out.db_snapshots().first() else {
        return missing();
    };
    let mut found = Vec::new();
    let status = snap.status().unwrap_or("unknown");
    if status != "available" {
        found.push(Finding::Refuse(format!(
            "{id}: the DB snapshot {snapshot} is {status}, not available; wait until it is (`aws rds describe-db-snapshots --db-snapshot-identifier {snapshot} --query 'DBSnapshots[0].Status'{}`)",
            clients.aws_cli_flags()
        )));
    }
    let get = |k: &str| resolve(props.get(k).unwrap_or(&Json::Null), values);
    if let (Ok(Some(engine)), Some(snap_engine)) = (get("Engine"), snap.engine())
        && engine != snap_engine
    {
        found.push(Finding::Refuse(format!(
            "{id}: the DB snapshot {snapshot} is a {snap_engine} snapshot, but the instance's engine is {engine}; restore from a {engine} snapshot"
        )));
    }
    if let (Ok(Some(version)), Some(snap_version)) = (get("EngineVersion"), snap.engine_version())
        && major_version(version) != major_version(snap_version)
    {
        found.push(Finding::Refuse(format!(
            "{id}: the DB snapshot {snapshot} holds version {snap_version}, but the instance's EngineVersion is {version} (another major version, whose parameter group family does not fit the restored database); set the engine version to a {} release, or upgrade the snapshot first (`aws rds modify-db-snapshot --engine-version`)",
            major_version(snap_version)
        )));
    }
    if let (Some(user), Some(snap_user)) = (
        credentials_user(props, resources, values),
        snap.master_username(),
    ) && user != snap_user
    {
        found.push(Finding::Refuse(format!(
            "{id}: the DB snapshot {snapshot} has the master user {snap_user}, but the stack's credentials name {user}: a restore keeps the snapshot's master user and only sets its password, so the secret would name a user that does not exist. Set the master user name to {snap_user}"
        )));
    }
    if let (Ok(Some(size)), Some(snap_size)) = (get("AllocatedStorage"), snap.allocated_storage())
        && let Ok(size) = size.parse::<i64>()
        && i64::from(snap_size) > size
    {
        found.push(Finding::Refuse(format!(
            "{id}: the DB snapshot {snapshot} holds {snap_size} GiB of allocated storage, more than the instance's AllocatedStorage {size} GiB; RDS restores at least the snapshot's size, so set the allocated storage to {snap_size} GiB or more"
        )));
    }
    if snap.encrypted() == Some(false) {
        found.push(Finding::Warn(format!(
            "preflight: the DB snapshot {snapshot} of {id} is not encrypted, so the restored instance will not be either (a restore inherits the snapshot's encryption); to encrypt it, copy the snapshot with a KMS key (`aws rds copy-db-snapshot --kms-key-id alias/aws/rds`) and restore from the copy"
        )));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_uris_parse_into_registry_repository_and_reference() {
        let i = parse_image_uri("123456789012.dkr.ecr.us-west-2.amazonaws.com/snowex-api:latest")
            .unwrap();
        assert_eq!(i.account, "123456789012");
        assert_eq!(i.region, "us-west-2");
        assert_eq!(i.repository, "snowex-api");
        assert_eq!(i.reference, ImageRef::Tag("latest".into()));
        let d = format!("sha256:{}", "a".repeat(64));
        let i = parse_image_uri(&format!(
            "210987654321.dkr.ecr.eu-central-1.amazonaws.com.cn/team/api@{d}"
        ))
        .unwrap();
        assert_eq!(i.repository, "team/api");
        assert_eq!(i.reference, ImageRef::Digest(d));
        assert_eq!(parse_image_uri("docker.io/library/nginx:1"), None);
        assert_eq!(
            parse_image_uri("123456789012.dkr.ecr.us-west-2.amazonaws.com/api"),
            None
        );
    }

    #[test]
    fn an_index_lists_its_platforms_and_a_single_manifest_does_not() {
        let index = r#"{"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
            {"platform":{"architecture":"arm64","os":"linux"}},
            {"platform":{"architecture":"unknown","os":"unknown"}}]}"#;
        assert_eq!(
            manifest_architectures(None, index),
            Some(vec!["arm64".to_owned()])
        );
        let single = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"digest":"sha256:00"}}"#;
        assert_eq!(manifest_architectures(None, single), None);
        assert_eq!(manifest_architectures(None, "not json"), None);
    }

    #[test]
    fn refs_resolve_to_planned_values_and_functions_do_not() {
        let values: BTreeMap<&str, &str> = [("Img", "x")].into_iter().collect();
        assert_eq!(
            resolve(&serde_json::json!({"Ref": "Img"}), &values),
            Ok(Some("x"))
        );
        assert_eq!(resolve(&serde_json::json!("lit"), &values), Ok(Some("lit")));
        assert!(resolve(&serde_json::json!({"Ref": "Other"}), &values).is_err());
        assert!(resolve(&serde_json::json!({"Fn::Sub": "a"}), &values).is_err());
    }

    use super::super::parameters::{Send, Source};
    use aws_sdk_ecr::operation::batch_get_image::{BatchGetImageError, BatchGetImageOutput};
    use aws_sdk_ecr::types::{Image, ImageFailure, ImageFailureCode};
    use aws_sdk_rds::operation::describe_db_engine_versions::DescribeDbEngineVersionsOutput;
    use aws_sdk_rds::operation::describe_orderable_db_instance_options::DescribeOrderableDbInstanceOptionsOutput;
    use aws_sdk_rds::types::{DbEngineVersion, OrderableDbInstanceOption};
    use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};

    const URI: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:v1";

    fn template(arch: &str) -> String {
        serde_json::json!({
            "Parameters": {"Img": {"Type": "String"}},
            "Resources": {
                "Api": {"Type": "AWS::Lambda::Function", "Properties": {
                    "PackageType": "Image", "Code": {"ImageUri": {"Ref": "Img"}},
                    "Architectures": [arch]}},
                "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {
                    "Engine": "postgres", "EngineVersion": "17.11",
                    "DBInstanceClass": "db.t4g.micro"}}
            }
        })
        .to_string()
    }

    fn plans(uri: &str) -> Vec<ParameterPlan> {
        vec![ParameterPlan {
            key: "Img".into(),
            source: Source::CommandLine,
            send: Send::Value(uri.into()),
            old: None,
            new: Some(uri.into()),
            note: None,
        }]
    }

    fn clients(ecr: &[Rule], rds: &[Rule]) -> Clients {
        let cfn = mock_client!(aws_sdk_cloudformation, RuleMode::MatchAny, &[]);
        Clients::from_cfn(cfn)
            .with_ecr(mock_client!(aws_sdk_ecr, RuleMode::MatchAny, ecr))
            .with_rds(mock_client!(aws_sdk_rds, RuleMode::MatchAny, rds))
    }

    fn image(manifest: &str) -> Rule {
        let manifest = manifest.to_owned();
        mock!(aws_sdk_ecr::Client::batch_get_image)
            .match_requests(|r| {
                r.registry_id() == Some("123456789012") && r.repository_name() == Some("api")
            })
            .then_output(move || {
                BatchGetImageOutput::builder()
                    .images(Image::builder().image_manifest(manifest.clone()).build())
                    .build()
            })
    }

    fn rds_offers(versions: bool, classes: bool) -> Vec<Rule> {
        vec![
            mock!(aws_sdk_rds::Client::describe_db_engine_versions).then_output(move || {
                let b = DescribeDbEngineVersionsOutput::builder();
                if versions {
                    b.db_engine_versions(DbEngineVersion::builder().engine_version("17.11").build())
                        .build()
                } else {
                    b.build()
                }
            }),
            mock!(aws_sdk_rds::Client::describe_orderable_db_instance_options)
                .match_requests(|r| r.db_instance_class() == Some("db.t4g.micro"))
                .then_output(move || {
                    let b = DescribeOrderableDbInstanceOptionsOutput::builder();
                    if classes {
                        b.orderable_db_instance_options(
                            OrderableDbInstanceOption::builder().build(),
                        )
                        .build()
                    } else {
                        b.build()
                    }
                }),
        ]
    }

    const ARM_INDEX: &str = r#"{"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"platform":{"architecture":"arm64","os":"linux"}}]}"#;

    fn refusals(f: &[Finding]) -> Vec<&str> {
        f.iter()
            .filter_map(|f| match f {
                Finding::Refuse(r) => Some(r.as_str()),
                Finding::Warn(_) => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn an_existing_image_of_the_right_architecture_and_an_offered_database_pass() {
        let c = clients(&[image(ARM_INDEX)], &rds_offers(true, true));
        let f = run(&c, &template("arm64"), &plans(URI)).await;
        assert_eq!(f, Vec::new());
    }

    #[tokio::test]
    async fn a_missing_repository_is_refused_naming_the_image_and_the_parameter() {
        let missing = mock!(aws_sdk_ecr::Client::batch_get_image).then_error(|| {
            BatchGetImageError::RepositoryNotFoundException(
                aws_sdk_ecr::types::error::RepositoryNotFoundException::builder()
                    .message("no repo")
                    .build(),
            )
        });
        let c = clients(&[missing], &rds_offers(true, true));
        let f = run(&c, &template("x86_64"), &plans(URI)).await;
        let r = refusals(&f);
        assert_eq!(r.len(), 1, "{f:?}");
        assert!(r[0].starts_with("Api: the image 123456789012.dkr.ecr.us-east-1.amazonaws.com/api:v1 does not exist (ECR in us-east-1 of account 123456789012 has no repository api)"), "{}", r[0]);
        assert!(r[0].contains("--parameters Img="), "{}", r[0]);
    }

    #[tokio::test]
    async fn the_placeholder_registry_of_another_account_is_refused_as_a_placeholder() {
        let denied = mock!(aws_sdk_ecr::Client::batch_get_image).then_error(|| {
            BatchGetImageError::generic(
                aws_sdk_ecr::error::ErrorMetadata::builder()
                    .code("AccessDeniedException")
                    .message("not authorized to perform ecr:BatchGetImage")
                    .build(),
            )
        });
        let c = clients(&[denied], &rds_offers(true, true));
        let f = run(&c, &template("x86_64"), &plans(URI)).await;
        let r = refusals(&f);
        assert_eq!(r.len(), 1, "{f:?}");
        assert!(
            r[0].contains("cannot be read with these credentials (not authorized to perform ecr:BatchGetImage)"),
            "{}",
            r[0]
        );
        assert!(
            r[0].contains("123456789012 is the placeholder account of the shipped config"),
            "{}",
            r[0]
        );
    }

    #[tokio::test]
    async fn a_missing_tag_is_refused_with_ecrs_reason() {
        let missing = mock!(aws_sdk_ecr::Client::batch_get_image).then_output(|| {
            BatchGetImageOutput::builder()
                .failures(
                    ImageFailure::builder()
                        .failure_code(ImageFailureCode::ImageNotFound)
                        .failure_reason("Requested image not found")
                        .build(),
                )
                .build()
        });
        let c = clients(&[missing], &rds_offers(true, true));
        let f = run(&c, &template("x86_64"), &plans(URI)).await;
        let r = refusals(&f);
        assert_eq!(r.len(), 1, "{f:?}");
        assert!(
            r[0].contains("does not exist (ImageNotFound: Requested image not found)"),
            "{}",
            r[0]
        );
    }

    #[tokio::test]
    async fn an_image_for_another_architecture_is_refused() {
        let c = clients(&[image(ARM_INDEX)], &rds_offers(true, true));
        let f = run(&c, &template("x86_64"), &plans(URI)).await;
        let r = refusals(&f);
        assert_eq!(r.len(), 1, "{f:?}");
        assert!(
            r[0].contains("is built for arm64 but the function runs on x86_64"),
            "{}",
            r[0]
        );
    }

    #[tokio::test]
    async fn a_single_platform_manifest_is_a_note_not_a_refusal() {
        let single = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"digest":"sha256:00"}}"#;
        let c = clients(&[image(single)], &rds_offers(true, true));
        let f = run(&c, &template("x86_64"), &plans(URI)).await;
        assert_eq!(refusals(&f), Vec::<&str>::new());
        assert!(
            matches!(&f[..], [Finding::Warn(w)] if w.contains("make sure it is built for x86_64")),
            "{f:?}"
        );
    }

    #[tokio::test]
    async fn an_image_in_another_region_is_refused_without_asking_ecr() {
        let c = clients(&[], &rds_offers(true, true));
        let other = URI.replace("us-east-1", "eu-west-1");
        let f = run(&c, &template("x86_64"), &plans(&other)).await;
        let r = refusals(&f);
        assert!(
            r[0].contains(
                "is in eu-west-1, but Lambda runs images only from the function's region us-east-1"
            ),
            "{f:?}"
        );
    }

    #[tokio::test]
    async fn an_engine_version_the_region_lacks_is_refused() {
        let c = clients(&[image(ARM_INDEX)], &rds_offers(false, true));
        let f = run(&c, &template("arm64"), &plans(URI)).await;
        let r = refusals(&f);
        assert_eq!(r.len(), 1, "{f:?}");
        assert!(
            r[0].starts_with("Db: postgres 17.11 is not offered in us-east-1"),
            "{}",
            r[0]
        );
    }

    #[tokio::test]
    async fn an_instance_class_the_version_lacks_is_refused() {
        let c = clients(&[image(ARM_INDEX)], &rds_offers(true, false));
        let f = run(&c, &template("arm64"), &plans(URI)).await;
        let r = refusals(&f);
        assert_eq!(r.len(), 1, "{f:?}");
        assert!(
            r[0].starts_with(
                "Db: the instance class db.t4g.micro is not offered for postgres 17.11 in us-east-1"
            ),
            "{}",
            r[0]
        );
    }

    #[tokio::test]
    async fn a_check_that_cannot_be_asked_warns_and_does_not_refuse() {
        use aws_sdk_rds::operation::describe_db_engine_versions::DescribeDBEngineVersionsError;
        let denied = mock!(aws_sdk_rds::Client::describe_db_engine_versions).then_error(|| {
            DescribeDBEngineVersionsError::generic(
                aws_sdk_rds::error::ErrorMetadata::builder()
                    .code("AccessDenied")
                    .message("not authorized to perform rds:DescribeDBEngineVersions")
                    .build(),
            )
        });
        let c = clients(&[image(ARM_INDEX)], &[denied]);
        let f = run(&c, &template("arm64"), &plans(URI)).await;
        assert_eq!(refusals(&f), Vec::<&str>::new());
        assert!(
            matches!(&f[..], [Finding::Warn(w)] if w.starts_with("preflight: could not check that postgres 17.11 of Db is offered in us-east-1: not authorized")),
            "{f:?}"
        );
    }

    /// A database restored from `snap`, with its password from a generated secret naming
    /// `snowex_admin`, as `PostgresRds` synthesizes it.
    fn restore_template(snap: &str) -> String {
        serde_json::json!({
            "Resources": {
                "DatabaseSecret": {"Type": "AWS::SecretsManager::Secret", "Properties": {
                    "GenerateSecretString": {
                        "SecretStringTemplate": "{\"username\":\"snowex_admin\",\"dbname\":\"snowex\"}",
                        "GenerateStringKey": "password"}}},
                "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {
                    "Engine": "postgres", "EngineVersion": "17.11",
                    "DBInstanceClass": "db.t4g.micro", "AllocatedStorage": "20",
                    "DBSnapshotIdentifier": snap,
                    "MasterUserPassword": {"Fn::Sub": "{{resolve:secretsmanager:${DatabaseSecret}:SecretString:password}}"}}}
            }
        })
        .to_string()
    }

    const SNAP: &str = "arn:aws:rds:us-east-1:123456789012:snapshot:snowexdb-1";

    fn snapshot_rule(
        status: &'static str,
        engine: &'static str,
        version: &'static str,
        user: &'static str,
        gib: i32,
        encrypted: bool,
    ) -> Rule {
        use aws_sdk_rds::operation::describe_db_snapshots::DescribeDbSnapshotsOutput;
        mock!(aws_sdk_rds::Client::describe_db_snapshots)
            .match_requests(|r| {
                r.db_snapshot_identifier() == Some(SNAP) && r.include_shared() == Some(true)
            })
            .then_output(move || {
                DescribeDbSnapshotsOutput::builder()
                    .db_snapshots(
                        aws_sdk_rds::types::DbSnapshot::builder()
                            .db_snapshot_identifier("snowexdb-1")
                            .status(status)
                            .engine(engine)
                            .engine_version(version)
                            .master_username(user)
                            .allocated_storage(gib)
                            .encrypted(encrypted)
                            .build(),
                    )
                    .build()
            })
    }

    fn restore_clients(snapshot: Rule) -> Clients {
        let mut rds = rds_offers(true, true);
        rds.push(snapshot);
        clients(&[], &rds)
    }

    #[tokio::test]
    async fn a_restore_from_an_available_matching_snapshot_passes() {
        let c = restore_clients(snapshot_rule(
            "available",
            "postgres",
            "17.6",
            "snowex_admin",
            20,
            true,
        ));
        let f = run(&c, &restore_template(SNAP), &[]).await;
        assert_eq!(f, Vec::new());
    }

    #[tokio::test]
    async fn a_restore_from_a_missing_snapshot_is_refused() {
        use aws_sdk_rds::operation::describe_db_snapshots::DescribeDBSnapshotsError;
        let missing = mock!(aws_sdk_rds::Client::describe_db_snapshots).then_error(|| {
            DescribeDBSnapshotsError::DbSnapshotNotFoundFault(
                aws_sdk_rds::types::error::DbSnapshotNotFoundFault::builder()
                    .message("DBSnapshot snowexdb-1 not found.")
                    .build(),
            )
        });
        let c = restore_clients(missing);
        let f = run(&c, &restore_template(SNAP), &[]).await;
        let r = refusals(&f);
        assert_eq!(r.len(), 1, "{f:?}");
        assert!(
            r[0].starts_with(&format!(
                "Db: the DB snapshot {SNAP} to restore from does not exist in us-east-1 (DBSnapshotNotFound)"
            )),
            "{}",
            r[0]
        );
    }

    #[tokio::test]
    async fn a_snapshot_that_does_not_fit_is_refused_for_each_reason() {
        let c = restore_clients(snapshot_rule(
            "creating", "postgres", "16.4", "postgres", 50, false,
        ));
        let f = run(&c, &restore_template(SNAP), &[]).await;
        let r = refusals(&f);
        assert_eq!(r.len(), 4, "{f:?}");
        assert!(r[0].contains("is creating, not available"), "{}", r[0]);
        assert!(
            r[1].contains("holds version 16.4, but the instance's EngineVersion is 17.11"),
            "{}",
            r[1]
        );
        assert!(
            r[2].contains(
                "has the master user postgres, but the stack's credentials name snowex_admin"
            ) && r[2].contains("Set the master user name to postgres"),
            "{}",
            r[2]
        );
        assert!(
            r[3].contains("holds 50 GiB of allocated storage, more than the instance's AllocatedStorage 20 GiB"),
            "{}",
            r[3]
        );
        assert!(
            f.iter().any(|x| matches!(x, Finding::Warn(w) if w.contains("is not encrypted, so the restored instance will not be either"))),
            "{f:?}"
        );
        let c = restore_clients(snapshot_rule(
            "available",
            "mysql",
            "17.6",
            "snowex_admin",
            20,
            true,
        ));
        let r = run(&c, &restore_template(SNAP), &[]).await;
        assert_eq!(
            refusals(&r),
            [format!(
                "Db: the DB snapshot {SNAP} is a mysql snapshot, but the instance's engine is postgres; restore from a postgres snapshot"
            )]
        );
    }

    #[test]
    fn major_versions_of_old_and_new_postgres() {
        assert_eq!(major_version("17.11"), "17");
        assert_eq!(major_version("17"), "17");
        assert_eq!(major_version("9.6.24"), "9.6");
    }
}
