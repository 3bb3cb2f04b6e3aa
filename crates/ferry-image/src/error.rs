//! The crate's one public error: a kind, a context (what was being done to
//! which object) and an optional boxed source. `Display` never repeats the
//! source; walk `source()` for the cause.
use std::fmt;

/// What went wrong, in terms a caller can act on.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// An I/O call on the underlying storage failed.
    Io,
    /// The image is malformed: a header, table or marker is invalid.
    Corrupt,
    /// The image uses a feature ferry does not implement.
    Unsupported,
    /// Opening a file named inside an image was refused by the gate.
    Refused,
    /// A limit (size, depth, allocation, decompression ratio) was exceeded.
    Limit,
    /// A read or write went past the end of the storage or image.
    OutOfBounds,
    /// The storage or image is read-only.
    ReadOnly,
    /// A caller-supplied argument is invalid.
    InvalidArgument,
}

/// An error with its context. See the module docs.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    context: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind`; `context` is a sentence-case message that names
    /// the file, field or offset concerned.
    pub fn new(kind: ErrorKind, context: impl Into<String>) -> Self {
        Self {
            kind,
            context: context.into(),
            source: None,
        }
    }

    /// Attach the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Shorthand for an I/O failure while doing `context`.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::new(ErrorKind::Io, context).with_source(source)
    }

    /// Shorthand for a malformed image.
    pub fn corrupt(context: impl Into<String>) -> Self {
        Self::new(ErrorKind::Corrupt, context)
    }

    /// Shorthand for an unimplemented feature.
    pub fn unsupported(context: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, context)
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message without the source.
    pub fn context(&self) -> &str {
        &self.context
    }

    /// Prefix the context with where the error happened (a file name, say).
    pub fn within(mut self, outer: impl fmt::Display) -> Self {
        self.context = format!("{outer}: {}", self.context);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.context)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
