//! The crate's one public error: a kind, a context naming the policy file,
//! provider or VM, and an optional boxed source (the Rego engine's message,
//! which carries the file, line and column). `Display` never repeats the source.
use std::fmt;

/// What went wrong.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Reading a policy file or folder failed.
    Io,
    /// A policy does not parse or compile.
    Policy,
    /// Evaluating the policies failed for one input.
    Evaluation,
    /// The `validate` document does not have the expected shape.
    Output,
    /// No policies are loaded for the provider type.
    Unsupported,
    /// A size or count limit was exceeded.
    Limit,
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
    pub fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        self.source = Some(source.into());
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

    /// The message and every source joined with `: ` (for status conditions and logs).
    pub fn full_message(&self) -> String {
        let mut msg = self.context.clone();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            source = s.source();
        }
        msg
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

/// The Rego engine's errors are `anyhow` errors; keep their text (with file
/// and line) as a plain source.
pub(crate) fn engine_error(e: impl fmt::Display) -> Box<dyn std::error::Error + Send + Sync> {
    format!("{e:#}").into()
}
