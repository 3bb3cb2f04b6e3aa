//! The open gate: decides whether a file *named inside an image* (a qcow2
//! backing file, a VMDK extent, an OVF file reference) may be opened. Images
//! are untrusted, so by default only files inside the directory of the image
//! that names them (after resolving `..` and symlinks) are allowed, and chains
//! are capped at [`Gate::max_depth`].
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::storage::{FileStorage, Storage};

/// Opens files named inside an image when they do not live on the local
/// file system (e.g. VMDK extents on a vSphere datastore). Set with
/// [`Gate::with_opener`]; the gate still checks depth and refuses absolute
/// names and `..` before asking it.
pub trait NamedOpener: Send + Sync + std::fmt::Debug {
    /// Open `path` (the parent's directory joined with the name).
    fn open(&self, path: &Path) -> Result<Arc<dyn Storage>>;
}

/// Maximum backing-chain / extent nesting depth by default.
pub const DEFAULT_MAX_DEPTH: u32 = 16;

/// Policy for implicit opens. Build with [`Gate::default`] (own directory
/// only) and widen with [`Gate::allow_dir`] or [`Gate::deny_all`].
#[derive(Debug, Clone)]
pub struct Gate {
    extra_dirs: Vec<PathBuf>,
    deny_all: bool,
    /// The deepest chain allowed (an image with no backing file is depth 0).
    pub max_depth: u32,
    opener: Option<Arc<dyn NamedOpener>>,
}

impl Default for Gate {
    fn default() -> Self {
        Self {
            extra_dirs: Vec::new(),
            deny_all: false,
            max_depth: DEFAULT_MAX_DEPTH,
            opener: None,
        }
    }
}

impl Gate {
    /// Refuse every implicit open (for images that must stand alone).
    pub fn deny_all() -> Self {
        Self {
            deny_all: true,
            ..Self::default()
        }
    }

    /// Also allow files under `dir`.
    pub fn allow_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.extra_dirs.push(dir.into());
        self
    }

    /// Open named files through `opener` instead of the local file system:
    /// only names relative to the parent's directory without `..` are
    /// allowed.
    pub fn with_opener(mut self, opener: Arc<dyn NamedOpener>) -> Self {
        self.opener = Some(opener);
        self
    }

    /// Resolve `name` like [`Gate::resolve`] and open it (through the opener
    /// when one is set). Returns the path and its storage.
    pub fn open(
        &self,
        parent: &Path,
        name: &str,
        depth: u32,
    ) -> Result<(PathBuf, Arc<dyn Storage>)> {
        let Some(opener) = &self.opener else {
            let path = self.resolve(parent, name, depth)?;
            let storage: Arc<dyn Storage> = Arc::new(FileStorage::open(&path)?);
            return Ok((path, storage));
        };
        self.check(parent, name, depth)?;
        let rel = Path::new(name);
        if !rel
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(Error::new(
                ErrorKind::Refused,
                format!(
                    "{} names {name:?}, which is not inside its own folder",
                    parent.display()
                ),
            ));
        }
        let path = parent.parent().unwrap_or(Path::new("")).join(rel);
        let storage = opener.open(&path)?;
        Ok((path, storage))
    }

    fn check(&self, parent: &Path, name: &str, depth: u32) -> Result<()> {
        if depth > self.max_depth {
            return Err(Error::new(
                ErrorKind::Limit,
                format!(
                    "{} names {name:?} at chain depth {depth}, deeper than the limit of {}",
                    parent.display(),
                    self.max_depth
                ),
            ));
        }
        if self.deny_all {
            return Err(Error::new(
                ErrorKind::Refused,
                format!(
                    "{} names the file {name:?}, and opening files named inside images is not allowed here",
                    parent.display()
                ),
            ));
        }
        if name.is_empty() || name.contains('\0') || name.contains("://") {
            return Err(Error::new(
                ErrorKind::Refused,
                format!(
                    "{} names {name:?}, which is not a plain file name",
                    parent.display()
                ),
            ));
        }
        Ok(())
    }

    /// Resolve `name` (as written in the image at `parent`) to a path that may
    /// be opened, or refuse with an error that names both files. `depth` is
    /// the depth the new file would have in the chain.
    pub fn resolve(&self, parent: &Path, name: &str, depth: u32) -> Result<PathBuf> {
        self.check(parent, name, depth)?;
        // A bare file name ("top.qcow2") has an empty parent: the current
        // directory.
        let base = parent
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let candidate = base.join(name);
        let canonical = candidate.canonicalize().map_err(|e| {
            Error::io(
                format!(
                    "{} names {name:?}, which cannot be opened{}",
                    parent.display(),
                    also_as(name, &candidate)
                ),
                e,
            )
        })?;
        let own = base.canonicalize().map_err(|e| {
            Error::io(
                format!("cannot resolve the directory of {}", parent.display()),
                e,
            )
        })?;
        let allowed = std::iter::once(own)
            .chain(self.extra_dirs.iter().filter_map(|d| d.canonicalize().ok()))
            .any(|dir| canonical.starts_with(&dir));
        if !allowed {
            return Err(Error::new(
                ErrorKind::Refused,
                format!(
                    "{} names {name:?}{}, which is outside the image's directory; allow that directory explicitly (--allow-dir) if you trust the image",
                    parent.display(),
                    also_as(name, &canonical)
                ),
            ));
        }
        Ok(canonical)
    }
}

/// ` (PATH)` when `name` resolves to a different-looking path, so a message
/// shows where a relative name led without printing one path twice.
pub(crate) fn also_as(name: &str, resolved: &Path) -> String {
    if Path::new(name) == resolved {
        String::new()
    } else {
        format!(" ({})", resolved.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_file_in_own_dir_is_allowed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("base.img"), b"x").unwrap();
        let top = dir.path().join("top.qcow2");
        let got = Gate::default().resolve(&top, "base.img", 1).unwrap();
        assert_eq!(got, dir.path().join("base.img").canonicalize().unwrap());
    }

    #[test]
    fn resolve_etc_passwd_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let top = dir.path().join("disk.vmdk");
        let err = Gate::default().resolve(&top, "/etc/passwd", 1).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Refused);
        assert!(
            err.to_string().contains("outside the image's directory"),
            "{err}"
        );
        let err = Gate::default()
            .resolve(&top, "../../../../etc/passwd", 1)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Refused);
    }

    #[test]
    fn resolve_too_deep_is_a_limit() {
        let dir = tempfile::tempdir().unwrap();
        let err = Gate::default()
            .resolve(&dir.path().join("a"), "b", DEFAULT_MAX_DEPTH + 1)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Limit);
    }

    #[test]
    fn resolve_from_a_bare_file_name_uses_the_current_directory() {
        // Tests run in the crate directory, which holds Cargo.toml.
        let got = Gate::default()
            .resolve(Path::new("image.qcow2"), "Cargo.toml", 1)
            .unwrap();
        assert_eq!(got, Path::new("Cargo.toml").canonicalize().unwrap());
        let err = Gate::default()
            .resolve(Path::new("image.qcow2"), "/etc/passwd", 1)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
    }

    #[test]
    fn deny_all_refuses() {
        let err = Gate::deny_all()
            .resolve(Path::new("/tmp/x.vmdk"), "y", 1)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Refused);
    }

    #[derive(Debug)]
    struct Named;
    impl NamedOpener for Named {
        fn open(&self, path: &Path) -> Result<Arc<dyn Storage>> {
            Err(Error::new(
                ErrorKind::Io,
                format!("asked for {}", path.display()),
            ))
        }
    }

    #[test]
    fn opener_gets_names_beside_the_parent_only() {
        let gate = Gate::default().with_opener(Arc::new(Named));
        let parent = Path::new("[ds1] vm/disk.vmdk");
        let err = gate.open(parent, "disk-flat.vmdk", 1).err().unwrap();
        assert_eq!(err.to_string(), "asked for [ds1] vm/disk-flat.vmdk");
        for bad in ["../x.vmdk", "/etc/passwd", "a/../../b", "http://x/y"] {
            let err = gate.open(parent, bad, 1).err().unwrap();
            assert_eq!(err.kind(), ErrorKind::Refused, "{bad}: {err}");
        }
        let err = gate.open(parent, "x", DEFAULT_MAX_DEPTH + 1).err().unwrap();
        assert_eq!(err.kind(), ErrorKind::Limit);
    }
}
