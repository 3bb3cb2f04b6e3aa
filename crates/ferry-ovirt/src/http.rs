//! HTTPS for the engine and imageio: a pooled HTTP/1.1 keep-alive client
//! (hyper-util's) over rustls, with connect and request timeouts and
//! connection failures classified for the controller.
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::error::{Error, ErrorKind, Result};
use crate::tls::{TlsOptions, client_config};

/// Timeouts and pool size.
#[derive(Debug, Clone, Copy)]
pub struct HttpOptions {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Idle connections kept per host.
    pub max_idle: usize,
    /// Largest answer body accepted, in bytes.
    pub max_body: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(120),
            max_idle: 8,
            max_body: 64 << 20,
        }
    }
}

/// An answer with its whole body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
}

pub(crate) struct Http {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    opts: HttpOptions,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http").field("opts", &self.opts).finish()
    }
}

impl Http {
    pub(crate) fn new(tls: &TlsOptions, opts: HttpOptions) -> Result<Http> {
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_connect_timeout(Some(opts.connect_timeout));
        tcp.set_nodelay(true);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(client_config(tls)?)
            .https_only()
            .enable_http1()
            .wrap_connector(tcp);
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(opts.max_idle)
            .build(https);
        Ok(Http { client, opts })
    }

    /// Send one request and read the whole answer. `what` names the
    /// request in messages (`GET https://engine/ovirt-engine/api/vms`).
    pub(crate) async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<Answer> {
        let what = format!("{method} {url}");
        let mut b = Request::builder().method(method).uri(url);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b
            .body(Full::new(body))
            .map_err(|e| Error::invalid(format!("cannot build {what}: {e}")))?;
        let fut = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| classify(&what, e))?;
            let (parts, body) = resp.into_parts();
            let body = Limited::new(body, self.opts.max_body)
                .collect()
                .await
                .map_err(|e| {
                    Error::new(
                        ErrorKind::Protocol,
                        format!("{what}: reading the answer failed: {e}"),
                    )
                })?
                .to_bytes();
            Ok(Answer {
                status: parts.status,
                body,
            })
        };
        tokio::time::timeout(self.opts.request_timeout, fut)
            .await
            .map_err(|_| {
                Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "{what}: no answer within {} s",
                        self.opts.request_timeout.as_secs()
                    ),
                )
            })?
    }
}

/// A failed request as an [`Error`]: untrusted certificates and refused
/// connections get their own kinds and advice.
fn classify(what: &str, err: hyper_util::client::legacy::Error) -> Error {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = cur {
        if let Some(t) = e.downcast_ref::<rustls::Error>() {
            return match t {
                rustls::Error::InvalidCertificate(c) => Error::new(
                    ErrorKind::TlsUntrusted,
                    format!(
                        "{what}: the server's certificate is not trusted ({c:?}): put the engine's CA certificate in the Secret's cacert, or set insecureSkipVerify to \"true\""
                    ),
                ),
                other => Error::new(
                    ErrorKind::Tls,
                    format!("{what}: TLS handshake failed: {other}"),
                ),
            };
        }
        // An io::Error's source() skips the error it wraps: step into it.
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::TimedOut
                    | std::io::ErrorKind::HostUnreachable
                    | std::io::ErrorKind::NetworkUnreachable
            ) {
                return Error::new(
                    ErrorKind::Connect,
                    format!(
                        "{what}: cannot connect ({io}): check the URL and that the server is reachable from ferry"
                    ),
                );
            }
            cur = match io.get_ref() {
                Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
                None => None,
            };
            continue;
        }
        cur = e.source();
    }
    let kind = if err.is_connect() {
        ErrorKind::Connect
    } else {
        ErrorKind::Protocol
    };
    Error::new(kind, format!("{what}: request failed")).with_source(err)
}
