//! The crate's one public error: a kind, a context and an optional source.
//! `Display` prints the context only; walk `source()` for the cause.
use std::fmt;

/// What went wrong, in terms a caller can act on.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Reading the source image failed.
    Read,
    /// Writing, zeroing or flushing the target failed.
    Write,
    /// The resume journal could not be read or written.
    Journal,
    /// The resume journal belongs to another source or target.
    JournalMismatch,
    /// The source extents are inconsistent (a format bug or a corrupt image).
    Corrupt,
    /// A caller-supplied option is invalid.
    InvalidArgument,
    /// The copy was stopped on purpose (the test hook in `CopyOptions`).
    Interrupted,
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
    /// A new error of `kind` with a sentence-case `context`.
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

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message without the source.
    pub fn context(&self) -> &str {
        &self.context
    }

    pub(crate) fn read(context: impl Into<String>, source: ferry_image::Error) -> Self {
        Self::new(ErrorKind::Read, context).with_source(source)
    }

    pub(crate) fn write(context: impl Into<String>, source: ferry_image::Error) -> Self {
        Self::new(ErrorKind::Write, context).with_source(source)
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
