//! Bounds for the adapters' per-process caches (issue 17 item 6).
//!
//! The DM channel of a user, the threads known to exist and the channels' pacing slots are
//! remembered to save platform calls. Each only saves a call, so none may grow with the
//! life of the process: past [`CACHE_LIMIT`] entries a cache starts over (a miss costs one
//! idempotent call: `conversations.open` and Discord's DM channel answer the same channel,
//! a thread already started answers "already created").

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

/// Most entries one adapter cache holds: far above the people and live threads of one
/// organisation, far below anything that matters for memory (about a megabyte).
pub const CACHE_LIMIT: usize = 10_000;

/// Inserts into a cache map, starting over when it is full.
pub fn insert_bounded<K: Eq + Hash, V>(map: &mut HashMap<K, V>, key: K, value: V) {
    if map.len() >= CACHE_LIMIT && !map.contains_key(&key) {
        map.clear();
    }
    map.insert(key, value);
}

/// Inserts into a cache set, starting over when it is full.
pub fn insert_bounded_set<K: Eq + Hash>(set: &mut HashSet<K>, key: K) {
    if set.len() >= CACHE_LIMIT && !set.contains(&key) {
        set.clear();
    }
    set.insert(key);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_cache_starts_over_instead_of_growing() {
        let mut map = HashMap::new();
        let mut set = HashSet::new();
        for n in 0..CACHE_LIMIT * 3 + 7 {
            insert_bounded(&mut map, n, n);
            insert_bounded_set(&mut set, n);
            assert!(map.len() <= CACHE_LIMIT && set.len() <= CACHE_LIMIT);
        }
        assert_eq!(map.get(&(CACHE_LIMIT * 3 + 6)), Some(&(CACHE_LIMIT * 3 + 6)));
        // Re-inserting a known key into a full cache keeps the rest.
        let full: HashMap<usize, usize> = (0..CACHE_LIMIT).map(|n| (n, n)).collect();
        let mut again = full.clone();
        insert_bounded(&mut again, 5, 50);
        assert_eq!(again.len(), CACHE_LIMIT);
    }
}
