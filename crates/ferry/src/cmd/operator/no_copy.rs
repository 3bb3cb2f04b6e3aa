//! The operator's destination until disks are copied by transfer pods:
//! creating a volume fails with a clear reason, so a Migration stops in
//! CreateDataVolumes instead of writing disks into the operator pod.
use std::path::PathBuf;
use std::sync::Arc;

use ferry_destination::{Destination, Error, Result, Volume, VolumeRequest};
use ferry_image::Storage;

/// Refuses to hold disk bytes.
#[derive(Debug, Clone, Copy)]
pub struct NoDiskCopy;

fn unsupported(what: &str) -> Error {
    Error::Unsupported(format!(
        "{what}: ferry operator does not copy disks into cluster PVCs yet; run the plan with `ferry serve` or `ferry migrate` (local destination)"
    ))
}

impl Destination for NoDiskCopy {
    fn kind(&self) -> &'static str {
        "kubevirt"
    }

    fn locate(&self, namespace: &str, name: &str, capacity: u64) -> Volume {
        Volume {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            path: PathBuf::from(format!("pvc://{namespace}/{name}")),
            capacity,
        }
    }

    fn reference(&self, volume: &Volume) -> String {
        format!("pvc://{}/{}", volume.namespace, volume.name)
    }

    fn create_volume(&self, req: &VolumeRequest) -> Result<Volume> {
        Err(unsupported(&format!(
            "volume {}/{}",
            req.namespace, req.name
        )))
    }

    fn open_volume(&self, volume: &Volume) -> Result<Arc<dyn Storage>> {
        Err(unsupported(&format!(
            "volume {}/{}",
            volume.namespace, volume.name
        )))
    }

    fn journal_path(&self, volume: &Volume) -> PathBuf {
        volume.path.with_extension("journal")
    }

    fn mark_ready(&self, volume: &Volume, _checksum: Option<&str>) -> Result<()> {
        Err(unsupported(&format!(
            "volume {}/{}",
            volume.namespace, volume.name
        )))
    }

    fn is_ready(&self, _volume: &Volume) -> bool {
        false
    }

    fn delete_volume(&self, _volume: &Volume) -> Result<()> {
        Ok(())
    }

    fn write_manifest(
        &self,
        namespace: &str,
        vm: &str,
        _file: &str,
        _yaml: &str,
    ) -> Result<PathBuf> {
        Err(unsupported(&format!("manifests of VM {namespace}/{vm}")))
    }
}
