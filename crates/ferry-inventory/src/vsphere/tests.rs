use serde_json::{Value, json};

use super::*;
use crate::store::Store;

fn r(kind: &str, id: &str) -> Value {
    json!({"type": kind, "value": id})
}

fn props(v: Value) -> Props {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn vm_hardware() -> Value {
    json!({"_type": "VirtualHardware", "numCPU": "4", "numCoresPerSocket": "2", "memoryMB": "8192",
    "device": [
        {"_type": "VirtualLsiLogicController", "key": "1000", "busNumber": "0", "sharedBus": "noSharing",
         "slotInfo": {"_type": "VirtualDevicePciBusSlotInfo", "pciSlotNumber": "16"}},
        {"_type": "VirtualAHCIController", "key": "15000", "busNumber": "0"},
        {"_type": "VirtualDisk", "key": "2000", "controllerKey": "1000", "unitNumber": "0",
         "capacityInKB": "16777216",
         "backing": {"_type": "VirtualDiskFlatVer2BackingInfo", "fileName": "[LocalDS_0] web/web.vmdk",
            "datastore": r("Datastore", "datastore-11"), "diskMode": "persistent", "sharing": "sharingNone",
            "uuid": "6000C29d-1c5e"}},
        {"_type": "VirtualDisk", "key": "2001", "controllerKey": "1000", "unitNumber": "1",
         "capacityInBytes": "1073741824", "capacityInKB": "1",
         "backing": {"_type": "VirtualDiskFlatVer2BackingInfo", "fileName": "[LocalDS_0] web/web_1.vmdk",
            "datastore": r("Datastore", "datastore-11"), "diskMode": "independent_persistent",
            "sharing": "sharingMultiWriter",
            "parent": {"_type": "VirtualDiskFlatVer2BackingInfo", "fileName": "[LocalDS_0] web/base.vmdk"}}},
        {"_type": "VirtualDisk", "key": "16000", "controllerKey": "15000", "unitNumber": "0",
         "capacityInBytes": "0",
         "backing": {"_type": "VirtualDiskRawDiskMappingVer1BackingInfo", "fileName": "[LocalDS_0] web/rdm.vmdk",
            "datastore": r("Datastore", "datastore-11"), "compatibilityMode": "physicalMode",
            "diskMode": "independent_persistent", "lunUuid": "0200000000", "deviceName": "/vmfs/devices/disks/naa.1"}},
        {"_type": "VirtualVmxnet3", "key": "4000", "macAddress": "00:50:56:a1:00:01",
         "connectable": {"_type": "VirtualDeviceConnectInfo", "startConnected": "true"},
         "slotInfo": {"_type": "VirtualDevicePciBusSlotInfo", "pciSlotNumber": "192"},
         "backing": {"_type": "VirtualEthernetCardNetworkBackingInfo", "deviceName": "VM Network",
            "network": r("Network", "network-7")}},
        {"_type": "VirtualE1000e", "key": "4001", "macAddress": "00:50:56:a1:00:02",
         "backing": {"_type": "VirtualEthernetCardDistributedVirtualPortBackingInfo",
            "port": {"_type": "DistributedVirtualSwitchPortConnection", "switchUuid": "50 2b", "portgroupKey": "dvportgroup-13"}}},
        {"_type": "VirtualUSBXHCIController", "key": "14000"},
        {"_type": "VirtualTPM", "key": "11000"}
    ]})
}

fn vm_guest() -> Value {
    json!({"_type": "GuestInfo", "hostName": "web.example.com", "ipAddress": "10.0.0.5",
    "guestFullName": "Red Hat Enterprise Linux 9.4", "toolsStatus": "toolsOk",
    "toolsRunningStatus": "guestToolsRunning", "toolsVersionStatus2": "guestToolsCurrent",
    "net": {"_type": "GuestNicInfo", "network": "VM Network", "macAddress": "00:50:56:a1:00:01",
        "deviceConfigId": "4000",
        "ipConfig": {"_type": "NetIpConfigInfo", "ipAddress": [
            {"_type": "NetIpConfigInfoIpAddress", "ipAddress": "10.0.0.5", "prefixLength": "24", "origin": "manual"},
            {"_type": "NetIpConfigInfoIpAddress", "ipAddress": "fe80::1", "prefixLength": "64"}]},
        "dnsConfig": {"_type": "NetDnsConfigInfo", "ipAddress": "10.0.0.2"}},
    "ipStack": {"_type": "GuestStackInfo",
        "dnsConfig": {"_type": "NetDnsConfigInfo", "ipAddress": ["10.0.0.2", "10.0.0.3"]},
        "ipRouteConfig": {"_type": "NetIpRouteConfigInfo", "ipRoute": [
            {"_type": "NetIpRouteConfigInfoIpRoute", "network": "0.0.0.0", "prefixLength": "0",
             "gateway": {"_type": "NetIpRouteConfigInfoGateway", "ipAddress": "10.0.0.1", "device": "0"}},
            {"_type": "NetIpRouteConfigInfoIpRoute", "network": "10.0.0.0", "prefixLength": "24",
             "gateway": {"_type": "NetIpRouteConfigInfoGateway", "device": "0"}}]}},
    "disk": [
        {"_type": "GuestDiskInfo", "diskPath": "/", "capacity": "16000000000", "freeSpace": "50000000",
         "filesystemType": "xfs", "mappings": {"_type": "GuestInfoVirtualDiskMapping", "key": "2000"}},
        {"_type": "GuestDiskInfo", "diskPath": "/data", "capacity": "1000000000", "freeSpace": "900000000"}
    ]})
}

fn vm_props(name: &str) -> Props {
    let mut p = vm_base(name);
    p.insert("config.hardware".into(), vm_hardware());
    p.insert("guest".into(), vm_guest());
    p
}

fn vm_base(name: &str) -> Props {
    props(json!({
        "name": name,
        "parent": r("Folder", "group-v3"),
        "config.template": "false",
        "config.uuid": "42256329-8c3a-2a82-54fd-01d845a8bf49",
        "config.instanceUuid": "5025c1b6-9e4d-4a3f-8c2b-1d0e9f8a7b6c",
        "config.firmware": "efi",
        "config.changeTrackingEnabled": "false",
        "config.cpuHotAddEnabled": "true",
        "config.cpuAffinity": {"_type": "VirtualMachineAffinityInfo", "affinitySet": ["0", "2"]},
        "config.guestId": "rhel9_64Guest",
        "config.guestFullName": "Red Hat Enterprise Linux 9 (64-bit)",
        "config.bootOptions": {"_type": "VirtualMachineBootOptions", "efiSecureBootEnabled": "true"},
        "config.extraConfig": {"_type": "ArrayOfOptionValue", "OptionValue": [
            {"_type": "OptionValue", "key": "scsi0:1.ctkEnabled", "value": "TRUE"},
            {"_type": "OptionValue", "key": "disk.EnableUUID", "value": "TRUE"},
            {"_type": "OptionValue", "key": "numa.nodeAffinity", "value": "0, 1"}
        ]},
        "runtime.host": r("HostSystem", "host-21"),
        "runtime.powerState": "poweredOff",
        "runtime.connectionState": "connected",
        "runtime.consolidationNeeded": "false",
        "runtime.faultToleranceState": "notConfigured",
        "summary.quickStats.balloonedMemory": "0",
        "summary.storage.committed": "4294967296",
        "snapshot": {"_type": "VirtualMachineSnapshotInfo", "currentSnapshot": r("VirtualMachineSnapshot", "snapshot-5")},
        "network": {"_type": "ArrayOfManagedObjectReference", "ManagedObjectReference": [
            r("Network", "network-7"), r("DistributedVirtualPortgroup", "dvportgroup-13")]},
        "customValue": {"_type": "CustomFieldStringValue", "key": "101", "value": "team-a"}
    }))
}

/// A small datacenter the way the simulator lays it out.
fn sample() -> ObjectSet {
    let mut s = ObjectSet::new();
    let mut add = |kind: &str, id: &str, p: Value| s.insert(MoRef::new(kind, id), props(p));
    add(
        "Folder",
        "group-d1",
        json!({"name": "Datacenters", "childEntity": [r("Datacenter", "datacenter-2")]}),
    );
    add(
        "Datacenter",
        "datacenter-2",
        json!({"name": "DC0", "parent": r("Folder", "group-d1"),
        "vmFolder": r("Folder", "group-v3"), "hostFolder": r("Folder", "group-h4"),
        "datastoreFolder": r("Folder", "group-s5"), "networkFolder": r("Folder", "group-n6")}),
    );
    for (id, name) in [
        ("group-v3", "vm"),
        ("group-h4", "host"),
        ("group-s5", "datastore"),
        ("group-n6", "network"),
    ] {
        add(
            "Folder",
            id,
            json!({"name": name, "parent": r("Datacenter", "datacenter-2")}),
        );
    }
    add(
        "ClusterComputeResource",
        "domain-c7",
        json!({"name": "DC0_C0", "parent": r("Folder", "group-h4"),
        "configurationEx": {"_type": "ClusterConfigInfoEx",
            "dasConfig": {"_type": "ClusterDasConfigInfo", "enabled": "false"},
            "drsConfig": {"_type": "ClusterDrsConfigInfo", "enabled": "true", "defaultVmBehavior": "fullyAutomated"},
            "dpmConfigInfo": {"_type": "ClusterDpmConfigInfo", "enabled": "false"},
            "group": [
                {"_type": "ClusterVmGroup", "name": "pinned", "vm": [r("VirtualMachine", "vm-42")]},
                {"_type": "ClusterHostGroup", "name": "hosts-a", "host": r("HostSystem", "host-21")},
                {"_type": "ClusterVmGroup", "name": "other", "vm": r("VirtualMachine", "vm-43")}],
            "rule": [
                {"_type": "ClusterVmHostRuleInfo", "enabled": "true", "vmGroupName": "pinned", "affineHostGroupName": "hosts-a"},
                {"_type": "ClusterVmHostRuleInfo", "enabled": "false", "vmGroupName": "other", "affineHostGroupName": "hosts-a"}]},
        "host": r("HostSystem", "host-21"), "datastore": r("Datastore", "datastore-11")}),
    );
    add(
        "HostSystem",
        "host-21",
        json!({"name": "DC0_C0_H0", "parent": r("ClusterComputeResource", "domain-c7"),
        "runtime.inMaintenanceMode": "false", "runtime.connectionState": "connected",
        "summary.config.product": {"_type": "AboutInfo", "name": "VMware ESXi", "version": "8.0.0"},
        "hardware.cpuInfo": {"_type": "HostCpuInfo", "numCpuPackages": "2", "numCpuCores": "16"},
        "hardware.memorySize": "68719476736",
        "config.network.vnic": {"_type": "HostVirtualNic", "device": "vmk0",
            "spec": {"_type": "HostVirtualNicSpec", "mtu": "1500",
                "ip": {"_type": "HostIpConfig", "ipAddress": "192.168.1.10", "subnetMask": "255.255.255.0"}}},
        "datastore": r("Datastore", "datastore-11"),
        "vm": [r("VirtualMachine", "vm-42"), r("VirtualMachine", "vm-43")]}),
    );
    add(
        "ComputeResource",
        "domain-s30",
        json!({"name": "standalone", "parent": r("Folder", "group-h4")}),
    );
    add(
        "HostSystem",
        "host-31",
        json!({"name": "standalone", "parent": r("ComputeResource", "domain-s30")}),
    );
    add(
        "Datastore",
        "datastore-11",
        json!({"name": "LocalDS_0", "parent": r("Folder", "group-s5"),
        "summary": {"_type": "DatastoreSummary", "type": "VMFS", "capacity": "1099511627776", "freeSpace": "549755813888",
            "maintenanceMode": "normal"},
        "info": {"_type": "VmfsDatastoreInfo", "vmfs": {"_type": "HostVmfsVolume",
            "extent": {"_type": "HostScsiDiskPartition", "diskName": "naa.600", "partition": "1"}}}}),
    );
    add(
        "Network",
        "network-7",
        json!({"name": "VM Network", "parent": r("Folder", "group-n6")}),
    );
    add(
        "VmwareDistributedVirtualSwitch",
        "dvs-12",
        json!({"name": "DSwitch", "parent": r("Folder", "group-n6")}),
    );
    add(
        "DistributedVirtualPortgroup",
        "dvportgroup-13",
        json!({"name": "DPG-100", "parent": r("Folder", "group-n6"),
        "key": "dvportgroup-13",
        "config": {"_type": "DVPortgroupConfigInfo", "distributedVirtualSwitch": r("VmwareDistributedVirtualSwitch", "dvs-12"),
            "defaultPortConfig": {"_type": "VMwareDVSPortSetting",
                "vlan": {"_type": "VmwareDistributedVirtualSwitchVlanIdSpec", "vlanId": "100"}}}}),
    );
    add("ResourcePool", "resgroup-8", json!({"name": "Resources"}));
    s.insert(MoRef::new("VirtualMachine", "vm-42"), vm_props("web-01"));
    let mut other = vm_props("db-01");
    other.insert(
        "config.hardware".into(),
        json!({"_type": "VirtualHardware", "numCPU": "1"}),
    );
    other.remove("snapshot");
    other.remove("guest");
    s.insert(MoRef::new("VirtualMachine", "vm-43"), other);
    s
}

fn find<'a>(snap: &'a Snapshot, collection: &str, id: &str) -> &'a Resource {
    snap.collections()
        .find(|(c, _)| *c == collection)
        .and_then(|(_, list)| list.iter().find(|r| r.id == id))
        .unwrap_or_else(|| panic!("{collection}/{id} missing"))
}

fn list_ids(snap: &Snapshot, collection: &str) -> Vec<String> {
    snap.collections()
        .find(|(c, _)| *c == collection)
        .map(|(_, l)| l.iter().map(|r| r.id.clone()).collect())
        .unwrap_or_default()
}

fn counts(snap: &Snapshot) -> Vec<(String, usize)> {
    snap.collections()
        .map(|(c, l)| (c.to_owned(), l.len()))
        .collect()
}

#[test]
fn collections_paths_and_parents() {
    let snap = sample().snapshot().unwrap();
    assert_eq!(
        counts(&snap),
        [
            ("clusters".to_owned(), 2),
            ("datacenters".to_owned(), 1),
            ("datastores".to_owned(), 1),
            ("folders".to_owned(), 4),
            ("hosts".to_owned(), 2),
            ("networks".to_owned(), 3),
            ("vms".to_owned(), 2),
        ]
    );
    let vm = find(&snap, "vms", "vm-42");
    assert_eq!(vm.name, "web-01");
    assert_eq!(vm.kind, "VM");
    assert_eq!(vm.path, "/DC0/vm/web-01");
    assert_eq!(
        vm.parent,
        Some(Ref {
            kind: "Folder".into(),
            id: "group-v3".into()
        })
    );
    let host = find(&snap, "hosts", "host-21");
    assert_eq!(host.path, "/DC0/host/DC0_C0/DC0_C0_H0");
    assert_eq!(host.parent.as_ref().unwrap().kind, "Cluster");
    assert_eq!(host.object["cluster"], "domain-c7");
    assert_eq!(host.object["cpuSockets"], 2);
    assert_eq!(host.object["cpuCores"], 16);
    assert_eq!(host.object["memoryBytes"], 68719476736i64);
    assert_eq!(host.object["productVersion"], "8.0.0");
    assert_eq!(
        host.object["networkAdapters"][0]["ipAddress"],
        "192.168.1.10"
    );
    assert_eq!(host.object["vms"].as_array().unwrap().len(), 2);
    assert_eq!(
        find(&snap, "hosts", "host-31").object["cluster"],
        "domain-s30"
    );
    let cluster = find(&snap, "clusters", "domain-c7");
    assert_eq!(cluster.object["datacenter"], "datacenter-2");
    assert_eq!(cluster.object["drsEnabled"], true);
    assert_eq!(cluster.object["dpmEnabled"], false);
    assert_eq!(cluster.object["drsBehavior"], "fullyAutomated");
    // Only the enabled rule's group counts.
    assert_eq!(
        cluster.object["hostAffinityVms"],
        json!([{"kind": "VM", "id": "vm-42"}])
    );
    assert_eq!(
        find(&snap, "clusters", "domain-s30").object["drsEnabled"],
        false
    );
    let dc = find(&snap, "datacenters", "datacenter-2");
    assert_eq!(dc.path, "/DC0");
    assert_eq!(
        dc.object["vms"],
        json!({"kind": "Folder", "id": "group-v3"})
    );
    let ds = find(&snap, "datastores", "datastore-11");
    assert_eq!(ds.object["type"], "VMFS");
    assert_eq!(ds.object["free"], 549755813888i64);
    assert_eq!(ds.object["backingDevicesNames"], json!(["naa.600"]));
    let pg = find(&snap, "networks", "dvportgroup-13");
    assert_eq!(pg.variant, "DvPortGroup");
    assert_eq!(pg.object["vlanId"], "100");
    assert_eq!(
        pg.object["dvSwitch"],
        json!({"kind": "Network", "id": "dvs-12"})
    );
    assert_eq!(pg.object["key"], "dvportgroup-13");
    assert_eq!(find(&snap, "networks", "network-7").variant, "Standard");
    assert_eq!(find(&snap, "networks", "dvs-12").variant, "DvSwitch");
    // The root folder is not served; the datacenter still names it as parent.
    assert!(list_ids(&snap, "folders").iter().all(|id| id != "group-d1"));
    assert_eq!(
        dc.parent,
        Some(Ref {
            kind: "Folder".into(),
            id: "group-d1".into()
        })
    );
    let vm_folder = find(&snap, "folders", "group-v3");
    assert_eq!(vm_folder.path, "/DC0/vm");
    assert_eq!(vm_folder.parent.as_ref().unwrap().kind, "Datacenter");
    let net_folder = find(&snap, "folders", "group-n6");
    assert_eq!(net_folder.object["children"], json!([]));
}

#[test]
fn vm_document_has_forklift_fields() {
    let snap = sample().snapshot().unwrap();
    let vm = &find(&snap, "vms", "vm-42").object;
    assert_eq!(vm["host"], "host-21");
    assert_eq!(vm["powerState"], "poweredOff");
    assert_eq!(vm["firmware"], "efi");
    assert_eq!(vm["secureBoot"], true);
    assert_eq!(vm["cpuCount"], 4);
    assert_eq!(vm["coresPerSocket"], 2);
    assert_eq!(vm["memoryMB"], 8192);
    assert_eq!(vm["cpuAffinity"], json!([0, 2]));
    assert_eq!(vm["numaNodeAffinity"], json!(["0", "1"]));
    assert_eq!(vm["cpuHotAddEnabled"], true);
    assert_eq!(vm["changeTrackingEnabled"], false);
    assert_eq!(vm["diskEnableUuid"], true);
    assert_eq!(vm["tpmEnabled"], true);
    assert_eq!(vm["faultToleranceEnabled"], false);
    assert_eq!(vm["storageUsed"], 4294967296i64);
    assert_eq!(
        vm["snapshot"],
        json!({"kind": "VirtualMachineSnapshot", "id": "snapshot-5"})
    );
    assert_eq!(vm["guestId"], "rhel9_64Guest");
    assert_eq!(vm["hostName"], "web.example.com");
    assert_eq!(
        vm["networks"],
        json!([{"kind": "Network", "id": "network-7"}, {"kind": "Network", "id": "dvportgroup-13"}])
    );
    let disks = vm["disks"].as_array().unwrap();
    assert_eq!(disks.len(), 3);
    assert_eq!(disks[0]["capacity"], 16 * 1024 * 1024 * 1024i64);
    assert_eq!(disks[0]["bus"], "scsi");
    assert_eq!(disks[0]["file"], "[LocalDS_0] web/web.vmdk");
    assert_eq!(
        disks[0]["datastore"],
        json!({"kind": "Datastore", "id": "datastore-11"})
    );
    assert_eq!(disks[0]["changeTrackingEnabled"], false);
    assert_eq!(disks[0]["serial"], "6000C29d-1c5e");
    assert_eq!(disks[1]["capacity"], 1073741824);
    assert_eq!(disks[1]["changeTrackingEnabled"], true);
    assert_eq!(disks[1]["shared"], true);
    assert_eq!(disks[1]["mode"], "independent_persistent");
    assert_eq!(disks[1]["parent"], "[LocalDS_0] web/base.vmdk");
    assert_eq!(disks[2]["bus"], "sata");
    assert_eq!(disks[2]["rdm"], true);
    assert_eq!(disks[2]["physicalMode"], true);
    assert_eq!(disks[2]["lunUuid"], "0200000000");
    let nics = vm["nics"].as_array().unwrap();
    assert_eq!(nics.len(), 2);
    assert_eq!(nics[0]["mac"], "00:50:56:a1:00:01");
    assert_eq!(
        nics[0]["network"],
        json!({"kind": "Network", "id": "network-7"})
    );
    assert_eq!(nics[0]["startConnected"], true);
    assert_eq!(nics[1]["network"]["id"], "dvportgroup-13");
    assert_eq!(nics[1]["order"], 1);
    assert_eq!(nics[1]["deviceKey"], 4001);
    let kinds: Vec<&str> = vm["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"VirtualUSBXHCIController") && kinds.contains(&"VirtualTPM"));
    assert_eq!(vm["devices"][0]["pciSlotNumber"], 16);
    let nets = vm["guestNetworks"].as_array().unwrap();
    assert_eq!(nets.len(), 2);
    assert_eq!(nets[0]["ip"], "10.0.0.5");
    assert_eq!(nets[0]["prefix"], 24);
    assert_eq!(nets[0]["dns"], json!(["10.0.0.2"]));
    assert_eq!(nets[0]["deviceConfigId"], 4000);
    assert_eq!(vm["guestDisks"][0]["key"], 2000);
    assert_eq!(vm["guestDisks"][0]["freeSpace"], 50000000);
    assert_eq!(vm["guestDisks"][1]["key"], 0);
    assert_eq!(
        vm["guestIpStacks"],
        json!([{"device": "0", "gateway": "10.0.0.1", "network": "0.0.0.0", "prefix": 0, "dns": ["10.0.0.2", "10.0.0.3"]}])
    );
    assert_eq!(vm["customValues"], json!([{"key": 101, "value": "team-a"}]));
    // A VM without guest info or snapshot still has every field.
    let bare = &find(&snap, "vms", "vm-43").object;
    assert_eq!(bare["snapshot"], json!({"kind": "", "id": ""}));
    assert_eq!(bare["guestNetworks"], json!([]));
    assert_eq!(bare["hostName"], "");
    assert_eq!(bare["disks"], json!([]));
}

#[test]
fn updates_rename_power_and_add_disk() {
    let mut set = sample();
    let vm = MoRef::new("VirtualMachine", "vm-43");
    let applied = set.apply(ObjectUpdate::Modify {
        obj: vm.clone(),
        changes: vec![
            PropertyChange {
                name: "name".into(),
                op: PropertyOp::Assign,
                val: Some(json!("db-02")),
            },
            PropertyChange {
                name: "runtime.powerState".into(),
                op: PropertyOp::Assign,
                val: Some(json!("poweredOn")),
            },
        ],
    });
    assert_eq!(applied, Applied::Done);
    let snap = set.snapshot().unwrap();
    let renamed = find(&snap, "vms", "vm-43");
    assert_eq!(renamed.name, "db-02");
    assert_eq!(renamed.path, "/DC0/vm/db-02");
    assert_eq!(renamed.object["powerState"], "poweredOn");
    // A new disk arrives as a new config.hardware value.
    let mut hw =
        set.get(&MoRef::new("VirtualMachine", "vm-42")).unwrap()["config.hardware"].clone();
    hw["device"].as_array_mut().unwrap().push(json!({"_type": "VirtualDisk", "key": "2002",
        "controllerKey": "1000", "unitNumber": "2", "capacityInBytes": "2048",
        "backing": {"_type": "VirtualDiskFlatVer2BackingInfo", "fileName": "[LocalDS_0] web/web_2.vmdk",
            "datastore": r("Datastore", "datastore-11")}}));
    set.apply(ObjectUpdate::Modify {
        obj: MoRef::new("VirtualMachine", "vm-42"),
        changes: vec![PropertyChange {
            name: "config.hardware".into(),
            op: PropertyOp::Assign,
            val: Some(hw),
        }],
    });
    let snap = set.snapshot().unwrap();
    let disks = find(&snap, "vms", "vm-42").object["disks"].clone();
    assert_eq!(disks.as_array().unwrap().len(), 4);
    assert_eq!(disks[3]["file"], "[LocalDS_0] web/web_2.vmdk");
    // A part of a property, an add, or an unknown object: fetch again.
    for (obj, name, op) in [
        (
            vm.clone(),
            "config.hardware.device[2000]",
            PropertyOp::Assign,
        ),
        (vm.clone(), "network", PropertyOp::Add),
        (
            MoRef::new("VirtualMachine", "vm-99"),
            "name",
            PropertyOp::Assign,
        ),
    ] {
        let applied = set.apply(ObjectUpdate::Modify {
            obj,
            changes: vec![PropertyChange {
                name: name.into(),
                op,
                val: Some(json!("x")),
            }],
        });
        assert_eq!(applied, Applied::Refetch, "{name}");
    }
    // Removing a property, leaving and entering.
    set.apply(ObjectUpdate::Modify {
        obj: vm.clone(),
        changes: vec![PropertyChange {
            name: "runtime.powerState".into(),
            op: PropertyOp::Remove,
            val: None,
        }],
    });
    assert!(!set.get(&vm).unwrap().contains_key("runtime.powerState"));
    set.apply(ObjectUpdate::Leave { obj: vm.clone() });
    set.apply(ObjectUpdate::Enter {
        obj: MoRef::new("VirtualMachine", "vm-50"),
        props: vm_props("new-vm"),
    });
    let snap = set.snapshot().unwrap();
    let ids: Vec<&str> = snap
        .collections()
        .find(|(c, _)| *c == "vms")
        .unwrap()
        .1
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(ids, ["vm-42", "vm-50"]);
    assert_eq!(
        PropertyOp::parse("indirectRemove"),
        Some(PropertyOp::IndirectRemove)
    );
    assert_eq!(PropertyOp::parse("bogus"), None);
}

#[test]
fn validation_reads_the_workload_with_host_and_cluster() {
    let store = Store::open_in_memory().unwrap();
    let info = crate::model::ProviderInfo {
        uid: "p1".into(),
        namespace: "ns".into(),
        name: "vc".into(),
        provider_type: VSPHERE.into(),
        url: "https://vc/sdk".into(),
        resource_version: String::new(),
        object: Value::Null,
    };
    store.upsert_provider(&info).unwrap();
    store
        .apply_snapshot("p1", &sample().snapshot().unwrap())
        .unwrap();
    let validator = ferry_validation::Validator::bundled().unwrap();
    let done = crate::inventory::validate_stale(&store, &validator, "p1", VSPHERE, None).unwrap();
    assert_eq!(done, 2);
    let vm = store.get("p1", VMS, "vm-42").unwrap().unwrap();
    let ids: Vec<&str> = vm.concerns.iter().map(|c| c.id.as_str()).collect();
    for want in [
        "vmware.changed_block_tracking.disabled",
        "vmware.changed_block_tracking.disk.disabled",
        "vmware.disk.capacity.invalid",
        "vmware.disk.rdm.detected",
        "vmware.disk.shared.detected",
        "vmware.disk_mode.independent",
        "vmware.drs.enabled",
        "vmware.host_affinity.detected",
        "vmware.tpm.detected",
        "vmware.usb_controller.detected",
        "vmware.snapshot.detected",
        "vmware.guestDisks.freespace",
        "vmware.cpu_affinity.detected",
        "vmware.numa_affinity.detected",
        "vmware.cpu_memory.hotplug.enabled",
        "vmware.disk_serial.truncated",
    ] {
        assert!(ids.contains(&want), "{want} missing from {ids:?}");
    }
    for absent in [
        "vmware.dpm.enabled",
        "vmware.datastore.missing",
        "vmware.vm.name.invalid",
    ] {
        assert!(!ids.contains(&absent), "{absent} in {ids:?}");
    }
    let mut cbt_disks: Vec<&str> = vm
        .concerns
        .iter()
        .filter(|c| c.id == "vmware.changed_block_tracking.disk.disabled")
        .map(|c| c.label.as_str())
        .collect();
    cbt_disks.sort_unstable();
    // scsi0:1 has ctkEnabled in extraConfig.
    assert_eq!(
        cbt_disks,
        [
            "Disk - sata0:0 does not have CBT enabled",
            "Disk - scsi0:0 does not have CBT enabled"
        ]
    );
    assert_eq!(
        vm.rules_version,
        Some(validator.rules_version(VSPHERE).unwrap())
    );
    // The other VM is not in the affinity rule.
    let other = store.get("p1", VMS, "vm-43").unwrap().unwrap();
    assert!(
        other
            .concerns
            .iter()
            .all(|c| c.id != "vmware.host_affinity.detected")
    );
    assert!(other.concerns.iter().any(|c| c.id == "vmware.drs.enabled"));
}

#[test]
fn malformed_properties_do_not_panic() {
    let odd = [
        json!(null),
        json!("x"),
        json!(7),
        json!([]),
        json!({}),
        json!([null, {"_type": "VirtualDisk"}]),
        json!({"_type": "VirtualHardware", "device": "junk"}),
        json!({"_type": "ArrayOfX", "X": {"_type": "VirtualDisk", "key": "zz"}}),
    ];
    let mut set = sample();
    let names: Vec<String> = vm_props("x").keys().cloned().collect();
    for (i, v) in odd.iter().enumerate() {
        for name in &names {
            let mut p = vm_props("odd");
            p.insert(name.clone(), v.clone());
            set.insert(
                MoRef::new("VirtualMachine", format!("vm-odd-{i}-{name}")),
                p,
            );
        }
        for (kind, id) in [
            ("HostSystem", "host-21"),
            ("ClusterComputeResource", "domain-c7"),
            ("Datastore", "datastore-11"),
            ("DistributedVirtualPortgroup", "dvportgroup-13"),
            ("Folder", "group-d1"),
        ] {
            let mut p = set.get(&MoRef::new(kind, id)).cloned().unwrap_or_default();
            for key in properties_for(kind) {
                if *key != "parent" && *key != "name" {
                    p.insert((*key).to_owned(), v.clone());
                }
            }
            set.insert(MoRef::new(kind, id), p);
        }
    }
    let snap = set.snapshot().unwrap();
    assert!(counts(&snap).iter().any(|(c, n)| c == "vms" && *n > 100));
    // A parent cycle ends.
    let mut cyc = ObjectSet::new();
    cyc.insert(
        MoRef::new("Folder", "a"),
        props(json!({"name": "a", "parent": r("Folder", "b")})),
    );
    cyc.insert(
        MoRef::new("Folder", "b"),
        props(json!({"name": "b", "parent": r("Folder", "a")})),
    );
    let snap = cyc.snapshot().unwrap();
    assert!(find(&snap, "folders", "a").path.len() < 400);
}

/// Names along the first path from the root to a leaf of `kind`.
fn first_path(node: &Value, kind: &str, trail: &mut Vec<String>) -> bool {
    if let Some(name) = node["object"]["name"].as_str() {
        trail.push(format!(
            "{}:{name}",
            node["kind"].as_str().unwrap_or_default()
        ));
    }
    if node["kind"] == kind {
        return true;
    }
    for c in node["children"].as_array().into_iter().flatten() {
        if first_path(c, kind, trail) {
            return true;
        }
    }
    trail.pop();
    false
}

#[test]
fn trees_hang_vms_under_hosts_and_folders() {
    let store = Store::open_in_memory().unwrap();
    let info = crate::model::ProviderInfo {
        uid: "p1".into(),
        namespace: "ns".into(),
        name: "vc".into(),
        provider_type: VSPHERE.into(),
        url: "https://vc/sdk".into(),
        resource_version: String::new(),
        object: Value::Null,
    };
    store.upsert_provider(&info).unwrap();
    store
        .apply_snapshot("p1", &sample().snapshot().unwrap())
        .unwrap();
    let spec = crate::web::spec::type_spec(VSPHERE).unwrap();
    let host_tree =
        crate::web::render::tree(spec, spec.tree("host").unwrap(), "p1", &store, 1).unwrap();
    let mut trail = Vec::new();
    assert!(first_path(&host_tree, "VM", &mut trail), "{host_tree}");
    assert_eq!(
        trail,
        [
            "Datacenter:DC0",
            "Folder:host",
            "Cluster:DC0_C0",
            "Host:DC0_C0_H0",
            "VM:db-01"
        ]
    );
    let vm_tree =
        crate::web::render::tree(spec, spec.tree("vm").unwrap(), "p1", &store, 1).unwrap();
    let mut trail = Vec::new();
    assert!(first_path(&vm_tree, "VM", &mut trail), "{vm_tree}");
    assert_eq!(trail, ["Datacenter:DC0", "Folder:vm", "VM:db-01"]);
    // The workload expands host → cluster → datacenter.
    let vm = store.get("p1", VMS, "vm-42").unwrap().unwrap();
    let w = crate::web::render::workload(spec, "p1", &vm, &store).unwrap();
    assert_eq!(w["host"]["name"], "DC0_C0_H0");
    assert_eq!(w["host"]["cluster"]["drsEnabled"], true);
    assert_eq!(w["host"]["cluster"]["datacenter"]["name"], "DC0");
}

#[test]
fn a_cluster_change_revalidates_its_vms() {
    let store = Store::open_in_memory().unwrap();
    let info = crate::model::ProviderInfo {
        uid: "p1".into(),
        namespace: "ns".into(),
        name: "vc".into(),
        provider_type: VSPHERE.into(),
        url: "https://vc/sdk".into(),
        resource_version: String::new(),
        object: Value::Null,
    };
    store.upsert_provider(&info).unwrap();
    let mut set = sample();
    store
        .apply_snapshot("p1", &set.snapshot().unwrap())
        .unwrap();
    let validator = ferry_validation::Validator::bundled().unwrap();
    let mut expanded = crate::inventory::expanded::Expanded::default();
    let validate = |expanded: &mut crate::inventory::expanded::Expanded| {
        crate::inventory::validate_stale(&store, &validator, "p1", VSPHERE, Some(expanded)).unwrap()
    };
    let has_drs = |id: &str| {
        store
            .get("p1", VMS, id)
            .unwrap()
            .unwrap()
            .concerns
            .iter()
            .any(|c| c.id == "vmware.drs.enabled")
    };
    assert_eq!(validate(&mut expanded), 2);
    assert!(has_drs("vm-42") && has_drs("vm-43"));
    // Nothing changed: nothing to validate.
    assert_eq!(validate(&mut expanded), 0);
    // DRS switched off on the cluster: both VMs (unchanged themselves) are
    // validated again and lose the concern.
    let cluster = MoRef::new("ClusterComputeResource", "domain-c7");
    let mut cfg = set.get(&cluster).unwrap()["configurationEx"].clone();
    cfg["drsConfig"]["enabled"] = json!("false");
    set.apply(ObjectUpdate::Modify {
        obj: cluster,
        changes: vec![PropertyChange {
            name: "configurationEx".into(),
            op: PropertyOp::Assign,
            val: Some(cfg),
        }],
    });
    let report = store
        .apply_snapshot("p1", &set.snapshot().unwrap())
        .unwrap();
    assert_eq!(report.updated, 1);
    assert_eq!(validate(&mut expanded), 2);
    assert!(!has_drs("vm-42") && !has_drs("vm-43"));
    assert_eq!(validate(&mut expanded), 0);
}
