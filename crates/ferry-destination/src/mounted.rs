//! The volumes a transfer pod sees: each PVC mounted at `ROOT/NAME`
//! (Filesystem mode), holding the disk as `disk.img` owned by 107:107 (the
//! qemu user KubeVirt runs as), the copy journal `disk.img.journal` and,
//! once complete and flushed, the marker `disk.img.ready` (with the
//! checksum). Journal and marker live on the PVC, so a pod that dies is
//! recreated and resumes where it stopped.
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferry_image::{FileStorage, Storage};

use crate::{Destination, Error, Result, Volume, VolumeRequest};

/// The uid and gid KubeVirt's virt-launcher reads disk images as.
pub const QEMU_ID: u32 = 107;

/// The copy journal of the image at `image`.
pub fn journal_of(image: &Path) -> PathBuf {
    let mut p = image.as_os_str().to_owned();
    p.push(".journal");
    PathBuf::from(p)
}

fn ready_of(image: &Path) -> PathBuf {
    let mut p = image.as_os_str().to_owned();
    p.push(".ready");
    PathBuf::from(p)
}

/// PVCs mounted under one root.
#[derive(Debug, Clone)]
pub struct MountedVolumes {
    root: PathBuf,
}

impl MountedVolumes {
    /// Volumes under `root` (e.g. [`crate::kubevirt::MOUNT_ROOT`]).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Io { context, source }
}

impl Destination for MountedVolumes {
    fn kind(&self) -> &'static str {
        "mounted"
    }

    fn locate(&self, namespace: &str, name: &str, capacity: u64) -> Volume {
        Volume {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            path: self.root.join(name).join("disk.img"),
            capacity,
        }
    }

    fn create_volume(&self, req: &VolumeRequest) -> Result<Volume> {
        crate::local::check_component("volume", &req.name)?;
        let vol = self.locate(&req.namespace, &req.name, req.capacity);
        let dir = vol.path.parent().unwrap_or(&self.root);
        if !dir.is_dir() {
            return Err(Error::Unsupported(format!(
                "PVC {} is not mounted at {} (only Filesystem volumes are supported by transfer pods)",
                req.name,
                dir.display()
            )));
        }
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&vol.path)
            .map_err(io(format!("cannot create {}", vol.path.display())))?;
        let len = file
            .metadata()
            .map_err(io(format!("cannot read {}", vol.path.display())))?
            .len();
        if len != req.capacity {
            file.set_len(req.capacity).map_err(io(format!(
                "cannot size {} to {} bytes",
                vol.path.display(),
                req.capacity
            )))?;
        }
        // As root (no runAsUser), hand the image to KubeVirt's qemu user.
        if rustix::process::geteuid().is_root() {
            std::os::unix::fs::chown(&vol.path, Some(QEMU_ID), Some(QEMU_ID)).map_err(io(
                format!("cannot give {} to {QEMU_ID}:{QEMU_ID}", vol.path.display()),
            ))?;
        }
        Ok(vol)
    }

    fn open_volume(&self, volume: &Volume) -> Result<Arc<dyn Storage>> {
        let s = FileStorage::open_rw(&volume.path).map_err(|source| Error::Image {
            context: format!("cannot open {}", volume.path.display()),
            source,
        })?;
        Ok(Arc::new(s))
    }

    fn journal_path(&self, volume: &Volume) -> PathBuf {
        journal_of(&volume.path)
    }

    fn mark_ready(&self, volume: &Volume, checksum: Option<&str>) -> Result<()> {
        let path = ready_of(&volume.path);
        let mut f =
            fs::File::create(&path).map_err(io(format!("cannot create {}", path.display())))?;
        f.write_all(checksum.unwrap_or_default().as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(io(format!("cannot write {}", path.display())))
    }

    fn is_ready(&self, volume: &Volume) -> bool {
        ready_of(&volume.path).is_file()
    }

    fn delete_volume(&self, volume: &Volume) -> Result<()> {
        for p in [
            volume.path.clone(),
            journal_of(&volume.path),
            ready_of(&volume.path),
        ] {
            match fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(format!("cannot remove {}", p.display()))(e)),
            }
        }
        Ok(())
    }

    fn write_manifest(
        &self,
        namespace: &str,
        vm: &str,
        _file: &str,
        _yaml: &str,
    ) -> Result<PathBuf> {
        Err(Error::Unsupported(format!(
            "a transfer pod writes no manifests (VM {namespace}/{vm})"
        )))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn volumes_live_on_their_mount_with_journal_and_marker() {
        let dir = tempfile::tempdir().unwrap();
        let d = MountedVolumes::new(dir.path());
        let req = VolumeRequest {
            namespace: "ns".into(),
            name: "pvc-a".into(),
            capacity: 1 << 20,
        };
        // Not mounted: a clear error.
        let err = d.create_volume(&req).unwrap_err().to_string();
        assert!(err.contains("pvc-a is not mounted"), "{err}");
        fs::create_dir(dir.path().join("pvc-a")).unwrap();
        let vol = d.create_volume(&req).unwrap();
        assert_eq!(vol.path, dir.path().join("pvc-a/disk.img"));
        assert_eq!(fs::metadata(&vol.path).unwrap().len(), 1 << 20);
        assert_eq!(
            d.journal_path(&vol),
            dir.path().join("pvc-a/disk.img.journal")
        );
        assert!(!d.is_ready(&vol));
        d.mark_ready(&vol, Some("abc")).unwrap();
        assert!(d.is_ready(&vol));
        // Idempotent: created again keeps the ready data.
        d.create_volume(&req).unwrap();
        assert!(d.is_ready(&vol));
        d.delete_volume(&vol).unwrap();
        assert!(!vol.path.exists() && !d.is_ready(&vol));
        let bad = VolumeRequest {
            name: "../x".into(),
            ..req
        };
        assert!(d.create_volume(&bad).is_err());
    }
}
