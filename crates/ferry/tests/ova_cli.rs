//! `ferry ova scan` over the sample appliances of `examples/ova/build.sh`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

#[test]
fn ova_scan_lists_vms_and_concerns() {
    if ferry_testutil::peer("qemu-img").is_none() || ferry_testutil::peer("qemu-io").is_none() {
        return;
    }
    let tmp = ferry_testutil::tempdir();
    let out = tmp.path().join("samples");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/ova/build.sh");
    ferry_testutil::run(Command::new("bash").arg(script).arg(&out));
    let ferry = env!("CARGO_BIN_EXE_ferry");

    let json = ferry_testutil::run(
        Command::new(ferry)
            .args(["ova", "scan", "-o", "json"])
            .arg(out.join("appliances")),
    );
    let vms: Vec<Value> = serde_json::from_str(&json).unwrap();
    assert_eq!(vms.len(), 4);
    let concerns = |name: &str| -> Vec<String> {
        let vm = vms.iter().find(|v| v["name"] == name).unwrap();
        assert_eq!(vm["rulesVersion"], 6);
        vm["concerns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(concerns("two-disk-bios").is_empty());
    assert!(concerns("efi-vm").is_empty());
    assert_eq!(
        concerns("Concern VM_01"),
        ["ova.cpu_memory.hotplug.enabled", "ova.name.invalid"]
    );

    // Critical concerns: the table is printed, and the exit status is 1.
    let corrupt = ferry_testutil::run_output(
        Command::new(ferry)
            .args(["ova", "scan"])
            .arg(out.join("corrupt")),
    );
    assert_eq!(corrupt.status.code(), Some(1));
    let table = String::from_utf8_lossy(&corrupt.stdout);
    for line in ["bad-checksum", "missing-file", "traversal", "truncated"] {
        let row = table.lines().find(|l| l.starts_with(line)).unwrap();
        assert!(row.contains("Critical:"), "{row}");
    }
    let stderr = String::from_utf8_lossy(&corrupt.stderr);
    assert!(stderr.contains("have Critical concerns"), "{stderr}");
    assert!(stderr.contains("bad-checksum"), "{stderr}");

    let nfs = ferry_testutil::run_output(Command::new(ferry).args([
        "ova",
        "scan",
        "nfs://ferry-test-nas/none",
    ]));
    assert!(!nfs.status.success());
    assert!(String::from_utf8_lossy(&nfs.stderr).contains("not mounted"));
}

#[test]
fn ova_scan_fails_when_its_only_descriptor_cannot_be_read() {
    let tmp = ferry_testutil::tempdir();
    let dir = tmp.path().join("broken");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("broken.ovf"), "<Envelope><VirtualSystem>").unwrap();
    let out = ferry_testutil::run_output(
        Command::new(env!("CARGO_BIN_EXE_ferry"))
            .args(["ova", "scan"])
            .arg(tmp.path()),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("broken.ovf"), "{stderr}");
    assert!(stderr.contains("not well-formed XML"), "{stderr}");
    assert!(!stderr.contains("DTD"), "{stderr}");
    assert!(stderr.contains("no package under"), "{stderr}");
}
