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

    /// Prefix the context with where the error happened (a file name, say),
    /// unless the context already names it: one mention per object, however
    /// many layers add it.
    pub fn within(mut self, outer: impl fmt::Display) -> Self {
        let outer = outer.to_string();
        if !names(&self.context, &outer) {
            self.context = format!("{outer}: {}", self.context);
        }
        self
    }
}

/// True when `text` mentions `name` as a whole word: not as part of a longer
/// name such as `disk.vmdk` inside `disk.vmdk-flat` or `/x/disk.vmdk`.
pub fn names(text: &str, name: &str) -> bool {
    if name.is_empty() {
        return true;
    }
    let part_of_name = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | '~');
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        let after_ok = match after {
            None => true,
            // A sentence's full stop, not a longer file name.
            Some('.') => text[at + name.len() + 1..]
                .chars()
                .next()
                .is_none_or(char::is_whitespace),
            Some(c) => !part_of_name(c),
        };
        !before.is_some_and(part_of_name) && after_ok
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_names_each_object_once() {
        let e = Error::corrupt("/d/a.vmdk names \"b\", which cannot be opened")
            .within("/d/a.vmdk")
            .within("/d/a.vmdk");
        assert_eq!(
            e.to_string(),
            "/d/a.vmdk names \"b\", which cannot be opened"
        );
        let e = Error::corrupt("bad header")
            .within("/d/b.qcow2")
            .within("/d/a.qcow2");
        assert_eq!(e.to_string(), "/d/a.qcow2: /d/b.qcow2: bad header");
    }

    #[test]
    fn names_needs_the_whole_name() {
        assert!(names("cannot open /d/a.vmdk.", "/d/a.vmdk"));
        assert!(names("(/d/a.vmdk)", "/d/a.vmdk"));
        assert!(!names("/d/a.vmdk-flat is missing", "/d/a.vmdk"));
        assert!(!names("/x/d/a.vmdk is missing", "d/a.vmdk"));
        assert!(!names("/d/a.vmdk.part", "/d/a.vmdk"));
    }
}
