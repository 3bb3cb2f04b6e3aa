//! `ferry inventory vms` against an inventory database in a data directory.
#![allow(clippy::unwrap_used)]
use std::process::Command;

use ferry_inventory::store::Store;
use ferry_inventory::{Concern, ProviderInfo, Resource, Snapshot};
use serde_json::{Value, json};

fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("inventory")).unwrap();
    let store = Store::open(&dir.path().join("inventory/inventory.db")).unwrap();
    store
        .upsert_provider(&ProviderInfo {
            uid: "u1".into(),
            namespace: "demo".into(),
            name: "appliances".into(),
            provider_type: "ova".into(),
            url: "/srv/ova".into(),
            resource_version: "1".into(),
            object: Value::Null,
        })
        .unwrap();
    let mut s = Snapshot::new();
    s.push("vms", Resource::new("v1", "web", "VM", json!({})));
    s.push("vms", Resource::new("v2", "db", "VM", json!({})));
    store.apply_snapshot("u1", &s).unwrap();
    let critical = Concern {
        id: "ferry.ova.manifest.checksum.mismatch".into(),
        category: "Critical".into(),
        label: "Manifest checksum mismatch".into(),
        assessment: String::new(),
    };
    store
        .set_validation("u1", "vms", "v1", 1, 5, &[critical])
        .unwrap();
    store.set_validation("u1", "vms", "v2", 1, 5, &[]).unwrap();
    dir
}

fn ferry(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(args)
        .env_remove("FERRY_INVENTORY_URL")
        .output()
        .unwrap()
}

#[test]
fn vms_table_and_json_from_the_data_dir() {
    let dir = data_dir();
    let d = dir.path().to_str().unwrap();
    let out = ferry(&[
        "inventory",
        "vms",
        "--provider",
        "demo/appliances",
        "--data-dir",
        d,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[1].starts_with("db ") && lines[1].ends_with("none"),
        "{text}"
    );
    assert!(
        lines[2].contains("Critical: Manifest checksum mismatch"),
        "{text}"
    );

    let out = ferry(&[
        "inventory",
        "vms",
        "--provider",
        "appliances",
        "--data-dir",
        d,
        "-o",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[1]["name"], "web");
    assert_eq!(v[1]["concerns"][0]["category"], "Critical");
}

#[test]
fn unknown_provider_and_missing_database_fail_clearly() {
    let dir = data_dir();
    let d = dir.path().to_str().unwrap();
    let out = ferry(&["inventory", "vms", "--provider", "nope", "--data-dir", d]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no provider named 'nope'"));

    let empty = tempfile::tempdir().unwrap();
    let out = ferry(&[
        "inventory",
        "vms",
        "--provider",
        "x",
        "--data-dir",
        empty.path().to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no inventory database"));
    assert!(!empty.path().join("inventory").exists());
}
