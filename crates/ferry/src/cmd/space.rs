//! A full filesystem under the data directory: how to recognise it and
//! what to tell the user (what is full, what to free, how to resume).
use std::path::Path;

/// Below this many free bytes the data directory's filesystem counts as
/// full: the databases cannot grow and no disk can be copied.
pub const LOW_WATER: u64 = 8 << 20;

/// Free and total bytes of the filesystem holding `dir`.
pub fn free_space(dir: &Path) -> Option<(u64, u64)> {
    let st = rustix::fs::statvfs(dir).ok()?;
    Some((
        st.f_bavail.saturating_mul(st.f_frsize),
        st.f_blocks.saturating_mul(st.f_frsize),
    ))
}

/// True when the filesystem of `dir` has less than [`LOW_WATER`] free.
pub fn is_low(dir: &Path) -> bool {
    free_space(dir).is_some_and(|(free, _)| free < LOW_WATER)
}

/// True when `err` (or a cause) is "no space left" from the OS or SQLite.
pub fn is_no_space(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        if let Some(io) = cause.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::StorageFull
        {
            return true;
        }
        mentions_no_space(&cause.to_string())
    })
}

/// True when a message reports a full disk (an error text copied into a
/// status, an API server's error).
pub fn mentions_no_space(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("no space left") || t.contains("disk is full") || t.contains("disk full")
}

fn allocated(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => allocated(&e.path()),
            Ok(m) => m.blocks().saturating_mul(512),
            Err(_) => 0,
        })
        .sum()
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
}

/// What is full and what to free, for `data_dir`.
pub fn advice(data_dir: &Path) -> String {
    let state = match free_space(data_dir) {
        Some((free, total)) => format!("{} free of {}", mib(free), mib(total)),
        None => "free space unknown".to_owned(),
    };
    let volumes = data_dir.join("local/volumes");
    format!(
        "the filesystem holding the data directory {} is full ({state}); the migrated volumes in {} take {}. Free space on that filesystem (or use a --data-dir on a larger one) and run the same command again: the migration resumes where it stopped, and no incomplete disk was marked ready",
        data_dir.display(),
        volumes.display(),
        mib(allocated(&volumes)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_full_disks_in_error_chains() {
        let io = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert!(is_no_space(&anyhow::Error::new(io).context("writing x")));
        let sqlite = anyhow::anyhow!("database or disk is full").context("applying Plan/p");
        assert!(is_no_space(&sqlite));
        assert!(!is_no_space(&anyhow::anyhow!("permission denied")));
    }

    #[test]
    fn advice_names_the_directory_and_what_to_free() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("local/volumes/ns")).unwrap();
        std::fs::write(
            dir.path().join("local/volumes/ns/a.img"),
            vec![1u8; 1 << 20],
        )
        .unwrap();
        let text = advice(dir.path());
        assert!(text.contains(&dir.path().display().to_string()), "{text}");
        assert!(text.contains("take 1.0 MiB"), "{text}");
        assert!(text.contains("run the same command again"), "{text}");
    }
}
