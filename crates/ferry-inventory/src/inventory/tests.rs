use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

use serde_json::{Value, json};

use super::*;
use crate::collector::BoxFuture;
use crate::model::{Concern, Resource, Snapshot};
use crate::validate::Validated;

/// A collector whose next answer the test sets.
struct FakeCollector {
    next: Mutex<Result<Snapshot>>,
    changed: Notify,
}

impl FakeCollector {
    fn new(snapshot: Snapshot) -> Arc<Self> {
        Arc::new(Self {
            next: Mutex::new(Ok(snapshot)),
            changed: Notify::new(),
        })
    }

    fn set(&self, next: Result<Snapshot>) {
        *self.next.lock().unwrap() = next;
    }
}

impl Collector for FakeCollector {
    fn provider_type(&self) -> &str {
        "ova"
    }

    fn collect(&self) -> BoxFuture<'_, Result<Snapshot>> {
        let next = match &*self.next.lock().unwrap() {
            Ok(s) => Ok(s.clone()),
            Err(e) => Err(Error::new(e.kind(), e.context())
                .with_source(std::io::Error::other("underlying cause"))),
        };
        Box::pin(async move { next })
    }

    fn changed(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.changed.notified())
    }
}

/// A validator with one rule: a Warning for more than 4 CPUs. Counts calls.
struct FakeValidator {
    version: AtomicI64,
    calls: AtomicUsize,
}

impl FakeValidator {
    fn new(version: i64) -> Arc<Self> {
        Arc::new(Self {
            version: AtomicI64::new(version),
            calls: AtomicUsize::new(0),
        })
    }
}

impl VmValidator for FakeValidator {
    fn rules_version(&self, provider_type: &str) -> Result<Option<i64>> {
        Ok((provider_type == "ova").then(|| self.version.load(Ordering::SeqCst)))
    }

    fn validate(&self, _provider_type: &str, vm: &Value) -> Result<Validated> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if vm["poison"] == true {
            return Err(Error::new(
                ErrorKind::Validation,
                "policy evaluation failed",
            ));
        }
        let mut concerns = Vec::new();
        if vm["cpuCount"].as_i64().unwrap_or(0) > 4 {
            concerns.push(Concern {
                id: "test.cpu.many".into(),
                category: "Warning".into(),
                label: "Many CPUs".into(),
                assessment: format!("{} CPUs", vm["cpuCount"]),
            });
        }
        Ok(Validated {
            rules_version: self.version.load(Ordering::SeqCst),
            concerns,
        })
    }
}

fn info(uid: &str) -> ProviderInfo {
    ProviderInfo {
        uid: uid.into(),
        namespace: "ns".into(),
        name: "ova-provider".into(),
        provider_type: "ova".into(),
        url: "/srv/ova".into(),
        resource_version: "1".into(),
        object: Value::Null,
    }
}

fn vms(list: &[(&str, i64)]) -> Snapshot {
    let mut s = Snapshot::new();
    s.collection(VMS);
    for (id, cpus) in list {
        s.push(
            VMS,
            Resource::new(*id, *id, "VM", json!({"id": id, "cpuCount": cpus})),
        );
    }
    s
}

fn idle_options() -> InventoryOptions {
    // Cycles run only when the test asks: no timer fires during a test.
    InventoryOptions {
        interval: Duration::from_secs(24 * 3600),
    }
}

/// Wait until the provider finished `cycles` cycles (hang guard only).
async fn wait_cycles(inv: &Inventory, uid: &str, cycles: u64) -> ProviderState {
    let mut rx = inv.subscribe(uid).unwrap();
    let fut = rx.wait_for(|s| s.cycles >= cycles);
    let state = tokio::time::timeout(Duration::from_secs(60), fut)
        .await
        .expect("the inventory loop never finished the cycle")
        .unwrap()
        .clone();
    assert_eq!(state.cycles, cycles, "an unexpected extra cycle ran");
    state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loop_adds_changes_deletes_and_revalidates() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    let validator = FakeValidator::new(5);
    let inv = Inventory::new(store.clone(), Some(validator.clone()), idle_options());
    let collector = FakeCollector::new(vms(&[("a", 2), ("b", 8)]));
    inv.add_provider(info("u1"), collector.clone()).unwrap();

    let s = wait_cycles(&inv, "u1", 1).await;
    assert!(s.inventory_created);
    assert_eq!(s.failure, None);
    assert_eq!(s.last_report.unwrap().added, 2);
    assert_eq!(s.last_validated, 2);
    assert_eq!(store.provider("u1").unwrap().unwrap().phase, PHASE_READY);
    let b = store.get("u1", VMS, "b").unwrap().unwrap();
    assert_eq!(
        (b.revision, b.revision_validated, b.rules_version),
        (1, 1, Some(5))
    );
    assert_eq!(b.concerns.len(), 1);
    assert_eq!(b.concerns[0].id, "test.cpu.many");
    assert!(
        store
            .get("u1", VMS, "a")
            .unwrap()
            .unwrap()
            .concerns
            .is_empty()
    );
    assert_eq!(validator.calls.load(Ordering::SeqCst), 2);

    // Nothing changed: nothing is revalidated.
    inv.refresh("u1").unwrap();
    let s = wait_cycles(&inv, "u1", 2).await;
    assert!(!s.last_report.unwrap().changed());
    assert_eq!(validator.calls.load(Ordering::SeqCst), 2);

    // `a` grows past 4 CPUs, `b` disappears, `c` appears: only a and c are validated.
    collector.set(Ok(vms(&[("a", 6), ("c", 1)])));
    inv.refresh("u1").unwrap();
    let s = wait_cycles(&inv, "u1", 3).await;
    let report = s.last_report.unwrap();
    assert_eq!((report.added, report.updated, report.deleted), (1, 1, 1));
    assert_eq!(validator.calls.load(Ordering::SeqCst), 4);
    let a = store.get("u1", VMS, "a").unwrap().unwrap();
    assert_eq!((a.revision, a.revision_validated), (2, 2));
    assert_eq!(a.concerns.len(), 1);
    assert!(store.get("u1", VMS, "b").unwrap().is_none());

    // New rules: every VM is revalidated although none changed.
    validator.version.store(6, Ordering::SeqCst);
    collector.changed.notify_one();
    let s = wait_cycles(&inv, "u1", 4).await;
    assert_eq!(s.last_validated, 2);
    assert_eq!(validator.calls.load(Ordering::SeqCst), 6);
    let c = store.get("u1", VMS, "c").unwrap().unwrap();
    assert_eq!(
        (c.revision, c.revision_validated, c.rules_version),
        (1, 1, Some(6))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_reported_and_keep_the_last_inventory() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    let inv = Inventory::new(store.clone(), None, idle_options());
    let collector = FakeCollector::new(Snapshot::new());
    collector.set(Err(Error::new(
        ErrorKind::Connection,
        "cannot read /srv/ova",
    )));
    inv.add_provider(info("u1"), collector.clone()).unwrap();

    let s = wait_cycles(&inv, "u1", 1).await;
    assert!(!s.inventory_created);
    let f = s.failure.unwrap();
    assert_eq!(f.reason, FailureReason::ConnectionTestFailed);
    assert_eq!(f.reason.condition_type(), "ConnectionTestFailed");
    assert!(f.message.contains("cannot read /srv/ova"), "{}", f.message);
    assert!(f.message.contains("underlying cause"), "{}", f.message);

    let mut ok = vms(&[("a", 1)]);
    ok.warn("skipped /srv/ova/broken.ova: not a tar archive");
    collector.set(Ok(ok));
    inv.refresh("u1").unwrap();
    let s = wait_cycles(&inv, "u1", 2).await;
    assert!(s.inventory_created);
    assert_eq!(s.failure, None);
    assert_eq!(
        s.warnings,
        ["skipped /srv/ova/broken.ova: not a tar archive"]
    );
    // No validator: VMs are stored without concerns.
    assert_eq!(s.last_validated, 0);
    assert_eq!(
        store
            .get("u1", VMS, "a")
            .unwrap()
            .unwrap()
            .revision_validated,
        0
    );

    collector.set(Err(Error::new(ErrorKind::Collect, "bad OVF")));
    inv.refresh("u1").unwrap();
    let s = wait_cycles(&inv, "u1", 3).await;
    assert!(s.inventory_created);
    assert_eq!(s.failure.unwrap().reason, FailureReason::InventoryError);
    assert_eq!(store.count("u1", VMS).unwrap(), 1);

    // A snapshot the store refuses is an InventoryError too.
    let mut bad = vms(&[("a", 1)]);
    bad.push(VMS, Resource::new("a", "dup", "VM", json!({})));
    collector.set(Ok(bad));
    inv.refresh("u1").unwrap();
    let s = wait_cycles(&inv, "u1", 4).await;
    let f = s.failure.unwrap();
    assert_eq!(f.reason, FailureReason::InventoryError);
    assert!(f.message.contains("twice"), "{}", f.message);
    assert_eq!(store.provider("u1").unwrap().unwrap().phase, PHASE_FAILED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_vm_does_not_block_the_others() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    let validator = FakeValidator::new(1);
    let inv = Inventory::new(store.clone(), Some(validator.clone()), idle_options());
    let mut s = vms(&[("a", 8)]);
    s.push(VMS, Resource::new("p", "p", "VM", json!({"poison": true})));
    inv.add_provider(info("u1"), FakeCollector::new(s)).unwrap();
    let st = wait_cycles(&inv, "u1", 1).await;
    assert_eq!(st.last_validated, 0, "an error is reported, not a count");
    let msg = st.validation_error.unwrap();
    assert!(msg.contains("validating VM p (p)"), "{msg}");
    assert_eq!(
        store.get("u1", VMS, "a").unwrap().unwrap().concerns.len(),
        1
    );
    assert_eq!(
        store
            .get("u1", VMS, "p")
            .unwrap()
            .unwrap()
            .revision_validated,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_interval_drives_cycles_and_remove_stops_them() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    let inv = Inventory::new(
        store.clone(),
        None,
        InventoryOptions {
            interval: Duration::from_millis(1),
        },
    );
    inv.add_provider(info("u1"), FakeCollector::new(vms(&[("a", 1)])))
        .unwrap();
    let mut rx = inv.subscribe("u1").unwrap();
    tokio::time::timeout(Duration::from_secs(60), rx.wait_for(|s| s.cycles >= 3))
        .await
        .expect("the interval never fired")
        .unwrap();
    assert!(inv.remove_provider("u1").unwrap());
    assert!(inv.provider_state("u1").is_none());
    assert!(store.provider("u1").unwrap().is_none());
    assert_eq!(store.count("u1", VMS).unwrap(), 0);
    assert_eq!(
        inv.refresh("u1").unwrap_err().kind(),
        ErrorKind::ProviderNotFound
    );
    assert!(!inv.remove_provider("u1").unwrap());
}

#[tokio::test]
async fn collector_of_another_type_is_refused() {
    let inv = Inventory::new(
        Arc::new(Store::open_in_memory().unwrap()),
        None,
        idle_options(),
    );
    let mut i = info("u1");
    i.provider_type = "vsphere".into();
    let err = inv
        .add_provider(i, FakeCollector::new(Snapshot::new()))
        .unwrap_err();
    assert!(err.to_string().contains("serves 'ova'"), "{err}");
}

#[test]
fn add_provider_outside_a_runtime_is_an_error() {
    let inv = Inventory::new(
        Arc::new(Store::open_in_memory().unwrap()),
        None,
        idle_options(),
    );
    let err = inv
        .add_provider(info("u1"), FakeCollector::new(Snapshot::new()))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Task);
}

#[test]
fn open_creates_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("a/b");
    let inv = Inventory::open(&data, None, idle_options()).unwrap();
    assert_eq!(inv.store().path(), Some(data.join(DATABASE_FILE).as_path()));
    assert!(data.join(DATABASE_FILE).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retired_cycle_writes_nothing() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    store.upsert_provider(&info("u1")).unwrap();
    store.set_provider_phase("u1", PHASE_READY).unwrap();
    let cycle = Cycle {
        store: store.clone(),
        validator: None,
        info: info("u1"),
        collector: FakeCollector::new(vms(&[("a", 1)])),
        retired: Arc::new(AtomicBool::new(true)),
        expanded: Arc::default(),
    };
    let Outcome::Failed(f) = cycle.run().await else {
        panic!("a retired cycle must not report a collection");
    };
    assert!(
        f.message.contains("re-registered or removed"),
        "{}",
        f.message
    );
    assert_eq!(store.count("u1", VMS).unwrap(), 0);
    assert_eq!(store.provider("u1").unwrap().unwrap().phase, PHASE_READY);

    cycle.retired.store(false, Ordering::SeqCst);
    assert!(matches!(cycle.run().await, Outcome::Collected { .. }));
    assert_eq!(store.count("u1", VMS).unwrap(), 1);
}

/// A user rule (as from a ConfigMap) raising `id` for every VM.
fn user_rule(id: &str) -> ferry_validation::PolicySource {
    ferry_validation::PolicySource {
        origin: "configmap/ns/forklift-validation-config/user.rego".into(),
        text: format!(
            "package io.konveyor.forklift.ova\nimport rego.v1\nconcerns contains {{\"id\": \"{id}\", \"category\": \"Warning\", \"label\": \"{id}\"}} if input.id\n"
        ),
        user: true,
    }
}

fn policies(rule: Option<&str>) -> ferry_validation::Validator {
    let mut b = ferry_validation::Validator::builder();
    if let Some(id) = rule {
        b = b.source(user_rule(id));
    }
    b.build().unwrap()
}

fn user_ids(store: &Store, id: &str) -> Vec<String> {
    store
        .get("u1", VMS, id)
        .unwrap()
        .unwrap()
        .concerns
        .into_iter()
        .map(|c| c.id)
        .filter(|i| i.starts_with("user."))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaced_user_rules_revalidate_every_vm() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    let shared = Arc::new(crate::SharedValidator::new(policies(Some("user.one"))));
    let inv = Inventory::new(store.clone(), Some(shared.clone()), idle_options());
    inv.add_provider(info("u1"), FakeCollector::new(vms(&[("a", 2), ("b", 8)])))
        .unwrap();
    let s = wait_cycles(&inv, "u1", 1).await;
    assert_eq!(s.last_validated, 2);
    assert_eq!(user_ids(&store, "a"), ["user.one"]);
    let first = store.get("u1", VMS, "a").unwrap().unwrap().rules_version;
    assert!(first >= Some(ferry_validation::USER_RULES_VERSION_BASE));

    // The same rules again (a reload that found no change): nothing to do.
    shared.replace(policies(Some("user.one")));
    inv.refresh_all();
    let s = wait_cycles(&inv, "u1", 2).await;
    assert_eq!(s.last_validated, 0);

    // A changed rule (its author did not bump RULES_VERSION): every VM again.
    shared.replace(policies(Some("user.two")));
    inv.refresh_all();
    let s = wait_cycles(&inv, "u1", 3).await;
    assert_eq!(s.last_validated, 2);
    assert_eq!(user_ids(&store, "b"), ["user.two"]);
    let second = store.get("u1", VMS, "b").unwrap().unwrap().rules_version;
    assert_ne!(second, first);

    // The rule removed: back to the shipped RULES_VERSION, no user concern.
    shared.replace(policies(None));
    inv.refresh_all();
    let s = wait_cycles(&inv, "u1", 4).await;
    assert_eq!(s.last_validated, 2);
    assert!(user_ids(&store, "a").is_empty());
    let shipped = ferry_validation::Validator::bundled()
        .unwrap()
        .rules_version("ova")
        .unwrap();
    assert_eq!(
        store.get("u1", VMS, "a").unwrap().unwrap().rules_version,
        Some(shipped)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_url_drops_the_old_inventory_before_collecting_again() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    let inv = Inventory::new(store.clone(), None, idle_options());
    inv.add_provider(
        info("u1"),
        FakeCollector::new(vms(&[("old-a", 1), ("old-b", 1)])),
    )
    .unwrap();
    wait_cycles(&inv, "u1", 1).await;
    assert_eq!(store.count("u1", VMS).unwrap(), 2);

    // Same URL (e.g. a new resourceVersion): the inventory stays.
    let mut same = info("u1");
    same.resource_version = "2".into();
    let slow = FakeCollector::new(vms(&[("old-a", 1), ("old-b", 1)]));
    inv.add_provider(same, slow).unwrap();
    assert_eq!(store.count("u1", VMS).unwrap(), 2);
    wait_cycles(&inv, "u1", 1).await;

    // Another URL: nothing of the old source is served, not even before
    // the first collection of the new one.
    let mut moved = info("u1");
    moved.url = "/srv/other".into();
    let collector = FakeCollector::new(vms(&[("new-a", 1)]));
    collector.set(Err(Error::new(ErrorKind::Collect, "not yet")));
    inv.add_provider(moved, collector.clone()).unwrap();
    assert_eq!(store.count("u1", VMS).unwrap(), 0);
    assert_eq!(
        store.provider("u1").unwrap().unwrap().info.url,
        "/srv/other"
    );
    wait_cycles(&inv, "u1", 1).await;
    collector.set(Ok(vms(&[("new-a", 1)])));
    inv.refresh("u1").unwrap();
    wait_cycles(&inv, "u1", 2).await;
    assert!(store.get("u1", VMS, "new-a").unwrap().is_some());
    assert!(store.get("u1", VMS, "old-a").unwrap().is_none());
    assert_eq!(store.count("u1", VMS).unwrap(), 1);
}
