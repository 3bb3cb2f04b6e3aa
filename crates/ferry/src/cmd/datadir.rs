//! The data directory every embedded command shares: one default, private
//! permissions, and an exclusive lock so that two processes never run on
//! the same state.
use std::fs::File;
use std::io::{Read as _, Seek as _, Write as _};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

/// `--data-dir` (or `FERRY_DATA_DIR`), else `$XDG_DATA_HOME/ferry`, else
/// `~/.local/share/ferry`: the same for every command.
pub fn resolve(explicit: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(d) = explicit {
        return Ok(d);
    }
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        return Ok(PathBuf::from(x).join("ferry"));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .context("HOME is not set: pass --data-dir or set FERRY_DATA_DIR")?;
    Ok(PathBuf::from(home).join(".local/share/ferry"))
}

/// Create the data directory 0700 (tightening an existing one), make every
/// file and directory this process creates from now on private whatever
/// the inherited umask (guest disks hold customers' data), and return the
/// directory as an absolute path.
pub fn prepare(dir: &Path) -> anyhow::Result<PathBuf> {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot restrict the data directory {}", dir.display()))?;
    std::path::absolute(dir)
        .with_context(|| format!("cannot resolve the data directory {}", dir.display()))
}

/// The file whose `flock` marks the data directory as in use.
pub const LOCK_FILE: &str = "lock";

/// An exclusive lock on a data directory, held until dropped (or until the
/// process ends: the kernel releases it with the file descriptor).
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Lock `dir` (which must exist) for `command`, or fail naming the process
/// that holds it.
pub fn lock(dir: &Path, command: &str) -> anyhow::Result<Lock> {
    let path = dir.join(LOCK_FILE);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {}
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let holder = if holder.is_empty() {
                "another ferry process".to_owned()
            } else {
                holder.to_owned()
            };
            bail!(
                "the data directory {} is in use by {holder}: stop it first, or work with it through {}",
                dir.display(),
                dir.join("api/kubeconfig").display()
            );
        }
        Err(e) => {
            return Err(std::io::Error::from(e))
                .with_context(|| format!("cannot lock {}", path.display()));
        }
    }
    let who = format!("{command} (pid {})\n", std::process::id());
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(who.as_bytes()))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Lock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock(dir.path(), "ferry serve").unwrap();
        let err = lock(dir.path(), "ferry migrate").unwrap_err().to_string();
        let pid = format!("ferry serve (pid {})", std::process::id());
        assert!(err.contains(&pid), "{err}");
        assert!(err.contains("in use"), "{err}");
        drop(held);
        lock(dir.path(), "ferry migrate").unwrap();
    }
}
