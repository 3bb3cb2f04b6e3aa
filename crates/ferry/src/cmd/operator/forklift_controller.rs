//! The ForkliftController of the operator's namespace: its settings are
//! applied to the running controllers, and the `host` Provider (type
//! openshift, empty URL) is created in that namespace, as Forklift's
//! operator does.
//!
//! Applied settings: `controller_max_vm_inflight`,
//! `controller_filesystem_overhead` and `controller_block_overhead` (VMs
//! that start after a change use the new values). Other settings are
//! accepted (the CRD validates them) and have no effect in ferry; the
//! status says which were applied.
use std::sync::Arc;

use anyhow::Context as _;
use ferry_controller::{Context, Settings};
use ferry_core::api::ForkliftController;
use futures::StreamExt;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::{WatchStreamExt, watcher};

/// Settings of `fc` over `base` (the command line's).
pub fn settings(base: &Settings, fc: &ForkliftController) -> Settings {
    let spec = &fc.spec;
    let mut s = base.clone();
    if spec.controller_max_vm_inflight.is_some() {
        s.max_vm_inflight = usize::try_from(spec.controller_max_vm_inflight())
            .unwrap_or(1)
            .max(1);
    }
    if spec.controller_filesystem_overhead.is_some() {
        s.filesystem_overhead = u32::try_from(spec.controller_filesystem_overhead()).unwrap_or(0);
    }
    if spec.controller_block_overhead.is_some() {
        s.block_overhead = u64::try_from(spec.controller_block_overhead()).unwrap_or(0);
    }
    s
}

/// Watch the ForkliftControllers of `namespace` until dropped: on each
/// change apply the settings of the first (by name) and make sure `host`
/// exists. Without a ForkliftController the command line's settings apply.
pub async fn run(ctx: Arc<Context>, namespace: String, base: Settings) {
    let api: Api<ForkliftController> = Api::namespaced(ctx.client.clone(), &namespace);
    let mut changes = watcher(api.clone(), watcher::Config::default())
        .default_backoff()
        .touched_objects()
        .boxed();
    loop {
        if let Err(e) = reconcile(&ctx, &api, &namespace, &base).await {
            tracing::warn!(%namespace, error = %format!("{e:#}"), "ForkliftController reconcile failed");
        }
        // Wait for the next change (errors are retried by the backoff).
        match changes.next().await {
            Some(_) => {}
            None => return,
        }
    }
}

async fn reconcile(
    ctx: &Context,
    api: &Api<ForkliftController>,
    namespace: &str,
    base: &Settings,
) -> anyhow::Result<()> {
    let mut list = api
        .list(&Default::default())
        .await
        .with_context(|| format!("cannot list ForkliftControllers in {namespace}"))?
        .items;
    list.sort_by_key(|fc| fc.name_any());
    let Some(fc) = list.into_iter().next() else {
        ctx.set_settings(base.clone());
        return Ok(());
    };
    let applied = settings(base, &fc);
    ctx.set_settings(applied.clone());
    crate::cmd::host_provider::ensure(&ctx.client, namespace).await?;
    let message = format!(
        "ferry applied controller_max_vm_inflight={}, controller_filesystem_overhead={}, controller_block_overhead={} and created Provider {namespace}/host",
        applied.max_vm_inflight, applied.filesystem_overhead, applied.block_overhead
    );
    // Unchanged status: do not write (a write is a change that wakes us).
    let current = fc.status.as_ref().map(|s| &s.0);
    let same = current.is_some_and(|s| {
        s.get("observedGeneration")
            .and_then(serde_json::Value::as_i64)
            == fc.metadata.generation
            && s.get("conditions")
                .and_then(|c| c.pointer("/0/message"))
                .and_then(serde_json::Value::as_str)
                == Some(message.as_str())
    });
    if same {
        return Ok(());
    }
    let status = serde_json::json!({
        "apiVersion": "forklift.konveyor.io/v1beta1",
        "kind": "ForkliftController",
        "status": {
            "observedGeneration": fc.metadata.generation,
            "conditions": [{
                "type": "Successful",
                "status": "True",
                "reason": "Applied",
                "message": message,
                "lastTransitionTime": ferry_controller::context::now(),
            }],
        }
    });
    api.patch_status(
        &fc.name_any(),
        &PatchParams::apply("ferry-operator").force(),
        &Patch::Apply(&status),
    )
    .await
    .with_context(|| {
        format!(
            "cannot write the status of ForkliftController {namespace}/{}",
            fc.name_any()
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forklift_controller_settings_override_the_command_line() {
        let base = Settings {
            max_vm_inflight: 7,
            ..Settings::default()
        };
        let fc: ForkliftController = serde_json::from_value(serde_json::json!({
            "apiVersion": "forklift.konveyor.io/v1beta1", "kind": "ForkliftController",
            "metadata": {"name": "forklift-controller", "namespace": "mtv"},
            "spec": {"controller_max_vm_inflight": 3, "controller_filesystem_overhead": 15, "controller_block_overhead": 1048576}
        }))
        .expect("valid ForkliftController");
        let s = settings(&base, &fc);
        assert_eq!(
            (s.max_vm_inflight, s.filesystem_overhead, s.block_overhead),
            (3, 15, 1 << 20)
        );
        // Unset fields keep the command line's values.
        let bare: ForkliftController = serde_json::from_value(serde_json::json!({
            "apiVersion": "forklift.konveyor.io/v1beta1", "kind": "ForkliftController",
            "metadata": {"name": "forklift-controller", "namespace": "mtv"}, "spec": {}
        }))
        .expect("valid ForkliftController");
        let s = settings(&base, &bare);
        assert_eq!(
            (s.max_vm_inflight, s.filesystem_overhead, s.block_overhead),
            (7, 10, 0)
        );
    }
}
