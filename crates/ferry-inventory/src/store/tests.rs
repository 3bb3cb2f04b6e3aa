use serde_json::json;

use super::*;

fn provider(uid: &str) -> ProviderInfo {
    ProviderInfo {
        uid: uid.into(),
        namespace: "ns".into(),
        name: format!("p-{uid}"),
        provider_type: "ova".into(),
        url: "/srv/ova".into(),
        resource_version: "7".into(),
        object: json!({"kind": "Provider"}),
    }
}

fn vm(id: &str, name: &str, cpus: i64) -> Resource {
    Resource::new(
        id,
        name,
        "VM",
        json!({"id": id, "name": name, "cpuCount": cpus}),
    )
}

fn snapshot(vms: Vec<Resource>) -> Snapshot {
    let mut s = Snapshot::new();
    s.collection("vms");
    for v in vms {
        s.push("vms", v);
    }
    s
}

#[test]
fn provider_round_trip_keeps_phase_and_revision_on_update() {
    let store = Store::open_in_memory().unwrap();
    let p = provider("u1");
    store.upsert_provider(&p).unwrap();
    let got = store.provider("u1").unwrap().unwrap();
    assert_eq!(got.info, p);
    assert_eq!(got.phase, PHASE_COLLECTING);
    assert_eq!(got.revision, 0);

    store.set_provider_phase("u1", PHASE_READY).unwrap();
    store
        .apply_snapshot("u1", &snapshot(vec![vm("a", "a", 1)]))
        .unwrap();
    let mut p2 = p.clone();
    p2.url = "/srv/other".into();
    store.upsert_provider(&p2).unwrap();
    let got = store.provider("u1").unwrap().unwrap();
    assert_eq!(got.info.url, "/srv/other");
    assert_eq!(got.phase, PHASE_READY);
    assert_eq!(got.revision, 1);

    assert!(store.provider("nope").unwrap().is_none());
    let err = store.set_provider_phase("nope", PHASE_READY).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderNotFound);
}

#[test]
fn revision_bumps_only_on_real_change() {
    let store = Store::open_in_memory().unwrap();
    store.upsert_provider(&provider("u1")).unwrap();

    let r = store
        .apply_snapshot(
            "u1",
            &snapshot(vec![vm("a", "alpha", 1), vm("b", "beta", 2)]),
        )
        .unwrap();
    assert_eq!((r.added, r.updated, r.deleted, r.unchanged), (2, 0, 0, 0));
    assert_eq!(store.get("u1", "vms", "a").unwrap().unwrap().revision, 1);
    assert_eq!(store.provider("u1").unwrap().unwrap().revision, 1);

    // Same data again: nothing moves, not even the provider revision.
    let r = store
        .apply_snapshot(
            "u1",
            &snapshot(vec![vm("b", "beta", 2), vm("a", "alpha", 1)]),
        )
        .unwrap();
    assert!(!r.changed());
    assert_eq!(r.unchanged, 2);
    assert_eq!(store.get("u1", "vms", "a").unwrap().unwrap().revision, 1);
    assert_eq!(store.provider("u1").unwrap().unwrap().revision, 1);

    // One VM changes, one disappears, one appears.
    let r = store
        .apply_snapshot(
            "u1",
            &snapshot(vec![vm("a", "alpha", 4), vm("c", "gamma", 1)]),
        )
        .unwrap();
    assert_eq!((r.added, r.updated, r.deleted, r.unchanged), (1, 1, 1, 0));
    let a = store.get("u1", "vms", "a").unwrap().unwrap();
    assert_eq!(a.revision, 2);
    assert_eq!(a.resource.object["cpuCount"], 4);
    assert!(store.get("u1", "vms", "b").unwrap().is_none());
    assert_eq!(store.get("u1", "vms", "c").unwrap().unwrap().revision, 1);
    assert_eq!(store.provider("u1").unwrap().unwrap().revision, 2);

    // A parent or path change is a change too.
    let moved = vm("a", "alpha", 4)
        .with_parent(Ref {
            kind: "Folder".into(),
            id: "f1".into(),
        })
        .with_path("/dc/vm/alpha");
    store
        .apply_snapshot("u1", &snapshot(vec![moved.clone(), vm("c", "gamma", 1)]))
        .unwrap();
    let a = store.get("u1", "vms", "a").unwrap().unwrap();
    assert_eq!(a.revision, 3);
    assert_eq!(a.resource, moved);
}

#[test]
fn missing_collection_is_emptied_and_other_providers_are_untouched() {
    let store = Store::open_in_memory().unwrap();
    store.upsert_provider(&provider("u1")).unwrap();
    store.upsert_provider(&provider("u2")).unwrap();
    let mut s = snapshot(vec![vm("a", "a", 1)]);
    s.push(
        "disks",
        Resource::new("d1", "disk1", "Disk", json!({"capacity": 1})),
    );
    store.apply_snapshot("u1", &s).unwrap();
    store.apply_snapshot("u2", &s).unwrap();
    assert_eq!(store.count("u1", "disks").unwrap(), 1);

    let r = store
        .apply_snapshot("u1", &snapshot(vec![vm("a", "a", 1)]))
        .unwrap();
    assert_eq!(r.deleted, 1);
    assert_eq!(store.count("u1", "disks").unwrap(), 0);
    assert_eq!(store.count("u2", "disks").unwrap(), 1);

    assert!(store.delete_provider("u1").unwrap());
    assert!(!store.delete_provider("u1").unwrap());
    assert_eq!(store.count("u1", "vms").unwrap(), 0);
    assert_eq!(store.count("u2", "vms").unwrap(), 1);
    let err = store.apply_snapshot("u1", &s).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderNotFound);
}

#[test]
fn validation_results_survive_unchanged_collections_and_reset_on_change() {
    let store = Store::open_in_memory().unwrap();
    store.upsert_provider(&provider("u1")).unwrap();
    store
        .apply_snapshot("u1", &snapshot(vec![vm("a", "a", 1), vm("b", "b", 1)]))
        .unwrap();
    assert_eq!(store.needing_validation("u1", "vms", 5).unwrap().len(), 2);

    let concern = Concern {
        id: "ova.name.invalid".into(),
        category: "Warning".into(),
        label: "Invalid VM Name".into(),
        assessment: "The name is not DNS-1123.".into(),
    };
    assert!(
        store
            .set_validation("u1", "vms", "a", 1, 5, std::slice::from_ref(&concern))
            .unwrap()
    );
    assert!(store.set_validation("u1", "vms", "b", 1, 5, &[]).unwrap());
    // A stale revision is refused.
    assert!(!store.set_validation("u1", "vms", "b", 7, 5, &[]).unwrap());
    assert!(store.needing_validation("u1", "vms", 5).unwrap().is_empty());
    // A new rules version makes everything stale.
    assert_eq!(store.needing_validation("u1", "vms", 6).unwrap().len(), 2);

    store
        .apply_snapshot("u1", &snapshot(vec![vm("a", "a", 1), vm("b", "b", 3)]))
        .unwrap();
    let a = store.get("u1", "vms", "a").unwrap().unwrap();
    assert_eq!(
        (a.revision, a.revision_validated, a.rules_version),
        (1, 1, Some(5))
    );
    assert_eq!(a.concerns, vec![concern]);
    let stale = store.needing_validation("u1", "vms", 5).unwrap();
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0].resource.id, "b");
    assert_eq!(stale[0].revision, 2);
}

#[test]
fn list_filters_by_name_and_path_and_pages() {
    let store = Store::open_in_memory().unwrap();
    store.upsert_provider(&provider("u1")).unwrap();
    let s = snapshot(vec![
        vm("1", "web", 1).with_path("/dc1/vm/prod/web"),
        vm("2", "web", 1).with_path("/dc1/vm/test/web"),
        vm("3", "db", 1).with_path("/dc1/vm/prod/db"),
    ]);
    store.apply_snapshot("u1", &s).unwrap();

    let ids = |o: ListOptions| -> Vec<String> {
        store
            .list("u1", "vms", &o)
            .unwrap()
            .into_iter()
            .map(|r| r.resource.id)
            .collect()
    };
    assert_eq!(ids(ListOptions::default()), ["3", "1", "2"]);
    let by = |name: &str| ListOptions {
        name: Some(name.into()),
        ..Default::default()
    };
    assert_eq!(ids(by("web")), ["1", "2"]);
    assert_eq!(ids(by("prod/web")), ["1"]);
    assert_eq!(ids(by("/dc1/vm/test/web")), ["2"]);
    assert_eq!(ids(by("/vm/test/web")), Vec::<String>::new());
    assert_eq!(ids(by("rod/web")), Vec::<String>::new());
    assert_eq!(ids(by("nothing")), Vec::<String>::new());
    assert_eq!(
        ids(ListOptions {
            limit: Some(1),
            offset: 1,
            ..Default::default()
        }),
        ["1"]
    );
}

#[test]
fn file_database_persists_and_refuses_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inventory.db");
    {
        let store = Store::open(&path).unwrap();
        store.upsert_provider(&provider("u1")).unwrap();
        store
            .apply_snapshot("u1", &snapshot(vec![vm("a", "a", 1)]))
            .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.get("u1", "vms", "a").unwrap().unwrap().revision, 1);
    let mode: String = store
        .lock()
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    store
        .lock()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(store);
    let err = Store::open(&path).unwrap_err();
    assert!(err.to_string().contains("newer than this ferry"), "{err}");
}
