//! The `kubevirt` destination: volumes are PersistentVolumeClaims in the
//! cluster and their bytes are written by transfer pods (`ferry transfer`,
//! see [`crate::mounted`]), never by the operator process. The migration
//! creates the PVCs, pods and VirtualMachine through the API; this type only
//! says where a pod finds each volume and which image runs the pods.
use std::path::PathBuf;
use std::sync::Arc;

use ferry_image::Storage;

use crate::{Destination, Error, Result, TransferPods, Volume, VolumeRequest};

/// Where transfer pods mount the PVC of a volume named NAME:
/// `MOUNT_ROOT/NAME`, holding `disk.img` (Filesystem mode).
pub const MOUNT_ROOT: &str = "/var/lib/ferry/volumes";

/// PVCs written by transfer pods.
#[derive(Debug, Clone)]
pub struct KubevirtDestination {
    pods: TransferPods,
}

impl KubevirtDestination {
    /// A destination whose transfer pods run `pods.image`.
    pub fn new(pods: TransferPods) -> Self {
        Self { pods }
    }
}

fn in_pods(what: &str) -> Error {
    Error::Unsupported(format!(
        "{what}: volumes of the kubevirt destination are written by transfer pods, not by the operator"
    ))
}

impl Destination for KubevirtDestination {
    fn kind(&self) -> &'static str {
        "kubevirt"
    }

    fn locate(&self, namespace: &str, name: &str, capacity: u64) -> Volume {
        Volume {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            path: PathBuf::from(MOUNT_ROOT).join(name).join("disk.img"),
            capacity,
        }
    }

    fn reference(&self, volume: &Volume) -> String {
        volume.name.clone()
    }

    fn create_volume(&self, req: &VolumeRequest) -> Result<Volume> {
        // The PVC itself is created through the cluster API by the migration.
        Ok(self.locate(&req.namespace, &req.name, req.capacity))
    }

    fn open_volume(&self, volume: &Volume) -> Result<Arc<dyn Storage>> {
        Err(in_pods(&format!(
            "PVC {}/{}",
            volume.namespace, volume.name
        )))
    }

    fn journal_path(&self, volume: &Volume) -> PathBuf {
        crate::mounted::journal_of(&volume.path)
    }

    fn mark_ready(&self, volume: &Volume, _checksum: Option<&str>) -> Result<()> {
        Err(in_pods(&format!(
            "PVC {}/{}",
            volume.namespace, volume.name
        )))
    }

    fn is_ready(&self, _volume: &Volume) -> bool {
        // Only the transfer pod sees the volume; it reports readiness.
        false
    }

    fn delete_volume(&self, _volume: &Volume) -> Result<()> {
        // The PVC is deleted through the cluster API by the migration.
        Ok(())
    }

    fn write_manifest(
        &self,
        _namespace: &str,
        _vm: &str,
        _file: &str,
        _yaml: &str,
    ) -> Result<PathBuf> {
        // The objects are created in the cluster: no files are kept.
        Ok(PathBuf::new())
    }

    fn transfer_pods(&self) -> Option<&TransferPods> {
        Some(&self.pods)
    }
}
