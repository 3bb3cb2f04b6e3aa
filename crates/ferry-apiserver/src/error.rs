//! Errors: [`ApiError`] is a Kubernetes `Status` answered to a client;
//! [`Error`] is what starting the server can fail with.

use serde_json::{Value, json};

/// A request failure, rendered as a `meta.k8s.io/v1` `Status` object.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status code (also `Status.code`).
    pub code: u16,
    /// `Status.reason` (`NotFound`, `Conflict`, `Invalid`, ...).
    pub reason: &'static str,
    /// Human-readable message.
    pub message: String,
    /// `Status.details`, when the error concerns one object.
    pub details: Option<Value>,
}

/// One `Status.details.causes[]` entry: which field is wrong and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    /// `FieldValueInvalid`, `FieldValueRequired`, `FieldValueNotSupported`, ...
    pub reason: &'static str,
    /// Field path such as `spec.vms[0].id`.
    pub field: String,
    /// What is wrong, without the field path.
    pub message: String,
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    /// 400: the request itself is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 401: no or a wrong bearer token.
    pub fn unauthorized() -> Self {
        Self::new(
            401,
            "Unauthorized",
            "Unauthorized: a valid bearer token is required (see the kubeconfig `ferry serve` wrote)",
        )
    }

    /// 404 for an object of `resource` (plural, with group: `plans.forklift.konveyor.io`).
    pub fn not_found(group: &str, resource: &str, name: &str) -> Self {
        let qualified = qualified(resource, group);
        Self {
            details: Some(json!({"name": name, "group": group, "kind": resource})),
            ..Self::new(404, "NotFound", format!("{qualified} \"{name}\" not found"))
        }
    }

    /// 404 for a path that names no resource.
    pub fn no_route(path: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("the server could not find the requested resource ({path})"),
        )
    }

    /// 405 for a verb the resource does not support.
    pub fn method_not_allowed(verb: &str, resource: &str) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            format!("{verb} is not supported on resources of kind {resource}"),
        )
    }

    /// 406: nothing the client accepts can be produced.
    pub fn not_acceptable(message: impl Into<String>) -> Self {
        Self::new(406, "NotAcceptable", message)
    }

    /// 409 AlreadyExists.
    pub fn already_exists(group: &str, resource: &str, name: &str) -> Self {
        Self {
            details: Some(json!({"name": name, "group": group, "kind": resource})),
            ..Self::new(
                409,
                "AlreadyExists",
                format!("{} \"{name}\" already exists", qualified(resource, group)),
            )
        }
    }

    /// 409 Conflict for a stale `resourceVersion` or a failed precondition.
    pub fn conflict(group: &str, resource: &str, name: &str, why: &str) -> Self {
        Self {
            details: Some(json!({"name": name, "group": group, "kind": resource})),
            ..Self::new(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": {why}",
                    qualified(resource, group)
                ),
            )
        }
    }

    /// 409 Conflict for server-side apply field ownership.
    pub fn apply_conflict(causes: &[Cause], message: String) -> Self {
        Self {
            details: Some(json!({"causes": causes_json(causes)})),
            ..Self::new(409, "Conflict", message)
        }
    }

    /// 410 Gone / Expired: the resourceVersion asked for is compacted away.
    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// 415 for an unknown request body type.
    pub fn unsupported_media(ct: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format: {ct}"),
        )
    }

    /// 413 for a body above the size cap.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            format!("request body is larger than {limit} bytes"),
        )
    }

    /// 422 Invalid, naming each offending field.
    pub fn invalid(group: &str, kind: &str, name: &str, causes: Vec<Cause>) -> Self {
        let list = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect::<Vec<_>>();
        let joined = if list.len() == 1 {
            list.join("")
        } else {
            format!("[{}]", list.join(", "))
        };
        Self {
            details: Some(
                json!({"name": name, "group": group, "kind": kind, "causes": causes_json(&causes)}),
            ),
            ..Self::new(
                422,
                "Invalid",
                format!("{kind}.{group} \"{name}\" is invalid: {joined}"),
            )
        }
        .trim_core_group(kind)
    }

    /// 500: something broke on our side.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    fn trim_core_group(mut self, kind: &str) -> Self {
        // Core kinds have no group: "Pod.\"x\"" reads badly, use "Pod \"x\"".
        if self.message.starts_with(&format!("{kind}. "))
            || self.message.starts_with(&format!("{kind}.\""))
        {
            self.message = self
                .message
                .replacen(&format!("{kind}."), &format!("{kind} "), 1);
        }
        self
    }

    /// The `Status` object.
    pub fn to_status(&self) -> Value {
        let mut v = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let (Some(d), Some(obj)) = (&self.details, v.as_object_mut()) {
            obj.insert("details".into(), d.clone());
        }
        v
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for ApiError {}

fn qualified(resource: &str, group: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

fn causes_json(causes: &[Cause]) -> Value {
    Value::Array(
        causes
            .iter()
            .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
            .collect(),
    )
}

/// What went wrong while starting or running the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory in the data dir could not be read or written.
    #[error("Cannot {action} {path}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// Which file.
        path: std::path::PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The SQLite store failed.
    #[error("Storage failed while {action}")]
    Store {
        /// What was being done.
        action: String,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },
    /// Certificates could not be made or loaded.
    #[error("TLS setup failed: {what}")]
    Tls {
        /// What failed.
        what: String,
    },
    /// The listen address could not be bound.
    #[error("Cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A built-in definition (CRD) was rejected.
    #[error("Cannot install the definition {name}: {message}")]
    Definition {
        /// CRD name.
        name: String,
        /// Why.
        message: String,
    },
    /// Building an in-process client failed.
    #[error("Cannot build a client for the embedded API server: {message}")]
    Client {
        /// Why.
        message: String,
    },
}
