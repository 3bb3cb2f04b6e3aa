//! Default volume and access modes per storage provisioner, as the MTV guide
//! (section 2.2, "Storage support and default modes") lists them. They apply
//! when a StorageMap destination leaves `volumeMode`/`accessMode` unset and
//! no CDI StorageProfile says otherwise.
use crate::sizing::VolumeMode;
use std::fmt;

/// A PVC access mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessMode {
    /// `ReadWriteOnce`.
    ReadWriteOnce,
    /// `ReadWriteMany`.
    ReadWriteMany,
    /// `ReadOnlyMany`.
    ReadOnlyMany,
}

impl AccessMode {
    /// The Kubernetes spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadWriteOnce => "ReadWriteOnce",
            Self::ReadWriteMany => "ReadWriteMany",
            Self::ReadOnlyMany => "ReadOnlyMany",
        }
    }
}

impl fmt::Display for AccessMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageDefault {
    /// The StorageClass `provisioner`.
    pub provisioner: &'static str,
    /// Default volume mode.
    pub volume_mode: VolumeMode,
    /// Default access mode.
    pub access_mode: AccessMode,
}

const fn row(
    provisioner: &'static str,
    volume_mode: VolumeMode,
    access_mode: AccessMode,
) -> StorageDefault {
    StorageDefault {
        provisioner,
        volume_mode,
        access_mode,
    }
}

/// The table, in the guide's order.
pub const STORAGE_DEFAULTS: &[StorageDefault] = &[
    row(
        "kubernetes.io/aws-ebs",
        VolumeMode::Block,
        AccessMode::ReadWriteOnce,
    ),
    row(
        "kubernetes.io/azure-disk",
        VolumeMode::Block,
        AccessMode::ReadWriteOnce,
    ),
    row(
        "kubernetes.io/azure-file",
        VolumeMode::Filesystem,
        AccessMode::ReadWriteMany,
    ),
    row(
        "kubernetes.io/cinder",
        VolumeMode::Block,
        AccessMode::ReadWriteOnce,
    ),
    row(
        "kubernetes.io/gce-pd",
        VolumeMode::Block,
        AccessMode::ReadWriteOnce,
    ),
    row(
        "kubernetes.io/hostpath-provisioner",
        VolumeMode::Filesystem,
        AccessMode::ReadWriteOnce,
    ),
    row(
        "manila.csi.openstack.org",
        VolumeMode::Filesystem,
        AccessMode::ReadWriteMany,
    ),
    row(
        "openshift-storage.cephfs.csi.ceph.com",
        VolumeMode::Filesystem,
        AccessMode::ReadWriteMany,
    ),
    row(
        "openshift-storage.rbd.csi.ceph.com",
        VolumeMode::Block,
        AccessMode::ReadWriteOnce,
    ),
    row(
        "kubernetes.io/rbd",
        VolumeMode::Block,
        AccessMode::ReadWriteOnce,
    ),
    row(
        "kubernetes.io/vsphere-volume",
        VolumeMode::Block,
        AccessMode::ReadWriteOnce,
    ),
];

/// The defaults for `provisioner` (exact, case-sensitive match, as
/// provisioner names are), or `None` when the table does not list it.
pub fn lookup(provisioner: &str) -> Option<&'static StorageDefault> {
    STORAGE_DEFAULTS
        .iter()
        .find(|r| r.provisioner == provisioner)
}

/// The modes to use: the StorageMap's explicit values win, then the table,
/// then `Filesystem`/`ReadWriteOnce` (the Kubernetes defaults).
pub fn effective_modes(
    provisioner: &str,
    explicit_volume: Option<VolumeMode>,
    explicit_access: Option<AccessMode>,
) -> (VolumeMode, AccessMode) {
    let row = lookup(provisioner);
    (
        explicit_volume
            .or(row.map(|r| r.volume_mode))
            .unwrap_or(VolumeMode::Filesystem),
        explicit_access
            .or(row.map(|r| r.access_mode))
            .unwrap_or(AccessMode::ReadWriteOnce),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_the_guide() {
        assert_eq!(STORAGE_DEFAULTS.len(), 11);
        let cases = [
            (
                "kubernetes.io/aws-ebs",
                VolumeMode::Block,
                AccessMode::ReadWriteOnce,
            ),
            (
                "kubernetes.io/azure-file",
                VolumeMode::Filesystem,
                AccessMode::ReadWriteMany,
            ),
            (
                "kubernetes.io/hostpath-provisioner",
                VolumeMode::Filesystem,
                AccessMode::ReadWriteOnce,
            ),
            (
                "manila.csi.openstack.org",
                VolumeMode::Filesystem,
                AccessMode::ReadWriteMany,
            ),
            (
                "openshift-storage.cephfs.csi.ceph.com",
                VolumeMode::Filesystem,
                AccessMode::ReadWriteMany,
            ),
            (
                "openshift-storage.rbd.csi.ceph.com",
                VolumeMode::Block,
                AccessMode::ReadWriteOnce,
            ),
            (
                "kubernetes.io/vsphere-volume",
                VolumeMode::Block,
                AccessMode::ReadWriteOnce,
            ),
        ];
        for (p, v, a) in cases {
            let row = lookup(p).unwrap();
            assert_eq!((row.volume_mode, row.access_mode), (v, a), "{p}");
        }
    }

    #[test]
    fn unknown_provisioner() {
        assert!(lookup("csi.trident.netapp.io").is_none());
        assert!(lookup("KUBERNETES.IO/AWS-EBS").is_none());
        assert_eq!(
            effective_modes("csi.trident.netapp.io", None, None),
            (VolumeMode::Filesystem, AccessMode::ReadWriteOnce)
        );
    }

    #[test]
    fn explicit_values_win() {
        assert_eq!(
            effective_modes("kubernetes.io/aws-ebs", None, None),
            (VolumeMode::Block, AccessMode::ReadWriteOnce)
        );
        assert_eq!(
            effective_modes("kubernetes.io/aws-ebs", Some(VolumeMode::Filesystem), None),
            (VolumeMode::Filesystem, AccessMode::ReadWriteOnce)
        );
        assert_eq!(
            effective_modes(
                "kubernetes.io/cinder",
                None,
                Some(AccessMode::ReadWriteMany)
            ),
            (VolumeMode::Block, AccessMode::ReadWriteMany)
        );
    }

    #[test]
    fn names_are_unique_and_spelled_right() {
        for (i, a) in STORAGE_DEFAULTS.iter().enumerate() {
            for b in &STORAGE_DEFAULTS[i + 1..] {
                assert_ne!(a.provisioner, b.provisioner);
            }
        }
        assert_eq!(AccessMode::ReadOnlyMany.to_string(), "ReadOnlyMany");
        assert_eq!(VolumeMode::Block.to_string(), "Block");
    }
}
