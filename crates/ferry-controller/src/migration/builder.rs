//! Builds the target objects of one OVA VM: a DataVolume per disk and the
//! `kubevirt.io/v1` VirtualMachine, from the inventory VM, the Plan and its
//! maps. Without guest conversion the VM keeps devices every guest has
//! drivers for when `useCompatibilityMode` is on (the default): SATA disks
//! and e1000e NICs, like Forklift's raw-copy mode.
use std::collections::BTreeMap;

use ferry_core::api::kubevirt::datavolume::{
    DataVolume, DataVolumeSource, DataVolumeSpec, SourceUpload, StorageSpec,
};
use ferry_core::api::kubevirt::vm::{
    Bios, Bootloader, Cpu, DataVolumeVolumeSource, Devices, Disk, DiskBus, DiskTarget, DomainSpec,
    Efi, Empty, Firmware, Interface, Memory, MultusNetwork, Network, PodNetwork, RunStrategy,
    VirtualMachine, VirtualMachineSpec, VmiSpec, VmiTemplateSpec, Volume,
};
use ferry_core::api::mapping::NetworkDestinationType;
use ferry_core::api::{NetworkMap, Plan, PlanVm, StorageMap, TargetPowerState};
use ferry_core::template::{
    Template, TemplateData, TemplateKind, TemplateSources, resolve_template,
};
use k8s_openapi::api::core::v1::VolumeResourceRequirements;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::source::SourceVm;
use crate::error::{Error, Result};

/// Annotation naming the source disk of a volume (Forklift's).
pub const ANN_DISK_SOURCE: &str = "forklift.konveyor.io/disk-source";
/// Annotation giving the disk's index (Forklift's).
pub const ANN_DISK_INDEX: &str = "forklift.konveyor.io/disk-index";
/// Annotation naming the local image file holding a volume's bytes.
pub const ANN_LOCAL_IMAGE: &str = "ferry.konveyor.io/image-file";

/// One disk to migrate.
#[derive(Debug, Clone)]
pub struct DiskPlan {
    /// Index in the VM.
    pub index: usize,
    /// PVC / DataVolume name.
    pub pvc: String,
    /// Volume name in the VM.
    pub volume: String,
    /// Member of the OVA (or file of the package) holding the disk.
    pub file: String,
    /// Guest capacity in bytes.
    pub capacity: u64,
    /// The requested PVC size with overhead.
    pub request: u64,
}

/// Everything built for one VM.
#[derive(Debug, Clone)]
pub struct Built {
    /// Disks in order.
    pub disks: Vec<DiskPlan>,
    /// The DataVolumes.
    pub data_volumes: Vec<DataVolume>,
    /// The VirtualMachine.
    pub vm: VirtualMachine,
}

/// Inputs of [`build`].
pub struct BuildInputs<'a> {
    /// The plan.
    pub plan: &'a Plan,
    /// The plan's VM entry.
    pub entry: &'a PlanVm,
    /// The source VM.
    pub vm: &'a SourceVm,
    /// Target name (already resolved).
    pub target_name: &'a str,
    /// The network map.
    pub network_map: &'a NetworkMap,
    /// The storage map.
    pub storage_map: &'a StorageMap,
    /// Filesystem overhead in percent.
    pub filesystem_overhead: u32,
    /// Block overhead in bytes.
    pub block_overhead: u64,
    /// The migration's name (a label).
    pub migration: &'a str,
    /// Local image file for a PVC name, when the destination keeps files.
    pub image_file: &'a dyn Fn(&str) -> Option<String>,
}

fn render(
    kind: TemplateKind,
    vm_tpl: Option<&str>,
    plan_tpl: Option<&str>,
    data: &TemplateData,
) -> Result<String> {
    let sources = TemplateSources {
        vm: vm_tpl,
        plan: plan_tpl,
        ..TemplateSources::default()
    };
    let (source, _) = resolve_template(kind, sources, None);
    let tpl = Template::parse(kind, source)
        .map_err(|e| Error::Invalid(format!("{}: {e}", kind.field())))?;
    tpl.render_name(&data.clone())
        .map_err(|e| Error::Invalid(format!("{}: {e}", kind.field())))
}

fn labels(plan: &Plan, migration: &str, vm_id: &str) -> BTreeMap<String, String> {
    let mut l = plan.spec.target_labels.clone();
    l.insert("app".into(), "forklift".into());
    l.insert("plan".into(), plan.metadata.uid.clone().unwrap_or_default());
    l.insert("migration".into(), migration.into());
    l.insert(
        "vmID".into(),
        vm_id
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .take(63)
            .collect(),
    );
    l
}

/// Build the DataVolumes and VirtualMachine of one VM.
pub fn build(inp: &BuildInputs<'_>) -> Result<Built> {
    let plan = inp.plan;
    let ns = plan.spec.target_namespace.clone();
    let plan_name = plan.metadata.name.clone().unwrap_or_default();
    let storage = inp.storage_map.spec.map.first().ok_or_else(|| {
        Error::Invalid(format!(
            "StorageMap {} has no entries",
            inp.storage_map.metadata.name.clone().unwrap_or_default()
        ))
    })?;
    let dest = &storage.destination;
    let block = dest
        .volume_mode
        .as_ref()
        .is_some_and(|m| format!("{m:?}") == "Block");
    let labels = labels(plan, inp.migration, &inp.vm.id);

    let mut disks = Vec::new();
    let mut data_volumes = Vec::new();
    for (index, d) in inp.vm.disks.iter().enumerate() {
        let data = TemplateData::new()
            .with_str("VmName", &inp.vm.name)
            .with_str("TargetVmName", inp.target_name)
            .with_str("PlanName", &plan_name)
            .with_int("DiskIndex", i64::try_from(index).unwrap_or(i64::MAX))
            .with_str("VmId", &inp.vm.id);
        let pvc = render(
            TemplateKind::PvcName,
            inp.entry.pvc_name_template.as_deref(),
            plan.spec.pvc_name_template.as_deref(),
            &data,
        )?;
        let vdata = TemplateData::new()
            .with_str("PVCName", &pvc)
            .with_int("VolumeIndex", i64::try_from(index).unwrap_or(i64::MAX));
        let volume = render(
            TemplateKind::VolumeName,
            inp.entry.volume_name_template.as_deref(),
            plan.spec.volume_name_template.as_deref(),
            &vdata,
        )?;
        let capacity = u64::try_from(d.capacity)
            .ok()
            .filter(|c| *c > 0)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "disk {} of VM {} has no valid capacity ({} bytes)",
                    d.source, inp.vm.name, d.capacity
                ))
            })?;
        let mode = if block {
            ferry_core::sizing::VolumeMode::Block
        } else {
            ferry_core::sizing::VolumeMode::Filesystem
        };
        let overhead = ferry_core::sizing::Overhead {
            filesystem_percent: inp.filesystem_overhead,
            block_bytes: inp.block_overhead,
        };
        let request = ferry_core::sizing::pvc_size(capacity, mode, overhead)
            .map_err(|e| Error::Invalid(format!("disk {} of VM {}: {e}", d.source, inp.vm.name)))?;

        let disk_source = d.source.clone();
        let mut ann = BTreeMap::new();
        ann.insert(ANN_DISK_SOURCE.to_owned(), disk_source.clone());
        ann.insert(ANN_DISK_INDEX.to_owned(), index.to_string());
        if let Some(file) = (inp.image_file)(&pvc) {
            ann.insert(ANN_LOCAL_IMAGE.to_owned(), file);
        }
        let mut requests = BTreeMap::new();
        requests.insert(
            "storage".to_owned(),
            Quantity(ferry_core::sizing::format_quantity(request)),
        );
        let mut dv = DataVolume::new(
            &pvc,
            DataVolumeSpec {
                source: Some(DataVolumeSource {
                    upload: Some(SourceUpload {}),
                    ..DataVolumeSource::default()
                }),
                storage: Some(StorageSpec {
                    access_modes: dest
                        .access_mode
                        .as_ref()
                        .map(|m| vec![format!("{m:?}")])
                        .unwrap_or_default(),
                    volume_mode: dest.volume_mode.as_ref().map(|m| format!("{m:?}")),
                    storage_class_name: Some(dest.storage_class.clone()).filter(|s| !s.is_empty()),
                    resources: Some(VolumeResourceRequirements {
                        requests: Some(requests),
                        ..Default::default()
                    }),
                    ..StorageSpec::default()
                }),
                ..DataVolumeSpec::default()
            },
        );
        dv.metadata.namespace = Some(ns.clone());
        dv.metadata.labels = Some(labels.clone());
        dv.metadata.annotations = Some(ann);
        data_volumes.push(dv);
        disks.push(DiskPlan {
            index,
            pvc,
            volume,
            file: disk_source,
            capacity,
            request,
        });
    }

    let compat = plan.spec.use_compatibility_mode;
    let bus = if compat {
        DiskBus::Sata
    } else {
        DiskBus::Virtio
    };
    let vm_disks = disks
        .iter()
        .map(|d| Disk {
            name: d.volume.clone(),
            disk: Some(DiskTarget {
                bus: Some(bus),
                ..DiskTarget::default()
            }),
            boot_order: (d.index == 0).then_some(1),
            ..Disk::default()
        })
        .collect();
    let volumes = disks
        .iter()
        .map(|d| Volume {
            name: d.volume.clone(),
            data_volume: Some(DataVolumeVolumeSource {
                name: d.pvc.clone(),
            }),
            ..Volume::default()
        })
        .collect();

    let (interfaces, networks) = build_networks(inp, compat)?;
    let cores = u32::try_from(inp.vm.cores_per_socket.max(1)).unwrap_or(1);
    let cpus = u32::try_from(inp.vm.cpu_count.max(1)).unwrap_or(1);
    let sockets = (cpus / cores).max(1);
    let efi = inp.vm.firmware.eq_ignore_ascii_case("efi");
    let firmware = Firmware {
        bootloader: Some(if efi {
            Bootloader {
                efi: Some(Efi {
                    secure_boot: Some(inp.vm.secure_boot),
                    ..Efi::default()
                }),
                ..Bootloader::default()
            }
        } else {
            Bootloader {
                bios: Some(Bios::default()),
                ..Bootloader::default()
            }
        }),
        serial: None,
        uuid: Some(inp.vm.uuid.clone()).filter(|u| !u.is_empty()),
    };
    let power = inp
        .entry
        .target_power_state
        .or(plan.spec.target_power_state);
    // An OVA appliance is powered off: `auto` keeps it off.
    let run_strategy = match power {
        Some(TargetPowerState::On) => RunStrategy::Always,
        _ => RunStrategy::Halted,
    };
    let mut vm = VirtualMachine::new(
        inp.target_name,
        VirtualMachineSpec {
            run_strategy: Some(run_strategy),
            template: VmiTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels.clone()),
                    ..ObjectMeta::default()
                }),
                spec: VmiSpec {
                    domain: DomainSpec {
                        cpu: Some(Cpu {
                            cores: Some(cores),
                            sockets: Some(sockets),
                            threads: Some(1),
                            ..Cpu::default()
                        }),
                        memory: Some(Memory {
                            guest: Some(Quantity(format!("{}Mi", inp.vm.memory_mb.max(1)))),
                        }),
                        firmware: Some(firmware),
                        devices: Devices {
                            disks: vm_disks,
                            interfaces,
                            ..Devices::default()
                        },
                        ..DomainSpec::default()
                    },
                    networks,
                    volumes,
                    node_selector: plan.spec.target_node_selector.clone(),
                    affinity: plan.spec.target_affinity.clone(),
                    ..VmiSpec::default()
                },
            },
            ..VirtualMachineSpec::default()
        },
    );
    vm.metadata.namespace = Some(ns);
    vm.metadata.labels = Some(labels);
    let mut ann = BTreeMap::new();
    ann.insert(
        "forklift.konveyor.io/source-vm-name".to_owned(),
        inp.vm.name.clone(),
    );
    vm.metadata.annotations = Some(ann);
    Ok(Built {
        disks,
        data_volumes,
        vm,
    })
}

/// NICs through the NetworkMap: pod → masquerade, multus → bridge,
/// ignored → no NIC. MACs are preserved.
fn build_networks(inp: &BuildInputs<'_>, compat: bool) -> Result<(Vec<Interface>, Vec<Network>)> {
    let mut interfaces = Vec::new();
    let mut networks = Vec::new();
    let mut pod_used = false;
    for nic in &inp.vm.nics {
        let pair = inp
            .network_map
            .spec
            .map
            .iter()
            .find(|p| {
                p.source.name.as_deref() == Some(nic.network_name.as_str())
                    || p.source.id.as_deref() == Some(nic.network_id.as_str())
            })
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "NIC {} of VM {} is on network {:?}, which the NetworkMap does not map",
                    nic.name, inp.vm.name, nic.network_name
                ))
            })?;
        let dest = &pair.destination;
        if dest.type_ == NetworkDestinationType::Ignored {
            continue;
        }
        let index = networks.len();
        let (type_name, ns, nad) = match dest.type_ {
            NetworkDestinationType::Multus => (
                "Multus",
                dest.namespace.clone().unwrap_or_default(),
                dest.name.clone().unwrap_or_default(),
            ),
            _ => ("Pod", String::new(), String::new()),
        };
        let data = TemplateData::new()
            .with_str("NetworkName", &nad)
            .with_str("NetworkNamespace", &ns)
            .with_str("NetworkType", type_name)
            .with_int("NetworkIndex", i64::try_from(index).unwrap_or(i64::MAX));
        let name = render(
            TemplateKind::NetworkName,
            inp.entry.network_name_template.as_deref(),
            inp.plan.spec.network_name_template.as_deref(),
            &data,
        )?;
        let model = Some(if compat {
            "e1000e".to_owned()
        } else {
            "virtio".to_owned()
        });
        let mac = Some(nic.mac.clone()).filter(|m| !m.is_empty());
        if type_name == "Pod" {
            if pod_used {
                return Err(Error::Invalid(format!(
                    "VM {} has more than one NIC mapped to the pod network",
                    inp.vm.name
                )));
            }
            pod_used = true;
            interfaces.push(Interface {
                name: name.clone(),
                masquerade: Some(Empty {}),
                mac_address: mac,
                model,
                ..Interface::default()
            });
            networks.push(Network {
                name,
                pod: Some(PodNetwork::default()),
                ..Network::default()
            });
        } else {
            let network_name = if ns.is_empty() {
                nad
            } else {
                format!("{ns}/{nad}")
            };
            interfaces.push(Interface {
                name: name.clone(),
                bridge: Some(Empty {}),
                mac_address: mac,
                model,
                ..Interface::default()
            });
            networks.push(Network {
                name,
                multus: Some(MultusNetwork {
                    network_name,
                    default: None,
                }),
                ..Network::default()
            });
        }
    }
    Ok((interfaces, networks))
}
