use std::fs;
use std::path::Path;

use super::*;
use crate::inventory::{FailureReason, Inventory, InventoryOptions};
use crate::store::Store;

/// A small VMware-style descriptor: `cpus` vCPUs, one disk per entry of
/// `disks` (file name, capacity in MiB), one NIC per network.
fn descriptor(name: &str, cpus: u32, disks: &[(&str, u32)], networks: &[&str]) -> String {
    let files: String = disks
        .iter()
        .enumerate()
        .map(|(i, (f, _))| format!(r#"<File ovf:href="{f}" ovf:id="file{i}"/>"#))
        .collect();
    let disk_section: String = disks
        .iter()
        .enumerate()
        .map(|(i, (_, mib))| {
            format!(
                r#"<Disk ovf:capacity="{mib}" ovf:capacityAllocationUnits="byte * 2^20" ovf:diskId="vmdisk{i}" ovf:fileRef="file{i}" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>"#
            )
        })
        .collect();
    let nets: String = networks
        .iter()
        .map(|n| format!(r#"<Network ovf:name="{n}"><Description>{n}</Description></Network>"#))
        .collect();
    let mut items = format!(
        r#"<Item><rasd:ElementName>cpu</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>{cpus}</rasd:VirtualQuantity></Item>
<Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>mem</rasd:ElementName><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>1024</rasd:VirtualQuantity></Item>
<Item><rasd:Address>0</rasd:Address><rasd:ElementName>SCSI controller 0</rasd:ElementName><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceSubType>lsilogic</rasd:ResourceSubType><rasd:ResourceType>6</rasd:ResourceType></Item>"#
    );
    for (i, _) in disks.iter().enumerate() {
        items.push_str(&format!(
            r#"<Item><rasd:AddressOnParent>{i}</rasd:AddressOnParent><rasd:ElementName>Hard disk {i}</rasd:ElementName><rasd:HostResource>ovf:/disk/vmdisk{i}</rasd:HostResource><rasd:InstanceID>{}</rasd:InstanceID><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>"#,
            10 + i
        ));
    }
    for (i, n) in networks.iter().enumerate() {
        items.push_str(&format!(
            r#"<Item><rasd:Address>00:50:56:00:00:{i:02x}</rasd:Address><rasd:Connection>{n}</rasd:Connection><rasd:ElementName>Network adapter {i}</rasd:ElementName><rasd:InstanceID>{}</rasd:InstanceID><rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>"#,
            20 + i
        ));
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData">
<References>{files}</References>
<DiskSection><Info>disks</Info>{disk_section}</DiskSection>
<NetworkSection><Info>nets</Info>{nets}</NetworkSection>
<VirtualSystem ovf:id="{name}"><Info>vm</Info><Name>{name}</Name>
<OperatingSystemSection ovf:id="80" vmw:osType="rhel9_64Guest"><Info>os</Info></OperatingSystemSection>
<VirtualHardwareSection><Info>hw</Info>{items}
<vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="efi"/>
</VirtualHardwareSection></VirtualSystem></Envelope>"#
    )
}

fn write_ova(path: &Path, name: &str, cpus: u32, disks: &[(&str, u32)], networks: &[&str]) {
    write_ova_with(path, name, cpus, disks, networks, None);
}

/// [`write_ova`] with an optional `.mf` manifest text.
fn write_ova_with(
    path: &Path,
    name: &str,
    cpus: u32,
    disks: &[(&str, u32)],
    networks: &[&str],
    manifest: Option<&str>,
) {
    let desc = descriptor(name, cpus, disks, networks);
    let mut b = tar::Builder::new(Vec::new());
    let mut members: Vec<(String, Vec<u8>)> = vec![(format!("{name}.ovf"), desc.into_bytes())];
    if let Some(mf) = manifest {
        members.push((format!("{name}.mf"), mf.as_bytes().to_vec()));
    }
    for (f, _) in disks {
        members.push(((*f).to_owned(), format!("disk data of {f}").into_bytes()));
    }
    for (member, data) in members {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, member, data.as_slice()).unwrap();
    }
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, b.into_inner().unwrap()).unwrap();
}

fn info(uid: &str, url: &Path) -> ProviderInfo {
    ProviderInfo {
        uid: uid.into(),
        namespace: "konveyor-forklift".into(),
        name: "ova-provider".into(),
        provider_type: OVA.into(),
        url: url.display().to_string(),
        resource_version: "1".into(),
        object: Value::Null,
    }
}

fn test_options() -> OvaOptions {
    OvaOptions {
        verify_manifests: true,
        min_age: None,
    }
}

/// Two OVAs (one in a sub-folder), an extracted package, and a broken file.
fn build_root(root: &Path) {
    write_ova(
        &root.join("web.ova"),
        "web",
        2,
        &[("web-disk1.vmdk", 10), ("web-disk2.vmdk", 20)],
        &["VM Network", "Prod"],
    );
    write_ova(
        &root.join("team/db.ova"),
        "db",
        4,
        &[("db-disk1.vmdk", 30)],
        &["VM Network"],
    );
    let pkg = root.join("extracted/app");
    fs::create_dir_all(&pkg).unwrap();
    fs::write(
        pkg.join("app.ovf"),
        descriptor("app", 1, &[("app-disk1.vmdk", 5)], &["Prod"]),
    )
    .unwrap();
    fs::write(pkg.join("app-disk1.vmdk"), b"app disk").unwrap();
    fs::write(root.join("broken.ova"), b"this is not a tar archive at all").unwrap();
}

fn names(s: &Snapshot, collection: &str) -> Vec<String> {
    let mut v: Vec<String> = s
        .collections()
        .find(|(c, _)| *c == collection)
        .map(|(_, l)| l.iter().map(|r| r.name.clone()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn scan_produces_forklift_ova_collections() {
    let tmp = tempfile::tempdir().unwrap();
    build_root(tmp.path());
    let c = OvaCollector::new(&info("uid-1", tmp.path()), test_options()).unwrap();
    let snap = c.collect_blocking().unwrap();

    assert_eq!(names(&snap, VMS), ["app", "db", "web"]);
    assert_eq!(
        names(&snap, "disks"),
        [
            "app-disk1.vmdk",
            "db-disk1.vmdk",
            "web-disk1.vmdk",
            "web-disk2.vmdk"
        ]
    );
    // Networks are shared by name across appliances.
    assert_eq!(names(&snap, "networks"), ["Prod", "VM Network"]);
    let storages: Vec<_> = snap
        .collections()
        .find(|(c, _)| *c == "storages")
        .unwrap()
        .1
        .to_vec();
    assert_eq!(storages.len(), 1);
    assert_eq!(storages[0].id, "uid-1");
    assert_eq!(
        storages[0].name,
        "Dummy storage for source provider ova-provider"
    );
    assert_eq!(storages[0].kind, STORAGE_KIND);

    let (_, vms) = snap.collections().find(|(c, _)| *c == VMS).unwrap();
    let web = vms.iter().find(|v| v.name == "web").unwrap();
    assert_eq!(web.kind, VM_KIND);
    assert_eq!(web.object["cpuCount"], 2);
    assert_eq!(web.object["firmware"], "efi");
    assert_eq!(web.object["disks"].as_array().unwrap().len(), 2);
    assert_eq!(web.object["nics"].as_array().unwrap().len(), 2);
    assert!(web.object["ovaPath"].as_str().unwrap().ends_with("web.ova"));
    // Current Forklift's names too.
    assert_eq!(web.object["ovfPath"], web.object["ovaPath"]);
    assert_eq!(web.object["exportSource"], web.object["ovaSource"]);
    assert_eq!(web.object["disks"][0]["FilePath"], web.object["ovaPath"]);
    assert_eq!(web.object["nics"][0]["MAC"], web.object["nics"][0]["mac"]);

    assert_eq!(snap.warnings().len(), 1, "{:?}", snap.warnings());
    assert!(
        snap.warnings()[0].contains("broken.ova"),
        "{:?}",
        snap.warnings()
    );
    snap.check().unwrap();
}

#[test]
fn unreachable_or_unusable_urls_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("not-there");
    let c = OvaCollector::new(&info("u", &missing), test_options()).unwrap();
    let err = c.collect_blocking().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert!(
        crate::chain(&err).contains("not-there"),
        "{}",
        crate::chain(&err)
    );

    let mut bad = info("u", tmp.path());
    bad.url = String::new();
    let err = OvaCollector::new(&bad, test_options()).unwrap_err();
    assert!(
        crate::chain(&err).contains("unusable url"),
        "{}",
        crate::chain(&err)
    );

    // An NFS share that is not mounted here says to mount it.
    let mut nfs = info("u", tmp.path());
    nfs.url = "nfs://192.0.2.1/exports/nothing-mounted-here".into();
    let err = OvaCollector::new(&nfs, test_options())
        .unwrap()
        .collect_blocking()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert!(
        crate::chain(&err).contains("not mounted"),
        "{}",
        crate::chain(&err)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_loop_over_a_real_folder_bumps_only_changed_vms() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("ova");
    build_root(&root);
    let store = Arc::new(Store::open_in_memory().unwrap());
    let inv = Inventory::new(
        store.clone(),
        None,
        InventoryOptions {
            interval: Duration::from_secs(24 * 3600),
        },
    );
    let collector = OvaCollector::new(&info("uid-1", &root), test_options()).unwrap();
    inv.add_provider(info("uid-1", &root), Arc::new(collector))
        .unwrap();
    let mut rx = inv.subscribe("uid-1").unwrap();
    let state = tokio::time::timeout(Duration::from_secs(60), rx.wait_for(|s| s.cycles >= 1))
        .await
        .unwrap()
        .unwrap()
        .clone();
    assert!(state.inventory_created, "{state:?}");
    assert_eq!(state.warnings.len(), 1);
    assert_eq!(store.count("uid-1", VMS).unwrap(), 3);
    let id_of = |name: &str| {
        store
            .list(
                "uid-1",
                VMS,
                &crate::store::ListOptions {
                    name: Some(name.into()),
                    ..Default::default()
                },
            )
            .unwrap()
            .remove(0)
    };
    let db_before = id_of("db");
    let web_before = id_of("web");

    // db gets more CPUs; web is untouched.
    write_ova(
        &root.join("team/db.ova"),
        "db",
        8,
        &[("db-disk1.vmdk", 30)],
        &["VM Network"],
    );
    inv.refresh("uid-1").unwrap();
    let state = tokio::time::timeout(Duration::from_secs(60), rx.wait_for(|s| s.cycles >= 2))
        .await
        .unwrap()
        .unwrap()
        .clone();
    let report = state.last_report.unwrap();
    assert_eq!(
        (report.added, report.updated, report.deleted),
        (0, 1, 0),
        "{report:?}"
    );
    let db_after = id_of("db");
    assert_eq!(
        db_after.resource.id, db_before.resource.id,
        "ids are stable across rescans"
    );
    assert_eq!(db_after.revision, db_before.revision + 1);
    assert_eq!(db_after.resource.object["cpuCount"], 8);
    assert_eq!(id_of("web").revision, web_before.revision);

    // The share disappears: the failure is reported, the inventory kept.
    fs::rename(&root, tmp.path().join("gone")).unwrap();
    inv.refresh("uid-1").unwrap();
    let state = tokio::time::timeout(Duration::from_secs(60), rx.wait_for(|s| s.cycles >= 3))
        .await
        .unwrap()
        .unwrap()
        .clone();
    assert_eq!(
        state.failure.unwrap().reason,
        FailureReason::ConnectionTestFailed
    );
    assert_eq!(store.count("uid-1", VMS).unwrap(), 3);
}

/// The real policy pack over a real folder: a manifest mismatch is a
/// Critical concern, a bad name a Warning, and the rules version is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundled_policies_raise_concerns_for_collected_vms() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("ova");
    let zeros = "0".repeat(64);
    write_ova_with(
        &root.join("tampered.ova"),
        "Bad_Name",
        2,
        &[("bad-disk1.vmdk", 10)],
        &["VM Network"],
        Some(&format!("SHA256(bad-disk1.vmdk)= {zeros}\n")),
    );
    write_ova(
        &root.join("good.ova"),
        "good",
        2,
        &[("good-disk1.vmdk", 10)],
        &["VM Network"],
    );
    let validator = ferry_validation::Validator::bundled().unwrap();
    let current = crate::validate::VmValidator::rules_version(&validator, OVA)
        .unwrap()
        .unwrap();
    assert_eq!(
        crate::validate::VmValidator::rules_version(&validator, "hyperv").unwrap(),
        None,
        "no bundled hyperv policies"
    );
    let store = Arc::new(Store::open_in_memory().unwrap());
    let inv = Inventory::new(
        store.clone(),
        Some(Arc::new(validator)),
        InventoryOptions {
            interval: Duration::from_secs(24 * 3600),
        },
    );
    let collector = OvaCollector::new(&info("uid-1", &root), test_options()).unwrap();
    inv.add_provider(info("uid-1", &root), Arc::new(collector))
        .unwrap();
    let mut rx = inv.subscribe("uid-1").unwrap();
    let state = tokio::time::timeout(Duration::from_secs(120), rx.wait_for(|s| s.cycles >= 1))
        .await
        .unwrap()
        .unwrap()
        .clone();
    assert_eq!(state.validation_error, None);
    assert_eq!(state.last_validated, 2);
    let vms = store.list("uid-1", VMS, &Default::default()).unwrap();
    let bad = vms.iter().find(|v| v.resource.name == "Bad_Name").unwrap();
    assert_eq!(bad.rules_version, Some(current));
    assert_eq!(bad.revision_validated, bad.revision);
    let ids: Vec<(&str, &str)> = bad
        .concerns
        .iter()
        .map(|c| (c.id.as_str(), c.category.as_str()))
        .collect();
    assert!(
        ids.contains(&("ferry.ova.manifest.checksum.mismatch", "Critical")),
        "{ids:?}"
    );
    assert!(ids.contains(&("ova.name.invalid", "Warning")), "{ids:?}");
    let good = vms.iter().find(|v| v.resource.name == "good").unwrap();
    assert!(
        good.concerns.iter().all(|c| c.category != "Critical"),
        "{:?}",
        good.concerns
    );
}

#[test]
fn collector_for_dispatches_on_type() {
    let tmp = tempfile::tempdir().unwrap();
    let c = collector_for(&info("u", tmp.path())).unwrap();
    assert_eq!(c.provider_type(), OVA);
    let mut vs = info("u", tmp.path());
    vs.provider_type = "vsphere".into();
    let err = collector_for(&vs).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert_eq!(
        err.to_string(),
        "unsupported: ferry cannot collect the inventory of 'vsphere' providers yet (provider konveyor-forklift/ova-provider)"
    );
}

#[test]
fn packages_still_being_copied_are_skipped_and_a_rescan_is_scheduled() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("fresh.ova");
    write_ova(
        &path,
        "fresh",
        1,
        &[("fresh-disk1.vmdk", 1)],
        &["VM Network"],
    );
    let hour = Duration::from_secs(3600);
    let c = OvaCollector::new(
        &info("u", tmp.path()),
        OvaOptions {
            verify_manifests: true,
            min_age: Some(hour),
        },
    )
    .unwrap();
    let snap = c.collect_blocking().unwrap();
    assert!(names(&snap, VMS).is_empty());
    assert!(
        snap.warnings()[0].contains("fresh.ova"),
        "{:?}",
        snap.warnings()
    );
    let deadline = c
        .inner
        .next_rescan
        .lock()
        .unwrap()
        .expect("a rescan is scheduled");
    let left = deadline - tokio::time::Instant::now();
    assert!(
        left > Duration::from_secs(3000) && left <= hour + Duration::from_secs(1),
        "{left:?}"
    );

    // Two hours later (as far as the file knows) it is picked up and nothing is scheduled.
    let file = fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(SystemTime::now() - 2 * hour).unwrap();
    drop(file);
    let snap = c.collect_blocking().unwrap();
    assert_eq!(names(&snap, VMS), ["fresh"]);
    assert!(snap.warnings().is_empty(), "{:?}", snap.warnings());
    assert!(c.inner.next_rescan.lock().unwrap().is_none());
}
