//! A vSphere VM's properties → the VM JSON of Forklift's inventory at full
//! detail (`reference/forklift-api.md` §4), the input of the `vmware`
//! validation policies.
use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::props::{
    MoRef, Props, boolean, field, flag, int, list, moref, option_values, path, prop, text,
    text_or_empty, type_of,
};

/// VM properties the collector asks the PropertyCollector for.
pub const VM_PROPERTIES: &[&str] = &[
    "name",
    "parent",
    "config.template",
    "config.uuid",
    "config.instanceUuid",
    "config.firmware",
    "config.changeTrackingEnabled",
    "config.cpuAffinity",
    "config.cpuHotAddEnabled",
    "config.cpuHotRemoveEnabled",
    "config.memoryHotAddEnabled",
    "config.hardware",
    "config.extraConfig",
    "config.bootOptions",
    "config.nestedHVEnabled",
    "config.guestId",
    "config.guestFullName",
    "runtime.host",
    "runtime.powerState",
    "runtime.connectionState",
    "runtime.consolidationNeeded",
    "runtime.faultToleranceState",
    "summary.quickStats.balloonedMemory",
    "summary.storage.committed",
    "snapshot",
    "guest",
    "network",
    "customValue",
];

/// Controller device types by the bus name Forklift uses for their disks.
fn bus_of_controller(kind: &str) -> Option<&'static str> {
    match kind {
        "VirtualLsiLogicController"
        | "VirtualLsiLogicSASController"
        | "ParaVirtualSCSIController"
        | "VirtualBusLogicController" => Some("scsi"),
        "VirtualIDEController" => Some("ide"),
        "VirtualAHCIController" | "VirtualSATAController" => Some("sata"),
        "VirtualNVMEController" => Some("nvme"),
        _ => None,
    }
}

struct Controller {
    bus: &'static str,
    bus_number: i64,
    shared_bus: bool,
}

/// The full-detail VM document of `obj` with properties `props`.
pub fn vm_json(obj: &MoRef, props: &Props) -> Value {
    let hardware = prop(props, "config.hardware", "");
    let devices = list(hardware.and_then(|h| field(h, "device")));
    let extra = option_values(prop(props, "config.extraConfig", ""));
    let extra_lower: BTreeMap<String, &str> = extra
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str()))
        .collect();
    let extra_true = |key: &str| {
        extra_lower
            .get(&key.to_ascii_lowercase())
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    };

    let controllers: BTreeMap<i64, Controller> = devices
        .iter()
        .filter_map(|d| {
            let bus = bus_of_controller(type_of(d))?;
            Some((
                int(field(d, "key"))?,
                Controller {
                    bus,
                    bus_number: int(field(d, "busNumber")).unwrap_or(0),
                    shared_bus: text(field(d, "sharedBus")).is_some_and(|s| s != "noSharing"),
                },
            ))
        })
        .collect();

    let guest = props.get("guest");
    let guest_id = text(prop(props, "config.guestId", ""))
        .or_else(|| text(guest.and_then(|g| field(g, "guestId"))))
        .unwrap_or_default()
        .to_owned();
    let guest_disks = guest_disks(guest);
    let windows = guest_id.to_ascii_lowercase().contains("win");

    let mut disks = Vec::new();
    let mut nics = Vec::new();
    let mut device_list = Vec::new();
    let mut tpm = false;
    for d in &devices {
        let kind = type_of(d);
        let key = int(field(d, "key")).unwrap_or(0);
        device_list.push(json!({
            "kind": kind,
            "key": key,
            "pciSlotNumber": int(path(d, "slotInfo/pciSlotNumber")).unwrap_or(0),
        }));
        if kind == "VirtualTPM" {
            tpm = true;
        }
        if kind == "VirtualDisk" {
            disks.push(disk_json(
                d,
                &controllers,
                &extra_true,
                &guest_disks,
                windows,
            ));
        } else if is_nic(kind) || field(d, "macAddress").is_some() {
            nics.push(nic_json(d, nics.len()));
        }
    }

    let current_snapshot = moref(prop(props, "snapshot", "currentSnapshot"));
    let ft_state = text(prop(props, "runtime.faultToleranceState", "")).unwrap_or("notConfigured");
    let numa: Vec<Value> = extra_lower
        .get("numa.nodeaffinity")
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| json!(s))
                .collect()
        })
        .unwrap_or_default();
    let cpu_affinity: Vec<Value> = list(prop(props, "config.cpuAffinity", "affinitySet"))
        .into_iter()
        .filter_map(|v| int(Some(v)))
        .map(|n| json!(n))
        .collect();
    let networks: Vec<Value> = list(props.get("network"))
        .into_iter()
        .filter_map(|v| moref(Some(v)))
        .map(|r| json!({"kind": "Network", "id": r.id}))
        .collect();

    let mut m = Map::new();
    m.insert("id".into(), json!(obj.id));
    m.insert("name".into(), json!(text_or_empty(props.get("name"))));
    m.insert(
        "isTemplate".into(),
        json!(flag(prop(props, "config.template", ""))),
    );
    m.insert(
        "powerState".into(),
        json!(text_or_empty(prop(props, "runtime.powerState", ""))),
    );
    m.insert(
        "host".into(),
        json!(
            moref(prop(props, "runtime.host", ""))
                .map(|r| r.id)
                .unwrap_or_default()
        ),
    );
    m.insert("networks".into(), Value::Array(networks));
    m.insert("disks".into(), Value::Array(disks));
    for (key, p) in [
        ("uuid", "config.uuid"),
        ("instanceUuid", "config.instanceUuid"),
        ("firmware", "config.firmware"),
        ("connectionState", "runtime.connectionState"),
        ("guestName", "config.guestFullName"),
    ] {
        m.insert(key.into(), json!(text_or_empty(prop(props, p, ""))));
    }
    m.insert(
        "snapshot".into(),
        match current_snapshot {
            Some(s) => json!({"kind": "VirtualMachineSnapshot", "id": s.id}),
            None => json!({"kind": "", "id": ""}),
        },
    );
    for (key, p) in [
        ("changeTrackingEnabled", "config.changeTrackingEnabled"),
        ("consolidationNeeded", "runtime.consolidationNeeded"),
        ("cpuHotAddEnabled", "config.cpuHotAddEnabled"),
        ("cpuHotRemoveEnabled", "config.cpuHotRemoveEnabled"),
        ("memoryHotAddEnabled", "config.memoryHotAddEnabled"),
        ("nestedHVEnabled", "config.nestedHVEnabled"),
    ] {
        m.insert(key.into(), json!(flag(prop(props, p, ""))));
    }
    m.insert("cpuAffinity".into(), Value::Array(cpu_affinity));
    m.insert(
        "faultToleranceEnabled".into(),
        json!(ft_state != "notConfigured"),
    );
    let hw_int = |k: &str| int(hardware.and_then(|h| field(h, k))).unwrap_or(0);
    m.insert("cpuCount".into(), json!(hw_int("numCPU")));
    m.insert("coresPerSocket".into(), json!(hw_int("numCoresPerSocket")));
    m.insert("memoryMB".into(), json!(hw_int("memoryMB")));
    m.insert(
        "balloonedMemory".into(),
        json!(int(prop(props, "summary.quickStats.balloonedMemory", "")).unwrap_or(0)),
    );
    m.insert("numaNodeAffinity".into(), Value::Array(numa));
    m.insert(
        "guestNameFromVmwareTools".into(),
        json!(text_or_empty(guest.and_then(|g| field(g, "guestFullName")))),
    );
    m.insert(
        "hostName".into(),
        json!(text_or_empty(guest.and_then(|g| field(g, "hostName")))),
    );
    m.insert("guestId".into(), json!(guest_id));
    m.insert(
        "ipAddress".into(),
        json!(text_or_empty(guest.and_then(|g| field(g, "ipAddress")))),
    );
    m.insert(
        "storageUsed".into(),
        json!(int(prop(props, "summary.storage.committed", "")).unwrap_or(0)),
    );
    m.insert("tpmEnabled".into(), json!(tpm));
    m.insert("devices".into(), Value::Array(device_list));
    m.insert(
        "secureBoot".into(),
        json!(flag(prop(
            props,
            "config.bootOptions",
            "efiSecureBootEnabled"
        ))),
    );
    m.insert(
        "diskEnableUuid".into(),
        json!(extra_true("disk.EnableUUID")),
    );
    m.insert("nics".into(), Value::Array(nics));
    m.insert("guestNetworks".into(), Value::Array(guest_networks(guest)));
    m.insert(
        "guestDisks".into(),
        Value::Array(guest_disks.iter().map(|g| g.json.clone()).collect()),
    );
    m.insert("guestIpStacks".into(), Value::Array(guest_ip_stacks(guest)));
    for key in ["toolsStatus", "toolsRunningStatus", "toolsVersionStatus2"] {
        m.insert(
            key.into(),
            json!(text_or_empty(guest.and_then(|g| field(g, key)))),
        );
    }
    m.insert("customDef".into(), json!([]));
    m.insert(
        "customValues".into(),
        Value::Array(
            list(props.get("customValue"))
                .into_iter()
                .map(|c| {
                    json!({
                        "key": int(field(c, "key")).unwrap_or(0),
                        "value": text_or_empty(field(c, "value")),
                    })
                })
                .collect(),
        ),
    );
    m.insert("tags".into(), json!([]));
    Value::Object(m)
}

fn is_nic(kind: &str) -> bool {
    matches!(
        kind,
        "VirtualE1000"
            | "VirtualE1000e"
            | "VirtualPCNet32"
            | "VirtualVmxnet"
            | "VirtualVmxnet2"
            | "VirtualVmxnet3"
            | "VirtualVmxnet3Vrdma"
            | "VirtualSriovEthernetCard"
    )
}

/// A guest filesystem as VMware Tools reports it, with the disk key it sits on.
struct GuestDisk {
    key: i64,
    path: String,
    json: Value,
}

fn guest_disks(guest: Option<&Value>) -> Vec<GuestDisk> {
    list(guest.and_then(|g| field(g, "disk")))
        .into_iter()
        .map(|d| {
            let key = list(field(d, "mappings"))
                .first()
                .and_then(|m| int(field(m, "key")))
                .unwrap_or(0);
            let path = text_or_empty(field(d, "diskPath"));
            let json = json!({
                "key": key,
                "diskPath": path,
                "capacity": int(field(d, "capacity")).unwrap_or(0),
                "freeSpace": int(field(d, "freeSpace")).unwrap_or(0),
                "filesystemType": text_or_empty(field(d, "filesystemType")),
            });
            GuestDisk { key, path, json }
        })
        .collect()
}

fn disk_json(
    d: &Value,
    controllers: &BTreeMap<i64, Controller>,
    extra_true: &dyn Fn(&str) -> bool,
    guest_disks: &[GuestDisk],
    windows: bool,
) -> Value {
    let key = int(field(d, "key")).unwrap_or(0);
    let unit = int(field(d, "unitNumber")).unwrap_or(0);
    let controller_key = int(field(d, "controllerKey")).unwrap_or(0);
    let controller = controllers.get(&controller_key);
    let bus = controller.map_or("", |c| c.bus);
    let backing = field(d, "backing");
    let b = |k: &str| backing.and_then(|b| field(b, k));
    let capacity = int(field(d, "capacityInBytes"))
        .or_else(|| int(field(d, "capacityInKB")).map(|kb| kb.saturating_mul(1024)))
        .unwrap_or(0);
    let rdm = backing.is_some_and(|b| type_of(b) == "VirtualDiskRawDiskMappingVer1BackingInfo");
    let sharing = text(b("sharing")).is_some_and(|s| s != "sharingNone");
    let shared = sharing || controller.is_some_and(|c| c.shared_bus);
    let ctk = controller
        .is_some_and(|c| extra_true(&format!("{}{}:{}.ctkEnabled", c.bus, c.bus_number, unit)));
    let letter = if windows {
        guest_disks
            .iter()
            .find(|g| g.key == key && g.key != 0)
            .and_then(|g| g.path.chars().next())
            .filter(char::is_ascii_alphabetic)
            .map(|c| c.to_ascii_lowercase().to_string())
            .unwrap_or_default()
    } else {
        String::new()
    };
    json!({
        "key": key,
        "unitNumber": unit,
        "controllerKey": controller_key,
        "file": text_or_empty(b("fileName")),
        "datastore": match moref(b("datastore")) {
            Some(r) => json!({"kind": "Datastore", "id": r.id}),
            None => json!({"kind": "", "id": ""}),
        },
        "capacity": capacity,
        "shared": shared,
        "rdm": rdm,
        "physicalMode": rdm && text(b("compatibilityMode")) == Some("physicalMode"),
        "bus": bus,
        "mode": text_or_empty(b("diskMode")),
        "serial": text_or_empty(b("uuid")),
        "winDriveLetter": letter,
        "changeTrackingEnabled": ctk,
        "parent": text_or_empty(backing.and_then(|b| path(b, "parent/fileName"))),
        "deviceName": text_or_empty(b("deviceName")),
        "vvolId": text_or_empty(b("backingObjectId")),
        "lunUuid": text_or_empty(b("lunUuid")),
    })
}

fn nic_json(d: &Value, order: usize) -> Value {
    let backing = field(d, "backing");
    let network = match backing.map(type_of) {
        Some("VirtualEthernetCardDistributedVirtualPortBackingInfo") => backing
            .and_then(|b| path(b, "port/portgroupKey"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        Some("VirtualEthernetCardOpaqueNetworkBackingInfo") => backing
            .and_then(|b| field(b, "opaqueNetworkId"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => moref(backing.and_then(|b| field(b, "network"))).map(|r| r.id),
    };
    json!({
        "network": {"kind": "Network", "id": network.unwrap_or_default()},
        "mac": text_or_empty(field(d, "macAddress")),
        "order": order,
        "deviceKey": int(field(d, "key")).unwrap_or(0),
        "pciAddress": "",
        "startConnected": boolean(path(d, "connectable/startConnected")).unwrap_or(false),
    })
}

fn guest_networks(guest: Option<&Value>) -> Vec<Value> {
    let mut out = Vec::new();
    for nic in list(guest.and_then(|g| field(g, "net"))) {
        let device_config_id = int(field(nic, "deviceConfigId")).unwrap_or(0);
        let dns: Vec<Value> = list(path(nic, "dnsConfig/ipAddress"))
            .into_iter()
            .filter_map(|v| v.as_str().map(|s| json!(s)))
            .collect();
        let ips = list(path(nic, "ipConfig/ipAddress"));
        let plain = list(field(nic, "ipAddress"));
        let entries: Vec<(String, i64, String)> = if ips.is_empty() {
            plain
                .into_iter()
                .filter_map(|v| v.as_str().map(|s| (s.to_owned(), 0, String::new())))
                .collect()
        } else {
            ips.into_iter()
                .map(|ip| {
                    (
                        text_or_empty(field(ip, "ipAddress")),
                        int(field(ip, "prefixLength")).unwrap_or(0),
                        text_or_empty(field(ip, "origin")),
                    )
                })
                .collect()
        };
        for (ip, prefix, origin) in entries {
            if ip.is_empty() {
                continue;
            }
            out.push(json!({
                "device": device_config_id.to_string(),
                "deviceConfigId": device_config_id,
                "mac": text_or_empty(field(nic, "macAddress")),
                "ip": ip,
                "origin": origin,
                "prefix": prefix,
                "dns": dns,
                "network": text_or_empty(field(nic, "network")),
            }));
        }
    }
    out
}

fn guest_ip_stacks(guest: Option<&Value>) -> Vec<Value> {
    let mut out = Vec::new();
    for stack in list(guest.and_then(|g| field(g, "ipStack"))) {
        let dns: Vec<Value> = list(path(stack, "dnsConfig/ipAddress"))
            .into_iter()
            .filter_map(|v| v.as_str().map(|s| json!(s)))
            .collect();
        for route in list(path(stack, "ipRouteConfig/ipRoute")) {
            let gateway = text_or_empty(path(route, "gateway/ipAddress"));
            if gateway.is_empty() {
                continue;
            }
            out.push(json!({
                "device": text_or_empty(path(route, "gateway/device")),
                "gateway": gateway,
                "network": text_or_empty(field(route, "network")),
                "prefix": int(field(route, "prefixLength")).unwrap_or(0),
                "dns": dns,
            }));
        }
    }
    out
}
