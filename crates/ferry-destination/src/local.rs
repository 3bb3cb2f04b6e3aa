//! The local destination: `DATA/volumes/<namespace>/<name>.img` sparse raw
//! files, a `<name>.img.ready` marker written after flush, the copy journal
//! beside the image, and manifests under `DATA/manifests/<namespace>/<vm>/`.
//! Guest disks hold customers' data: every directory is created 0700 and
//! every file 0600, whatever the umask.
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ferry_image::{FileStorage, Storage};

use crate::{Destination, Error, Result, Volume, VolumeRequest};

/// Volumes and manifests in a data directory.
#[derive(Debug, Clone)]
pub struct LocalDestination {
    root: PathBuf,
    /// What [`Destination::reference`] makes paths relative to.
    base: PathBuf,
}

impl LocalDestination {
    /// A destination rooted at `root` (created on first use); references
    /// are relative to `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        Self {
            base: root.clone(),
            root,
        }
    }

    /// The destination of a ferry data directory: rooted at
    /// `data_dir/local`, with references relative to `data_dir` (e.g.
    /// `local/volumes/NS/NAME.img`), so a moved data directory still
    /// resolves them.
    pub fn in_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        let base = data_dir.into();
        Self {
            root: base.join("local"),
            base,
        }
    }

    /// The directory holding the volumes of `namespace`.
    pub fn volume_dir(&self, namespace: &str) -> PathBuf {
        self.root.join("volumes").join(namespace)
    }

    /// The directory holding the manifests of one VM.
    pub fn manifest_dir(&self, namespace: &str, vm: &str) -> PathBuf {
        self.root.join("manifests").join(namespace).join(vm)
    }

    fn image_path(&self, namespace: &str, name: &str) -> PathBuf {
        self.volume_dir(namespace).join(format!("{name}.img"))
    }
}

/// Names become path components: allow only DNS-1123 characters so no name
/// can escape the data directory.
pub(crate) fn check_component(what: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && !name.starts_with('.')
        && !name.contains("..");
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidName(format!(
            "{what} {name:?} is not a DNS-1123 name (lower-case letters, digits, '-' and '.')"
        )))
    }
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Io { context, source }
}

/// Create `dir` and its missing parents 0700; tighten `dir` itself when it
/// already existed.
fn private_dir(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io(format!("cannot create {}", dir.display())))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io(format!(
        "cannot restrict {} to its owner",
        dir.display()
    )))
}

/// Write `data` to `path` through a 0600 temporary file and a rename.
fn write_private(path: &Path, data: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io(format!("cannot write {}", tmp.display())))?;
    // A leftover temporary file keeps its old mode: tighten it.
    file.set_permissions(fs::Permissions::from_mode(0o600))
        .map_err(io(format!(
            "cannot restrict {} to its owner",
            tmp.display()
        )))?;
    file.write_all(data)
        .and_then(|()| file.sync_all())
        .map_err(io(format!("cannot write {}", tmp.display())))?;
    fs::rename(&tmp, path).map_err(io(format!("cannot write {}", path.display())))
}

fn ready_path(image: &Path) -> PathBuf {
    let mut name = image.as_os_str().to_owned();
    name.push(".ready");
    PathBuf::from(name)
}

impl Destination for LocalDestination {
    fn kind(&self) -> &'static str {
        "local"
    }

    fn locate(&self, namespace: &str, name: &str, capacity: u64) -> Volume {
        Volume {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            path: self.image_path(namespace, name),
            capacity,
        }
    }

    fn reference(&self, volume: &Volume) -> String {
        volume
            .path
            .strip_prefix(&self.base)
            .unwrap_or(&volume.path)
            .display()
            .to_string()
    }

    fn create_volume(&self, req: &VolumeRequest) -> Result<Volume> {
        check_component("namespace", &req.namespace)?;
        check_component("volume name", &req.name)?;
        private_dir(&self.root)?;
        private_dir(&self.root.join("volumes"))?;
        let dir = self.volume_dir(&req.namespace);
        private_dir(&dir)?;
        let path = self.image_path(&req.namespace, &req.name);
        match fs::metadata(&path) {
            Ok(meta) if meta.len() == req.capacity => {
                // A volume of an older ferry may be world-readable.
                fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).map_err(io(
                    format!("cannot restrict {} to its owner", path.display()),
                ))?;
            }
            Ok(meta) => {
                return Err(Error::InvalidName(format!(
                    "volume {}/{} already exists at {} with {} bytes, not the {} bytes requested; delete it or pick another name",
                    req.namespace,
                    req.name,
                    path.display(),
                    meta.len(),
                    req.capacity
                )));
            }
            Err(_) => {
                let file = fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(io(format!("cannot create volume {}", path.display())))?;
                file.set_len(req.capacity).map_err(io(format!(
                    "cannot size volume {} to {} bytes",
                    path.display(),
                    req.capacity
                )))?;
            }
        }
        Ok(Volume {
            namespace: req.namespace.clone(),
            name: req.name.clone(),
            path,
            capacity: req.capacity,
        })
    }

    fn open_volume(&self, volume: &Volume) -> Result<Arc<dyn Storage>> {
        let storage = FileStorage::open_rw(&volume.path).map_err(|source| Error::Image {
            context: format!(
                "cannot open volume {}/{} for writing",
                volume.namespace, volume.name
            ),
            source,
        })?;
        Ok(Arc::new(storage))
    }

    fn journal_path(&self, volume: &Volume) -> PathBuf {
        let mut name = volume.path.as_os_str().to_owned();
        name.push(".journal");
        PathBuf::from(name)
    }

    fn mark_ready(&self, volume: &Volume, checksum: Option<&str>) -> Result<()> {
        let marker = ready_path(&volume.path);
        let text = format!(
            "capacity={}\nchecksum={}\n",
            volume.capacity,
            checksum.unwrap_or("")
        );
        write_private(&marker, text.as_bytes())?;
        let journal = self.journal_path(volume);
        if journal.exists() {
            fs::remove_file(&journal)
                .map_err(io(format!("cannot remove {}", journal.display())))?;
        }
        Ok(())
    }

    fn is_ready(&self, volume: &Volume) -> bool {
        ready_path(&volume.path).is_file()
    }

    fn delete_volume(&self, volume: &Volume) -> Result<()> {
        for path in [
            volume.path.clone(),
            ready_path(&volume.path),
            self.journal_path(volume),
        ] {
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(format!("cannot remove {}", path.display()))(e)),
            }
        }
        Ok(())
    }

    fn write_manifest(&self, namespace: &str, vm: &str, file: &str, yaml: &str) -> Result<PathBuf> {
        check_component("namespace", namespace)?;
        check_component("VM name", vm)?;
        check_component("manifest file name", file)?;
        private_dir(&self.root)?;
        private_dir(&self.root.join("manifests"))?;
        let dir = self.manifest_dir(namespace, vm);
        private_dir(&dir)?;
        let path = dir.join(file);
        write_private(&path, yaml.as_bytes())?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(name: &str, capacity: u64) -> VolumeRequest {
        VolumeRequest {
            namespace: "demo".into(),
            name: name.into(),
            capacity,
        }
    }

    #[test]
    fn create_volume_is_sparse_and_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let dest = LocalDestination::new(dir.path());
        let v = dest.create_volume(&req("disk-0", 10 << 20)).unwrap();
        assert_eq!(fs::metadata(&v.path).unwrap().len(), 10 << 20);
        let again = dest.create_volume(&req("disk-0", 10 << 20)).unwrap();
        assert_eq!(v, again);
        let err = dest.create_volume(&req("disk-0", 11 << 20)).unwrap_err();
        assert!(err.to_string().contains("already exists"), "{err}");
    }

    #[test]
    fn ready_marker_round_trip_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let dest = LocalDestination::new(dir.path());
        let v = dest.create_volume(&req("disk-1", 4096)).unwrap();
        fs::write(dest.journal_path(&v), b"j").unwrap();
        assert!(!dest.is_ready(&v));
        dest.mark_ready(&v, Some("abc")).unwrap();
        assert!(dest.is_ready(&v));
        assert!(
            !dest.journal_path(&v).exists(),
            "journal removed once ready"
        );
        dest.delete_volume(&v).unwrap();
        assert!(!v.path.exists());
        assert!(!dest.is_ready(&v));
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn everything_created_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let dest = LocalDestination::in_data_dir(dir.path());
        let v = dest.create_volume(&req("disk-2", 4096)).unwrap();
        dest.mark_ready(&v, None).unwrap();
        let m = dest
            .write_manifest("demo", "vm", "vm.yaml", "x: 1\n")
            .unwrap();
        for d in [
            dest.root.clone(),
            dest.root.join("volumes"),
            dest.volume_dir("demo"),
            dest.root.join("manifests"),
            dest.manifest_dir("demo", "vm"),
        ] {
            assert_eq!(mode(&d), 0o700, "{}", d.display());
        }
        for f in [v.path.clone(), ready_path(&v.path), m] {
            assert_eq!(mode(&f), 0o600, "{}", f.display());
        }
    }

    #[test]
    fn references_are_relative_to_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let dest = LocalDestination::in_data_dir(dir.path());
        let v = dest.locate("demo", "disk-3", 0);
        assert_eq!(dest.reference(&v), "local/volumes/demo/disk-3.img");
        assert_eq!(v.path, dir.path().join("local/volumes/demo/disk-3.img"));
    }

    #[test]
    fn names_cannot_escape_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let dest = LocalDestination::new(dir.path());
        for bad in ["../x", "a/b", "", "UPPER", ".hidden"] {
            assert!(
                dest.create_volume(&req(bad, 1)).is_err(),
                "{bad:?} accepted"
            );
            assert!(
                dest.write_manifest("demo", "vm", bad, "x").is_err(),
                "{bad:?} accepted"
            );
        }
    }
}
