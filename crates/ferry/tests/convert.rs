//! Conformance of `ferry convert`: every source format qemu-img can write,
//! converted to raw and to qcow2, must compare identical with
//! `qemu-img compare`; qcow2 output must pass `qemu-img check`; raw output
//! must stay sparse.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ferry_testutil::{images_identical, peer, qemu_img, run, tempdir};

const M: u64 = 1 << 20;

fn ferry() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ferry"))
}

fn ferry_ok(args: &[&str]) -> String {
    let out = ferry().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ferry {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ferry_fails(args: &[&str]) -> Output {
    let out = ferry().args(args).output().unwrap();
    assert!(!out.status.success(), "ferry {args:?} should have failed");
    out
}

fn qemu_io(path: &Path, fmt: &str, cmds: &[&str]) {
    let mut c = Command::new("qemu-io");
    c.arg("-f").arg(fmt);
    for cmd in cmds {
        c.arg("-c").arg(cmd);
    }
    run(c.arg(path));
}

fn allocated(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().blocks() * 512
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The writes every generated image gets: patterned data (also at the odd
/// tail), an explicit zero write (data that is zero), and holes between.
/// Returns the bytes of data written that are not zero.
const WRITES: &[&str] = &[
    "write -P 0x11 0 1M",
    "write -P 0x22 3M 2M",
    "write -P 0 7M 1M",
    "write -P 0x33 9441280 8192",
    "write -P 0x44 20M 64k",
];
const DATA_BYTES: u64 = M + 2 * M + 8192 + 65536;
/// An odd size: not a multiple of any cluster or grain size.
const SIZE: &str = "25167360";
const SIZE_BYTES: u64 = 24 * M + 1536;

fn tail_write() -> String {
    format!("write -P 0x55 {} 1536", SIZE_BYTES - 1536)
}

/// Convert `src` to raw and to qcow2 and check both against qemu-img.
fn check_converts(dir: &Path, src: &Path, fmt_arg: Option<&str>, data_bytes: u64) {
    check_converts_against(dir, src, src, fmt_arg, data_bytes);
}

/// The same, comparing the outputs with `reference` (the image `src` was
/// made from) rather than with `src` itself.
fn check_converts_against(
    dir: &Path,
    src: &Path,
    reference: &Path,
    fmt_arg: Option<&str>,
    data_bytes: u64,
) {
    let raw = dir.join("out.raw");
    let mut args = vec!["convert", s(src), s(&raw), "--verify"];
    if let Some(f) = fmt_arg {
        args.extend(["-f", f]);
    }
    let summary = ferry_ok(&args);
    assert!(summary.contains("(verified)"), "{summary}");
    assert!(
        images_identical(reference, &raw),
        "{} -> raw differs",
        src.display()
    );
    assert!(
        !dir.join("out.raw.part").exists(),
        "the .part file was left behind"
    );
    // Sparse: the raw output allocates about the data, not the virtual size.
    let alloc = allocated(&raw);
    assert!(
        alloc <= data_bytes + M,
        "raw output allocates {alloc} bytes for {data_bytes} bytes of data"
    );

    let q = dir.join("out.qcow2");
    let mut args = vec!["convert", s(src), s(&q), "-O", "qcow2", "--verify"];
    if let Some(f) = fmt_arg {
        args.extend(["-f", f]);
    }
    ferry_ok(&args);
    assert!(
        images_identical(reference, &q),
        "{} -> qcow2 differs",
        src.display()
    );
    qemu_img(&["check", "-q", s(&q)]);
    let info = qemu_img(&["info", "--output=json", s(&q)]);
    assert!(info.contains("\"format\": \"qcow2\""), "{info}");
}

fn make(dir: &Path, name: &str, create: &[&str], fmt: &str) -> PathBuf {
    let p = dir.join(name);
    let mut args = vec!["create", "-q", "-f", fmt];
    args.extend_from_slice(create);
    args.extend([s(&p), SIZE]);
    qemu_img(&args);
    let tail = tail_write();
    let mut writes: Vec<&str> = WRITES.to_vec();
    writes.push(&tail);
    qemu_io(&p, fmt, &writes);
    p
}

#[test]
fn convert_sparse_raw() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    let dir = tempdir();
    let src = make(dir.path(), "src.raw", &[], "raw");
    check_converts(dir.path(), &src, None, DATA_BYTES + 4096);
}

#[test]
fn convert_qcow2_v3_with_zero_clusters() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    let dir = tempdir();
    let src = make(dir.path(), "src.qcow2", &[], "qcow2");
    // Zero clusters over data and over a hole.
    qemu_io(&src, "qcow2", &["write -z 3M 1M", "write -z 12M 2M"]);
    check_converts(dir.path(), &src, Some("qcow2"), DATA_BYTES + 4096);
}

#[test]
fn convert_qcow2_v2_probed() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    let dir = tempdir();
    let src = make(dir.path(), "src.qcow2", &["-o", "compat=0.10"], "qcow2");
    check_converts(dir.path(), &src, None, DATA_BYTES + 4096);
}

#[test]
fn convert_qcow2_extended_l2() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    let dir = tempdir();
    let src = make(
        dir.path(),
        "src.qcow2",
        &["-o", "extended_l2=on,cluster_size=128k"],
        "qcow2",
    );
    qemu_io(&src, "qcow2", &["write -z 3178496 64k"]);
    check_converts(dir.path(), &src, None, DATA_BYTES + 4096);
}

#[test]
fn convert_qcow2_compressed_deflate_and_zstd() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    let dir = tempdir();
    let raw = make(dir.path(), "plain.raw", &[], "raw");
    for ctype in ["zlib", "zstd"] {
        let src = dir.path().join(format!("src-{ctype}.qcow2"));
        qemu_img(&[
            "convert",
            "-q",
            "-c",
            "-O",
            "qcow2",
            "-o",
            &format!("compression_type={ctype}"),
            s(&raw),
            s(&src),
        ]);
        check_converts(dir.path(), &src, None, DATA_BYTES + 4096);
    }
}

#[test]
fn convert_qcow2_backing_chain() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    let dir = tempdir();
    let base = make(dir.path(), "base.qcow2", &[], "qcow2");
    let top = dir.path().join("top.qcow2");
    qemu_img(&[
        "create",
        "-q",
        "-f",
        "qcow2",
        "-b",
        "base.qcow2",
        "-F",
        "qcow2",
        s(&top),
    ]);
    // Overwrite part of the base, zero another part, add new data.
    qemu_io(
        &top,
        "qcow2",
        &[
            "write -P 0x66 512k 1M",
            "write -z 3M 512k",
            "write -P 0x77 15M 1M",
        ],
    );
    assert!(base.exists());
    check_converts(dir.path(), &top, None, DATA_BYTES + 2 * M + 4096);
}

#[test]
fn compressed_qcow2_output_is_clean_and_smaller() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    let dir = tempdir();
    let src = make(dir.path(), "src.raw", &[], "raw");
    let plain = dir.path().join("plain.qcow2");
    let comp = dir.path().join("comp.qcow2");
    ferry_ok(&["convert", s(&src), s(&plain), "-O", "qcow2"]);
    ferry_ok(&[
        "convert",
        s(&src),
        s(&comp),
        "-O",
        "qcow2",
        "-o",
        "compress",
    ]);
    qemu_img(&["check", "-q", s(&comp)]);
    assert!(images_identical(&src, &comp));
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    assert!(size(&comp) < size(&plain), "compression did not shrink");
}

#[test]
fn progress_json_lines_and_summary() {
    let dir = tempdir();
    let src = dir.path().join("src.raw");
    std::fs::write(&src, vec![0x5au8; 3 * M as usize]).unwrap();
    let dst = dir.path().join("dst.raw");
    let out = ferry_ok(&[
        "convert",
        s(&src),
        s(&dst),
        "--progress",
        "json",
        "--verify",
    ]);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 2, "{out}");
    let first = &lines[0];
    assert_eq!(first["bytes_total"], 3 * M);
    assert!(first["rate"].is_number());
    let last = lines.last().unwrap();
    assert_eq!(last["done"], true);
    assert_eq!(last["verified"], true);
    assert_eq!(last["bytes_read"], 3 * M);
    assert_eq!(last["checksum"], last["target_checksum"]);
    assert!(
        lines[..lines.len() - 1]
            .iter()
            .all(|l| l["bytes_done"].as_u64().unwrap() <= 3 * M)
    );
    assert_eq!(std::fs::read(&dst).unwrap(), std::fs::read(&src).unwrap());
}

#[test]
fn resume_after_an_interrupted_conversion_is_identical() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    let dir = tempdir();
    let src = make(dir.path(), "src.qcow2", &[], "qcow2");
    let dst = dir.path().join("out.raw");
    let part = dir.path().join("out.raw.part");
    let journal = dir.path().join("out.raw.part.journal");
    let out = ferry_fails(&[
        "convert",
        s(&src),
        s(&dst),
        "--resume",
        "-W",
        "1",
        "--fail-after-items",
        "2",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--resume"), "{err}");
    assert!(!dst.exists(), "a failed conversion must not create DST");
    assert!(part.exists() && journal.exists());
    let out = ferry_ok(&["convert", s(&src), s(&dst), "--resume", "--verify"]);
    assert!(out.contains("resumed past"), "{out}");
    assert!(images_identical(&src, &dst));
    assert!(!part.exists() && !journal.exists());
}

#[test]
fn resume_refuses_a_journal_for_a_changed_source() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    let dir = tempdir();
    let src = make(dir.path(), "src.raw", &[], "raw");
    let dst = dir.path().join("out.raw");
    ferry_fails(&[
        "convert",
        s(&src),
        s(&dst),
        "--resume",
        "-W",
        "1",
        "--fail-after-items",
        "1",
    ]);
    qemu_io(&src, "raw", &["write -P 0x99 0 4096"]);
    let out = ferry_fails(&["convert", s(&src), s(&dst), "--resume"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("different source"), "{err}");
    assert!(err.contains("delete the journal"), "{err}");
}

#[test]
fn bad_arguments_are_clear_errors() {
    let dir = tempdir();
    let src = dir.path().join("src.raw");
    std::fs::write(&src, vec![1u8; 4096]).unwrap();
    let dst = dir.path().join("dst.raw");
    let out = ferry_fails(&["convert", s(&src), s(&dst), "-o", "compress"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("-O qcow2"));
    let out = ferry_fails(&["convert", s(&dir.path().join("missing")), s(&dst)]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing"));
    let out = ferry_fails(&["convert", s(&src), s(&dst), "-f", "qed"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown image format"));
    assert!(!dst.exists());
}

/// A raw image with the standard content, then converted by qemu-img into
/// `fmt` with `opts`.
fn make_via_convert(dir: &Path, name: &str, fmt: &str, opts: &str) -> PathBuf {
    let raw = dir.join(format!("{name}.src.raw"));
    if !raw.exists() {
        let p = make(dir, &format!("{name}.src.raw"), &[], "raw");
        assert_eq!(p, raw);
    }
    let out = dir.join(name);
    let mut args = vec!["convert", "-q", "-O", fmt];
    if !opts.is_empty() {
        args.extend(["-o", opts]);
    }
    args.extend([s(&raw), s(&out)]);
    qemu_img(&args);
    out
}

#[test]
fn convert_vmdk_subformats() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    for sub in [
        "monolithicSparse",
        "streamOptimized",
        "monolithicFlat",
        "twoGbMaxExtentSparse",
        "twoGbMaxExtentFlat",
    ] {
        let dir = tempdir();
        let src = make_via_convert(dir.path(), "src.vmdk", "vmdk", &format!("subformat={sub}"));
        check_converts(dir.path(), &src, None, DATA_BYTES + 4096);
    }
}

#[test]
fn convert_vmdk_written_by_qemu_io_with_zero_grains() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    let dir = tempdir();
    let src = make(
        dir.path(),
        "src.vmdk",
        &["-o", "subformat=monolithicSparse,zeroed_grain=on"],
        "vmdk",
    );
    qemu_io(&src, "vmdk", &["write -z 3M 1M"]);
    check_converts(dir.path(), &src, Some("vmdk"), DATA_BYTES + 4096);
}

#[test]
fn convert_vhd_fixed_and_dynamic() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    for sub in ["dynamic", "fixed"] {
        let dir = tempdir();
        let src = make_via_convert(
            dir.path(),
            "src.vhd",
            "vpc",
            &format!("subformat={sub},force_size=on"),
        );
        // qemu reads a fixed VHD whose size is not a whole number of
        // sectors per its CHS geometry as the file size (footer included);
        // the footer's current size is the guest size, so compare with
        // the raw the VHD was made from.
        let reference = dir.path().join("src.vhd.src.raw");
        check_converts_against(dir.path(), &src, &reference, None, DATA_BYTES + 4096);
    }
}

#[test]
fn convert_vhdx_dynamic_and_fixed() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    for sub in ["dynamic", "fixed"] {
        let dir = tempdir();
        let src = make_via_convert(dir.path(), "src.vhdx", "vhdx", &format!("subformat={sub}"));
        check_converts(dir.path(), &src, None, DATA_BYTES + 4096);
    }
}

#[test]
fn convert_compressed_streams() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    for tool in ["gzip", "xz", "zstd"] {
        if peer(tool).is_none() {
            continue;
        }
        let dir = tempdir();
        let raw = make(dir.path(), "src.raw", &[], "raw");
        let packed = dir.path().join(format!("src.raw.{tool}"));
        let out = Command::new(tool)
            .args(["-c", "-1"])
            .arg(&raw)
            .output()
            .unwrap();
        assert!(out.status.success(), "{tool} failed");
        std::fs::write(&packed, &out.stdout).unwrap();
        let dst = dir.path().join("out.raw");
        ferry_ok(&["convert", s(&packed), s(&dst), "--verify"]);
        assert!(images_identical(&raw, &dst), "{tool} stream -> raw differs");
        assert!(allocated(&dst) <= DATA_BYTES + 4096 + M);
    }
}

#[test]
fn stream_optimized_vmdk_output_is_read_by_qemu() {
    if peer("qemu-img").is_none() || peer("qemu-io").is_none() {
        return;
    }
    let dir = tempdir();
    let src = make(dir.path(), "src.qcow2", &[], "qcow2");
    qemu_io(&src, "qcow2", &["write -z 3M 1M"]);
    let vmdk = dir.path().join("out.vmdk");
    let out = ferry_ok(&[
        "convert",
        s(&src),
        s(&vmdk),
        "-O",
        "vmdk",
        "--verify",
        "-W",
        "3",
    ]);
    assert!(out.contains("(verified)"), "{out}");
    assert!(images_identical(&src, &vmdk));
    qemu_img(&["check", "-q", s(&vmdk)]);
    let info = qemu_img(&["info", "--output=json", s(&vmdk)]);
    assert!(info.contains("streamOptimized"), "{info}");
    // And back through ferry.
    let back = dir.path().join("back.raw");
    ferry_ok(&["convert", s(&vmdk), s(&back)]);
    assert!(images_identical(&src, &back));
    let err = ferry_fails(&[
        "convert",
        s(&src),
        s(&dir.path().join("r.vmdk")),
        "-O",
        "vmdk",
        "--resume",
    ]);
    assert!(String::from_utf8_lossy(&err.stderr).contains("--resume needs -O raw"));
}
