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

/// What a conditional status write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The status was replaced.
    Done,
    /// The object changed since `resource_version` was read: nothing was
    /// written; read it again and recompute.
    Stale,
}

/// Like [`patch_status`], but only when the object is still at
/// `resource_version` (optimistic concurrency), so that a writer working
/// from an old read cannot undo a newer write by someone else.
pub async fn patch_status_at<K, S>(
    api: &Api<K>,
    name: &str,
    resource_version: Option<&str>,
    status: &S,
) -> Result<Written>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
    S: Serialize,
{
    let mut body = serde_json::json!({ "status": status });
    if let Some(rv) = resource_version {
        body["metadata"] = serde_json::json!({ "resourceVersion": rv });
    }
    match api
        .patch_status(name, &PatchParams::apply(MANAGER), &Patch::Merge(&body))
        .await
    {
        Ok(_) => Ok(Written::Done),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(Written::Stale),
        Err(source) => Err(Error::Api {
            context: format!("cannot update the status of {}/{name}", K::kind(&())),
            source,
        }),
    }
}
