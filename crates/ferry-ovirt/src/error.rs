//! Errors of the oVirt client. Each has an [`ErrorKind`] the controller
//! maps to a condition, and a message in sentence case that names the
//! request or object. No message ever contains a password or token.

/// What went wrong, coarse enough for the controller to pick a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The engine or imageio could not be reached (refused, DNS, reset,
    /// connect timeout).
    Connect,
    /// The server's certificate is not trusted by `cacert` (or the system
    /// roots) and `insecureSkipVerify` is off.
    TlsUntrusted,
    /// Another TLS failure.
    Tls,
    /// The SSO service refused the user name or password, or the API
    /// refused the token.
    Auth,
    /// The object does not exist (any more): HTTP 404.
    NotFound,
    /// The engine refused the action in the object's current state (HTTP
    /// 409: a locked disk, a running VM).
    Conflict,
    /// Another engine fault (HTTP 4xx/5xx with a `<fault>`).
    Fault,
    /// An image transfer ended or paused instead of becoming ready, or
    /// failed while reading.
    Transfer,
    /// A request took longer than its timeout.
    Timeout,
    /// The answer is not what the oVirt API describes.
    Protocol,
    /// The caller's input is wrong (URL, PEM).
    InvalidArgument,
}

/// An error of the oVirt client.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
    http_status: Option<u16>,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            http_status: None,
            source: None,
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    pub(crate) fn protocol(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Protocol, message)
    }

    /// Attach the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    pub(crate) fn with_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The HTTP status of the answer, when there was one.
    pub fn http_status(&self) -> Option<u16> {
        self.http_status
    }

    /// This error with `context` put in front of its message.
    pub fn context(mut self, context: impl std::fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}
