//! ferry-ovirt: the oVirt / RHV transport.
//!
//! * [`Client`]: the engine REST API v4 in XML: SSO login with an
//!   `admin@internal`-style user, the objects ferry reads (VMs, disks,
//!   disk attachments, NICs, snapshots, storage domains, networks, vNIC
//!   profiles, clusters, hosts, data centers), VM power, snapshots and
//!   image transfers (create a download, wait for `transferring`,
//!   finalize or cancel).
//! * [`ImageioStorage`]: the disk of an image transfer read through
//!   ovirt-imageio as a [`ferry_image::Storage`]: `/extents` for the
//!   allocation (holes and zeros are never read), ranged GETs over
//!   several keep-alive connections.
//!
//! TLS trusts the engine CA from the Provider's Secret (`cacert`), the
//! system roots, or anything (`insecureSkipVerify`). The password and the
//! SSO token never appear in a message.
#![forbid(unsafe_code)]

mod engine;
mod error;
mod http;
mod imageio;
pub mod inventory;
mod tls;
pub mod types;
pub mod xml;

pub use engine::{Client, ClientOptions, Password, engine_base};
pub use error::{Error, ErrorKind, Result};
pub use http::HttpOptions;
pub use imageio::{ImageioOptions, ImageioStats, ImageioStorage};
pub use tls::TlsOptions;
