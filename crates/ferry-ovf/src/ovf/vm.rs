//! From a parsed [`Envelope`] to inventory [`Vm`]s.
use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::{Envelope, Item, VirtualSystem, units};
use crate::model::{Conf, Device, Disk, Integrity, Network, Nic, Vm};

/// CIM resource types used here (DSP1041 / CIM_ResourceAllocationSettingData).
mod rt {
    pub const CPU: u32 = 3;
    pub const MEMORY: u32 = 4;
    pub const IDE: u32 = 5;
    pub const SCSI: u32 = 6;
    pub const ETHERNET: u32 = 10;
    pub const DISK: u32 = 17;
    pub const OTHER_STORAGE: u32 = 20;
}

/// Where the envelope came from; used for paths and stable ids.
#[derive(Debug, Clone, Default)]
pub struct VmContext {
    /// Absolute path of the `.ova`, or of the `.ovf` of an extracted package (`ovaPath`).
    pub ova_path: String,
    /// Disk `filePath`: the `.ova` path, or the package folder with a trailing `/`.
    pub disk_file_path: String,
    /// Key the ids are derived from: the package path relative to the
    /// provider root, so ids survive rescans and a different mount point.
    pub id_key: String,
    /// Package integrity findings, copied into every VM.
    pub integrity: Integrity,
}

/// The VMs of `env`, one per `VirtualSystem`.
pub fn to_vms(env: &Envelope, ctx: &VmContext) -> Vec<Vm> {
    let single = env.systems.len() == 1;
    env.systems
        .iter()
        .enumerate()
        .map(|(index, vs)| {
            let key = if single {
                ctx.id_key.clone()
            } else if vs.ovf_id.is_empty() {
                format!("{}#{index}", ctx.id_key)
            } else {
                format!("{}#{}", ctx.id_key, vs.ovf_id)
            };
            build_vm(env, vs, ctx, &key, single)
        })
        .collect()
}

/// A 36-character hex id from SHA-256 of `kind:key` (the length of a UUID,
/// as Forklift's derived ids).
pub fn derived_id(kind: &str, key: &str) -> String {
    let digest = Sha256::digest(format!("{kind}:{key}").as_bytes());
    let mut hex = String::with_capacity(64);
    for b in digest.iter() {
        hex.push_str(&format!("{b:02x}"));
    }
    hex.truncate(36);
    hex
}

fn build_vm(env: &Envelope, vs: &VirtualSystem, ctx: &VmContext, key: &str, single: bool) -> Vm {
    let id = if is_uuid(&vs.ovf_id) {
        vs.ovf_id.to_ascii_lowercase()
    } else {
        derived_id("vm", key)
    };
    let config = |k: &str| config_value(&vs.configs, k);
    let flag = |k: &str| config(k).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let uuid = ["uuid.bios", "uuid"]
        .iter()
        .find_map(|k| config(k).and_then(normalize_uuid))
        .or_else(|| normalize_uuid(&vs.embedded_uuid))
        .unwrap_or_else(|| id.clone());
    let firmware = match config("firmware").map(str::to_ascii_lowercase) {
        Some(f) if f == "efi" || f == "bios" => f,
        _ if vs.vbox_firmware.starts_with("efi") => "efi".to_owned(),
        _ => "bios".to_owned(),
    };
    let os_type = [&vs.os_type, &vs.vbox_os_type, &vs.os_description]
        .into_iter()
        .find(|s| !s.is_empty())
        .cloned()
        .unwrap_or_default();
    let mut vm = Vm {
        id,
        name: if vs.name.is_empty() {
            vs.ovf_id.clone()
        } else {
            vs.name.clone()
        },
        ova_path: ctx.ova_path.clone(),
        ova_source: env.source,
        os_type,
        os_id: vs.os_id,
        uuid,
        firmware,
        secure_boot: flag("uefi.secureBoot.enabled") || flag("bootOptions.efiSecureBootEnabled"),
        cpu_affinity: config("sched.cpu.affinity")
            .map(parse_affinity)
            .unwrap_or_default(),
        cpu_hot_add_enabled: flag("cpuHotAddEnabled"),
        cpu_hot_remove_enabled: flag("cpuHotRemoveEnabled"),
        memory_hot_add_enabled: flag("memoryHotAddEnabled"),
        fault_tolerance_enabled: false,
        cpu_count: 0,
        cores_per_socket: 1,
        memory_mb: 0,
        memory_units: String::new(),
        cpu_units: String::new(),
        ballooned_memory: 0,
        ip_address: String::new(),
        numa_node_affinity: Vec::new(),
        storage_used: 0,
        change_tracking_enabled: false,
        devices: Vec::new(),
        nics: Vec::new(),
        disks: Vec::new(),
        networks: env
            .networks
            .iter()
            .map(|n| Network {
                id: derived_id("network", &n.name),
                name: n.name.clone(),
                description: n.description.clone(),
            })
            .collect(),
        integrity: ctx.integrity.clone(),
    };
    let controllers: HashMap<&str, &Item> = vs
        .items
        .iter()
        .filter(|i| !i.instance_id.is_empty())
        .map(|i| (i.instance_id.as_str(), i))
        .collect();
    let mut placement: HashMap<&str, (&Item, Option<&Item>)> = HashMap::new();
    for item in &vs.items {
        match item.resource_type {
            Some(rt::CPU) => {
                vm.cpu_count = clamp_i32(item.virtual_quantity.unwrap_or(0));
                vm.cpu_units = item.allocation_units.clone();
                vm.cores_per_socket = item
                    .cores_per_socket
                    .trim()
                    .parse::<i32>()
                    .ok()
                    .filter(|c| *c > 0)
                    .unwrap_or(1);
            }
            Some(rt::MEMORY) => {
                let quantity = item.virtual_quantity.unwrap_or(0);
                vm.memory_units = item.allocation_units.clone();
                vm.memory_mb = memory_mib(quantity, &item.allocation_units);
            }
            Some(rt::ETHERNET) => vm.nics.push(Nic {
                name: item.element_name.clone(),
                mac: item.address.to_ascii_lowercase(),
                network: item.connections.first().cloned().unwrap_or_default(),
                model: item.resource_sub_type.clone(),
                config: item.configs.clone(),
            }),
            Some(rt::DISK) => {
                for res in &item.host_resources {
                    if let Some(disk_id) = disk_reference(res) {
                        let parent = controllers.get(item.parent.as_str()).copied();
                        placement.insert(disk_id, (item, parent));
                    }
                }
            }
            _ => vm.devices.push(Device {
                kind: device_kind(item),
            }),
        }
    }
    let files: HashMap<&str, &super::FileRef> =
        env.files.iter().map(|f| (f.id.as_str(), f)).collect();
    for def in &env.disks {
        let placed = placement.get(def.disk_id.as_str());
        if !single && placed.is_none() {
            continue;
        }
        let file = files.get(def.file_ref.as_str());
        let href = file.map(|f| f.href.clone()).unwrap_or_default();
        let (bus, controller) = placed
            .and_then(|(_, parent)| *parent)
            .map(controller_kind)
            .unwrap_or_default();
        // A disk without a file (a blank disk) is keyed by its diskId.
        let disk_key = if href.is_empty() {
            format!("{}#{}", ctx.id_key, def.disk_id)
        } else {
            format!("{}/{}", ctx.id_key, href)
        };
        vm.disks.push(Disk {
            id: derived_id("disk", &disk_key),
            name: href,
            file_path: ctx.disk_file_path.clone(),
            capacity: def.capacity,
            capacity_allocation_units: def.capacity_units.clone(),
            capacity_bytes: def.capacity_bytes.unwrap_or(0),
            disk_id: def.disk_id.clone(),
            file_ref: def.file_ref.clone(),
            format: def.format.clone(),
            populated_size: def.populated_size.unwrap_or(0),
            parent_ref: def.parent_ref.clone(),
            file_size: file.and_then(|f| f.size).unwrap_or(0),
            compression: file.and_then(|f| f.compression.clone()).unwrap_or_default(),
            bus,
            controller,
            unit_number: placed.and_then(|(item, _)| item.address_on_parent),
        });
    }
    vm.storage_used = vm
        .disks
        .iter()
        .map(|d| {
            if d.populated_size > 0 {
                d.populated_size
            } else {
                d.file_size.max(0)
            }
        })
        .fold(0i64, i64::saturating_add);
    vm
}

fn config_value<'a>(configs: &'a [Conf], key: &str) -> Option<&'a str> {
    configs
        .iter()
        .find(|c| c.key == key)
        .map(|c| c.value.trim())
}

/// `ovf:/disk/<id>` (or `/disk/<id>`) → `<id>`.
fn disk_reference(res: &str) -> Option<&str> {
    let rest = res.strip_prefix("ovf:").unwrap_or(res);
    rest.strip_prefix("/disk/").filter(|id| !id.is_empty())
}

/// The bus and model of a disk's controller item.
fn controller_kind(item: &Item) -> (String, String) {
    let sub = item.resource_sub_type.clone();
    let lower = sub.to_ascii_lowercase();
    let bus = match item.resource_type {
        Some(rt::IDE) => "ide",
        Some(rt::SCSI) => "scsi",
        Some(rt::OTHER_STORAGE) if lower.contains("nvme") => "nvme",
        Some(rt::OTHER_STORAGE) => "sata",
        _ => "",
    };
    (bus.to_owned(), sub)
}

/// Memory in MiB; an unknown unit keeps the raw quantity as Forklift does.
fn memory_mib(quantity: i64, units_text: &str) -> i64 {
    let units_text = if units_text.trim().is_empty() {
        "byte * 2^20"
    } else {
        units_text
    };
    match units::to_bytes(quantity, units_text) {
        Some(bytes) => bytes / (1 << 20),
        None if units::byte_multiplier(units_text).is_none() => quantity,
        None => 0,
    }
}

fn clamp_i32(v: i64) -> i32 {
    i32::try_from(v.max(0)).unwrap_or(i32::MAX)
}

/// `0,2-3` → `[0, 2, 3]`; `all` or garbage → empty. Ranges are capped.
fn parse_affinity(text: &str) -> Vec<i32> {
    const MAX_CPUS: usize = 4096;
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (a.trim().parse::<i32>(), b.trim().parse::<i32>()),
            None => (part.parse::<i32>(), part.parse::<i32>()),
        };
        let (Ok(lo), Ok(hi)) = (lo, hi) else {
            return Vec::new();
        };
        for cpu in lo.max(0)..=hi {
            if out.len() >= MAX_CPUS {
                return out;
            }
            out.push(cpu);
        }
    }
    out
}

fn device_kind(item: &Item) -> String {
    let trimmed = item
        .element_name
        .trim_end_matches(|c: char| c.is_ascii_digit() || c.is_whitespace());
    let kind = if item.element_name.is_empty() {
        item.description.as_str()
    } else {
        trimmed
    };
    if kind.is_empty() {
        "Unknown".to_owned()
    } else {
        kind.to_owned()
    }
}

/// True for the 8-4-4-4-12 hex form (optionally in braces, as VirtualBox writes).
pub fn is_uuid(s: &str) -> bool {
    let s = s.trim_matches(|c| c == '{' || c == '}');
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// UUIDs as VMware (`42 25 63 29 ... 8c 3a-54 fd ...`), VirtualBox (`{...}`)
/// or plainly written, normalised to lower-case 8-4-4-4-12; `None` otherwise.
fn normalize_uuid(text: &str) -> Option<String> {
    let hex: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '{' | '}'))
        .collect();
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let h = hex.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affinity_parsing() {
        assert_eq!(parse_affinity("0,2"), vec![0, 2]);
        assert_eq!(parse_affinity("0-2, 5"), vec![0, 1, 2, 5]);
        assert_eq!(parse_affinity("all"), Vec::<i32>::new());
        assert_eq!(parse_affinity(""), Vec::<i32>::new());
        assert_eq!(parse_affinity("0-2147483647").len(), 4096);
    }

    #[test]
    fn uuid_forms() {
        assert!(is_uuid("42256329-8c3a-2a82-54fd-01d845a8bf49"));
        assert!(is_uuid("{42256329-8c3a-2a82-54fd-01d845a8bf49}"));
        assert!(!is_uuid("vm-1"));
        assert!(!is_uuid("42256329-8c3a-2a82-54fd-01d845a8bf4"));
        assert_eq!(
            normalize_uuid("42 25 63 29 8c 3a 2a 82-54 fd 01 d8 45 a8 bf 49").as_deref(),
            Some("42256329-8c3a-2a82-54fd-01d845a8bf49")
        );
        assert_eq!(normalize_uuid("nope"), None);
    }

    #[test]
    fn memory_units() {
        assert_eq!(memory_mib(2048, "byte * 2^20"), 2048);
        assert_eq!(memory_mib(4, "byte * 2^30"), 4096);
        assert_eq!(memory_mib(1024, "MegaBytes"), 1024);
        assert_eq!(memory_mib(512, ""), 512);
        assert_eq!(memory_mib(2147483648, "byte"), 2048);
        assert_eq!(memory_mib(77, "furlongs"), 77);
    }

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        assert_eq!(derived_id("vm", "a/b.ova"), derived_id("vm", "a/b.ova"));
        assert_ne!(derived_id("vm", "a/b.ova"), derived_id("vm", "a/c.ova"));
        assert_ne!(derived_id("vm", "x"), derived_id("disk", "x"));
        assert_eq!(derived_id("vm", "x").len(), 36);
    }
}
