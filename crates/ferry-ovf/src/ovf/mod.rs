//! OVF envelope parsing (DMTF DSP0243 1.x/2.x as written by VMware ovftool
//! and vSphere export, VirtualBox, and other exporters; also OVF 0.9, whose
//! sections and virtual systems are `Section`/`Content` elements named by
//! their `xsi:type`).
//!
//! The document is untrusted: it must fit in [`ParseOptions::max_bytes`],
//! DTDs are refused (so no entity expansion), the node count is capped, and
//! elements are matched by local name so namespace-prefix games change
//! nothing. File references are checked by [`crate::href::check`] and never
//! opened here: this module does no I/O.
mod vm;

pub mod units;

pub use vm::{VmContext, derived_id, to_vms};

use std::collections::HashMap;

use roxmltree::{Document, Node};

use crate::error::{Error, ErrorKind, Result};
use crate::href;
use crate::model::{Conf, FileProblemKind, OvaSource};

/// Limits for one OVF document.
#[derive(Debug, Clone, Copy)]
pub struct ParseOptions {
    /// Largest accepted document in bytes (default 16 MiB).
    pub max_bytes: usize,
    /// Largest accepted number of XML nodes (default 500,000).
    pub max_nodes: u32,
    /// Largest accepted number of virtual systems, disks, files or items each (default 10,000).
    pub max_entries: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        Self {
            max_bytes: 16 << 20,
            max_nodes: 500_000,
            max_entries: 10_000,
        }
    }
}

/// A parsed envelope: the package-wide sections and its virtual systems.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// Export source guessed from the envelope's namespaces.
    pub source: OvaSource,
    /// `References/File` entries.
    pub files: Vec<FileRef>,
    /// `DiskSection/Disk` entries.
    pub disks: Vec<DiskDef>,
    /// `NetworkSection/Network` entries.
    pub networks: Vec<NetworkDef>,
    /// `VirtualSystem` elements (direct, or inside a `VirtualSystemCollection`).
    pub systems: Vec<VirtualSystem>,
}

/// A `References/File`.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRef {
    /// `ovf:id`.
    pub id: String,
    /// `ovf:href` as written.
    pub href: String,
    /// The href normalised to a path inside the package, or why it is refused.
    pub path: Result<String, FileProblemKind>,
    /// `ovf:size` in bytes.
    pub size: Option<i64>,
    /// `ovf:compression` (`gzip`), when set.
    pub compression: Option<String>,
}

/// A `DiskSection/Disk`.
#[derive(Debug, Clone, PartialEq)]
pub struct DiskDef {
    /// `ovf:diskId`.
    pub disk_id: String,
    /// `ovf:capacity` parsed as an integer; 0 when absent or unparsable.
    pub capacity: i64,
    /// `ovf:capacity` as written (a `${property}` reference is resolved from
    /// the ProductSection property's default value into `capacity`).
    pub capacity_text: String,
    /// `ovf:capacityAllocationUnits`, `byte` when absent.
    pub capacity_units: String,
    /// Capacity in bytes, when the units are understood and it fits.
    pub capacity_bytes: Option<i64>,
    /// `ovf:populatedSize`.
    pub populated_size: Option<i64>,
    /// `ovf:fileRef`.
    pub file_ref: String,
    /// `ovf:format`.
    pub format: String,
    /// `ovf:parentRef`.
    pub parent_ref: String,
}

/// A `NetworkSection/Network`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkDef {
    /// `ovf:name`.
    pub name: String,
    /// `Description`.
    pub description: String,
}

/// A `VirtualSystem`.
#[derive(Debug, Clone, PartialEq)]
pub struct VirtualSystem {
    /// `ovf:id`.
    pub ovf_id: String,
    /// `Name`, empty when absent.
    pub name: String,
    /// `OperatingSystemSection` `ovf:id`.
    pub os_id: Option<u32>,
    /// `OperatingSystemSection` `vmw:osType`.
    pub os_type: String,
    /// `OperatingSystemSection/Description`.
    pub os_description: String,
    /// VirtualBox's `vbox:OSType` text.
    pub vbox_os_type: String,
    /// `System/VirtualSystemType` (e.g. `vmx-19`, `virtualbox-2.2`).
    pub system_type: String,
    /// Hardware items (`Item`, `StorageItem`, `EthernetPortItem`).
    pub items: Vec<Item>,
    /// `vmw:Config` and `vmw:ExtraConfig` of the hardware section.
    pub configs: Vec<Conf>,
    /// VirtualBox machine firmware (`vbox:Machine/Hardware/Firmware type`), lower-cased.
    pub vbox_firmware: String,
    /// `vmw:uuid` or `vbox:Machine uuid` when present.
    pub embedded_uuid: String,
}

/// One hardware item (CIM_ResourceAllocationSettingData and its OVF 2 variants).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Item {
    /// `InstanceID`.
    pub instance_id: String,
    /// `ResourceType` number.
    pub resource_type: Option<u32>,
    /// `ResourceSubType`.
    pub resource_sub_type: String,
    /// `ElementName` (`Caption` in OVF 0.9).
    pub element_name: String,
    /// `Description`.
    pub description: String,
    /// `VirtualQuantity`.
    pub virtual_quantity: Option<i64>,
    /// `AllocationUnits`.
    pub allocation_units: String,
    /// `Address` (the MAC of a NIC).
    pub address: String,
    /// `AddressOnParent`.
    pub address_on_parent: Option<u32>,
    /// `Parent` (the controller's `InstanceID`).
    pub parent: String,
    /// `HostResource` values (`ovf:/disk/vmdisk1`, `ovf:/file/file1`).
    pub host_resources: Vec<String>,
    /// `Connection` values (network names).
    pub connections: Vec<String>,
    /// `vmw:CoresPerSocket`.
    pub cores_per_socket: String,
    /// `vmw:Config` children.
    pub configs: Vec<Conf>,
}

/// Parse an OVF document from bytes. Errors name `origin` (the file).
pub fn parse(bytes: &[u8], origin: &str, opts: &ParseOptions) -> Result<Envelope> {
    if bytes.len() > opts.max_bytes {
        return Err(Error::new(
            ErrorKind::Limit,
            format!(
                "OVF descriptor {origin} is {} bytes, more than the limit of {} bytes",
                bytes.len(),
                opts.max_bytes
            ),
        ));
    }
    let text = std::str::from_utf8(strip_bom(bytes)).map_err(|e| {
        Error::new(
            ErrorKind::Xml,
            format!("OVF descriptor {origin} is not UTF-8 text"),
        )
        .with_source(e)
    })?;
    let xml_opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: opts.max_nodes,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = Document::parse_with_options(text, xml_opts).map_err(|e| {
        let message = match e {
            roxmltree::Error::DtdDetected => format!(
                "OVF descriptor {origin} has a DTD, and DTDs are refused (they can expand entities); remove the <!DOCTYPE> declaration"
            ),
            _ => format!("OVF descriptor {origin} is not well-formed XML"),
        };
        Error::new(ErrorKind::Xml, message).with_source(e)
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "Envelope" {
        return Err(Error::invalid(format!(
            "OVF descriptor {origin} has root element <{}>, expected <Envelope>",
            root.tag_name().name()
        )));
    }
    let limit = |what: &str, n: usize| -> Result<()> {
        if n > opts.max_entries {
            return Err(Error::new(
                ErrorKind::Limit,
                format!(
                    "OVF descriptor {origin} has {n} {what}, more than the limit of {}",
                    opts.max_entries
                ),
            ));
        }
        Ok(())
    };
    let files: Vec<FileRef> = children(root, "References")
        .flat_map(|r| children(r, "File"))
        .map(parse_file)
        .collect();
    limit("file references", files.len())?;
    let properties = product_properties(root);
    let disks: Vec<DiskDef> = children(root, "DiskSection")
        .flat_map(|s| children(s, "Disk"))
        .map(|d| parse_disk(d, &properties))
        .collect();
    limit("disks", disks.len())?;
    let networks: Vec<NetworkDef> = children(root, "NetworkSection")
        .flat_map(|s| children(s, "Network"))
        .map(|n| NetworkDef {
            name: attr(n, "name").to_owned(),
            description: child_text(n, "Description"),
        })
        .collect();
    limit("networks", networks.len())?;
    let mut systems = Vec::new();
    collect_systems(root, &mut systems, 0);
    limit("virtual systems", systems.len())?;
    let systems: Vec<VirtualSystem> = systems.into_iter().map(parse_system).collect();
    for s in &systems {
        limit("hardware items", s.items.len())?;
    }
    if systems.is_empty() {
        return Err(Error::invalid(format!(
            "OVF descriptor {origin} has no VirtualSystem"
        )));
    }
    Ok(Envelope {
        source: guess_source(root),
        files,
        disks,
        networks,
        systems,
    })
}

/// Forklift's export-source guess: a Citrix/XenClient, VirtualBox or oVirt
/// namespace (declared or as an attribute value on `Envelope`) decides; else
/// a VMware namespace means VMware; else Unknown.
pub fn guess_source(envelope: Node<'_, '_>) -> OvaSource {
    let known = |uri: &str| match uri {
        "http://schemas.citrix.com/ovf/envelope/1" | "http://www.citrix.com/xenclient/ovf/1" => {
            Some(OvaSource::Xen)
        }
        "http://www.virtualbox.org/ovf/machine" => Some(OvaSource::VirtualBox),
        "http://www.ovirt.org/ovf" => Some(OvaSource::Ovirt),
        _ => None,
    };
    let values = envelope
        .namespaces()
        .filter(|ns| ns.name() != Some("xml"))
        .map(|ns| ns.uri())
        .chain(envelope.attributes().map(|a| a.value()));
    let mut vmware = false;
    for value in values {
        if let Some(source) = known(value) {
            return source;
        }
        vmware |= value.contains("http://www.vmware.com/schema/ovf");
    }
    if vmware {
        OvaSource::VMware
    } else {
        OvaSource::Unknown
    }
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Nesting depth of `VirtualSystemCollection`s that is followed.
const MAX_COLLECTION_DEPTH: usize = 8;

fn collect_systems<'a, 'i>(node: Node<'a, 'i>, out: &mut Vec<Node<'a, 'i>>, depth: usize) {
    for c in node.children().filter(Node::is_element) {
        match element_kind(c) {
            "VirtualSystem" => out.push(c),
            "VirtualSystemCollection" if depth < MAX_COLLECTION_DEPTH => {
                collect_systems(c, out, depth + 1)
            }
            _ => {}
        }
    }
}

fn parse_file(n: Node<'_, '_>) -> FileRef {
    let href = attr(n, "href").to_owned();
    FileRef {
        id: attr(n, "id").to_owned(),
        path: href::check(&href),
        href,
        size: attr(n, "size").trim().parse().ok(),
        compression: Some(attr(n, "compression").to_owned()).filter(|c| !c.is_empty()),
    }
}

/// `ProductSection/Property` defaults (`ovf:key` → `ovf:value`) of every
/// virtual system, for capacities written as `${key}`.
fn product_properties<'a>(root: Node<'a, '_>) -> HashMap<&'a str, &'a str> {
    root.descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "Property")
        .filter(|n| {
            n.parent_element()
                .is_some_and(|p| element_kind(p) == "ProductSection")
        })
        .map(|n| (attr(n, "key"), attr(n, "value")))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

fn parse_disk(n: Node<'_, '_>, properties: &HashMap<&str, &str>) -> DiskDef {
    let capacity_text = attr(n, "capacity").trim().to_owned();
    let resolved = capacity_text
        .strip_prefix("${")
        .and_then(|r| r.strip_suffix('}'))
        .and_then(|key| properties.get(key.trim()).copied())
        .unwrap_or(&capacity_text);
    let capacity = resolved.trim().parse().unwrap_or(0);
    let units = attr(n, "capacityAllocationUnits").trim();
    let capacity_units = if units.is_empty() { "byte" } else { units }.to_owned();
    DiskDef {
        disk_id: attr(n, "diskId").to_owned(),
        capacity_bytes: units::to_bytes(capacity, &capacity_units).filter(|b| *b >= 0),
        capacity,
        capacity_text,
        capacity_units,
        populated_size: attr(n, "populatedSize").trim().parse().ok(),
        file_ref: attr(n, "fileRef").to_owned(),
        format: attr(n, "format").to_owned(),
        parent_ref: attr(n, "parentRef").to_owned(),
    }
}

fn parse_system(vs: Node<'_, '_>) -> VirtualSystem {
    let os = children(vs, "OperatingSystemSection").next();
    let hw = children(vs, "VirtualHardwareSection").next();
    let mut items = Vec::new();
    let mut configs = Vec::new();
    let mut system_type = String::new();
    if let Some(hw) = hw {
        for c in hw.children().filter(Node::is_element) {
            match element_kind(c) {
                "Item" | "StorageItem" | "EthernetPortItem" => items.push(parse_item(c)),
                "Config" | "ExtraConfig" => configs.push(parse_conf(c)),
                "System" => system_type = child_text(c, "VirtualSystemType"),
                _ => {}
            }
        }
    }
    let vbox_machine = vs
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "Machine");
    let vbox_firmware = vbox_machine
        .and_then(|m| {
            m.descendants()
                .find(|n| n.is_element() && n.tag_name().name() == "Firmware")
        })
        .map(|f| attr(f, "type").to_ascii_lowercase())
        .unwrap_or_default();
    let embedded_uuid = vbox_machine
        .map(|m| {
            attr(m, "uuid")
                .trim_matches(|c| c == '{' || c == '}')
                .to_owned()
        })
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| attr(vs, "uuid").to_owned());
    VirtualSystem {
        ovf_id: attr(vs, "id").to_owned(),
        name: child_text(vs, "Name"),
        os_id: os.and_then(|o| attr(o, "id").trim().parse().ok()),
        os_type: os.map(|o| attr(o, "osType").to_owned()).unwrap_or_default(),
        os_description: os.map(|o| child_text(o, "Description")).unwrap_or_default(),
        vbox_os_type: os.map(|o| child_text(o, "OSType")).unwrap_or_default(),
        system_type,
        items,
        configs,
        vbox_firmware,
        embedded_uuid,
    }
}

fn parse_item(n: Node<'_, '_>) -> Item {
    let mut item = Item::default();
    for c in n.children().filter(Node::is_element) {
        let text = || c.text().unwrap_or_default().trim().to_owned();
        match c.tag_name().name() {
            "InstanceID" | "InstanceId" => item.instance_id = text(),
            "ResourceType" => item.resource_type = text().parse().ok(),
            "ResourceSubType" => item.resource_sub_type = text(),
            "ElementName" => item.element_name = text(),
            "Caption" if item.element_name.is_empty() => item.element_name = text(),
            "Description" => item.description = text(),
            "VirtualQuantity" => item.virtual_quantity = text().parse().ok(),
            "AllocationUnits" => item.allocation_units = text(),
            "Address" => item.address = text(),
            "AddressOnParent" => item.address_on_parent = text().parse().ok(),
            "Parent" => item.parent = text(),
            "HostResource" => item.host_resources.push(text()),
            "Connection" => item.connections.push(text()),
            "CoresPerSocket" => item.cores_per_socket = text(),
            "Config" => item.configs.push(parse_conf(c)),
            _ => {}
        }
    }
    item
}

fn parse_conf(n: Node<'_, '_>) -> Conf {
    Conf {
        key: attr(n, "key").to_owned(),
        value: attr(n, "value").to_owned(),
    }
}

/// Element children of `n` of kind `name` (see [`element_kind`]).
fn children<'a, 'i>(n: Node<'a, 'i>, name: &'static str) -> impl Iterator<Item = Node<'a, 'i>> {
    n.children()
        .filter(move |c| c.is_element() && element_kind(*c) == name)
}

/// The XML Schema instance namespace (`xsi:type`).
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// What an element is: its local name, except for OVF 0.9's generic
/// `<Section xsi:type="ovf:DiskSection_Type">` and `<Content
/// xsi:type="ovf:VirtualSystem_Type">`, which are named by their type
/// without prefix and `_Type` suffix (`DiskSection`, `VirtualSystem`), as
/// OVF 1.x names the elements themselves.
fn element_kind<'a>(n: Node<'a, '_>) -> &'a str {
    let name = n.tag_name().name();
    if !matches!(name, "Section" | "Content") {
        return name;
    }
    let xsi_type = n
        .attributes()
        .find(|a| a.name() == "type" && a.namespace() == Some(XSI))
        .map(|a| a.value())
        .unwrap_or_default();
    let local = xsi_type.rsplit(':').next().unwrap_or_default();
    match local.strip_suffix("_Type") {
        Some(kind) if !kind.is_empty() => kind,
        _ => name,
    }
}

/// Trimmed text of the first child element `name`, empty when absent.
fn child_text(n: Node<'_, '_>, name: &'static str) -> String {
    children(n, name)
        .next()
        .and_then(|c| c.text())
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// The first attribute with local name `name` in any namespace (OVF writes
/// `ovf:capacity`, ovftool writes `vmw:key`, some tools omit the prefix).
fn attr<'a>(n: Node<'a, '_>, name: &str) -> &'a str {
    n.attributes()
        .find(|a| a.name() == name)
        .map(|a| a.value())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
