//! `ferry convert`, `info` and `map` on inputs that must not convert
//! silently (truncated streams, containers ferry does not read), the gate
//! options all three share, error messages that name each file once, and
//! the directory sync that makes the final rename durable.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use ferry_testutil::{images_identical, peer, qemu_img, qemu_io_write, tempdir};

fn ferry() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ferry"))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = ferry().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ferry {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Run ferry, expect failure, return standard error.
fn fails(args: &[&str]) -> String {
    let out: Output = ferry().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "ferry {args:?} should have failed");
    assert!(err.starts_with("error: "), "{err}");
    err
}

/// The message names `path` exactly once.
fn names_once(msg: &str, path: &Path) {
    assert_eq!(msg.matches(s(path)).count(), 1, "{} in: {msg}", s(path));
}

/// A raw image with data in a few places.
fn raw_with_data(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("src.raw");
    qemu_img(&["create", "-q", "-f", "raw", s(&p), "6M"]);
    qemu_io_write(&p, "raw", 0x31, 0, 1 << 20);
    qemu_io_write(&p, "raw", 0x32, 3 << 20, 65536);
    qemu_io_write(&p, "raw", 0x33, (6 << 20) - 4096, 4096);
    p
}

#[test]
fn truncated_stream_optimized_vmdk_is_refused_by_every_command() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let raw = raw_with_data(dir.path());
    // ferry writes the VMware layout: directory and footer at the end.
    let vmdk = dir.path().join("disk.vmdk");
    ok(&["convert", "-O", "vmdk", s(&raw), s(&vmdk)]);
    assert!(images_identical(&raw, &vmdk));
    let bytes = std::fs::read(&vmdk).unwrap();
    let cut = dir.path().join("cut.vmdk");
    let out = dir.path().join("out.raw");
    for len in [bytes.len() / 2, bytes.len() - 1536, bytes.len() - 512] {
        std::fs::write(&cut, &bytes[..len]).unwrap();
        let err = fails(&["convert", s(&cut), s(&out)]);
        assert!(err.contains("truncated"), "{err}");
        names_once(&err, &cut);
        assert!(!out.exists(), "a target was left behind");
        for cmd in ["info", "map"] {
            let err = fails(&[cmd, s(&cut)]);
            assert!(err.contains("truncated"), "{cmd}: {err}");
        }
    }
}

#[test]
fn containers_ferry_does_not_read_are_refused_not_copied() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let out = dir.path().join("out.raw");
    for (fmt, name) in [
        ("qed", "QED"),
        ("parallels", "Parallels"),
        ("qcow", "qcow (version 1)"),
    ] {
        let p = dir.path().join(format!("disk.{fmt}"));
        qemu_img(&["create", "-q", "-f", fmt, s(&p), "8M"]);
        qemu_io_write(&p, fmt, 0x44, 0, 65536);
        let err = fails(&["convert", s(&p), s(&out)]);
        assert!(err.contains(&format!("{name} image")), "{err}");
        assert!(err.contains(&format!("qemu-img convert -f {fmt}")), "{err}");
        names_once(&err, &p);
        assert!(!out.exists());
        let err = fails(&["info", s(&p)]);
        names_once(&err, &p);
    }
}

#[test]
fn errors_name_each_file_once() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let out = dir.path().join("out.raw");
    // A descriptor whose extent is missing.
    let d = dir.path().join("missing.vmdk");
    std::fs::write(
        &d,
        "# Disk DescriptorFile\nversion=1\ncreateType=\"monolithicFlat\"\nRW 8192 FLAT \"missing-flat.vmdk\" 0\n",
    )
    .unwrap();
    // A qcow2 whose backing file lives outside its directory.
    let other = tempdir();
    let base = other.path().join("base.qcow2");
    qemu_img(&["create", "-q", "-f", "qcow2", s(&base), "4M"]);
    let top = dir.path().join("top.qcow2");
    qcow2_over(&top, &base);
    // A backing chain that loops.
    let a = dir.path().join("a.qcow2");
    let b = dir.path().join("b.qcow2");
    qemu_img(&["create", "-q", "-f", "qcow2", s(&a), "4M"]);
    qcow2_over(&b, &a);
    qemu_img(&["rebase", "-u", "-F", "qcow2", "-b", s(&b), s(&a)]);
    for img in [&d, &top, &b] {
        for cmd in [
            vec!["convert", s(img), s(&out)],
            vec!["info", s(img)],
            vec!["map", s(img)],
        ] {
            let err = fails(&cmd);
            names_once(&err, img);
        }
    }
}

#[test]
fn convert_takes_the_same_gate_options_as_info_and_map() {
    if peer("qemu-img").is_none() {
        return;
    }
    let dir = tempdir();
    let out = dir.path().join("out.raw");
    // External data file.
    let data = dir.path().join("data.raw");
    let q = dir.path().join("ext.qcow2");
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-o",
        &format!("data_file={},data_file_raw=on", s(&data)),
        s(&q),
        "4M",
    ]);
    qemu_io_write(&q, "qcow2", 0x66, 65536, 65536);
    let err = fails(&["convert", s(&q), s(&out)]);
    assert!(err.contains("--allow-data-file"), "{err}");
    names_once(&err, &q);
    for cmd in ["info", "map"] {
        let err = fails(&[cmd, s(&q)]);
        assert!(err.contains("--allow-data-file"), "{cmd}: {err}");
        ok(&[cmd, "--allow-data-file", s(&q)]);
    }
    ok(&["convert", "--allow-data-file", s(&q), s(&out)]);
    assert!(images_identical(&q, &out));
    std::fs::remove_file(&out).unwrap();

    // A backing file in another directory.
    let other = tempdir();
    let base = other.path().join("base.qcow2");
    qemu_img(&["create", "-q", "-f", "qcow2", s(&base), "4M"]);
    qemu_io_write(&base, "qcow2", 0x77, 0, 65536);
    let top = dir.path().join("top.qcow2");
    qcow2_over(&top, &base);
    let err = fails(&["convert", s(&top), s(&out)]);
    assert!(err.contains("--allow-dir"), "{err}");
    let allow = ["--allow-dir", s(other.path())];
    for cmd in ["info", "map"] {
        ok(&[&[cmd][..], &allow, &[s(&top)]].concat());
    }
    ok(&[&["convert"][..], &allow, &[s(&top), s(&out)]].concat());
    assert!(images_identical(&top, &out));
}

/// The system calls of `ferry convert` run under strace in `cwd`.
fn traced_convert(cwd: &Path, extra: &[&str]) -> String {
    let log = cwd.join("strace.log");
    let status = Command::new("strace")
        .current_dir(cwd)
        .args(["-f", "-qq", "-o", s(&log), "-e"])
        .arg("trace=openat,fsync,fdatasync,rename,renameat,renameat2")
        .arg(env!("CARGO_BIN_EXE_ferry"))
        .args(["convert", "--progress", "none"])
        .args(extra)
        .args(["src.qcow2", "out.raw"])
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::remove_file(&log).unwrap();
    std::fs::remove_file(cwd.join("out.raw")).unwrap();
    text
}

#[test]
fn convert_syncs_the_target_directory_after_the_rename() {
    if peer("qemu-img").is_none() || peer("strace").is_none() {
        return;
    }
    let dir = tempdir();
    // A qcow2 source: read and written by ferry (a raw one would be cloned).
    let raw = raw_with_data(dir.path());
    let src = dir.path().join("src.qcow2");
    qemu_img(&["convert", "-O", "qcow2", s(&raw), s(&src)]);
    // A bare target name: the directory is the current one.
    let log = traced_convert(dir.path(), &[]);
    let lines: Vec<&str> = log.lines().collect();
    let rename = lines
        .iter()
        .position(|l| l.contains("rename") && l.contains("\"out.raw.part\""))
        .unwrap_or_else(|| panic!("no rename in:\n{log}"));
    assert!(
        lines[..rename]
            .iter()
            .any(|l| l.contains("fsync(") || l.contains("fdatasync(")),
        "the target is not synced before the rename:\n{log}"
    );
    let dir_fd = lines[rename..]
        .iter()
        .find(|l| l.contains("openat(") && l.contains("\".\"") && !l.contains("= -"))
        .and_then(|l| l.rsplit("= ").next())
        .map(|fd| fd.trim().to_string())
        .unwrap_or_else(|| panic!("the directory is not opened after the rename:\n{log}"));
    assert!(
        lines[rename..]
            .iter()
            .any(|l| l.contains(&format!("fsync({dir_fd})"))),
        "the directory is not synced after the rename:\n{log}"
    );
    let direct = |log: &str| {
        log.lines()
            .any(|l| l.contains("openat(") && l.contains("O_DIRECT"))
    };
    assert!(
        direct(&log),
        "the target is not written with O_DIRECT:\n{log}"
    );
    // --no-sync: the same write path (large writes bypass the page cache,
    // where they are slow to queue on small machines), but no fsync at all.
    let log = traced_convert(dir.path(), &["--no-sync"]);
    assert!(
        !log.lines()
            .any(|l| l.contains("fsync(") || l.contains("fdatasync(")),
        "--no-sync synced:\n{log}"
    );
    assert!(
        direct(&log),
        "--no-sync does not write with O_DIRECT:\n{log}"
    );
}

/// A qcow2 at `top` whose backing file is the qcow2 `base`.
fn qcow2_over(top: &Path, base: &Path) {
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-F",
        "qcow2",
        "-b",
        s(base),
        s(top),
    ]);
}
