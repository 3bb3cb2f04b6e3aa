//! The vSphere inventory collector. It is `ferry-vsphere`'s
//! [`VsphereCollector`] (a PropertyCollector session that follows
//! updates), shaping objects into Forklift's vSphere collections with
//! `ferry_inventory::vsphere`.
use std::sync::Arc;

use ferry_inventory::collector::Collector;
use ferry_vsphere::ClientOptions;
use ferry_vsphere::inventory::{VsphereCollector, VsphereOptions};

/// The collector of a provider reached with `opts`.
pub fn collector(opts: ClientOptions) -> Arc<dyn Collector> {
    Arc::new(VsphereCollector::new(VsphereOptions::new(opts)))
}
