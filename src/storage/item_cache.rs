//! The documents of the living items this process last committed, so that a click on a card
//! it has just published need not read the row back: a click then costs one round trip (its
//! write set) instead of two.
//!
//! An entry says "item `id` of `kind` was committed at `version` with this document". That
//! stays true for good, because every write of a row bumps its version. So an entry is used
//! only for a click on that very version (see [`items::get_expecting`](super::items)), and
//! the write that follows is compare-and-set as always. When another process or a job has
//! written the row since, the write finds a newer version, the attempt is a conflict, the
//! driver drops the entry ([`ItemCache::forget`]), and the event is decided again on the row
//! as read from the database. Restoring a backup under a running daemon breaks "versions
//! only grow": restart it afterwards.
//!
//! Memory is bounded by two generations, each of at most [`ENTRIES_PER_GENERATION`] entries
//! and [`BYTES_PER_GENERATION`] bytes of documents: a write of an item already held replaces
//! its entry in place; a new one goes into the current generation, and a full current
//! generation becomes the previous one, dropping the one before it. Items written recently
//! stay; long-quiet ones are read from the database again. A document larger than
//! [`LARGEST_DOCUMENT`] (a review campaign with thousands of grants) is not kept at all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::items::ItemWrite;
use crate::domain::item::ItemKind;

/// At about 2 KB per document (an escalation, a credit), 4,096 items fill about 8 MB.
pub const ENTRIES_PER_GENERATION: usize = 4096;

/// Two generations hold at most twice this, plus one document each.
pub const BYTES_PER_GENERATION: usize = 8 << 20;

/// Documents larger than this are read from the database every time.
pub const LARGEST_DOCUMENT: usize = 256 << 10;

type Key = (ItemKind, i64);

#[derive(Clone)]
struct Entry {
    version: i32,
    doc: Arc<str>,
}

#[derive(Default)]
struct Generations {
    current: HashMap<Key, Entry>,
    /// The bytes of the current generation's documents.
    current_bytes: usize,
    previous: HashMap<Key, Entry>,
}

/// Shared by every clone (one per process, held by the services).
#[derive(Clone)]
pub struct ItemCache {
    generations: Arc<Mutex<Generations>>,
    entries_per_generation: usize,
    bytes_per_generation: usize,
}

impl Default for ItemCache {
    fn default() -> ItemCache {
        ItemCache::with_generation_size(ENTRIES_PER_GENERATION, BYTES_PER_GENERATION)
    }
}

impl ItemCache {
    pub fn new() -> ItemCache {
        ItemCache::default()
    }

    /// A cache whose generations hold at most `entries` documents and `bytes` bytes of them
    /// each (tests use small ones).
    pub fn with_generation_size(entries: usize, bytes: usize) -> ItemCache {
        ItemCache {
            generations: Arc::default(),
            entries_per_generation: entries.max(1),
            bytes_per_generation: bytes,
        }
    }

    /// The document committed as item `id`'s `version`, if this process committed it.
    pub fn get(&self, kind: ItemKind, id: i64, version: i32) -> Option<Arc<str>> {
        let generations = self.lock();
        let key = (kind, id);
        let entry = generations.current.get(&key).or_else(|| generations.previous.get(&key))?;
        (entry.version == version).then(|| entry.doc.clone())
    }

    /// Remembers the rows of a write set that has just committed.
    pub fn remember(&self, writes: &[ItemWrite]) {
        let mut generations = self.lock();
        for write in writes {
            let key = (write.kind, write.id);
            let doc = write.doc.get();
            if doc.len() > LARGEST_DOCUMENT {
                // Not kept, so an older version held must go too (it would only miss).
                generations.forget(key);
                continue;
            }
            let entry = Entry { version: write.version, doc: Arc::from(doc) };
            if let Some(held) = generations.current.get_mut(&key) {
                let old_len = held.doc.len();
                *held = entry;
                generations.current_bytes = generations.current_bytes - old_len + doc.len();
                continue;
            }
            generations.previous.remove(&key);
            let full = generations.current.len() >= self.entries_per_generation
                || generations.current_bytes + doc.len() > self.bytes_per_generation;
            if full {
                generations.previous = std::mem::take(&mut generations.current);
                generations.current_bytes = 0;
            }
            generations.current_bytes += doc.len();
            generations.current.insert(key, entry);
        }
    }

    /// Drops the rows of a write set that found one of them changed: the next attempt reads
    /// them from the database.
    pub fn forget(&self, writes: &[ItemWrite]) {
        let mut generations = self.lock();
        for write in writes {
            generations.forget((write.kind, write.id));
        }
    }

    /// How many items are held (both generations).
    #[cfg(test)]
    fn len(&self) -> usize {
        let generations = self.lock();
        generations.current.len() + generations.previous.len()
    }

    /// The bytes of documents held (both generations).
    #[cfg(test)]
    fn bytes(&self) -> usize {
        let generations = self.lock();
        generations.current_bytes
            + generations.previous.values().map(|e| e.doc.len()).sum::<usize>()
    }

    fn lock(&self) -> MutexGuard<'_, Generations> {
        // The maps are consistent after every statement above, so a panic elsewhere while
        // the lock was held leaves nothing half-done: carry on with them.
        self.generations.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Generations {
    fn forget(&mut self, key: Key) {
        if let Some(entry) = self.current.remove(&key) {
            self.current_bytes -= entry.doc.len();
        }
        self.previous.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::item::Projection;

    fn write(id: i64, version: i32, doc: &str) -> ItemWrite {
        ItemWrite {
            kind: ItemKind::Escalation,
            id,
            version,
            replaces: Some(version - 1),
            doc: serde_json::value::RawValue::from_string(doc.to_owned()).unwrap(),
            projection: Projection::default(),
            workspace: None,
        }
    }

    #[test]
    fn an_entry_answers_only_for_the_version_it_was_committed_at() {
        let cache = ItemCache::new();
        cache.remember(&[write(7, 2, r#"{"v":2}"#)]);
        assert_eq!(cache.get(ItemKind::Escalation, 7, 2).as_deref(), Some(r#"{"v":2}"#));
        assert_eq!(cache.get(ItemKind::Escalation, 7, 1), None);
        assert_eq!(cache.get(ItemKind::Escalation, 7, 3), None);
        assert_eq!(cache.get(ItemKind::Credit, 7, 2), None);
        cache.remember(&[write(7, 3, r#"{"v":3}"#)]);
        assert_eq!(cache.get(ItemKind::Escalation, 7, 2), None);
        assert_eq!(cache.get(ItemKind::Escalation, 7, 3).as_deref(), Some(r#"{"v":3}"#));
        cache.forget(&[write(7, 4, "{}")]);
        assert_eq!(cache.get(ItemKind::Escalation, 7, 3), None);
    }

    #[test]
    fn at_most_two_generations_are_held_and_rewriting_an_item_keeps_its_place() {
        let cache = ItemCache::with_generation_size(3, BYTES_PER_GENERATION);
        for id in 1..=3 {
            cache.remember(&[write(id, 1, "{}")]);
        }
        // Rewrites of held items replace them in place: nothing is pushed out.
        cache.remember(&[write(1, 2, "{}"), write(2, 2, "{}")]);
        assert_eq!(cache.len(), 3);
        // A fourth item starts a new generation; the first three stay as the previous one.
        cache.remember(&[write(4, 1, "{}")]);
        assert_eq!(cache.len(), 4);
        assert!(cache.get(ItemKind::Escalation, 1, 2).is_some());
        // An item of the previous generation that is written again moves to the current one.
        cache.remember(&[write(3, 2, "{}")]);
        cache.remember(&[write(5, 1, "{}")]);
        // The current generation is full (4, 3, 5): the next new item drops 1 and 2.
        cache.remember(&[write(6, 1, "{}")]);
        assert_eq!(cache.get(ItemKind::Escalation, 1, 2), None);
        assert_eq!(cache.get(ItemKind::Escalation, 2, 2), None);
        assert!(cache.get(ItemKind::Escalation, 3, 2).is_some());
        assert!(cache.get(ItemKind::Escalation, 6, 1).is_some());
        assert_eq!(cache.len(), 4);
    }

    #[test]
    fn documents_are_held_within_the_byte_budget_and_the_largest_not_at_all() {
        let doc = |len: usize| format!("\"{}\"", "x".repeat(len - 2));
        let cache = ItemCache::with_generation_size(100, 1000);
        for id in 1..=4 {
            cache.remember(&[write(id, 1, &doc(400))]);
        }
        // 400 + 400 fit a generation of 1,000 bytes; the third starts a new one, and the
        // fifth drops the first two.
        assert_eq!(cache.len(), 4);
        cache.remember(&[write(5, 1, &doc(400))]);
        assert_eq!(cache.len(), 3);
        assert!(cache.bytes() <= 2 * 1000);
        assert_eq!(cache.get(ItemKind::Escalation, 1, 1), None);
        // Rewriting a held item accounts for the new length, not both.
        cache.remember(&[write(5, 2, &doc(100))]);
        assert_eq!(cache.bytes(), 400 + 400 + 100);

        let small = ItemCache::new();
        small.remember(&[write(9, 1, "{}")]);
        small.remember(&[write(9, 2, &doc(LARGEST_DOCUMENT + 1))]);
        assert_eq!(small.get(ItemKind::Escalation, 9, 1), None, "the older copy went too");
        assert_eq!(small.get(ItemKind::Escalation, 9, 2), None);
        assert_eq!(small.len(), 0);
    }
}
