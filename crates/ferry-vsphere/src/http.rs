//! HTTPS transport: a small pool of HTTP/1.1 keep-alive connections over
//! tokio-rustls, at most `max_connections` at a time, shared by the SOAP
//! client and the datastore reader. Connection tasks run on the runtime of
//! the caller that opened them.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::error::{Error, ErrorKind, Result};
use crate::tls::{Observed, TlsOptions};

/// Where and how to connect.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// Host name or IP, without brackets.
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    /// Parse `https://host[:port][/path]` (or a bare host).
    pub(crate) fn parse(raw: &str) -> Result<(Endpoint, String)> {
        // Credentials in the URL are dropped, and never shown in messages.
        let redacted;
        let url = match raw.split_once("://") {
            Some((scheme, rest)) => {
                let end = rest.find('/').unwrap_or(rest.len());
                match rest[..end].rfind('@') {
                    Some(at) => {
                        redacted = format!("{scheme}://{}", &rest[at + 1..]);
                        redacted.as_str()
                    }
                    None => raw,
                }
            }
            None => raw,
        };
        let rest = if let Some(r) = url.strip_prefix("https://") {
            r
        } else if url.starts_with("http://") {
            return Err(Error::invalid(format!(
                "{url}: plain http is not supported, use https"
            )));
        } else {
            url
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].to_string()),
            None => (rest, String::new()),
        };
        let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
        let (host, port) = if let Some(h) = authority.strip_prefix('[') {
            let (h, tail) = h
                .split_once(']')
                .ok_or_else(|| Error::invalid(format!("{url}: unbalanced [ in the host")))?;
            let port = match tail.strip_prefix(':') {
                Some(p) => p.parse().ok(),
                None if tail.is_empty() => Some(443),
                None => None,
            };
            (h.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), p.parse().ok()),
                None => (authority.to_string(), Some(443)),
            }
        };
        let port = port.ok_or_else(|| Error::invalid(format!("{url}: bad port")))?;
        if host.is_empty() {
            return Err(Error::invalid(format!("{url}: no host")));
        }
        Ok((Endpoint { host, port }, path))
    }

    /// `host:port` for the Host header and messages.
    pub(crate) fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Connection limits and timeouts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_connections: usize,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

type Sender = SendRequest<Full<Bytes>>;

/// A boxed error as an error source.
#[derive(Debug)]
pub(crate) struct Cause(pub Box<dyn std::error::Error + Send + Sync>);

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

pub(crate) struct Transport {
    endpoint: Endpoint,
    server_name: ServerName<'static>,
    tls: tokio_rustls::TlsConnector,
    observed: Arc<Observed>,
    idle: Mutex<Vec<Sender>>,
    slots: Semaphore,
    limits: Limits,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// A request to send (rebuilt for a retry on a fresh connection).
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub method: http::Method,
    /// Path and query, starting with `/`.
    pub target: String,
    pub headers: Vec<(http::HeaderName, String)>,
    pub body: Bytes,
}

impl Call {
    fn build(&self, authority: &str) -> Result<Request<Full<Bytes>>> {
        let mut b = Request::builder()
            .method(self.method.clone())
            .uri(self.target.as_str())
            .header(http::header::HOST, authority);
        for (k, v) in &self.headers {
            b = b.header(k, v.as_str());
        }
        b.body(Full::new(self.body.clone())).map_err(|e| {
            Error::invalid(format!("cannot build the request for {}: {e}", self.target))
        })
    }
}

/// A response with its whole body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Transport {
    pub(crate) fn new(endpoint: Endpoint, tls: &TlsOptions, limits: Limits) -> Result<Transport> {
        let (config, observed) = crate::tls::client_config(tls)?;
        let server_name = ServerName::try_from(endpoint.host.clone())
            .map_err(|_| Error::invalid(format!("{:?} is not a valid host name", endpoint.host)))?;
        Ok(Transport {
            endpoint,
            server_name,
            tls: tokio_rustls::TlsConnector::from(config),
            observed,
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(limits.max_connections.max(1)),
            limits,
        })
    }

    pub(crate) fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    pub(crate) fn observed_thumbprint(&self) -> Option<String> {
        self.observed.thumbprint()
    }

    async fn connect(&self) -> Result<Sender> {
        let auth = self.endpoint.authority();
        let tcp = tokio::time::timeout(
            self.limits.connect_timeout,
            TcpStream::connect((self.endpoint.host.as_str(), self.endpoint.port)),
        )
        .await
        .map_err(|_| {
            Error::new(
                ErrorKind::Connect,
                format!(
                    "cannot connect to {auth}: no answer within {:?}",
                    self.limits.connect_timeout
                ),
            )
        })?
        .map_err(|e| {
            Error::new(ErrorKind::Connect, format!("cannot connect to {auth}")).with_source(e)
        })?;
        let _ = tcp.set_nodelay(true);
        let tls = tokio::time::timeout(
            self.limits.connect_timeout,
            self.tls.connect(self.server_name.clone(), tcp),
        )
        .await
        .map_err(|_| {
            Error::new(
                ErrorKind::Connect,
                format!("TLS handshake with {auth} timed out"),
            )
        })?
        .map_err(|e| crate::tls::handshake_error(&auth, e, &self.observed))?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| {
                Error::new(
                    ErrorKind::Connect,
                    format!("HTTP handshake with {auth} failed: {e}"),
                )
            })?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "vSphere connection closed");
            }
        });
        Ok(sender)
    }

    /// Send `req` and read the whole body (at most `max_body` bytes), within
    /// `timeout` (the transport's request timeout when `None`).
    pub(crate) async fn send(
        &self,
        call: &Call,
        max_body: usize,
        timeout: Option<Duration>,
    ) -> Result<Answer> {
        let timeout = timeout.unwrap_or(self.limits.request_timeout);
        let path = call.target.split('?').next().unwrap_or_default();
        let what = format!("{} {path}", call.method);
        match tokio::time::timeout(timeout, self.send_inner(call, max_body)).await {
            Ok(r) => r,
            Err(_) => Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "{what} on {} got no answer within {timeout:?}",
                    self.endpoint.authority()
                ),
            )),
        }
    }

    async fn send_inner(&self, call: &Call, max_body: usize) -> Result<Answer> {
        let authority = self.endpoint.authority();
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| Error::new(ErrorKind::Connect, "the connection pool is closed"))?;
        // A pooled connection may have been closed by the server while idle:
        // retry once on a fresh one when the request could not be sent.
        let mut fresh = false;
        loop {
            let pooled = self.take_idle();
            let mut sender = match pooled {
                Some(s) => s,
                None => {
                    fresh = true;
                    self.connect().await?
                }
            };
            if sender.ready().await.is_err() {
                if fresh {
                    return Err(Error::new(
                        ErrorKind::Connect,
                        format!("{} closed the connection", self.endpoint.authority()),
                    ));
                }
                continue;
            }
            let resp = match sender.send_request(call.build(&authority)?).await {
                Ok(r) => r,
                Err(e) if !fresh && e.is_canceled() => {
                    continue;
                }
                Err(e) => {
                    return Err(Error::new(
                        ErrorKind::Connect,
                        format!("request to {} failed", self.endpoint.authority()),
                    )
                    .with_source(e));
                }
            };
            let (parts, body) = resp.into_parts();
            let body = Limited::new(body, max_body)
                .collect()
                .await
                .map_err(|e| {
                    Error::new(
                        ErrorKind::Protocol,
                        format!(
                            "reading the answer from {} failed (limit {max_body} bytes)",
                            self.endpoint.authority()
                        ),
                    )
                    .with_source(Cause(e))
                })?
                .to_bytes();
            if !sender.is_closed() {
                self.put_idle(sender);
            }
            return Ok(Answer {
                status: parts.status,
                headers: parts.headers,
                body,
            });
        }
    }

    fn take_idle(&self) -> Option<Sender> {
        let mut idle = self.idle.lock().ok()?;
        while let Some(s) = idle.pop() {
            if !s.is_closed() {
                return Some(s);
            }
        }
        None
    }

    fn put_idle(&self, s: Sender) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < self.limits.max_connections.max(1)
        {
            idle.push(s);
        }
    }

    /// Drop idle connections (their tasks end).
    pub(crate) fn close_idle(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn endpoints_parse() {
        let (e, p) = Endpoint::parse("https://vc.example:8443/sdk").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, p.as_str()),
            ("vc.example", 8443, "/sdk")
        );
        let (e, p) = Endpoint::parse("vc.example").unwrap();
        assert_eq!((e.port, p.as_str()), (443, ""));
        let (e, _) = Endpoint::parse("https://[::1]:9/sdk").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("::1", 9));
        assert_eq!(e.authority(), "[::1]:9");
        assert!(Endpoint::parse("http://vc/sdk").is_err());
        assert!(Endpoint::parse("https://vc:x/sdk").is_err());
        assert!(Endpoint::parse("https:///sdk").is_err());
        let (e, p) = Endpoint::parse("https://u:s3cret@vc:443/sdk").unwrap();
        assert_eq!((e.host.as_str(), p.as_str()), ("vc", "/sdk"));
        let err = Endpoint::parse("https://u:s3cret@vc:x/sdk").unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
        let err = Endpoint::parse("http://u:s3cret@vc/sdk").unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }
}
