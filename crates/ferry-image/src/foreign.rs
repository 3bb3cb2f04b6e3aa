//! Container formats ferry recognises but does not read. A file that starts
//! with one of these magics is never taken as raw: copying the container
//! bytes as if they were the guest disk would "succeed" and produce a disk
//! that does not boot. The magics are the ones qemu-img probes for.
use crate::error::Error;

/// A format ferry detects but does not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Foreign {
    /// The name users know it by.
    pub name: &'static str,
    /// qemu-img's name for it (`-f` value).
    pub qemu: &'static str,
}

impl Foreign {
    /// The error for a file of this format: what it is and what to do.
    pub fn unsupported(self) -> Error {
        Error::unsupported(format!(
            "the file is a {} image, which ferry does not read; convert it first \
             (e.g. `qemu-img convert -f {} -O qcow2 IN OUT.qcow2`) and use the result",
            self.name, self.qemu
        ))
    }
}

const CLOOP_V2: &[u8] =
    b"#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$0 && mount -r -t iso9660 /dev/cloop $1\n";

/// The foreign format `head` (the first bytes of the file) and `tail` (its
/// last 512 bytes, or fewer for a small file) show, if any.
pub fn detect(head: &[u8], tail: &[u8]) -> Option<Foreign> {
    let starts = |m: &[u8]| head.starts_with(m);
    let found = |name, qemu| Some(Foreign { name, qemu });
    if starts(b"QFI\xfb") && head.get(4..8) == Some(&[0, 0, 0, 1]) {
        return found("qcow (version 1)", "qcow");
    }
    if starts(b"QED\0") {
        return found("QED", "qed");
    }
    if starts(b"WithoutFreeSpace") || starts(b"WithouFreSpacExt") {
        return found("Parallels", "parallels");
    }
    if starts(b"Bochs Virtual HD Image") {
        return found("Bochs", "bochs");
    }
    if starts(CLOOP_V2) {
        return found("cloop", "cloop");
    }
    if starts(b"LUKS\xba\xbe") {
        return found("LUKS-encrypted", "luks");
    }
    if tail.len() == 512 && tail.starts_with(b"koly") {
        return found("DMG (Apple disk image)", "dmg");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(magic: &[u8], at: usize) -> Vec<u8> {
        let mut h = vec![0u8; 4096];
        h[at..at + magic.len()].copy_from_slice(magic);
        h
    }

    #[test]
    fn each_magic_is_detected() {
        let none = [0u8; 512];
        let cases: [(&[u8], usize, &str); 7] = [
            (b"QFI\xfb\0\0\0\x01", 0, "qcow"),
            (b"QED\0", 0, "qed"),
            (b"WithoutFreeSpace", 0, "parallels"),
            (b"WithouFreSpacExt", 0, "parallels"),
            (b"Bochs Virtual HD Image", 0, "bochs"),
            (CLOOP_V2, 0, "cloop"),
            (b"LUKS\xba\xbe\0\x01", 0, "luks"),
        ];
        for (magic, at, qemu) in cases {
            assert_eq!(detect(&head(magic, at), &none).map(|f| f.qemu), Some(qemu));
        }
        let mut koly = [0u8; 512];
        koly[..4].copy_from_slice(b"koly");
        assert_eq!(detect(&[0u8; 4096], &koly).map(|f| f.qemu), Some("dmg"));
        assert_eq!(detect(&[0u8; 4096], &none), None);
        assert_eq!(detect(b"QFI\xfb\0\0\0\x03", &none), None);
    }

    #[test]
    fn error_names_the_format_and_the_way_out() {
        let e = Foreign {
            name: "QED",
            qemu: "qed",
        }
        .unsupported();
        assert_eq!(e.kind(), crate::ErrorKind::Unsupported);
        assert!(e.to_string().contains("QED image"), "{e}");
        assert!(e.to_string().contains("qemu-img convert -f qed"), "{e}");
    }
}
