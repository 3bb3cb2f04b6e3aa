//! ferry-vsphere: the vSphere transport.
//!
//! * [`Client`]: a hand-written, typed SOAP client for the calls ferry
//!   needs: session (`RetrieveServiceContent`, `Login`, keep-alive,
//!   re-login, `Logout`), the PropertyCollector (`RetrievePropertiesEx` /
//!   `ContinueRetrievePropertiesEx` over container views,
//!   `CreateFilter` + `WaitForUpdatesEx`), tasks, VM power, snapshots,
//!   `ReconfigVM_Task` (disk attach) and `QueryChangedDiskAreas`.
//! * [`DatastoreStorage`]: a file on a datastore (`/folder/<path>?dcPath=..
//!   &dsName=..`) as a [`ferry_image::Storage`], read with parallel ranged
//!   GETs, read-ahead and retries; [`open_datastore_image`] opens a VMDK
//!   whose descriptor names extents on the same datastore.
//!
//! # Why not `vim_rs`
//!
//! `vim_rs` generates the whole vSphere type system: it takes about 13
//! minutes and 2 GB of memory to build here, more than CI's whole budget
//! allows for one dependency. ferry uses about twenty methods, so requests
//! are written with a small XML writer ([`soap::Body`]) and answers are read
//! by a bounded streaming quick-xml parser into a [`Node`] tree, from which
//! the typed results below are taken. Property values (which can be any of
//! the thousands of vSphere data types) stay [`Node`]s for the inventory
//! collector to read.
//!
//! # Secrets
//!
//! The password is a [`Secret`] (never printed) and the session cookie is
//! private; no error message or log line contains either.
#![forbid(unsafe_code)]

mod datastore;
mod error;
mod http;
pub mod inventory;
mod property;
mod session;
pub mod soap;
mod task;
mod tls;
mod vm;

pub use datastore::{
    DatastoreFile, DatastoreOptions, DatastoreStats, DatastoreStorage, open_datastore_image,
};
pub use error::{Error, ErrorKind, Result};
pub use property::{
    FilterSpec, MissingProperty, ObjectContent, ObjectSpec, ObjectUpdate, PropertyChange,
    PropertyFilterUpdate, PropertySpec, TraversalSpec, UpdateKind, UpdateSet,
};
pub use session::{Client, ClientOptions, Secret, ServiceContent};
pub use soap::Node;
pub use task::{TaskInfo, TaskState};
pub use tls::{TlsOptions, parse_thumbprint, thumbprint_of};
pub use vm::{
    DiskArea, DiskAttach, DiskChangeInfo, PowerState, SnapshotOptions, StopOptions, StopOutcome,
    VirtualDiskInfo,
};

/// A managed object reference: its type (`VirtualMachine`) and id (`vm-42`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MoRef {
    /// The managed object type.
    pub kind: String,
    /// The id (`value`).
    pub value: String,
}

impl MoRef {
    /// A reference to `kind` with id `value`.
    pub fn new(kind: impl Into<String>, value: impl Into<String>) -> Self {
        MoRef {
            kind: kind.into(),
            value: value.into(),
        }
    }

    /// Read `<x type="Kind">value</x>`.
    pub fn from_node(n: &Node) -> MoRef {
        MoRef {
            kind: n.type_attr.clone().unwrap_or_default(),
            value: n.text.trim().to_string(),
        }
    }
}

impl std::fmt::Display for MoRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind, self.value)
    }
}
