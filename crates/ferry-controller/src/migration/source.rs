//! The source VM as the migration needs it, whatever the provider: identity,
//! firmware, CPU and memory, disks (with where their bytes are) and NICs.
//! Each provider's `builder` (`crate::providers::<type>::builder`) makes it
//! from an inventory VM.

/// Where a disk's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiskLocation {
    /// A member of an `.ova` archive, or a file of an extracted package
    /// (`package` is then the folder).
    Ova {
        /// The `.ova` file, or the package folder (ending in `/`).
        package: String,
        /// The file's href in the package.
        href: String,
    },
    /// An oVirt disk, read through an image transfer.
    Ovirt {
        /// The engine's disk id.
        disk_id: String,
    },
    /// A VMDK on a vSphere datastore.
    Datastore {
        /// The datacenter's name (`dcPath`).
        datacenter: String,
        /// The datastore path, `[datastore] folder/disk.vmdk`.
        path: String,
    },
}

/// One source disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDisk {
    /// What the `forklift.konveyor.io/disk-source` annotation says.
    pub source: String,
    /// Guest capacity in bytes (0 or less: unknown, refused).
    pub capacity: i64,
    /// Where the bytes are.
    pub location: DiskLocation,
}

/// One source NIC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceNic {
    /// Device label, for messages.
    pub name: String,
    /// MAC address (empty: none).
    pub mac: String,
    /// The network's inventory id (vSphere MoRef) or, for OVA, its name.
    pub network_id: String,
    /// The network's name.
    pub network_name: String,
}

/// A source VM.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceVm {
    /// Inventory id.
    pub id: String,
    /// Name.
    pub name: String,
    /// BIOS UUID (empty: none).
    pub uuid: String,
    /// `bios` or `efi`.
    pub firmware: String,
    /// EFI secure boot.
    pub secure_boot: bool,
    /// vCPUs in all.
    pub cpu_count: i64,
    /// Cores per socket.
    pub cores_per_socket: i64,
    /// Memory in MiB.
    pub memory_mb: i64,
    /// Guest OS id (`vmw:osType` / `guestId`).
    pub os_type: String,
    /// Disks in device order.
    pub disks: Vec<SourceDisk>,
    /// NICs in device order.
    pub nics: Vec<SourceNic>,
}
