//! Leader election on a `coordination.k8s.io/v1` Lease, so that of several
//! `ferry operator` replicas exactly one runs the controllers.
//!
//! Flow: every replica reads the Lease each retry period. The holder renews
//! `renewTime`; a replica takes over when the Lease is free (no holder) or
//! its holder has not renewed for `leaseDurationSeconds`. Expiry is judged
//! on this replica's own clock, from when it last *saw* the holder or
//! `renewTime` change (as client-go does), so clock skew between nodes does
//! not matter. Every write is a replace with the `resourceVersion` that was
//! read, so two replicas racing for a free Lease cannot both win: the API
//! server answers 409 to the slower one.
//!
//! Guarantees: the leader renews every third of the lease duration and
//! stops leading when it could not renew for two thirds of it (a renewal
//! that hangs counts as failed), so it has stopped before any standby may
//! take the Lease over. On shutdown the leader releases the Lease so a
//! standby takes over at its next retry.
use std::time::{Duration, Instant};

use anyhow::Context as _;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, PostParams};

/// What the Lease looks like to this replica.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    holder: Option<String>,
    renew: Option<MicroTime>,
}

/// What to do after reading the Lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// No Lease yet: create it as its holder.
    Create,
    /// We hold it: renew.
    Renew,
    /// Free or expired: take it over.
    TakeOver,
    /// Someone else holds it and it has not expired.
    Wait(String),
}

/// Decide from the Lease (if any), whether its holder or renew time changed
/// `since_change` ago, and our identity.
pub fn decide(
    lease: Option<&Lease>,
    me: &str,
    since_change: Duration,
    default: Duration,
) -> Decision {
    let Some(lease) = lease else {
        return Decision::Create;
    };
    let spec = lease.spec.clone().unwrap_or_default();
    let holder = spec.holder_identity.filter(|h| !h.is_empty());
    let duration = spec
        .lease_duration_seconds
        .and_then(|s| u64::try_from(s).ok())
        .filter(|s| *s > 0)
        .map_or(default, Duration::from_secs);
    match holder {
        Some(h) if h == me => Decision::Renew,
        Some(h) if since_change < duration => Decision::Wait(h),
        _ => Decision::TakeOver,
    }
}

/// One replica's view of the election.
pub struct Elector {
    api: Api<Lease>,
    name: String,
    identity: String,
    duration: Duration,
    seen: Option<(Seen, Instant)>,
}

impl std::fmt::Debug for Elector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Elector")
            .field("name", &self.name)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

fn now() -> MicroTime {
    MicroTime(k8s_openapi::jiff::Timestamp::now())
}

impl Elector {
    /// An elector for Lease `namespace/name` as `identity`.
    pub fn new(
        client: kube::Client,
        namespace: &str,
        name: &str,
        identity: &str,
        duration: Duration,
    ) -> Self {
        Self {
            api: Api::namespaced(client, namespace),
            name: name.to_owned(),
            identity: identity.to_owned(),
            duration,
            seen: None,
        }
    }

    /// Read the Lease and acquire or renew it if we may. `Ok(None)` when we
    /// hold it now, `Ok(Some(holder))` when another replica does (or won a
    /// race for it).
    pub async fn try_acquire(&mut self) -> anyhow::Result<Option<String>> {
        let lease = self
            .api
            .get_opt(&self.name)
            .await
            .with_context(|| format!("cannot read Lease {}", self.name))?;
        let since_change = self.observe(lease.as_ref());
        let secs = i32::try_from(self.duration.as_secs()).unwrap_or(i32::MAX);
        let result = match decide(lease.as_ref(), &self.identity, since_change, self.duration) {
            Decision::Wait(holder) => return Ok(Some(holder)),
            Decision::Create => {
                let mut obj = Lease::default();
                obj.metadata.name = Some(self.name.clone());
                obj.spec = Some(LeaseSpec {
                    holder_identity: Some(self.identity.clone()),
                    lease_duration_seconds: Some(secs),
                    acquire_time: Some(now()),
                    renew_time: Some(now()),
                    lease_transitions: Some(0),
                    ..LeaseSpec::default()
                });
                self.api.create(&PostParams::default(), &obj).await
            }
            Decision::Renew | Decision::TakeOver => {
                let mut obj = lease.unwrap_or_default();
                let mut spec = obj.spec.take().unwrap_or_default();
                if spec.holder_identity.as_deref() != Some(&self.identity) {
                    spec.holder_identity = Some(self.identity.clone());
                    spec.acquire_time = Some(now());
                    spec.lease_transitions =
                        Some(spec.lease_transitions.unwrap_or(0).saturating_add(1));
                }
                spec.lease_duration_seconds = Some(secs);
                spec.renew_time = Some(now());
                obj.spec = Some(spec);
                self.api
                    .replace(&self.name, &PostParams::default(), &obj)
                    .await
            }
        };
        match result {
            Ok(written) => {
                self.observe(Some(&written));
                Ok(None)
            }
            // Another replica wrote first: it holds the Lease now.
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(Some("another replica".to_owned())),
            Err(e) => Err(e).with_context(|| format!("cannot write Lease {}", self.name)),
        }
    }

    /// Remember the Lease's holder and renew time; returns how long ago
    /// (on our clock) they last changed.
    fn observe(&mut self, lease: Option<&Lease>) -> Duration {
        let spec = lease.and_then(|l| l.spec.clone()).unwrap_or_default();
        let seen = Seen {
            holder: spec.holder_identity,
            renew: spec.renew_time,
        };
        match &self.seen {
            Some((old, at)) if *old == seen => at.elapsed(),
            _ => {
                self.seen = Some((seen, Instant::now()));
                Duration::ZERO
            }
        }
    }

    /// Give the Lease up (on shutdown) so a standby takes over at once.
    pub async fn release(&self) -> anyhow::Result<()> {
        let Some(mut lease) = self
            .api
            .get_opt(&self.name)
            .await
            .with_context(|| format!("cannot read Lease {}", self.name))?
        else {
            return Ok(());
        };
        let mut spec = lease.spec.take().unwrap_or_default();
        if spec.holder_identity.as_deref() != Some(&self.identity) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.renew_time = Some(now());
        lease.spec = Some(spec);
        self.api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
            .with_context(|| format!("cannot release Lease {}", self.name))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(holder: Option<&str>, secs: Option<i32>) -> Lease {
        Lease {
            spec: Some(LeaseSpec {
                holder_identity: holder.map(str::to_owned),
                lease_duration_seconds: secs,
                ..LeaseSpec::default()
            }),
            ..Lease::default()
        }
    }

    #[test]
    fn decisions_follow_holder_and_expiry() {
        let d = Duration::from_secs(15);
        assert_eq!(decide(None, "a", Duration::ZERO, d), Decision::Create);
        let held_by_b = lease(Some("b"), Some(10));
        assert_eq!(
            decide(Some(&held_by_b), "a", Duration::from_secs(9), d),
            Decision::Wait("b".into())
        );
        // The Lease's own duration (10 s) counts, not our default (15 s).
        assert_eq!(
            decide(Some(&held_by_b), "a", Duration::from_secs(10), d),
            Decision::TakeOver
        );
        assert_eq!(
            decide(Some(&held_by_b), "b", Duration::from_secs(60), d),
            Decision::Renew
        );
        // Released (no or empty holder): take over at once.
        assert_eq!(
            decide(Some(&lease(None, Some(10))), "a", Duration::ZERO, d),
            Decision::TakeOver
        );
        assert_eq!(
            decide(Some(&lease(Some(""), None)), "a", Duration::ZERO, d),
            Decision::TakeOver
        );
        // No duration on the Lease: ours applies.
        let no_secs = lease(Some("b"), None);
        assert_eq!(
            decide(Some(&no_secs), "a", Duration::from_secs(14), d),
            Decision::Wait("b".into())
        );
        assert_eq!(
            decide(Some(&no_secs), "a", Duration::from_secs(15), d),
            Decision::TakeOver
        );
    }
}
