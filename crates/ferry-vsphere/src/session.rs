//! The client and its session: `RetrieveServiceContent`, `Login` (cookie
//! session), keep-alive with `CurrentTime`, one re-login when a call fails
//! with `NotAuthenticated`, `Logout`.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::MoRef;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{Endpoint, Limits, Transport};
use crate::soap::{self, Body, Node};
use crate::tls::TlsOptions;

/// A password or token: never printed.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret string.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself (only to send it).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How to reach and log in to vCenter or ESXi.
#[derive(Clone)]
pub struct ClientOptions {
    /// `https://host[:port][/sdk]`; the path defaults to `/sdk`.
    pub url: String,
    /// User name (`administrator@vsphere.local`, `root`).
    pub username: String,
    /// Password.
    pub password: Secret,
    /// Certificate trust.
    pub tls: TlsOptions,
    /// TCP connect plus TLS handshake limit.
    pub connect_timeout: Duration,
    /// Limit for one SOAP call (long polls add their wait to it).
    pub request_timeout: Duration,
    /// Most simultaneous HTTPS connections of this client.
    pub max_connections: usize,
    /// Objects per `RetrievePropertiesEx` page (`maxObjects`); the rest
    /// comes with `ContinueRetrievePropertiesEx`.
    pub page_size: u32,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry user:password@ (ignored by the client): show
        // only what follows the credentials.
        let url = match self.url.split_once("://") {
            Some((scheme, rest)) => {
                let end = rest.find('/').unwrap_or(rest.len());
                match rest[..end].rfind('@') {
                    Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
                    None => self.url.clone(),
                }
            }
            None => self.url.clone(),
        };
        f.debug_struct("ClientOptions")
            .field("url", &url)
            .field("username", &self.username)
            .field("password", &self.password)
            .field("tls", &self.tls)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("max_connections", &self.max_connections)
            .field("page_size", &self.page_size)
            .finish()
    }
}

impl ClientOptions {
    /// Options with default limits (10 s connect, 5 min per call, 4
    /// connections, pages of 500 objects).
    pub fn new(url: impl Into<String>, username: impl Into<String>, password: Secret) -> Self {
        ClientOptions {
            url: url.into(),
            username: username.into(),
            password,
            tls: TlsOptions::default(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(300),
            max_connections: 4,
            page_size: 500,
        }
    }
}

/// The parts of `ServiceContent` ferry uses.
#[derive(Debug, Clone)]
pub struct ServiceContent {
    pub root_folder: MoRef,
    pub property_collector: MoRef,
    pub view_manager: Option<MoRef>,
    pub session_manager: MoRef,
    /// `about.fullName`, e.g. `VMware vCenter Server 6.5.0 build-5973321`.
    pub full_name: String,
    /// `about.apiType`: `VirtualCenter` or `HostAgent` (ESXi).
    pub api_type: String,
    /// `about.apiVersion`.
    pub api_version: String,
    /// `about.instanceUuid` (vCenter only).
    pub instance_uuid: Option<String>,
}

impl ServiceContent {
    fn from_node(n: &Node) -> Result<ServiceContent> {
        let moref = |name: &str| {
            n.child(name)
                .map(MoRef::from_node)
                .ok_or_else(|| Error::protocol(format!("ServiceContent has no {name}")))
        };
        let about = n.child("about");
        let about_text = |name: &str| {
            about
                .and_then(|a| a.text_of(name))
                .unwrap_or_default()
                .to_string()
        };
        Ok(ServiceContent {
            root_folder: moref("rootFolder")?,
            property_collector: moref("propertyCollector")?,
            view_manager: n.child("viewManager").map(MoRef::from_node),
            session_manager: moref("sessionManager")?,
            full_name: about_text("fullName"),
            api_type: about_text("apiType"),
            api_version: about_text("apiVersion"),
            instance_uuid: about
                .and_then(|a| a.text_of("instanceUuid"))
                .map(str::to_string),
        })
    }
}

pub(crate) struct Inner {
    pub transport: Arc<Transport>,
    pub path: String,
    pub username: String,
    pub password: Secret,
    pub tls: TlsOptions,
    pub cookie: Mutex<Option<String>>,
    pub content: ServiceContent,
    /// Number of successful logins.
    pub generation: AtomicU64,
    /// Serialises re-logins so concurrent calls that all find the session
    /// gone log in once.
    pub relogin: tokio::sync::Mutex<()>,
    pub page_size: u32,
}

/// A logged-in vSphere client. Cheap to clone; all clones share the
/// session and the connection pool.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", self.inner.transport.endpoint())
            .field("username", &self.inner.username)
            .finish_non_exhaustive()
    }
}

fn service_instance() -> MoRef {
    MoRef::new("ServiceInstance", "ServiceInstance")
}

impl Client {
    /// Connect, read the service content and log in.
    pub async fn connect(opts: &ClientOptions) -> Result<Client> {
        let (endpoint, path) = Endpoint::parse(&opts.url)?;
        let path = if path.is_empty() || path == "/" {
            "/sdk".to_string()
        } else {
            path
        };
        let transport = Arc::new(Transport::new(
            endpoint,
            &opts.tls,
            Limits {
                max_connections: opts.max_connections.max(1),
                connect_timeout: opts.connect_timeout,
                request_timeout: opts.request_timeout,
            },
        )?);
        let body = Body::new("RetrieveServiceContent", &service_instance());
        let (resp, _) = soap::invoke(&transport, &path, None, &body, None).await?;
        let content = resp
            .child("returnval")
            .ok_or_else(|| Error::protocol("RetrieveServiceContent: no returnval"))
            .and_then(ServiceContent::from_node)?;
        let client = Client {
            inner: Arc::new(Inner {
                transport,
                path,
                username: opts.username.clone(),
                password: opts.password.clone(),
                tls: opts.tls.clone(),
                cookie: Mutex::new(None),
                content,
                generation: AtomicU64::new(0),
                relogin: tokio::sync::Mutex::new(()),
                page_size: opts.page_size.max(1),
            }),
        };
        client.login().await?;
        Ok(client)
    }

    /// The service content read at connect time.
    pub fn service_content(&self) -> &ServiceContent {
        &self.inner.content
    }

    /// SHA-1 thumbprint (colon hex) of the server certificate seen by the
    /// last handshake (for `Provider.status.fingerprint`).
    pub fn thumbprint(&self) -> Option<String> {
        self.inner.transport.observed_thumbprint()
    }

    /// `host:port` of the server.
    pub fn authority(&self) -> String {
        self.inner.transport.endpoint().authority()
    }

    /// How many times this client logged in: 1 after [`Client::connect`],
    /// more after automatic re-logins (session-scoped objects such as
    /// property filters must then be recreated).
    pub fn session_generation(&self) -> u64 {
        self.inner.generation.load(Ordering::SeqCst)
    }

    pub(crate) fn cookie(&self) -> Option<String> {
        self.inner.cookie.lock().ok().and_then(|g| g.clone())
    }

    pub(crate) fn tls_options(&self) -> &TlsOptions {
        &self.inner.tls
    }

    /// Log in (again) and keep the session cookie.
    async fn login(&self) -> Result<()> {
        let mut body = Body::new("Login", &self.inner.content.session_manager);
        body.text("userName", &self.inner.username)
            .text("password", self.inner.password.expose());
        let (_, cookie) = soap::invoke(&self.inner.transport, &self.inner.path, None, &body, None)
            .await
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidLogin => Error::new(
                    ErrorKind::InvalidLogin,
                    format!(
                        "login to {} as {:?} was refused: wrong user name or password",
                        self.authority(),
                        self.inner.username
                    ),
                )
                .with_fault("InvalidLogin"),
                _ => e,
            })?;
        let cookie = cookie.ok_or_else(|| {
            Error::protocol("Login succeeded but the server set no session cookie")
        })?;
        if let Ok(mut g) = self.inner.cookie.lock() {
            *g = Some(cookie);
        }
        self.inner.generation.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// Call a method in the session; on `NotAuthenticated` log in again once
    /// and retry. Returns the `<MethodResponse>` element.
    pub(crate) async fn call(&self, body: &Body) -> Result<Node> {
        self.call_with_timeout(body, None).await
    }

    pub(crate) async fn call_with_timeout(
        &self,
        body: &Body,
        timeout: Option<Duration>,
    ) -> Result<Node> {
        let generation = self.session_generation();
        let first = soap::invoke(
            &self.inner.transport,
            &self.inner.path,
            self.cookie().as_deref(),
            body,
            timeout,
        )
        .await;
        match first {
            Err(e)
                if e.kind() == ErrorKind::NotAuthenticated
                    && e.fault() == Some("NotAuthenticated") =>
            {
                let guard = self.inner.relogin.lock().await;
                // Another call may have logged in meanwhile.
                if self.session_generation() == generation {
                    tracing::info!(
                        method = body.method(),
                        "vSphere session expired, logging in again"
                    );
                    self.login().await?;
                }
                drop(guard);
                let (resp, _) = soap::invoke(
                    &self.inner.transport,
                    &self.inner.path,
                    self.cookie().as_deref(),
                    body,
                    timeout,
                )
                .await?;
                Ok(resp)
            }
            other => other.map(|(resp, _)| resp),
        }
    }

    /// The server clock (`CurrentTime`), as the ISO 8601 text it sent. Used
    /// as the session keep-alive.
    pub async fn current_time(&self) -> Result<String> {
        let body = Body::new("CurrentTime", &service_instance());
        let resp = self.call(&body).await?;
        Ok(resp.text_of("returnval").unwrap_or_default().to_string())
    }

    /// Keep the session alive (and log in again if it expired).
    pub async fn keep_alive(&self) -> Result<()> {
        self.current_time().await.map(|_| ())
    }

    /// Spawn a task that calls [`Client::keep_alive`] every `every` until the
    /// returned handle is aborted or dropped with the runtime.
    pub fn spawn_keep_alive(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let client = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = client.keep_alive().await {
                    tracing::warn!(error = %e, "vSphere keep-alive failed");
                }
            }
        })
    }

    /// End the session and close idle connections.
    pub async fn logout(&self) -> Result<()> {
        let body = Body::new("Logout", &self.inner.content.session_manager);
        let r = soap::invoke(
            &self.inner.transport,
            &self.inner.path,
            self.cookie().as_deref(),
            &body,
            None,
        )
        .await;
        if let Ok(mut g) = self.inner.cookie.lock() {
            *g = None;
        }
        self.inner.transport.close_idle();
        r.map(|_| ())
    }
}
