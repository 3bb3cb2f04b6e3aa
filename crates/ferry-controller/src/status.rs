//! Writing status: a JSON merge patch of `status` through the status
//! subresource, so spec edits by users never race with it.
use kube::Resource;
use kube::api::{Api, Patch, PatchParams};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// The field manager ferry writes with.
pub const MANAGER: &str = "ferry-controller";

/// Replace `.status` of `name` in `api` with `status`.
pub async fn patch_status<K, S>(api: &Api<K>, name: &str, status: &S) -> Result<()>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
    S: Serialize,
{
    let body = serde_json::json!({ "status": status });
    api.patch_status(name, &PatchParams::apply(MANAGER), &Patch::Merge(&body))
        .await
        .map_err(|source| Error::Api {
            context: format!("cannot update the status of {}/{name}", K::kind(&())),
            source,
        })?;
    Ok(())
}
