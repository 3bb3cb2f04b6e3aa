//! Allocation units: DMTF DSP0004 programmatic units as OVF uses them for
//! disk capacities (`ovf:capacityAllocationUnits="byte * 2^30"`) and memory
//! (`rasd:AllocationUnits>byte * 2^20<`), plus the legacy names some
//! exporters write (`MegaBytes`, `GB`, ...).

/// Largest exponent accepted in `2^N` / `10^N` (2^62 and 10^18 still fit in an i64).
const MAX_POW2: u32 = 62;
const MAX_POW10: u32 = 18;

/// The number of bytes one unit stands for, or `None` when `units` is not a
/// byte unit ferry understands (or overflows). An empty string means bytes.
pub fn byte_multiplier(units: &str) -> Option<u64> {
    let text = units.trim();
    if text.is_empty() {
        return Some(1);
    }
    if let Some(m) = legacy_multiplier(text) {
        return Some(m);
    }
    let mut parts = text.split('*').map(str::trim);
    let base = parts.next()?.to_ascii_lowercase();
    let mut factor: u64 = match base.as_str() {
        "byte" | "bytes" => 1,
        other => legacy_multiplier(other)?,
    };
    for modifier in parts {
        factor = factor.checked_mul(modifier_value(modifier)?)?;
    }
    Some(factor)
}

/// `value` units in bytes, when representable as a non-negative i64.
pub fn to_bytes(value: i64, units: &str) -> Option<i64> {
    let m = i64::try_from(byte_multiplier(units)?).ok()?;
    value.checked_mul(m)
}

fn modifier_value(modifier: &str) -> Option<u64> {
    if let Some((base, exp)) = modifier.split_once('^') {
        let exp: u32 = exp.trim().parse().ok()?;
        return match base.trim() {
            "2" if exp <= MAX_POW2 => 2u64.checked_pow(exp),
            "10" if exp <= MAX_POW10 => 10u64.checked_pow(exp),
            _ => None,
        };
    }
    let n: u64 = modifier.parse().ok()?;
    (n > 0).then_some(n)
}

fn legacy_multiplier(name: &str) -> Option<u64> {
    let m = match name.to_ascii_lowercase().as_str() {
        "b" => 1,
        "kb" | "kib" | "kilobytes" | "kilobyte" => 1 << 10,
        "mb" | "mib" | "megabytes" | "megabyte" => 1 << 20,
        "gb" | "gib" | "gigabytes" | "gigabyte" => 1 << 30,
        "tb" | "tib" | "terabytes" | "terabyte" => 1 << 40,
        _ => return None,
    };
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiplier_table() {
        let table: &[(&str, Option<u64>)] = &[
            ("", Some(1)),
            ("byte", Some(1)),
            ("bytes", Some(1)),
            ("byte * 2^10", Some(1024)),
            ("byte * 2^20", Some(1 << 20)),
            ("byte * 2^30", Some(1 << 30)),
            ("byte*2^40", Some(1 << 40)),
            ("  byte  *  2^30 ", Some(1 << 30)),
            ("byte * 10^3", Some(1000)),
            ("byte * 10^9", Some(1_000_000_000)),
            ("byte * 2^10 * 2^10", Some(1 << 20)),
            ("byte * 512", Some(512)),
            ("MegaBytes", Some(1 << 20)),
            ("GigaBytes", Some(1 << 30)),
            ("KiloBytes", Some(1024)),
            ("MB", Some(1 << 20)),
            ("GB", Some(1 << 30)),
            ("byte * 2^63", None),
            ("byte * 2^62 * 2^2", None),
            ("byte * 10^19", None),
            ("byte * 3^2", None),
            ("byte * 0", None),
            ("hertz * 10^6", None),
            ("percent", None),
            ("byte * 2^", None),
            ("byte * 2^-1", None),
        ];
        for (units, want) in table {
            assert_eq!(byte_multiplier(units), *want, "units {units:?}");
        }
    }

    #[test]
    fn to_bytes_checks_overflow() {
        assert_eq!(to_bytes(16, "byte * 2^30"), Some(16 << 30));
        assert_eq!(to_bytes(2048, "byte * 2^20"), Some(2 << 30));
        assert_eq!(to_bytes(i64::MAX, "byte * 2^10"), None);
        assert_eq!(to_bytes(-1, "byte"), Some(-1));
        assert_eq!(to_bytes(1, "bogus"), None);
    }
}
