//! Small helpers for object metadata: timestamps, uids, names, field access.

use serde_json::{Map, Value};

/// Now as RFC 3339 with second precision in UTC (`2026-11-23T00:00:00Z`).
pub fn now_rfc3339() -> String {
    let ts = jiff::Timestamp::now();
    let secs = ts.as_second();
    jiff::Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| ts.to_string())
}

/// Now as RFC 3339 with microseconds (for `MicroTime` fields).
pub fn now_micro() -> String {
    let ts = jiff::Timestamp::now();
    format!("{:.6}", ts)
}

/// Seconds since an RFC 3339 timestamp (0 when unparseable or in the future).
pub fn age_seconds(rfc3339: &str) -> i64 {
    match rfc3339.parse::<jiff::Timestamp>() {
        Ok(t) => (jiff::Timestamp::now().as_second() - t.as_second()).max(0),
        Err(_) => 0,
    }
}

/// Human age as kubectl prints it: `45s`, `5m`, `3h`, `2d`, `400d`.
pub fn human_age(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 600 => format!("{}m{}s", s / 60, s % 60),
        s if s < 3 * 3600 => format!("{}m", s / 60),
        s if s < 8 * 3600 => format!("{}h{}m", s / 3600, (s % 3600) / 60),
        s if s < 48 * 3600 => format!("{}h", s / 3600),
        s if s < 8 * 86400 => format!("{}d{}h", s / 86400, (s % 86400) / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// Random bytes from the OS (falls back to time-derived bytes if the OS fails).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    if getrandom::fill(&mut buf).is_err() {
        let nanos = jiff::Timestamp::now().as_nanosecond();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (nanos >> ((i % 16) * 8)) as u8 ^ (i as u8).wrapping_mul(31);
        }
    }
    buf
}

/// A random RFC 4122 version-4 UUID.
pub fn new_uid() -> String {
    let mut b = random_bytes::<16>();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Five random lower-case alphanumerics for `generateName`, as Kubernetes does
/// (no vowels, so no words are spelled).
pub fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    random_bytes::<5>()
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// `metadata` of an object as a map (creating it when missing).
pub fn metadata_mut(obj: &mut Value) -> Option<&mut Map<String, Value>> {
    let o = obj.as_object_mut()?;
    let m = o
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !m.is_object() {
        *m = Value::Object(Map::new());
    }
    m.as_object_mut()
}

/// A string in `metadata`.
pub fn meta_str<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.get("metadata")?.get(key)?.as_str()
}

/// `metadata.finalizers` (empty when absent).
pub fn finalizers(obj: &Value) -> Vec<String> {
    obj.get("metadata")
        .and_then(|m| m.get("finalizers"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Does `new` change nothing of `old`? Compared as Kubernetes does for a
/// no-op update: `metadata.resourceVersion` and the `time` of managedFields
/// entries are ignored (a write that only refreshes them stores nothing).
pub fn same_object(old: &Value, new: &Value) -> bool {
    fn comparable(v: &Value) -> Value {
        let mut v = v.clone();
        if let Some(md) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            md.remove("resourceVersion");
            if let Some(Value::Array(entries)) = md.get_mut("managedFields") {
                for e in entries.iter_mut().filter_map(Value::as_object_mut) {
                    e.remove("time");
                }
            }
        }
        v
    }
    comparable(old) == comparable(new)
}

/// Follow a dotted path (`metadata.name`, `spec.type`) through maps.
pub fn get_path<'a>(obj: &'a Value, dotted: &str) -> Option<&'a Value> {
    dotted
        .split('.')
        .filter(|s| !s.is_empty())
        .try_fold(obj, |v, k| v.get(k))
}

/// Is `s` a DNS-1123 subdomain (lower-case alphanumerics, `-` and `.`, <= 253)?
pub fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// Is `s` a DNS-1123 label (<= 63, no dots)?
pub fn is_dns_label(s: &str) -> bool {
    s.len() <= 63 && !s.contains('.') && is_dns_subdomain(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_has_version_4_shape() {
        let u = new_uid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(new_uid(), u);
    }

    #[test]
    fn dns_names() {
        assert!(is_dns_subdomain("a.b-c"));
        assert!(!is_dns_subdomain("A"));
        assert!(!is_dns_subdomain("-a"));
        assert!(is_dns_label("abc-1"));
        assert!(!is_dns_label("a.b"));
    }

    #[test]
    fn ages_read_like_kubectl() {
        assert_eq!(human_age(5), "5s");
        assert_eq!(human_age(300), "5m0s");
        assert_eq!(human_age(3600), "60m");
        assert_eq!(human_age(3 * 86400), "3d0h");
    }

    #[test]
    fn same_object_ignores_rv_and_managed_times_only() {
        let old = serde_json::json!({"metadata": {"name": "a", "resourceVersion": "5",
            "managedFields": [{"manager": "m", "time": "2026-01-01T00:00:00Z"}]}, "spec": {"x": 1}});
        let mut new = old.clone();
        new["metadata"]["resourceVersion"] = "9".into();
        new["metadata"]["managedFields"][0]["time"] = "2026-02-02T00:00:00Z".into();
        assert!(same_object(&old, &new));
        new["metadata"]["managedFields"][0]["manager"] = "other".into();
        assert!(!same_object(&old, &new));
        let mut spec = old.clone();
        spec["spec"]["x"] = 2.into();
        assert!(!same_object(&old, &spec));
    }

    #[test]
    fn timestamps_parse_back() {
        let t = now_rfc3339();
        assert!(t.ends_with('Z'), "{t}");
        assert!(age_seconds(&t) < 5);
    }
}
