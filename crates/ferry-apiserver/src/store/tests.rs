use super::*;
use serde_json::json;

fn obj(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}})
}

#[test]
fn writes_are_versioned_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    {
        let s = Store::open(&path, StoreOptions::default()).unwrap();
        let a = s
            .write("/configmaps", "default", "a", Write::Create, obj("a"))
            .unwrap();
        assert_eq!(object_rv(&a), Some(1));
        assert!(matches!(
            s.write("/configmaps", "default", "a", Write::Create, obj("a")),
            Err(WriteError::AlreadyExists)
        ));
        assert!(matches!(
            s.write(
                "/configmaps",
                "default",
                "a",
                Write::Update { expect_rv: Some(7) },
                obj("a")
            ),
            Err(WriteError::Conflict)
        ));
        s.write(
            "/configmaps",
            "default",
            "a",
            Write::Update { expect_rv: Some(1) },
            obj("a"),
        )
        .unwrap();
        s.write("/configmaps", "default", "b", Write::Create, obj("b"))
            .unwrap();
        s.write(
            "/configmaps",
            "default",
            "b",
            Write::Delete { expect_rv: None },
            obj("b"),
        )
        .unwrap();
    }
    let s = Store::open(&path, StoreOptions::default()).unwrap();
    assert_eq!(s.current_rv(), 4);
    let (items, _) = s.list("/configmaps", Some("default"), None);
    assert_eq!(items.len(), 1);
    let (events, _rx) = s.subscribe_from("/configmaps", 1).unwrap();
    let kinds: Vec<_> = events
        .iter()
        .map(|e| (e.rv, e.kind, e.name.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (2, EventType::Modified, "a"),
            (3, EventType::Added, "b"),
            (4, EventType::Deleted, "b")
        ]
    );
}

#[test]
fn old_versions_are_compacted_away() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(
        &dir.path().join("db"),
        StoreOptions {
            history: 10,
            watch_buffer: 16,
        },
    )
    .unwrap();
    for i in 0..300 {
        s.write(
            "/configmaps",
            "default",
            &format!("o{i}"),
            Write::Create,
            obj(&format!("o{i}")),
        )
        .unwrap();
    }
    let oldest = s.compacted_rv();
    assert!(oldest > 0);
    assert_eq!(s.subscribe_from("/configmaps", 1).err(), Some(oldest));
    let (events, _) = s.subscribe_from("/configmaps", 295).unwrap();
    assert_eq!(events.len(), 5);
}

#[test]
fn live_events_arrive_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("db"), StoreOptions::default()).unwrap();
    let (_, rv, mut rx) = s.subscribe_now("/configmaps", None);
    assert_eq!(rv, 0);
    s.write("/configmaps", "default", "x", Write::Create, obj("x"))
        .unwrap();
    s.write("/configmaps", "default", "y", Write::Create, obj("y"))
        .unwrap();
    assert_eq!(rx.try_recv().unwrap().rv, 1);
    assert_eq!(rx.try_recv().unwrap().rv, 2);
}
