//! Starting and stopping the server: data dir, store, TLS listener,
//! kubeconfig, built-in definitions.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use base64::Engine as _;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::error::Error;
use crate::fsutil;
use crate::state::State;
use crate::store::{Store, StoreOptions};

/// How to run the server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Data directory: database, certificates, token, kubeconfig (0700).
    pub data_dir: PathBuf,
    /// Listen address (port 0 = pick a free one).
    pub listen: SocketAddr,
    /// CustomResourceDefinitions (JSON objects) installed or updated at start.
    pub definitions: Vec<Value>,
    /// Store tuning.
    pub store: StoreOptions,
}

impl Config {
    /// Loopback on port 6443 in `data_dir`, no extra definitions.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 6443)),
            definitions: Vec::new(),
            store: StoreOptions::default(),
        }
    }
}

/// The embedded API server.
#[derive(Debug)]
pub struct Server;

/// A running server.
pub struct Handle {
    addr: SocketAddr,
    url: String,
    kubeconfig: PathBuf,
    ca_pem: String,
    token: String,
    state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("addr", &self.addr)
            .field("kubeconfig", &self.kubeconfig)
            .finish_non_exhaustive()
    }
}

fn load_or_make_token(path: &Path) -> Result<String, Error> {
    if let Some(t) = fsutil::read_private(path)? {
        let t = t.trim().to_string();
        if t.len() >= 32 {
            return Ok(t);
        }
    }
    let token: String = crate::meta::random_bytes::<32>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    fsutil::write_private(path, token.as_bytes())?;
    Ok(token)
}

fn kubeconfig_text(url: &str, ca_pem: &str, token: &str) -> String {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: ferry\n  cluster:\n    server: {url}\n    certificate-authority-data: {ca}\nusers:\n- name: ferry\n  user:\n    token: {token}\ncontexts:\n- name: ferry\n  context:\n    cluster: ferry\n    user: ferry\n    namespace: default\ncurrent-context: ferry\n"
    )
}

impl Server {
    /// Open the data dir, install the definitions, and start serving.
    pub async fn start(config: Config) -> Result<Handle, Error> {
        let dir = &config.data_dir;
        fsutil::private_dir(dir)?;
        let db_path = dir.join("api.sqlite");
        let store = Arc::new(Store::open(&db_path, config.store)?);
        for f in [
            db_path.clone(),
            dir.join("api.sqlite-wal"),
            dir.join("api.sqlite-shm"),
        ] {
            fsutil::restrict(&f)?;
        }
        let token = load_or_make_token(&dir.join("token"))?;
        let state = Arc::new(State::new(store, token.clone()));
        bootstrap(&state, &config.definitions)?;

        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| Error::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: config.listen,
            source,
        })?;
        let tls = crate::tls::setup(dir, addr)?;
        let host = if addr.ip().is_unspecified() || addr.ip().is_loopback() {
            format!("127.0.0.1:{}", addr.port())
        } else {
            addr.to_string()
        };
        let url = format!("https://{host}");
        let kubeconfig = dir.join("kubeconfig");
        fsutil::write_private(
            &kubeconfig,
            kubeconfig_text(&url, &tls.ca_pem, &token).as_bytes(),
        )?;

        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        let router = {
            let st = state.clone();
            axum::Router::new().fallback(move |req: http::Request<Body>| {
                let st = st.clone();
                async move { crate::http::handle(st, req).await }
            })
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.config.clone());
        let task = tokio::spawn(accept_loop(listener, acceptor, router, stop_rx));
        tracing::info!(%url, "embedded API server listening");
        Ok(Handle {
            addr,
            url,
            kubeconfig,
            ca_pem: tls.ca_pem,
            token,
            state,
            stop: Some(stop_tx),
            task: Some(task),
        })
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    router: axum::Router,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let (tcp, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                let acceptor = acceptor.clone();
                let svc = TowerToHyperService::new(router.clone());
                conns.spawn(async move {
                    let tls = match acceptor.accept(tcp).await {
                        Ok(t) => t,
                        Err(e) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                    };
                    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    if let Err(e) = builder.serve_connection_with_upgrades(TokioIo::new(tls), svc).await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                });
            }
        }
        while conns.try_join_next().is_some() {}
    }
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}

/// Default namespaces and the configured definitions.
fn bootstrap(state: &Arc<State>, definitions: &[Value]) -> Result<(), Error> {
    for ns in ["default", "kube-system", "kube-public"] {
        if state.store.get("/namespaces", "", ns).is_none() {
            let obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
            crate::http::write::apply_internal(state, &obj, "ferry-serve").map_err(|e| {
                Error::Definition {
                    name: ns.to_string(),
                    message: e.message,
                }
            })?;
        }
    }
    for crd in definitions {
        let name = crate::meta::meta_str(crd, "name")
            .unwrap_or("<unnamed>")
            .to_string();
        let mut obj = crd.clone();
        if let Some(m) = obj.as_object_mut() {
            m.remove("status");
        }
        if let Some(md) = crate::meta::metadata_mut(&mut obj) {
            md.retain(|k, _| matches!(k.as_str(), "name" | "labels" | "annotations"));
        }
        let unchanged = state
            .store
            .get(crate::state::CRD_KEY, "", &name)
            .is_some_and(|cur| cur.get("spec") == obj.get("spec"));
        if !unchanged {
            crate::http::write::apply_internal(state, &obj, "ferry-serve").map_err(|e| {
                Error::Definition {
                    name: name.clone(),
                    message: e.message,
                }
            })?;
        }
    }
    Ok(())
}

impl Handle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }
    /// Path of the kubeconfig written into the data dir.
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }
    /// The CA certificate (PEM) clients must trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }
    /// The bearer token.
    pub fn token(&self) -> &str {
        &self.token
    }
    /// Current resourceVersion of the store (for diagnostics and tests).
    pub fn resource_version(&self) -> u64 {
        self.state.store.current_rv()
    }

    /// A kube client talking to this server over its TLS listener.
    #[cfg(feature = "client")]
    pub async fn client(&self) -> Result<kube::Client, Error> {
        let kc =
            kube::config::Kubeconfig::read_from(&self.kubeconfig).map_err(|e| Error::Client {
                message: e.to_string(),
            })?;
        let cfg =
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .map_err(|e| Error::Client {
                    message: e.to_string(),
                })?;
        kube::Client::try_from(cfg).map_err(|e| Error::Client {
            message: e.to_string(),
        })
    }

    /// Stop accepting, close every connection (watches end), and wait.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }

    /// Wait until the server stops (it runs until [`Handle::shutdown`] or the runtime ends).
    pub async fn wait(mut self) {
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}
