//! Making a rename durable. `rename(2)` changes a directory, and the change
//! reaches the disk only when the directory itself is synced: a file that
//! was fsynced and then renamed can, after a power cut, be found under its
//! old name (or not at all) unless its directory is fsynced too.
use std::path::Path;

/// The directory holding `path` (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// fsync the directory that holds `path`, so a rename to (or creation of)
/// `path` survives a power cut.
pub fn sync_parent_dir(path: &Path) -> std::io::Result<()> {
    std::fs::File::open(parent_dir(path))?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_dir_of_a_bare_name_is_the_current_directory() {
        assert_eq!(parent_dir(Path::new("disk.raw")), Path::new("."));
        assert_eq!(
            parent_dir(Path::new("/srv/x/disk.raw")),
            Path::new("/srv/x")
        );
        assert_eq!(parent_dir(Path::new("a/disk.raw")), Path::new("a"));
    }

    #[test]
    fn sync_parent_dir_reports_a_missing_directory() {
        let dir = tempfile::tempdir().unwrap();
        sync_parent_dir(&dir.path().join("f")).unwrap();
        let err = sync_parent_dir(&dir.path().join("gone/f")).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    }
}
