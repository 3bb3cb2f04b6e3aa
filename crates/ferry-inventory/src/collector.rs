//! The [`Collector`] trait: how a provider hands its inventory to the store.
use std::future::Future;
use std::pin::Pin;

use crate::error::Result;
use crate::model::Snapshot;

/// A boxed, sendable future (keeps the trait object-safe without extra crates).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Collects the full inventory of one provider.
///
/// Errors of kind [`crate::ErrorKind::Connection`] are reported as the
/// provider condition `ConnectionTestFailed`; every other error as
/// `InventoryError`. Either way the last good inventory stays in the store.
pub trait Collector: Send + Sync + 'static {
    /// Provider type this collector serves (`ova`, `vsphere`, ...).
    fn provider_type(&self) -> &str;

    /// Every collection with every object, as of now.
    fn collect(&self) -> BoxFuture<'_, Result<Snapshot>>;

    /// Resolves when the collector knows the source changed (an event
    /// stream, a file-system notification), so that the loop re-collects
    /// before its interval elapses. The default never resolves: the loop
    /// then re-collects on its interval and on demand only.
    fn changed(&self) -> BoxFuture<'_, ()> {
        Box::pin(std::future::pending())
    }
}
