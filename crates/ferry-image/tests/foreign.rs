//! Containers ferry does not read are refused with their name and a way
//! out, never copied as raw; a VMDK descriptor with a damaged first line is
//! still a VMDK.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

mod vmdk_support;

use ferry_image::wrap::{Source, open_source};
use ferry_image::{ErrorKind, OpenOptions, open_image};
use ferry_testutil::{images_identical, peer, qemu_img, qemu_io_write, tempdir};

fn assert_refused(path: &Path, name: &str, qemu: &str) {
    let err = open_image(path, &OpenOptions::default()).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    let msg = err.to_string();
    assert!(msg.contains(name), "{msg}");
    assert!(msg.contains(&format!("-f {qemu} ")), "{msg}");
    let file = path.file_name().unwrap().to_str().unwrap();
    assert_eq!(msg.matches(file).count(), 1, "{msg}");
    match open_source(path, &OpenOptions::default()) {
        Err(e) => assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}"),
        Ok(Source::Image(i)) => panic!("{file} opened as {}", i.info().format),
        Ok(Source::Stream(_)) => panic!("{file} opened as a stream"),
    }
}

/// An image qemu-img creates, with some data so it is not all zeros.
fn qemu_made(dir: &Path, fmt: &str, opts: &[&str]) -> PathBuf {
    let p = dir.join(format!("disk.{fmt}"));
    let mut args = vec!["create", "-q", "-f", fmt];
    args.extend_from_slice(opts);
    args.extend_from_slice(&[p.to_str().unwrap(), "8M"]);
    qemu_img(&args);
    qemu_io_write(&p, fmt, 0x5a, 1 << 20, 65536);
    p
}

#[test]
fn qemu_made_containers_are_refused() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let cases: [(&str, &[&str], &str); 3] = [
        ("parallels", &[], "Parallels"),
        ("qed", &[], "QED"),
        ("qcow", &[], "qcow (version 1)"),
    ];
    for (fmt, opts, name) in cases {
        let p = qemu_made(dir.path(), fmt, opts);
        assert_refused(&p, name, fmt);
    }
}

#[test]
fn hand_made_containers_are_refused() {
    let dir = tempdir();
    let mut bochs = vec![0u8; 1 << 16];
    bochs[..23].copy_from_slice(b"Bochs Virtual HD Image\0");
    bochs[32..40].copy_from_slice(b"Redolog\0");
    let mut cloop = vec![0u8; 1 << 16];
    let script =
        b"#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$0 && mount -r -t iso9660 /dev/cloop $1\n";
    cloop[..script.len()].copy_from_slice(script);
    let mut dmg = vec![0x11u8; 1 << 16];
    let tail = dmg.len() - 512;
    dmg[tail..tail + 4].copy_from_slice(b"koly");
    let mut luks = vec![0u8; 1 << 16];
    luks[..8].copy_from_slice(b"LUKS\xba\xbe\0\x02");
    // The Parallels "extended" magic (qemu-img writes the other one).
    let mut prl = vec![0u8; 1 << 16];
    prl[..16].copy_from_slice(b"WithouFreSpacExt");
    for (file, bytes, name, qemu) in [
        ("d.bochs", bochs, "Bochs", "bochs"),
        ("d.cloop", cloop, "cloop", "cloop"),
        ("d.dmg", dmg, "DMG", "dmg"),
        ("d.luks", luks, "LUKS", "luks"),
        ("d.hds", prl, "Parallels", "parallels"),
    ] {
        let p = dir.path().join(file);
        std::fs::write(&p, bytes).unwrap();
        assert_refused(&p, name, qemu);
    }
}

#[test]
fn refused_container_can_still_be_read_as_raw_when_named() {
    let dir = tempdir();
    let p = dir.path().join("not-really.img");
    let mut b = vec![0u8; 1 << 16];
    b[..4].copy_from_slice(b"QED\0");
    std::fs::write(&p, &b).unwrap();
    let opts = OpenOptions {
        format: Some(ferry_image::Format::Raw),
        ..OpenOptions::default()
    };
    let img = open_image(&p, &opts).unwrap();
    assert_eq!(img.virtual_size(), 1 << 16);
}

/// A 4 MiB monolithicFlat VMDK made by qemu-img, with 64 KiB of `byte` at
/// `offset`.
fn flat_vmdk(dir: &Path, name: &str, byte: u8, offset: u64) -> PathBuf {
    let d = dir.join(name);
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "vmdk",
        "-o",
        "subformat=monolithicFlat",
        d.to_str().unwrap(),
        "4M",
    ]);
    qemu_io_write(&d, "vmdk", byte, offset, 65536);
    d
}

#[test]
fn descriptor_with_a_damaged_first_line_is_still_vmdk() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let d = flat_vmdk(dir.path(), "flat.vmdk", 0x61, 65536);
    let reference = dir.path().join("ref.raw");
    qemu_img(&[
        "convert",
        "-O",
        "raw",
        d.to_str().unwrap(),
        reference.to_str().unwrap(),
    ]);
    let text = std::fs::read(&d).unwrap();
    assert!(text.starts_with(b"# Disk DescriptorFile"));
    for first in [&b"# Disk Descr\xffptorFile"[..], b"#", b"XX garbage line"] {
        let mut damaged = first.to_vec();
        damaged.extend_from_slice(&text[b"# Disk DescriptorFile".len()..]);
        std::fs::write(&d, &damaged).unwrap();
        let img = open_image(&d, &OpenOptions::default()).unwrap();
        assert_eq!(img.info().format, "vmdk");
        let out = dir.path().join("out.raw");
        std::fs::write(&out, vmdk_support::read_all(&*img, 1 << 20)).unwrap();
        assert!(images_identical(&out, &reference));
    }
}

#[test]
fn descriptor_in_windows_1252_opens() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let d = flat_vmdk(dir.path(), "w.vmdk", 0x62, 0);
    let text = std::fs::read(&d).unwrap();
    // What VMware tools write: an accented comment in windows-1252.
    let mut cp1252 = b"# Disk DescriptorFile\n# Serveur de d\xe9veloppement\n".to_vec();
    cp1252.extend_from_slice(&text[b"# Disk DescriptorFile\n".len()..]);
    cp1252.extend_from_slice(b"ddb.encoding = \"windows-1252\"\n");
    assert!(std::str::from_utf8(&cp1252).is_err());
    std::fs::write(&d, &cp1252).unwrap();
    let img = open_image(&d, &OpenOptions::default()).unwrap();
    let mut buf = vec![0u8; 65536];
    img.read_at(&mut buf, 0).unwrap();
    assert!(buf.iter().all(|&b| b == 0x62));
    // The same byte in a comment without a declared encoding is tolerated.
    let plain: Vec<u8> =
        cp1252[..cp1252.len() - b"ddb.encoding = \"windows-1252\"\n".len()].to_vec();
    std::fs::write(&d, &plain).unwrap();
    assert!(open_image(&d, &OpenOptions::default()).is_ok());
}
