//! Reconciler errors: what failed, on which object. `metric_label` gives a
//! bounded label for logs and metrics.

/// A reconcile failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A call to the API server failed.
    #[error("{context}")]
    Api {
        /// What was being done, naming the object.
        context: String,
        /// The cause.
        #[source]
        source: kube::Error,
    },
    /// The inventory could not answer.
    #[error("{context}")]
    Inventory {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: ferry_inventory::Error,
    },
    /// The destination failed.
    #[error("{context}")]
    Destination {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: ferry_destination::Error,
    },
    /// The object is not usable as written (a user error).
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// A short, bounded label for metrics and logs.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::Api { .. } => "api",
            Error::Inventory { .. } => "inventory",
            Error::Destination { .. } => "destination",
            Error::Invalid(_) => "invalid",
        }
    }
}

/// Result alias for reconcilers.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Wrap a kube error with context.
pub fn api(context: impl Into<String>) -> impl FnOnce(kube::Error) -> Error {
    let context = context.into();
    move |source| Error::Api { context, source }
}

/// Wrap an inventory error with context.
pub fn inventory(context: impl Into<String>) -> impl FnOnce(ferry_inventory::Error) -> Error {
    let context = context.into();
    move |source| Error::Inventory { context, source }
}

/// One error's text; API errors as the server's message with the reason and
/// code, not the debug dump of the whole Status.
fn one(err: &(dyn std::error::Error + 'static)) -> String {
    let status = match err.downcast_ref::<kube::Error>() {
        Some(kube::Error::Api(s)) => Some(s.as_ref()),
        _ => err.downcast_ref::<kube::core::Status>(),
    };
    match status {
        Some(s) => format!("{} ({}, HTTP {})", s.message, s.reason, s.code),
        None => err.to_string(),
    }
}

/// The full chain of an error as one line (`a: b: c`), for status messages.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = one(err);
    let mut next = err.source();
    while let Some(e) = next {
        let s = one(e);
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        next = e.source();
    }
    out
}
