//! OVF packages: an `.ova` (a tar archive) or an extracted folder holding an
//! `.ovf`, an optional `.mf` manifest and the disk files.
//!
//! [`Package::open`] indexes the members (for an OVA: each member's data
//! offset and size, so a disk can later be read in place as a window of the
//! `.ova` file), loads the descriptor and the manifest, and refuses every
//! member name that is not a plain relative path. Nothing refused is opened.
mod folder;
pub mod manifest;
mod ova;

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};
use crate::model::{FileProblem, FileProblemKind, Integrity, ManifestStatus, Vm};
use crate::ovf::{self, Envelope, ParseOptions, VmContext};

/// Limits for one package.
#[derive(Debug, Clone, Copy)]
pub struct PackageOptions {
    /// Descriptor limits.
    pub ovf: ParseOptions,
    /// Largest number of members indexed (default 10,000).
    pub max_members: usize,
}

impl Default for PackageOptions {
    fn default() -> Self {
        Self {
            ovf: ParseOptions::default(),
            max_members: 10_000,
        }
    }
}

/// The two package layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageKind {
    /// A tar archive (`.ova`).
    Ova,
    /// A folder with an `.ovf` and its files.
    Folder,
}

/// One file of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Normalised relative name (`disk1.vmdk`, `sub/disk.vmdk`).
    pub name: String,
    /// For an OVA, the byte offset of the member's data in the `.ova` file; 0 for a folder.
    pub offset: u64,
    /// Size in bytes.
    pub size: u64,
    /// For an OVA, false when the data cannot be read as one contiguous
    /// window (a GNU sparse member) or the archive is truncated inside it.
    pub contiguous: bool,
    /// The archive ends before the end of this member's data.
    pub truncated: bool,
}

/// A member name refused while indexing (never opened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedMember {
    /// The name as stored.
    pub name: String,
    /// Why: an unsafe path, or a link / device entry.
    pub reason: String,
}

/// An indexed package.
#[derive(Debug, Clone)]
pub struct Package {
    kind: PackageKind,
    path: PathBuf,
    root: PathBuf,
    ovf_name: String,
    ovf_bytes: Vec<u8>,
    manifest: Option<(String, String)>,
    members: Vec<Member>,
    refused: Vec<RefusedMember>,
}

impl Package {
    /// Open `path`: an `.ova` archive, or the `.ovf` of an extracted package
    /// (chosen by extension, case-insensitively).
    pub fn open(path: &Path, opts: &PackageOptions) -> Result<Self> {
        if has_extension(path, "ova") {
            ova::open(path, opts)
        } else if has_extension(path, "ovf") {
            folder::open(path, opts)
        } else {
            Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "{} is neither an .ova archive nor an .ovf descriptor",
                    path.display()
                ),
            ))
        }
    }

    /// Index an `.ova` held in memory (fuzzing, tests). `name` is used in
    /// errors and as the package path; members cannot be opened afterwards
    /// unless a file of that name exists.
    pub fn index_ova_bytes(bytes: &[u8], name: &Path, opts: &PackageOptions) -> Result<Self> {
        ova::index(std::io::Cursor::new(bytes), bytes.len() as u64, name, opts)
    }

    /// The layout.
    pub fn kind(&self) -> PackageKind {
        self.kind
    }

    /// The `.ova` file, or the `.ovf` file of an extracted package.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// For an OVA the `.ova` file; for a folder the folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The descriptor's member name.
    pub fn ovf_name(&self) -> &str {
        &self.ovf_name
    }

    /// The descriptor bytes.
    pub fn ovf_bytes(&self) -> &[u8] {
        &self.ovf_bytes
    }

    /// The manifest's member name, when there is one.
    pub fn manifest_name(&self) -> Option<&str> {
        self.manifest.as_ref().map(|(n, _)| n.as_str())
    }

    /// Indexed members, in archive (or sorted folder) order.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// Members refused while indexing.
    pub fn refused(&self) -> &[RefusedMember] {
        &self.refused
    }

    /// The member with normalised name `name`.
    pub fn member(&self, name: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.name == name)
    }

    /// Parse the descriptor.
    pub fn envelope(&self, opts: &ParseOptions) -> Result<Envelope> {
        let origin = match self.kind {
            PackageKind::Ova => format!("{} in {}", self.ovf_name, self.path.display()),
            PackageKind::Folder => self.path.display().to_string(),
        };
        ovf::parse(&self.ovf_bytes, &origin, opts)
    }

    /// Read a member: a bounded window of the `.ova`, or the folder's file.
    /// `name` must be a plain relative name (see [`crate::href::check`]).
    pub fn open_member(&self, name: &str) -> Result<Box<dyn Read + Send>> {
        let name = crate::href::check(name).map_err(|p| {
            Error::new(
                ErrorKind::Invalid,
                format!(
                    "refusing to open {name:?} in {}: {}",
                    self.path.display(),
                    p.describe()
                ),
            )
        })?;
        let member = self.member(&name).ok_or_else(|| {
            Error::new(
                ErrorKind::Invalid,
                format!("{} has no file named {name:?}", self.path.display()),
            )
        })?;
        match self.kind {
            PackageKind::Ova => ova::open_member(&self.path, member),
            PackageKind::Folder => folder::open_member(&self.root, member),
        }
    }

    /// Problems with the descriptor's `References/File` hrefs: unsafe ones,
    /// ones the package does not contain, and truncated members; plus disks
    /// whose `ovf:fileRef` names no `References/File` (reported with the
    /// fileRef as `href`).
    pub fn file_problems(&self, env: &Envelope) -> Vec<FileProblem> {
        let mut out = Vec::new();
        for disk in &env.disks {
            if !disk.file_ref.is_empty() && !env.files.iter().any(|f| f.id == disk.file_ref) {
                out.push(FileProblem {
                    href: disk.file_ref.clone(),
                    problem: FileProblemKind::Missing,
                });
            }
        }
        for file in &env.files {
            let problem = match &file.path {
                Err(kind) => Some(*kind),
                Ok(name) => match self.member(name) {
                    None => Some(FileProblemKind::Missing),
                    Some(m) if m.truncated => Some(FileProblemKind::Truncated),
                    Some(_) => None,
                },
            };
            if let Some(problem) = problem {
                out.push(FileProblem {
                    href: file.href.clone(),
                    problem,
                });
            }
        }
        out
    }

    /// Verify the manifest against the members (reads every listed file).
    pub fn verify_manifest(&self) -> manifest::Report {
        let Some((name, text)) = &self.manifest else {
            return manifest::Report {
                status: ManifestStatus::Absent,
                ..Default::default()
            };
        };
        manifest::verify(&manifest::parse(text), name, self)
    }

    /// The package's VMs. `id_key` is the package path relative to the
    /// provider root (stable ids); `report` is the manifest check, when done.
    pub fn vms(&self, env: &Envelope, id_key: &str, report: Option<&manifest::Report>) -> Vec<Vm> {
        let integrity = Integrity {
            manifest: match (report, &self.manifest) {
                (Some(r), _) => r.status,
                (None, None) => ManifestStatus::Absent,
                (None, Some(_)) => ManifestStatus::NotChecked,
            },
            manifest_problems: report.map(|r| r.problems.clone()).unwrap_or_default(),
            file_problems: self.file_problems(env),
        };
        let disk_file_path = match self.kind {
            PackageKind::Ova => self.path.display().to_string(),
            PackageKind::Folder => format!("{}/", self.root.display()),
        };
        let ctx = VmContext {
            ova_path: self.path.display().to_string(),
            disk_file_path,
            id_key: id_key.to_owned(),
            integrity,
        };
        ovf::to_vms(env, &ctx)
    }
}

impl manifest::MemberSource for Package {
    fn open(&self, name: &str) -> std::io::Result<Option<Box<dyn Read + '_>>> {
        if self.member(name).is_none() {
            return Ok(None);
        }
        match self.open_member(name) {
            Ok(r) => Ok(Some(Box::new(r))),
            Err(e) => Err(std::io::Error::other(e)),
        }
    }
}

pub(crate) fn has_extension(path: &Path, ext: &str) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

pub(crate) fn name_has_extension(name: &str, ext: &str) -> bool {
    has_extension(Path::new(name), ext)
}

/// Read at most `max` bytes from `r`; an error naming `what` when longer.
pub(crate) fn read_capped(r: &mut dyn Read, max: u64, what: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(max.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(format!("cannot read {what}"), e))?;
    if buf.len() as u64 > max {
        return Err(Error::new(
            ErrorKind::Limit,
            format!("{what} is larger than the limit of {max} bytes"),
        ));
    }
    Ok(buf)
}

#[cfg(test)]
mod tests;
