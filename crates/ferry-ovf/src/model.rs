//! The OVA inventory VM model, serialised as JSON with Forklift's OVA field
//! names (`name`, `ovaPath`, `ovaSource`, `osType`, `uuid`, `firmware`,
//! `cpuCount`, `coresPerSocket`, `memoryMB`, `disks[]`, `nics[]`,
//! `networks[]`, `cpuAffinity`, `cpuHotAddEnabled`, ...). This is also the
//! input document of the OVA validation policies.
//!
//! Fields Forklift does not have are ferry extensions and are marked so in
//! their docs: `capacityBytes`, `fileSize`, `bus`, `controller`, `model`,
//! `osId`, `integrity`, ... Everything else keeps Forklift's meaning, with one
//! deliberate difference: `memoryMB` is always MiB (Forklift copies the raw
//! `VirtualQuantity` whatever its unit); the raw unit stays in `memoryUnits`.
use serde::{Deserialize, Serialize};

/// Where an appliance was exported from, guessed from the envelope's XML
/// namespaces exactly as Forklift does (see [`crate::ovf::guess_source`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OvaSource {
    /// A VMware namespace and no other product's namespace.
    VMware,
    /// VirtualBox's namespace.
    VirtualBox,
    /// A Citrix / XenClient namespace.
    Xen,
    /// oVirt's namespace.
    #[serde(rename = "oVirt")]
    Ovirt,
    /// None of the above.
    Unknown,
}

impl OvaSource {
    /// The string Forklift uses (`VMware`, `VirtualBox`, `Xen`, `oVirt`, `Unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VMware => "VMware",
            Self::VirtualBox => "VirtualBox",
            Self::Xen => "Xen",
            Self::Ovirt => "oVirt",
            Self::Unknown => "Unknown",
        }
    }
}

/// One virtual machine of an appliance (an OVF `VirtualSystem`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vm {
    /// Stable inventory id: the `VirtualSystem` `ovf:id` when it is a UUID,
    /// else derived from the package path relative to the provider root
    /// (and the system's position when a package holds several).
    pub id: String,
    /// `VirtualSystem/Name`, else the `ovf:id`.
    pub name: String,
    /// Absolute path of the `.ova` file or of the `.ovf` file of an extracted package.
    pub ova_path: String,
    /// Export source guess (`VMware`, `VirtualBox`, `Xen`, `oVirt`, `Unknown`).
    pub ova_source: OvaSource,
    /// Guest OS: `vmw:osType` (e.g. `rhel8_64Guest`), else VirtualBox's
    /// `vbox:OSType`, else the section's `Description`.
    pub os_type: String,
    /// ferry extension: the CIM operating system number (`OperatingSystemSection ovf:id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_id: Option<u32>,
    /// The BIOS UUID when the export carries one (`vmw:Config uuid` /
    /// `uuid.bios`), else the same value as `id`.
    pub uuid: String,
    /// `bios` or `efi`.
    pub firmware: String,
    /// ferry extension: `uefi.secureBoot.enabled` was set.
    pub secure_boot: bool,
    /// Host CPUs the VM was pinned to (`sched.cpu.affinity`).
    pub cpu_affinity: Vec<i32>,
    /// `vmw:Config cpuHotAddEnabled`.
    pub cpu_hot_add_enabled: bool,
    /// `vmw:Config cpuHotRemoveEnabled`.
    pub cpu_hot_remove_enabled: bool,
    /// `vmw:Config memoryHotAddEnabled`.
    pub memory_hot_add_enabled: bool,
    /// Never set by an OVF export; kept for the model's shape.
    pub fault_tolerance_enabled: bool,
    /// Virtual CPUs (ResourceType 3 `VirtualQuantity`).
    pub cpu_count: i32,
    /// `vmw:CoresPerSocket`, 1 when absent.
    pub cores_per_socket: i32,
    /// Memory in MiB (ResourceType 4 scaled by its `AllocationUnits`).
    #[serde(rename = "memoryMB")]
    pub memory_mb: i64,
    /// The memory item's `AllocationUnits` as written (e.g. `byte * 2^20`).
    pub memory_units: String,
    /// The CPU item's `AllocationUnits` as written (e.g. `hertz * 10^6`).
    pub cpu_units: String,
    /// Always 0 for OVA.
    pub ballooned_memory: i32,
    /// Always empty for OVA.
    pub ip_address: String,
    /// Always empty for OVA.
    pub numa_node_affinity: Vec<String>,
    /// Sum of the disks' populated sizes in bytes (file sizes when unknown).
    pub storage_used: i64,
    /// Always false for OVA.
    pub change_tracking_enabled: bool,
    /// Hardware items that are not CPU, memory, disks or NICs.
    pub devices: Vec<Device>,
    /// Network adapters.
    pub nics: Vec<Nic>,
    /// Virtual disks.
    pub disks: Vec<Disk>,
    /// Networks of the envelope's `NetworkSection`.
    pub networks: Vec<Network>,
    /// ferry extension: package integrity findings the validation policies read.
    pub integrity: Integrity,
}

/// A hardware item kept only by kind (`USB controller`, `CD/DVD drive`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// The item's `ElementName` without a trailing number, else its `Description`.
    pub kind: String,
}

/// A `vmw:Config` key/value pair on a NIC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conf {
    /// The `vmw:key` attribute.
    pub key: String,
    /// The `vmw:value` attribute.
    pub value: String,
}

/// A network adapter (ResourceType 10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Nic {
    /// `ElementName` (e.g. `Network adapter 1`).
    pub name: String,
    /// `Address`, the MAC address, lower-cased; empty when the export has none.
    pub mac: String,
    /// `Connection`: the network name of the `NetworkSection`.
    pub network: String,
    /// ferry extension: `ResourceSubType` (e.g. `VmxNet3`, `E1000`, `E1000e`).
    pub model: String,
    /// `vmw:Config` children (e.g. `slotInfo.pciSlotNumber`).
    pub config: Vec<Conf>,
}

/// A virtual disk of the `DiskSection`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Disk {
    /// Stable id derived from the package path and the file href.
    pub id: String,
    /// The referenced file's href (e.g. `vm-disk1.vmdk`).
    pub name: String,
    /// For an OVA the `.ova` path; for an extracted package its folder, with a trailing `/`.
    pub file_path: String,
    /// `ovf:capacity` as written, in `capacityAllocationUnits`; 0 when absent or not a number.
    pub capacity: i64,
    /// `ovf:capacityAllocationUnits` as written (`byte` when absent).
    pub capacity_allocation_units: String,
    /// ferry extension: the capacity in bytes; 0 when unknown or out of range.
    pub capacity_bytes: i64,
    /// `ovf:diskId`.
    pub disk_id: String,
    /// `ovf:fileRef` (the `References/File ovf:id`).
    pub file_ref: String,
    /// `ovf:format` (a URL such as `...vmdk.html#streamOptimized`).
    pub format: String,
    /// `ovf:populatedSize` in bytes; 0 when absent.
    pub populated_size: i64,
    /// `ovf:parentRef` (delta disks); empty when absent.
    pub parent_ref: String,
    /// ferry extension: `References/File ovf:size`; 0 when absent.
    pub file_size: i64,
    /// ferry extension: `References/File ovf:compression` (e.g. `gzip`); empty when none.
    pub compression: String,
    /// ferry extension: controller bus: `scsi`, `ide`, `sata`, `nvme`, or empty when unknown.
    pub bus: String,
    /// ferry extension: controller model (`ResourceSubType`, e.g. `lsilogic`, `VirtualSCSI`, `PIIX4`, `AHCI`).
    pub controller: String,
    /// ferry extension: `AddressOnParent` (unit number on the controller), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_number: Option<u32>,
}

/// A network of the envelope's `NetworkSection`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    /// Stable id derived from the name (the same name gives the same id everywhere).
    pub id: String,
    /// `ovf:name`.
    pub name: String,
    /// `Description`.
    pub description: String,
}

/// ferry extension: what the package check found. The policies raise a
/// Critical concern for every manifest or file problem.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Integrity {
    /// Outcome of the `.mf` check.
    pub manifest: ManifestStatus,
    /// One entry per manifest line that failed.
    pub manifest_problems: Vec<ManifestProblem>,
    /// One entry per `References/File` href that is unsafe or missing.
    pub file_problems: Vec<FileProblem>,
}

/// Outcome of the manifest check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ManifestStatus {
    /// Not checked (scanning without verification).
    #[default]
    NotChecked,
    /// The package has no `.mf` file.
    Absent,
    /// Every listed digest matched.
    Verified,
    /// At least one line failed; see `manifestProblems`.
    Failed,
}

/// A manifest line that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestProblem {
    /// The file name as written in the manifest (or the manifest's own name
    /// for a malformed line).
    pub file: String,
    /// What failed.
    pub problem: ManifestProblemKind,
}

/// Why a manifest line failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ManifestProblemKind {
    /// The file's digest differs from the manifest.
    ChecksumMismatch,
    /// The manifest lists a file that is not in the package.
    Missing,
    /// The manifest names a file outside the package (`..`, absolute, URL).
    UnsafeName,
    /// The digest algorithm is not SHA1, SHA256 or SHA512.
    UnsupportedAlgorithm,
    /// The line is not `ALGO(name)= hex`.
    Malformed,
    /// The file could not be read.
    Unreadable,
}

/// A `References/File` href that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileProblem {
    /// The href as written.
    pub href: String,
    /// What is wrong with it.
    pub problem: FileProblemKind,
}

/// Why an href cannot be used. ferry never opens such a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FileProblemKind {
    /// Empty href.
    Empty,
    /// A `..` component.
    ParentTraversal,
    /// An absolute path (or a Windows drive / UNC path).
    AbsolutePath,
    /// A URL (`scheme://...` or `scheme:`).
    Url,
    /// A character ferry refuses in a file name (NUL, backslash, control).
    BadCharacter,
    /// The package has no such file.
    Missing,
    /// The archive ends before the end of this file.
    Truncated,
}

impl FileProblemKind {
    /// A short sentence-case description.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Empty => "empty file reference",
            Self::ParentTraversal => "the path leaves the package with '..'",
            Self::AbsolutePath => "absolute paths are not allowed",
            Self::Url => "URLs are not followed",
            Self::BadCharacter => "the name has a forbidden character",
            Self::Missing => "the package has no such file",
            Self::Truncated => "the archive ends before the end of the file",
        }
    }
}
