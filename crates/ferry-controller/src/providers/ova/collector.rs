//! The OVA inventory collector. It is `ferry-inventory`'s
//! [`OvaCollector`], which scans the provider path with `ferry-ovf`'s
//! package scanner.
use std::sync::Arc;

use ferry_inventory::collector::Collector;
use ferry_inventory::model::ProviderInfo;
use ferry_inventory::ova::{OvaCollector, OvaOptions};

/// The collector of the provider `info` (its URL is the package path).
pub fn collector(info: &ProviderInfo) -> Result<Arc<dyn Collector>, String> {
    OvaCollector::new(info, OvaOptions::default())
        .map(|c| Arc::new(c) as Arc<dyn Collector>)
        .map_err(|e| crate::error::chain(&e))
}
