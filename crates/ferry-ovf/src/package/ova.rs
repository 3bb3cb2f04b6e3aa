//! Indexing an `.ova` (tar) without extracting it: one pass over the
//! headers (seeking over the data), recording where each member's data lives.
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use tar::EntryType;

use super::manifest::MAX_MANIFEST_BYTES;
use super::{Member, Package, PackageKind, PackageOptions, RefusedMember};
use super::{name_has_extension, read_capped};
use crate::error::{Error, ErrorKind, Result};
use crate::href;

pub(super) fn open(path: &Path, opts: &PackageOptions) -> Result<Package> {
    let shown = path.display();
    let file = File::open(path).map_err(|e| Error::io(format!("cannot open {shown}"), e))?;
    let len = file
        .metadata()
        .map_err(|e| Error::io(format!("cannot stat {shown}"), e))?
        .len();
    index(file, len, path, opts)
}

/// Index an archive of `len` bytes read from `reader`; `path` names it.
pub(super) fn index<R: Read + Seek>(
    reader: R,
    len: u64,
    path: &Path,
    opts: &PackageOptions,
) -> Result<Package> {
    let shown = path.display();
    let mut archive = tar::Archive::new(reader);
    let entries = archive
        .entries_with_seek()
        .map_err(|e| archive_error(path, e))?;
    let mut members: Vec<Member> = Vec::new();
    let mut refused = Vec::new();
    let mut ovf: Option<(String, Vec<u8>)> = None;
    let mut manifest: Option<(String, String)> = None;
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            // A truncated archive: keep what was indexed, the truncated member says why.
            Err(_) if members.last().is_some_and(|m| m.truncated) => break,
            // Cut (or corrupt) inside a header after the descriptor: keep what
            // was indexed; the files that did not make it are reported missing.
            Err(e) if ovf.is_some() => {
                refused.push(RefusedMember {
                    name: String::new(),
                    reason: format!(
                        "the archive is truncated or corrupt after {} members ({e})",
                        members.len() + refused.len()
                    ),
                });
                break;
            }
            Err(e) => return Err(archive_error(path, e)),
        };
        if members.len() + refused.len() >= opts.max_members {
            return Err(Error::new(
                ErrorKind::Limit,
                format!(
                    "OVA {shown} has more than {} members; raise the limit if this is expected",
                    opts.max_members
                ),
            ));
        }
        let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let etype = entry.header().entry_type();
        if etype.is_dir() || etype.is_pax_global_extensions() {
            continue;
        }
        let sparse = etype.is_gnu_sparse();
        if !(etype.is_file() || etype == EntryType::Continuous || sparse) {
            refused.push(RefusedMember {
                name: raw_name,
                reason: "links and special files are not followed".to_owned(),
            });
            continue;
        }
        let name = match href::check(&raw_name) {
            Ok(n) => n,
            Err(p) => {
                refused.push(RefusedMember {
                    name: raw_name,
                    reason: p.describe().to_owned(),
                });
                continue;
            }
        };
        let offset = entry.raw_file_position();
        let size = entry.size();
        let truncated = offset.checked_add(size).is_none_or(|end| end > len);
        if members.iter().any(|m| m.name == name) {
            refused.push(RefusedMember {
                name: raw_name,
                reason: "a second member with the same name is ignored".to_owned(),
            });
            continue;
        }
        if !truncated {
            if ovf.is_none() && name_has_extension(&name, "ovf") {
                let what = format!("OVF descriptor {name} in {shown}");
                let bytes = read_capped(&mut entry, opts.ovf.max_bytes as u64, &what)?;
                ovf = Some((name.clone(), bytes));
            } else if manifest.is_none() && name_has_extension(&name, "mf") {
                let what = format!("manifest {name} in {shown}");
                let bytes = read_capped(&mut entry, MAX_MANIFEST_BYTES, &what)?;
                manifest = Some((name.clone(), String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
        members.push(Member {
            name,
            offset,
            size,
            contiguous: !sparse,
            truncated,
        });
    }
    let Some((ovf_name, ovf_bytes)) = ovf else {
        return Err(Error::invalid(format!(
            "OVA {shown} has no .ovf descriptor (or it is truncated); re-export the appliance"
        )));
    };
    Ok(Package {
        kind: PackageKind::Ova,
        path: path.to_path_buf(),
        root: path.to_path_buf(),
        ovf_name,
        ovf_bytes,
        manifest,
        members,
        refused,
    })
}

pub(super) fn open_member(path: &Path, member: &Member) -> Result<Box<dyn Read + Send>> {
    let shown = path.display();
    if member.truncated {
        return Err(Error::new(
            ErrorKind::Archive,
            format!(
                "{} in {shown} is truncated: the archive ends inside it",
                member.name
            ),
        ));
    }
    if !member.contiguous {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "{} in {shown} is a GNU sparse tar member, which ferry cannot read in place; repack the OVA without --sparse",
                member.name
            ),
        ));
    }
    let mut file = File::open(path).map_err(|e| Error::io(format!("cannot open {shown}"), e))?;
    file.seek(SeekFrom::Start(member.offset))
        .map_err(|e| Error::io(format!("cannot seek to {} in {shown}", member.name), e))?;
    Ok(Box::new(file.take(member.size)))
}

fn archive_error(path: &Path, e: std::io::Error) -> Error {
    Error::new(
        ErrorKind::Archive,
        format!("{} is not a readable tar archive (OVA)", path.display()),
    )
    .with_source(e)
}
