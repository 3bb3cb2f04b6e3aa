//! A tar index: members with their data offsets and sizes, so a member (an
//! OVA's disk) is read in place. ustar, GNU long names and pax `path`/`size`
//! records are understood. Names that would escape an extraction directory
//! (absolute, or with `..`) are flagged, not hidden.
use crate::error::{Error, ErrorKind, Result};
use crate::storage::Storage;

/// Most members an index holds.
pub const MAX_MEMBERS: usize = 100_000;
/// Longest GNU long name or pax header accepted.
const MAX_META: u64 = 1 << 20;

/// What a member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A hard or symbolic link (not followed).
    Link,
    /// Anything else (devices, FIFOs).
    Other,
}

/// One member of the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarMember {
    /// The member's name as stored.
    pub name: String,
    /// Offset of its data in the archive.
    pub offset: u64,
    /// Size of its data in bytes.
    pub size: u64,
    /// What it is.
    pub kind: MemberKind,
    /// The name is absolute or contains `..`: extracting it would escape
    /// the target directory.
    pub unsafe_path: bool,
}

/// The members of a tar archive, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TarIndex {
    /// Members in archive order.
    pub members: Vec<TarMember>,
}

fn octal(field: &[u8], what: &str, at: u64) -> Result<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        // GNU base-256: big-endian, top bit of the first byte is the marker.
        let mut v: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            v = v
                .checked_mul(256)
                .and_then(|v| v.checked_add(u64::from(b)))
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::Limit,
                        format!("tar header at offset {at}: {what} does not fit in 64 bits"),
                    )
                })?;
        }
        return Ok(v);
    }
    let text: Vec<u8> = field
        .iter()
        .copied()
        .filter(|&b| b != 0 && b != b' ')
        .collect();
    if text.is_empty() {
        return Ok(0);
    }
    let s = std::str::from_utf8(&text).ok();
    s.and_then(|s| u64::from_str_radix(s, 8).ok())
        .ok_or_else(|| {
            Error::corrupt(format!(
                "tar header at offset {at}: {what} is not an octal number"
            ))
        })
}

fn cstr(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// True when extracting `name` would leave the extraction directory.
pub fn is_unsafe_path(name: &str) -> bool {
    name.starts_with('/') || name.split(['/', '\\']).any(|c| c == "..")
}

/// Parse pax records (`"<len> key=value\n"`), returning path and size.
fn pax(data: &[u8], at: u64) -> Result<(Option<String>, Option<u64>)> {
    let (mut path, mut size) = (None, None);
    let mut rest = data;
    while !rest.is_empty() && rest[0] != 0 {
        let sp = rest.iter().position(|&b| b == b' ');
        let len = sp
            .and_then(|sp| std::str::from_utf8(&rest[..sp]).ok())
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|&l| l > sp.unwrap_or(0) + 1 && l <= rest.len());
        let (Some(sp), Some(len)) = (sp, len) else {
            return Err(Error::corrupt(format!(
                "tar pax header at offset {at} has a malformed record"
            )));
        };
        let record = &rest[sp + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(v) = record.strip_prefix(b"path=") {
            path = Some(String::from_utf8_lossy(v).into_owned());
        } else if let Some(v) = record.strip_prefix(b"size=") {
            size = std::str::from_utf8(v).ok().and_then(|s| s.parse().ok());
        }
        rest = &rest[len..];
    }
    Ok((path, size))
}

impl TarIndex {
    /// Read the index of the archive in `storage`.
    pub fn read(storage: &dyn Storage) -> Result<TarIndex> {
        let total = storage.size();
        let mut members = Vec::new();
        let mut at = 0u64;
        let mut long_name: Option<String> = None;
        let mut pax_path: Option<String> = None;
        let mut pax_size: Option<u64> = None;
        let mut header = [0u8; 512];
        while at + 512 <= total {
            storage.read_at(&mut header, at)?;
            if header.iter().all(|&b| b == 0) {
                break;
            }
            let stored = octal(&header[148..156], "checksum", at)?;
            let sum: u64 = header
                .iter()
                .enumerate()
                .map(|(i, &b)| {
                    if (148..156).contains(&i) {
                        32
                    } else {
                        u64::from(b)
                    }
                })
                .sum();
            if stored != sum {
                return Err(Error::corrupt(format!(
                    "tar header at offset {at} has a bad checksum ({stored}, computed {sum}); the archive is damaged or not a tar file"
                )));
            }
            let mut size = octal(&header[124..136], "size", at)?;
            let flag = header[156];
            let data = at + 512;
            if let Some(s) = pax_size.take() {
                size = s;
            }
            let end = data.checked_add(size).filter(|&e| e <= total).ok_or_else(|| {
                Error::corrupt(format!(
                    "tar member at offset {at} claims {size} bytes, past the end of the archive ({total} bytes)"
                ))
            })?;
            let next = data + size.div_ceil(512) * 512;
            match flag {
                b'L' | b'x' | b'g' | b'K' => {
                    if size > MAX_META {
                        return Err(Error::new(
                            ErrorKind::Limit,
                            format!(
                                "tar metadata member at offset {at} is {size} bytes, more than {MAX_META}"
                            ),
                        ));
                    }
                    let mut meta = vec![0u8; size as usize];
                    storage.read_at(&mut meta, data)?;
                    match flag {
                        b'L' => long_name = Some(cstr(&meta)),
                        b'x' => {
                            let (p, s) = pax(&meta, at)?;
                            pax_path = p.or(pax_path);
                            pax_size = s;
                        }
                        _ => {}
                    }
                }
                _ => {
                    let mut name = cstr(&header[0..100]);
                    if &header[257..262] == b"ustar" {
                        let prefix = cstr(&header[345..500]);
                        if !prefix.is_empty() {
                            name = format!("{prefix}/{name}");
                        }
                    }
                    if let Some(n) = pax_path.take().or(long_name.take()) {
                        name = n;
                    }
                    let kind = match flag {
                        b'0' | 0 | b'7' => MemberKind::File,
                        b'5' => MemberKind::Directory,
                        b'1' | b'2' => MemberKind::Link,
                        _ => MemberKind::Other,
                    };
                    if members.len() >= MAX_MEMBERS {
                        return Err(Error::new(
                            ErrorKind::Limit,
                            format!("tar archive has more than {MAX_MEMBERS} members"),
                        ));
                    }
                    let unsafe_path = is_unsafe_path(&name);
                    members.push(TarMember {
                        name,
                        offset: data,
                        size: end - data,
                        kind,
                        unsafe_path,
                    });
                }
            }
            at = next;
        }
        if at < total && at + 512 > total {
            let mut tail = vec![0u8; (total - at) as usize];
            storage.read_at(&mut tail, at)?;
            if tail.iter().any(|&b| b != 0) {
                return Err(Error::corrupt(format!(
                    "tar archive is truncated: a header at offset {at} is cut off at {total} bytes"
                )));
            }
        }
        Ok(TarIndex { members })
    }

    /// The regular file called `name`.
    pub fn find(&self, name: &str) -> Option<&TarMember> {
        let want = name.trim_start_matches("./");
        self.members
            .iter()
            .find(|m| m.kind == MemberKind::File && m.name.trim_start_matches("./") == want)
    }
}

/// The fuzz entry point for the tar index (see `fuzz/fuzz_targets/tar.rs`):
/// index `data` and look up each member. Errors are expected; panics are bugs.
pub fn fuzz_one(data: &[u8]) {
    let storage: std::sync::Arc<dyn Storage> =
        std::sync::Arc::new(crate::wrap::BytesStorage(data.to_vec()));
    if let Ok(index) = TarIndex::read(storage.as_ref()) {
        for m in &index.members {
            let _ = index.find(&m.name);
            let _ =
                crate::wrap::SliceStorage::new(storage.clone(), m.offset, m.size, m.name.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrap::slice::BytesStorage;

    pub(crate) fn header(name: &str, size: u64, flag: u8) -> [u8; 512] {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..107].copy_from_slice(b"0000644");
        let s = format!("{size:011o}");
        h[124..135].copy_from_slice(s.as_bytes());
        h[156] = flag;
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].fill(b' ');
        let sum: u64 = h.iter().map(|&b| u64::from(b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        h
    }

    fn archive(entries: &[(&str, &[u8], u8)]) -> Vec<u8> {
        let mut v = Vec::new();
        for (name, data, flag) in entries {
            v.extend_from_slice(&header(name, data.len() as u64, *flag));
            v.extend_from_slice(data);
            v.resize(v.len().div_ceil(512) * 512, 0);
        }
        v.extend_from_slice(&[0u8; 1024]);
        v
    }

    #[test]
    fn index_lists_members_with_offsets_and_flags_traversal() {
        let long = "d/".repeat(60) + "disk.vmdk";
        let a = archive(&[
            ("vm.ovf", b"<xml/>", b'0'),
            ("././@LongLink", format!("{long}\0").as_bytes(), b'L'),
            ("short", b"0123456789", b'0'),
            ("../evil", b"x", b'0'),
            ("dir/", b"", b'5'),
        ]);
        let idx = TarIndex::read(&BytesStorage(a.clone())).unwrap();
        assert_eq!(idx.members.len(), 4);
        assert_eq!(idx.members[0].name, "vm.ovf");
        assert_eq!(idx.members[0].offset, 512);
        assert_eq!(idx.members[0].size, 6);
        let disk = idx.find(&long).unwrap();
        assert_eq!(
            &a[disk.offset as usize..(disk.offset + disk.size) as usize],
            b"0123456789"
        );
        assert!(idx.members[2].unsafe_path);
        assert!(!idx.members[0].unsafe_path);
        assert_eq!(idx.members[3].kind, MemberKind::Directory);
    }

    #[test]
    fn pax_path_and_size_override_the_header() {
        let rec = |k: &str| {
            let body = format!(" {k}\n");
            let total = (1..6)
                .map(|d| body.len() + d)
                .find(|t| t.to_string().len() + body.len() == *t)
                .unwrap();
            format!("{total}{body}")
        };
        let recs = rec("path=pax/name.img");
        let a = archive(&[
            ("PaxHeader", recs.as_bytes(), b'x'),
            ("trunc", b"abc", b'0'),
        ]);
        let idx = TarIndex::read(&BytesStorage(a)).unwrap();
        assert_eq!(idx.members.len(), 1);
        assert_eq!(idx.members[0].name, "pax/name.img");
    }

    #[test]
    fn damaged_archives_are_errors() {
        let mut a = archive(&[("x", b"data", b'0')]);
        a[0] = b'y';
        assert_eq!(
            TarIndex::read(&BytesStorage(a)).unwrap_err().kind(),
            ErrorKind::Corrupt
        );
        let mut b = header("big", 1 << 32, b'0').to_vec();
        b.extend_from_slice(&[0u8; 1024]);
        let err = TarIndex::read(&BytesStorage(b)).unwrap_err();
        assert!(err.to_string().contains("past the end"), "{err}");
    }
}
