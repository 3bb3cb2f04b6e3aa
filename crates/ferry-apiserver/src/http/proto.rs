//! Decoding of the Kubernetes protobuf envelope for the built-in kinds
//! kubectl creates with its typed clients (`kubectl create namespace`,
//! `create configmap`, `create secret ...`): kubectl 1.32 sends those as
//! `application/vnd.kubernetes.protobuf`. Only what those commands send is
//! decoded; anything else is refused with a clear error.

use base64::Engine as _;
use serde_json::{Map, Value, json};

const MAGIC: &[u8] = b"k8s\0";
const MAX_DEPTH: usize = 8;

/// A protobuf field: number and value.
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos).ok_or("truncated varint")?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint too long".into())
    }

    fn next(&mut self) -> Result<Option<(u64, Field<'a>)>, String> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let (num, wire) = (key >> 3, key & 7);
        let f = match wire {
            0 => Field::Varint(self.varint()?),
            1 => {
                self.skip(8)?;
                Field::Fixed
            }
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|_| "length too large")?;
                let end = self
                    .pos
                    .checked_add(len)
                    .filter(|e| *e <= self.buf.len())
                    .ok_or("truncated field")?;
                let b = &self.buf[self.pos..end];
                self.pos = end;
                Field::Bytes(b)
            }
            5 => {
                self.skip(4)?;
                Field::Fixed
            }
            w => return Err(format!("unsupported wire type {w}")),
        };
        Ok(Some((num, f)))
    }

    fn skip(&mut self, n: usize) -> Result<(), String> {
        self.pos = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or("truncated field")?;
        Ok(())
    }
}

fn string(b: &[u8]) -> Result<String, String> {
    String::from_utf8(b.to_vec()).map_err(|_| "a string field is not UTF-8".to_string())
}

/// A `map<string, X>` entry (key = 1, value = 2).
fn map_entry(b: &[u8], bytes_value: bool) -> Result<(String, Value), String> {
    let mut r = Reader::new(b);
    let (mut k, mut v) = (String::new(), Value::String(String::new()));
    while let Some((n, f)) = r.next()? {
        match (n, f) {
            (1, Field::Bytes(x)) => k = string(x)?,
            (2, Field::Bytes(x)) if bytes_value => {
                v = json!(base64::engine::general_purpose::STANDARD.encode(x))
            }
            (2, Field::Bytes(x)) => v = json!(string(x)?),
            _ => {}
        }
    }
    Ok((k, v))
}

fn insert_entry(
    m: &mut Map<String, Value>,
    key: &str,
    b: &[u8],
    bytes_value: bool,
) -> Result<(), String> {
    let (k, v) = map_entry(b, bytes_value)?;
    if let Some(Value::Object(map)) = m.get_mut(key) {
        map.insert(k, v);
    } else {
        m.insert(key.into(), json!({ k: v }));
    }
    Ok(())
}

fn push(m: &mut Map<String, Value>, key: &str, v: Value) {
    if let Some(Value::Array(a)) = m.get_mut(key) {
        a.push(v);
    } else {
        m.insert(key.into(), Value::Array(vec![v]));
    }
}

fn object_meta(b: &[u8]) -> Result<Value, String> {
    let mut r = Reader::new(b);
    let mut m = Map::new();
    while let Some((n, f)) = r.next()? {
        match (n, f) {
            (1, Field::Bytes(x)) => drop(m.insert("name".into(), json!(string(x)?))),
            (2, Field::Bytes(x)) => drop(m.insert("generateName".into(), json!(string(x)?))),
            (3, Field::Bytes(x)) => drop(m.insert("namespace".into(), json!(string(x)?))),
            (6, Field::Bytes(x)) => drop(m.insert("resourceVersion".into(), json!(string(x)?))),
            (11, Field::Bytes(x)) => insert_entry(&mut m, "labels", x, false)?,
            (12, Field::Bytes(x)) => insert_entry(&mut m, "annotations", x, false)?,
            (14, Field::Bytes(x)) => push(&mut m, "finalizers", json!(string(x)?)),
            _ => {}
        }
    }
    Ok(Value::Object(m))
}

fn decode_kind(kind: &str, raw: &[u8]) -> Result<Value, String> {
    let mut r = Reader::new(raw);
    let mut o = Map::new();
    o.insert("kind".into(), json!(kind));
    while let Some((n, f)) = r.next()? {
        let Field::Bytes(x) = f else {
            if let (Field::Varint(v), "ConfigMap", 4) | (Field::Varint(v), "Secret", 5) =
                (f, kind, n)
            {
                o.insert("immutable".into(), json!(v != 0));
            }
            continue;
        };
        match (kind, n) {
            (_, 1) => drop(o.insert("metadata".into(), object_meta(x)?)),
            ("ConfigMap", 2) => insert_entry(&mut o, "data", x, false)?,
            ("ConfigMap", 3) => insert_entry(&mut o, "binaryData", x, true)?,
            ("Secret", 2) => insert_entry(&mut o, "data", x, true)?,
            ("Secret", 3) => drop(o.insert("type".into(), json!(string(x)?))),
            ("Secret", 4) => insert_entry(&mut o, "stringData", x, false)?,
            ("Namespace", 2) => {
                let mut spec = Map::new();
                let mut sr = Reader::new(x);
                while let Some((sn, sf)) = sr.next()? {
                    if let (1, Field::Bytes(v)) = (sn, sf) {
                        push(&mut spec, "finalizers", json!(string(v)?));
                    }
                }
                o.insert("spec".into(), Value::Object(spec));
            }
            _ => {}
        }
    }
    Ok(Value::Object(o))
}

/// Decode a protobuf-encoded object of one of the supported kinds.
pub fn decode(body: &[u8]) -> Result<Value, String> {
    let rest = body
        .strip_prefix(MAGIC)
        .ok_or("the protobuf body lacks the k8s envelope")?;
    let mut r = Reader::new(rest);
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), None);
    let mut depth = 0;
    while let Some((n, f)) = r.next()? {
        depth += 1;
        if depth > 1024 * MAX_DEPTH {
            return Err("too many fields".into());
        }
        match (n, f) {
            (1, Field::Bytes(tm)) => {
                let mut t = Reader::new(tm);
                while let Some((tn, tf)) = t.next()? {
                    match (tn, tf) {
                        (1, Field::Bytes(v)) => api_version = string(v)?,
                        (2, Field::Bytes(v)) => kind = string(v)?,
                        _ => {}
                    }
                }
            }
            (2, Field::Bytes(b)) => raw = Some(b),
            _ => {}
        }
    }
    let raw = raw.ok_or("the protobuf envelope holds no object")?;
    match (api_version.as_str(), kind.as_str()) {
        ("v1", "Namespace" | "ConfigMap" | "Secret") => {
            let mut v = decode_kind(&kind, raw)?;
            v["apiVersion"] = json!("v1");
            Ok(v)
        }
        _ => Err(format!(
            "protobuf bodies are only understood for v1 Namespace, ConfigMap and Secret, not {api_version} {kind}; send JSON"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(n: u64, b: &[u8]) -> Vec<u8> {
        let mut out = vec![((n << 3) | 2) as u8, b.len() as u8];
        out.extend_from_slice(b);
        out
    }

    #[test]
    fn decodes_a_secret() {
        let meta = [
            field(1, b"s1"),
            field(3, b"ns"),
            field(11, &[field(1, b"a"), field(2, b"b")].concat()),
        ]
        .concat();
        let secret = [
            field(1, &meta),
            field(2, &[field(1, b"pw"), field(2, b"hunter2")].concat()),
            field(3, b"Opaque"),
        ]
        .concat();
        let envelope = [
            MAGIC.to_vec(),
            field(1, &[field(1, b"v1"), field(2, b"Secret")].concat()),
            field(2, &secret),
        ]
        .concat();
        let v = decode(&envelope).unwrap();
        assert_eq!(v["metadata"]["name"], "s1");
        assert_eq!(v["metadata"]["labels"]["a"], "b");
        assert_eq!(v["data"]["pw"], "aHVudGVyMg==");
        assert_eq!(v["type"], "Opaque");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for body in [
            &b"k8s\0\x0a\xff"[..],
            b"k8s\0\x12\x05ab",
            b"nope",
            b"k8s\0\x0f",
        ] {
            assert!(decode(body).is_err());
        }
    }
}
