use super::*;
use crate::model::{FileProblemKind, OvaSource, Vm};

const VMWARE: &str = include_str!("../../tests/fixtures/vmware-ovftool.ovf");
const VBOX: &str = include_str!("../../tests/fixtures/virtualbox.ovf");
const MINIMAL: &str = include_str!("../../tests/fixtures/minimal.ovf");
const HOSTILE: &str = include_str!("../../tests/fixtures/hostile-hrefs.ovf");
const MULTI: &str = include_str!("../../tests/fixtures/multi-system.ovf");
const OVF09: &str = include_str!("../../tests/fixtures/vmware-ovf09.ovf");

fn vms(text: &str) -> Vec<Vm> {
    let env = parse(text.as_bytes(), "test.ovf", &ParseOptions::default()).expect("parses");
    let ctx = VmContext {
        ova_path: "/nfs/app/test.ova".into(),
        disk_file_path: "/nfs/app/test.ova".into(),
        id_key: "app/test.ova".into(),
        ..Default::default()
    };
    to_vms(&env, &ctx)
}

#[test]
fn vmware_ovftool_export() {
    let vms = vms(VMWARE);
    assert_eq!(vms.len(), 1);
    let vm = &vms[0];
    assert_eq!(vm.name, "rhel9-web");
    assert_eq!(vm.ova_source, OvaSource::VMware);
    assert_eq!(vm.os_type, "rhel9_64Guest");
    assert_eq!(vm.os_id, Some(80));
    assert_eq!(vm.firmware, "efi");
    assert!(vm.secure_boot);
    assert_eq!(vm.uuid, "42256329-8c3a-2a82-54fd-01d845a8bf49");
    assert_eq!(vm.id.len(), 36, "non-UUID ovf:id gives a derived id");
    assert_ne!(vm.id, vm.uuid);
    assert_eq!(vm.cpu_count, 4);
    assert_eq!(vm.cores_per_socket, 2);
    assert_eq!(vm.cpu_units, "hertz * 10^6");
    assert_eq!(vm.memory_mb, 8192);
    assert_eq!(vm.memory_units, "byte * 2^20");
    assert!(vm.cpu_hot_add_enabled);
    assert!(!vm.cpu_hot_remove_enabled);
    assert!(!vm.memory_hot_add_enabled);
    assert_eq!(vm.cpu_affinity, vec![0, 2]);

    assert_eq!(vm.disks.len(), 2);
    let d1 = &vm.disks[0];
    assert_eq!(d1.name, "rhel9-web-disk1.vmdk");
    assert_eq!(d1.capacity, 40);
    assert_eq!(d1.capacity_allocation_units, "byte * 2^30");
    assert_eq!(d1.capacity_bytes, 40 << 30);
    assert_eq!(d1.populated_size, 3_758_096_384);
    assert_eq!(d1.file_size, 1_342_177_280);
    assert_eq!(d1.disk_id, "vmdisk1");
    assert_eq!(d1.file_ref, "file1");
    assert!(d1.format.ends_with("#streamOptimized"));
    assert_eq!(d1.file_path, "/nfs/app/test.ova");
    assert_eq!(
        (d1.bus.as_str(), d1.controller.as_str()),
        ("scsi", "VirtualSCSI")
    );
    assert_eq!(d1.unit_number, Some(0));
    let d2 = &vm.disks[1];
    assert_eq!(d2.capacity_bytes, 10 << 30);
    assert_eq!(
        (d2.bus.as_str(), d2.controller.as_str()),
        ("sata", "vmware.sata.ahci")
    );
    assert_ne!(d1.id, d2.id);
    assert_eq!(vm.storage_used, 3_758_096_384 + 73_728);

    assert_eq!(vm.nics.len(), 2);
    assert_eq!(vm.nics[0].name, "Network adapter 1");
    assert_eq!(vm.nics[0].mac, "00:50:56:8a:3c:01");
    assert_eq!(vm.nics[0].network, "VM Network");
    assert_eq!(vm.nics[0].model, "VmxNet3");
    assert_eq!(vm.nics[0].config[0].key, "slotInfo.pciSlotNumber");
    assert_eq!(vm.nics[0].config[0].value, "192");
    assert_eq!(vm.nics[1].mac, "00:50:56:8a:3c:02", "MACs are lower-cased");
    assert_eq!(vm.nics[1].network, "Storage Network");
    assert_eq!(vm.nics[1].model, "E1000e");

    let names: Vec<&str> = vm.networks.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["VM Network", "Storage Network"]);
    let kinds: Vec<&str> = vm.devices.iter().map(|d| d.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "SCSI controller",
            "SATA controller",
            "USB controller",
            "CD/DVD drive",
            "Video card"
        ]
    );
}

#[test]
fn vmware_json_uses_forklift_names() {
    let vm = &vms(VMWARE)[0];
    let json = serde_json::to_value(vm).expect("serialises");
    for key in [
        "name",
        "ovaPath",
        "ovaSource",
        "osType",
        "uuid",
        "firmware",
        "cpuAffinity",
        "cpuHotAddEnabled",
        "cpuHotRemoveEnabled",
        "memoryHotAddEnabled",
        "cpuCount",
        "coresPerSocket",
        "memoryMB",
        "disks",
        "nics",
        "networks",
    ] {
        assert!(json.get(key).is_some(), "missing key {key}");
    }
    assert_eq!(json["ovaSource"], "VMware");
    let disk = &json["disks"][0];
    for key in [
        "capacity",
        "capacityAllocationUnits",
        "populatedSize",
        "format",
        "filePath",
        "fileRef",
        "diskId",
        "parentRef",
    ] {
        assert!(disk.get(key).is_some(), "missing disk key {key}");
    }
    let back: Vm = serde_json::from_value(json).expect("round trip");
    assert_eq!(&back, vm);
}

#[test]
fn virtualbox_export() {
    let vms = vms(VBOX);
    let vm = &vms[0];
    assert_eq!(vm.ova_source, OvaSource::VirtualBox);
    assert_eq!(
        vm.name, "Debian 12",
        "ovf:id is the name when <Name> is absent"
    );
    assert_eq!(vm.os_type, "Debian_64");
    assert_eq!(vm.os_id, Some(96));
    assert_eq!(vm.firmware, "efi");
    assert_eq!(vm.uuid, "8a2d3c1e-5b6f-4e7a-9c0d-1e2f3a4b5c6d");
    assert_eq!(vm.cpu_count, 2);
    assert_eq!(vm.cores_per_socket, 1);
    assert_eq!(vm.memory_mb, 2048);
    assert_eq!(vm.disks.len(), 1);
    let d = &vm.disks[0];
    assert_eq!(d.name, "Debian 12-disk001.vmdk");
    assert_eq!(d.capacity, 21_474_836_480);
    assert_eq!(d.capacity_allocation_units, "byte");
    assert_eq!(d.capacity_bytes, 21_474_836_480);
    assert_eq!((d.bus.as_str(), d.controller.as_str()), ("sata", "AHCI"));
    assert_eq!(vm.nics.len(), 1);
    assert_eq!(vm.nics[0].network, "NAT");
    assert_eq!(vm.nics[0].mac, "");
    assert_eq!(vm.nics[0].model, "E1000");
}

#[test]
fn minimal_envelope() {
    let vms = vms(MINIMAL);
    let vm = &vms[0];
    assert_eq!(vm.name, "Tiny VM");
    assert_eq!(vm.ova_source, OvaSource::Unknown);
    assert_eq!(vm.id, "8f0e4a3c-1b2d-4c5e-9f60-718293a4b5c6");
    assert_eq!(vm.uuid, vm.id);
    assert_eq!(vm.firmware, "bios");
    assert!(vm.disks.is_empty() && vm.nics.is_empty());
    assert_eq!(vm.cpu_count, 0);
}

#[test]
fn hostile_references_are_flagged_not_followed() {
    let env = parse(HOSTILE.as_bytes(), "h.ovf", &ParseOptions::default()).expect("parses");
    let problems: Vec<_> = env.files.iter().map(|f| f.path.clone()).collect();
    assert_eq!(
        problems,
        vec![
            Err(FileProblemKind::ParentTraversal),
            Err(FileProblemKind::AbsolutePath),
            Err(FileProblemKind::Url),
            Ok("ok-disk.vmdk".to_owned()),
        ]
    );
    assert_eq!(env.files[3].size, None);
    let vm = &vms(HOSTILE)[0];
    let caps: Vec<(i64, i64)> = vm
        .disks
        .iter()
        .map(|d| (d.capacity, d.capacity_bytes))
        .collect();
    assert_eq!(caps, vec![(1, 1 << 30), (0, 0), (i64::MAX, 0), (-5, 0)]);
    assert_eq!(vm.cpu_count, i32::MAX);
    assert_eq!(vm.cores_per_socket, 1);
}

#[test]
fn multi_system_collection_splits_disks() {
    let vms = vms(MULTI);
    assert_eq!(vms.len(), 2);
    assert_eq!(vms[0].name, "web");
    assert_eq!(vms[0].disks.len(), 1);
    assert_eq!(vms[0].disks[0].bus, "ide");
    assert_eq!(vms[0].disks[0].controller, "PIIX4");
    assert_eq!(vms[1].disks.len(), 1);
    assert_eq!(vms[1].disks[0].bus, "nvme");
    assert_ne!(vms[0].id, vms[1].id);
}

#[test]
fn source_guess_follows_namespaces() {
    let with_ns = |ns: &str| {
        format!(
            r#"<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" {ns}><VirtualSystem id="a"/></Envelope>"#
        )
    };
    let cases = [
        (
            r#"xmlns:vmw="http://www.vmware.com/schema/ovf""#,
            OvaSource::VMware,
        ),
        (
            r#"xmlns:vmw="http://www.vmware.com/schema/ovf" xmlns:vbox="http://www.virtualbox.org/ovf/machine""#,
            OvaSource::VirtualBox,
        ),
        (
            r#"xmlns:x="http://schemas.citrix.com/ovf/envelope/1""#,
            OvaSource::Xen,
        ),
        (
            r#"xmlns:x="http://www.citrix.com/xenclient/ovf/1""#,
            OvaSource::Xen,
        ),
        (r#"xmlns:o="http://www.ovirt.org/ovf""#, OvaSource::Ovirt),
        ("", OvaSource::Unknown),
    ];
    for (ns, want) in cases {
        let env = parse(with_ns(ns).as_bytes(), "s.ovf", &ParseOptions::default()).expect("parses");
        assert_eq!(env.source, want, "namespaces {ns}");
    }
}

#[test]
fn dtd_and_entity_expansion_refused() {
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE Envelope [
 <!ENTITY a "aaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<Envelope><VirtualSystem id="x"><Name>&c;</Name></VirtualSystem></Envelope>"#;
    let err = parse(laughs.as_bytes(), "laughs.ovf", &ParseOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Xml);
    assert!(err.to_string().contains("laughs.ovf"));
    assert!(err.to_string().contains("DTDs are refused"), "{err}");
    let xxe = r#"<!DOCTYPE Envelope [<!ENTITY x SYSTEM "file:///etc/passwd">]><Envelope><VirtualSystem id="x"><Name>&x;</Name></VirtualSystem></Envelope>"#;
    assert_eq!(
        parse(xxe.as_bytes(), "xxe.ovf", &ParseOptions::default())
            .unwrap_err()
            .kind(),
        ErrorKind::Xml
    );
}

#[test]
fn limits_are_enforced() {
    let opts = ParseOptions {
        max_bytes: 64,
        ..Default::default()
    };
    let err = parse(VMWARE.as_bytes(), "big.ovf", &opts).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Limit);
    let opts = ParseOptions {
        max_nodes: 50,
        ..Default::default()
    };
    assert_eq!(
        parse(VMWARE.as_bytes(), "n.ovf", &opts).unwrap_err().kind(),
        ErrorKind::Xml
    );
    let opts = ParseOptions {
        max_entries: 1,
        ..Default::default()
    };
    assert_eq!(
        parse(VMWARE.as_bytes(), "e.ovf", &opts).unwrap_err().kind(),
        ErrorKind::Limit
    );
}

#[test]
fn rejects_non_envelopes_and_garbage() {
    let cases: &[&[u8]] = &[
        b"",
        b"not xml",
        b"<Foo/>",
        b"<Envelope/>",
        b"<Envelope><VirtualSystem></Envelope>",
        b"\xff\xfe<\x00",
    ];
    for bytes in cases {
        assert!(
            parse(bytes, "g.ovf", &ParseOptions::default()).is_err(),
            "{bytes:?} should be refused"
        );
    }
}

#[test]
fn utf8_bom_accepted() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(MINIMAL.as_bytes());
    assert!(parse(&bytes, "bom.ovf", &ParseOptions::default()).is_ok());
}

#[test]
fn capacity_from_product_section_property() {
    let doc = r#"<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
  <DiskSection><Info>d</Info>
    <Disk ovf:capacity="${generatedDiskSizeMB}" ovf:capacityAllocationUnits="byte * 2^20" ovf:diskId="vmdisk1"/>
    <Disk ovf:capacity="${unknown}" ovf:diskId="vmdisk2"/>
  </DiskSection>
  <VirtualSystem ovf:id="t"><Name>t</Name>
    <ProductSection><Info>p</Info>
      <Property ovf:key="generatedDiskSizeMB" ovf:type="int" ovf:value="4096"/>
    </ProductSection>
  </VirtualSystem>
</Envelope>"#;
    let env = parse(doc.as_bytes(), "p.ovf", &ParseOptions::default()).unwrap();
    assert_eq!(env.disks[0].capacity, 4096);
    assert_eq!(env.disks[0].capacity_bytes, Some(4096 << 20));
    assert_eq!(env.disks[0].capacity_text, "${generatedDiskSizeMB}");
    assert_eq!(
        env.disks[1].capacity, 0,
        "an unresolved reference stays 0 (a Critical concern)"
    );
}

#[test]
fn ovf_0_9_sections_and_content_are_read() {
    let found = vms(OVF09);
    assert_eq!(found.len(), 1, "{found:?}");
    let vm = &found[0];
    assert_eq!(vm.name, "legacy-vm");
    assert_eq!(vm.ova_source, OvaSource::VMware);
    assert_eq!(vm.os_id, Some(36));
    assert_eq!(vm.cpu_count, 2);
    assert_eq!(vm.memory_mb, 512);
    assert_eq!(vm.disks.len(), 1);
    assert_eq!(vm.disks[0].capacity_bytes, 8 << 30);
    assert_eq!(vm.disks[0].file_path, "/nfs/app/test.ova");
    assert_eq!(vm.nics.len(), 1);
    assert_eq!(vm.nics[0].network, "VM Network");
    assert_eq!(vm.networks.len(), 1);
    // The same descriptor under DMTF's 0.9 namespace reads the same.
    let dmtf = OVF09.replace(
        "http://www.vmware.com/schema/ovf/1/envelope",
        "http://schemas.dmtf.org/ovf/envelope/0.9",
    );
    let again = vms(&dmtf);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].disks.len(), 1);
    assert_eq!(again[0].memory_mb, 512);
}

#[test]
fn a_content_element_of_another_type_is_no_virtual_system() {
    let text = r#"<Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Content xsi:type="ovf:Other_Type" id="x"/></Envelope>"#;
    let err = parse(text.as_bytes(), "o.ovf", &ParseOptions::default()).unwrap_err();
    assert!(err.to_string().contains("has no VirtualSystem"), "{err}");
}

#[test]
fn xml_errors_mention_dtds_only_when_there_is_one() {
    let err = parse(
        b"<Envelope><VirtualSystem>",
        "cut.ovf",
        &ParseOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Xml);
    let msg = err.to_string();
    assert!(msg.contains("cut.ovf is not well-formed XML"), "{msg}");
    assert!(!msg.contains("DTD"), "{msg}");
}
