//! The keys a Provider's Secret must and may hold, per provider type, and a
//! check of a Secret's keys against them. Values are read only where a rule
//! depends on them (`authType`, `insecureSkipVerify`) and are never put in a
//! finding.
use std::collections::BTreeMap;
use std::fmt;

/// Provider types as `spec.type` spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// `vsphere`.
    Vsphere,
    /// `ovirt`.
    Ovirt,
    /// `openstack`.
    Openstack,
    /// `openshift`.
    Openshift,
    /// `ova`.
    Ova,
    /// `ec2`.
    Ec2,
    /// `hyperv`.
    Hyperv,
    /// `nutanix`.
    Nutanix,
}

impl ProviderKind {
    /// Every kind, in `spec.type` enum order.
    pub const ALL: [Self; 8] = [
        Self::Openshift,
        Self::Vsphere,
        Self::Ovirt,
        Self::Openstack,
        Self::Ova,
        Self::Ec2,
        Self::Hyperv,
        Self::Nutanix,
    ];

    /// Parse `spec.type` (or a `createdForProviderType` label).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The `spec.type` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vsphere => "vsphere",
            Self::Ovirt => "ovirt",
            Self::Openstack => "openstack",
            Self::Openshift => "openshift",
            Self::Ova => "ova",
            Self::Ec2 => "ec2",
            Self::Hyperv => "hyperv",
            Self::Nutanix => "nutanix",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Keys every provider type accepts: TLS settings and the `url` the console
/// stores next to the credentials.
pub const COMMON_KEYS: &[&str] = &["insecureSkipVerify", "ca.crt", "cacert", "url"];

const OPENSTACK_KEYS: &[&str] = &[
    "authType",
    "username",
    "userID",
    "password",
    "token",
    "applicationCredentialID",
    "applicationCredentialName",
    "applicationCredentialSecret",
    "projectName",
    "projectID",
    "userDomainName",
    "userDomainID",
    "projectDomainName",
    "projectDomainID",
    "domainName",
    "domainID",
    "defaultDomain",
    "systemScope",
    "regionName",
    "availability",
];

/// Keys beyond [`COMMON_KEYS`] that a provider type understands.
pub fn known_keys(kind: ProviderKind) -> &'static [&'static str] {
    match kind {
        ProviderKind::Vsphere => &["user", "password", "thumbprint"],
        ProviderKind::Ovirt => &["user", "password"],
        ProviderKind::Openstack => OPENSTACK_KEYS,
        ProviderKind::Openshift => &["token"],
        ProviderKind::Ova => &[],
        ProviderKind::Ec2 => &[
            "region",
            "accessKeyId",
            "secretAccessKey",
            "targetAccessKeyId",
            "targetSecretAccessKey",
        ],
        ProviderKind::Hyperv => &["username", "password"],
        ProviderKind::Nutanix => &["username", "password", "user"],
    }
}

/// The OpenStack authentication variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenstackAuth {
    /// `authType: password` (the default).
    Password,
    /// `authType: token` with `userID`.
    TokenWithUserId,
    /// `authType: token` with `username`.
    TokenWithUsername,
    /// `authType: applicationcredential` with `applicationCredentialID`.
    ApplicationCredentialId,
    /// `authType: applicationcredential` with `applicationCredentialName`.
    ApplicationCredentialName,
}

impl OpenstackAuth {
    /// A short description for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::TokenWithUserId => "token with userID",
            Self::TokenWithUsername => "token with username",
            Self::ApplicationCredentialId => "application credential ID",
            Self::ApplicationCredentialName => "application credential name",
        }
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Forklift works but the user probably made a mistake.
    Warning,
    /// Forklift cannot use the Secret.
    Error,
}

/// One problem with a Secret. `key` is the key concerned (never a value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretFinding {
    /// Error or warning.
    pub severity: Severity,
    /// The key concerned; for "one of" rules, the alternatives joined by `|`.
    pub key: String,
    /// A sentence-case message that says what to do.
    pub message: String,
}

struct Checker<'a> {
    data: &'a BTreeMap<String, Vec<u8>>,
    findings: Vec<SecretFinding>,
    context: String,
}

impl Checker<'_> {
    fn has(&self, key: &str) -> bool {
        self.data.get(key).is_some_and(|v| !v.is_empty())
    }

    fn value(&self, key: &str) -> Option<&str> {
        self.data
            .get(key)
            .and_then(|v| std::str::from_utf8(v).ok())
            .map(str::trim)
    }

    fn push(&mut self, severity: Severity, key: &str, message: String) {
        self.findings.push(SecretFinding {
            severity,
            key: key.to_string(),
            message,
        });
    }

    fn require(&mut self, key: &str) {
        if !self.has(key) {
            let message = format!("missing key {key:?}, required for {}", self.context);
            self.push(Severity::Error, key, message);
        }
    }

    fn require_one_of(&mut self, keys: &[&str]) {
        if !keys.iter().any(|k| self.has(k)) {
            let message = format!(
                "needs one of the keys {}, required for {}",
                quoted(keys),
                self.context
            );
            self.push(Severity::Error, &keys.join("|"), message);
        }
    }

    fn recommend(&mut self, key: &str, why: &str) {
        if !self.has(key) {
            let message = format!("key {key:?} is not set; {why}");
            self.push(Severity::Warning, key, message);
        }
    }
}

fn quoted(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("{k:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which OpenStack variant a Secret uses, or an error message when
/// `authType` holds an unknown value.
pub fn openstack_auth(data: &BTreeMap<String, Vec<u8>>) -> Result<OpenstackAuth, String> {
    let has = |k: &str| data.get(k).is_some_and(|v| !v.is_empty());
    let auth_type = data
        .get("authType")
        .and_then(|v| std::str::from_utf8(v).ok())
        .map(str::trim)
        .unwrap_or("");
    match auth_type {
        "" | "password" => Ok(OpenstackAuth::Password),
        "token" if has("userID") && !has("username") => Ok(OpenstackAuth::TokenWithUserId),
        "token" => Ok(OpenstackAuth::TokenWithUsername),
        "applicationcredential" if has("applicationCredentialID") => {
            Ok(OpenstackAuth::ApplicationCredentialId)
        }
        "applicationcredential" => Ok(OpenstackAuth::ApplicationCredentialName),
        _ => Err(
            "key \"authType\" must be \"password\", \"token\" or \"applicationcredential\""
                .to_string(),
        ),
    }
}

fn check_openstack(c: &mut Checker<'_>) {
    let auth = match openstack_auth(c.data) {
        Ok(a) => a,
        Err(message) => {
            c.push(Severity::Error, "authType", message);
            return;
        }
    };
    c.context = format!("OpenStack {} authentication", auth.describe());
    const DOMAIN: &[&str] = &["domainName", "domainID", "userDomainName", "userDomainID"];
    const PROJECT: &[&str] = &["projectName", "projectID"];
    match auth {
        OpenstackAuth::Password => {
            c.require("username");
            c.require("password");
            c.require_one_of(PROJECT);
            c.require_one_of(DOMAIN);
        }
        OpenstackAuth::TokenWithUserId => {
            c.require("token");
            c.require("userID");
            c.require("projectID");
        }
        OpenstackAuth::TokenWithUsername => {
            c.require("token");
            c.require("username");
            c.require_one_of(PROJECT);
            c.require_one_of(DOMAIN);
        }
        OpenstackAuth::ApplicationCredentialId => {
            c.require("applicationCredentialSecret");
        }
        OpenstackAuth::ApplicationCredentialName => {
            c.require("applicationCredentialName");
            c.require("applicationCredentialSecret");
            c.require_one_of(&["username", "userID"]);
            if c.has("username") && !c.has("userID") {
                c.require_one_of(DOMAIN);
            }
        }
    }
    c.recommend(
        "regionName",
        "ferry and Forklift then use the first region the catalog lists",
    );
    if let Some(v) = c.value("availability")
        && !["public", "internal", "admin"].contains(&v)
    {
        c.push(
            Severity::Error,
            "availability",
            "key \"availability\" must be \"public\", \"internal\" or \"admin\"".to_string(),
        );
    }
}

/// Check a Secret's keys (from `data`, base64-decoded, and `stringData`,
/// merged) for a Provider of `kind`. `is_host` marks the local `openshift`
/// provider with an empty URL, which needs no credentials.
pub fn check_secret(
    kind: ProviderKind,
    data: &BTreeMap<String, Vec<u8>>,
    is_host: bool,
) -> Vec<SecretFinding> {
    let mut c = Checker {
        data,
        findings: Vec::new(),
        context: format!("{kind} providers"),
    };
    match kind {
        ProviderKind::Vsphere => {
            c.require("user");
            c.require("password");
        }
        ProviderKind::Ovirt => {
            c.require("user");
            c.require("password");
            if c.value("insecureSkipVerify") != Some("true") && !c.has("cacert") {
                c.recommend(
                    "cacert",
                    "the oVirt engine CA is fetched by the webhook; set it (or insecureSkipVerify) to pin it",
                );
            }
        }
        ProviderKind::Openstack => check_openstack(&mut c),
        ProviderKind::Openshift if !is_host => c.require("token"),
        ProviderKind::Openshift | ProviderKind::Ova | ProviderKind::Nutanix => {}
        ProviderKind::Ec2 => {
            c.require("region");
            c.require("accessKeyId");
            c.require("secretAccessKey");
            if c.has("targetAccessKeyId") != c.has("targetSecretAccessKey") {
                c.push(
                    Severity::Error,
                    "targetAccessKeyId|targetSecretAccessKey",
                    "keys \"targetAccessKeyId\" and \"targetSecretAccessKey\" must be set together (cross-account migration)"
                        .to_string(),
                );
            }
        }
        ProviderKind::Hyperv => {
            c.require("username");
            c.require("password");
        }
    }
    if let Some(v) = c.value("insecureSkipVerify")
        && v != "true"
        && v != "false"
    {
        c.push(
            Severity::Error,
            "insecureSkipVerify",
            "key \"insecureSkipVerify\" must be \"true\" or \"false\"".to_string(),
        );
    }
    let known = known_keys(kind);
    let unknown: Vec<String> = data
        .keys()
        .filter(|k| !COMMON_KEYS.contains(&k.as_str()) && !known.contains(&k.as_str()))
        .cloned()
        .collect();
    for key in unknown {
        let message = format!("key {key:?} is not used by {kind} providers and is ignored");
        c.push(Severity::Warning, &key, message);
    }
    c.findings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    fn errors(f: &[SecretFinding]) -> Vec<&str> {
        f.iter()
            .filter(|x| x.severity == Severity::Error)
            .map(|x| x.key.as_str())
            .collect()
    }

    fn warnings(f: &[SecretFinding]) -> Vec<&str> {
        f.iter()
            .filter(|x| x.severity == Severity::Warning)
            .map(|x| x.key.as_str())
            .collect()
    }

    #[test]
    fn vsphere() {
        let ok = secret(&[
            ("user", "administrator@vsphere.local"),
            ("password", "s3cret"),
            ("thumbprint", "01:23"),
            ("insecureSkipVerify", "false"),
            ("url", "https://vcenter.example.com/sdk"),
        ]);
        assert!(check_secret(ProviderKind::Vsphere, &ok, false).is_empty());
        let bad = secret(&[("user", "u"), ("token", "t"), ("insecureSkipVerify", "yes")]);
        let f = check_secret(ProviderKind::Vsphere, &bad, false);
        assert_eq!(errors(&f), ["password", "insecureSkipVerify"]);
        assert_eq!(warnings(&f), ["token"]);
    }

    #[test]
    fn messages_never_contain_values() {
        let s = secret(&[
            ("user", "u"),
            ("password", "hunter2"),
            ("insecureSkipVerify", "hunter2"),
        ]);
        for f in check_secret(ProviderKind::Vsphere, &s, false) {
            assert!(!f.message.contains("hunter2"), "{}", f.message);
        }
    }

    #[test]
    fn ovirt_wants_cacert_unless_insecure() {
        let s = secret(&[("user", "admin@internal"), ("password", "p")]);
        assert_eq!(
            warnings(&check_secret(ProviderKind::Ovirt, &s, false)),
            ["cacert"]
        );
        let s = secret(&[
            ("user", "admin@internal"),
            ("password", "p"),
            ("insecureSkipVerify", "true"),
        ]);
        assert!(check_secret(ProviderKind::Ovirt, &s, false).is_empty());
    }

    #[test]
    fn openstack_four_variants_from_the_guide() {
        let token_id = secret(&[
            ("authType", "token"),
            ("token", "gAAAA"),
            ("projectID", "p1"),
            ("userID", "u1"),
            ("url", "https://keystone.example.com:5000/v3"),
            ("regionName", "RegionOne"),
        ]);
        assert_eq!(
            openstack_auth(&token_id),
            Ok(OpenstackAuth::TokenWithUserId)
        );
        assert!(check_secret(ProviderKind::Openstack, &token_id, false).is_empty());

        let token_name = secret(&[
            ("authType", "token"),
            ("token", "gAAAA"),
            ("domainName", "Default"),
            ("projectName", "migration"),
            ("username", "mtv"),
            ("regionName", "RegionOne"),
        ]);
        assert_eq!(
            openstack_auth(&token_name),
            Ok(OpenstackAuth::TokenWithUsername)
        );
        assert!(check_secret(ProviderKind::Openstack, &token_name, false).is_empty());

        let app_id = secret(&[
            ("authType", "applicationcredential"),
            ("applicationCredentialID", "a1"),
            ("applicationCredentialSecret", "s"),
        ]);
        assert_eq!(
            openstack_auth(&app_id),
            Ok(OpenstackAuth::ApplicationCredentialId)
        );
        let f = check_secret(ProviderKind::Openstack, &app_id, false);
        assert!(errors(&f).is_empty());
        assert_eq!(warnings(&f), ["regionName"]);

        let app_name = secret(&[
            ("authType", "applicationcredential"),
            ("applicationCredentialName", "forklift"),
            ("applicationCredentialSecret", "s"),
            ("domainName", "Default"),
            ("username", "mtv"),
            ("regionName", "RegionOne"),
        ]);
        assert_eq!(
            openstack_auth(&app_name),
            Ok(OpenstackAuth::ApplicationCredentialName)
        );
        assert!(check_secret(ProviderKind::Openstack, &app_name, false).is_empty());
    }

    #[test]
    fn openstack_missing_keys() {
        let s = secret(&[
            ("authType", "password"),
            ("username", "u"),
            ("regionName", "r"),
        ]);
        let f = check_secret(ProviderKind::Openstack, &s, false);
        assert_eq!(
            errors(&f),
            [
                "password",
                "projectName|projectID",
                "domainName|domainID|userDomainName|userDomainID"
            ]
        );
        assert!(f[0].message.contains("OpenStack password authentication"));

        let s = secret(&[
            ("authType", "applicationcredential"),
            ("applicationCredentialName", "n"),
        ]);
        let f = check_secret(ProviderKind::Openstack, &s, false);
        assert_eq!(
            errors(&f),
            ["applicationCredentialSecret", "username|userID"]
        );

        let s = secret(&[("authType", "kerberos")]);
        assert_eq!(
            errors(&check_secret(ProviderKind::Openstack, &s, false)),
            ["authType"]
        );

        let s = secret(&[
            ("username", "u"),
            ("password", "p"),
            ("projectID", "x"),
            ("userDomainID", "d"),
            ("regionName", "r"),
            ("availability", "private"),
        ]);
        assert_eq!(
            errors(&check_secret(ProviderKind::Openstack, &s, false)),
            ["availability"]
        );
    }

    #[test]
    fn openshift_host_needs_nothing() {
        let empty = BTreeMap::new();
        assert!(check_secret(ProviderKind::Openshift, &empty, true).is_empty());
        assert_eq!(
            errors(&check_secret(ProviderKind::Openshift, &empty, false)),
            ["token"]
        );
    }

    #[test]
    fn ec2_and_hyperv_and_ova() {
        let s = secret(&[
            ("region", "us-east-1"),
            ("accessKeyId", "A"),
            ("secretAccessKey", "S"),
            ("targetAccessKeyId", "T"),
        ]);
        assert_eq!(
            errors(&check_secret(ProviderKind::Ec2, &s, false)),
            ["targetAccessKeyId|targetSecretAccessKey"]
        );
        let s = secret(&[("username", "Administrator")]);
        assert_eq!(
            errors(&check_secret(ProviderKind::Hyperv, &s, false)),
            ["password"]
        );
        let s = secret(&[("url", "nfs://nfs.example.com/ova")]);
        assert!(check_secret(ProviderKind::Ova, &s, false).is_empty());
    }

    #[test]
    fn provider_kind_round_trip() {
        for k in ProviderKind::ALL {
            assert_eq!(ProviderKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(ProviderKind::parse("VSphere"), None);
    }
}
