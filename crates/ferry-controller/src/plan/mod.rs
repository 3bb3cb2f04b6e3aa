//! The Plan reconciler: validates the plan against its providers, maps and
//! the inventory and sets Forklift's conditions (`Ready` when nothing
//! blocks). Execution conditions (`Executing`, `Succeeded`, `Failed`,
//! `Canceled`) belong to the migration runner and are left as they are.
pub mod triggers;
mod validate;

use std::sync::Arc;
use std::time::Duration;

use ferry_core::api::condition::types as cnd;
use ferry_core::api::{Category, Condition, Plan};
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};

use crate::context::Context;
use crate::error::Result;
use crate::status::{Written, patch_status_at};

pub use validate::{VmFacts, validate};

/// Condition types the runner owns; plan validation keeps them.
pub const EXECUTION: &[&str] = &[
    cnd::EXECUTING,
    cnd::SUCCEEDED,
    cnd::FAILED,
    cnd::CANCELED,
    cnd::ARCHIVED,
    cnd::DELETED,
    cnd::PAUSED,
];

/// How often a Plan that is not ready is validated again.
const NOT_READY_RECHECK: Duration = Duration::from_secs(10);

/// Reconcile one Plan.
pub async fn reconcile(plan: Arc<Plan>, ctx: Arc<Context>) -> Result<Action> {
    let ns = plan.namespace().unwrap_or_default();
    let name = plan.name_any();
    let mut status = plan.status.clone().unwrap_or_default();
    let kept: Vec<Condition> = status
        .conditions
        .iter()
        .filter(|c| EXECUTION.contains(&c.type_.as_str()))
        .cloned()
        .collect();
    status.conditions.begin_staging();
    let found = validate(&plan, &ctx).await?;
    for c in found {
        status.conditions.set(c);
    }
    // Drop conditions that no longer hold before deciding Ready.
    status.conditions.end_staging();
    if !status.conditions.has_blocker() {
        status.conditions.set(
            Condition::new(cnd::READY, Category::Required)
                .reason("Completed")
                .message("The migration plan is ready."),
        );
    }
    for c in kept {
        status.conditions.set(c);
    }
    crate::status::keep_transition_times(
        plan.status.as_ref().map(|s| &s.conditions),
        &mut status.conditions,
    );
    status.observed_generation = plan.metadata.generation;
    let ready = status.conditions.is_ready();
    // Another writer (the runner) may have changed `migration` since we read
    // the plan: write only the conditions and generation.
    if plan
        .status
        .as_ref()
        .map(|s| (&s.conditions, s.observed_generation))
        != Some((&status.conditions, status.observed_generation))
    {
        let body = serde_json::json!({ "conditions": status.conditions, "observedGeneration": status.observed_generation });
        let written = patch_status_at(
            &Api::<Plan>::namespaced(ctx.client.clone(), &ns),
            &name,
            plan.metadata.resource_version.as_deref(),
            &body,
        )
        .await?;
        if written == Written::Stale {
            // The runner wrote meanwhile: recompute from the new object.
            return Ok(Action::requeue(Duration::from_millis(200)));
        }
    }
    // Changes of the Providers, maps and Hooks a Plan names trigger it (see
    // `crate::run`); the requeue only catches inventory changes.
    let recheck = ctx.settings().plan_recheck;
    Ok(Action::requeue(if ready {
        recheck
    } else {
        NOT_READY_RECHECK.min(recheck)
    }))
}
