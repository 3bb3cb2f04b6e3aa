//! ferry-destination: where migrated VMs land.
//!
//! [`Destination`] creates volumes of a size, opens them as a writable
//! [`Storage`] for the copy engine, marks them ready only after the data was
//! flushed, and writes the manifests of the objects that describe them. The
//! [`local::LocalDestination`] keeps volumes as sparse raw image files under
//! a data directory, so a migration can run on a laptop and its output can
//! later be uploaded to a real cluster.
#![forbid(unsafe_code)]

pub mod kubevirt;
pub mod local;
pub mod mounted;

use std::path::PathBuf;
use std::sync::Arc;

use ferry_image::Storage;

pub use kubevirt::KubevirtDestination;
pub use local::LocalDestination;
pub use mounted::MountedVolumes;

/// Errors of this crate: what failed, on which volume or file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file operation on the destination failed.
    #[error("{context}")]
    Io {
        /// What was being done, naming the file.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The image layer refused the volume.
    #[error("{context}")]
    Image {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: ferry_image::Error,
    },
    /// A name that cannot become a file name (not DNS-1123).
    #[error("{0}")]
    InvalidName(String),
    /// The destination cannot do this (the message says what to do).
    #[error("{0}")]
    Unsupported(String),
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A volume to create: the PVC/DataVolume ferry would make in a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeRequest {
    /// Target namespace.
    pub namespace: String,
    /// PVC / DataVolume name (DNS-1123).
    pub name: String,
    /// Guest-visible size in bytes (the source disk's capacity).
    pub capacity: u64,
}

/// A created volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    /// Target namespace.
    pub namespace: String,
    /// PVC / DataVolume name.
    pub name: String,
    /// Where the bytes live (for the local destination, an image file).
    pub path: PathBuf,
    /// Guest-visible size in bytes.
    pub capacity: u64,
}

/// How transfer pods run (destinations whose bytes are written by pods).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferPods {
    /// Container image with the `ferry` binary (`ferry transfer`).
    pub image: String,
}

/// A place migrated VMs land. Implementations must make `create_volume`
/// idempotent (a restarted migration calls it again) and must only report a
/// volume ready after its data was flushed.
pub trait Destination: Send + Sync {
    /// A short name for messages and status (`local`, `kubevirt`).
    fn kind(&self) -> &'static str;

    /// Where the volume named `name` lives, whether or not it exists.
    fn locate(&self, namespace: &str, name: &str, capacity: u64) -> Volume;

    /// How manifests name the volume's bytes (e.g. the image file of a local
    /// volume, relative to the data directory so that it survives a move).
    fn reference(&self, volume: &Volume) -> String {
        volume.path.display().to_string()
    }

    /// Create the volume, or return it unchanged if it exists with the same
    /// capacity. A volume of another capacity is an error.
    fn create_volume(&self, req: &VolumeRequest) -> Result<Volume>;

    /// Open the volume for writing.
    fn open_volume(&self, volume: &Volume) -> Result<Arc<dyn Storage>>;

    /// Where the copy engine keeps its resume journal for this volume.
    fn journal_path(&self, volume: &Volume) -> PathBuf;

    /// Record that the volume holds the complete, flushed disk (with the
    /// checksum of its contents when one was computed).
    fn mark_ready(&self, volume: &Volume, checksum: Option<&str>) -> Result<()>;

    /// True once [`Destination::mark_ready`] was called for this volume.
    fn is_ready(&self, volume: &Volume) -> bool;

    /// Remove the volume and everything kept beside it.
    fn delete_volume(&self, volume: &Volume) -> Result<()>;

    /// Write a manifest (YAML text) for an object of the migrated VM; returns
    /// the file written.
    fn write_manifest(&self, namespace: &str, vm: &str, file: &str, yaml: &str) -> Result<PathBuf>;

    /// `Some` when the volumes are PVCs whose bytes transfer pods write
    /// (the migration then creates PVCs and pods instead of copying).
    fn transfer_pods(&self) -> Option<&TransferPods> {
        None
    }
}
