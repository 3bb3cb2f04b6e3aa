//! ferry-core: the API types of every kind ferry serves or writes, and the
//! Forklift rules users meet before any migration runs (names, templates,
//! PVC sizing, storage defaults). Pure: no I/O.
#![forbid(unsafe_code)]

pub mod api;
pub mod crds;
pub mod openapi;
// Forklift's pre-reconcile rules (pure functions).
pub mod naming;
pub mod secrets;
pub mod sizing;
pub mod storage_defaults;
pub mod template;
pub mod validate;
