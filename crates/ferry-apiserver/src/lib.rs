//! ferry's embedded Kubernetes-compatible API server.
//!
//! It serves the built-in kinds ferry needs (Namespace, Secret, ConfigMap,
//! PersistentVolumeClaim, Pod, Event, Lease, CustomResourceDefinition) and
//! every kind defined by a stored CustomResourceDefinition, so `kubectl` and
//! kube-rs controllers work against it unchanged. Objects live in SQLite in
//! the data directory; see [`Server::start`].
#![forbid(unsafe_code)]

pub mod definitions;
mod error;
mod fsutil;
mod http;
pub mod meta;
pub mod patch;
pub mod registry;
pub mod schema;
mod selector;
mod server;
mod state;
pub mod store;
mod table;
pub mod tls;

pub use error::{ApiError, Cause, Error};
pub use server::{Config, Handle, Server};
pub use store::StoreOptions;
