//! Differential test: every shipped policy gives the same `validate` document
//! in regorus (ferry) and in real OPA, for a table of VM inputs: a clean VM,
//! each concern triggered, missing fields, wrong types and edge values.
//!
//! OPA comes from `.ci/opa.sh` (the `ferry-opa-python` peer); without it the
//! test is skipped locally and fails under FERRY_REQUIRE_PEERS=1.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use std::path::Path;

use serde_json::{Value, json};

fn clean_vm() -> Value {
    json!({
        "id": "3f2b8c1d0e9a4b7c6d5e4f3a2b1c0d9e8f7a",
        "name": "web-01",
        "ovaPath": "/nfs/web-01.ova",
        "ovaSource": "VMware",
        "osType": "rhel9_64Guest",
        "uuid": "42256329-8c3a-2a82-54fd-01d845a8bf49",
        "firmware": "bios",
        "cpuAffinity": [],
        "cpuHotAddEnabled": false,
        "cpuHotRemoveEnabled": false,
        "memoryHotAddEnabled": false,
        "cpuCount": 2,
        "coresPerSocket": 1,
        "memoryMB": 2048,
        "disks": [
            {"name": "web-01-disk1.vmdk", "filePath": "/nfs/web-01.ova", "capacity": 16,
             "capacityAllocationUnits": "byte * 2^30", "populatedSize": 1073741824},
            {"name": "web-01-disk2.vmdk", "filePath": "/nfs/web-01.ova", "capacity": 1024,
             "capacityAllocationUnits": "byte * 2^20", "populatedSize": 0}
        ],
        "nics": [{"name": "Network adapter 1", "mac": "00:50:56:a1:00:01", "network": "VM Network", "model": "VmxNet3", "config": []}],
        "networks": [{"id": "n1", "name": "VM Network", "description": ""}],
        "integrity": {"manifest": "verified", "manifestProblems": [], "fileProblems": []}
    })
}

fn with(path: &[&str], value: Value) -> Value {
    let mut vm = clean_vm();
    let mut cur = &mut vm;
    for (i, key) in path.iter().enumerate() {
        if i + 1 == path.len() {
            cur[*key] = value.clone();
        } else {
            cur = &mut cur[*key];
        }
    }
    vm
}

fn without(key: &str) -> Value {
    let mut vm = clean_vm();
    vm.as_object_mut().unwrap().remove(key);
    vm
}

fn disks(n: usize, capacity: Value) -> Value {
    Value::Array(
        (0..n)
            .map(|i| json!({"name": format!("d{i}.vmdk"), "filePath": "/nfs/x.ova", "capacity": capacity}))
            .collect(),
    )
}

fn cases() -> Vec<(String, Value)> {
    let mut c: Vec<(String, Value)> = vec![("clean".into(), clean_vm())];
    let mut add = |name: &str, v: Value| c.push((name.to_owned(), v));
    // name
    for (i, n) in [
        json!("Web 01"),
        json!("WEB"),
        json!("web_01"),
        json!("-web"),
        json!("web-"),
        json!(""),
        json!("a".repeat(63)),
        json!("a".repeat(64)),
        json!("web.example.com"),
        json!("wéb"),
        json!("x"),
        json!(null),
        json!(42),
        json!(["web"]),
    ]
    .into_iter()
    .enumerate()
    {
        add(&format!("name#{i} {n}"), with(&["name"], n));
    }
    add("name missing", without("name"));
    // export source
    for s in [
        json!("VirtualBox"),
        json!("Unknown"),
        json!("oVirt"),
        json!("vmware"),
        json!(null),
        json!(5),
    ] {
        add(&format!("ovaSource {s}"), with(&["ovaSource"], s));
    }
    add("ovaSource missing", without("ovaSource"));
    // hot plug
    for key in [
        "cpuHotAddEnabled",
        "cpuHotRemoveEnabled",
        "memoryHotAddEnabled",
    ] {
        add(&format!("{key} true"), with(&[key], json!(true)));
        add(&format!("{key} \"true\""), with(&[key], json!("true")));
        add(&format!("{key} 1"), with(&[key], json!(1)));
        add(&format!("{key} missing"), without(key));
    }
    let mut all_hot = clean_vm();
    for key in [
        "cpuHotAddEnabled",
        "cpuHotRemoveEnabled",
        "memoryHotAddEnabled",
    ] {
        all_hot[key] = json!(true);
    }
    add("all hot plug", all_hot);
    // cpu affinity
    for a in [
        json!([0]),
        json!([0, 2, 4]),
        json!(null),
        json!("0,1"),
        json!({}),
        json!({"a": 1}),
        json!([null]),
    ] {
        add(&format!("cpuAffinity {a}"), with(&["cpuAffinity"], a));
    }
    add("cpuAffinity missing", without("cpuAffinity"));
    // disk capacity
    for cap in [
        json!(0),
        json!(-1),
        json!(1),
        json!(0.0),
        json!(-0.5),
        json!(0.5),
        json!("0"),
        json!(null),
        json!(-9223372036854775807i64),
        json!(1e300),
    ] {
        add(
            &format!("disk capacity {cap}"),
            with(
                &["disks"],
                json!([{"name": "d.vmdk", "filePath": "/p.ova", "capacity": cap}]),
            ),
        );
    }
    add(
        "disk without capacity",
        with(&["disks"], json!([{"name": "d.vmdk"}])),
    );
    add(
        "disk without name",
        with(
            &["disks"],
            json!([{"filePath": "/nfs/p.ova", "capacity": 0}]),
        ),
    );
    add(
        "disk with empty name",
        with(
            &["disks"],
            json!([{"name": "", "filePath": "/nfs/p.ova", "capacity": 0}]),
        ),
    );
    add(
        "disk with no names",
        with(&["disks"], json!([{"capacity": -3}])),
    );
    add(
        "disk not an object",
        with(&["disks"], json!([0, "x", null])),
    );
    add("two zero disks", with(&["disks"], disks(2, json!(0))));
    // disk count
    add("165 disks", with(&["disks"], disks(165, json!(1))));
    add("166 disks", with(&["disks"], disks(166, json!(1))));
    add("200 zero disks", with(&["disks"], disks(200, json!(0))));
    add("disks empty", with(&["disks"], json!([])));
    add("disks null", with(&["disks"], json!(null)));
    add(
        "disks object",
        with(&["disks"], json!({"a": {"capacity": 0, "name": "obj"}})),
    );
    add("disks string", with(&["disks"], json!("disk")));
    add("disks missing", without("disks"));
    // manifest and file problems (ferry rules)
    for kind in [
        "checksumMismatch",
        "missing",
        "unsafeName",
        "unsupportedAlgorithm",
        "malformed",
        "unreadable",
        "somethingNew",
    ] {
        add(
            &format!("manifest {kind}"),
            with(
                &["integrity", "manifestProblems"],
                json!([{"file": "d1.vmdk", "problem": kind}]),
            ),
        );
    }
    add(
        "manifest two problems",
        with(
            &["integrity", "manifestProblems"],
            json!([{"file": "a.vmdk", "problem": "missing"}, {"file": "b.vmdk", "problem": "checksumMismatch"}]),
        ),
    );
    add(
        "manifest problem without fields",
        with(&["integrity", "manifestProblems"], json!([{}])),
    );
    add(
        "manifest problem not object",
        with(&["integrity", "manifestProblems"], json!(["x", 1, null])),
    );
    add(
        "manifestProblems null",
        with(&["integrity", "manifestProblems"], json!(null)),
    );
    for kind in [
        "empty",
        "parentTraversal",
        "absolutePath",
        "url",
        "badCharacter",
        "missing",
        "truncated",
        "other",
    ] {
        add(
            &format!("file problem {kind}"),
            with(
                &["integrity", "fileProblems"],
                json!([{"href": "../../etc/passwd", "problem": kind}]),
            ),
        );
    }
    add(
        "file problem without href",
        with(&["integrity", "fileProblems"], json!([{"problem": "url"}])),
    );
    add("integrity null", with(&["integrity"], json!(null)));
    add("integrity missing", without("integrity"));
    // everything at once
    let mut worst = clean_vm();
    worst["name"] = json!("Bad Name!");
    worst["ovaSource"] = json!("Xen");
    worst["cpuAffinity"] = json!([1]);
    worst["memoryHotAddEnabled"] = json!(true);
    worst["disks"] = disks(170, json!(0));
    worst["integrity"]["manifestProblems"] =
        json!([{"file": "d0.vmdk", "problem": "checksumMismatch"}]);
    worst["integrity"]["fileProblems"] =
        json!([{"href": "/etc/shadow", "problem": "absolutePath"}]);
    add("everything", worst);
    // real documents: the parser's output for each OVF fixture
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ferry-ovf/tests/fixtures");
    let mut names: Vec<_> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for path in names {
        let bytes = std::fs::read(&path).unwrap();
        let env = ferry_ovf::ovf::parse(&bytes, "fixture.ovf", &Default::default()).unwrap();
        let ctx = ferry_ovf::ovf::VmContext {
            ova_path: "/nfs/fixture.ova".into(),
            disk_file_path: "/nfs/fixture.ova".into(),
            id_key: "fixture.ova".into(),
            ..Default::default()
        };
        for vm in ferry_ovf::ovf::to_vms(&env, &ctx) {
            add(
                &format!("fixture {} vm {}", path.display(), vm.name),
                serde_json::to_value(&vm).unwrap(),
            );
        }
    }
    // not VMs at all
    for v in [
        json!({}),
        json!(null),
        json!([]),
        json!("vm"),
        json!(7),
        json!(true),
        json!({"name": {}}),
    ] {
        add(&format!("input {v}"), v);
    }
    c
}

/// Deterministic random VM documents: every field drawn from a pool of good,
/// bad, missing and wrongly typed values.
fn random_cases(n: usize) -> Vec<(String, Value)> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |m: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % m as u64) as usize
    };
    let pick = |r: usize, pool: &[Value]| pool[r % pool.len()].clone();
    let names = [
        json!("web-01"),
        json!("Web 01"),
        json!(""),
        json!("a.b"),
        json!("x".repeat(64)),
        json!(null),
        json!(3),
    ];
    let sources = [
        json!("VMware"),
        json!("VirtualBox"),
        json!("Unknown"),
        json!(null),
        json!(false),
    ];
    let bools = [
        json!(true),
        json!(false),
        json!(null),
        json!("true"),
        json!(0),
    ];
    let affinity = [
        json!([]),
        json!([0, 1]),
        json!(null),
        json!("all"),
        json!({}),
    ];
    let caps = [
        json!(16),
        json!(0),
        json!(-2),
        json!(0.5),
        json!("16"),
        json!(null),
    ];
    let problems = [
        json!([]),
        json!(null),
        json!([{"file": "a", "problem": "missing"}]),
        json!([{"href": "/x", "problem": "absolutePath"}]),
        json!(["x"]),
    ];
    let mut out = Vec::new();
    for i in 0..n {
        let mut vm = serde_json::Map::new();
        let mut maybe = |key: &str, v: Value, r: usize| {
            if !r.is_multiple_of(7) {
                vm.insert(key.to_owned(), v);
            }
        };
        maybe("name", pick(next(100), &names), next(100));
        maybe("ovaSource", pick(next(100), &sources), next(100));
        maybe("cpuHotAddEnabled", pick(next(100), &bools), next(100));
        maybe("cpuHotRemoveEnabled", pick(next(100), &bools), next(100));
        maybe("memoryHotAddEnabled", pick(next(100), &bools), next(100));
        maybe("cpuAffinity", pick(next(100), &affinity), next(100));
        let disk_count = [0, 1, 2, 165, 166][next(5)];
        let disks: Vec<Value> = (0..disk_count)
            .map(|d| {
                let mut disk = json!({"capacity": pick(next(100), &caps)});
                if next(3) > 0 {
                    disk["name"] = json!(format!("d{d}.vmdk"));
                }
                if next(2) > 0 {
                    disk["filePath"] = json!("/nfs/r.ova");
                }
                disk
            })
            .collect();
        maybe("disks", Value::Array(disks), next(100));
        maybe(
            "integrity",
            json!({"manifestProblems": pick(next(100), &problems), "fileProblems": pick(next(100), &problems)}),
            next(100),
        );
        out.push((format!("random #{i}"), Value::Object(vm)));
    }
    out
}

#[test]
fn regorus_agrees_with_opa_on_every_case() {
    if ferry_testutil::peer("ferry-opa-python").is_none() {
        return;
    }
    let mut cases = cases();
    cases.extend(random_cases(400));
    let concern_ids = common::assert_agree("ova", &cases);
    // The table exercises every shipped concern.
    let want = [
        "ferry.ova.file.reference.invalid",
        "ferry.ova.manifest.checksum.mismatch",
        "ova.cpu_affinity.detected",
        "ova.cpu_memory.hotplug.enabled",
        "ova.disk.capacity.invalid",
        "ova.disk.count.exceeds.limit",
        "ova.name.invalid",
        "ova.source.unsupported",
    ];
    assert_eq!(
        concern_ids.iter().map(String::as_str).collect::<Vec<_>>(),
        want
    );
}

#[test]
fn rules_version_agrees_with_opa() {
    if ferry_testutil::peer("ferry-opa-python").is_none() {
        return;
    }
    common::assert_rules_version_agrees("ova");
}
