//! Writing status: a JSON merge patch of `status` through the status
//! subresource, so spec edits by users never race with it.
use ferry_core::api::Conditions;
use kube::Resource;
use kube::api::{Api, Patch, PatchParams};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// The field manager ferry writes with.
pub const MANAGER: &str = "ferry-controller";

/// Give every condition in `after` whose status is the same as in `before`
/// the `lastTransitionTime` it had there. A reconciler that drops and sets a
/// condition again (Ready after staging) then computes the status it already
/// wrote, and skips the write instead of moving only a timestamp.
pub fn keep_transition_times(before: Option<&Conditions>, after: &mut Conditions) {
    let Some(before) = before else { return };
    for c in &mut after.0 {
        if let Some(old) = before.find(&c.type_)
            && old.status == c.status
        {
            c.last_transition_time = old.last_transition_time.clone();
        }
    }
}

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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use ferry_core::api::{Category, Condition, Conditions};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    use super::keep_transition_times;

    fn at(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap())
    }

    #[test]
    fn unchanged_status_keeps_its_transition_time() {
        let mut before = Conditions::default();
        let mut ready = Condition::new("Ready", Category::Required).message("old");
        ready.last_transition_time = at(1000);
        before.set(ready);
        let mut blocked = Condition::new("Blocked", Category::Critical);
        blocked.last_transition_time = at(2000);
        before.set(blocked);
        // Recomputed from scratch: Ready again (new message), Blocked now False.
        let mut after = Conditions::default();
        after.set(Condition::new("Ready", Category::Required).message("new"));
        after.set(Condition::new("Blocked", Category::Critical).with_status(false));
        after.set(Condition::new("Other", Category::Advisory));
        keep_transition_times(Some(&before), &mut after);
        let time = |t: &str| after.find(t).map(|c| c.last_transition_time.clone());
        assert_eq!(time("Ready"), Some(at(1000)));
        assert_ne!(time("Blocked"), Some(at(2000)));
        assert_ne!(time("Other"), Some(at(1000)));
    }
}
