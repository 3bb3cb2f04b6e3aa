//! oVirt / RHV (the engine REST API v4 and ovirt-imageio) as a source. The
//! engine client, the imageio reader and the inventory collector are
//! `ferry-ovirt`'s, the inventory model `ferry_inventory::ovirt`; this
//! folder is what the controllers need of them. Cold migration only: no
//! guest conversion (as Forklift), no warm migration yet.
pub mod adapter;
pub mod builder;
pub mod checks;
pub mod client;
pub mod collector;
pub mod session;
