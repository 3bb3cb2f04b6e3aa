//! The crate's one public error: a kind, a context naming the object, and an
//! optional source.
use std::fmt;

/// What went wrong, for callers that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The SQLite store failed (open, schema, query, write).
    Store,
    /// A stored or collected JSON document could not be (de)serialised.
    Json,
    /// The provider is not registered with the inventory.
    ProviderNotFound,
    /// A collected snapshot is malformed (duplicate id, empty id, ...).
    InvalidSnapshot,
    /// The collector could not reach the source.
    Connection,
    /// The collector reached the source but could not build the inventory.
    Collect,
    /// The validation engine failed.
    Validation,
    /// A background task died.
    Task,
    /// An HTTP request to an inventory service failed.
    Http,
    /// Something ferry does not implement (yet); the message says what.
    Unsupported,
}

impl ErrorKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Store => "inventory store error",
            Self::Json => "inventory JSON error",
            Self::ProviderNotFound => "provider not found",
            Self::InvalidSnapshot => "invalid inventory snapshot",
            Self::Connection => "connection to the source failed",
            Self::Collect => "inventory collection failed",
            Self::Validation => "validation failed",
            Self::Task => "inventory task failed",
            Self::Http => "inventory request failed",
            Self::Unsupported => "unsupported",
        }
    }
}

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Error of every fallible operation of this crate.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    context: String,
    source: Option<Source>,
}

impl Error {
    /// An error of `kind` with a sentence-case context naming the object.
    pub fn new(kind: ErrorKind, context: impl Into<String>) -> Self {
        Self {
            kind,
            context: context.into(),
            source: None,
        }
    }

    /// Attach the underlying error.
    pub fn with_source(mut self, source: impl Into<Source>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The context message (without the kind or source).
    pub fn context(&self) -> &str {
        &self.context
    }

    pub(crate) fn store(context: impl Into<String>, source: rusqlite::Error) -> Self {
        Self::new(ErrorKind::Store, context).with_source(source)
    }

    pub(crate) fn json(context: impl Into<String>, source: serde_json::Error) -> Self {
        Self::new(ErrorKind::Json, context).with_source(source)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.context.is_empty() {
            f.write_str(self.kind.as_str())
        } else {
            write!(f, "{}: {}", self.kind.as_str(), self.context)
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_kind_and_context_but_not_source() {
        let err = Error::new(ErrorKind::Store, "opening /tmp/x.db")
            .with_source(std::io::Error::other("disk on fire"));
        let text = err.to_string();
        assert_eq!(text, "inventory store error: opening /tmp/x.db");
        assert!(!text.contains("disk on fire"));
        assert!(std::error::Error::source(&err).is_some());
    }
}
