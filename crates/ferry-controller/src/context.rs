//! What every reconciler shares: the API client, the inventory, the
//! destination, the controller settings and the migrations now running.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use ferry_destination::Destination;
use ferry_inventory::Inventory;

use crate::cache::Caches;
use crate::migration::throttle::RateLimit;

/// Controller settings (the ForkliftController values that matter here).
#[derive(Debug, Clone)]
pub struct Settings {
    /// `controller_max_vm_inflight`: VMs migrated at once (OVA counts VMs).
    pub max_vm_inflight: usize,
    /// `controller_filesystem_overhead` in percent.
    pub filesystem_overhead: u32,
    /// `controller_block_overhead` in bytes.
    pub block_overhead: u64,
    /// Copy worker threads per disk (0: cores).
    pub copy_workers: usize,
    /// Compute and compare checksums of every copied disk.
    pub verify: bool,
    /// Bandwidth limit in bytes per second for all disk copies together
    /// (`None`: unlimited).
    pub max_copy_rate: Option<u64>,
    /// How often a ready Plan is validated again against the inventory
    /// (changes of the Providers, maps and Hooks it names trigger it at
    /// once; the inventory has no such events).
    pub plan_recheck: std::time::Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_vm_inflight: 20,
            filesystem_overhead: 10,
            block_overhead: 0,
            copy_workers: 0,
            verify: true,
            max_copy_rate: None,
            plan_recheck: std::time::Duration::from_secs(300),
        }
    }
}

/// A running migration, keyed by the Migration's UID.
#[derive(Debug)]
pub struct Run {
    /// Set to stop every VM of the migration (the Migration was deleted).
    pub stop: Arc<std::sync::atomic::AtomicBool>,
    /// The task driving it.
    pub task: tokio::task::JoinHandle<()>,
}

/// Shared by all reconcilers.
pub struct Context {
    /// The API server (embedded or a cluster).
    pub client: kube::Client,
    /// The inventory of every source provider.
    pub inventory: Inventory,
    /// Where migrated VMs land.
    pub destination: Arc<dyn Destination>,
    /// Settings (replaced while running when the ForkliftController
    /// changes; read them with [`Context::settings`]).
    settings: std::sync::RwLock<Settings>,
    /// Migrations running now.
    pub runs: Mutex<HashMap<String, Run>>,
    /// The shared bandwidth limit, from `settings.max_copy_rate`.
    pub rate_limit: Option<Arc<RateLimit>>,
    /// What each provider (by UID) was registered with in the inventory
    /// (its URL, and for vSphere its Secret's version).
    pub registrations: Mutex<HashMap<String, String>>,
    /// The last connection test of each provider (by UID).
    pub connection_tests: Mutex<HashMap<String, ConnectionTest>>,
    /// The informer caches while the controllers run ([`crate::run`]);
    /// without them lookups ask the API server.
    pub caches: RwLock<Option<Caches>>,
}

/// A provider's last connection test.
#[derive(Debug, Clone)]
pub struct ConnectionTest {
    /// The URL and Secret version it was made with.
    pub key: String,
    /// When.
    pub at: std::time::Instant,
    /// The observed certificate thumbprint, or the failure's condition type
    /// and message.
    pub result: Result<Option<String>, (String, String, Option<String>)>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("destination", &self.destination.kind())
            .field("settings", &self.settings())
            .finish()
    }
}

impl Context {
    /// A context; `runs` starts empty.
    pub fn new(
        client: kube::Client,
        inventory: Inventory,
        destination: Arc<dyn Destination>,
        settings: Settings,
    ) -> Arc<Self> {
        Arc::new(Self {
            client,
            inventory,
            destination,
            rate_limit: settings.max_copy_rate.map(|r| Arc::new(RateLimit::new(r))),
            settings: std::sync::RwLock::new(settings),
            runs: Mutex::new(HashMap::new()),
            registrations: Mutex::new(HashMap::new()),
            connection_tests: Mutex::new(HashMap::new()),
            caches: RwLock::new(None),
        })
    }

    /// The informer caches, when the controllers run.
    pub fn caches(&self) -> Option<Caches> {
        self.caches
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Context {
    /// The settings now in force (VMs started from now on use them).
    pub fn settings(&self) -> Settings {
        self.settings
            .read()
            .map(|s| s.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// Replace the settings (e.g. from the ForkliftController). Running VM
    /// copies keep what they started with; the bandwidth limit is fixed at
    /// start.
    pub fn set_settings(&self, settings: Settings) {
        match self.settings.write() {
            Ok(mut s) => *s = settings,
            Err(poisoned) => *poisoned.into_inner() = settings,
        }
    }
}

/// The current time as a Kubernetes timestamp.
pub fn now() -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Time {
    k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::now())
}
