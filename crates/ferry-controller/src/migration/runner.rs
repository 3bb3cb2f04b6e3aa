//! One Migration's run: initialises `Plan.status.migration`, schedules VMs
//! within `controller_max_vm_inflight` (per ESXi host for vSphere), follows `spec.cancel[]`, writes
//! progress about once a second, and sets the final conditions. A run that
//! is started again for the same Migration (after ferry restarted) resumes:
//! finished VMs are skipped and disk copies continue from their journals.
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferry_core::api::condition::types as cnd;
use ferry_core::api::plan_status::{Snapshot, SnapshotRef};
use ferry_core::api::{
    Category, Condition, Migration, MigrationStatus, NetworkMap, Plan, StorageMap, VmStatus,
};
use kube::{Api, ResourceExt};

use super::vm;
use crate::context::{Context, now};
use crate::error::{Error, Result, api, chain};
use crate::status::{Written, patch_status, patch_status_at};

/// State shared between the VM tasks and the status writer.
pub(super) struct Shared {
    pub vms: Mutex<Vec<VmStatus>>,
}

impl Shared {
    /// Change VM `i`'s status.
    pub fn update(&self, i: usize, f: impl FnOnce(&mut VmStatus)) {
        if let Ok(mut vms) = self.vms.lock()
            && let Some(s) = vms.get_mut(i)
        {
            f(s);
        }
    }

    fn snapshot(&self) -> Vec<VmStatus> {
        self.vms.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

fn snap_ref(
    ns: Option<String>,
    name: Option<String>,
    uid: Option<String>,
    generation: Option<i64>,
) -> SnapshotRef {
    SnapshotRef {
        namespace: ns.unwrap_or_default(),
        name: name.unwrap_or_default(),
        uid: uid.unwrap_or_default(),
        generation: generation.unwrap_or_default(),
    }
}

fn has(s: &VmStatus, t: &str) -> bool {
    s.conditions.has(t)
}

/// Drive `migration` of `plan` to the end.
pub(super) async fn run(
    ctx: Arc<Context>,
    migration: Migration,
    plan: Plan,
    stop: Arc<AtomicBool>,
) {
    let name = migration.name_any();
    if let Err(err) = run_inner(&ctx, &migration, plan, &stop).await {
        tracing::error!(migration = %name, error = %chain(&err), "migration failed");
        let ns = migration.namespace().unwrap_or_default();
        let mut status = migration.status.clone().unwrap_or_default();
        status.conditions.set(
            Condition::new(cnd::FAILED, Category::Advisory)
                .reason("Error")
                .message(chain(&err))
                .durable(),
        );
        status.completed = Some(now());
        let body =
            serde_json::json!({ "conditions": status.conditions, "completed": status.completed });
        let _ = patch_status(
            &Api::<Migration>::namespaced(ctx.client.clone(), &ns),
            &name,
            &body,
        )
        .await;
    }
}

async fn run_inner(
    ctx: &Arc<Context>,
    migration: &Migration,
    plan: Plan,
    stop: &Arc<AtomicBool>,
) -> Result<()> {
    let mig_ns = migration.namespace().unwrap_or_default();
    let mig_name = migration.name_any();
    let mig_uid = migration.uid().unwrap_or_default();
    let plan_ns = plan.namespace().unwrap_or_default();
    let plan_name = plan.name_any();
    let plan_api: Api<Plan> = Api::namespaced(ctx.client.clone(), &plan_ns);
    let mig_api: Api<Migration> = Api::namespaced(ctx.client.clone(), &mig_ns);

    let map_ns = |r: &k8s_openapi::api::core::v1::ObjectReference| {
        r.namespace
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| plan_ns.clone())
    };
    let net_ref = &plan.spec.map.network;
    let st_ref = &plan.spec.map.storage;
    let network_map = Api::<NetworkMap>::namespaced(ctx.client.clone(), &map_ns(net_ref))
        .get(net_ref.name.as_deref().unwrap_or_default())
        .await
        .map_err(api("reading the plan's NetworkMap"))?;
    let storage_map = Api::<StorageMap>::namespaced(ctx.client.clone(), &map_ns(st_ref))
        .get(st_ref.name.as_deref().unwrap_or_default())
        .await
        .map_err(api("reading the plan's StorageMap"))?;

    // Initialise or resume plan.status.migration.
    let mut mstatus: MigrationStatus = plan
        .status
        .as_ref()
        .and_then(|s| s.migration.clone())
        .unwrap_or_default();
    let resuming = mstatus
        .history
        .last()
        .is_some_and(|h| h.migration.uid == mig_uid);
    if !resuming {
        mstatus.history.push(Snapshot {
            plan: snap_ref(
                Some(plan_ns.clone()),
                Some(plan_name.clone()),
                plan.uid(),
                plan.metadata.generation,
            ),
            migration: snap_ref(
                Some(mig_ns.clone()),
                Some(mig_name.clone()),
                Some(mig_uid.clone()),
                migration.metadata.generation,
            ),
            ..Snapshot::default()
        });
        mstatus.started = Some(now());
        mstatus.completed = None;
        let previous = std::mem::take(&mut mstatus.vms);
        mstatus.vms = plan
            .spec
            .vms
            .iter()
            .map(
                |entry| match previous.iter().find(|p| p.vm.matches(entry)) {
                    // A new Migration migrates what is left: succeeded VMs stay.
                    Some(p) if has(p, cnd::SUCCEEDED) => p.clone(),
                    _ => VmStatus {
                        vm: entry.clone(),
                        ..VmStatus::default()
                    },
                },
            )
            .collect();
    } else {
        for entry in &plan.spec.vms {
            if mstatus.find_vm(entry).is_none() {
                mstatus.vms.push(VmStatus {
                    vm: entry.clone(),
                    ..VmStatus::default()
                });
            }
        }
    }
    let shared = Arc::new(Shared {
        vms: Mutex::new(mstatus.vms.clone()),
    });
    write_plan(
        &plan_api,
        &plan_name,
        &plan,
        &mstatus,
        &shared,
        PlanExec::Running,
    )
    .await?;
    let mut mig_status = migration.status.clone().unwrap_or_default();
    mig_status.started.get_or_insert_with(now);
    // The plan was ready when this run started: what said otherwise is stale.
    mig_status.conditions.delete(super::types::PLAN_NOT_READY);
    mig_status.conditions.delete(super::types::PLAN_NOT_VALID);
    mig_status.conditions.set(
        Condition::new(cnd::READY, Category::Required)
            .reason("Completed")
            .message("The migration is ready."),
    );
    mig_status.conditions.set(
        Condition::new(cnd::RUNNING, Category::Advisory)
            .reason("Started")
            .message("The migration is running."),
    );
    write_migration(&mig_api, &mig_name, &mig_status, &shared).await?;

    // One task per VM that is not finished, at most max_vm_inflight at once
    // per scheduling group: per ESXi host for vSphere (as Forklift), one
    // group for the other sources.
    let groups = schedule_groups(ctx, &plan, &shared.snapshot()).await;
    let mut limits: HashMap<String, Arc<tokio::sync::Semaphore>> = HashMap::new();
    let count = shared.snapshot().len();
    let cancels: Vec<Arc<AtomicBool>> = (0..count)
        .map(|_| Arc::new(AtomicBool::new(false)))
        .collect();
    let inputs = Arc::new(vm::Inputs {
        plan: plan.clone(),
        network_map,
        storage_map,
        migration: mig_name.clone(),
    });
    let mut tasks = Vec::new();
    for (i, cancel) in cancels.iter().enumerate() {
        let done = shared
            .vms
            .lock()
            .map(|v| v.get(i).is_some_and(VmStatus::is_completed))
            .unwrap_or(true);
        if done {
            continue;
        }
        let group = groups.get(i).cloned().unwrap_or_default();
        let limit = limits
            .entry(group)
            .or_insert_with(|| {
                Arc::new(tokio::sync::Semaphore::new(
                    ctx.settings().max_vm_inflight.max(1),
                ))
            })
            .clone();
        let (ctx, shared, inputs, cancel) =
            (ctx.clone(), shared.clone(), inputs.clone(), cancel.clone());
        tasks.push(tokio::spawn(async move {
            let Ok(_permit) = limit.acquire_owned().await else {
                return;
            };
            vm::migrate(&ctx, &inputs, &shared, i, &cancel).await;
        }));
    }

    // Follow cancel requests and write progress until every VM is done.
    let all = futures::future::join_all(tasks);
    tokio::pin!(all);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = &mut all => break,
            _ = tick.tick() => {
                follow_cancel(&mig_api, &mig_name, &shared, &cancels, stop).await;
                write_plan(&plan_api, &plan_name, &plan, &mstatus, &shared, PlanExec::Running).await.ok();
                write_migration(&mig_api, &mig_name, &mig_status, &shared).await.ok();
            }
        }
    }

    // Final conditions.
    let vms = shared.snapshot();
    let failed = vms.iter().filter(|v| has(v, cnd::FAILED)).count();
    let canceled = vms.iter().filter(|v| has(v, cnd::CANCELED)).count();
    let (t, msg) = if stop.load(Ordering::SeqCst)
        || (canceled > 0 && canceled + failed == vms.len() && failed == 0)
    {
        (cnd::CANCELED, "The migration has been canceled.".to_owned())
    } else if failed > 0 {
        (
            cnd::FAILED,
            format!(
                "The migration has failed: {failed} of {} VMs failed.",
                vms.len()
            ),
        )
    } else {
        (cnd::SUCCEEDED, "The migration has SUCCEEDED.".to_owned())
    };
    mstatus.completed = Some(now());
    write_plan(
        &plan_api,
        &plan_name,
        &plan,
        &mstatus,
        &shared,
        PlanExec::Done(t, &msg),
    )
    .await?;
    mig_status.conditions.delete(cnd::RUNNING);
    mig_status.conditions.set(
        Condition::new(t, Category::Advisory)
            .reason("Completed")
            .message(msg)
            .durable(),
    );
    mig_status.completed = Some(now());
    write_migration(&mig_api, &mig_name, &mig_status, &shared).await?;
    Ok(())
}

/// Set the cancel flag of every VM listed in `spec.cancel`, and of all when
/// the migration is being deleted.
async fn follow_cancel(
    api: &Api<Migration>,
    name: &str,
    shared: &Shared,
    cancels: &[Arc<AtomicBool>],
    stop: &AtomicBool,
) {
    let current = api.get_opt(name).await.ok().flatten();
    let all = stop.load(Ordering::SeqCst)
        || current
            .as_ref()
            .is_none_or(|m| m.metadata.deletion_timestamp.is_some());
    let vms = shared.snapshot();
    for (i, flag) in cancels.iter().enumerate() {
        let Some(s) = vms.get(i) else { continue };
        let listed = current
            .as_ref()
            .is_some_and(|m| m.spec.is_canceled(&s.vm.as_ref()));
        if (all || listed) && !flag.load(Ordering::SeqCst) {
            flag.store(true, Ordering::SeqCst);
        }
    }
}

/// The scheduling group of each VM, as its provider's adapter says (vSphere:
/// the ESXi host id, since Forklift limits VMs in flight per host; OVA: one
/// group for all).
async fn schedule_groups(ctx: &Context, plan: &Plan, vms: &[VmStatus]) -> Vec<String> {
    let ns = plan.namespace().unwrap_or_default();
    let src = crate::lookup::provider(ctx, &ns, &plan.spec.provider.source).await;
    let adapter = src
        .as_ref()
        .and_then(|p| crate::providers::registry::source(p.spec.type_.as_str()).ok());
    let uid = src.as_ref().map(crate::lookup::uid).unwrap_or_default();
    vms.iter()
        .map(|s| {
            let Some(adapter) = adapter else {
                return String::new();
            };
            crate::lookup::find(ctx, &uid, "vms", &s.vm.as_ref())
                .ok()
                .flatten()
                .map(|f| adapter.schedule_group(&f.resource.object))
                .unwrap_or_default()
        })
        .collect()
}

enum PlanExec<'a> {
    Running,
    Done(&'a str, &'a str),
}

async fn write_plan(
    api: &Api<Plan>,
    name: &str,
    plan: &Plan,
    mstatus: &MigrationStatus,
    shared: &Shared,
    exec: PlanExec<'_>,
) -> Result<()> {
    let mut m = mstatus.clone();
    m.vms = shared.snapshot();
    // Conditions: re-read so validation conditions written meanwhile stay;
    // write only if nobody wrote in between, else read again.
    for _ in 0..10 {
        let current = api
            .get_opt(name)
            .await
            .map_err(api_err(name))?
            .unwrap_or_else(|| plan.clone());
        let rv = current.metadata.resource_version.clone();
        let mut conds = current.status.map(|s| s.conditions).unwrap_or_default();
        // The condition set below keeps its lastTransitionTime when it is
        // already there, so a progress write does not rewrite it.
        let keep = match &exec {
            PlanExec::Running => cnd::EXECUTING,
            PlanExec::Done(t, _) => *t,
        };
        for t in [cnd::EXECUTING, cnd::SUCCEEDED, cnd::FAILED, cnd::CANCELED] {
            if t != keep {
                conds.delete(t);
            }
        }
        match &exec {
            PlanExec::Running => conds.set(
                Condition::new(cnd::EXECUTING, Category::Advisory)
                    .reason("Started")
                    .message("The plan is EXECUTING."),
            ),
            PlanExec::Done(t, msg) => conds.set(
                Condition::new(*t, Category::Advisory)
                    .reason("Completed")
                    .message(*msg)
                    .durable(),
            ),
        }
        let body = serde_json::json!({ "migration": m, "conditions": conds });
        if patch_status_at(api, name, rv.as_deref(), &body).await? == Written::Done {
            return Ok(());
        }
    }
    Err(Error::Invalid(format!(
        "Plan {name} kept changing while its migration status was written; it will be written again"
    )))
}

fn api_err(name: &str) -> impl FnOnce(kube::Error) -> Error + '_ {
    move |e| Error::Api {
        context: format!("reading Plan {name}"),
        source: e,
    }
}

async fn write_migration(
    api: &Api<Migration>,
    name: &str,
    status: &ferry_core::api::MigrationObjStatus,
    shared: &Shared,
) -> Result<()> {
    let mut s = status.clone();
    s.vms = shared.snapshot();
    patch_status(api, name, &s).await
}
