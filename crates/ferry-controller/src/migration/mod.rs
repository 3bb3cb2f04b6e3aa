//! The Migration reconciler. A Migration runs its Plan: the reconciler
//! checks the plan is ready, starts one runner task per Migration (at most
//! once, also after a restart, when the runner resumes from the status it
//! wrote), and on deletion stops the runner (canceling what is left) before
//! the finalizer goes.
pub mod builder;
pub mod disks;
pub mod pod_transfer;
mod pods;
mod runner;
pub mod source;
pub mod throttle;
mod transfer;
mod vm;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ferry_core::api::condition::types as cnd;
use ferry_core::api::{Category, Condition, Migration, Plan};
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event, finalizer};
use kube::{Api, ResourceExt};

use crate::context::{Context, Run};
use crate::error::{Error, Result, api};
use crate::status::{Written, patch_status_at};

/// The finalizer ferry puts on Migrations.
pub const FINALIZER: &str = "forklift.konveyor.io/migration";

/// Migration condition types.
pub mod types {
    #![allow(missing_docs)]
    pub const PLAN_NOT_VALID: &str = "PlanNotValid";
    pub const PLAN_NOT_READY: &str = "PlanNotReady";
}

/// Reconcile one Migration.
pub async fn reconcile(migration: Arc<Migration>, ctx: Arc<Context>) -> Result<Action> {
    let ns = migration.namespace().unwrap_or_default();
    let api: Api<Migration> = Api::namespaced(ctx.client.clone(), &ns);
    finalizer(&api, FINALIZER, migration, |event| async {
        match event {
            Event::Apply(m) => apply(m, ctx.clone()).await,
            Event::Cleanup(m) => cleanup(m, ctx.clone()).await,
        }
    })
    .await
    .map_err(|e| match e {
        kube::runtime::finalizer::Error::ApplyFailed(e)
        | kube::runtime::finalizer::Error::CleanupFailed(e) => e,
        other => Error::Invalid(format!("finalizer: {other}")),
    })
}

fn is_finished(m: &Migration) -> bool {
    m.status.as_ref().is_some_and(|s| {
        s.conditions
            .has_any(&[cnd::SUCCEEDED, cnd::FAILED, cnd::CANCELED])
    })
}

async fn apply(migration: Arc<Migration>, ctx: Arc<Context>) -> Result<Action> {
    if is_finished(&migration) {
        return Ok(Action::await_change());
    }
    let uid = migration.uid().unwrap_or_default();
    if let Some(run) = ctx
        .runs
        .lock()
        .map_err(|_| Error::Invalid("runs lock poisoned".into()))?
        .get(&uid)
        && !run.task.is_finished()
    {
        return Ok(Action::requeue(Duration::from_secs(5)));
    }
    let ns = migration.namespace().unwrap_or_default();
    let plan_ref = &migration.spec.plan;
    let plan_ns = plan_ref
        .namespace
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| ns.clone());
    let plan_name = plan_ref.name.clone().unwrap_or_default();
    let plan = if plan_name.is_empty() {
        None
    } else {
        Api::<Plan>::namespaced(ctx.client.clone(), &plan_ns)
            .get_opt(&plan_name)
            .await
            .map_err(api(format!("reading Plan {plan_ns}/{plan_name}")))?
    };
    if let Some(plan) = &plan
        && plan_ns == ns
    {
        owned_by_plan(&ctx, &migration, plan).await?;
    }
    let mut status = migration.status.clone().unwrap_or_default();
    status.conditions.begin_staging();
    let action = match plan {
        None => {
            status.conditions.set(
                Condition::new(types::PLAN_NOT_VALID, Category::Critical)
                    .reason("NotFound")
                    .message(format!(
                        "The plan (spec.plan) {plan_ns}/{plan_name} is not found."
                    )),
            );
            Action::requeue(Duration::from_secs(5))
        }
        Some(plan)
            if !plan
                .status
                .as_ref()
                .is_some_and(|s| s.conditions.is_ready()) =>
        {
            status.conditions.set(
                Condition::new(types::PLAN_NOT_READY, Category::Critical)
                    .reason("NotReady")
                    .message(format!("The plan {plan_name} is not ready; see its conditions (ferry plan describe {plan_name}).")),
            );
            Action::requeue(Duration::from_secs(2))
        }
        Some(plan) => {
            status.conditions.set(
                Condition::new(cnd::READY, Category::Required)
                    .reason("Completed")
                    .message("The migration is ready."),
            );
            start(&ctx, &migration, plan)?;
            Action::requeue(Duration::from_secs(5))
        }
    };
    // Keep conditions the runner owns.
    for c in migration.status.iter().flat_map(|s| s.conditions.iter()) {
        if matches!(
            c.type_.as_str(),
            cnd::RUNNING | cnd::SUCCEEDED | cnd::FAILED | cnd::CANCELED
        ) {
            status.conditions.set(c.clone());
        }
    }
    status.conditions.end_staging();
    crate::status::keep_transition_times(
        migration.status.as_ref().map(|s| &s.conditions),
        &mut status.conditions,
    );
    status.observed_generation = migration.metadata.generation;
    if migration.status.as_ref().map(|s| &s.conditions) != Some(&status.conditions) {
        let body = serde_json::json!({ "conditions": status.conditions, "observedGeneration": status.observed_generation });
        let written = patch_status_at(
            &Api::<Migration>::namespaced(ctx.client.clone(), &ns),
            &migration.name_any(),
            migration.metadata.resource_version.as_deref(),
            &body,
        )
        .await?;
        if written == Written::Stale {
            // The runner wrote meanwhile: recompute from the new object.
            return Ok(Action::requeue(Duration::from_millis(200)));
        }
    }
    Ok(action)
}

/// Make the Plan an owner of the Migration (same namespace only, as
/// ownerReferences require): deleting the Plan then deletes its Migrations
/// through garbage collection, and the Migration's finalizer cancels what
/// they had not finished. Migrated VMs stay.
async fn owned_by_plan(ctx: &Context, migration: &Migration, plan: &Plan) -> Result<()> {
    let Some(plan_uid) = plan.uid() else {
        return Ok(());
    };
    let mut owners = migration
        .metadata
        .owner_references
        .clone()
        .unwrap_or_default();
    if owners.iter().any(|o| o.uid == plan_uid) {
        return Ok(());
    }
    owners.push(
        k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            api_version: "forklift.konveyor.io/v1beta1".into(),
            kind: "Plan".into(),
            name: plan.name_any(),
            uid: plan_uid,
            block_owner_deletion: Some(false),
            controller: None,
        },
    );
    let ns = migration.namespace().unwrap_or_default();
    // No resourceVersion precondition: the runner writes the status all
    // the time, and nothing else changes the owners.
    let patch = serde_json::json!({"metadata": {"ownerReferences": owners}});
    Api::<Migration>::namespaced(ctx.client.clone(), &ns)
        .patch(
            &migration.name_any(),
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&patch),
        )
        .await
        .map_err(api(format!(
            "setting Plan {} as the owner of Migration {ns}/{}",
            plan.name_any(),
            migration.name_any()
        )))?;
    Ok(())
}

fn start(ctx: &Arc<Context>, migration: &Arc<Migration>, plan: Plan) -> Result<()> {
    let uid = migration.uid().unwrap_or_default();
    let mut runs = ctx
        .runs
        .lock()
        .map_err(|_| Error::Invalid("runs lock poisoned".into()))?;
    if runs.get(&uid).is_some_and(|r| !r.task.is_finished()) {
        return Ok(());
    }
    let stop = Arc::new(AtomicBool::new(false));
    let task = tokio::spawn(runner::run(
        ctx.clone(),
        migration.as_ref().clone(),
        plan,
        stop.clone(),
    ));
    runs.insert(uid, Run { stop, task });
    Ok(())
}

async fn cleanup(migration: Arc<Migration>, ctx: Arc<Context>) -> Result<Action> {
    let uid = migration.uid().unwrap_or_default();
    let run = ctx
        .runs
        .lock()
        .map_err(|_| Error::Invalid("runs lock poisoned".into()))?
        .remove(&uid);
    if let Some(run) = run {
        run.stop.store(true, Ordering::SeqCst);
        // The runner cancels what is left and writes the plan's status.
        let _ = tokio::time::timeout(Duration::from_secs(60), run.task).await;
    }
    Ok(Action::await_change())
}
