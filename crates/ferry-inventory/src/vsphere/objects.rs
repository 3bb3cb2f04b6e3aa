//! Hosts, clusters, datacenters, datastores, networks and folders: their
//! properties → the JSON of Forklift's vSphere inventory (§4).
use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::props::{
    MoRef, Props, field, flag, int, list, moref, path, prop, text, text_or_empty, type_of,
};

/// Host properties the collector asks for.
pub const HOST_PROPERTIES: &[&str] = &[
    "name",
    "parent",
    "runtime.inMaintenanceMode",
    "runtime.connectionState",
    "summary.managementServerIp",
    "summary.config.product",
    "hardware.cpuInfo",
    "hardware.memorySize",
    "config.network.vnic",
    "config.certificate",
    "datastore",
    "vm",
    "network",
];

/// Cluster (and standalone compute resource) properties.
pub const CLUSTER_PROPERTIES: &[&str] = &[
    "name",
    "parent",
    "configurationEx",
    "host",
    "network",
    "datastore",
];

/// Datacenter properties.
pub const DATACENTER_PROPERTIES: &[&str] = &[
    "name",
    "parent",
    "vmFolder",
    "hostFolder",
    "datastoreFolder",
    "networkFolder",
];

/// Datastore properties.
pub const DATASTORE_PROPERTIES: &[&str] = &["name", "parent", "summary", "info"];

/// Standard network and opaque network properties.
pub const NETWORK_PROPERTIES: &[&str] = &["name", "parent"];

/// Distributed port group properties.
pub const PORTGROUP_PROPERTIES: &[&str] = &["name", "parent", "key", "config"];

/// Distributed switch properties.
pub const SWITCH_PROPERTIES: &[&str] = &["name", "parent", "uuid", "portgroup"];

/// Folder properties.
pub const FOLDER_PROPERTIES: &[&str] = &["name", "parent", "childEntity"];

fn refs(v: Option<&Value>, kind: &str) -> Value {
    Value::Array(
        list(v)
            .into_iter()
            .filter_map(|r| moref(Some(r)))
            .map(|r| json!({"kind": kind, "id": r.id}))
            .collect(),
    )
}

/// A host. `cluster` is the id of its cluster (its parent compute resource).
pub fn host_json(obj: &MoRef, props: &Props, cluster: &str) -> Value {
    let cpu = props.get("hardware.cpuInfo");
    let adapters: Vec<Value> = list(props.get("config.network.vnic"))
        .into_iter()
        .map(|v| {
            json!({
                "name": text_or_empty(field(v, "device")),
                "ipAddress": text_or_empty(path(v, "spec/ip/ipAddress")),
                "subnetMask": text_or_empty(path(v, "spec/ip/subnetMask")),
                "linkSpeed": 0,
                "mtu": int(path(v, "spec/mtu")).unwrap_or(0),
            })
        })
        .collect();
    let connection = text(props.get("runtime.connectionState")).unwrap_or_default();
    json!({
        "id": obj.id,
        "name": text_or_empty(props.get("name")),
        "cluster": cluster,
        "status": connection,
        "inMaintenance": flag(props.get("runtime.inMaintenanceMode")),
        "managementServerIp": text_or_empty(props.get("summary.managementServerIp")),
        "thumbprint": "",
        "cpuSockets": int(cpu.and_then(|c| field(c, "numCpuPackages"))).unwrap_or(0),
        "cpuCores": int(cpu.and_then(|c| field(c, "numCpuCores"))).unwrap_or(0),
        "memoryBytes": int(props.get("hardware.memorySize")).unwrap_or(0),
        "productName": text_or_empty(prop(props, "summary.config.product", "name")),
        "productVersion": text_or_empty(prop(props, "summary.config.product", "version")),
        "networkAdapters": adapters,
        "networks": refs(props.get("network"), "Network"),
        "datastores": refs(props.get("datastore"), "Datastore"),
        "vms": refs(props.get("vm"), "VM"),
        "hostScsiDisks": [],
        "advancedOptions": {},
    })
}

/// A cluster (or a standalone host's compute resource), with `datacenter`
/// the id of its datacenter.
pub fn cluster_json(obj: &MoRef, props: &Props, datacenter: &str) -> Value {
    let cfg = props.get("configurationEx");
    let c = |p: &str| cfg.and_then(|c| path(c, p));
    // VMs named by enabled VM-Host affinity rules (`affineHostGroupName`).
    let mut affinity_groups = BTreeSet::new();
    for rule in list(c("rule")) {
        if type_of(rule) == "ClusterVmHostRuleInfo"
            && field(rule, "enabled").is_none_or(|e| flag(Some(e)))
            && text(field(rule, "affineHostGroupName")).is_some_and(|s| !s.is_empty())
            && let Some(g) = text(field(rule, "vmGroupName"))
        {
            affinity_groups.insert(g.to_owned());
        }
    }
    let mut affinity_vms = BTreeSet::new();
    for group in list(c("group")) {
        if type_of(group) == "ClusterVmGroup"
            && text(field(group, "name")).is_some_and(|n| affinity_groups.contains(n))
        {
            for vm in list(field(group, "vm")) {
                if let Some(r) = moref(Some(vm)) {
                    affinity_vms.insert(r.id);
                }
            }
        }
    }
    json!({
        "id": obj.id,
        "name": text_or_empty(props.get("name")),
        "datacenter": datacenter,
        "dasEnabled": flag(c("dasConfig/enabled")),
        "dasVms": [],
        "drsEnabled": flag(c("drsConfig/enabled")),
        "drsBehavior": text_or_empty(c("drsConfig/defaultVmBehavior")),
        "drsVms": [],
        "dpmEnabled": flag(c("dpmConfigInfo/enabled")),
        "hostAffinityVms": affinity_vms
            .into_iter()
            .map(|id| json!({"kind": "VM", "id": id}))
            .collect::<Vec<_>>(),
        "hosts": refs(props.get("host"), "Host"),
        "networks": refs(props.get("network"), "Network"),
        "datastores": refs(props.get("datastore"), "Datastore"),
    })
}

/// A datacenter with its four top folders.
pub fn datacenter_json(obj: &MoRef, props: &Props) -> Value {
    let folder = |p: &str| match moref(props.get(p)) {
        Some(r) => json!({"kind": "Folder", "id": r.id}),
        None => json!({"kind": "", "id": ""}),
    };
    json!({
        "id": obj.id,
        "name": text_or_empty(props.get("name")),
        "vms": folder("vmFolder"),
        "clusters": folder("hostFolder"),
        "datastores": folder("datastoreFolder"),
        "networks": folder("networkFolder"),
    })
}

/// A datastore.
pub fn datastore_json(obj: &MoRef, props: &Props) -> Value {
    let summary = props.get("summary");
    let s = |k: &str| summary.and_then(|v| field(v, k));
    let info = props.get("info");
    let devices: Vec<Value> = list(info.and_then(|i| path(i, "vmfs/extent")))
        .into_iter()
        .filter_map(|e| text(field(e, "diskName")).map(|n| json!(n)))
        .collect();
    json!({
        "id": obj.id,
        "name": text_or_empty(props.get("name")),
        "type": text_or_empty(s("type")),
        "capacity": int(s("capacity")).unwrap_or(0),
        "free": int(s("freeSpace")).unwrap_or(0),
        "maintenance": text_or_empty(s("maintenanceMode")),
        "backingDevicesNames": devices,
        "nasRemoteHost": text_or_empty(info.and_then(|i| path(i, "nas/remoteHost"))),
        "nasRemotePath": text_or_empty(info.and_then(|i| path(i, "nas/remotePath"))),
    })
}

/// Forklift's network variant for a vSphere network type.
pub fn network_variant(kind: &str) -> &'static str {
    match kind {
        "DistributedVirtualPortgroup" => "DvPortGroup",
        "VmwareDistributedVirtualSwitch" | "DistributedVirtualSwitch" => "DvSwitch",
        "OpaqueNetwork" => "OpaqueNetwork",
        _ => "Standard",
    }
}

/// A network: standard, distributed port group (with its switch, VLAN and
/// key), distributed switch or opaque network.
pub fn network_json(obj: &MoRef, props: &Props) -> Value {
    let cfg = props.get("config");
    let vlan = cfg
        .and_then(|c| path(c, "defaultPortConfig/vlan"))
        .filter(|v| {
            type_of(v) == "VmwareDistributedVirtualSwitchVlanIdSpec" || type_of(v).is_empty()
        })
        .and_then(|v| int(field(v, "vlanId")));
    let switch = moref(cfg.and_then(|c| field(c, "distributedVirtualSwitch")));
    json!({
        "id": obj.id,
        "name": text_or_empty(props.get("name")),
        "variant": network_variant(&obj.kind),
        "dvSwitch": match switch {
            Some(r) => json!({"kind": "Network", "id": r.id}),
            None => json!({"kind": "", "id": ""}),
        },
        "vlanId": vlan.map(|v| v.to_string()).unwrap_or_default(),
        "key": text_or_empty(props.get("key")),
    })
}

/// A folder with its children.
pub fn folder_json(
    obj: &MoRef,
    props: &Props,
    kind_of: &dyn Fn(&str) -> Option<&'static str>,
) -> Value {
    let children: Vec<Value> = list(props.get("childEntity"))
        .into_iter()
        .filter_map(|r| moref(Some(r)))
        .filter_map(|r| kind_of(&r.kind).map(|k| json!({"kind": k, "id": r.id})))
        .collect();
    json!({
        "id": obj.id,
        "name": text_or_empty(props.get("name")),
        "children": children,
    })
}
