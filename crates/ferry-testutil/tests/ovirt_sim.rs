//! The oVirt engine simulator answers the official Python SDK, and its
//! image transfers serve the real disks through the real imageio daemon.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use ferry_testutil::{
    Scenario, SimDisk, SimNic, SimVm, images_identical, ovirt_script, ovirt_sim, qemu_img,
    qemu_io_write, run, tempdir,
};

#[test]
fn python_sdk_and_imageio_client_work_against_the_simulator() {
    let dir = tempdir();
    let d1 = dir.path().join("d1.qcow2");
    let d2 = dir.path().join("d2.raw");
    qemu_img(&["create", "-f", "qcow2", d1.to_str().unwrap(), "64M"]);
    qemu_io_write(&d1, "qcow2", 7, 1 << 20, 2 << 20);
    qemu_img(&["create", "-f", "raw", d2.to_str().unwrap(), "32M"]);
    qemu_io_write(&d2, "raw", 9, 4 << 20, 1 << 20);
    let mut file_disk = SimDisk::new(&d2, "data2");
    file_disk.backend = "file".into();
    let scenario = Scenario {
        vms: vec![SimVm {
            name: "vm1".into(),
            sockets: 2,
            cores: 2,
            bios: "q35_secure_boot".into(),
            nics: vec![
                SimNic {
                    mac: "56:6f:00:00:00:01".into(),
                    profile: "ovirtmgmt".into(),
                },
                SimNic {
                    mac: "56:6f:00:00:00:02".into(),
                    profile: "vmnet".into(),
                },
            ],
            disks: vec![SimDisk::new(&d1, "data1"), file_disk],
            ..SimVm::default()
        }],
        ..Scenario::default()
    };
    let Some(sim) = ovirt_sim(&scenario) else {
        return;
    };
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let python = ferry_testutil::which("ferry-ovirt-python").unwrap();
    let out = run(Command::new(python)
        .arg(ovirt_script("sdk_client.py"))
        .arg(sim.info_file())
        .arg("vm1")
        .arg(&out_dir));
    let seen: serde_json::Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("sdk client output {out:?}: {e}\n{}", sim.log()));

    assert_eq!(seen["vm"]["name"], "vm1");
    assert_eq!(seen["vm"]["status"], "up");
    assert_eq!(seen["vm"]["memory"], 2u64 << 30);
    assert_eq!(seen["vm"]["topology"], serde_json::json!([2, 2, 1]));
    assert_eq!(seen["vm"]["bios"], "q35_secure_boot");
    assert_eq!(
        seen["nics"],
        serde_json::json!([
            {"mac": "56:6f:00:00:00:01", "profile": "ovirtmgmt"},
            {"mac": "56:6f:00:00:00:02", "profile": "vmnet"}
        ])
    );
    assert_eq!(
        seen["storage_domains"],
        serde_json::json!(["data1", "data2"])
    );
    assert_eq!(seen["status_after_shutdown"], "down");
    assert_eq!(
        seen["snapshots"],
        serde_json::json!(["Active VM", "ferry sdk check"])
    );
    assert_eq!(
        seen["snapshots_after_remove"],
        serde_json::json!(["Active VM"])
    );

    let disks = seen["disks"].as_array().unwrap();
    assert_eq!(disks.len(), 2);
    for (disk, (src, sd, fmt)) in disks
        .iter()
        .zip([(&d1, "data1", "cow"), (&d2, "data2", "raw")])
    {
        assert_eq!(disk["storage_domain"], sd);
        assert_eq!(disk["format"], fmt);
        assert_eq!(disk["phase_after_finalize"], "finished_success");
        let got = std::path::PathBuf::from(disk["file"].as_str().unwrap());
        assert!(
            images_identical(&got, src),
            "{} differs from {}",
            got.display(),
            src.display()
        );
    }

    let state = sim.state();
    assert_eq!(state.transfers.len(), 2);
    assert!(
        state
            .transfers
            .iter()
            .all(|t| t.phase == "finished_success")
    );
    // Through NBD only the 2 MiB written to the qcow2 disk were read.
    assert_eq!(state.transfers[0].transferred, 2 << 20);
    assert!(state.disks.values().all(|s| s == "ok"), "{state:?}");
    assert!(
        state.actions.iter().any(|a| a.starts_with("shutdown ")),
        "{state:?}"
    );
}
