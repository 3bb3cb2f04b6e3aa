//! OVA packages (`.ova` archives and extracted `.ovf` folders) on a local
//! path or an NFS export as a source. Parsing is `ferry-ovf`'s, the
//! package scanner and collector `ferry-inventory`'s; this folder is what
//! the controllers need of them.
pub mod adapter;
pub mod builder;
pub mod checks;
pub mod client;
pub mod collector;
pub mod session;
