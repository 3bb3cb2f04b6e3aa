//! The engine REST API v4 client: SSO login (`/ovirt-engine/sso/oauth/token`,
//! grant type `password`), XML reads of the objects ferry uses, VM power,
//! snapshots and image transfers. One [`Client`] is one SSO token; its
//! connections run on the runtime of the task that uses it.
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, StatusCode};

use crate::error::{Error, ErrorKind, Result};
use crate::http::{Answer, Http, HttpOptions};
use crate::tls::TlsOptions;
use crate::types::*;
use crate::xml::{Node, escape};

/// A password that is never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn new(s: impl Into<String>) -> Self {
        Password(s.into())
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// How to reach and log in to an engine.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// `https://engine.example.com/ovirt-engine/api` (Forklift's Provider
    /// URL) or just `https://engine.example.com`.
    pub url: String,
    /// `admin@internal`-style user name.
    pub username: String,
    pub password: Password,
    pub tls: TlsOptions,
    pub http: HttpOptions,
}

/// A logged-in engine API client.
#[derive(Debug, Clone)]
pub struct Client {
    http: Arc<Http>,
    /// `https://host:port`.
    base: String,
    token: Arc<String>,
    tls: TlsOptions,
}

/// Split a Provider URL into its `https://host[:port]` base.
pub fn engine_base(url: &str) -> Result<String> {
    // A URL with credentials in it is not shown.
    let shown = if url.contains('@') {
        "spec.url".to_owned()
    } else {
        format!("{url:?}")
    };
    let bad = |why: &str| {
        Error::invalid(format!(
            "{shown} is not an oVirt engine API URL ({why}): use https://<engine>/ovirt-engine/api"
        ))
    };
    let uri: http::Uri = url.trim().parse().map_err(|_| bad("not a URL"))?;
    if uri.scheme_str() != Some("https") {
        return Err(bad("the scheme must be https"));
    }
    let auth = uri.authority().ok_or_else(|| bad("no host"))?;
    if auth.as_str().contains('@') {
        return Err(bad("credentials belong in the Secret, not in the URL"));
    }
    let path = uri.path().trim_end_matches('/');
    if !(path.is_empty() || path == "/ovirt-engine/api" || path == "/ovirt-engine") {
        return Err(bad("unexpected path"));
    }
    Ok(format!("https://{auth}"))
}

/// `application/x-www-form-urlencoded` value encoding.
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The engine's `<fault>` (reason and detail), or the body's start.
fn fault_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if let Ok(n) = Node::parse(&text, "fault") {
        let reason = n.text_at(&["reason"]).unwrap_or_default();
        let detail = n
            .text_at(&["detail"])
            .unwrap_or_default()
            .trim_matches(['[', ']']);
        match (reason.is_empty(), detail.is_empty()) {
            (false, false) => return format!("{reason}: {detail}"),
            (false, true) => return reason.to_owned(),
            (true, false) => return detail.to_owned(),
            _ => {}
        }
    }
    text.chars().take(200).collect()
}

impl Client {
    /// Log in with SSO and check the token against the API root.
    pub async fn connect(opts: &ClientOptions) -> Result<Client> {
        let base = engine_base(&opts.url)?;
        let http = Arc::new(Http::new(&opts.tls, opts.http)?);
        let form = format!(
            "grant_type=password&scope=ovirt-app-api&username={}&password={}",
            form_encode(&opts.username),
            form_encode(&opts.password.0)
        );
        let url = format!("{base}/ovirt-engine/sso/oauth/token");
        let ans = http
            .send(
                Method::POST,
                &url,
                &[
                    ("Accept", "application/json"),
                    ("Content-Type", "application/x-www-form-urlencoded"),
                ],
                Bytes::from(form),
            )
            .await?;
        let json: serde_json::Value = serde_json::from_slice(&ans.body).map_err(|_| {
            Error::protocol(format!(
                "POST {url}: HTTP {} and not the SSO service's JSON: is this an oVirt engine?",
                ans.status.as_u16()
            ))
            .with_status(ans.status.as_u16())
        })?;
        let token = json
            .get("access_token")
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty());
        let Some(token) = token else {
            let why = ["error_description", "error"]
                .iter()
                .find_map(|k| json.get(*k).and_then(|v| v.as_str()))
                .unwrap_or("no access token in the answer");
            return Err(Error::new(
                ErrorKind::Auth,
                format!(
                    "the engine's SSO service refused user {:?}: {why} (check the Secret's user and password)",
                    opts.username
                ),
            )
            .with_status(ans.status.as_u16()));
        };
        let client = Client {
            http,
            base,
            token: Arc::new(token.to_owned()),
            tls: opts.tls.clone(),
        };
        client.get("").await?;
        Ok(client)
    }

    /// `https://host:port` of the engine.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The TLS trust the engine was reached with (imageio uses the same).
    pub fn tls(&self) -> &TlsOptions {
        &self.tls
    }

    fn url(&self, path: &str) -> String {
        if path.is_empty() {
            format!("{}/ovirt-engine/api", self.base)
        } else {
            format!("{}/ovirt-engine/api/{path}", self.base)
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<String>) -> Result<Answer> {
        let url = self.url(path);
        let auth = format!("Bearer {}", self.token);
        let mut headers = vec![
            ("Accept", "application/xml"),
            ("Version", "4"),
            ("Authorization", auth.as_str()),
        ];
        if body.is_some() {
            headers.push(("Content-Type", "application/xml"));
        }
        let what = format!("{method} {url}");
        let ans = self
            .http
            .send(
                method,
                &url,
                &headers,
                Bytes::from(body.unwrap_or_default()),
            )
            .await?;
        let status = ans.status;
        if status.is_success() {
            return Ok(ans);
        }
        let kind = match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ErrorKind::Auth,
            StatusCode::NOT_FOUND => ErrorKind::NotFound,
            StatusCode::CONFLICT => ErrorKind::Conflict,
            _ => ErrorKind::Fault,
        };
        let msg = match kind {
            ErrorKind::Auth => {
                "the engine refused the SSO token (HTTP 401): check the user's permissions"
                    .to_owned()
            }
            ErrorKind::NotFound => "not found (HTTP 404)".to_owned(),
            _ => format!("HTTP {}: {}", status.as_u16(), fault_text(&ans.body)),
        };
        Err(Error::new(kind, format!("{what}: {msg}")).with_status(status.as_u16()))
    }

    /// GET an API path (`vms/ID`) as XML.
    pub async fn get(&self, path: &str) -> Result<Node> {
        let ans = self.call(Method::GET, path, None).await?;
        let what = format!("GET {}", self.url(path));
        Node::parse(&String::from_utf8_lossy(&ans.body), &what)
    }

    async fn post(&self, path: &str, xml: String) -> Result<Node> {
        let ans = self.call(Method::POST, path, Some(xml)).await?;
        if ans.body.is_empty() {
            return Ok(Node::default());
        }
        let what = format!("POST {}", self.url(path));
        Node::parse(&String::from_utf8_lossy(&ans.body), &what)
    }

    async fn list<T>(&self, path: &str, tag: &str, f: fn(&Node) -> Result<T>) -> Result<Vec<T>> {
        let n = self.get(path).await?;
        n.all(tag)
            .map(f)
            .collect::<Result<Vec<T>>>()
            .map_err(|e| e.context(format!("GET {}", self.url(path))))
    }

    pub async fn vms(&self) -> Result<Vec<Vm>> {
        self.list("vms", "vm", Vm::from_node).await
    }

    pub async fn vm(&self, id: &str) -> Result<Vm> {
        Vm::from_node(&self.get(&format!("vms/{id}")).await?)
    }

    pub async fn disk_attachments(&self, vm: &str) -> Result<Vec<DiskAttachment>> {
        self.list(
            &format!("vms/{vm}/diskattachments"),
            "disk_attachment",
            DiskAttachment::from_node,
        )
        .await
    }

    pub async fn nics(&self, vm: &str) -> Result<Vec<Nic>> {
        self.list(&format!("vms/{vm}/nics"), "nic", Nic::from_node)
            .await
    }

    pub async fn snapshots(&self, vm: &str) -> Result<Vec<Snapshot>> {
        self.list(
            &format!("vms/{vm}/snapshots"),
            "snapshot",
            Snapshot::from_node,
        )
        .await
    }

    pub async fn disks(&self) -> Result<Vec<Disk>> {
        self.list("disks", "disk", Disk::from_node).await
    }

    pub async fn disk(&self, id: &str) -> Result<Disk> {
        Disk::from_node(&self.get(&format!("disks/{id}")).await?)
    }

    pub async fn storage_domains(&self) -> Result<Vec<StorageDomain>> {
        self.list("storagedomains", "storage_domain", StorageDomain::from_node)
            .await
    }

    pub async fn disk_profiles(&self) -> Result<Vec<DiskProfile>> {
        self.list("diskprofiles", "disk_profile", DiskProfile::from_node)
            .await
    }

    pub async fn networks(&self) -> Result<Vec<Network>> {
        self.list("networks", "network", Network::from_node).await
    }

    pub async fn vnic_profiles(&self) -> Result<Vec<VnicProfile>> {
        self.list("vnicprofiles", "vnic_profile", VnicProfile::from_node)
            .await
    }

    pub async fn clusters(&self) -> Result<Vec<Cluster>> {
        self.list("clusters", "cluster", Cluster::from_node).await
    }

    pub async fn hosts(&self) -> Result<Vec<Host>> {
        self.list("hosts", "host", Host::from_node).await
    }

    pub async fn data_centers(&self) -> Result<Vec<DataCenter>> {
        self.list("datacenters", "data_center", DataCenter::from_node)
            .await
    }

    /// `shutdown` (guest), `stop` (power off) or `start` a VM.
    pub async fn vm_action(&self, vm: &str, action: &str) -> Result<()> {
        self.post(&format!("vms/{vm}/{action}"), "<action/>".to_owned())
            .await
            .map(|_| ())
    }

    /// Take a disk-only snapshot.
    pub async fn create_snapshot(&self, vm: &str, description: &str) -> Result<Snapshot> {
        let body = format!(
            "<snapshot><description>{}</description><persist_memorystate>false</persist_memorystate></snapshot>",
            escape(description)
        );
        Snapshot::from_node(&self.post(&format!("vms/{vm}/snapshots"), body).await?)
    }

    pub async fn remove_snapshot(&self, vm: &str, snapshot: &str) -> Result<()> {
        self.call(
            Method::DELETE,
            &format!("vms/{vm}/snapshots/{snapshot}"),
            None,
        )
        .await
        .map(|_| ())
    }

    /// Start a download image transfer of `disk` in `format` (`raw`: guest
    /// data, read through the host's NBD export).
    pub async fn create_download(
        &self,
        disk: &str,
        format: &str,
        inactivity_timeout: Duration,
    ) -> Result<ImageTransfer> {
        let body = format!(
            "<image_transfer><disk id=\"{}\"/><direction>download</direction><format>{}</format><inactivity_timeout>{}</inactivity_timeout></image_transfer>",
            escape(disk),
            escape(format),
            inactivity_timeout.as_secs()
        );
        ImageTransfer::from_node(&self.post("imagetransfers", body).await?)
    }

    pub async fn transfer(&self, id: &str) -> Result<ImageTransfer> {
        ImageTransfer::from_node(&self.get(&format!("imagetransfers/{id}")).await?)
    }

    /// Wait until a transfer is `transferring`; any other settled phase
    /// (paused, cancelled, finished) is a [`ErrorKind::Transfer`] error.
    pub async fn wait_transfer_ready(&self, id: &str, timeout: Duration) -> Result<ImageTransfer> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let t = self.transfer(id).await?;
            match t.phase.as_str() {
                "transferring" if !t.transfer_url.is_empty() || !t.proxy_url.is_empty() => {
                    return Ok(t);
                }
                "initializing" | "resuming" | "transferring" | "" => {}
                other => {
                    return Err(Error::new(
                        ErrorKind::Transfer,
                        format!(
                            "image transfer {id} of disk {} is {other} instead of transferring: the engine {}",
                            t.disk,
                            if other.starts_with("paused") {
                                "paused it (see the engine's events for why)"
                            } else {
                                "ended it"
                            }
                        ),
                    ));
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "image transfer {id} is still {} after {} s",
                        t.phase,
                        timeout.as_secs()
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Finalize (`ok`) or cancel a transfer, then wait until the engine
    /// says it finished (or forgot it). Returns the last phase seen.
    pub async fn end_transfer(&self, id: &str, ok: bool, timeout: Duration) -> Result<String> {
        let action = if ok { "finalize" } else { "cancel" };
        match self
            .post(
                &format!("imagetransfers/{id}/{action}"),
                "<action/>".to_owned(),
            )
            .await
        {
            Ok(_) => {}
            // Already ended (cancelled by the engine, VM deleted): fine
            // for a cancel, an error for a finalize.
            Err(e) if !ok && matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Conflict) => {}
            Err(e) => return Err(e),
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let phase = match self.transfer(id).await {
                Ok(t) => t.phase,
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok("removed".into()),
                Err(e) => return Err(e),
            };
            if phase.starts_with("finished") || phase.starts_with("cancelled") {
                if ok && phase != "finished_success" {
                    return Err(Error::new(
                        ErrorKind::Transfer,
                        format!("image transfer {id} ended {phase} instead of finished_success"),
                    ));
                }
                return Ok(phase);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "image transfer {id} is still {phase} {} s after {action}",
                        timeout.as_secs()
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Revoke the SSO token.
    pub async fn logout(&self) -> Result<()> {
        let url = format!("{}/ovirt-engine/services/sso-logout", self.base);
        let body = format!("scope=&token={}", form_encode(&self.token));
        self.http
            .send(
                Method::POST,
                &url,
                &[
                    ("Accept", "application/json"),
                    ("Content-Type", "application/x-www-form-urlencoded"),
                ],
                Bytes::from(body),
            )
            .await
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn provider_urls() {
        for ok in [
            "https://engine.example.com/ovirt-engine/api",
            "https://engine.example.com/ovirt-engine/api/",
            "https://engine.example.com",
        ] {
            assert_eq!(engine_base(ok).unwrap(), "https://engine.example.com");
        }
        assert_eq!(
            engine_base("https://10.0.0.1:8443/ovirt-engine/api").unwrap(),
            "https://10.0.0.1:8443"
        );
        for bad in [
            "http://engine/ovirt-engine/api",
            "engine",
            "https://u:p@engine/ovirt-engine/api",
            "https://engine/api/v4",
        ] {
            let e = engine_base(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{bad}");
            assert!(e.to_string().contains("/ovirt-engine/api"), "{e}");
            assert!(!e.to_string().contains("u:p"), "{e}");
        }
    }

    #[test]
    fn faults_read_reason_and_detail() {
        let xml =
            b"<fault><reason>Operation Failed</reason><detail>[Disk is locked]</detail></fault>";
        assert_eq!(fault_text(xml), "Operation Failed: Disk is locked");
        assert_eq!(fault_text(b"plain"), "plain");
        assert_eq!(form_encode("a b&c=d@e"), "a%20b%26c%3Dd%40e");
    }

    #[test]
    fn passwords_are_not_printed() {
        assert_eq!(format!("{:?}", Password::new("s3cret")), "Password(***)");
    }
}
