//! An extracted package: a folder with one `.ovf` and its files. Files are
//! listed (not followed through symlinks) up to a small depth below the folder.
use std::fs::{self, File};
use std::io::Read;
use std::path::Path;

use super::manifest::MAX_MANIFEST_BYTES;
use super::{Member, Package, PackageKind, PackageOptions, RefusedMember, read_capped};
use crate::error::{Error, ErrorKind, Result};

/// Sub-folder depth below the package folder that is indexed.
const MAX_DEPTH: usize = 2;

pub(super) fn open(path: &Path, opts: &PackageOptions) -> Result<Package> {
    let shown = path.display();
    let root = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let ovf_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::invalid(format!("{shown} has no usable file name")))?
        .to_owned();
    let mut members = Vec::new();
    let mut refused = Vec::new();
    walk(&root, "", 0, opts, &mut members, &mut refused)?;
    members.sort_by(|a: &Member, b| a.name.cmp(&b.name));
    let mut file = File::open(path).map_err(|e| Error::io(format!("cannot open {shown}"), e))?;
    let ovf_bytes = read_capped(
        &mut file,
        opts.ovf.max_bytes as u64,
        &format!("OVF descriptor {shown}"),
    )?;
    let stem = Path::new(&ovf_name).file_stem().map(|s| s.to_os_string());
    let manifest = members
        .iter()
        .filter(|m| !m.name.contains('/') && super::name_has_extension(&m.name, "mf"))
        .min_by_key(|m| Path::new(&m.name).file_stem().map(|s| s.to_os_string()) != stem)
        .map(|m| -> Result<(String, String)> {
            let what = format!("manifest {} in {}", m.name, root.display());
            let mut f = File::open(root.join(&m.name))
                .map_err(|e| Error::io(format!("cannot open {what}"), e))?;
            let bytes = read_capped(&mut f, MAX_MANIFEST_BYTES, &what)?;
            Ok((m.name.clone(), String::from_utf8_lossy(&bytes).into_owned()))
        })
        .transpose()?;
    Ok(Package {
        kind: PackageKind::Folder,
        path: path.to_path_buf(),
        root,
        ovf_name,
        ovf_bytes,
        manifest,
        members,
        refused,
    })
}

fn walk(
    dir: &Path,
    prefix: &str,
    depth: usize,
    opts: &PackageOptions,
    members: &mut Vec<Member>,
    refused: &mut Vec<RefusedMember>,
) -> Result<()> {
    let rd = fs::read_dir(dir)
        .map_err(|e| Error::io(format!("cannot list package folder {}", dir.display()), e))?;
    for entry in rd {
        let entry = entry
            .map_err(|e| Error::io(format!("cannot list package folder {}", dir.display()), e))?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            refused.push(RefusedMember {
                name: entry.file_name().to_string_lossy().into_owned(),
                reason: "the name is not UTF-8".to_owned(),
            });
            continue;
        };
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let meta = entry
            .metadata()
            .map_err(|e| Error::io(format!("cannot stat {}", entry.path().display()), e))?;
        if meta.is_dir() {
            if depth < MAX_DEPTH {
                walk(&entry.path(), &rel, depth + 1, opts, members, refused)?;
            }
        } else if meta.is_file() {
            if members.len() >= opts.max_members {
                return Err(Error::new(
                    ErrorKind::Limit,
                    format!(
                        "package folder {} has more than {} files",
                        dir.display(),
                        opts.max_members
                    ),
                ));
            }
            members.push(Member {
                name: rel,
                offset: 0,
                size: meta.len(),
                contiguous: true,
                truncated: false,
            });
        } else {
            refused.push(RefusedMember {
                name: rel,
                reason: "symbolic links and special files are not followed".to_owned(),
            });
        }
    }
    Ok(())
}

pub(super) fn open_member(root: &Path, member: &Member) -> Result<Box<dyn Read + Send>> {
    let path = root.join(&member.name);
    let meta = fs::symlink_metadata(&path)
        .map_err(|e| Error::io(format!("cannot stat {}", path.display()), e))?;
    if !meta.is_file() {
        return Err(Error::new(
            ErrorKind::Invalid,
            format!(
                "{} is no longer a regular file; refusing to open it",
                path.display()
            ),
        ));
    }
    let file =
        File::open(&path).map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
    Ok(Box::new(file))
}
