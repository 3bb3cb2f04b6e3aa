//! Errors of the vSphere client. Each has a [`ErrorKind`] the controller
//! maps to a condition, a message in sentence case that names the method or
//! object, and (for SOAP faults) the vSphere fault type. No message ever
//! contains a password, session cookie or token.

/// What went wrong, coarse enough for the controller to pick a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The server could not be reached: refused, DNS failure, reset, timeout
    /// while connecting.
    Connect,
    /// The server's certificate is not trusted (unknown issuer, wrong name,
    /// expired, ...) and neither `insecure_skip_verify` nor a matching
    /// thumbprint allows it.
    TlsUntrusted,
    /// The server's certificate does not have the pinned SHA-1 thumbprint.
    ThumbprintMismatch,
    /// Another TLS failure (protocol, handshake).
    Tls,
    /// Wrong user name or password (`InvalidLogin`).
    InvalidLogin,
    /// The session is gone and logging in again did not help
    /// (`NotAuthenticated`), or the user lacks a privilege (`NoPermission`).
    NotAuthenticated,
    /// The managed object does not exist (any more): `ManagedObjectNotFound`,
    /// or an HTTP 404 from a datastore.
    NotFound,
    /// Any other SOAP fault; [`Error::fault`] names it.
    Fault,
    /// A task ended in error; [`Error::fault`] names the fault.
    Task,
    /// A request took longer than its timeout.
    Timeout,
    /// The server's answer is not what the vSphere API describes.
    Protocol,
    /// An HTTP status that is not success (datastore file access).
    Http,
    /// The caller's input is wrong (URL, PEM, thumbprint syntax, range).
    InvalidArgument,
    /// The operation is not supported by this server.
    Unsupported,
}

/// An error of the vSphere client.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
    fault: Option<String>,
    observed_thumbprint: Option<String>,
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
            fault: None,
            observed_thumbprint: None,
            http_status: None,
            source: None,
        }
    }

    /// Attach the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    pub(crate) fn with_fault(mut self, fault: impl Into<String>) -> Self {
        self.fault = Some(fault.into());
        self
    }

    pub(crate) fn with_http_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }

    /// The HTTP status, for errors of datastore file access.
    pub fn http_status(&self) -> Option<u16> {
        self.http_status
    }

    pub(crate) fn with_thumbprint(mut self, thumbprint: Option<String>) -> Self {
        self.observed_thumbprint = thumbprint;
        self
    }

    /// The error kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The vSphere fault type (`InvalidLogin`, `ManagedObjectNotFound`, ...)
    /// for SOAP faults and task errors.
    pub fn fault(&self) -> Option<&str> {
        self.fault.as_deref()
    }

    /// The SHA-1 thumbprint the server presented, when the error happened
    /// after the server sent its certificate (for `Provider.status.fingerprint`).
    pub fn observed_thumbprint(&self) -> Option<&str> {
        self.observed_thumbprint.as_deref()
    }

    /// The message prefixed with more context.
    pub(crate) fn context(mut self, what: impl std::fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }

    pub(crate) fn protocol(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Protocol, message)
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    /// The kind a vSphere fault type maps to.
    pub(crate) fn kind_of_fault(fault: &str) -> ErrorKind {
        match fault {
            "InvalidLogin" => ErrorKind::InvalidLogin,
            "NotAuthenticated" | "NoPermission" => ErrorKind::NotAuthenticated,
            "ManagedObjectNotFound" => ErrorKind::NotFound,
            "NotSupported" | "MethodNotFound" => ErrorKind::Unsupported,
            _ => ErrorKind::Fault,
        }
    }
}

impl From<Error> for ferry_image::Error {
    fn from(e: Error) -> Self {
        let kind = match e.kind() {
            ErrorKind::InvalidArgument => ferry_image::ErrorKind::InvalidArgument,
            ErrorKind::Unsupported => ferry_image::ErrorKind::Unsupported,
            _ => ferry_image::ErrorKind::Io,
        };
        // The message carries over; the cause chain continues below it (so
        // the source is not repeated in the text).
        let message = e.message.clone();
        match e.source {
            Some(src) => {
                ferry_image::Error::new(kind, message).with_source(crate::http::Cause(src))
            }
            None => ferry_image::Error::new(kind, message),
        }
    }
}
