//! The `.mf` manifest: lines `SHA256(disk1.vmdk)= 3f7a...`, one per file
//! (ovftool writes SHA1, SHA256 or SHA512). Verification streams each file
//! through the digest with a fixed buffer, so memory stays bounded whatever
//! the disk size.
use std::io::Read;

use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use crate::href;
use crate::model::{ManifestProblem, ManifestProblemKind, ManifestStatus};

/// Largest manifest accepted, in bytes.
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;

const BUF_SIZE: usize = 256 << 10;

/// A digest algorithm a manifest may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// SHA-1 (20 bytes).
    Sha1,
    /// SHA-256 (32 bytes).
    Sha256,
    /// SHA-512 (64 bytes).
    Sha512,
}

impl Algorithm {
    fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "SHA1" => Some(Self::Sha1),
            "SHA256" => Some(Self::Sha256),
            "SHA512" => Some(Self::Sha512),
            _ => None,
        }
    }
}

/// One manifest line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The file name as written.
    pub file: String,
    /// The algorithm name as written.
    pub algorithm_name: String,
    /// The algorithm, when supported.
    pub algorithm: Option<Algorithm>,
    /// The expected digest, lower-case hex.
    pub digest: String,
}

/// A parsed manifest: good lines and the malformed ones (by line number).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// Well-formed lines.
    pub entries: Vec<Entry>,
    /// 1-based numbers of lines that are not `ALGO(name)= hex`.
    pub malformed_lines: Vec<usize>,
}

/// Parse manifest text. Never fails: bad lines are listed in `malformed_lines`.
pub fn parse(text: &str) -> Manifest {
    let mut m = Manifest::default();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match parse_line(line) {
            Some(e) => m.entries.push(e),
            None => m.malformed_lines.push(i + 1),
        }
    }
    m
}

fn parse_line(line: &str) -> Option<Entry> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    if close <= open {
        return None;
    }
    let algorithm_name = line[..open].trim();
    let file = &line[open + 1..close];
    let digest = line[close + 1..].trim_start().strip_prefix('=')?.trim();
    if algorithm_name.is_empty()
        || file.is_empty()
        || digest.is_empty()
        || !digest.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    Some(Entry {
        file: file.to_owned(),
        algorithm_name: algorithm_name.to_owned(),
        algorithm: Algorithm::parse(algorithm_name),
        digest: digest.to_ascii_lowercase(),
    })
}

/// The result of checking a manifest against its package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Overall outcome.
    pub status: ManifestStatus,
    /// Every line that failed.
    pub problems: Vec<ManifestProblem>,
    /// Files whose digest matched.
    pub verified: Vec<String>,
}

/// What the verifier needs from a package: open a member by its normalised name.
pub trait MemberSource {
    /// `Ok(None)` when the package has no such member.
    fn open(&self, name: &str) -> std::io::Result<Option<Box<dyn Read + '_>>>;
}

/// Check every line of `manifest` (named `manifest_name`) against `source`.
pub fn verify(manifest: &Manifest, manifest_name: &str, source: &dyn MemberSource) -> Report {
    let mut report = Report::default();
    for _ in &manifest.malformed_lines {
        report
            .problems
            .push(problem(manifest_name, ManifestProblemKind::Malformed));
    }
    for entry in &manifest.entries {
        match check_entry(entry, source) {
            Ok(()) => report.verified.push(entry.file.clone()),
            Err(kind) => report.problems.push(problem(&entry.file, kind)),
        }
    }
    report.status = if report.problems.is_empty() {
        ManifestStatus::Verified
    } else {
        ManifestStatus::Failed
    };
    report
}

fn problem(file: &str, problem: ManifestProblemKind) -> ManifestProblem {
    ManifestProblem {
        file: file.to_owned(),
        problem,
    }
}

fn check_entry(entry: &Entry, source: &dyn MemberSource) -> Result<(), ManifestProblemKind> {
    let name = href::check(&entry.file).map_err(|_| ManifestProblemKind::UnsafeName)?;
    let algorithm = entry
        .algorithm
        .ok_or(ManifestProblemKind::UnsupportedAlgorithm)?;
    let mut reader = source
        .open(&name)
        .map_err(|_| ManifestProblemKind::Unreadable)?
        .ok_or(ManifestProblemKind::Missing)?;
    let actual = digest_hex(algorithm, &mut reader).map_err(|_| ManifestProblemKind::Unreadable)?;
    if actual == entry.digest {
        Ok(())
    } else {
        Err(ManifestProblemKind::ChecksumMismatch)
    }
}

/// Stream `reader` through `algorithm`; lower-case hex digest.
pub fn digest_hex(algorithm: Algorithm, reader: &mut dyn Read) -> std::io::Result<String> {
    match algorithm {
        Algorithm::Sha1 => stream::<Sha1>(reader),
        Algorithm::Sha256 => stream::<Sha256>(reader),
        Algorithm::Sha512 => stream::<Sha512>(reader),
    }
}

fn stream<D: Digest>(reader: &mut dyn Read) -> std::io::Result<String> {
    let mut hasher = D::new();
    let mut buf = vec![0u8; BUF_SIZE];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let mut hex = String::new();
    for b in hasher.finalize().iter() {
        hex.push_str(&format!("{b:02x}"));
    }
    Ok(hex)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Mem(HashMap<String, Vec<u8>>);
    impl MemberSource for Mem {
        fn open(&self, name: &str) -> std::io::Result<Option<Box<dyn Read + '_>>> {
            Ok(self
                .0
                .get(name)
                .map(|v| Box::new(v.as_slice()) as Box<dyn Read>))
        }
    }

    const HELLO_SHA1: &str = "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d";
    const HELLO_SHA256: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    #[test]
    fn known_digests() {
        assert_eq!(
            digest_hex(Algorithm::Sha1, &mut &b"hello"[..]).unwrap(),
            HELLO_SHA1
        );
        assert_eq!(
            digest_hex(Algorithm::Sha256, &mut &b"hello"[..]).unwrap(),
            HELLO_SHA256
        );
        assert!(
            digest_hex(Algorithm::Sha512, &mut &b"hello"[..])
                .unwrap()
                .starts_with("9b71d224bd62f378")
        );
    }

    #[test]
    fn parse_lines() {
        let m = parse(
            "SHA256(vm.ovf)= ABCDEF01\n\nSHA1(disk (1).vmdk) = 00ff\nMD5(x)= 12\ngarbage\nSHA256()= 00\nSHA256(x)= zz\n",
        );
        assert_eq!(m.entries.len(), 3);
        assert_eq!(m.entries[0].file, "vm.ovf");
        assert_eq!(m.entries[0].digest, "abcdef01");
        assert_eq!(m.entries[0].algorithm, Some(Algorithm::Sha256));
        assert_eq!(m.entries[1].file, "disk (1).vmdk");
        assert_eq!(m.entries[2].algorithm, None);
        assert_eq!(m.malformed_lines, vec![5, 6, 7]);
    }

    #[test]
    fn verify_outcomes() {
        let src = Mem(HashMap::from([
            ("a.vmdk".to_owned(), b"hello".to_vec()),
            ("b.vmdk".to_owned(), b"hellO".to_vec()),
        ]));
        let text = format!(
            "SHA256(a.vmdk)= {HELLO_SHA256}\nSHA1(a.vmdk)= {HELLO_SHA1}\nSHA256(b.vmdk)= {HELLO_SHA256}\nSHA256(c.vmdk)= {HELLO_SHA256}\nSHA256(../a.vmdk)= {HELLO_SHA256}\nMD5(a.vmdk)= 00\nbad line\n"
        );
        let report = verify(&parse(&text), "x.mf", &src);
        assert_eq!(report.status, ManifestStatus::Failed);
        assert_eq!(report.verified, vec!["a.vmdk", "a.vmdk"]);
        let got: Vec<(&str, ManifestProblemKind)> = report
            .problems
            .iter()
            .map(|p| (p.file.as_str(), p.problem))
            .collect();
        assert_eq!(
            got,
            vec![
                ("x.mf", ManifestProblemKind::Malformed),
                ("b.vmdk", ManifestProblemKind::ChecksumMismatch),
                ("c.vmdk", ManifestProblemKind::Missing),
                ("../a.vmdk", ManifestProblemKind::UnsafeName),
                ("a.vmdk", ManifestProblemKind::UnsupportedAlgorithm),
            ]
        );
        let ok = verify(
            &parse(&format!("SHA256(a.vmdk)= {HELLO_SHA256}\n")),
            "x.mf",
            &src,
        );
        assert_eq!(ok.status, ManifestStatus::Verified);
        assert!(ok.problems.is_empty());
    }
}
