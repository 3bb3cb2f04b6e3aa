//! A reader that stops early (`ferry map IMG | head`) ends ferry quietly:
//! no "Broken pipe" error and no panic message, whatever the command.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::os::unix::fs::FileExt;
use std::process::{Command, Stdio};

/// Run ferry with `args`, read one line of its output, close the pipe and
/// return (exit success, stderr).
fn first_line_then_close(args: &[&str]) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(!line.is_empty());
    drop(reader);
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn map_into_a_closed_pipe_exits_quietly() {
    // A sparse raw image with thousands of extents: far more output than
    // a pipe buffers.
    let dir = ferry_testutil::tempdir();
    let image = dir.path().join("many.raw");
    let f = std::fs::File::create(&image).unwrap();
    f.set_len(1 << 30).unwrap();
    for i in 0..8192u64 {
        f.write_all_at(&[0xab; 4096], i * (128 << 10)).unwrap();
    }
    drop(f);
    let (ok, stderr) = first_line_then_close(&["map", image.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn crds_into_a_closed_pipe_exit_quietly() {
    // About 300 KB of YAML (written line by line) or JSON (through serde).
    for args in [&["crds"][..], &["crds", "-o", "json"]] {
        let (ok, stderr) = first_line_then_close(args);
        assert!(ok, "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}
