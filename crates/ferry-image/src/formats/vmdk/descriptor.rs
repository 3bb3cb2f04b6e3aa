//! The VMDK text descriptor: `createType`, the extent lines, the parent link
//! and the `ddb.*` disk database. The descriptor is untrusted text: lines are
//! parsed leniently (unknown keys are kept, comments skipped) but extent
//! lines must be well formed, and sizes are capped.
use std::borrow::Cow;

use crate::error::{Error, Result};

/// Largest descriptor accepted, in bytes (real ones are under 2 KiB).
pub const MAX_DESCRIPTOR: usize = 1 << 20;
/// Most extent lines accepted (a 2 TiB twoGbMaxExtent disk has 1024).
pub const MAX_EXTENTS: usize = 8192;
/// `parentCID` value meaning "no parent".
const NO_PARENT: &str = "ffffffff";

/// Access mode of an extent line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `RW`
    ReadWrite,
    /// `RDONLY`
    ReadOnly,
    /// `NOACCESS`
    NoAccess,
}

/// The kind of an extent line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtentType {
    /// `SPARSE`: a hosted sparse file (`KDMV`).
    Sparse,
    /// `FLAT`: raw bytes at an offset.
    Flat,
    /// `ZERO`: reads as zero, no file.
    Zero,
    /// `VMFS`: raw bytes on VMFS (read as flat).
    Vmfs,
    /// `VMFSSPARSE`: a COWD redo log.
    VmfsSparse,
    /// `SESPARSE`: a VMFS6 space-efficient sparse delta.
    SeSparse,
    /// `VMFSRDM` / `VMFSRAW`: a raw device mapping.
    VmfsRdm,
}

impl ExtentType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "SPARSE" => Self::Sparse,
            "FLAT" => Self::Flat,
            "ZERO" => Self::Zero,
            "VMFS" => Self::Vmfs,
            "VMFSSPARSE" => Self::VmfsSparse,
            "SESPARSE" => Self::SeSparse,
            "VMFSRDM" | "VMFSRAW" => Self::VmfsRdm,
            _ => return None,
        })
    }
}

/// One extent line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtentLine {
    /// Access mode.
    pub access: Access,
    /// Size in 512-byte sectors.
    pub sectors: u64,
    /// Extent type.
    pub kind: ExtentType,
    /// File name as written (absent for `ZERO`).
    pub file: Option<String>,
    /// Start offset inside the file, in sectors (flat extents).
    pub offset: u64,
}

/// A parsed descriptor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Descriptor {
    /// `createType` (e.g. `monolithicSparse`).
    pub create_type: String,
    /// `CID`, when present.
    pub cid: Option<u32>,
    /// `parentCID`, when it names a parent (not `ffffffff`).
    pub parent_cid: Option<u32>,
    /// `parentFileNameHint`, when present.
    pub parent_hint: Option<String>,
    /// Extent lines in guest order.
    pub extents: Vec<ExtentLine>,
    /// `ddb.*` keys with their (unquoted) values.
    pub ddb: Vec<(String, String)>,
}

impl Descriptor {
    /// Sum of the extents' sizes in sectors.
    pub fn total_sectors(&self) -> Result<u64> {
        self.extents.iter().try_fold(0u64, |acc, e| {
            acc.checked_add(e.sectors)
                .ok_or_else(|| Error::corrupt("the descriptor's extent sizes overflow"))
        })
    }

    /// True when a parent (snapshot base) is named.
    pub fn has_parent(&self) -> bool {
        self.parent_cid.is_some() && self.parent_hint.is_some()
    }

    /// Value of a `ddb.` key.
    pub fn ddb(&self, key: &str) -> Option<&str> {
        self.ddb
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// True when `head` (the first bytes of a file) looks like a text
/// descriptor: it starts with `# Disk DescriptorFile`, has a `createType`
/// line, or (as qemu-img probes) its first line that is not a comment is
/// `version=N`, so a descriptor whose first line is damaged is still
/// recognised.
pub fn looks_like_descriptor(head: &[u8]) -> bool {
    let head = &head[..head.len().min(1024)];
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start();
    if text.starts_with("# Disk DescriptorFile")
        || text.contains("\ncreateType")
        || text.starts_with("createType")
    {
        return true;
    }
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .is_some_and(|l| matches!(l, "version=1" | "version=2" | "version=3"))
}

/// Parse descriptor text. Stops at the first NUL (embedded descriptors are
/// NUL padded).
pub fn parse(bytes: &[u8]) -> Result<Descriptor> {
    if bytes.len() > MAX_DESCRIPTOR {
        return Err(Error::new(
            crate::ErrorKind::Limit,
            format!(
                "the descriptor is {} bytes, more than the limit of {MAX_DESCRIPTOR}",
                bytes.len()
            ),
        ));
    }
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let text = decode(&bytes[..end])?;
    let mut d = Descriptor::default();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(ext) =
            parse_extent_line(line).map_err(|e| e.within(format!("line {}", n + 1)))?
        {
            if d.extents.len() >= MAX_EXTENTS {
                return Err(Error::new(
                    crate::ErrorKind::Limit,
                    format!("the descriptor has more than {MAX_EXTENTS} extents"),
                ));
            }
            d.extents.push(ext);
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        let value = unquote(value.trim());
        match key {
            "createType" => d.create_type = value.to_string(),
            "CID" => d.cid = u32::from_str_radix(value, 16).ok(),
            "parentCID" if !value.eq_ignore_ascii_case(NO_PARENT) => {
                d.parent_cid = Some(u32::from_str_radix(value, 16).map_err(|_| {
                    Error::corrupt(format!(
                        "line {}: parentCID {value:?} is not hexadecimal",
                        n + 1
                    ))
                })?);
            }
            "parentFileNameHint" => d.parent_hint = Some(value.to_string()),
            k if k.starts_with("ddb.") => d.ddb.push((k.to_string(), value.to_string())),
            _ => {}
        }
    }
    Ok(d)
}

/// The descriptor as text. UTF-8 is taken as is; otherwise the text is
/// decoded per its `ddb.encoding` (VMware tools write `windows-1252`,
/// `Shift_JIS`, `GBK`, ...). Without a usable declared encoding, bytes that
/// are not UTF-8 are tolerated in comments only (replaced by U+FFFD): a
/// damaged file name or size must not be guessed.
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Cow::Borrowed(text));
    }
    let label = declared_encoding(bytes);
    if let Some(enc) = label
        .as_deref()
        .and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes()))
        && let Some(text) = enc.decode_without_bom_handling_and_without_replacement(bytes)
    {
        return Ok(text);
    }
    let text = String::from_utf8_lossy(bytes);
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.contains('\u{fffd}') && !line.starts_with('#') {
            let why = match &label {
                Some(l) => format!("its declared encoding {l:?} is unknown or does not fit"),
                None => "it declares no ddb.encoding".to_string(),
            };
            return Err(Error::corrupt(format!(
                "line {} of the descriptor is not valid UTF-8 and {why}; \
                 re-save the descriptor as UTF-8 (or set ddb.encoding)",
                n + 1
            )));
        }
    }
    Ok(text)
}

/// The value of `ddb.encoding`, read from the raw bytes (the key and the
/// value are ASCII in every encoding VMware writes).
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    bytes.split(|&b| b == b'\n').find_map(|raw| {
        let line = std::str::from_utf8(raw).ok()?.trim();
        let (key, value) = line.split_once('=')?;
        (key.trim() == "ddb.encoding").then(|| unquote(value.trim()).to_string())
    })
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

/// Parse `ACCESS SECTORS TYPE ["file" [offset]]`; `Ok(None)` when the line is
/// not an extent line at all.
fn parse_extent_line(line: &str) -> Result<Option<ExtentLine>> {
    let (first, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let access = match first {
        "RW" => Access::ReadWrite,
        "RDONLY" => Access::ReadOnly,
        "NOACCESS" => Access::NoAccess,
        _ => return Ok(None),
    };
    let rest = rest.trim_start();
    let (sectors_s, rest) = rest
        .split_once(char::is_whitespace)
        .ok_or_else(|| Error::corrupt(format!("extent line {line:?} has no type")))?;
    let sectors: u64 = sectors_s.parse().map_err(|_| {
        Error::corrupt(format!(
            "extent line {line:?} has an invalid size {sectors_s:?}"
        ))
    })?;
    let rest = rest.trim_start();
    let (type_s, rest) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let kind = ExtentType::parse(type_s).ok_or_else(|| {
        Error::unsupported(format!(
            "extent line {line:?} has the unknown extent type {type_s:?}"
        ))
    })?;
    let rest = rest.trim();
    let (file, tail) = if let Some(q) = rest.strip_prefix('"') {
        let close = q
            .find('"')
            .ok_or_else(|| Error::corrupt(format!("extent line {line:?} has an unclosed quote")))?;
        (Some(q[..close].to_string()), q[close + 1..].trim())
    } else if rest.is_empty() {
        (None, "")
    } else {
        return Err(Error::corrupt(format!(
            "extent line {line:?}: the file name must be quoted"
        )));
    };
    let offset = match tail.split_whitespace().next() {
        None => 0,
        Some(o) => o.parse().map_err(|_| {
            Error::corrupt(format!("extent line {line:?} has an invalid offset {o:?}"))
        })?,
    };
    if kind != ExtentType::Zero && file.is_none() {
        return Err(Error::corrupt(format!(
            "extent line {line:?} names no file"
        )));
    }
    Ok(Some(ExtentLine {
        access,
        sectors,
        kind,
        file,
        offset,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# Disk DescriptorFile\nversion=1\nCID=1a2b3c4d\nparentCID=ffffffff\ncreateType=\"twoGbMaxExtentSparse\"\n\n# Extent description\nRW 4192256 SPARSE \"d-s001.vmdk\"\nRW 8 SPARSE \"d s002.vmdk\"\nRDONLY 100 FLAT \"f.vmdk\" 7\nRW 50 ZERO\n\nddb.adapterType = \"lsilogic\"\nddb.geometry.heads = \"16\"\n";

    #[test]
    fn parse_sample_reads_every_field() {
        let d = parse(SAMPLE.as_bytes()).unwrap();
        assert_eq!(d.create_type, "twoGbMaxExtentSparse");
        assert_eq!(d.cid, Some(0x1a2b3c4d));
        assert_eq!(d.parent_cid, None);
        assert_eq!(d.extents.len(), 4);
        assert_eq!(d.extents[1].file.as_deref(), Some("d s002.vmdk"));
        assert_eq!(d.extents[2].access, Access::ReadOnly);
        assert_eq!(d.extents[2].offset, 7);
        assert_eq!(d.extents[3].kind, ExtentType::Zero);
        assert_eq!(d.extents[3].file, None);
        assert_eq!(d.total_sectors().unwrap(), 4192256 + 8 + 100 + 50);
        assert_eq!(d.ddb("ddb.adapterType"), Some("lsilogic"));
    }

    #[test]
    fn parse_parent_is_read() {
        let d = parse(b"createType=\"monolithicSparse\"\nparentCID=12345678\nparentFileNameHint=\"base.vmdk\"\nRW 8 SPARSE \"x.vmdk\"\0\0garbage").unwrap();
        assert!(d.has_parent());
        assert_eq!(d.parent_hint.as_deref(), Some("base.vmdk"));
    }

    #[test]
    fn parse_decodes_the_declared_encoding() {
        // "Café" in windows-1252, in a comment and in a file name.
        let text =
            b"# Disk DescriptorFile\n# Caf\xe9 server\nversion=1\ncreateType=\"monolithicFlat\"\n\
                     RW 8 FLAT \"caf\xe9-flat.vmdk\" 0\nddb.encoding = \"windows-1252\"\n";
        let d = parse(text).unwrap();
        assert_eq!(d.extents[0].file.as_deref(), Some("caf\u{e9}-flat.vmdk"));
        assert_eq!(d.ddb("ddb.encoding"), Some("windows-1252"));
        // Shift_JIS: "ディスク" as the file name.
        let sjis = b"createType=\"monolithicFlat\"\nRW 8 FLAT \"\x83\x66\x83\x42\x83\x58\x83\x4e.vmdk\" 0\nddb.encoding = \"Shift_JIS\"\n";
        let d = parse(sjis).unwrap();
        assert_eq!(
            d.extents[0].file.as_deref(),
            Some("\u{30c7}\u{30a3}\u{30b9}\u{30af}.vmdk")
        );
    }

    #[test]
    fn parse_tolerates_bad_bytes_in_comments_only() {
        let comment = b"# Caf\xe9\ncreateType=\"monolithicFlat\"\nRW 8 FLAT \"a.vmdk\" 0\n";
        assert_eq!(parse(comment).unwrap().extents.len(), 1);
        let name = b"createType=\"monolithicFlat\"\nRW 8 FLAT \"caf\xe9.vmdk\" 0\n";
        let err = parse(name).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(err.to_string().contains("ddb.encoding"), "{err}");
        // An encoding nobody knows: comments still pass, names do not.
        let mut odd = name.to_vec();
        odd.extend_from_slice(b"ddb.encoding = \"klingon\"\n");
        let err = parse(&odd).unwrap_err();
        assert!(err.to_string().contains("klingon"), "{err}");
    }

    #[test]
    fn parse_bad_lines_are_errors() {
        for bad in [
            "RW x SPARSE \"a\"",
            "RW 8 BOGUS \"a\"",
            "RW 8 SPARSE a",
            "RW 8 SPARSE \"a",
            "RW 8 FLAT",
            "RW 8 FLAT \"a\" zz",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad}");
        }
        assert!(parse(&vec![b'a'; MAX_DESCRIPTOR + 1]).is_err());
        let sum = "RW 18446744073709551615 ZERO\nRW 1 ZERO\n";
        assert!(parse(sum.as_bytes()).unwrap().total_sectors().is_err());
    }
}
