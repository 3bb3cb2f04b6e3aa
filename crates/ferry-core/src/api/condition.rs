//! Status conditions in Forklift's `libcnd` format, with the small API the
//! controllers use: set (keeping `lastTransitionTime` when nothing changed),
//! find, delete, blockers, and a staging pass that drops the non-durable
//! conditions a reconcile did not set again.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::open_enum::open_enum;

open_enum! {
    /// How a condition affects the object (`category`).
    #[derive(Default)]
    pub enum Category {
        /// Blocks reconcile and blocks Ready.
        Critical => "Critical",
        /// Blocks Ready.
        Error => "Error",
        /// Does not block.
        Warn => "Warn",
        /// Needed for Ready.
        Required => "Required",
        /// Information only.
        #[default]
        Advisory => "Advisory",
    }
}

/// `status: "True"`.
pub const TRUE: &str = "True";
/// `status: "False"`.
pub const FALSE: &str = "False";

/// Condition types shared by every reconciled kind.
pub mod types {
    /// The object is ready to be used.
    pub const READY: &str = "Ready";
    /// The last reconcile failed.
    pub const RECONCILE_FAILED: &str = "ReconcileFailed";
    /// The object's spec passed validation.
    pub const VALIDATED: &str = "Validated";
    /// A migration is executing.
    pub const EXECUTING: &str = "Executing";
    /// A migration is running.
    pub const RUNNING: &str = "Running";
    /// Waiting to start.
    pub const PENDING: &str = "Pending";
    /// Canceled by the user.
    pub const CANCELED: &str = "Canceled";
    /// Finished successfully.
    pub const SUCCEEDED: &str = "Succeeded";
    /// Finished with an error.
    pub const FAILED: &str = "Failed";
    /// Blocked by another condition.
    pub const BLOCKED: &str = "Blocked";
    /// The subject was deleted.
    pub const DELETED: &str = "Deleted";
    /// The plan is archived.
    pub const ARCHIVED: &str = "Archived";
    /// The plan is paused.
    pub const PAUSED: &str = "Paused";
}

/// One condition (`status.conditions[]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// The condition type, e.g. `Ready`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True` or `False`.
    pub status: String,
    /// Machine-readable reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Critical, Error, Warn, Required or Advisory.
    pub category: Category,
    /// Human-readable message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// What the user can do about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// When the status last changed.
    pub last_transition_time: Time,
    /// A durable condition survives staging: it stays until explicitly deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub durable: Option<bool>,
    /// The items (VMs, networks, ...) the condition is about.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
    /// Set by [`Conditions::set`] during a staging pass; never serialised.
    #[serde(skip)]
    #[schemars(skip)]
    pub staged: bool,
}

impl Condition {
    /// A condition of `type_` with status `True` in `category`, stamped now.
    pub fn new(type_: impl Into<String>, category: Category) -> Self {
        Self {
            type_: type_.into(),
            status: TRUE.to_owned(),
            reason: None,
            category,
            message: None,
            suggestion: None,
            last_transition_time: now(),
            durable: None,
            items: Vec::new(),
            staged: false,
        }
    }

    /// Sets the reason.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Sets the message.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Sets the suggestion.
    pub fn suggestion(mut self, suggestion: impl Into<String>) -> Self {
        self.suggestion = Some(suggestion.into());
        self
    }

    /// Sets the items.
    pub fn items<I: IntoIterator<Item = S>, S: Into<String>>(mut self, items: I) -> Self {
        self.items = items.into_iter().map(Into::into).collect();
        self
    }

    /// Marks the condition durable.
    pub fn durable(mut self) -> Self {
        self.durable = Some(true);
        self
    }

    /// Sets the status (`True`/`False`).
    pub fn with_status(mut self, status: bool) -> Self {
        self.status = if status { TRUE } else { FALSE }.to_owned();
        self
    }

    /// True when `status` is `True`.
    pub fn is_true(&self) -> bool {
        self.status == TRUE
    }

    /// True when the condition is set and blocks Ready (Critical or Error).
    pub fn is_blocker(&self) -> bool {
        self.is_true() && matches!(self.category, Category::Critical | Category::Error)
    }

    /// Same content, ignoring `lastTransitionTime` and staging.
    fn same_content(&self, other: &Self) -> bool {
        self.type_ == other.type_
            && self.status == other.status
            && self.reason == other.reason
            && self.category == other.category
            && self.message == other.message
            && self.suggestion == other.suggestion
            && self.durable == other.durable
            && self.items == other.items
    }
}

fn now() -> Time {
    Time(k8s_openapi::jiff::Timestamp::now())
}

/// The `conditions` list of a status, with Forklift's helper semantics.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Conditions(pub Vec<Condition>);

impl Conditions {
    /// True when there are no conditions.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The condition of `type_`, if any.
    pub fn find(&self, type_: &str) -> Option<&Condition> {
        self.0.iter().find(|c| c.type_ == type_)
    }

    /// True when a condition of `type_` exists with status `True`.
    pub fn has(&self, type_: &str) -> bool {
        self.find(type_).is_some_and(Condition::is_true)
    }

    /// True when any of `types` is set.
    pub fn has_any(&self, types: &[&str]) -> bool {
        types.iter().any(|t| self.has(t))
    }

    /// Adds or replaces the condition of the same type. When status, reason,
    /// category, message, suggestion, durability and items are unchanged the
    /// old `lastTransitionTime` is kept; when only the status is unchanged
    /// the time is kept too (it marks status transitions).
    pub fn set(&mut self, mut cond: Condition) {
        cond.staged = true;
        match self.0.iter_mut().find(|c| c.type_ == cond.type_) {
            Some(old) => {
                if old.status == cond.status || old.same_content(&cond) {
                    cond.last_transition_time = old.last_transition_time.clone();
                }
                *old = cond;
            }
            None => self.0.push(cond),
        }
    }

    /// Sets `cond` when `when` is true, deletes its type otherwise.
    pub fn set_if(&mut self, when: bool, cond: Condition) {
        if when {
            self.set(cond);
        } else {
            self.delete(&cond.type_);
        }
    }

    /// Removes the conditions of the given type. Returns true if one was removed.
    pub fn delete(&mut self, type_: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|c| c.type_ != type_);
        before != self.0.len()
    }

    /// True when any condition blocks Ready (a `True` Critical or Error).
    pub fn has_blocker(&self) -> bool {
        self.0.iter().any(Condition::is_blocker)
    }

    /// True when any `True` condition is Critical (blocks reconcile).
    pub fn has_critical(&self) -> bool {
        self.0
            .iter()
            .any(|c| c.is_true() && c.category == Category::Critical)
    }

    /// True when the `Ready` condition is set.
    pub fn is_ready(&self) -> bool {
        self.has(types::READY)
    }

    /// The `True` conditions of `category`.
    pub fn in_category<'a>(
        &'a self,
        category: &'a Category,
    ) -> impl Iterator<Item = &'a Condition> {
        self.0
            .iter()
            .filter(move |c| c.is_true() && &c.category == category)
    }

    /// Starts a staging pass: every condition is marked unstaged. Conditions
    /// set again before [`end_staging`](Self::end_staging) survive it.
    pub fn begin_staging(&mut self) {
        for c in &mut self.0 {
            c.staged = false;
        }
    }

    /// Ends a staging pass: drops every non-durable condition that was not
    /// set since [`begin_staging`](Self::begin_staging).
    pub fn end_staging(&mut self) {
        self.0.retain(|c| c.staged || c.durable == Some(true));
        for c in &mut self.0 {
            c.staged = false;
        }
    }

    /// Iterates over the conditions.
    pub fn iter(&self) -> std::slice::Iter<'_, Condition> {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap())
    }

    #[test]
    fn set_keeps_transition_time_when_status_unchanged() {
        let mut c = Conditions::default();
        let mut first = Condition::new("Ready", Category::Required);
        first.last_transition_time = at(1000);
        c.set(first);
        c.set(Condition::new("Ready", Category::Required).message("again"));
        let ready = c.find("Ready").map(|r| r.last_transition_time.clone());
        assert_eq!(ready, Some(at(1000)));
        assert_eq!(
            c.find("Ready").and_then(|r| r.message.clone()).as_deref(),
            Some("again")
        );
        c.set(Condition::new("Ready", Category::Required).with_status(false));
        assert_ne!(
            c.find("Ready").map(|r| r.last_transition_time.clone()),
            Some(at(1000))
        );
        assert_eq!(c.0.len(), 1);
    }

    #[test]
    fn blockers_are_true_critical_or_error() {
        let mut c = Conditions::default();
        c.set(Condition::new("HostNotReady", Category::Warn));
        assert!(!c.has_blocker());
        c.set(Condition::new("VMNotFound", Category::Critical).with_status(false));
        assert!(!c.has_blocker());
        c.set(Condition::new("NetworkMapNotReady", Category::Error));
        assert!(c.has_blocker());
        assert!(!c.has_critical());
        c.set(Condition::new("VMNotFound", Category::Critical));
        assert!(c.has_critical());
        assert_eq!(c.in_category(&Category::Critical).count(), 1);
    }

    #[test]
    fn staging_drops_unset_non_durable() {
        let mut c = Conditions::default();
        c.set(Condition::new("A", Category::Warn));
        c.set(Condition::new("B", Category::Warn).durable());
        c.set(Condition::new("C", Category::Warn));
        c.begin_staging();
        c.set(Condition::new("C", Category::Warn));
        c.end_staging();
        let left: Vec<_> = c.iter().map(|x| x.type_.as_str()).collect();
        assert_eq!(left, ["B", "C"]);
    }

    #[test]
    fn serialises_in_forklift_shape() {
        let mut cond = Condition::new("Ready", Category::Required).message("The plan is ready.");
        cond.last_transition_time = at(0);
        let v = serde_json::to_value(&cond).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "type": "Ready", "status": "True", "category": "Required",
                "message": "The plan is ready.", "lastTransitionTime": "1970-01-01T00:00:00Z"
            })
        );
        let back: Condition = serde_json::from_value(v).unwrap();
        assert_eq!(back, cond);
    }

    #[test]
    fn unknown_category_is_kept() {
        let v = serde_json::json!({"type": "X", "status": "True", "category": "Fancy",
            "lastTransitionTime": "2024-01-01T00:00:00Z"});
        let c: Condition = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(c.category, Category::Other("Fancy".into()));
        assert_eq!(serde_json::to_value(&c).unwrap(), v);
    }
}
