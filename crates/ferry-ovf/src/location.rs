//! Where an OVA provider's appliances live: a local path, or an NFS share
//! written `nfs://server/path` or `server:/path` (the Provider `spec.url`).
//!
//! ferry does not mount NFS itself. An NFS location resolves to the local
//! mount point when the share (or a parent export of it) is already mounted
//! here, found in `/proc/mounts`; otherwise the error says to mount it.
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};

/// A parsed provider URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A path on this machine.
    Local(PathBuf),
    /// An NFS export.
    Nfs {
        /// Host name or address (IPv6 in brackets as written).
        server: String,
        /// Absolute path on the server.
        path: String,
    },
}

impl Location {
    /// Parse `url`: `nfs://server/path`, `server:/path`, `file:///path` or a plain path.
    pub fn parse(url: &str) -> Result<Self> {
        let url = url.trim();
        let bad = |why: &str| {
            Error::new(
                ErrorKind::Location,
                format!("provider url {url:?} is not usable: {why}"),
            )
        };
        if url.is_empty() {
            return Err(bad("it is empty; give a local path or nfs://server/path"));
        }
        if let Some(rest) = url.strip_prefix("nfs://") {
            let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let server = strip_port(host);
            if server.is_empty() {
                return Err(bad("the NFS server name is missing"));
            }
            return Ok(Self::Nfs {
                server: server.to_owned(),
                path: normalize_export(if path.is_empty() { "/" } else { path }),
            });
        }
        if let Some(path) = url.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(bad("a file:// URL needs an absolute path"));
            }
            return Ok(Self::Local(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = url.split_once("://") {
            return Err(bad(&format!(
                "the scheme {scheme}:// is not supported; use nfs:// or a local path"
            )));
        }
        if let Some((server, path)) = url.split_once(':')
            && path.starts_with('/')
            && !server.is_empty()
            && !server.contains('/')
        {
            return Ok(Self::Nfs {
                server: server.to_owned(),
                path: normalize_export(path),
            });
        }
        Ok(Self::Local(PathBuf::from(url)))
    }

    /// The local directory to scan, using this machine's `/proc/mounts`.
    pub fn resolve(&self) -> Result<PathBuf> {
        let mounts = match self {
            Self::Local(_) => String::new(),
            Self::Nfs { .. } => std::fs::read_to_string("/proc/mounts").unwrap_or_default(),
        };
        self.resolve_with(&mounts)
    }

    /// [`Location::resolve`] with the mount table given as text (`/proc/mounts` format).
    pub fn resolve_with(&self, mounts: &str) -> Result<PathBuf> {
        match self {
            Self::Local(p) => check_dir(p),
            Self::Nfs { server, path } => {
                let dir = find_mount(mounts, server, path).ok_or_else(|| {
                    Error::new(
                        ErrorKind::Location,
                        format!(
                            "NFS share {server}:{path} is not mounted on this machine; ferry does not mount NFS itself. \
                             Mount it (for example `mount -t nfs {server}:{path} /mnt/ova`) and set the provider url \
                             to that local path, or run ferry where the share is mounted"
                        ),
                    )
                })?;
                check_dir(&dir)
            }
        }
    }
}

fn check_dir(p: &Path) -> Result<PathBuf> {
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => Ok(p.to_path_buf()),
        Ok(_) => Err(Error::new(
            ErrorKind::Location,
            format!("provider path {} is not a directory", p.display()),
        )),
        Err(e) => Err(Error::new(
            ErrorKind::Location,
            format!(
                "provider path {} is not reachable from this machine; it must exist and be readable (mount the share first)",
                p.display()
            ),
        )
        .with_source(e)),
    }
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |i| &host[..=i]);
    }
    host.split(':').next().unwrap_or(host)
}

fn normalize_export(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// The mount point of `server:path`, or of a mounted parent export plus the rest of the path.
fn find_mount(mounts: &str, server: &str, path: &str) -> Option<PathBuf> {
    let mut best: Option<(usize, PathBuf)> = None;
    for line in mounts.lines() {
        let mut fields = line.split_whitespace();
        let (Some(source), Some(target), Some(fstype)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if !fstype.starts_with("nfs") {
            continue;
        }
        let source = unescape(source);
        let Some((src_server, src_path)) = source.split_once(':') else {
            continue;
        };
        if !src_server.eq_ignore_ascii_case(server) {
            continue;
        }
        let export = normalize_export(src_path);
        let rest = if export == "/" {
            path.strip_prefix('/')
        } else if path == export {
            Some("")
        } else {
            path.strip_prefix(&export).and_then(|r| r.strip_prefix('/'))
        };
        let Some(rest) = rest else { continue };
        if rest.split('/').any(|c| c == "..") {
            continue;
        }
        let candidate = PathBuf::from(unescape(target)).join(rest);
        if best.as_ref().is_none_or(|(len, _)| export.len() > *len) {
            best = Some((export.len(), candidate));
        }
    }
    best.map(|(_, p)| p)
}

/// `/proc/mounts` escapes space, tab, newline and backslash as `\ooo`.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nfs(server: &str, path: &str) -> Location {
        Location::Nfs {
            server: server.into(),
            path: path.into(),
        }
    }

    #[test]
    fn parse_table() {
        let ok: &[(&str, Location)] = &[
            (
                "nfs://10.0.0.5/exports/ova",
                nfs("10.0.0.5", "/exports/ova"),
            ),
            (
                "nfs://nas.example:2049/exports/ova/",
                nfs("nas.example", "/exports/ova"),
            ),
            ("nfs://nas", nfs("nas", "/")),
            ("nfs://[fd00::1]/ova", nfs("[fd00::1]", "/ova")),
            (
                "nas.example:/exports/ova",
                nfs("nas.example", "/exports/ova"),
            ),
            ("/srv/ova", Location::Local("/srv/ova".into())),
            ("file:///srv/ova", Location::Local("/srv/ova".into())),
            ("relative/dir", Location::Local("relative/dir".into())),
        ];
        for (url, want) in ok {
            assert_eq!(&Location::parse(url).unwrap(), want, "{url}");
        }
        for bad in ["", "  ", "nfs:///x", "http://host/x", "file://relative"] {
            let err = Location::parse(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Location, "{bad}");
        }
    }

    #[test]
    fn resolve_uses_mount_table() {
        let tmp = tempfile::tempdir().unwrap();
        let mnt = tmp.path().join("mnt ova");
        std::fs::create_dir_all(mnt.join("sub")).unwrap();
        let escaped = mnt.display().to_string().replace(' ', "\\040");
        let table = format!(
            "proc /proc proc rw 0 0\nnas:/exports {escaped} nfs4 rw,vers=4.2 0 0\nother:/exports /elsewhere nfs rw 0 0\n"
        );
        assert_eq!(nfs("nas", "/exports").resolve_with(&table).unwrap(), mnt);
        assert_eq!(
            nfs("nas", "/exports/sub").resolve_with(&table).unwrap(),
            mnt.join("sub")
        );
        let err = nfs("nas", "/other").resolve_with(&table).unwrap_err();
        assert!(err.to_string().contains("not mounted"), "{err}");
        assert!(err.to_string().contains("nas:/other"), "{err}");
        assert!(nfs("nas", "/exports/../etc").resolve_with(&table).is_err());
        let err = nfs("ghost", "/x").resolve_with("").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Location);
    }

    #[test]
    fn resolve_local() {
        let tmp = tempfile::tempdir().unwrap();
        let loc = Location::Local(tmp.path().to_path_buf());
        assert_eq!(loc.resolve().unwrap(), tmp.path());
        let err = Location::Local(tmp.path().join("nope"))
            .resolve()
            .unwrap_err();
        assert!(err.to_string().contains("not reachable"), "{err}");
        let file = tmp.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        assert!(Location::Local(file).resolve().is_err());
    }
}
