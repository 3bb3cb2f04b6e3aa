//! ferry-inventory: the provider-neutral inventory of source providers.
//!
//! - [`store::Store`]: SQLite (WAL) tables of providers and of their
//!   collected objects, stored as JSON with revisions that move only when the
//!   collected data changes, plus validation results (`revisionValidated`,
//!   `concerns`, rules version).
//! - [`collector`]: the [`collector::Collector`] trait a provider implements,
//!   and [`Inventory`], which runs one collection loop per provider, applies
//!   snapshots and revalidates VMs through a [`validate::VmValidator`].
//! - [`web::router`]: Forklift's inventory REST API over the store.
#![forbid(unsafe_code)]

pub mod collector;
pub mod error;
mod inventory;
pub mod model;
pub mod store;
pub mod validate;
pub mod web;

pub use error::{Error, ErrorKind, Result};
pub use inventory::{
    DATABASE_FILE, Failure, FailureReason, Inventory, InventoryOptions, ProviderState, chain,
};
