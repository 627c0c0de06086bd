//! Looking up pinned parameters' values (see [`super::parameters`]) from Systems Manager.
//! Read-only: `GetParameter` on each source, once per deploy.

use std::collections::BTreeMap;

use super::DeployError;
use super::client::{Clients, describe, retry_throttled};
use super::parameters::Lookup;

/// Reads each lookup's SSM parameter; returns SSM name -> value. A missing parameter is an
/// error naming it and the region (a public AMI parameter exists in every commercial region,
/// so a miss usually means a wrong region or a typo in a custom source).
pub async fn resolve(
    clients: &Clients,
    lookups: &[Lookup],
) -> Result<BTreeMap<String, String>, DeployError> {
    let mut out = BTreeMap::new();
    for l in lookups {
        if out.contains_key(&l.ssm_name) {
            continue;
        }
        let res = retry_throttled(|| clients.ssm.get_parameter().name(&l.ssm_name).send())
            .await
            .map_err(|e| {
                describe(
                    &format!(
                        "look up parameter {} from the SSM parameter {} in {}",
                        l.key, l.ssm_name, clients.region
                    ),
                    &e,
                    clients,
                )
            })?;
        let value = res
            .parameter()
            .and_then(|p| p.value())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| DeployError::EmptyLookup {
                key: l.key.clone(),
                ssm_name: l.ssm_name.clone(),
                region: clients.region.clone(),
            })?;
        out.insert(l.ssm_name.clone(), value.to_owned());
    }
    Ok(out)
}
