//! ferry-ovf: OVF descriptors and OVA packages into the OVA inventory VM
//! model ([`model::Vm`], Forklift's field names), manifest verification, and
//! provider-path scanning.
//!
//! - [`ovf::parse`] reads one descriptor (no I/O, DTDs refused, size-capped).
//! - [`package`] indexes an `.ova` (tar) or an extracted folder, reports each
//!   member's offset so a disk can be read in place, and verifies the `.mf`.
//! - [`scan`] walks a provider path with the depth rules of the OVA guide.
//! - [`location`] parses `nfs://server/path` and `server:/path` URLs.
//!
//! Every file name inside a package is untrusted: [`href::check`] accepts
//! only plain relative paths, and nothing refused is ever opened.
#![forbid(unsafe_code)]

pub mod error;
pub mod fuzz;
pub mod href;
pub mod location;
pub mod model;
pub mod ovf;
pub mod package;
pub mod scan;

pub use error::{Error, ErrorKind, Result};
pub use model::Vm;
