//! A bandwidth limit shared by every disk copy of a controller
//! (`ferry migrate --max-rate`): writers reserve their bytes on one
//! timeline and sleep until their slot. Without a limit nothing waits.
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Bytes per second for all copies together.
#[derive(Debug)]
pub struct RateLimit {
    bytes_per_sec: u64,
    /// When the bytes reserved so far will have been "sent".
    next_free: Mutex<Option<Instant>>,
}

impl RateLimit {
    /// A limit of `bytes_per_sec` (at least 1).
    pub fn new(bytes_per_sec: u64) -> Self {
        Self {
            bytes_per_sec: bytes_per_sec.max(1),
            next_free: Mutex::new(None),
        }
    }

    /// The configured rate.
    pub fn bytes_per_sec(&self) -> u64 {
        self.bytes_per_sec
    }

    /// How long the caller must wait before sending `bytes` now; reserves
    /// them. Idle time is not banked: a burst after a pause is not free.
    pub fn reserve(&self, bytes: u64, now: Instant) -> Duration {
        let cost = Duration::from_secs_f64(bytes as f64 / self.bytes_per_sec as f64);
        let mut next = self.next_free.lock().unwrap_or_else(|p| p.into_inner());
        let start = match *next {
            Some(t) if t > now => t,
            _ => now,
        };
        *next = Some(start + cost);
        start - now
    }

    /// Block until `bytes` may be sent.
    pub fn wait(&self, bytes: u64) {
        let d = self.reserve(bytes, Instant::now());
        if !d.is_zero() {
            std::thread::sleep(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_queue_up_at_the_rate() {
        let r = RateLimit::new(1000);
        let t0 = Instant::now();
        assert_eq!(r.reserve(500, t0), Duration::ZERO);
        // The next 500 bytes start when the first half second is over.
        assert_eq!(r.reserve(500, t0), Duration::from_millis(500));
        assert_eq!(r.reserve(1000, t0), Duration::from_secs(1));
        // After the queue drained, no wait and no banked credit.
        let later = t0 + Duration::from_secs(10);
        assert_eq!(r.reserve(100, later), Duration::ZERO);
        assert_eq!(r.reserve(100, later), Duration::from_millis(100));
    }

    #[test]
    fn zero_rate_is_clamped() {
        let r = RateLimit::new(0);
        assert_eq!(r.bytes_per_sec(), 1);
    }
}
