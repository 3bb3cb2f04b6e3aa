//! A small client of the inventory REST API, for the CLI
//! (`ferry inventory vms --provider NAME`).
//!
//! `https://` with the CA that signed the server's certificate (ferry
//! serve's: `DATA/api/ca.crt`), or plain `http://` for a listener without
//! TLS.
use std::collections::BTreeMap;

use axum::http::{Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::model::{Concern, VMS};
use crate::store::Store;

/// Largest response body accepted.
const MAX_BODY: usize = 64 << 20;

/// A connection target and credentials.
#[derive(Clone)]
pub struct Client {
    authority: String,
    prefix: String,
    token: Option<String>,
    /// TLS to the server, `None` for plain http.
    tls: Option<Tls>,
}

#[derive(Clone)]
struct Tls {
    connector: tokio_rustls::TlsConnector,
    server_name: rustls::pki_types::ServerName<'static>,
}

/// A TLS client that trusts only the CA certificates in `ca_pem`.
fn tls_config(ca_pem: &str) -> Result<rustls::ClientConfig> {
    let bad = |why: String| Error::new(ErrorKind::Http, why);
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut ca_pem.as_bytes()) {
        let cert = cert.map_err(|e| bad(format!("the CA certificate is not valid PEM: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| bad(format!("the CA certificate is not usable: {e}")))?;
    }
    if roots.is_empty() {
        return Err(bad("the CA file holds no certificate".to_owned()));
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(format!("cannot set up TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("authority", &self.authority)
            .field("prefix", &self.prefix)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

/// A VM row of `ferry inventory vms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VmSummary {
    /// Inventory id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Collected revision.
    #[serde(default)]
    pub revision: i64,
    /// Revision the concerns belong to.
    #[serde(default)]
    pub revision_validated: i64,
    /// Validation findings.
    #[serde(default)]
    pub concerns: Vec<Concern>,
}

/// A provider found by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRef {
    /// `spec.type`.
    pub provider_type: String,
    /// Kubernetes UID.
    pub uid: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl Client {
    /// A client of the inventory at `base_url` (`https://127.0.0.1:8443`,
    /// optionally with a path prefix), sending `token` as a bearer token and
    /// trusting the CA certificates in `ca_pem` for an https URL.
    pub fn new(base_url: &str, token: Option<String>, ca_pem: Option<&str>) -> Result<Self> {
        let bad = |why: &str| {
            Error::new(
                ErrorKind::Http,
                format!("inventory URL '{base_url}' is not usable: {why}"),
            )
        };
        let uri: Uri = base_url
            .parse()
            .map_err(|_| bad("it is not a URL like https://127.0.0.1:8443"))?;
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(bad("it must start with https:// (or http://)")),
        };
        let authority = uri
            .authority()
            .ok_or_else(|| bad("it has no host"))?
            .as_str()
            .to_owned();
        if authority.contains('@') {
            return Err(bad(
                "credentials in the URL are not supported; pass a token",
            ));
        }
        let tls = if https {
            let ca = ca_pem.ok_or_else(|| {
                bad("an https URL needs the CA certificate of the server (ferry serve's is DATA/api/ca.crt)")
            })?;
            let host = uri.host().unwrap_or_default().trim_matches(['[', ']']);
            let server_name = rustls::pki_types::ServerName::try_from(host.to_owned())
                .map_err(|_| bad("its host is not a valid TLS server name"))?;
            Some(Tls {
                connector: tokio_rustls::TlsConnector::from(std::sync::Arc::new(tls_config(ca)?)),
                server_name,
            })
        } else {
            None
        };
        let authority = match (uri.port().is_some(), https) {
            (true, _) => authority,
            (false, true) => format!("{authority}:443"),
            (false, false) => format!("{authority}:80"),
        };
        Ok(Self {
            authority,
            prefix: uri.path().trim_end_matches('/').to_owned(),
            token: token.filter(|t| !t.is_empty()),
            tls,
        })
    }

    /// GET `path` (with query) and decode the JSON answer.
    pub async fn get_json(&self, path: &str) -> Result<Value> {
        let target = format!("{}{path}", self.prefix);
        let ctx = || format!("GET {target} from {}", self.authority);
        let stream = tokio::net::TcpStream::connect(&self.authority)
            .await
            .map_err(|e| {
                Error::new(
                    ErrorKind::Connection,
                    format!("{}: is the inventory (ferry serve) running?", ctx()),
                )
                .with_source(e)
            })?;
        match &self.tls {
            None => self.exchange(stream, &target).await,
            Some(tls) => {
                let stream = tls
                    .connector
                    .connect(tls.server_name.clone(), stream)
                    .await
                    .map_err(|e| {
                        Error::new(
                            ErrorKind::Connection,
                            format!("{}: TLS handshake failed (is the CA the server's?)", ctx()),
                        )
                        .with_source(e)
                    })?;
                self.exchange(stream, &target).await
            }
        }
    }

    /// Send GET `target` over `stream` and decode the JSON answer.
    async fn exchange<S>(&self, stream: S, target: &str) -> Result<Value>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let ctx = || format!("GET {target} from {}", self.authority);
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| Error::new(ErrorKind::Http, ctx()).with_source(e))?;
        let driver = tokio::spawn(conn);
        let mut req = Request::get(target)
            .header(header::HOST, self.authority.as_str())
            .header(header::ACCEPT, "application/json");
        if let Some(t) = &self.token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = req
            .body(Empty::<Bytes>::new())
            .map_err(|e| Error::new(ErrorKind::Http, ctx()).with_source(e))?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| Error::new(ErrorKind::Http, ctx()).with_source(e))?;
        let status = resp.status();
        let reason = resp
            .headers()
            .get(crate::web::REASON_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = Limited::new(resp.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| {
                Error::new(ErrorKind::Http, format!("{}: reading the answer", ctx())).with_source(e)
            })?
            .to_bytes();
        driver.abort();
        if status != StatusCode::OK {
            let why = reason.unwrap_or_else(|| status.canonical_reason().unwrap_or("").to_owned());
            let hint = if status == StatusCode::UNAUTHORIZED {
                "; pass the inventory token (--token or FERRY_INVENTORY_TOKEN)"
            } else {
                ""
            };
            return Err(Error::new(
                ErrorKind::Http,
                format!("{}: {} {why}{hint}", ctx(), status.as_u16()),
            ));
        }
        serde_json::from_slice(&body)
            .map_err(|e| Error::json(format!("{}: decoding the answer", ctx()), e))
    }

    /// Every provider, grouped by type.
    pub async fn providers(&self) -> Result<BTreeMap<String, Vec<Value>>> {
        let v = self.get_json("/providers").await?;
        serde_json::from_value(v).map_err(|e| Error::json("decoding GET /providers", e))
    }

    /// Find a provider by `name` or `namespace/name`.
    pub async fn find_provider(&self, name: &str) -> Result<ProviderRef> {
        let mut all = Vec::new();
        for (ptype, list) in self.providers().await? {
            for p in list {
                let field = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                all.push(ProviderRef {
                    provider_type: ptype.clone(),
                    uid: field("uid"),
                    namespace: field("namespace"),
                    name: field("name"),
                });
            }
        }
        find_provider_in(all, name)
    }

    /// The VMs of a provider with their concerns (detail 1).
    pub async fn vms(&self, provider: &ProviderRef) -> Result<Vec<VmSummary>> {
        let path = format!(
            "/providers/{}/{}/vms?detail=1",
            provider.provider_type, provider.uid
        );
        let v = self.get_json(&path).await?;
        serde_json::from_value(v).map_err(|e| Error::json(format!("decoding GET {path}"), e))
    }
}

/// Pick the provider named `name` (or `namespace/name`) out of `all`.
pub fn find_provider_in(all: Vec<ProviderRef>, name: &str) -> Result<ProviderRef> {
    let (namespace, name) = match name.split_once('/') {
        Some((ns, n)) => (Some(ns), n),
        None => (None, name),
    };
    let mut found: Vec<ProviderRef> = all
        .into_iter()
        .filter(|p| p.name == name && namespace.is_none_or(|ns| p.namespace == ns))
        .collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Error::new(
            ErrorKind::ProviderNotFound,
            format!(
                "the inventory has no provider named '{name}'; list them with kubectl get providers -A"
            ),
        )),
        _ => {
            let all: Vec<String> = found
                .iter()
                .map(|p| format!("{}/{}", p.namespace, p.name))
                .collect();
            Err(Error::new(
                ErrorKind::ProviderNotFound,
                format!(
                    "provider name '{name}' is ambiguous ({}); write it as NAMESPACE/NAME",
                    all.join(", ")
                ),
            ))
        }
    }
}

/// The VMs of the provider named `provider`, read straight from an
/// inventory database (no server needed; SQLite WAL allows a reader next
/// to a running ferry).
pub fn list_vms_in_store(store: &Store, provider: &str) -> Result<Vec<VmSummary>> {
    let all = store
        .providers()?
        .into_iter()
        .map(|p| ProviderRef {
            provider_type: p.info.provider_type,
            uid: p.info.uid,
            namespace: p.info.namespace,
            name: p.info.name,
        })
        .collect();
    let p = find_provider_in(all, provider)?;
    Ok(store
        .list(&p.uid, VMS, &Default::default())?
        .into_iter()
        .map(|r| VmSummary {
            id: r.resource.id,
            name: r.resource.name,
            revision: r.revision,
            revision_validated: r.revision_validated,
            concerns: r.concerns,
        })
        .collect())
}

/// [`list_vms`] on a private single-thread runtime, for synchronous callers.
pub fn list_vms_blocking(
    base_url: &str,
    token: Option<&str>,
    ca_pem: Option<&str>,
    provider: &str,
) -> Result<Vec<VmSummary>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            Error::new(
                ErrorKind::Task,
                "starting a runtime for the inventory client",
            )
            .with_source(e)
        })?;
    rt.block_on(list_vms(base_url, token, ca_pem, provider))
}

/// The VMs of the provider named `provider` (`name` or `namespace/name`).
pub async fn list_vms(
    base_url: &str,
    token: Option<&str>,
    ca_pem: Option<&str>,
    provider: &str,
) -> Result<Vec<VmSummary>> {
    let client = Client::new(base_url, token.map(str::to_owned), ca_pem)?;
    let p = client.find_provider(provider).await?;
    client.vms(&p).await
}

/// A text table of VMs: name, id, then one concern per line (`Critical` first).
pub fn vms_table(vms: &[VmSummary]) -> String {
    let name_w = vms.iter().map(|v| v.name.len()).max().unwrap_or(0).max(4);
    let id_w = vms.iter().map(|v| v.id.len()).max().unwrap_or(0).max(2);
    let mut out = format!("{:name_w$}  {:id_w$}  CONCERNS\n", "NAME", "ID");
    for vm in vms {
        let mut concerns: Vec<&Concern> = vm.concerns.iter().collect();
        concerns.sort_by_key(|c| match c.category.as_str() {
            "Critical" => 0,
            "Warning" => 1,
            "Information" => 2,
            _ => 3,
        });
        let pending = vm.revision_validated != vm.revision;
        let first = match (concerns.first(), pending) {
            (_, true) => "(validation pending)".to_owned(),
            (None, false) => "none".to_owned(),
            (Some(c), false) => format!("{}: {}", c.category, c.label),
        };
        out.push_str(&format!("{:name_w$}  {:id_w$}  {first}\n", vm.name, vm.id));
        if !pending {
            for c in concerns.iter().skip(1) {
                out.push_str(&format!(
                    "{:name_w$}  {:id_w$}  {}: {}\n",
                    "", "", c.category, c.label
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::model::{ProviderInfo, Resource, Snapshot};
    use crate::store::Store;
    use crate::web::{ApiState, Auth, StaticToken, router};

    fn provider(uid: &str, ns: &str, name: &str) -> ProviderInfo {
        ProviderInfo {
            uid: uid.into(),
            namespace: ns.into(),
            name: name.into(),
            provider_type: "ova".into(),
            url: "/srv".into(),
            resource_version: "1".into(),
            object: Value::Null,
        }
    }

    async fn serve() -> (String, String) {
        let store = Store::open_in_memory().unwrap();
        store.upsert_provider(&provider("u1", "a", "ova")).unwrap();
        store.upsert_provider(&provider("u2", "b", "ova")).unwrap();
        store
            .upsert_provider(&provider("u3", "b", "other"))
            .unwrap();
        let mut s = Snapshot::new();
        s.push("vms", Resource::new("v1", "web", "VM", json!({})));
        s.push("vms", Resource::new("v2", "db", "VM", json!({})));
        store.apply_snapshot("u2", &s).unwrap();
        let concerns = [
            Concern {
                id: "w".into(),
                category: "Warning".into(),
                label: "Invalid VM Name".into(),
                assessment: String::new(),
            },
            Concern {
                id: "c".into(),
                category: "Critical".into(),
                label: "Disk has an invalid capacity".into(),
                assessment: String::new(),
            },
        ];
        store
            .set_validation("u2", "vms", "v1", 1, 5, &concerns)
            .unwrap();
        let app = router(ApiState {
            store: Arc::new(store),
            auth: Auth::Bearer(Arc::new(StaticToken::new("tok"))),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (ca, config) = test_tls();
        tokio::spawn(crate::web::serve_tls(listener, config, app));
        (format!("https://{addr}"), ca)
    }

    /// A CA (PEM) and a server configuration with a certificate it signed
    /// for 127.0.0.1.
    fn test_tls() -> (String, Arc<rustls::ServerConfig>) {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone(), ca_cert.der().clone()], key)
        .unwrap();
        (ca_cert.pem(), Arc::new(config))
    }

    #[tokio::test]
    async fn list_vms_finds_the_provider_by_name_and_prints_concerns() {
        let (url, ca) = serve().await;
        let ca = Some(ca.as_str());
        let vms = list_vms(&url, Some("tok"), ca, "b/ova").await.unwrap();
        let names: Vec<_> = vms.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["db", "web"]);
        assert_eq!(vms[1].concerns.len(), 2);
        let table = vms_table(&vms);
        let lines: Vec<_> = table.lines().collect();
        assert_eq!(lines.len(), 4, "{table}");
        assert!(lines[0].starts_with("NAME"));
        assert!(
            lines[1].contains("db") && lines[1].contains("(validation pending)"),
            "{table}"
        );
        assert!(
            lines[2].contains("web") && lines[2].contains("Critical: Disk has an invalid capacity"),
            "{table}"
        );
        assert!(
            lines[3]
                .trim_start()
                .starts_with("Warning: Invalid VM Name"),
            "{table}"
        );

        let vms = list_vms(&url, Some("tok"), ca, "other").await.unwrap();
        assert!(vms.is_empty());
    }

    #[tokio::test]
    async fn errors_name_the_problem() {
        let (url, ca_pem) = serve().await;
        let ca = Some(ca_pem.as_str());
        let err = list_vms(&url, Some("tok"), ca, "ova").await.unwrap_err();
        assert!(
            err.to_string().contains("ambiguous (a/ova, b/ova)"),
            "{err}"
        );
        let err = list_vms(&url, Some("tok"), ca, "nope").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ProviderNotFound);
        let err = list_vms(&url, None, ca, "b/ova").await.unwrap_err();
        assert!(err.to_string().contains("401"), "{err}");
        assert!(err.to_string().contains("FERRY_INVENTORY_TOKEN"), "{err}");
        let client = Client::new(&url, Some("tok".into()), ca).unwrap();
        let err = client.get_json("/providers/ova/u9/vms").await.unwrap_err();
        assert!(
            err.to_string()
                .contains("404 no ova provider with uid 'u9'"),
            "{err}"
        );

        // Another CA, no CA, plain http: refused.
        let (other_pem, _) = test_tls();
        let err = list_vms(&url, Some("tok"), Some(&other_pem), "b/ova")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("TLS handshake failed"), "{err}");
        let err = Client::new(&url, None, None).unwrap_err();
        assert!(err.to_string().contains("CA certificate"), "{err}");
        let plain = url.replacen("https://", "http://", 1);
        assert!(list_vms(&plain, Some("tok"), None, "b/ova").await.is_err());
        assert!(Client::new("ftp://x", None, None).is_err());
        assert!(Client::new("http://user:pw@host:1", None, None).is_err());
        // Nothing listens on port 1 of loopback.
        let err = list_vms("http://127.0.0.1:1", None, None, "x")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Connection);
    }

    #[test]
    fn store_reader_matches_the_api_and_refuses_missing_databases() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inventory.db");
        let err = Store::open_existing(&path).unwrap_err();
        assert!(err.to_string().contains("no inventory database"), "{err}");
        assert!(!path.exists(), "a reader must not create the database");
        {
            let store = Store::open(&path).unwrap();
            store.upsert_provider(&provider("u2", "b", "ova")).unwrap();
            let mut s = Snapshot::new();
            s.push("vms", Resource::new("v1", "web", "VM", json!({})));
            store.apply_snapshot("u2", &s).unwrap();
            let c = Concern {
                id: "c".into(),
                category: "Critical".into(),
                label: "Bad".into(),
                assessment: String::new(),
            };
            store.set_validation("u2", "vms", "v1", 1, 5, &[c]).unwrap();
        }
        let store = Store::open_existing(&path).unwrap();
        let vms = list_vms_in_store(&store, "ova").unwrap();
        assert_eq!(vms.len(), 1);
        assert_eq!(vms[0].concerns[0].label, "Bad");
        assert_eq!(vms[0].revision_validated, 1);
        assert!(list_vms_in_store(&store, "a/ova").is_err());
    }

    #[test]
    fn blocking_client_works_without_a_caller_runtime() {
        let err = list_vms_blocking("http://127.0.0.1:1", None, None, "x").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Connection);
    }

    #[test]
    fn debug_hides_the_token() {
        let c = Client::new("http://127.0.0.1:9", Some("hunter2".into()), None).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(c.authority, "127.0.0.1:9");
        let c = Client::new("http://localhost/inv/", None, None).unwrap();
        assert_eq!(
            (c.authority.as_str(), c.prefix.as_str()),
            ("localhost:80", "/inv")
        );
    }
}
