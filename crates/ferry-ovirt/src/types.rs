//! The engine objects ferry reads, taken from the engine's XML. Field
//! names follow the API's elements; [`serde::Serialize`] gives the
//! camelCase names of Forklift's oVirt inventory model.
use serde::Serialize;

use crate::error::Result;
use crate::xml::Node;

fn s(n: &Node, path: &[&str]) -> String {
    n.text_at(path).unwrap_or_default().to_owned()
}

fn id(n: &Node, path: &[&str]) -> String {
    n.id_at(path).unwrap_or_default().to_owned()
}

/// A custom property (`name` = `value`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Property {
    pub name: String,
    pub value: String,
}

/// A virtual machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Vm {
    pub id: String,
    pub name: String,
    pub description: String,
    /// `up`, `down`, `powering_down`, ...
    pub status: String,
    pub cluster: String,
    /// The host running it (empty when down).
    pub host: String,
    pub cpu_sockets: u64,
    pub cpu_cores: u64,
    pub cpu_threads: u64,
    /// `cpu/type` of the VM (empty: the cluster's).
    pub cpu_type: String,
    pub custom_cpu_model: String,
    /// Bytes.
    pub memory: u64,
    /// `i440fx_sea_bios`, `q35_sea_bios`, `q35_ovmf`, `q35_secure_boot`,
    /// `cluster_default`.
    pub bios: String,
    pub os_type: String,
    pub ha_enabled: bool,
    pub usb_enabled: bool,
    pub placement_policy_affinity: String,
    pub storage_error_resume_behaviour: String,
    pub stateless: bool,
    pub custom_properties: Vec<Property>,
}

impl Vm {
    pub fn from_node(n: &Node) -> Result<Vm> {
        Ok(Vm {
            id: n.id().to_owned(),
            name: s(n, &["name"]),
            description: s(n, &["description"]),
            status: s(n, &["status"]),
            cluster: id(n, &["cluster"]),
            host: id(n, &["host"]),
            cpu_sockets: n.u64_at(&["cpu", "topology", "sockets"])?.unwrap_or(1),
            cpu_cores: n.u64_at(&["cpu", "topology", "cores"])?.unwrap_or(1),
            cpu_threads: n.u64_at(&["cpu", "topology", "threads"])?.unwrap_or(1),
            cpu_type: s(n, &["cpu", "type"]),
            custom_cpu_model: s(n, &["custom_cpu_model"]),
            memory: n.u64_at(&["memory"])?.unwrap_or(0),
            bios: s(n, &["bios", "type"]),
            os_type: s(n, &["os", "type"]),
            ha_enabled: n
                .bool_at(&["high_availability", "enabled"])
                .unwrap_or(false),
            usb_enabled: n.bool_at(&["usb", "enabled"]).unwrap_or(false),
            placement_policy_affinity: s(n, &["placement_policy", "affinity"]),
            storage_error_resume_behaviour: s(n, &["storage_error_resume_behaviour"]),
            stateless: n.bool_at(&["stateless"]).unwrap_or(false),
            custom_properties: n
                .child("custom_properties")
                .map(|c| {
                    c.all("custom_property")
                        .map(|p| Property {
                            name: s(p, &["name"]),
                            value: s(p, &["value"]),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
    }
}

/// A disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Disk {
    pub id: String,
    pub name: String,
    /// Guest size in bytes.
    pub provisioned_size: u64,
    pub actual_size: u64,
    /// `cow` (qcow2) or `raw`.
    pub format: String,
    /// `ok`, `locked`, `illegal`.
    pub status: String,
    /// `image`, `lun`, `cinder`, `managed_block_storage`.
    pub storage_type: String,
    pub storage_domain: String,
    pub shared: bool,
}

impl Disk {
    pub fn from_node(n: &Node) -> Result<Disk> {
        Ok(Disk {
            id: n.id().to_owned(),
            name: n
                .text_at(&["alias"])
                .or_else(|| n.text_at(&["name"]))
                .unwrap_or_default()
                .to_owned(),
            provisioned_size: n.u64_at(&["provisioned_size"])?.unwrap_or(0),
            actual_size: n.u64_at(&["actual_size"])?.unwrap_or(0),
            format: s(n, &["format"]),
            status: s(n, &["status"]),
            storage_type: s(n, &["storage_type"]),
            storage_domain: id(n, &["storage_domains", "storage_domain"]),
            shared: n.bool_at(&["shareable"]).unwrap_or(false),
        })
    }
}

/// A disk attached to a VM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiskAttachment {
    pub id: String,
    pub disk: String,
    /// `virtio`, `virtio_scsi`, `sata`, `ide`.
    pub interface: String,
    pub bootable: bool,
    pub active: bool,
}

impl DiskAttachment {
    pub fn from_node(n: &Node) -> Result<DiskAttachment> {
        Ok(DiskAttachment {
            id: n.id().to_owned(),
            disk: id(n, &["disk"]),
            interface: s(n, &["interface"]),
            bootable: n.bool_at(&["bootable"]).unwrap_or(false),
            active: n.bool_at(&["active"]).unwrap_or(true),
        })
    }
}

/// A VM's network interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Nic {
    pub id: String,
    pub name: String,
    /// `virtio`, `e1000`, `pci_passthrough`, ...
    pub interface: String,
    pub mac: String,
    /// vNIC profile id (empty: not connected).
    pub profile: String,
    pub plugged: bool,
}

impl Nic {
    pub fn from_node(n: &Node) -> Result<Nic> {
        Ok(Nic {
            id: n.id().to_owned(),
            name: s(n, &["name"]),
            interface: s(n, &["interface"]),
            mac: s(n, &["mac", "address"]),
            profile: id(n, &["vnic_profile"]),
            plugged: n.bool_at(&["plugged"]).unwrap_or(true),
        })
    }
}

/// A snapshot of a VM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub id: String,
    pub description: String,
    /// `active`, `regular`, ...
    pub snapshot_type: String,
    pub status: String,
}

impl Snapshot {
    pub fn from_node(n: &Node) -> Result<Snapshot> {
        Ok(Snapshot {
            id: n.id().to_owned(),
            description: s(n, &["description"]),
            snapshot_type: s(n, &["snapshot_type"]),
            status: s(n, &["snapshot_status"]),
        })
    }
}

/// A storage domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageDomain {
    pub id: String,
    pub name: String,
    /// `data`, `iso`, `export`, ...
    pub domain_type: String,
    /// `nfs`, `iscsi`, `fcp`, ...
    pub storage_type: String,
    pub available: u64,
    pub used: u64,
}

impl StorageDomain {
    pub fn from_node(n: &Node) -> Result<StorageDomain> {
        Ok(StorageDomain {
            id: n.id().to_owned(),
            name: s(n, &["name"]),
            domain_type: s(n, &["type"]),
            storage_type: s(n, &["storage", "type"]),
            available: n.u64_at(&["available"])?.unwrap_or(0),
            used: n.u64_at(&["used"])?.unwrap_or(0),
        })
    }
}

/// A disk profile (QoS of a storage domain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiskProfile {
    pub id: String,
    pub name: String,
    pub storage_domain: String,
}

impl DiskProfile {
    pub fn from_node(n: &Node) -> Result<DiskProfile> {
        Ok(DiskProfile {
            id: n.id().to_owned(),
            name: s(n, &["name"]),
            storage_domain: id(n, &["storage_domain"]),
        })
    }
}

/// A logical network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Network {
    pub id: String,
    pub name: String,
    pub data_center: String,
}

impl Network {
    pub fn from_node(n: &Node) -> Result<Network> {
        Ok(Network {
            id: n.id().to_owned(),
            name: s(n, &["name"]),
            data_center: id(n, &["data_center"]),
        })
    }
}

/// A vNIC profile (what a NIC connects to).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VnicProfile {
    pub id: String,
    pub name: String,
    pub network: String,
    pub port_mirroring: bool,
    /// `enabled` or `disabled`.
    pub pass_through: String,
}

impl VnicProfile {
    pub fn from_node(n: &Node) -> Result<VnicProfile> {
        Ok(VnicProfile {
            id: n.id().to_owned(),
            name: s(n, &["name"]),
            network: id(n, &["network"]),
            port_mirroring: n.bool_at(&["port_mirroring"]).unwrap_or(false),
            pass_through: s(n, &["pass_through", "mode"]),
        })
    }
}

/// A cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cluster {
    pub id: String,
    pub name: String,
    pub data_center: String,
    pub cpu_type: String,
    pub bios_type: String,
}

impl Cluster {
    pub fn from_node(n: &Node) -> Result<Cluster> {
        Ok(Cluster {
            id: n.id().to_owned(),
            name: s(n, &["name"]),
            data_center: id(n, &["data_center"]),
            cpu_type: s(n, &["cpu", "type"]),
            bios_type: s(n, &["bios_type"]),
        })
    }
}

/// A host (hypervisor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Host {
    pub id: String,
    pub name: String,
    pub cluster: String,
    pub address: String,
    pub status: String,
}

impl Host {
    pub fn from_node(n: &Node) -> Result<Host> {
        Ok(Host {
            id: n.id().to_owned(),
            name: s(n, &["name"]),
            cluster: id(n, &["cluster"]),
            address: s(n, &["address"]),
            status: s(n, &["status"]),
        })
    }
}

/// A data center.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataCenter {
    pub id: String,
    pub name: String,
}

impl DataCenter {
    pub fn from_node(n: &Node) -> Result<DataCenter> {
        Ok(DataCenter {
            id: n.id().to_owned(),
            name: s(n, &["name"]),
        })
    }
}

/// An image transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageTransfer {
    pub id: String,
    /// `initializing`, `transferring`, `paused_system`, `finished_success`, ...
    pub phase: String,
    /// The imageio daemon on the host (empty until ready).
    pub transfer_url: String,
    /// The engine's imageio proxy.
    pub proxy_url: String,
    pub disk: String,
}

impl ImageTransfer {
    pub fn from_node(n: &Node) -> Result<ImageTransfer> {
        Ok(ImageTransfer {
            id: n.id().to_owned(),
            phase: s(n, &["phase"]),
            transfer_url: s(n, &["transfer_url"]),
            proxy_url: s(n, &["proxy_url"]),
            disk: id(n, &["disk"]),
        })
    }
}
