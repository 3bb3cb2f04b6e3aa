//! Provider, Host and Secret rules.
use super::index::{self, Index};
use super::json::{self, ObjRef, Path};
use super::{Document, Finding, Report, Severity};
use crate::secrets::{self, ProviderKind};
use base64::Engine as _;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The parts of `scheme://host[:port][/path]`.
struct Url<'a> {
    scheme: &'a str,
    path: &'a str,
}

fn parse_url(s: &str) -> Option<Url<'_>> {
    let (scheme, rest) = s.split_once("://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        match authority.rsplit_once(':') {
            Some((h, port)) if port.parse::<u16>().is_ok() => h,
            Some(_) => return None,
            None => authority,
        }
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return None;
    }
    Some(Url { scheme, path })
}

fn check_url(kind: ProviderKind, url: &str, r: &mut Report<'_>) {
    let p = "spec.url";
    let https = |r: &mut Report<'_>, example: &str| -> Option<String> {
        match parse_url(url) {
            Some(u) if u.scheme == "https" => Some(u.path.trim_end_matches('/').to_string()),
            Some(u) if u.scheme == "http" => {
                r.warn(
                    p,
                    format!("plain http sends credentials unencrypted; use https, e.g. {example}"),
                );
                Some(u.path.trim_end_matches('/').to_string())
            }
            _ => {
                r.error(
                    p,
                    format!(
                        "{url:?} is not a valid URL for a {kind} provider; expected e.g. {example}"
                    ),
                );
                None
            }
        }
    };
    match kind {
        ProviderKind::Vsphere => {
            if let Some(path) = https(r, "https://vcenter.example.com/sdk")
                && path != "/sdk"
            {
                r.warn(
                    p,
                    "vSphere URLs normally end in /sdk (https://<vcenter>/sdk)",
                );
            }
        }
        ProviderKind::Ovirt => {
            if let Some(path) = https(r, "https://rhv.example.com/ovirt-engine/api")
                && path != "/ovirt-engine/api"
            {
                r.warn(p, "oVirt URLs normally end in /ovirt-engine/api");
            }
        }
        ProviderKind::Openstack => {
            if let Some(path) = https(r, "https://keystone.example.com:5000/v3")
                && !path.ends_with("/v3")
            {
                r.warn(p, "OpenStack identity URLs normally end in /v3");
            }
        }
        ProviderKind::Openshift | ProviderKind::Nutanix | ProviderKind::Ec2 => {
            https(r, "https://api.cluster.example.com:6443");
        }
        ProviderKind::Hyperv => {
            if url.contains("://") {
                https(r, "https://hyperv01.example.com");
            } else if url.contains(char::is_whitespace) || url.contains('/') {
                r.error(
                    p,
                    format!("{url:?} is not a host name, IP address or https URL"),
                );
            }
        }
        ProviderKind::Ova => {
            let ok = if let Some(rest) = url.strip_prefix("nfs://") {
                rest.split_once('/')
                    .is_some_and(|(host, path)| !host.is_empty() && !path.is_empty())
            } else if url.contains("://") {
                false
            } else {
                url.split_once(":/").is_some_and(|(host, _)| {
                    !host.is_empty() && !host.contains('/') && !host.contains(char::is_whitespace)
                })
            };
            if !ok {
                r.error(
                    p,
                    format!("{url:?} is not an NFS share; use server:/path or nfs://server/path"),
                );
            }
        }
    }
}

fn check_settings(kind: ProviderKind, v: &Value, r: &mut Report<'_>) {
    let settings = json::at(v, &["spec", "settings"]).and_then(Value::as_object);
    let get = |k: &str| settings.and_then(|s| s.get(k)).and_then(Value::as_str);
    let one_of = |r: &mut Report<'_>, key: &str, allowed: &[&str]| {
        if let Some(val) = get(key)
            && !allowed.contains(&val)
        {
            r.error(
                format!("spec.settings.{key}"),
                format!("{val:?} is not allowed; use one of {}", allowed.join(", ")),
            );
        }
    };
    let known: &[&str] = match kind {
        ProviderKind::Vsphere => {
            one_of(r, "sdkEndpoint", &["vcenter", "esxi"]);
            one_of(r, "useVddkAioOptimization", &["true", "false"]);
            one_of(r, "esxiCloneMethod", &["ssh", "vib"]);
            &[
                "vddkInitImage",
                "sdkEndpoint",
                "useVddkAioOptimization",
                "vddkConfig",
                "esxiCloneMethod",
            ]
        }
        ProviderKind::Ec2 => {
            if get("target-az").is_none_or(str::is_empty) {
                r.error(
                    "spec.settings.target-az",
                    "EC2 providers need the target availability zone, e.g. us-east-1a",
                );
            }
            &["target-az", "target-region"]
        }
        ProviderKind::Hyperv => {
            if let Some(port) = get("winrmPort")
                && port.parse::<u16>().map_or(true, |p| p == 0)
            {
                r.error(
                    "spec.settings.winrmPort",
                    format!("{port:?} is not a TCP port (1-65535)"),
                );
            }
            one_of(r, "managementType", &["standalone", "cluster"]);
            &["winrmPort", "managementType"]
        }
        ProviderKind::Nutanix => {
            one_of(r, "prismType", &["central", "element"]);
            &["prismType", "clusterUuid"]
        }
        _ => &[],
    };
    if let Some(settings) = settings {
        for key in settings.keys() {
            if !known.contains(&key.as_str()) {
                r.warn(
                    format!("spec.settings.{key}"),
                    format!("setting {key:?} is not used by {kind} providers"),
                );
            }
        }
    }
}

/// The provider type of a Provider document, if known.
pub fn provider_kind(v: &Value) -> Option<ProviderKind> {
    json::str_at(v, &["spec", "type"]).and_then(ProviderKind::parse)
}

/// A `host` provider: openshift with an empty URL (the local cluster).
pub fn is_host_provider(v: &Value) -> bool {
    provider_kind(v) == Some(ProviderKind::Openshift) && json::str_at(v, &["spec", "url"]).is_none()
}

/// Check a Provider.
pub fn check_provider(v: &Value, r: &mut Report<'_>) {
    let Some(ty) = json::str_at(v, &["spec", "type"]) else {
        if json::at(v, &["spec", "type"]).is_none() {
            r.error("spec.type", "missing provider type");
        }
        return;
    };
    let Some(kind) = ProviderKind::parse(ty) else {
        let known: Vec<&str> = ProviderKind::ALL.iter().map(|k| k.as_str()).collect();
        r.error(
            "spec.type",
            format!(
                "unknown provider type {ty:?}; use one of {}",
                known.join(", ")
            ),
        );
        return;
    };
    match json::str_at(v, &["spec", "url"]) {
        Some(url) => check_url(kind, url, r),
        None if matches!(kind, ProviderKind::Openshift | ProviderKind::Ec2) => {}
        None => r.error("spec.url", format!("{kind} providers need a URL")),
    }
    check_settings(kind, v, r);
    if !is_host_provider(v) && kind != ProviderKind::Ova {
        let secret = ObjRef::read(json::at(v, &["spec", "secret"]));
        if secret.name.is_none() {
            r.error("spec.secret", format!("{kind} providers need a Secret with credentials (spec.secret.name and namespace)"));
        } else if secret.namespace.is_none() {
            r.error(
                "spec.secret.namespace",
                "the Secret reference needs a namespace",
            );
        }
    }
}

/// Check a Host.
pub fn check_host(v: &Value, idx: &Index<'_>, r: &mut Report<'_>) {
    let provider = json::require_ref(v, &["spec", "provider"], "provider", r);
    if let Some(p) = index::check_reference(idx, "Provider", &provider, "spec.provider", r)
        && provider_kind(p) != Some(ProviderKind::Vsphere)
    {
        r.error(
            "spec.provider",
            "Host objects are only for vsphere providers (TypeNotValid)",
        );
    }
    if json::str_at(v, &["spec", "id"]).is_none() && json::str_at(v, &["spec", "name"]).is_none() {
        r.error("spec", "needs id or name of the ESXi host (RefNotValid)");
    }
    match json::at(v, &["spec", "ipAddress"]).and_then(Value::as_str) {
        Some(ip) if ip.parse::<std::net::IpAddr>().is_err() => {
            r.error(
                "spec.ipAddress",
                format!("{ip:?} is not an IPv4 or IPv6 address (IpNotValid)"),
            );
        }
        Some(_) => {}
        None => {}
    }
    let secret = ObjRef::read(json::at(v, &["spec", "secret"]));
    if secret.name.is_some() && secret.namespace.is_none() {
        r.error(
            "spec.secret.namespace",
            "the Secret reference needs a namespace",
        );
    }
}

/// Decoded keys of a Secret (`data` base64-decoded, `stringData` as is).
fn secret_data(v: &Value) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    if let Some(data) = json::at(v, &["data"]).and_then(Value::as_object) {
        for (k, val) in data {
            let raw = val.as_str().unwrap_or("");
            let cleaned: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(cleaned)
                .unwrap_or_default();
            out.insert(k.clone(), bytes);
        }
    }
    if let Some(data) = json::at(v, &["stringData"]).and_then(Value::as_object) {
        for (k, val) in data {
            let s = match val {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.insert(k.clone(), s.into_bytes());
        }
    }
    out
}

/// Check the shape of a v1 Secret: `data` values are base64, keys valid.
pub fn check_secret_shape(v: &Value, r: &mut Report<'_>) {
    for field in ["data", "stringData"] {
        let Some(val) = json::at(v, &[field]) else {
            continue;
        };
        let Some(map) = val.as_object() else {
            r.error(
                field,
                format!("{field} must be a mapping of keys to values"),
            );
            continue;
        };
        for (k, item) in map {
            let path = Path::root().key(field).key(k);
            let key_ok = !k.is_empty()
                && k.len() <= 253
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !key_ok {
                r.error(
                    &path,
                    "Secret keys may only contain letters, digits, '-', '_' and '.'",
                );
            }
            match (field, item) {
                ("data", Value::String(s)) => {
                    let cleaned: String = s.chars().filter(|c| !c.is_whitespace()).collect();
                    if base64::engine::general_purpose::STANDARD
                        .decode(cleaned)
                        .is_err()
                    {
                        r.error(
                            &path,
                            "value is not valid base64; put plain text under stringData instead",
                        );
                    }
                }
                (_, Value::String(_)) => {}
                (_, other) => r.error(
                    &path,
                    format!(
                        "value must be a string, not a {} (quote it in YAML)",
                        json::type_name(other)
                    ),
                ),
            }
        }
    }
    if let Some(label) = json::str_at(v, &["metadata", "labels", "createdForProviderType"])
        && ProviderKind::parse(label).is_none()
    {
        r.warn(
            "metadata.labels.createdForProviderType",
            format!("{label:?} is not a provider type Forklift knows"),
        );
    }
}

/// A Secret's namespace and name.
type SecretKey = (String, String);
/// Provider type, who uses the Secret, and whether it is the host provider.
type SecretUser = (&'static str, String, bool);

/// Check every Secret's keys against the provider types that use it: the
/// Providers (and Hosts) in the input that reference it, or else its
/// `createdForProviderType` label.
pub fn check_secrets(docs: &[Document], idx: &Index<'_>, findings: &mut Vec<Finding>) {
    // (secret namespace, name) -> provider kinds, with who uses it.
    let mut users: BTreeMap<SecretKey, BTreeSet<SecretUser>> = BTreeMap::new();
    for p in idx.of_kind("Provider") {
        let Some(kind) = provider_kind(p) else {
            continue;
        };
        let s = ObjRef::read(json::at(p, &["spec", "secret"]));
        if let (Some(ns), Some(name)) = (s.namespace, s.name) {
            users.entry((ns, name)).or_default().insert((
                kind.as_str(),
                format!("Provider/{}", json::name_of(p)),
                is_host_provider(p),
            ));
        }
    }
    for h in idx.of_kind("Host") {
        let s = ObjRef::read(json::at(h, &["spec", "secret"]));
        if let (Some(ns), Some(name)) = (s.namespace, s.name) {
            users.entry((ns, name)).or_default().insert((
                ProviderKind::Vsphere.as_str(),
                format!("Host/{}", json::name_of(h)),
                false,
            ));
        }
    }
    for d in docs {
        let v = &d.value;
        if json::str_at(v, &["kind"]) != Some("Secret")
            || json::str_at(v, &["apiVersion"]) != Some("v1")
        {
            continue;
        }
        let key = (
            json::namespace_of(v).to_string(),
            json::name_of(v).to_string(),
        );
        let mut checks: Vec<(ProviderKind, String, bool)> = users
            .get(&key)
            .map(|set| {
                set.iter()
                    .filter_map(|(k, who, host)| {
                        ProviderKind::parse(k)
                            .map(|k| (k, format!(" (used by {who}, a {k} provider)"), *host))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if checks.is_empty()
            && let Some(kind) = json::str_at(v, &["metadata", "labels", "createdForProviderType"])
                .and_then(ProviderKind::parse)
        {
            checks.push((
                kind,
                format!(" (label createdForProviderType: {kind})"),
                false,
            ));
        }
        let data = secret_data(v);
        let mut seen = BTreeSet::new();
        for (kind, why, host) in checks {
            for f in secrets::check_secret(kind, &data, host) {
                if !seen.insert((f.key.clone(), f.message.clone())) {
                    continue;
                }
                let field =
                    if json::at(v, &["stringData"]).is_some() && json::at(v, &["data"]).is_none() {
                        "stringData"
                    } else {
                        "data"
                    };
                findings.push(Finding {
                    severity: match f.severity {
                        secrets::Severity::Error => Severity::Error,
                        secrets::Severity::Warning => Severity::Warning,
                    },
                    source: d.source.clone(),
                    doc: d.index,
                    object: index::object_label(v),
                    path: format!("{field}.{}", f.key),
                    message: format!("{}{why}", f.message),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = parse_url("https://vcenter.example.com/sdk").unwrap();
        assert_eq!((u.scheme, u.path), ("https", "/sdk"));
        let u = parse_url("https://[fd00::1]:443/sdk").unwrap();
        assert_eq!(u.path, "/sdk");
        assert!(parse_url("vcenter.example.com/sdk").is_none());
        assert!(parse_url("https:///sdk").is_none());
        assert!(parse_url("https://host:port/sdk").is_none());
    }
}
