//! A small generic LRU map. Values are cheap to clone (an `Arc`), so callers
//! take a clone under their lock and do the I/O after releasing it.
use std::collections::HashMap;
use std::hash::Hash;

/// Least-recently-used map with a fixed capacity (in entries).
#[derive(Debug)]
pub struct Lru<K, V> {
    map: HashMap<K, (V, u64)>,
    capacity: usize,
    tick: u64,
}

impl<K: Hash + Eq + Copy, V: Clone> Lru<K, V> {
    /// A clone of the value for `key`, marking it recently used.
    pub fn get(&mut self, key: &K) -> Option<V> {
        self.get_mut(key).map(|v| v.clone())
    }
}

impl<K: Hash + Eq + Copy, V> Lru<K, V> {
    /// An empty cache holding at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            map: HashMap::new(),
            capacity: capacity.max(1),
            tick: 0,
        }
    }

    /// The value for `key` without touching its age.
    pub fn peek(&self, key: &K) -> Option<&V> {
        self.map.get(key).map(|(v, _)| v)
    }

    /// A mutable reference to the value for `key`, marking it recently used.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.tick += 1;
        let tick = self.tick;
        self.map.get_mut(key).map(|(v, used)| {
            *used = tick;
            v
        })
    }

    /// Insert `value`; returns the evicted least-recently-used entry when the
    /// cache was full (never the key just inserted).
    pub fn insert(&mut self, key: K, value: V) -> Option<(K, V)> {
        self.tick += 1;
        if let Some(slot) = self.map.get_mut(&key) {
            *slot = (value, self.tick);
            return None;
        }
        let evicted = if self.map.len() >= self.capacity {
            self.oldest()
                .and_then(|k| self.map.remove(&k).map(|(v, _)| (k, v)))
        } else {
            None
        };
        self.map.insert(key, (value, self.tick));
        evicted
    }

    fn oldest(&self) -> Option<K> {
        self.map
            .iter()
            .min_by_key(|(_, (_, used))| *used)
            .map(|(k, _)| *k)
    }

    /// Every entry, in no particular order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.map.iter_mut().map(|(k, (v, _))| (k, v))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_evicts_least_recently_used() {
        let mut c = Lru::new(2);
        assert!(c.insert(1, "a").is_none());
        assert!(c.insert(2, "b").is_none());
        assert_eq!(c.get(&1), Some("a"));
        assert_eq!(c.insert(3, "c"), Some((2, "b")));
        assert_eq!(c.get(&2), None);
        assert_eq!(c.get(&1), Some("a"));
        assert_eq!(c.get(&3), Some("c"));
        assert_eq!(c.len(), 2);
        assert_eq!(c.insert(3, "d"), None);
        assert_eq!(c.peek(&3), Some(&"d"));
    }
}
