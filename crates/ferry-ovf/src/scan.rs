//! Scanning an OVA provider path, with the depth rules of the OVA guide
//! (Migration Toolkit for Virtualization, "OVA prerequisites"):
//!
//! - `.ova` archives in the root folder and in its first-level sub-folders
//!   (`/nfs/x.ova`, `/nfs/sub1/x.ova`; not `/nfs/sub1/sub2/x.ova`);
//! - extracted packages (`.ovf`) in the root, first- and second-level
//!   sub-folders (`/nfs/sub1/sub2/vm.ovf`), one `.ovf` per folder: a folder
//!   with several is reported and skipped.
//!
//! Extensions match case-insensitively. Symbolic links to folders are not
//! followed; a symlinked file is used only when its target is inside the
//! root. VM ids derive from the package path relative to the root, so they
//! stay the same across rescans and mount points. A [`Scanner`] keeps the
//! manifest results of unchanged files (same size and modification time),
//! so a rescan does not re-hash disks.
use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::error::{Error, ErrorKind, Result};
use crate::model::Vm;
use crate::package::{Member, Package, PackageKind, PackageOptions, has_extension, manifest};

/// Deepest folder level (root = 0) searched for `.ova` files.
pub const OVA_MAX_DEPTH: usize = 1;
/// Deepest folder level (root = 0) searched for `.ovf` files.
pub const OVF_MAX_DEPTH: usize = 2;

/// Scan settings.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Per-package limits.
    pub package: PackageOptions,
    /// Hash every file a manifest lists (results are cached by [`Scanner`]).
    pub verify_manifests: bool,
    /// Skip files modified less than this long ago (still being copied);
    /// Forklift uses 30 s. `None` takes every file.
    pub min_age: Option<Duration>,
}

/// One package found.
#[derive(Debug, Clone)]
pub struct Appliance {
    /// The `.ova` file or the `.ovf` of an extracted package.
    pub path: PathBuf,
    /// `path` relative to the root, `/`-separated (the id key).
    pub relative: String,
    /// Archive or folder.
    pub kind: PackageKind,
    /// The package's VMs.
    pub vms: Vec<Vm>,
    /// The package's members (offsets into the `.ova` for archives).
    pub members: Vec<Member>,
    /// The manifest check, when verification is on.
    pub manifest: Option<manifest::Report>,
}

/// A file or folder that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanProblem {
    /// What was skipped.
    pub path: PathBuf,
    /// A sentence saying why and what to do.
    pub message: String,
}

/// The result of one scan.
#[derive(Debug, Clone, Default)]
pub struct ScanReport {
    /// Packages found, in path order.
    pub appliances: Vec<Appliance>,
    /// Files and folders skipped.
    pub problems: Vec<ScanProblem>,
}

impl ScanReport {
    /// Every VM of every package.
    pub fn vms(&self) -> impl Iterator<Item = &Vm> {
        self.appliances.iter().flat_map(|a| a.vms.iter())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Fingerprint {
    len: u64,
    modified: Option<SystemTime>,
}

/// Scans a root repeatedly, caching manifest results of unchanged files.
#[derive(Debug, Default)]
pub struct Scanner {
    opts: ScanOptions,
    cache: HashMap<PathBuf, (Fingerprint, manifest::Report)>,
}

impl Scanner {
    /// A scanner with `opts`.
    pub fn new(opts: ScanOptions) -> Self {
        Self {
            opts,
            cache: HashMap::new(),
        }
    }

    /// Scan `root`. Fails only when the root itself cannot be listed; every
    /// package that cannot be read is reported in [`ScanReport::problems`].
    pub fn scan(&mut self, root: &Path) -> Result<ScanReport> {
        let canonical_root = fs::canonicalize(root).map_err(|e| {
            Error::new(
                ErrorKind::Location,
                format!(
                    "provider path {} is not reachable; it must exist and be readable (mount the share first)",
                    root.display()
                ),
            )
            .with_source(e)
        })?;
        let mut found = Found::default();
        walk(&canonical_root, root, 0, &mut found)?;
        let mut report = ScanReport {
            problems: found.problems,
            ..Default::default()
        };
        let mut candidates: Vec<PathBuf> = found.ova;
        for (folder, files) in found.ovf_by_folder {
            if files.len() == 1 {
                candidates.extend(files);
            } else {
                report.problems.push(ScanProblem {
                    message: format!(
                        "folder {} holds {} .ovf files; an extracted package folder may hold only one, so none of them is used. Move each package to its own folder",
                        folder.display(),
                        files.len()
                    ),
                    path: folder,
                });
            }
        }
        candidates.sort();
        let mut seen = Vec::new();
        let mut ids: HashMap<String, PathBuf> = HashMap::new();
        for path in candidates {
            match self.load(root, &path) {
                Ok(Some(mut a)) => {
                    dedupe_ids(&mut a, &mut ids, &mut report.problems);
                    seen.push(a.path.clone());
                    report.appliances.push(a);
                }
                Ok(None) => report.problems.push(ScanProblem {
                    message: format!(
                        "{} was modified in the last {:?}; it is probably still being copied and is skipped until the next scan",
                        path.display(),
                        self.opts.min_age.unwrap_or_default()
                    ),
                    path,
                }),
                Err(e) => report.problems.push(ScanProblem {
                    message: error_chain(&e),
                    path,
                }),
            }
        }
        self.cache.retain(|p, _| seen.contains(p));
        Ok(report)
    }

    fn load(&mut self, root: &Path, path: &Path) -> Result<Option<Appliance>> {
        let meta = fs::metadata(path)
            .map_err(|e| Error::io(format!("cannot stat {}", path.display()), e))?;
        let fingerprint = Fingerprint {
            len: meta.len(),
            modified: meta.modified().ok(),
        };
        if let (Some(min_age), Some(modified)) = (self.opts.min_age, fingerprint.modified) {
            let age = SystemTime::now()
                .duration_since(modified)
                .unwrap_or_default();
            if age < min_age || meta.len() == 0 {
                return Ok(None);
            }
        }
        let package = Package::open(path, &self.opts.package)?;
        let env = package.envelope(&self.opts.package.ovf)?;
        let relative = path
            .strip_prefix(root)
            .unwrap_or(path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let manifest = if self.opts.verify_manifests {
            // A folder package changes when any file in it changes: fingerprint the folder's files too.
            let fingerprint = Fingerprint {
                len: package
                    .members()
                    .iter()
                    .map(|m| m.size)
                    .fold(fingerprint.len, u64::wrapping_add),
                modified: newest_member(&package).or(fingerprint.modified),
            };
            let report = match self.cache.get(path) {
                Some((f, r)) if *f == fingerprint => r.clone(),
                _ => {
                    let r = package.verify_manifest();
                    self.cache
                        .insert(path.to_path_buf(), (fingerprint, r.clone()));
                    r
                }
            };
            Some(report)
        } else {
            None
        };
        let vms = package.vms(&env, &relative, manifest.as_ref());
        Ok(Some(Appliance {
            path: path.to_path_buf(),
            relative,
            kind: package.kind(),
            vms,
            members: package.members().to_vec(),
            manifest,
        }))
    }
}

/// Two packages may carry the same UUID as `VirtualSystem ovf:id` (a copied
/// OVA). The first in path order keeps it; later ones get an id derived from
/// their own path, and the clash is reported.
fn dedupe_ids(
    a: &mut Appliance,
    ids: &mut HashMap<String, PathBuf>,
    problems: &mut Vec<ScanProblem>,
) {
    let single = a.vms.len() == 1;
    for (index, vm) in a.vms.iter_mut().enumerate() {
        if let Some(first) = ids.get(&vm.id) {
            let key = if single {
                a.relative.clone()
            } else {
                format!("{}#{index}", a.relative)
            };
            let new_id = crate::ovf::derived_id("vm", &key);
            problems.push(ScanProblem {
                path: a.path.clone(),
                message: format!(
                    "VM {:?} in {} has id {} like the VM in {}; it is listed with the path-derived id {new_id}. Remove the copy or give it a new UUID",
                    vm.name,
                    a.path.display(),
                    vm.id,
                    first.display()
                ),
            });
            if vm.uuid == vm.id {
                vm.uuid.clone_from(&new_id);
            }
            vm.id = new_id;
        }
        ids.insert(vm.id.clone(), a.path.clone());
    }
}

/// Scan `root` once (no cache kept).
pub fn scan(root: &Path, opts: &ScanOptions) -> Result<ScanReport> {
    Scanner::new(opts.clone()).scan(root)
}

fn newest_member(package: &Package) -> Option<SystemTime> {
    if package.kind() != PackageKind::Folder {
        return None;
    }
    package
        .members()
        .iter()
        .filter_map(|m| {
            fs::metadata(package.root().join(&m.name))
                .ok()?
                .modified()
                .ok()
        })
        .max()
}

#[derive(Default)]
struct Found {
    ova: Vec<PathBuf>,
    ovf_by_folder: BTreeMap<PathBuf, Vec<PathBuf>>,
    problems: Vec<ScanProblem>,
}

/// Largest number of directory entries looked at per folder.
const MAX_ENTRIES_PER_FOLDER: usize = 100_000;

fn walk(canonical_root: &Path, dir: &Path, depth: usize, found: &mut Found) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if depth == 0 => {
            return Err(Error::new(
                ErrorKind::Location,
                format!("cannot list provider path {}", dir.display()),
            )
            .with_source(e));
        }
        Err(e) => {
            found.problems.push(ScanProblem {
                path: dir.to_path_buf(),
                message: format!("cannot list folder {}: {e}", dir.display()),
            });
            return Ok(());
        }
    };
    for entry in entries.take(MAX_ENTRIES_PER_FOLDER) {
        let Ok(entry) = entry else { continue };
        let path = entry.path();
        let Ok(ftype) = entry.file_type() else {
            continue;
        };
        if ftype.is_dir() {
            if depth < OVF_MAX_DEPTH {
                walk(canonical_root, &path, depth + 1, found)?;
            }
            continue;
        }
        let is_ova = has_extension(&path, "ova") && depth <= OVA_MAX_DEPTH;
        let is_ovf = has_extension(&path, "ovf") && depth <= OVF_MAX_DEPTH;
        if !(is_ova || is_ovf) {
            continue;
        }
        if ftype.is_symlink() {
            match fs::canonicalize(&path) {
                Ok(target) if target.starts_with(canonical_root) && target.is_file() => {}
                _ => {
                    found.problems.push(ScanProblem {
                        message: format!(
                            "{} is a symbolic link to something outside the provider path (or to nothing); it is skipped",
                            path.display()
                        ),
                        path,
                    });
                    continue;
                }
            }
        } else if !ftype.is_file() {
            continue;
        }
        if is_ova {
            found.ova.push(path);
        } else {
            found
                .ovf_by_folder
                .entry(dir.to_path_buf())
                .or_default()
                .push(path);
        }
    }
    Ok(())
}

fn error_chain(e: &Error) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

#[cfg(test)]
mod tests;
