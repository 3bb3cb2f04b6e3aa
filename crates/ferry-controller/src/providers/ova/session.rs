//! One OVA VM during its migration: its disks are read from the package;
//! a package is a file, so there is no power state to store or change and
//! nothing to snapshot.
use std::path::Path;

use crate::migration::source::{DiskLocation, SourceDisk};
use crate::providers::{OpenedDisk, PowerControl, SourceSession, Unsupported, WarmSource};

use super::client::open_ova;

/// An OVA VM's source: its package.
#[derive(Debug, Clone, Copy, Default)]
pub struct Session;

impl SourceSession for Session {
    fn power(&self) -> Result<&dyn PowerControl, Unsupported> {
        Err(Unsupported::because(
            "an OVA package is a file, not a running VM: it has no power state",
        ))
    }

    fn warm(&self) -> Result<&dyn WarmSource, Unsupported> {
        Err(Unsupported::because(
            "an OVA package is a fixed export: it has no snapshots or changed blocks, so only cold migration applies",
        ))
    }

    fn transfer_host(&self) -> Option<String> {
        None
    }

    fn disks_readable(&self) -> Result<(), String> {
        // Nothing to connect to: each disk's package is opened (and a
        // missing one named) by `open_disk`.
        Ok(())
    }

    fn open_disk(&self, disk: &SourceDisk) -> Result<OpenedDisk, String> {
        let DiskLocation::Ova { package, href } = &disk.location else {
            return Err(format!("disk {} is not in an OVA package", disk.source));
        };
        let image = open_ova(Path::new(package), href)?;
        Ok(OpenedDisk {
            image,
            identity: identity(package, href),
            label: format!("{href} from {package}"),
        })
    }
}

/// An identity of the package file for the resume journal: it changes when
/// the package may have changed.
fn identity(package: &str, href: &str) -> String {
    let meta = std::fs::metadata(package).ok();
    let mtime = meta
        .as_ref()
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    format!(
        "{package}#{href} size={} mtime={}",
        meta.as_ref().map_or(0, std::fs::Metadata::len),
        mtime.map_or(0, |d| d.as_nanos())
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn power_and_warm_say_why_they_are_unsupported() {
        let s = Session;
        assert!(s.power().err().unwrap().reason.contains("no power state"));
        assert!(s.warm().err().unwrap().reason.contains("only cold"));
    }

    #[test]
    fn a_datastore_disk_is_refused_by_name() {
        let disk = SourceDisk {
            source: "[ds] vm/vm.vmdk".into(),
            capacity: 1,
            location: DiskLocation::Datastore {
                datacenter: "DC0".into(),
                path: "[ds] vm/vm.vmdk".into(),
            },
        };
        let err = Session.open_disk(&disk).err().unwrap();
        assert_eq!(err, "disk [ds] vm/vm.vmdk is not in an OVA package");
    }
}
