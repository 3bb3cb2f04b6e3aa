//! VMware vSphere (vCenter or a standalone ESXi host) as a source. The SOAP
//! client, datastore reader and inventory model are `ferry-vsphere`'s; this
//! folder is what the controllers need of them.
pub mod adapter;
pub mod builder;
pub mod checks;
pub mod client;
pub mod collector;
pub mod session;
