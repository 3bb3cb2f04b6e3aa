//! One VM's cold migration in Forklift's phase and pipeline step names,
//! whatever the source (its adapter in `crate::providers` builds the
//! source VM, controls its power and opens its disks): Started →
//! (PreHook) → [sources with power: StorePowerState →
//! PowerOffSource → WaitForPowerOff] → CreateDataVolumes → CopyDisks →
//! ConvertGuest (recorded as skipped) → CreateVM → (PostHook) → Completed.
//! Every phase is idempotent, so a VM resumed after a restart goes through
//! them again and only copies what its journals say is missing.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ferry_core::api::condition::types as cnd;
use ferry_core::api::kubevirt::datavolume::DataVolume;
use ferry_core::api::kubevirt::vm::RunStrategy;
use ferry_core::api::kubevirt::vm::VirtualMachine;
use ferry_core::api::phases::{phase, step};
use ferry_core::api::plan_status::RestorePowerState;
use ferry_core::api::plan_status::{Step, Task};
use ferry_core::api::{Category, Condition, NetworkMap, Plan, StorageMap, TargetPowerState};
use ferry_core::naming::{self, SeededSuffix, TargetNameInputs};
use ferry_destination::VolumeRequest;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{DeleteParams, PostParams};
use kube::{Api, ResourceExt};

use super::builder::{self, BuildInputs, Built};
use super::runner::Shared;
use super::transfer::{From, copy_disks};
use crate::context::{Context, now};
use crate::error::chain;
use crate::lookup;
use crate::providers::{SHUTDOWN_TIMEOUT, SourceSession, registry};

/// What every VM of the run shares.
pub(super) struct Inputs {
    pub plan: Plan,
    pub network_map: NetworkMap,
    pub storage_map: StorageMap,
    pub migration: String,
}

const MB: u64 = 1 << 20;

pub(super) fn mb(bytes: u64) -> i64 {
    i64::try_from(bytes.div_ceil(MB)).unwrap_or(i64::MAX)
}

/// Why a VM stopped early.
pub(super) enum Stop {
    Failed(String, String),
    Canceled,
}

/// Migrate VM `i` of the run; all outcomes are recorded in `shared`.
pub(super) async fn migrate(
    ctx: &Arc<Context>,
    inputs: &Inputs,
    shared: &Shared,
    i: usize,
    cancel: &Arc<AtomicBool>,
) {
    let mut built = None;
    let mut source = None;
    let result = run_phases(ctx, inputs, shared, i, cancel, &mut built, &mut source).await;
    if result.is_err()
        && let Some(v) = source.as_ref().and_then(|s| s.power().ok())
    {
        // Put the source back as it was before the migration touched it.
        let was = shared
            .vms
            .lock()
            .ok()
            .and_then(|v| v.get(i).and_then(|s| s.restore_power_state.clone()));
        v.restore(was).await;
    }
    let t = now();
    match result {
        Ok(()) => shared.update(i, |s| {
            s.phase = phase::COMPLETED.to_owned();
            s.completed = Some(t);
            s.conditions.set(
                Condition::new(cnd::SUCCEEDED, Category::Advisory)
                    .reason("Completed")
                    .message("The VM migration has SUCCEEDED.")
                    .durable(),
            );
        }),
        Err(Stop::Canceled) => {
            cleanup(ctx, inputs, built.as_ref(), true).await;
            shared.update(i, |s| {
                s.phase = phase::COMPLETED.to_owned();
                s.completed = Some(t);
                s.conditions.set(
                    Condition::new(cnd::CANCELED, Category::Advisory)
                        .reason("UserRequested")
                        .message("The VM migration was canceled; its partial volumes were removed.")
                        .durable(),
                );
            });
        }
        Err(Stop::Failed(at, reason)) => {
            // Keep the volumes and journals: a new Migration resumes them.
            cleanup(ctx, inputs, built.as_ref(), false).await;
            shared.update(i, |s| {
                s.fail(&at, vec![reason.clone()]);
                s.phase = phase::COMPLETED.to_owned();
                s.completed = Some(t.clone());
                if let Some(step) = s
                    .pipeline
                    .iter_mut()
                    .find(|p| p.completed.is_none() && p.started.is_some())
                {
                    step.error = Some(ferry_core::api::StepError {
                        phase: at.clone(),
                        reasons: vec![reason.clone()],
                    });
                }
                s.conditions.set(
                    Condition::new(cnd::FAILED, Category::Advisory)
                        .reason("Error")
                        .message(reason)
                        .durable(),
                );
            });
        }
    }
}

fn fail(at: &str) -> impl FnOnce(String) -> Stop + '_ {
    move |reason| Stop::Failed(at.to_owned(), reason)
}

fn set_phase(shared: &Shared, i: usize, p: &str) {
    shared.update(i, |s| s.phase = p.to_owned());
}

fn step_start(shared: &Shared, i: usize, name: &str) {
    let t = now();
    shared.update(i, |s| {
        if let Some(st) = s.step_mut(name) {
            st.mark_started(t);
        }
    });
}

fn step_done(shared: &Shared, i: usize, name: &str) {
    let t = now();
    shared.update(i, |s| {
        if let Some(st) = s.step_mut(name) {
            st.mark_completed(t);
        }
    });
}

async fn run_phases(
    ctx: &Arc<Context>,
    inputs: &Inputs,
    shared: &Shared,
    i: usize,
    cancel: &Arc<AtomicBool>,
    out: &mut Option<Built>,
    source: &mut Option<Arc<dyn SourceSession>>,
) -> Result<(), Stop> {
    let plan = &inputs.plan;
    let entry = shared
        .vms
        .lock()
        .ok()
        .and_then(|v| v.get(i).map(|s| s.vm.clone()))
        .ok_or(Stop::Failed(
            phase::STARTED.into(),
            "VM status is missing".into(),
        ))?;
    set_phase(shared, i, phase::STARTED);
    shared.update(i, |s| {
        s.started.get_or_insert_with(now);
        s.error = None;
        s.completed = None;
        s.conditions.delete(cnd::FAILED);
    });

    // Resolve the VM in the inventory.
    let ns = plan.namespace().unwrap_or_default();
    let src = lookup::provider(ctx, &ns, &plan.spec.provider.source)
        .await
        .ok_or_else(|| Stop::Failed(phase::STARTED.into(), "the source provider is gone".into()))?;
    let uid = lookup::uid(&src);
    let found = lookup::find(ctx, &uid, "vms", &entry.as_ref())
        .map_err(|e| Stop::Failed(phase::STARTED.into(), chain(&e)))?
        .ok_or_else(|| {
            Stop::Failed(
                phase::STARTED.into(),
                format!(
                    "VM {} is no longer in the inventory",
                    entry.as_ref().display()
                ),
            )
        })?;
    let adapter = registry::source(src.spec.type_.as_str())
        .map_err(|e| Stop::Failed(phase::STARTED.into(), e.to_string()))?;
    let mut vm = adapter
        .source_vm(ctx, &uid, &found)
        .map_err(|e| Stop::Failed(phase::STARTED.into(), e))?;
    let session = adapter
        .open(ctx, &src, &found, &mut vm)
        .await
        .map_err(|e| Stop::Failed(phase::STARTED.into(), e))?;
    *source = Some(session.clone());
    session
        .disks_readable()
        .map_err(|e| Stop::Failed(phase::STARTED.into(), e))?;
    let transfer_host = session.transfer_host();

    // Target name: targetName → newName → valid source name → sanitised;
    // a name taken by another VM gets a suffix.
    let vm_api: Api<VirtualMachine> =
        Api::namespaced(ctx.client.clone(), &plan.spec.target_namespace);
    let prev_name = shared
        .vms
        .lock()
        .ok()
        .and_then(|v| v.get(i).and_then(|s| s.new_name.clone()));
    let mut random = SeededSuffix::new(seed(&vm.id));
    let (mut target, origin) = naming::resolve_target_vm_name(
        TargetNameInputs {
            target_name: entry.target_name.as_deref(),
            status_new_name: prev_name.as_deref(),
            source_name: &vm.name,
            vm_id: &vm.id,
        },
        &mut random,
    );
    if prev_name.is_none()
        && let Ok(Some(existing)) = vm_api.get_opt(&target).await
    {
        {
            let ours = existing
                .labels()
                .get("vmID")
                .is_some_and(|v| vm.id.starts_with(v.as_str()));
            if !ours {
                if origin == naming::NameOrigin::TargetName {
                    return Err(Stop::Failed(
                        phase::STARTED.into(),
                        format!(
                            "targetName {target:?} is already taken by another VirtualMachine in {}",
                            plan.spec.target_namespace
                        ),
                    ));
                }
                target = naming::with_collision_suffix(&target, &mut random);
            }
        }
    }
    shared.update(i, |s| {
        s.new_name = Some(target.clone());
        s.firmware = Some(vm.firmware.clone());
        s.operating_system = Some(vm.os_type.clone());
    });

    let dest = ctx.destination.clone();
    let image_file =
        |pvc: &str| Some(dest.reference(&dest.locate(&plan.spec.target_namespace, pvc, 0)));
    let mut built = builder::build(&BuildInputs {
        plan,
        entry: &entry,
        vm: &vm,
        target_name: &target,
        network_map: &inputs.network_map,
        storage_map: &inputs.storage_map,
        filesystem_overhead: ctx.settings().filesystem_overhead,
        block_overhead: ctx.settings().block_overhead,
        migration: &inputs.migration,
        image_file: &image_file,
    })
    .map_err(|e| Stop::Failed(phase::STARTED.into(), e.to_string()))?;
    let pods = dest.transfer_pods().cloned();
    if pods.is_some() {
        super::pods::check_source(&vm).map_err(|e| Stop::Failed(phase::STARTED.into(), e))?;
        super::pods::use_pvcs(&mut built.vm);
    }
    *out = Some(built.clone());

    // Pipeline (kept on resume).
    let has_pre = entry.hooks.iter().any(|h| h.step.as_str() == "PreHook");
    let has_post = entry.hooks.iter().any(|h| h.step.as_str() == "PostHook");
    shared.update(i, |s| {
        if s.pipeline.is_empty() {
            s.pipeline = pipeline(&built, has_pre, has_post);
        }
    });
    if let Some(h) = &transfer_host {
        shared.update(i, |s| {
            if let Some(st) = s.step_mut(step::DISK_TRANSFER) {
                st.annotations.insert("transferHost".into(), h.clone());
            }
        });
    }
    step_start(shared, i, step::INITIALIZE);

    if has_pre {
        set_phase(shared, i, phase::PRE_HOOK);
        return Err(Stop::Failed(phase::PRE_HOOK.into(), hook_unsupported()));
    }

    // StorePowerState, PowerOffSource, WaitForPowerOff (sources with power).
    if let Ok(v) = session.power() {
        set_phase(shared, i, phase::STORE_POWER_STATE);
        let known = shared
            .vms
            .lock()
            .ok()
            .and_then(|v| v.get(i).and_then(|s| s.restore_power_state.clone()));
        // On a resumed run the state stored first is kept: the VM is off
        // now because the earlier run turned it off.
        if known.is_none() {
            let state = v
                .store_power_state()
                .await
                .map_err(fail(phase::STORE_POWER_STATE))?;
            shared.update(i, |s| s.restore_power_state = Some(state));
        }
        if cancel.load(Ordering::SeqCst) {
            return Err(Stop::Canceled);
        }
        set_phase(shared, i, phase::POWER_OFF_SOURCE);
        v.power_off_source()
            .await
            .map_err(fail(phase::POWER_OFF_SOURCE))?;
        set_phase(shared, i, phase::WAIT_FOR_POWER_OFF);
        v.wait_for_power_off(SHUTDOWN_TIMEOUT)
            .await
            .map_err(fail(phase::WAIT_FOR_POWER_OFF))?;
        // targetPowerState auto (or unset): the target runs when the
        // source was running.
        let wanted = entry.target_power_state.or(plan.spec.target_power_state);
        let was_on = shared
            .vms
            .lock()
            .ok()
            .and_then(|v| v.get(i).and_then(|s| s.restore_power_state.clone()))
            == Some(RestorePowerState::On);
        if matches!(wanted, None | Some(TargetPowerState::Auto)) && was_on {
            built.vm.spec.run_strategy = Some(RunStrategy::Always);
            *out = Some(built.clone());
        }
    }

    // CreateDataVolumes: volumes on the destination, DataVolumes in the API.
    set_phase(shared, i, phase::CREATE_DATA_VOLUMES);
    ensure_namespace(&ctx.client, &plan.spec.target_namespace)
        .await
        .map_err(fail(phase::CREATE_DATA_VOLUMES))?;
    let dv_api: Api<DataVolume> = Api::namespaced(ctx.client.clone(), &plan.spec.target_namespace);
    let mut volumes = Vec::new();
    for (d, dv) in built.disks.iter().zip(&built.data_volumes) {
        let vol = dest
            .create_volume(&VolumeRequest {
                namespace: plan.spec.target_namespace.clone(),
                name: d.pvc.clone(),
                capacity: d.capacity,
            })
            .map_err(|e| Stop::Failed(phase::CREATE_DATA_VOLUMES.into(), chain(&e)))?;
        if pods.is_none() {
            create_or_keep(&dv_api, dv)
                .await
                .map_err(fail(phase::CREATE_DATA_VOLUMES))?;
        }
        volumes.push(vol);
    }
    if pods.is_some() {
        super::pods::create_pvcs(ctx, &plan.spec.target_namespace, &built)
            .await
            .map_err(fail(phase::CREATE_DATA_VOLUMES))?;
    }
    step_done(shared, i, step::INITIALIZE);

    // CopyDisks.
    set_phase(shared, i, phase::COPY_DISKS);
    step_start(shared, i, step::DISK_TRANSFER);
    let from = From {
        vm: &vm,
        session: &session,
    };
    match &pods {
        Some(cfg) => {
            let job = super::pods::PodJob {
                cfg,
                plan,
                vm: &vm,
                built: &built,
            };
            super::pods::copy_disks(ctx, &job, shared, i, cancel).await?;
        }
        None => copy_disks(ctx, shared, i, &from, &built, &volumes, cancel).await?,
    }
    if let Ok(v) = session.power() {
        // Disks are read by path; make sure they still belong to the VM.
        v.check_still_there()
            .await
            .map_err(fail(phase::COPY_DISKS))?;
    }
    step_done(shared, i, step::DISK_TRANSFER);
    shared.update(i, |s| s.disks_copied = Some(true));

    // ConvertGuest: not run; recorded with the reason.
    set_phase(shared, i, phase::CONVERT_GUEST);
    let t = now();
    shared.update(i, |s| {
        if let Some(st) = s.step_mut(step::IMAGE_CONVERSION) {
            st.mark_completed(t);
            st.reason = Some("Skipped".into());
            st.annotations.insert("skipped".into(), "guest conversion (virt-v2v) is not run by ferry yet; the VM keeps its own drivers and uses compatibility devices (SATA disks, e1000e NICs)".into());
        }
    });

    // CreateVM.
    if cancel.load(Ordering::SeqCst) {
        return Err(Stop::Canceled);
    }
    set_phase(shared, i, phase::CREATE_VM);
    step_start(shared, i, step::VM_CREATION);
    write_manifests(&*dest, &built).map_err(fail(phase::CREATE_VM))?;
    create_or_replace_vm(&vm_api, &built.vm)
        .await
        .map_err(fail(phase::CREATE_VM))?;
    step_done(shared, i, step::VM_CREATION);

    if has_post {
        set_phase(shared, i, phase::POST_HOOK);
        return Err(Stop::Failed(phase::POST_HOOK.into(), hook_unsupported()));
    }
    Ok(())
}

fn hook_unsupported() -> String {
    "hooks run as Kubernetes Jobs, and the local destination has no container runtime: run this plan against a cluster (ferry operator) or remove the hook from spec.vms[].hooks".into()
}

fn seed(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn pipeline(built: &Built, pre: bool, post: bool) -> Vec<Step> {
    let mut steps = vec![Step::pending(step::INITIALIZE, "Initialize migration.", 0)];
    if pre {
        steps.push(Step::pending(step::PRE_HOOK, "Run pre-migration hook.", 0));
    }
    let mut transfer = Step::pending(step::DISK_TRANSFER, "Transfer disks.", 0);
    transfer.annotations.insert("unit".into(), "MB".into());
    for d in &built.disks {
        let mut t = Task::pending(&d.pvc, mb(d.capacity));
        t.description = Some(format!("Copy {}", d.file));
        t.annotations.insert("unit".into(), "MB".into());
        transfer.tasks.push(t);
    }
    transfer.progress.total = transfer.tasks.iter().map(|t| t.progress.total).sum();
    steps.push(transfer);
    steps.push(Step::pending(
        step::IMAGE_CONVERSION,
        "Convert image to kubevirt.",
        0,
    ));
    steps.push(Step::pending(step::VM_CREATION, "Create VM.", 0));
    if post {
        steps.push(Step::pending(
            step::POST_HOOK,
            "Run post-migration hook.",
            0,
        ));
    }
    steps
}

/// Create the target namespace when it is missing, as Forklift does.
async fn ensure_namespace(client: &kube::Client, name: &str) -> Result<(), String> {
    let api: Api<Namespace> = Api::all(client.clone());
    let ns = Namespace {
        metadata: kube::api::ObjectMeta {
            name: Some(name.to_owned()),
            ..Default::default()
        },
        ..Default::default()
    };
    match api.create(&PostParams::default(), &ns).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
        Err(e) => Err(format!(
            "creating the target namespace {name}: {}",
            chain(&e)
        )),
    }
}

async fn create_or_keep(api: &Api<DataVolume>, dv: &DataVolume) -> Result<(), String> {
    match api.create(&PostParams::default(), dv).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
        Err(e) => Err(format!(
            "creating DataVolume {}: {}",
            dv.name_any(),
            chain(&e)
        )),
    }
}

async fn create_or_replace_vm(
    api: &Api<VirtualMachine>,
    vm: &VirtualMachine,
) -> Result<(), String> {
    match api.create(&PostParams::default(), vm).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 409 => {
            let mut current = api.get(&vm.name_any()).await.map_err(|e| chain(&e))?;
            current.spec = vm.spec.clone();
            current.metadata.labels = vm.metadata.labels.clone();
            api.replace(&vm.name_any(), &PostParams::default(), &current)
                .await
                .map(|_| ())
                .map_err(|e| chain(&e))
        }
        Err(e) => Err(format!(
            "creating VirtualMachine {}: {}",
            vm.name_any(),
            chain(&e)
        )),
    }
}

fn write_manifests(dest: &dyn ferry_destination::Destination, built: &Built) -> Result<(), String> {
    let ns = built.vm.namespace().unwrap_or_default();
    let name = built.vm.name_any();
    dest.write_manifest(&ns, &name, "virtualmachine.yaml", &to_yaml(&built.vm)?)
        .map_err(|e| chain(&e))?;
    for dv in &built.data_volumes {
        dest.write_manifest(
            &ns,
            &name,
            &format!("datavolume-{}.yaml", dv.name_any()),
            &to_yaml(dv)?,
        )
        .map_err(|e| chain(&e))?;
    }
    Ok(())
}

/// YAML with every string on one line: long values (paths) are never folded
/// into `>-` blocks, so line-oriented tools read them whole.
fn to_yaml(value: &impl serde::Serialize) -> Result<String, String> {
    let mut options = serde_saphyr::SerializerOptions::default();
    options.prefer_block_scalars = false;
    serde_saphyr::to_string_with_options(value, options)
        .map_err(|e| format!("cannot render YAML: {e}"))
}

/// Remove what a stopped VM created: the VirtualMachine always; the volumes
/// and DataVolumes only when `volumes` (cancel), since a failed VM keeps
/// them for the next Migration to resume.
async fn cleanup(ctx: &Arc<Context>, inputs: &Inputs, built: Option<&Built>, volumes: bool) {
    let Some(built) = built else { return };
    if ctx.destination.transfer_pods().is_some() {
        super::pods::cleanup(ctx, built, volumes).await;
    }
    let ns = &inputs.plan.spec.target_namespace;
    let vm_api: Api<VirtualMachine> = Api::namespaced(ctx.client.clone(), ns);
    let _ = vm_api
        .delete(&built.vm.name_any(), &DeleteParams::default())
        .await;
    if !volumes {
        return;
    }
    let dv_api: Api<DataVolume> = Api::namespaced(ctx.client.clone(), ns);
    for d in &built.disks {
        let _ = dv_api.delete(&d.pvc, &DeleteParams::default()).await;
        let vol = ctx.destination.locate(ns, &d.pvc, d.capacity);
        if let Err(e) = ctx.destination.delete_volume(&vol) {
            tracing::warn!(volume = %d.pvc, error = %chain(&e), "cannot remove a canceled VM's volume");
        }
    }
}
