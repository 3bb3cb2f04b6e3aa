//! `ferry map IMAGE`: the image's data/zero/hole extents, as JSON in the
//! spirit of `qemu-img map --output=json` or as a table.
use std::io::Write;

use ferry_image::{Extent, ExtentKind};
use serde::Serialize;

use super::info::{OpenArgs, for_each_extent};

/// Output styles of `ferry map`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MapOutput {
    /// A JSON array, one extent per line.
    Json,
    /// A table.
    Human,
}

/// Arguments of `ferry map`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub open: OpenArgs,
    /// Output style.
    #[arg(short = 'o', long = "output", value_enum, default_value = "json")]
    pub output: MapOutput,
}

/// One extent as qemu-img map prints it: `present` is false only where
/// nothing in the chain allocates the range, `zero` where it reads as zero
/// without data, `data` where bytes must be copied.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct MapEntry {
    /// Guest offset.
    pub start: u64,
    /// Length in bytes.
    pub length: u64,
    /// Allocated somewhere in the chain.
    pub present: bool,
    /// Reads as zero.
    pub zero: bool,
    /// Holds data.
    pub data: bool,
}

impl From<Extent> for MapEntry {
    fn from(e: Extent) -> Self {
        Self {
            start: e.offset,
            length: e.length,
            present: e.kind != ExtentKind::Hole,
            zero: e.kind != ExtentKind::Data,
            data: e.kind == ExtentKind::Data,
        }
    }
}

/// Print the extents.
pub fn run(args: Args) -> anyhow::Result<()> {
    let img = args.open.open()?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.output {
        MapOutput::Json => {
            let mut first = true;
            for_each_extent(img.as_ref(), |e| {
                let sep = if first { "[" } else { ",\n" };
                first = false;
                write!(out, "{sep}{}", serde_json::to_string(&MapEntry::from(e))?)?;
                Ok(())
            })?;
            writeln!(out, "{}", if first { "[]" } else { "]" })?;
        }
        MapOutput::Human => {
            writeln!(out, "{:<20} {:<20} kind", "offset", "length")?;
            for_each_extent(img.as_ref(), |e| {
                let kind = match e.kind {
                    ExtentKind::Data => "data",
                    ExtentKind::Zero => "zero",
                    ExtentKind::Hole => "hole",
                };
                writeln!(out, "{:<#20x} {:<#20x} {kind}", e.offset, e.length)?;
                Ok(())
            })?;
        }
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Command;

    fn merged(
        entries: impl IntoIterator<Item = (u64, u64, bool, bool, bool)>,
    ) -> Vec<(u64, u64, bool, bool, bool)> {
        let mut out: Vec<(u64, u64, bool, bool, bool)> = Vec::new();
        for e in entries {
            match out.last_mut() {
                Some(l) if (l.2, l.3, l.4) == (e.2, e.3, e.4) && l.0 + l.1 == e.0 => l.1 += e.1,
                _ => out.push(e),
            }
        }
        out
    }

    fn qemu_io(img: &Path, cmds: &[&str]) {
        let mut c = Command::new("qemu-io");
        c.args(["-f", "qcow2"]);
        for cmd in cmds {
            c.arg("-c").arg(cmd);
        }
        ferry_testutil::run(c.arg(img));
    }

    #[test]
    fn map_of_a_backing_chain_agrees_with_qemu_img_map() {
        if ferry_testutil::peer("qemu-img").is_none() || ferry_testutil::peer("qemu-io").is_none() {
            return;
        }
        let dir = ferry_testutil::tempdir();
        let base = dir.path().join("base.qcow2");
        let top = dir.path().join("top.qcow2");
        ferry_testutil::qemu_img(&["create", "-q", "-f", "qcow2", base.to_str().unwrap(), "10M"]);
        qemu_io(&base, &["write -P 1 0 1M", "write -z 2M 1M"]);
        ferry_testutil::qemu_img(&[
            "create",
            "-q",
            "-f",
            "qcow2",
            "-b",
            "base.qcow2",
            "-F",
            "qcow2",
            top.to_str().unwrap(),
            "12M",
        ]);
        qemu_io(
            &top,
            &[
                "write -z 512k 64k",
                "write -P 3 5M 100k",
                "write -P 4 11M 4k",
            ],
        );
        let args = OpenArgs {
            image: top.clone(),
            format: None,
            member: None,
            gate: Default::default(),
        };
        let img = args.open().unwrap();
        let mut ours = Vec::new();
        for_each_extent(img.as_ref(), |e| {
            let m = MapEntry::from(e);
            ours.push((m.start, m.length, m.present, m.zero, m.data));
            Ok(())
        })
        .unwrap();
        let json = ferry_testutil::qemu_img(&["map", "--output=json", top.to_str().unwrap()]);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let theirs = merged(v.as_array().unwrap().iter().map(|e| {
            (
                e["start"].as_u64().unwrap(),
                e["length"].as_u64().unwrap(),
                e["present"].as_bool().unwrap(),
                e["zero"].as_bool().unwrap(),
                e["data"].as_bool().unwrap(),
            )
        }));
        assert_eq!(merged(ours), theirs);
    }

    #[test]
    fn map_entry_flags_follow_qemu() {
        let e = |kind| {
            MapEntry::from(Extent {
                offset: 0,
                length: 1,
                kind,
            })
        };
        let d = e(ExtentKind::Data);
        assert!(d.present && d.data && !d.zero);
        let z = e(ExtentKind::Zero);
        assert!(z.present && z.zero && !z.data);
        let h = e(ExtentKind::Hole);
        assert!(!h.present && h.zero && !h.data);
    }
}
