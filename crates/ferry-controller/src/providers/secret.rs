//! A provider's Secret as text values, for every provider type. No value
//! is ever put in a message.
use std::collections::BTreeMap;

use ferry_core::api::Provider;
use k8s_openapi::api::core::v1::{ObjectReference, Secret};
use kube::{Api, ResourceExt};

/// The provider's Secret as text values (`data` decoded, `stringData` on
/// top), with its resourceVersion.
pub async fn read_secret(
    client: &kube::Client,
    provider: &Provider,
) -> Result<(BTreeMap<String, String>, String), String> {
    read_secret_ref(
        client,
        &provider.spec.secret,
        &provider.namespace().unwrap_or_default(),
    )
    .await
}

/// The Secret `r` names (namespace defaults to `ns`) as text values, with
/// its resourceVersion.
pub async fn read_secret_ref(
    client: &kube::Client,
    r: &ObjectReference,
    ns: &str,
) -> Result<(BTreeMap<String, String>, String), String> {
    let name = r
        .name
        .as_deref()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| "spec.secret names no Secret: create one with the keys user and password and reference it".to_owned())?;
    let ns = r
        .namespace
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| ns.to_owned());
    let secret = Api::<Secret>::namespaced(client.clone(), &ns)
        .get_opt(name)
        .await
        .map_err(|e| {
            format!(
                "cannot read Secret {ns}/{name}: {}",
                crate::error::chain(&e)
            )
        })?
        .ok_or_else(|| format!("Secret {ns}/{name} (spec.secret) does not exist"))?;
    let mut out = BTreeMap::new();
    for (k, v) in secret.data.unwrap_or_default() {
        let text = String::from_utf8(v.0)
            .map_err(|_| format!("Secret {ns}/{name}: key {k} is not UTF-8 text"))?;
        out.insert(k, text);
    }
    for (k, v) in secret.string_data.unwrap_or_default() {
        out.insert(k, v);
    }
    Ok((out, secret.metadata.resource_version.unwrap_or_default()))
}
