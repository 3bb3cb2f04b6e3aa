//! The resume journal: a small JSON file next to the target listing the
//! chunks already copied (as runs of chunk indexes), the partial checksum of
//! those chunks, and the identity of the source and target it belongs to.
//! It is rewritten atomically (temp file, fsync, rename) and only after the
//! target was flushed, so every chunk it names is durable.
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::plan::ChunkSet;

const VERSION: u32 = 1;

/// Where the journal lives and which source it is for.
#[derive(Debug, Clone)]
pub struct ResumeOptions {
    /// The journal file (conventionally `TARGET.journal`).
    pub journal: PathBuf,
    /// An identity of the source that changes when its contents may have:
    /// the caller builds it from size, mtime, format and a header hash.
    pub source_identity: String,
}

/// The journal's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalState {
    /// Format version.
    pub version: u32,
    /// See [`ResumeOptions::source_identity`].
    pub source_identity: String,
    /// The guest size being copied.
    pub virtual_size: u64,
    /// Chunk size of the grid the indexes refer to.
    pub chunk_size: u64,
    /// Sorted runs `[first, end)` of completed chunk indexes.
    pub done: Vec<(u64, u64)>,
    /// Partial checksum (hex u128) over the completed data chunks, when the
    /// copy computes one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub checksum: Option<String>,
}

impl JournalState {
    /// A journal for a fresh copy.
    pub fn new(source_identity: &str, virtual_size: u64, chunk_size: u64) -> Self {
        Self {
            version: VERSION,
            source_identity: source_identity.to_string(),
            virtual_size,
            chunk_size,
            done: Vec::new(),
            checksum: None,
        }
    }

    /// The done runs as a set sized for the grid.
    pub fn done_set(&self) -> ChunkSet {
        let chunks = self.virtual_size.div_ceil(self.chunk_size.max(1));
        let mut set = ChunkSet::with_capacity(chunks);
        for &(a, b) in &self.done {
            set.insert_range(a, b.min(chunks));
        }
        set
    }

    /// Refuse a journal written for another source, size or grid.
    pub fn check_matches(&self, path: &Path, expected: &JournalState) -> Result<()> {
        let mismatch = |what: &str, found: String, want: String| {
            Err(Error::new(
                ErrorKind::JournalMismatch,
                format!(
                    "the resume journal {} was written for a different {what} ({found}, now {want}); delete the journal and the partial target to start over",
                    path.display()
                ),
            ))
        };
        if self.version != VERSION {
            return mismatch(
                "journal version",
                self.version.to_string(),
                VERSION.to_string(),
            );
        }
        if self.source_identity != expected.source_identity {
            return mismatch(
                "source",
                self.source_identity.clone(),
                expected.source_identity.clone(),
            );
        }
        if self.virtual_size != expected.virtual_size {
            return mismatch(
                "virtual size",
                self.virtual_size.to_string(),
                expected.virtual_size.to_string(),
            );
        }
        if self.chunk_size != expected.chunk_size {
            return mismatch(
                "chunk size",
                self.chunk_size.to_string(),
                expected.chunk_size.to_string(),
            );
        }
        Ok(())
    }
}

/// An identity for the source file at `path` read as `format`: size,
/// modification time, format and a hash of its first 64 KiB (the header).
/// A resume is refused when any of them changed.
pub fn source_identity(path: &Path, format: &str) -> Result<String> {
    use std::io::Read;
    use std::os::unix::fs::MetadataExt;
    let err = |e: std::io::Error| {
        Error::new(
            ErrorKind::Journal,
            format!("cannot identify the source {} for resuming", path.display()),
        )
        .with_source(e)
    };
    let file = std::fs::File::open(path).map_err(err)?;
    let meta = file.metadata().map_err(err)?;
    let mut head = Vec::with_capacity(64 << 10);
    file.take(64 << 10).read_to_end(&mut head).map_err(err)?;
    Ok(format!(
        "size={} mtime={}.{:09} format={format} head={:016x}",
        meta.size(),
        meta.mtime(),
        meta.mtime_nsec(),
        xxhash_rust::xxh3::xxh3_64(&head)
    ))
}

/// Read the journal at `path`, or `None` when there is none.
pub fn load(path: &Path) -> Result<Option<JournalState>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::new(
                ErrorKind::Journal,
                format!("cannot read the resume journal {}", path.display()),
            )
            .with_source(e));
        }
    };
    if bytes.len() > 64 << 20 {
        return Err(Error::new(
            ErrorKind::Journal,
            format!(
                "the resume journal {} is larger than 64 MiB; delete it to start over",
                path.display()
            ),
        ));
    }
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        Error::new(
            ErrorKind::Journal,
            format!(
                "the resume journal {} is unreadable; delete it and the partial target to start over",
                path.display()
            ),
        )
        .with_source(e)
    })
}

/// Write `state` to `path` atomically and durably.
pub fn store(path: &Path, state: &JournalState) -> Result<()> {
    let err = |what: &str, e: std::io::Error| {
        Error::new(
            ErrorKind::Journal,
            format!("cannot {what} the resume journal {}", path.display()),
        )
        .with_source(e)
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let json = serde_json::to_vec(state).map_err(|e| {
        Error::new(ErrorKind::Journal, "cannot encode the resume journal").with_source(e)
    })?;
    // The journal sits beside a guest disk and is as private (0600).
    let mut f = {
        use std::os::unix::fs::OpenOptionsExt as _;
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| err("create", e))?
    };
    f.write_all(&json).map_err(|e| err("write", e))?;
    f.sync_all().map_err(|e| err("sync", e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| err("rename", e))?;
    crate::durable::sync_parent_dir(path).map_err(|e| err("sync the directory of", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_then_load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.journal");
        assert_eq!(load(&p).unwrap(), None);
        let mut s = JournalState::new("src", 100 << 20, 4 << 20);
        s.done = vec![(0, 3), (7, 9)];
        s.checksum = Some("ab".into());
        store(&p, &s).unwrap();
        let got = load(&p).unwrap().unwrap();
        assert_eq!(got, s);
        assert!(got.done_set().contains(8));
        assert!(!got.done_set().contains(3));
    }

    #[test]
    fn a_journal_for_another_source_is_refused() {
        let p = Path::new("/x/t.journal");
        let old = JournalState::new("size=1 mtime=2", 10, 1);
        let new = JournalState::new("size=1 mtime=3", 10, 1);
        let err = old.check_matches(p, &new).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::JournalMismatch);
        assert!(err.to_string().contains("different source"), "{err}");
        old.check_matches(p, &old.clone()).unwrap();
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.journal");
        std::fs::write(&p, b"{nope").unwrap();
        let err = load(&p).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Journal);
        assert!(err.to_string().contains("unreadable"));
    }
}
