//! `snowcdk diff --deployed`: the templates CloudFormation holds for the stacks (GetTemplate,
//! original stage), through the deploy engine's clients (profile, region, endpoint, retries,
//! readable errors). This is the base `cdk diff` uses by default; it needs credentials.

use std::collections::BTreeMap;

use anyhow::Context as _;
use aws_sdk_cloudformation::types::TemplateStage;
use serde_json::Value as Json;

use crate::assembly::AssemblyStack;
use crate::deploy::client::{AwsTarget, Clients, describe, retry_throttled};
use crate::deploy::stack::is_missing_stack;
use crate::diff::base::BaseTemplates;
use crate::template_read::{ReadError, read_template};

/// The deployed template of one stack; `None` when the stack does not exist.
pub async fn fetch(clients: &Clients, stack: &str) -> anyhow::Result<Option<Json>> {
    match fetch_body(clients, stack).await? {
        Some(body) => Ok(Some(read_deployed(stack, &body)?)),
        None => Ok(None),
    }
}

/// The deployed template body of one stack, as CloudFormation returns it (JSON or YAML); `None`
/// when the stack does not exist.
pub async fn fetch_body(clients: &Clients, stack: &str) -> anyhow::Result<Option<String>> {
    let got = retry_throttled(|| {
        clients
            .cfn
            .get_template()
            .stack_name(stack)
            .template_stage(TemplateStage::Original)
            .send()
    })
    .await;
    match got {
        Ok(t) => Ok(Some(t.template_body().unwrap_or_default().to_owned())),
        Err(e) if is_missing_stack(&e) => Ok(None),
        Err(e) => Err(anyhow::anyhow!(
            "{}",
            describe(
                &format!("get the deployed template of {stack}"),
                &e,
                clients
            )
        )),
    }
}

/// Reads a deployed template body as CloudFormation does (short-form YAML included).
pub fn read_deployed(stack: &str, body: &str) -> Result<Json, ReadError> {
    read_template(&format!("the deployed template of {stack}"), body, None)
}

/// Reads the deployed template of every stack, each in its stage's region.
pub fn load(
    stacks: &[AssemblyStack],
    profile: Option<&str>,
    endpoint_url: Option<&str>,
) -> anyhow::Result<BaseTemplates> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async {
        let mut out = BaseTemplates {
            description: "the deployed stacks (CloudFormation GetTemplate)".into(),
            ..BaseTemplates::default()
        };
        let mut by_region: BTreeMap<String, Clients> = BTreeMap::new();
        for s in stacks {
            let region = s.environment.region.clone();
            if !by_region.contains_key(&region) {
                let target = AwsTarget {
                    profile: profile.map(str::to_owned),
                    region: region.clone(),
                    endpoint_url: endpoint_url.map(str::to_owned),
                    ..AwsTarget::default()
                };
                by_region.insert(region.clone(), Clients::connect(&target).await?);
            }
            let name = &s.stack_name;
            match fetch_body(&by_region[&region], name).await? {
                Some(body) => match read_deployed(name, &body) {
                    Ok(t) => {
                        out.stacks.insert(name.clone(), t);
                    }
                    // One unreadable template does not hide the diff of the other stacks.
                    Err(e) => {
                        out.unreadable.insert(name.clone(), e.to_string());
                    }
                },
                None => out.notes.push(format!(
                    "{name} is not deployed in {region}: every resource is new"
                )),
            }
        }
        Ok(out)
    })
}
