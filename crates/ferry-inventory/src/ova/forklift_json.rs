//! The OVA VM document as current Forklift serves it. Forklift renamed
//! `ovaPath`/`ovaSource` to `ovfPath`/`exportSource`, and its nested disks,
//! NICs, devices and networks are Go structs without JSON tags, so their
//! fields are Go-cased (`FilePath`, `MAC`, `Config[].Key`). The document
//! carries both spellings: ferry's own camelCase names (which the OVA
//! validation policies and older clients read) stay as aliases.
use serde_json::{Map, Value};

/// Top-level renames: (ferry's name, current Forklift's name).
const VM_FIELDS: &[(&str, &str)] = &[("ovaPath", "ovfPath"), ("ovaSource", "exportSource")];

/// Go field names of Forklift's nested OVA model, per array of the VM.
const NESTED: &[(&str, &[(&str, &str)])] = &[
    (
        "disks",
        &[
            ("id", "ID"),
            ("name", "Name"),
            ("filePath", "FilePath"),
            ("capacity", "Capacity"),
            ("capacityAllocationUnits", "CapacityAllocationUnits"),
            ("diskId", "DiskId"),
            ("fileRef", "FileRef"),
            ("format", "Format"),
            ("populatedSize", "PopulatedSize"),
        ],
    ),
    (
        "nics",
        &[("name", "Name"), ("mac", "MAC"), ("network", "Network")],
    ),
    ("devices", &[("kind", "Kind")]),
    (
        "networks",
        &[
            ("id", "ID"),
            ("name", "Name"),
            ("description", "Description"),
        ],
    ),
];

/// Add current Forklift's field names to a serialised OVA VM.
pub fn add_forklift_names(vm: &mut Value) {
    let Some(obj) = vm.as_object_mut() else {
        return;
    };
    for (ours, theirs) in VM_FIELDS {
        if let Some(v) = obj.get(*ours).cloned() {
            obj.insert((*theirs).to_owned(), v);
        }
    }
    for (array, fields) in NESTED {
        let Some(items) = obj.get_mut(*array).and_then(Value::as_array_mut) else {
            continue;
        };
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            copy(item, fields);
            if *array == "nics" {
                let config = go_config(item.get("config"));
                item.insert("Config".to_owned(), config);
            }
        }
    }
}

fn copy(item: &mut Map<String, Value>, fields: &[(&str, &str)]) {
    for (ours, theirs) in fields {
        if let Some(v) = item.get(*ours).cloned() {
            item.insert((*theirs).to_owned(), v);
        }
    }
}

/// A NIC's `config` as `[{Key, Value}]`.
fn go_config(config: Option<&Value>) -> Value {
    let entries = config
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    Value::Array(
        entries
            .iter()
            .map(|c| {
                let mut m = Map::new();
                m.insert("Key".to_owned(), c.get("key").cloned().unwrap_or_default());
                m.insert(
                    "Value".to_owned(),
                    c.get("value").cloned().unwrap_or_default(),
                );
                Value::Object(m)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn current_forklift_names_are_added_and_ferry_names_kept() {
        let mut vm = json!({
            "name": "web", "ovaPath": "/nfs/web.ova", "ovaSource": "VMware",
            "disks": [{"id": "d1", "name": "web-disk1.vmdk", "filePath": "/nfs/web.ova",
                       "capacity": 4, "capacityAllocationUnits": "byte * 2^30",
                       "diskId": "vmdisk1", "fileRef": "file1", "format": "f",
                       "populatedSize": 10}],
            "nics": [{"name": "Network adapter 1", "mac": "00:50:56:01:02:03",
                      "network": "VM Network",
                      "config": [{"key": "slotInfo.pciSlotNumber", "value": "160"}]}],
            "devices": [{"kind": "USB controller"}],
            "networks": [{"id": "n1", "name": "VM Network", "description": "d"}]
        });
        add_forklift_names(&mut vm);
        assert_eq!(vm["ovfPath"], "/nfs/web.ova");
        assert_eq!(vm["ovaPath"], "/nfs/web.ova");
        assert_eq!(vm["exportSource"], "VMware");
        let disk = &vm["disks"][0];
        assert_eq!(disk["FilePath"], "/nfs/web.ova");
        assert_eq!(disk["CapacityAllocationUnits"], "byte * 2^30");
        assert_eq!(disk["DiskId"], "vmdisk1");
        assert_eq!(disk["PopulatedSize"], 10);
        assert_eq!(disk["capacity"], 4, "ferry's name stays");
        let nic = &vm["nics"][0];
        assert_eq!(nic["MAC"], "00:50:56:01:02:03");
        assert_eq!(nic["Network"], "VM Network");
        assert_eq!(
            nic["Config"],
            json!([{"Key": "slotInfo.pciSlotNumber", "Value": "160"}])
        );
        assert_eq!(vm["devices"][0]["Kind"], "USB controller");
        assert_eq!(vm["networks"][0]["Description"], "d");
    }
}
