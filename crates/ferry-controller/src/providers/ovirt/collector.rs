//! The oVirt inventory collector. It is `ferry-ovirt`'s [`OvirtCollector`]
//! (a full read of the engine per cycle), shaping objects into Forklift's
//! oVirt collections with `ferry_inventory::ovirt`.
use std::sync::Arc;

use ferry_inventory::collector::Collector;
use ferry_ovirt::ClientOptions;
use ferry_ovirt::inventory::OvirtCollector;

/// The collector of a provider reached with `opts`.
pub fn collector(opts: ClientOptions) -> Arc<dyn Collector> {
    Arc::new(OvirtCollector::new(opts))
}
