//! End to end: build the sample OVAs with examples/ova/build.sh (real
//! qemu-img streamOptimized disks), run `ferry migrate` on the embedded
//! default, and check what users check: every disk `qemu-img compare`
//! identical to its source, VirtualMachine and DataVolume manifests valid
//! against KubeVirt's and CDI's OpenAPI, MACs/CPU/memory/firmware carried
//! over; a cancelled VM leaves nothing behind; a rerun resumes.
#![allow(clippy::unwrap_used)]

mod common;

use common::{compare_disks, ferry, manifests, sample, yaml};
use serde_json::Value;

#[test]
fn migrate_sample_ovas_end_to_end() {
    let Some(work) = sample("") else { return };
    let work = work.path();
    let out = ferry(work, &["-o", "json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "ferry migrate failed:\n{stdout}\n{stderr}"
    );
    let summary: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary.len(), 4, "{stdout}");
    assert!(
        summary.iter().all(|r| r["result"] == "Succeeded"),
        "{stdout}"
    );

    // The invalid source name was sanitised.
    let targets: Vec<&str> = summary
        .iter()
        .map(|r| r["target"].as_str().unwrap())
        .collect();
    assert!(targets.contains(&"concern-vm-01"), "{targets:?}");

    // Every disk identical to its source.
    let compared: usize = targets.iter().map(|vm| compare_disks(work, vm)).sum();
    assert_eq!(
        compared, 5,
        "two-disk-bios has 2 disks, the other three 1 each"
    );

    // The VM carries the source's MACs, CPU topology, memory and firmware.
    let vm = yaml(&manifests(work, "two-disk-bios").join("virtualmachine.yaml"));
    let domain = &vm["spec"]["template"]["spec"]["domain"];
    let macs: Vec<&str> = domain["devices"]["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["macAddress"].as_str().unwrap())
        .collect();
    assert_eq!(macs, ["00:50:56:a1:00:01", "00:50:56:a1:00:02"]);
    assert_eq!(domain["cpu"]["sockets"], 2);
    assert_eq!(domain["cpu"]["cores"], 1);
    assert_eq!(domain["memory"]["guest"], "2048Mi");
    assert!(domain["firmware"]["bootloader"]["bios"].is_object());
    let nets = vm["spec"]["template"]["spec"]["networks"]
        .as_array()
        .unwrap();
    assert!(nets[0]["pod"].is_object());
    assert_eq!(nets[1]["multus"]["networkName"], "demo-vms/storage-net");
    assert_eq!(vm["spec"]["runStrategy"], "Halted");
    let efi = yaml(&manifests(work, "efi-vm").join("virtualmachine.yaml"));
    assert!(efi["spec"]["template"]["spec"]["domain"]["firmware"]["bootloader"]["efi"].is_object());
    assert_eq!(efi["spec"]["runStrategy"], "Always", "targetPowerState: on");
    assert_eq!(
        efi["spec"]["template"]["spec"]["domain"]["cpu"]["sockets"],
        2
    );
    assert_eq!(efi["spec"]["template"]["spec"]["domain"]["cpu"]["cores"], 2);

    // Output that a real cluster accepts.
    {
        let doc = ferry_testutil::upstream_schema("kubevirt/kubevirt-swagger.json");
        let schemas = ferry_core::openapi::Schemas::swagger(&doc);
        for t in &targets {
            let report = schemas.validate_definition(
                "v1.VirtualMachine",
                &yaml(&manifests(work, t).join("virtualmachine.yaml")),
            );
            assert!(
                report.strict_errors().is_empty(),
                "{t}: {:?}",
                report.strict_errors()
            );
        }
    }
    {
        let doc = ferry_testutil::upstream_schema("kubevirt/cdi-swagger.json");
        let schemas = ferry_core::openapi::Schemas::swagger(&doc);
        let dv = yaml(&manifests(work, "efi-vm").join("datavolume-ova-demo-efi-vm-disk-0.yaml"));
        let report = schemas.validate_definition("v1beta1.DataVolume", &dv);
        assert!(
            report.strict_errors().is_empty(),
            "{:?}",
            report.strict_errors()
        );
    }

    // A second run with the same data dir finds the migration finished and
    // copies nothing again.
    let again = ferry(work, &["-o", "json"]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

#[test]

fn corrupt_ova_is_a_clear_failure_and_touches_nothing_outside() {
    let vms = ["bad-checksum", "traversal", "missing-file", "truncated"];
    let list: String = vms.iter().map(|v| format!("    - name: {v}\n")).collect();
    let Some(work) = sample(&format!("  vms:\n{list}")) else {
        return;
    };
    let work = work.path();
    // Point the provider at the corrupt packages.
    let text = std::fs::read_to_string(work.join("migration.yaml"))
        .unwrap()
        .replace("sample/appliances", "sample/corrupt");
    std::fs::write(work.join("migration.yaml"), text).unwrap();
    let out = ferry(work, &["--timeout", "120"]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success(),
        "VMs from corrupt packages must not migrate:\n{all}"
    );
    assert!(all.contains("the plan cannot run"), "{all}");
    assert!(all.contains("VMCriticalConcerns"), "{all}");
    for vm in vms {
        assert!(all.contains(&format!("name={vm}")), "{vm}: {all}");
    }
    // Nothing was written for them.
    let volumes = work.join("data/local/volumes");
    assert!(
        !volumes.exists() || walk(&volumes).is_empty(),
        "{:?}",
        walk(&volumes)
    );

    // `ferry plan describe` names each VM's concern.
    let described = common::run_ferry(&[
        "plan",
        "describe",
        "ova-demo",
        "--data-dir",
        work.join("data").to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&described.stdout).to_string();
    assert!(described.status.success(), "{text}");
    for (vm, concern) in [
        (
            "bad-checksum",
            "Manifest check failed for 'bad-checksum-disk1.vmdk'",
        ),
        (
            "traversal",
            "File reference '../../etc/passwd' cannot be used",
        ),
        (
            "missing-file",
            "File reference 'missing-file-disk1.vmdk' cannot be used",
        ),
        (
            "truncated",
            "File reference 'truncated-disk1.vmdk' cannot be used",
        ),
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(vm))
            .unwrap_or_else(|| panic!("{vm} missing:\n{text}"));
        assert!(line.contains(&format!("Critical: {concern}")), "{line}");
    }
    assert!(text.contains("VMCriticalConcerns"), "{text}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
