//! CreateDataVolumes and CopyDisks on a destination whose bytes transfer
//! pods write (the `kubevirt` destination): a PVC per disk, then one
//! `ferry transfer` pod per VM that mounts them, reads the source and
//! reports progress on its own Pod (see [`super::pod_transfer`]).
//!
//! The pod runs under the ServiceAccount `ferry-transfer` of the target
//! namespace, which may only read and patch pods there (to report). A pod
//! that disappears (deleted, node drained) is created again and resumes
//! from the journals on the PVCs; a finished pod is deleted.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ferry_core::api::kubevirt::vm::{PvcVolumeSource, VirtualMachine};
use ferry_core::api::phases::{phase, step};
use ferry_destination::TransferPods;
use k8s_openapi::api::core::v1::{
    Container, EnvVar, EnvVarSource, HostPathVolumeSource, ObjectFieldSelector,
    PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, Pod,
    PodSecurityContext, PodSpec, ServiceAccount, Volume, VolumeMount,
};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use kube::api::{DeleteParams, ObjectMeta, PostParams};
use kube::{Api, ResourceExt};

use super::builder::Built;
use super::pod_transfer::{
    DiskReport, ERROR_ANNOTATION, PROGRESS_ANNOTATION, SPEC_ENV, TransferDisk, TransferLocation,
    TransferSpec,
};
use super::runner::Shared;
use super::source::{DiskLocation, SourceVm};
use super::vm::{Stop, mb};
use crate::context::{Context, now};
use crate::error::chain;

/// The ServiceAccount (and Role) transfer pods run as.
pub const TRANSFER_SA: &str = "ferry-transfer";
/// Label on every transfer pod.
pub const TRANSFER_LABEL: &str = "ferry.konveyor.io/transfer";

/// The VM's volumes reference the PVCs directly (no CDI needed).
pub(super) fn use_pvcs(vm: &mut VirtualMachine) {
    for v in &mut vm.spec.template.spec.volumes {
        if let Some(dv) = v.data_volume.take() {
            v.persistent_volume_claim = Some(PvcVolumeSource {
                claim_name: dv.name,
                read_only: None,
            });
        }
    }
}

/// The PVC of each DataVolume the builder made: same name, labels,
/// annotations and storage request.
fn pvcs(built: &Built) -> Vec<PersistentVolumeClaim> {
    built
        .data_volumes
        .iter()
        .map(|dv| {
            let storage = dv.spec.storage.clone().unwrap_or_default();
            let access = if storage.access_modes.is_empty() {
                vec!["ReadWriteOnce".to_owned()]
            } else {
                storage.access_modes
            };
            PersistentVolumeClaim {
                metadata: ObjectMeta {
                    name: dv.metadata.name.clone(),
                    namespace: dv.metadata.namespace.clone(),
                    labels: dv.metadata.labels.clone(),
                    annotations: dv.metadata.annotations.clone(),
                    ..ObjectMeta::default()
                },
                spec: Some(PersistentVolumeClaimSpec {
                    access_modes: Some(access),
                    volume_mode: storage.volume_mode,
                    storage_class_name: storage.storage_class_name,
                    resources: storage.resources,
                    ..PersistentVolumeClaimSpec::default()
                }),
                status: None,
            }
        })
        .collect()
}

/// Create every PVC of the VM (kept when it exists: a resumed migration).
pub(super) async fn create_pvcs(ctx: &Context, ns: &str, built: &Built) -> Result<(), String> {
    let api: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), ns);
    for pvc in pvcs(built) {
        let name = pvc.name_any();
        if let Some(mode) = pvc
            .spec
            .as_ref()
            .and_then(|s| s.volume_mode.as_deref())
            .filter(|m| *m == "Block")
        {
            return Err(format!(
                "PVC {ns}/{name}: volumeMode {mode} is not supported by transfer pods yet; map the storage to a Filesystem volume mode in the StorageMap"
            ));
        }
        match api.create(&PostParams::default(), &pvc).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(kube::Error::Api(e)) if e.code == 403 && e.message.contains("quota") => {
                return Err(format!(
                    "PVC {ns}/{name} exceeds the namespace's ResourceQuota: {}; raise the quota of namespace {ns} or pick a smaller storage class",
                    e.message
                ));
            }
            Err(e) => return Err(format!("creating PVC {ns}/{name}: {}", chain(&e))),
        }
    }
    Ok(())
}

/// The ServiceAccount, Role and RoleBinding transfer pods run with.
async fn ensure_transfer_account(ctx: &Context, ns: &str) -> Result<(), String> {
    let meta = || ObjectMeta {
        name: Some(TRANSFER_SA.to_owned()),
        namespace: Some(ns.to_owned()),
        ..ObjectMeta::default()
    };
    let sa = ServiceAccount {
        metadata: meta(),
        ..ServiceAccount::default()
    };
    let role = Role {
        metadata: meta(),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["pods".into()]),
            verbs: vec!["get".into(), "patch".into()],
            ..PolicyRule::default()
        }]),
    };
    let binding = RoleBinding {
        metadata: meta(),
        role_ref: RoleRef {
            api_group: Some("rbac.authorization.k8s.io".into()),
            kind: "Role".into(),
            name: TRANSFER_SA.into(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: TRANSFER_SA.into(),
            namespace: Some(ns.to_owned()),
            ..Subject::default()
        }]),
    };
    let c = &ctx.client;
    keep(
        Api::<ServiceAccount>::namespaced(c.clone(), ns)
            .create(&PostParams::default(), &sa)
            .await,
        "ServiceAccount",
        ns,
    )?;
    keep(
        Api::<Role>::namespaced(c.clone(), ns)
            .create(&PostParams::default(), &role)
            .await,
        "Role",
        ns,
    )?;
    keep(
        Api::<RoleBinding>::namespaced(c.clone(), ns)
            .create(&PostParams::default(), &binding)
            .await,
        "RoleBinding",
        ns,
    )
}

fn keep<T>(r: kube::Result<T>, kind: &str, ns: &str) -> Result<(), String> {
    match r {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
        Err(e) => Err(format!("creating {kind} {ns}/{TRANSFER_SA}: {}", chain(&e))),
    }
}

/// The transfer pod's name for VM `vm` (DNS-1123, at most 63 characters).
pub(super) fn pod_name(vm: &str) -> String {
    let mut name = format!("ferry-transfer-{vm}");
    name.truncate(63);
    name.trim_end_matches(['-', '.']).to_owned()
}

/// Refuse, before anything is touched, a VM whose disks transfer pods
/// cannot read.
pub(super) fn check_source(vm: &SourceVm) -> Result<(), String> {
    match vm
        .disks
        .iter()
        .find(|d| !matches!(d.location, DiskLocation::Ova { .. }))
    {
        Some(d) => Err(format!(
            "disk {} of VM {}: transfer pods read OVA packages only for now; migrate this VM with `ferry serve` or `ferry migrate`",
            d.source, vm.name
        )),
        None => Ok(()),
    }
}

fn spec_of(ctx: &Context, ns: &str, vm: &SourceVm, built: &Built) -> Result<TransferSpec, String> {
    let settings = ctx.settings();
    let mut disks = Vec::new();
    for d in &built.disks {
        let src = vm
            .disks
            .get(d.index)
            .ok_or_else(|| format!("disk {} vanished from the inventory", d.index))?;
        let location = match &src.location {
            DiskLocation::Ova { package, href } => TransferLocation::Ova {
                package: package.clone(),
                href: href.clone(),
            },
            DiskLocation::Datastore { path: id, .. } | DiskLocation::Ovirt { disk_id: id } => {
                return Err(format!(
                    "disk {id}: transfer pods read OVA packages only for now; migrate vSphere and oVirt VMs with `ferry serve` or `ferry migrate`"
                ));
            }
        };
        disks.push(TransferDisk {
            pvc: d.pvc.clone(),
            capacity: d.capacity,
            source: src.source.clone(),
            location,
        });
    }
    Ok(TransferSpec {
        namespace: ns.to_owned(),
        disks,
        verify: settings.verify,
        workers: settings.copy_workers,
    })
}

/// The folder of an OVA package, mounted read-only at the same path.
fn package_dir(package: &str) -> String {
    let p = std::path::Path::new(package);
    if package.ends_with('/') {
        package.trim_end_matches('/').to_owned()
    } else {
        p.parent()
            .map_or_else(|| "/".to_owned(), |d| d.display().to_string())
    }
}

fn pod(
    cfg: &TransferPods,
    ns: &str,
    name: &str,
    spec: &TransferSpec,
    labels: BTreeMap<String, String>,
) -> Result<Pod, String> {
    let json =
        serde_json::to_string(spec).map_err(|e| format!("cannot encode the transfer spec: {e}"))?;
    let field = |path: &str| EnvVarSource {
        field_ref: Some(ObjectFieldSelector {
            field_path: path.to_owned(),
            ..ObjectFieldSelector::default()
        }),
        ..EnvVarSource::default()
    };
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    for (i, d) in spec.disks.iter().enumerate() {
        volumes.push(Volume {
            name: format!("disk-{i}"),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: d.pvc.clone(),
                read_only: None,
            }),
            ..Volume::default()
        });
        mounts.push(VolumeMount {
            name: format!("disk-{i}"),
            mount_path: format!("{}/{}", ferry_destination::kubevirt::MOUNT_ROOT, d.pvc),
            ..VolumeMount::default()
        });
    }
    let mut dirs: Vec<String> = spec
        .disks
        .iter()
        .map(|d| match &d.location {
            TransferLocation::Ova { package, .. } => package_dir(package),
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    for (i, dir) in dirs.iter().enumerate() {
        volumes.push(Volume {
            name: format!("source-{i}"),
            host_path: Some(HostPathVolumeSource {
                path: dir.clone(),
                type_: Some("Directory".into()),
            }),
            ..Volume::default()
        });
        mounts.push(VolumeMount {
            name: format!("source-{i}"),
            mount_path: dir.clone(),
            read_only: Some(true),
            ..VolumeMount::default()
        });
    }
    Ok(Pod {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(ns.to_owned()),
            labels: Some(labels),
            ..ObjectMeta::default()
        },
        spec: Some(PodSpec {
            service_account_name: Some(TRANSFER_SA.into()),
            restart_policy: Some("Never".into()),
            security_context: Some(PodSecurityContext {
                run_as_user: Some(107),
                run_as_group: Some(107),
                fs_group: Some(107),
                ..PodSecurityContext::default()
            }),
            containers: vec![Container {
                name: "transfer".into(),
                image: Some(cfg.image.clone()),
                command: Some(vec!["ferry".into(), "transfer".into()]),
                env: Some(vec![
                    EnvVar {
                        name: SPEC_ENV.into(),
                        value: Some(json),
                        ..EnvVar::default()
                    },
                    EnvVar {
                        name: "POD_NAME".into(),
                        value_from: Some(field("metadata.name")),
                        ..EnvVar::default()
                    },
                    EnvVar {
                        name: "POD_NAMESPACE".into(),
                        value_from: Some(field("metadata.namespace")),
                        ..EnvVar::default()
                    },
                ]),
                volume_mounts: Some(mounts),
                ..Container::default()
            }],
            volumes: Some(volumes),
            ..PodSpec::default()
        }),
        status: None,
    })
}

/// Where the Plan wants its data movers: `convertorNodeSelector` and
/// `convertorAffinity` (Forklift's placement of its conversion pods, which
/// also move the data).
fn place(pod: &mut Pod, plan: &ferry_core::api::Plan) {
    if let Some(spec) = pod.spec.as_mut() {
        if !plan.spec.convertor_node_selector.is_empty() {
            spec.node_selector = Some(plan.spec.convertor_node_selector.clone());
        }
        spec.affinity = plan.spec.convertor_affinity.clone();
    }
}

/// What the pod said so far.
fn reports(pod: &Pod) -> BTreeMap<String, DiskReport> {
    pod.annotations()
        .get(PROGRESS_ANNOTATION)
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default()
}

fn record(shared: &Shared, i: usize, reports: &BTreeMap<String, DiskReport>) {
    let t = now();
    shared.update(i, |s| {
        let Some(st) = s.step_mut(step::DISK_TRANSFER) else {
            return;
        };
        for (pvc, r) in reports {
            let Some(task) = st.task_mut(pvc) else {
                continue;
            };
            if task.started.is_none() {
                task.mark_started(t.clone());
            }
            if task.completed.is_some() {
                continue;
            }
            task.progress.completed = mb(r.done).min(task.progress.total);
            if r.ready {
                task.progress.completed = task.progress.total;
                if r.already_copied {
                    task.annotations
                        .insert("alreadyCopied".into(), "true".into());
                } else {
                    task.annotations
                        .insert("resumedBytes".into(), r.resumed_bytes.to_string());
                    task.annotations
                        .insert("writtenBytes".into(), r.written_bytes.to_string());
                }
                task.mark_completed(t.clone());
            }
        }
        st.reflect_tasks(t.clone());
    });
}

/// What one VM's transfer pod is made from.
pub(super) struct PodJob<'a> {
    /// Image and settings of transfer pods.
    pub cfg: &'a TransferPods,
    /// The Plan (its `convertor*` placement applies to the pod).
    pub plan: &'a ferry_core::api::Plan,
    /// The source VM.
    pub vm: &'a SourceVm,
    /// The VM's target objects.
    pub built: &'a Built,
}

/// Copy the VM's disks with a transfer pod and follow it to the end.
pub(super) async fn copy_disks(
    ctx: &Arc<Context>,
    job: &PodJob<'_>,
    shared: &Shared,
    i: usize,
    cancel: &Arc<AtomicBool>,
) -> Result<(), Stop> {
    let (cfg, vm, built) = (job.cfg, job.vm, job.built);
    let fail = |e: String| Stop::Failed(phase::COPY_DISKS.into(), e);
    let ns = built.vm.namespace().unwrap_or_default();
    ensure_transfer_account(ctx, &ns).await.map_err(fail)?;
    let spec = spec_of(ctx, &ns, vm, built).map_err(fail)?;
    let name = pod_name(&built.vm.name_any());
    let mut labels = job.plan.spec.convertor_labels.clone();
    labels.extend(built.vm.labels().clone());
    labels.insert(TRANSFER_LABEL.into(), "true".into());
    let mut wanted = pod(cfg, &ns, &name, &spec, labels).map_err(fail)?;
    place(&mut wanted, job.plan);
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    loop {
        if cancel.load(Ordering::SeqCst) {
            let _ = api.delete(&name, &DeleteParams::background()).await;
            return Err(Stop::Canceled);
        }
        let current = api
            .get_opt(&name)
            .await
            .map_err(|e| fail(format!("reading pod {ns}/{name}: {}", chain(&e))))?;
        let Some(current) = current else {
            // First start, or the pod is gone (deleted, node drained): a
            // new pod resumes from the journals on the PVCs.
            match api.create(&PostParams::default(), &wanted).await {
                Ok(_) => {}
                Err(kube::Error::Api(e)) if e.code == 409 => {}
                Err(e) => {
                    return Err(fail(format!(
                        "creating transfer pod {ns}/{name}: {}",
                        chain(&e)
                    )));
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        };
        if current.metadata.deletion_timestamp.is_some() {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        }
        let got = reports(&current);
        record(shared, i, &got);
        match current.status.as_ref().and_then(|s| s.phase.as_deref()) {
            Some("Succeeded") => {
                let missing: Vec<&str> = spec
                    .disks
                    .iter()
                    .filter(|d| !got.get(&d.pvc).is_some_and(|r| r.ready))
                    .map(|d| d.pvc.as_str())
                    .collect();
                if !missing.is_empty() {
                    return Err(fail(format!(
                        "transfer pod {ns}/{name} ended without reporting {} ready",
                        missing.join(", ")
                    )));
                }
                let _ = api.delete(&name, &DeleteParams::background()).await;
                return Ok(());
            }
            Some("Failed") => {
                let why = current
                    .annotations()
                    .get(ERROR_ANNOTATION)
                    .cloned()
                    .unwrap_or_else(|| {
                        format!("transfer pod {ns}/{name} failed without a reason; see its log")
                    });
                let t = now();
                shared.update(i, |s| {
                    if let Some(st) = s.step_mut(step::DISK_TRANSFER) {
                        for (pvc, r) in &got {
                            if let (Some(task), Some(e)) = (st.task_mut(pvc), &r.error) {
                                task.add_error(phase::COPY_DISKS, e.clone());
                                task.completed = Some(t.clone());
                            }
                        }
                    }
                });
                // Keep the PVCs (a new Migration resumes); remove the pod.
                let _ = api.delete(&name, &DeleteParams::background()).await;
                return Err(fail(why));
            }
            _ => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
}

/// Remove the transfer pod and, when `volumes`, the PVCs of a stopped VM.
pub(super) async fn cleanup(ctx: &Context, built: &Built, volumes: bool) {
    let ns = built.vm.namespace().unwrap_or_default();
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let _ = pods
        .delete(&pod_name(&built.vm.name_any()), &DeleteParams::background())
        .await;
    if volumes {
        let api: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), &ns);
        for d in &built.disks {
            let _ = api.delete(&d.pvc, &DeleteParams::default()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfer_pods_follow_the_plans_convertor_placement() {
        let spec = TransferSpec {
            namespace: "vms".into(),
            disks: vec![TransferDisk {
                pvc: "vm1-disk-0".into(),
                capacity: 1 << 20,
                source: "d.vmdk".into(),
                location: TransferLocation::Ova {
                    package: "/srv/ova/a.ova".into(),
                    href: "d.vmdk".into(),
                },
            }],
            verify: true,
            workers: 0,
        };
        let cfg = TransferPods {
            image: "ferry:1".into(),
        };
        let mut p = pod(&cfg, "vms", "ferry-transfer-vm1", &spec, BTreeMap::new()).unwrap();
        let plan: ferry_core::api::Plan = serde_json::from_value(serde_json::json!({
            "apiVersion": "forklift.konveyor.io/v1beta1", "kind": "Plan",
            "metadata": {"name": "p", "namespace": "mtv"},
            "spec": {"targetNamespace": "vms", "provider": {"source": {"name": "s"}, "destination": {"name": "host"}},
                     "map": {"network": {"name": "n"}, "storage": {"name": "s"}}, "vms": [],
                     "convertorNodeSelector": {"disk": "fast"}}
        }))
        .unwrap();
        place(&mut p, &plan);
        let ps = p.spec.as_ref().unwrap();
        assert_eq!(ps.node_selector.as_ref().unwrap()["disk"], "fast");
        assert_eq!(ps.service_account_name.as_deref(), Some(TRANSFER_SA));
        assert_eq!(ps.security_context.as_ref().unwrap().run_as_user, Some(107));
        let c = &ps.containers[0];
        assert_eq!(c.image.as_deref(), Some("ferry:1"));
        let mounts: Vec<(&str, Option<bool>)> = c
            .volume_mounts
            .iter()
            .flatten()
            .map(|m| (m.mount_path.as_str(), m.read_only))
            .collect();
        assert_eq!(
            mounts,
            [
                ("/var/lib/ferry/volumes/vm1-disk-0", None),
                ("/srv/ova", Some(true))
            ]
        );
        // The spec travels in the env, and nothing secret does.
        let env = c.env.as_ref().unwrap();
        assert!(env.iter().all(|e| {
            e.value_from
                .as_ref()
                .is_none_or(|v| v.secret_key_ref.is_none())
        }));
    }

    #[test]
    fn pod_names_are_dns_labels() {
        assert_eq!(pod_name("vm1"), "ferry-transfer-vm1");
        let long = pod_name(&"a-".repeat(60));
        assert!(long.len() <= 63 && !long.ends_with('-'), "{long}");
    }

    #[test]
    fn only_ova_disks_go_to_transfer_pods() {
        use crate::migration::source::SourceDisk;
        let disk = |location| SourceDisk {
            source: "d1".into(),
            capacity: 1,
            location,
        };
        let mut vm = SourceVm {
            name: "vm1".into(),
            disks: vec![disk(DiskLocation::Ova {
                package: "/a.ova".into(),
                href: "d1.vmdk".into(),
            })],
            ..SourceVm::default()
        };
        assert!(check_source(&vm).is_ok());
        vm.disks.push(disk(DiskLocation::Datastore {
            datacenter: "DC0".into(),
            path: "[ds] vm1/d1.vmdk".into(),
        }));
        let err = check_source(&vm).unwrap_err();
        assert!(
            err.contains("OVA packages only") && err.contains("vm1"),
            "{err}"
        );
    }

    #[test]
    fn packages_mount_their_folder() {
        assert_eq!(package_dir("/srv/ova/a.ova"), "/srv/ova");
        assert_eq!(package_dir("/srv/ova/extracted/"), "/srv/ova/extracted");
    }
}
