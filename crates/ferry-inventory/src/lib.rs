//! ferry-inventory: the provider-neutral inventory of source providers.
//!
//! - [`store::Store`]: SQLite (WAL) tables of providers and of their
//!   collected objects, stored as JSON with revisions that move only when the
//!   collected data changes, plus validation results (`revisionValidated`,
//!   `concerns`, rules version).
//! - [`collector`]: the [`collector::Collector`] trait a provider implements,
//!   and [`Inventory`], which runs one collection loop per provider, applies
//!   snapshots and revalidates VMs through a [`validate::VmValidator`].
//! - [`ova::OvaCollector`]: the OVA provider's collector over `ferry-ovf`'s
//!   scanner; [`ova::collector_for`] picks a collector by provider type.
//! - [`vsphere`]: the vSphere inventory model (PropertyCollector objects
//!   and their updates → Forklift's vSphere collections); the SOAP
//!   transport is `ferry-vsphere`'s.
//! - [`web::router`]: Forklift's inventory REST API over the store.
//! - [`client`]: a small HTTP client of that API for the CLI.
//! - [`validate::VmValidator`] is implemented for
//!   `ferry_validation::Validator` (the regorus policy engine) and for
//!   [`SharedValidator`], whose policies can be replaced at run time.
#![forbid(unsafe_code)]

pub mod client;
pub mod collector;
pub mod error;
mod inventory;
pub mod model;
pub mod ova;
pub mod ovirt;
mod rego;
pub mod store;
pub mod validate;
pub mod vsphere;
pub mod web;

pub use error::{Error, ErrorKind, Result};
pub use inventory::{
    DATABASE_FILE, Failure, FailureReason, Inventory, InventoryOptions, ProviderState, chain,
};
pub use model::{
    ApplyReport, Concern, ProviderInfo, Ref, Resource, Snapshot, StoredProvider, StoredResource,
};
pub use ova::collector_for;
pub use rego::SharedValidator;
