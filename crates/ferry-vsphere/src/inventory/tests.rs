//! The collector against the govmomi simulator (`ferry-vcsim`): a full
//! collection matches what the simulator has, changes made by a second
//! client wake `changed()` and show in the next snapshot, and the bundled
//! `vmware` policies judge a simulator VM.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::collections::BTreeSet;
use std::time::Duration;

use ferry_inventory::model::{ProviderInfo, Resource};
use ferry_inventory::store::Store;
use ferry_testutil::{Vcsim, vcsim};
use serde_json::Value;

use super::*;
use crate::{MoRef, Secret, TlsOptions};

fn client_options(sim: &Vcsim) -> ClientOptions {
    let mut o = ClientOptions::new(
        &sim.info.url,
        &sim.info.username,
        Secret::new(sim.info.password.clone()),
    );
    o.tls = TlsOptions {
        cacert_pem: Some(sim.info.cert_pem.clone()),
        ..Default::default()
    };
    o
}

fn collector(sim: &Vcsim) -> VsphereCollector {
    let mut opts = VsphereOptions::new(client_options(sim));
    opts.poll_wait = Duration::from_secs(5);
    opts.settle = Duration::from_millis(50);
    VsphereCollector::new(opts)
}

fn list<'a>(snap: &'a Snapshot, collection: &str) -> &'a [Resource] {
    snap.collections()
        .find(|(c, _)| *c == collection)
        .map(|(_, l)| l)
        .unwrap_or_else(|| panic!("no collection {collection}"))
}

fn by_id<'a>(snap: &'a Snapshot, collection: &str, id: &str) -> &'a Resource {
    list(snap, collection)
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("{collection}/{id} missing"))
}

/// Waits for `changed()`; the bound only keeps a broken collector from
/// hanging the suite (it fails the test, it measures nothing).
async fn changed_within(c: &VsphereCollector, what: &str) {
    tokio::time::timeout(Duration::from_secs(60), c.changed())
        .await
        .unwrap_or_else(|_| panic!("changed() did not resolve after {what}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collects_what_the_simulator_has() {
    let Some(sim) = vcsim() else { return };
    let c = collector(&sim);
    let snap = c.collect().await.unwrap();
    // VMs: the same ids and names the simulator lists.
    let want: BTreeSet<(String, String)> = sim.vms().into_iter().collect();
    let got: BTreeSet<(String, String)> = list(&snap, "vms")
        .iter()
        .map(|r| (r.id.clone(), r.name.clone()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(got.len(), 4, "1 cluster + 1 standalone host, 2 VMs each");
    // 1 datacenter, a cluster of 2 hosts, 1 standalone host, 1 datastore.
    assert_eq!(list(&snap, "datacenters").len(), 1);
    assert_eq!(list(&snap, "hosts").len(), 3);
    assert_eq!(list(&snap, "clusters").len(), 2);
    assert_eq!(list(&snap, "datastores").len(), 1);
    assert_eq!(list(&snap, "datastores")[0].name, sim.info.datastore);
    assert!(
        list(&snap, "networks")
            .iter()
            .any(|n| n.name == "VM Network")
    );
    // The datacenter's four folders (the root folder is the view's
    // container, not in it).
    let folders: BTreeSet<&str> = list(&snap, "folders")
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    let dc_name = &sim.info.datacenter;
    let want_folders: BTreeSet<String> = ["vm", "host", "datastore", "network"]
        .iter()
        .map(|f| format!("/{dc_name}/{f}"))
        .collect();
    assert_eq!(folders, want_folders.iter().map(String::as_str).collect());
    // The standard network, the distributed switch and its two port groups.
    let variants: Vec<&str> = list(&snap, "networks")
        .iter()
        .map(|n| n.variant.as_str())
        .collect();
    assert_eq!(
        variants.iter().filter(|v| **v == "Standard").count(),
        1,
        "{variants:?}"
    );
    assert_eq!(
        variants.iter().filter(|v| **v == "DvSwitch").count(),
        1,
        "{variants:?}"
    );
    assert_eq!(
        variants.iter().filter(|v| **v == "DvPortGroup").count(),
        2,
        "{variants:?}"
    );
    for pg in list(&snap, "networks")
        .iter()
        .filter(|n| n.variant == "DvPortGroup")
    {
        let switch = pg.object["dvSwitch"]["id"].as_str().unwrap();
        assert!(
            list(&snap, "networks")
                .iter()
                .any(|n| n.id == switch && n.variant == "DvSwitch"),
            "{pg:?}"
        );
        assert_eq!(pg.object["key"], pg.id.as_str());
    }
    let dc = &list(&snap, "datacenters")[0];
    assert_eq!(dc.name, sim.info.datacenter);
    assert_eq!(dc.path, format!("/{}", sim.info.datacenter));

    let host_ids: BTreeSet<&str> = list(&snap, "hosts").iter().map(|h| h.id.as_str()).collect();
    let net_ids: BTreeSet<&str> = list(&snap, "networks")
        .iter()
        .map(|n| n.id.as_str())
        .collect();
    let ds_ids: BTreeSet<&str> = list(&snap, "datastores")
        .iter()
        .map(|d| d.id.as_str())
        .collect();
    for vm in list(&snap, "vms") {
        let o = &vm.object;
        assert_eq!(o["id"], vm.id.as_str());
        assert_eq!(vm.path, format!("/{}/vm/{}", sim.info.datacenter, vm.name));
        assert_eq!(vm.parent.as_ref().unwrap().kind, "Folder");
        assert!(host_ids.contains(o["host"].as_str().unwrap()), "{vm:?}");
        assert!(o["cpuCount"].as_i64().unwrap() >= 1);
        assert!(o["memoryMB"].as_i64().unwrap() >= 1);
        assert!(!o["uuid"].as_str().unwrap().is_empty());
        assert!(
            ["poweredOn", "poweredOff", "suspended"].contains(&o["powerState"].as_str().unwrap())
        );
        assert_eq!(o["isTemplate"], false);
        let disks = o["disks"].as_array().unwrap();
        assert!(!disks.is_empty(), "{}: no disks", vm.name);
        for d in disks {
            assert!(d["capacity"].as_i64().unwrap() > 0, "{d}");
            assert!(d["file"].as_str().unwrap().starts_with('['), "{d}");
            assert!(
                ds_ids.contains(d["datastore"]["id"].as_str().unwrap()),
                "{d}"
            );
            assert!(!d["bus"].as_str().unwrap().is_empty(), "{d}");
        }
        let nics = o["nics"].as_array().unwrap();
        assert!(!nics.is_empty(), "{}: no NICs", vm.name);
        for n in nics {
            assert!(!n["mac"].as_str().unwrap().is_empty());
            assert!(
                net_ids.contains(n["network"]["id"].as_str().unwrap()),
                "{n}"
            );
        }
        let kinds: Vec<&str> = o["devices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["kind"].as_str().unwrap())
            .collect();
        assert!(kinds.contains(&"VirtualDisk"), "{kinds:?}");
    }
    for host in list(&snap, "hosts") {
        let cluster = host.object["cluster"].as_str().unwrap();
        assert!(
            list(&snap, "clusters").iter().any(|c| c.id == cluster),
            "{host:?}"
        );
        assert!(host.object["cpuCores"].as_i64().unwrap() > 0);
    }
    assert!(c.thumbprint().await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_rename_power_and_new_disk() {
    let Some(sim) = vcsim() else { return };
    let c = collector(&sim);
    let snap = c.collect().await.unwrap();
    let vm = list(&snap, "vms")[0].clone();
    let vm_ref = MoRef::new("VirtualMachine", &vm.id);
    let disks_before = vm.object["disks"].as_array().unwrap().len();
    let other = Client::connect(&client_options(&sim)).await.unwrap();

    // Rename.
    let task = other.rename(&vm_ref, "renamed-by-test").await.unwrap();
    other.wait_task(&task, |_| {}).await.unwrap();
    changed_within(&c, "a rename").await;
    let snap = c.collect().await.unwrap();
    let r = by_id(&snap, "vms", &vm.id);
    assert_eq!(r.name, "renamed-by-test");
    assert_eq!(r.object["name"], "renamed-by-test");
    assert!(r.path.ends_with("/renamed-by-test"), "{}", r.path);

    // Power: toggle the current state.
    let was_on = r.object["powerState"] == "poweredOn";
    let task = if was_on {
        other.power_off(&vm_ref).await.unwrap()
    } else {
        other.power_on(&vm_ref).await.unwrap()
    };
    other.wait_task(&task, |_| {}).await.unwrap();
    changed_within(&c, "a power change").await;
    let snap = c.collect().await.unwrap();
    let want = if was_on { "poweredOff" } else { "poweredOn" };
    assert_eq!(by_id(&snap, "vms", &vm.id).object["powerState"], want);

    // A new disk, uploaded and attached by the harness.
    let tmp = tempfile::tempdir().unwrap();
    let local = tmp.path().join("extra.vmdk");
    std::fs::write(&local, vec![0u8; 65536]).unwrap();
    sim.upload(&local, "extra/extra.vmdk");
    let attached = sim.attach_disk(&vm.id, "extra/extra.vmdk", 1 << 20);
    changed_within(&c, "a new disk").await;
    let snap = c.collect().await.unwrap();
    let disks = by_id(&snap, "vms", &vm.id).object["disks"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(disks.len(), disks_before + 1);
    let new = disks
        .iter()
        .find(|d| d["key"] == i64::from(attached.key))
        .expect("the attached disk");
    assert_eq!(new["unitNumber"], i64::from(attached.unit_number));
    assert_eq!(new["controllerKey"], i64::from(attached.controller_key));
    assert!(
        new["file"].as_str().unwrap().ends_with("extra/extra.vmdk"),
        "{new}"
    );
    // Every change came through WaitForUpdatesEx on the first session: the
    // inventory was listed once, never again.
    assert_eq!(
        c.inner.sessions.load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

#[test]
fn node_json_follows_the_props_convention() {
    let node =
        |name: &str, xsi: Option<&str>, ty: Option<&str>, text: &str, children: Vec<Node>| Node {
            name: name.into(),
            xsi_type: xsi.map(str::to_owned),
            type_attr: ty.map(str::to_owned),
            text: text.into(),
            children,
        };
    let v = node(
        "val",
        Some("VirtualHardware"),
        None,
        "",
        vec![
            node("numCPU", None, None, "2", vec![]),
            node(
                "device",
                Some("VirtualDisk"),
                None,
                "",
                vec![node("key", None, None, "2000", vec![])],
            ),
            node(
                "device",
                Some("VirtualE1000"),
                None,
                "",
                vec![node("key", None, None, "4000", vec![])],
            ),
            node(
                "device",
                Some("VirtualTPM"),
                None,
                "",
                vec![node("key", None, None, "11000", vec![])],
            ),
            node("host", None, Some("HostSystem"), " host-1 ", vec![]),
            node("empty", Some("ArrayOfCustomFieldValue"), None, "", vec![]),
        ],
    );
    assert_eq!(
        node_json(&v),
        serde_json::json!({
            "_type": "VirtualHardware",
            "numCPU": "2",
            "device": [
                {"_type": "VirtualDisk", "key": "2000"},
                {"_type": "VirtualE1000", "key": "4000"},
                {"_type": "VirtualTPM", "key": "11000"}
            ],
            "host": {"type": "HostSystem", "value": "host-1"},
            "empty": {"_type": "ArrayOfCustomFieldValue"}
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundled_policies_judge_a_simulator_vm() {
    let Some(sim) = vcsim() else { return };
    let snap = collector(&sim).collect().await.unwrap();
    let store = Store::open_in_memory().unwrap();
    let info = ProviderInfo {
        uid: "vc-1".into(),
        namespace: "ns".into(),
        name: "vcsim".into(),
        provider_type: "vsphere".into(),
        url: sim.info.url.clone(),
        resource_version: String::new(),
        object: Value::Null,
    };
    store.upsert_provider(&info).unwrap();
    store.apply_snapshot("vc-1", &snap).unwrap();
    let spec = ferry_inventory::web::spec::type_spec("vsphere").unwrap();
    let validator = ferry_validation::Validator::bundled().unwrap();
    let vm = store
        .get("vc-1", "vms", &list(&snap, "vms")[0].id)
        .unwrap()
        .unwrap();
    let workload = ferry_inventory::web::render::workload(spec, "vc-1", &vm, &store).unwrap();
    // The workload carries the host and its cluster, as the policies expect.
    assert!(workload["host"]["cluster"].is_object(), "{workload}");
    let out = validator.validate("vsphere", &workload).unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let ids: Vec<&str> = out.concerns.iter().map(|c| c.id.as_str()).collect();
    // Simulator VMs have CBT off and names with upper-case letters.
    assert!(
        ids.contains(&"vmware.changed_block_tracking.disabled"),
        "{ids:?}"
    );
    assert!(ids.contains(&"vmware.vm.name.invalid"), "{ids:?}");
    assert!(!ids.contains(&"vmware.datastore.missing"), "{ids:?}");
    assert!(!ids.contains(&"vmware.disk.capacity.invalid"), "{ids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_a_connection_failure_without_the_secret() {
    let Some(sim) = vcsim() else { return };
    let mut o = client_options(&sim);
    o.password = Secret::new("not-the-password-4711");
    let err = VsphereCollector::new(VsphereOptions::new(o))
        .collect()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), InvKind::Connection);
    let text = ferry_inventory::chain(&err);
    assert!(!text.contains("not-the-password-4711"), "{text}");
    assert!(!text.contains(&sim.info.password), "{text}");
}

/// Waits until the provider finished `cycles` collection cycles.
async fn cycles_reach(
    rx: &mut tokio::sync::watch::Receiver<ferry_inventory::ProviderState>,
    cycles: u64,
    what: &str,
) -> ferry_inventory::ProviderState {
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let state = rx.borrow_and_update().clone();
            if state.cycles >= cycles {
                return state;
            }
            rx.changed().await.expect("inventory loop alive");
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no cycle {cycles} after {what}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_loop_follows_a_rename_and_concerns_update() {
    let Some(sim) = vcsim() else { return };
    let store = std::sync::Arc::new(Store::open_in_memory().unwrap());
    let validator: std::sync::Arc<dyn ferry_inventory::validate::VmValidator> =
        std::sync::Arc::new(ferry_validation::Validator::bundled().unwrap());
    // An interval far beyond the test: only changed() can start cycle 2.
    let inventory = ferry_inventory::Inventory::new(
        store.clone(),
        Some(validator),
        ferry_inventory::InventoryOptions {
            interval: Duration::from_secs(3600),
        },
    );
    let info = ProviderInfo {
        uid: "vc-2".into(),
        namespace: "ns".into(),
        name: "vcsim".into(),
        provider_type: "vsphere".into(),
        url: sim.info.url.clone(),
        resource_version: String::new(),
        object: Value::Null,
    };
    let c = collector(&sim);
    inventory
        .add_provider(info, std::sync::Arc::new(c.clone()))
        .unwrap();
    let mut rx = inventory.subscribe("vc-2").unwrap();
    let state = cycles_reach(&mut rx, 1, "the start").await;
    assert!(
        state.inventory_created && state.failure.is_none(),
        "{state:?}"
    );
    let (vm_id, _) = sim.vms().into_iter().next().unwrap();
    let concern_ids = |id: &str| -> Vec<String> {
        let vm = store.get("vc-2", "vms", id).unwrap().unwrap();
        vm.concerns.iter().map(|c| c.id.clone()).collect()
    };
    let before = concern_ids(&vm_id);
    assert!(
        before.contains(&"vmware.vm.name.invalid".to_owned()),
        "{before:?}"
    );
    assert!(before.contains(&"vmware.changed_block_tracking.disabled".to_owned()));

    let other = Client::connect(&client_options(&sim)).await.unwrap();
    let task = other
        .rename(&MoRef::new("VirtualMachine", &vm_id), "web-01")
        .await
        .unwrap();
    other.wait_task(&task, |_| {}).await.unwrap();
    let state = cycles_reach(&mut rx, 2, "a rename").await;
    assert!(state.failure.is_none(), "{state:?}");
    let vm = store.get("vc-2", "vms", &vm_id).unwrap().unwrap();
    assert_eq!(vm.resource.name, "web-01");
    assert_eq!(vm.revision_validated, vm.revision);
    let after = concern_ids(&vm_id);
    assert!(
        !after.contains(&"vmware.vm.name.invalid".to_owned()),
        "{after:?}"
    );
    assert!(after.contains(&"vmware.changed_block_tracking.disabled".to_owned()));
    assert_eq!(
        c.inner.sessions.load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    inventory.remove_provider("vc-2").unwrap();
}

#[tokio::test]
async fn unreachable_server_is_a_connection_failure() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut o = ClientOptions::new(
        format!("https://127.0.0.1:{port}/sdk"),
        "user",
        Secret::new("pw-never-shown-1234"),
    );
    o.connect_timeout = Duration::from_secs(5);
    let c = VsphereCollector::new(VsphereOptions::new(o));
    let err = c.collect().await.unwrap_err();
    assert_eq!(err.kind(), InvKind::Connection, "{err:?}");
    assert!(!ferry_inventory::chain(&err).contains("pw-never-shown-1234"));
    assert!(c.thumbprint().await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_certificate_is_a_connection_failure() {
    let Some(sim) = vcsim() else { return };
    let mut o = client_options(&sim);
    o.tls = TlsOptions::default(); // system roots: the simulator's own certificate is not among them
    let err = VsphereCollector::new(VsphereOptions::new(o))
        .collect()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), InvKind::Connection, "{err:?}");
}
