//! Disk image formats, one folder each. [`Format`] names them; the factory in
//! [`crate::open`] probes a storage and dispatches to each format's `open`.
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::error::{Error, ErrorKind};

pub mod qcow2;
pub mod raw;
pub mod vdi;
pub mod vhd;
pub mod vhdx;
pub mod vmdk;

/// An image format ferry can recognise. Names follow qemu-img (`vpc` is VHD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Plain bytes.
    Raw,
    /// QEMU copy-on-write v2/v3.
    Qcow2,
    /// VMware virtual disk (sparse, stream-optimized or a text descriptor).
    Vmdk,
    /// Microsoft Virtual Hard Disk (VHD).
    Vpc,
    /// Microsoft VHDX.
    Vhdx,
    /// VirtualBox VDI (dynamic or static).
    Vdi,
    /// An ISO 9660 image: read as raw.
    Iso,
}

impl Format {
    /// Every format, for help texts and errors.
    pub const ALL: [Format; 7] = [
        Format::Raw,
        Format::Qcow2,
        Format::Vmdk,
        Format::Vpc,
        Format::Vhdx,
        Format::Vdi,
        Format::Iso,
    ];

    /// The name as qemu-img spells it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Raw => "raw",
            Format::Qcow2 => "qcow2",
            Format::Vmdk => "vmdk",
            Format::Vpc => "vpc",
            Format::Vhdx => "vhdx",
            Format::Vdi => "vdi",
            Format::Iso => "iso",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        let found = match lower.as_str() {
            "vhd" => Some(Format::Vpc),
            "img" => Some(Format::Raw),
            other => Format::ALL.into_iter().find(|f| f.name() == other),
        };
        found.ok_or_else(|| {
            let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
            Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "unknown image format {s:?}; expected one of {}",
                    names.join(", ")
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>().unwrap(), f);
        }
        assert_eq!("VHD".parse::<Format>().unwrap(), Format::Vpc);
        let err = "qed".parse::<Format>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(err.to_string().contains("qcow2"), "{err}");
    }
}
