//! [`Inventory`]: one collection loop per provider over a shared [`Store`].
//!
//! Flow of one cycle: collect a full [`crate::model::Snapshot`], apply it to
//! the store (revisions move only on real change), then validate every VM
//! whose `revision != revisionValidated` or whose rules version differs from
//! the validator's current one, and store the concerns. Cycles run on an
//! interval, on [`Inventory::refresh`], and when [`Collector::changed`]
//! resolves.
//!
//! Guarantees: a failed collection never removes what an earlier one stored;
//! the state a Provider controller needs (`InventoryCreated`, the last
//! `ConnectionTestFailed`/`InventoryError` message) is in
//! [`Inventory::provider_state`] and can be awaited through
//! [`Inventory::subscribe`].
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::collector::Collector;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{ApplyReport, ProviderInfo, VMS};
use crate::store::{PHASE_FAILED, PHASE_READY, Store};
use crate::validate::VmValidator;

pub(crate) mod expanded;
#[cfg(test)]
mod tests;

/// Name of the database file in the data directory.
pub const DATABASE_FILE: &str = "inventory.db";

/// Loop settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryOptions {
    /// Time between two collections of one provider.
    pub interval: Duration,
}

impl Default for InventoryOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(30),
        }
    }
}

/// Which Provider condition a failure maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    /// The source could not be reached (`ConnectionTestFailed`).
    ConnectionTestFailed,
    /// The source was reached but its inventory could not be built or stored (`InventoryError`).
    InventoryError,
}

impl FailureReason {
    /// The Forklift condition type.
    pub fn condition_type(self) -> &'static str {
        match self {
            Self::ConnectionTestFailed => "ConnectionTestFailed",
            Self::InventoryError => "InventoryError",
        }
    }
}

/// The last failed collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Condition it maps to.
    pub reason: FailureReason,
    /// Message for the condition, with the error's causes.
    pub message: String,
}

/// What the Provider controller needs to know about one provider's inventory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderState {
    /// A collection succeeded since the provider was (re-)registered (`InventoryCreated`).
    pub inventory_created: bool,
    /// Set when the most recent collection failed; cleared by the next success.
    pub failure: Option<Failure>,
    /// Set when the most recent validation pass failed; cleared by the next success.
    pub validation_error: Option<String>,
    /// Number of finished cycles (successful or not).
    pub cycles: u64,
    /// What the last successful collection changed.
    pub last_report: Option<ApplyReport>,
    /// VMs validated in the last cycle.
    pub last_validated: usize,
    /// What the last successful collection skipped, one sentence each.
    pub warnings: Vec<String>,
    /// What the last successful collection will pick up by itself soon
    /// (packages still being copied): the inventory has not settled.
    pub pending: Vec<String>,
}

struct Entry {
    info: ProviderInfo,
    state: watch::Sender<ProviderState>,
    refresh: Arc<Notify>,
    task: JoinHandle<()>,
    /// Set before the task is aborted, so that store work already handed to
    /// a blocking thread does not write for a stale registration.
    retired: Arc<AtomicBool>,
}

impl Entry {
    fn stop(&self) {
        self.retired.store(true, Ordering::SeqCst);
        self.task.abort();
    }
}

struct Shared {
    store: Arc<Store>,
    validator: Option<Arc<dyn VmValidator>>,
    options: InventoryOptions,
    providers: Mutex<HashMap<String, Entry>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        let providers = self.providers.get_mut().unwrap_or_else(|p| p.into_inner());
        for entry in providers.values() {
            entry.stop();
        }
    }
}

/// The inventory of every registered provider. Cheap to clone.
#[derive(Clone)]
pub struct Inventory {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Inventory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inventory")
            .field("store", &self.shared.store)
            .field("options", &self.shared.options)
            .finish()
    }
}

/// The inventory names every VM and its hosts: keep the directory 0700 and
/// the database (with its WAL files) 0600, also when an older run made them
/// world-readable.
fn restrict_to_owner(dir: &Path, db: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut targets = vec![(dir.to_path_buf(), 0o700)];
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        targets.push((std::path::PathBuf::from(p), 0o600));
    }
    for (path, mode) in targets {
        match std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::new(
                    ErrorKind::Store,
                    format!("cannot restrict {} to its owner", path.display()),
                )
                .with_source(e));
            }
        }
    }
    Ok(())
}

impl Inventory {
    /// An inventory over `store`. Without a validator, VMs keep no concerns.
    pub fn new(
        store: Arc<Store>,
        validator: Option<Arc<dyn VmValidator>>,
        options: InventoryOptions,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                store,
                validator,
                options,
                providers: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// An inventory whose database is `<data_dir>/inventory.db` (created as needed).
    pub fn open(
        data_dir: &Path,
        validator: Option<Arc<dyn VmValidator>>,
        options: InventoryOptions,
    ) -> Result<Self> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            Error::new(
                ErrorKind::Store,
                format!("creating the data directory {}", data_dir.display()),
            )
            .with_source(e)
        })?;
        let db = data_dir.join(DATABASE_FILE);
        let store = Store::open(&db)?;
        restrict_to_owner(data_dir, &db)?;
        Ok(Self::new(Arc::new(store), validator, options))
    }

    /// The store (for the REST API and for readers such as plan validation).
    pub fn store(&self) -> &Arc<Store> {
        &self.shared.store
    }

    fn providers(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.shared
            .providers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Register a provider (or replace its registration, e.g. after its URL
    /// changed) and start its collection loop. Must be called inside a
    /// tokio runtime.
    pub fn add_provider(&self, info: ProviderInfo, collector: Arc<dyn Collector>) -> Result<()> {
        if collector.provider_type() != info.provider_type {
            return Err(Error::new(
                ErrorKind::Collect,
                format!(
                    "provider {}/{} has type '{}' but its collector serves '{}'",
                    info.namespace,
                    info.name,
                    info.provider_type,
                    collector.provider_type()
                ),
            ));
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|e| {
            Error::new(
                ErrorKind::Task,
                format!(
                    "starting the inventory of provider {}/{} needs a tokio runtime",
                    info.namespace, info.name
                ),
            )
            .with_source(e)
        })?;
        // The old loop must not write after the objects are dropped below.
        if let Some(old) = self.providers().remove(&info.uid) {
            old.stop();
        }
        // Another URL or type is another source: what was collected from
        // the old one must not be served as this one's (not even until the
        // first collection ends), so start from scratch.
        if let Some(stored) = self.shared.store.provider(&info.uid)?
            && (stored.info.url != info.url || stored.info.provider_type != info.provider_type)
        {
            tracing::info!(
                provider = %format!("{}/{}", info.namespace, info.name),
                old_url = %stored.info.url,
                new_url = %info.url,
                "the provider changed: dropping its inventory and collecting again"
            );
            self.shared.store.delete_provider(&info.uid)?;
        }
        self.shared.store.upsert_provider(&info)?;
        let (state, _) = watch::channel(ProviderState::default());
        let refresh = Arc::new(Notify::new());
        let retired = Arc::new(AtomicBool::new(false));
        let cycle = Cycle {
            retired: retired.clone(),
            store: self.shared.store.clone(),
            validator: self.shared.validator.clone(),
            info: info.clone(),
            collector,
            expanded: Arc::default(),
        };
        let task = runtime.spawn(run_loop(
            cycle,
            state.clone(),
            refresh.clone(),
            self.shared.options.interval,
        ));
        let old = self.providers().insert(
            info.uid.clone(),
            Entry {
                info,
                state,
                refresh,
                task,
                retired,
            },
        );
        // A concurrent registration of the same uid: the last one wins.
        if let Some(old) = old {
            old.stop();
        }
        Ok(())
    }

    /// Stop a provider's loop and delete its inventory. Returns whether it was known.
    pub fn remove_provider(&self, uid: &str) -> Result<bool> {
        let entry = self.providers().remove(uid);
        if let Some(entry) = &entry {
            entry.stop();
        }
        let stored = self.shared.store.delete_provider(uid)?;
        Ok(entry.is_some() || stored)
    }

    /// Ask for a collection now (coalesced with one already pending).
    pub fn refresh(&self, uid: &str) -> Result<()> {
        let providers = self.providers();
        let entry = providers.get(uid).ok_or_else(|| unknown(uid))?;
        entry.refresh.notify_one();
        Ok(())
    }

    /// Ask every provider for a cycle now, e.g. after the validation rules
    /// changed: the cycle validates every VM whose rules version is stale.
    pub fn refresh_all(&self) {
        for entry in self.providers().values() {
            entry.refresh.notify_one();
        }
    }

    /// The registration of a provider.
    pub fn provider_info(&self, uid: &str) -> Option<ProviderInfo> {
        self.providers().get(uid).map(|e| e.info.clone())
    }

    /// The inventory facts of a provider, `None` if it is not registered.
    pub fn provider_state(&self, uid: &str) -> Option<ProviderState> {
        self.providers().get(uid).map(|e| e.state.borrow().clone())
    }

    /// A receiver that sees every state change of a provider's inventory.
    pub fn subscribe(&self, uid: &str) -> Option<watch::Receiver<ProviderState>> {
        self.providers().get(uid).map(|e| e.state.subscribe())
    }
}

fn unknown(uid: &str) -> Error {
    Error::new(
        ErrorKind::ProviderNotFound,
        format!("no provider with uid {uid} is registered with the inventory"),
    )
}

/// Everything one cycle needs; owned by the provider's task.
struct Cycle {
    store: Arc<Store>,
    validator: Option<Arc<dyn VmValidator>>,
    info: ProviderInfo,
    collector: Arc<dyn Collector>,
    retired: Arc<AtomicBool>,
    /// What each VM's workload expanded, for types validated on workloads.
    expanded: Arc<Mutex<expanded::Expanded>>,
}

/// The result of one cycle.
enum Outcome {
    Collected {
        report: ApplyReport,
        warnings: Vec<String>,
        pending: Vec<String>,
        validated: usize,
        validation_error: Option<String>,
    },
    Failed(Failure),
}

async fn run_loop(
    cycle: Cycle,
    state: watch::Sender<ProviderState>,
    refresh: Arc<Notify>,
    interval: Duration,
) {
    loop {
        let outcome = cycle.run().await;
        state.send_modify(|s| {
            s.cycles += 1;
            match outcome {
                Outcome::Collected {
                    report,
                    warnings,
                    pending,
                    validated,
                    validation_error,
                } => {
                    s.inventory_created = true;
                    s.warnings = warnings;
                    s.pending = pending;
                    s.failure = None;
                    s.last_report = Some(report);
                    s.last_validated = validated;
                    s.validation_error = validation_error;
                }
                Outcome::Failed(failure) => {
                    tracing::warn!(
                        provider = %cycle.info.name,
                        namespace = %cycle.info.namespace,
                        reason = failure.reason.condition_type(),
                        "{}",
                        failure.message
                    );
                    s.failure = Some(failure);
                }
            }
        });
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = refresh.notified() => {}
            () = cycle.collector.changed() => {}
        }
    }
}

impl Cycle {
    async fn run(&self) -> Outcome {
        let snapshot = match self.collector.collect().await {
            Ok(s) => s,
            Err(e) => {
                let reason = if e.kind() == ErrorKind::Connection {
                    FailureReason::ConnectionTestFailed
                } else {
                    FailureReason::InventoryError
                };
                return Outcome::Failed(Failure {
                    reason,
                    message: chain(&e),
                });
            }
        };
        let warnings = snapshot.warnings().to_vec();
        let pending = snapshot.pending_items().to_vec();
        let store = self.store.clone();
        let uid = self.info.uid.clone();
        let retired = self.retired.clone();
        let applied = blocking(move || {
            if retired.load(Ordering::SeqCst) {
                return Err(Error::new(
                    ErrorKind::Task,
                    "the provider was re-registered or removed during the collection",
                ));
            }
            let report = store.apply_snapshot(&uid, &snapshot)?;
            store.set_provider_phase(&uid, PHASE_READY)?;
            Ok(report)
        })
        .await;
        let report = match applied {
            Ok(r) => r,
            Err(e) => {
                let store = self.store.clone();
                let uid = self.info.uid.clone();
                let retired = self.retired.clone();
                // Best effort: the failure itself is what gets reported.
                let _ = blocking(move || {
                    if retired.load(Ordering::SeqCst) {
                        return Ok(());
                    }
                    store.set_provider_phase(&uid, PHASE_FAILED)
                })
                .await;
                return Outcome::Failed(Failure {
                    reason: FailureReason::InventoryError,
                    message: chain(&e),
                });
            }
        };
        let (validated, validation_error) = match self.validate().await {
            Ok(n) => (n, None),
            Err(e) => {
                tracing::warn!(provider = %self.info.name, "validation failed: {}", chain(&e));
                (0, Some(chain(&e)))
            }
        };
        Outcome::Collected {
            report,
            warnings,
            pending,
            validated,
            validation_error,
        }
    }

    /// Validate every stale VM; returns how many were validated.
    async fn validate(&self) -> Result<usize> {
        let Some(validator) = self.validator.clone() else {
            return Ok(0);
        };
        let store = self.store.clone();
        let uid = self.info.uid.clone();
        let provider_type = self.info.provider_type.clone();
        let expanded = self.expanded.clone();
        blocking(move || {
            let mut expanded = expanded.lock().unwrap_or_else(|p| p.into_inner());
            validate_stale(
                &store,
                validator.as_ref(),
                &uid,
                &provider_type,
                Some(&mut expanded),
            )
        })
        .await
    }
}

/// Validate the VMs of `uid` that need it and store their concerns. With
/// `expanded`, VMs validated on workloads are validated again when an
/// object their workload expands changed (a cluster's DRS setting).
pub(crate) fn validate_stale(
    store: &Store,
    validator: &dyn VmValidator,
    uid: &str,
    provider_type: &str,
    expanded: Option<&mut expanded::Expanded>,
) -> Result<usize> {
    let Some(current) = validator.rules_version(provider_type)? else {
        return Ok(0);
    };
    // Types whose workloads expand references (vSphere: host → cluster →
    // datacenter) are validated on the workload, as Forklift does: rules
    // such as drs_enabled read `host.cluster`.
    let spec = crate::web::spec::type_spec(provider_type).filter(|s| !s.expand.is_empty());
    let mut done = 0;
    let mut first_error = None;
    let mut todo = store.needing_validation(uid, VMS, current)?;
    if let (Some(spec), Some(expanded)) = (spec, expanded) {
        let stale: std::collections::HashSet<String> =
            todo.iter().map(|vm| vm.resource.id.clone()).collect();
        todo.extend(expanded.changed(spec, uid, store, &stale)?);
    }
    for vm in todo {
        let workload;
        let input = match spec {
            Some(spec) => {
                workload = crate::web::render::workload(spec, uid, &vm, store)?;
                &workload
            }
            None => &vm.resource.object,
        };
        match validator.validate(provider_type, input) {
            Ok(v) => {
                if store.set_validation(
                    uid,
                    VMS,
                    &vm.resource.id,
                    vm.revision,
                    v.rules_version,
                    &v.concerns,
                )? {
                    done += 1;
                }
            }
            Err(e) => {
                // Keep going: one bad VM must not hide the others' concerns.
                if first_error.is_none() {
                    first_error = Some(
                        Error::new(
                            ErrorKind::Validation,
                            format!("validating VM {} ({})", vm.resource.name, vm.resource.id),
                        )
                        .with_source(e),
                    );
                }
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(done),
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        Error::new(ErrorKind::Task, "an inventory store task did not finish").with_source(e)
    })?
}

/// The error and its causes, `: `-separated, for condition messages.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
