//! Shared server state: the store, the registry (rebuilt when CRDs change)
//! and the token.

use std::sync::{Arc, RwLock};

use serde_json::Value;

use crate::registry::Registry;
use crate::store::Store;

/// Storage key of CustomResourceDefinitions.
pub const CRD_KEY: &str = "apiextensions.k8s.io/customresourcedefinitions";

/// State shared by all requests.
pub struct State {
    /// Objects.
    pub store: Arc<Store>,
    /// Bearer token clients must present.
    pub token: String,
    registry: RwLock<Arc<Registry>>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State").finish_non_exhaustive()
    }
}

impl State {
    /// State over a store; the registry is built from the stored CRDs.
    pub fn new(store: Arc<Store>, token: String) -> Self {
        let s = Self {
            store,
            token,
            registry: RwLock::new(Arc::new(Registry::default())),
        };
        s.rebuild_registry();
        s
    }

    /// The current registry.
    pub fn registry(&self) -> Arc<Registry> {
        self.registry
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Rebuild the registry from the stored CRDs (after a CRD write).
    pub fn rebuild_registry(&self) {
        let (crds, _) = self.store.list_values(CRD_KEY, None);
        let crds: Vec<Arc<Value>> = crds
            .into_iter()
            .filter(|c| {
                c.get("metadata")
                    .and_then(|m| m.get("deletionTimestamp"))
                    .is_none()
            })
            .collect();
        let reg = Arc::new(Registry::build(&crds));
        *self.registry.write().unwrap_or_else(|p| p.into_inner()) = reg;
    }
}
