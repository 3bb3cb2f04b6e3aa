//! `ferry transfer` outside a transfer pod: clear errors for a missing or
//! malformed spec, and a refusal to write into a PVC that is not mounted.
#![allow(clippy::unwrap_used)]

use std::process::Command;

fn transfer(spec: Option<&str>, volumes: &std::path::Path) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferry"));
    cmd.arg("transfer").arg("--volumes").arg(volumes);
    cmd.env_remove("FERRY_TRANSFER_SPEC").env_remove("POD_NAME");
    if let Some(s) = spec {
        cmd.env("FERRY_TRANSFER_SPEC", s);
    }
    cmd.output().unwrap()
}

#[test]
fn transfer_outside_a_pod_says_what_is_missing() {
    let dir = ferry_testutil::tempdir();
    let out = transfer(None, dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("FERRY_TRANSFER_SPEC is not set"), "{err}");

    let out = transfer(Some("{\"disks\": 3}"), dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("is not a transfer spec"), "{err}");

    // A PVC that is not mounted is refused by name, nothing is created.
    let spec = serde_json::json!({
        "namespace": "vms", "verify": false, "workers": 0,
        "disks": [{"pvc": "vm1-disk-0", "capacity": 1048576, "source": "d.vmdk",
                   "location": {"type": "ova", "package": "/nonexistent/a.ova", "href": "d.vmdk"}}]
    })
    .to_string();
    let out = transfer(Some(&spec), dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("vm1-disk-0 is not mounted"), "{err}");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}
