//! Source providers: how ferry reaches each type (credentials, clients)
//! and which inventory collector serves it.
pub mod vsphere;
pub mod vsphere_provider;
