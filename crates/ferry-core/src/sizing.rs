//! PVC sizes: Forklift's filesystem/block overhead and Kubernetes resource
//! quantities.
//!
//! Forklift sizes a PVC for a disk of `size` bytes as
//! `ceil(align1MiB(size) / (1 - fs_overhead/100))` on Filesystem volumes and
//! `align1MiB(size) + block_overhead` on Block volumes
//! (`controller_filesystem_overhead`, default 10 %, and
//! `controller_block_overhead`, default 0 bytes). The division is done in
//! double precision, as Forklift does, so results match byte for byte.
use std::fmt;

/// Alignment of every PVC size: 1 MiB, a multiple of all common block sizes.
pub const ALIGNMENT: u64 = 1024 * 1024;
/// Default `controller_filesystem_overhead` (percent).
pub const DEFAULT_FILESYSTEM_OVERHEAD_PERCENT: u32 = 10;
/// Default `controller_block_overhead` (bytes).
pub const DEFAULT_BLOCK_OVERHEAD_BYTES: u64 = 0;

/// The volume mode of a PVC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VolumeMode {
    /// A filesystem holding a disk image file.
    Filesystem,
    /// A raw block device.
    Block,
}

impl VolumeMode {
    /// The Kubernetes spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Filesystem => "Filesystem",
            Self::Block => "Block",
        }
    }
}

impl fmt::Display for VolumeMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The overhead settings of the ForkliftController.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overhead {
    /// `controller_filesystem_overhead`, percent, 0-99.
    pub filesystem_percent: u32,
    /// `controller_block_overhead`, bytes.
    pub block_bytes: u64,
}

impl Default for Overhead {
    fn default() -> Self {
        Self {
            filesystem_percent: DEFAULT_FILESYSTEM_OVERHEAD_PERCENT,
            block_bytes: DEFAULT_BLOCK_OVERHEAD_BYTES,
        }
    }
}

/// Errors of this module.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// The filesystem overhead is 100 % or more.
    #[error("filesystem overhead must be between 0 and 99 percent, not {0}")]
    BadOverhead(u32),
    /// The computed size does not fit in 64 bits.
    #[error("a disk of {0} bytes is too large to size a PVC for")]
    Overflow(u64),
    /// A quantity string could not be parsed.
    #[error("quantity {text:?} is not valid: {reason}")]
    BadQuantity {
        /// The text given.
        text: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Round `size` up to a multiple of 1 MiB.
pub fn align_1mib(size: u64) -> Result<u64, SizeError> {
    size.div_ceil(ALIGNMENT)
        .checked_mul(ALIGNMENT)
        .ok_or(SizeError::Overflow(size))
}

/// The PVC size Forklift requests for a disk of `disk_bytes` bytes.
pub fn pvc_size(disk_bytes: u64, mode: VolumeMode, overhead: Overhead) -> Result<u64, SizeError> {
    let aligned = align_1mib(disk_bytes)?;
    match mode {
        VolumeMode::Block => aligned
            .checked_add(overhead.block_bytes)
            .ok_or(SizeError::Overflow(disk_bytes)),
        VolumeMode::Filesystem => {
            if overhead.filesystem_percent >= 100 {
                return Err(SizeError::BadOverhead(overhead.filesystem_percent));
            }
            let factor = 1.0 - f64::from(overhead.filesystem_percent) / 100.0;
            #[allow(clippy::cast_precision_loss)]
            let inflated = (aligned as f64 / factor).ceil();
            // 2^64 as f64; anything at or above it does not fit.
            if inflated.is_nan() || inflated >= 18_446_744_073_709_551_616.0 {
                return Err(SizeError::Overflow(disk_bytes));
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Ok(inflated as u64)
        }
    }
}

const BINARY_SUFFIXES: [(&str, u32); 6] = [
    ("Ki", 1),
    ("Mi", 2),
    ("Gi", 3),
    ("Ti", 4),
    ("Pi", 5),
    ("Ei", 6),
];
const DECIMAL_SUFFIXES: [(&str, u32); 6] =
    [("k", 1), ("M", 2), ("G", 3), ("T", 4), ("P", 5), ("E", 6)];

fn bad(text: &str, reason: &'static str) -> SizeError {
    SizeError::BadQuantity {
        text: text.to_string(),
        reason,
    }
}

/// Parse a Kubernetes quantity of bytes (`10Gi`, `500M`, `1.5Gi`, `1e9`,
/// `1073741824`) into bytes, rounding fractions of a byte up as Kubernetes
/// does. Negative values and milli-units are rejected.
pub fn parse_quantity(text: &str) -> Result<u64, SizeError> {
    let s = text.trim();
    if s.is_empty() {
        return Err(bad(text, "it is empty"));
    }
    if s.starts_with('-') {
        return Err(bad(text, "it is negative"));
    }
    let digits_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(digits_end);
    let number = number.strip_prefix('+').unwrap_or(number);
    if number.is_empty() || number.starts_with('.') && number.len() == 1 {
        return Err(bad(text, "it has no number"));
    }
    if number.contains('+') || number.matches('.').count() > 1 {
        return Err(bad(text, "the number is malformed"));
    }
    // Scale as (multiplier, decimal exponent).
    let (base, exp): (u128, i32) = if suffix.is_empty() {
        (1, 0)
    } else if let Some((_, p)) = BINARY_SUFFIXES.iter().find(|(n, _)| *n == suffix) {
        (1u128 << (10 * p), 0)
    } else if let Some((_, p)) = DECIMAL_SUFFIXES.iter().find(|(n, _)| *n == suffix) {
        (1, i32::try_from(3 * p).unwrap_or(0))
    } else if let Some(e) = suffix.strip_prefix(['e', 'E']) {
        let e: i32 = e
            .parse()
            .map_err(|_| bad(text, "the exponent is not a number"))?;
        if !(0..=18).contains(&e) {
            return Err(bad(text, "the exponent must be between 0 and 18"));
        }
        (1, e)
    } else if suffix == "m" {
        return Err(bad(text, "milli-units are not valid for bytes"));
    } else {
        return Err(bad(
            text,
            "the suffix must be one of Ki Mi Gi Ti Pi Ei k M G T P E or an exponent",
        ));
    };
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    if int_part.len() + frac_part.len() > 30 {
        return Err(bad(text, "the number has too many digits"));
    }
    let all_digits = format!("{int_part}{frac_part}");
    let mantissa: u128 = all_digits
        .parse()
        .map_err(|_| bad(text, "the number is malformed"))?;
    let frac_len = i32::try_from(frac_part.len()).unwrap_or(i32::MAX);
    let scaled = mantissa
        .checked_mul(base)
        .ok_or_else(|| bad(text, "it is too large"))?;
    let net_exp = exp - frac_len;
    let bytes = if net_exp >= 0 {
        let pow = 10u128
            .checked_pow(net_exp.unsigned_abs())
            .ok_or_else(|| bad(text, "it is too large"))?;
        scaled
            .checked_mul(pow)
            .ok_or_else(|| bad(text, "it is too large"))?
    } else {
        let pow = 10u128
            .checked_pow(net_exp.unsigned_abs())
            .ok_or_else(|| bad(text, "it has too many decimals"))?;
        scaled.div_ceil(pow)
    };
    u64::try_from(bytes).map_err(|_| bad(text, "it is too large"))
}

/// Format `bytes` as Kubernetes does for binary quantities: the largest
/// binary suffix that divides it exactly (`10Gi`, `1536Mi`), else plain bytes.
pub fn format_quantity(bytes: u64) -> String {
    if bytes == 0 {
        return "0".to_string();
    }
    for (name, power) in BINARY_SUFFIXES.iter().rev() {
        let unit = 1u64 << (10 * power);
        if bytes.is_multiple_of(unit) {
            return format!("{}{name}", bytes / unit);
        }
    }
    bytes.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;
    const MIB: u64 = 1 << 20;

    #[test]
    fn alignment() {
        assert_eq!(align_1mib(0).unwrap(), 0);
        assert_eq!(align_1mib(1).unwrap(), MIB);
        assert_eq!(align_1mib(MIB).unwrap(), MIB);
        assert_eq!(align_1mib(MIB + 1).unwrap(), 2 * MIB);
        assert!(align_1mib(u64::MAX).is_err());
    }

    #[test]
    fn filesystem_overhead_exact_numbers() {
        let d = Overhead::default();
        let cases = [
            // (disk bytes, expected PVC bytes) with the default 10 %.
            (10 * GIB, 11_930_464_712),
            (GIB, 1_193_046_472),
            (9 * MIB, 10 * MIB),
            (1, 1_165_085),
            (0, 0),
            (107_374_182_400, 119_304_647_112),
            // 20 GiB + 1 byte rounds up to the next MiB first.
            (20 * GIB + 1, 23_862_094_507),
        ];
        for (disk, want) in cases {
            assert_eq!(
                pvc_size(disk, VolumeMode::Filesystem, d).unwrap(),
                want,
                "disk {disk}"
            );
        }
    }

    #[test]
    fn other_overheads() {
        let none = Overhead {
            filesystem_percent: 0,
            block_bytes: 0,
        };
        assert_eq!(pvc_size(GIB, VolumeMode::Filesystem, none).unwrap(), GIB);
        let fifty = Overhead {
            filesystem_percent: 50,
            block_bytes: 0,
        };
        assert_eq!(
            pvc_size(GIB, VolumeMode::Filesystem, fifty).unwrap(),
            2 * GIB
        );
        let bad = Overhead {
            filesystem_percent: 100,
            block_bytes: 0,
        };
        assert_eq!(
            pvc_size(GIB, VolumeMode::Filesystem, bad),
            Err(SizeError::BadOverhead(100))
        );
    }

    #[test]
    fn block_overhead() {
        let d = Overhead::default();
        assert_eq!(pvc_size(10 * GIB, VolumeMode::Block, d).unwrap(), 10 * GIB);
        assert_eq!(pvc_size(GIB + 5, VolumeMode::Block, d).unwrap(), GIB + MIB);
        let extra = Overhead {
            filesystem_percent: 10,
            block_bytes: 4096,
        };
        assert_eq!(pvc_size(GIB, VolumeMode::Block, extra).unwrap(), GIB + 4096);
        let huge = Overhead {
            filesystem_percent: 10,
            block_bytes: u64::MAX,
        };
        assert!(pvc_size(GIB, VolumeMode::Block, huge).is_err());
    }

    #[test]
    fn filesystem_overflow_is_an_error() {
        let d = Overhead::default();
        assert_eq!(
            pvc_size(u64::MAX - 2 * MIB, VolumeMode::Filesystem, d),
            Err(SizeError::Overflow(u64::MAX - 2 * MIB))
        );
    }

    #[test]
    fn parse_quantities() {
        let cases = [
            ("10Gi", 10 * GIB),
            ("1Ki", 1024),
            ("512Mi", 512 * MIB),
            ("2Ti", 2 << 40),
            ("1k", 1000),
            ("500M", 500_000_000),
            ("1G", 1_000_000_000),
            ("1e9", 1_000_000_000),
            ("1E3", 1000),
            ("1073741824", GIB),
            ("1.5Gi", 3 * GIB / 2),
            ("0.5Ki", 512),
            ("0.1", 1),
            ("1.0001", 2),
            (" 3Mi ", 3 * MIB),
            ("+4k", 4000),
            ("0", 0),
        ];
        for (text, want) in cases {
            assert_eq!(parse_quantity(text).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn parse_rejects_garbage() {
        for text in [
            "",
            "Gi",
            "-1Gi",
            "10GB",
            "10gi",
            "1.2.3",
            "100m",
            "1e99",
            "ten",
            ".",
            "99999999999999999999Ei",
        ] {
            let err = parse_quantity(text).unwrap_err();
            assert!(
                matches!(err, SizeError::BadQuantity { .. }),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn format_quantities() {
        assert_eq!(format_quantity(0), "0");
        assert_eq!(format_quantity(10 * GIB), "10Gi");
        assert_eq!(format_quantity(1536 * MIB), "1536Mi");
        assert_eq!(format_quantity(1024), "1Ki");
        assert_eq!(format_quantity(1000), "1000");
        assert_eq!(format_quantity(11_930_464_712), "11930464712");
        assert_eq!(format_quantity(1 << 60), "1Ei");
    }

    #[test]
    fn format_parse_round_trip() {
        for bytes in [0, 1, 1023, 1024, 10 * GIB, 11_930_464_712, u64::MAX] {
            assert_eq!(parse_quantity(&format_quantity(bytes)).unwrap(), bytes);
        }
    }
}
