//! The table of match keys seen so far, built for a million users.
//!
//! Keys live back to back in one string and are found through their 64-bit hash, so adding a
//! key costs one hash and no allocation of its own (a map of boxed strings spent more time in
//! the allocator than in the audit). The hash is the standard library's keyed one, so crafted
//! identifiers cannot make a chain of equal hashes; equal hashes are chained all the same.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher, RandomState};

const NONE: u32 = u32::MAX;

/// A key, the first user who had it, and the collision group once a second one does.
#[derive(Debug, Clone, Copy)]
struct Entry {
    start: usize,
    len: u32,
    user: u32,
    group: u32,
    /// The next entry with the same hash.
    next: u32,
    fields: u8,
}

/// Users sharing one key: the user and the fields of that user with the key.
#[derive(Debug)]
struct Group {
    entry: u32,
    members: Vec<(u32, u8)>,
}

/// Hashes are already hashes: the index only spreads the 32 bits it keeps over 64.
#[derive(Debug, Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// The half of a hash the index keeps.
fn half(hash: u64) -> u32 {
    u32::try_from(hash >> 32).unwrap_or_default()
}

#[derive(Debug, Default)]
pub(super) struct KeyTable {
    hasher: RandomState,
    /// Half of each key's hash, to its latest entry: eight bytes a key instead of sixteen.
    /// Keys that share it are chained like keys with equal hashes.
    index: HashMap<u32, u32, BuildHasherDefault<PassThrough>>,
    entries: Vec<Entry>,
    text: String,
    groups: Vec<Group>,
}

impl KeyTable {
    /// Makes room for `keys` more keys.
    pub fn reserve(&mut self, keys: usize) {
        self.index.reserve(keys);
        self.entries.reserve(keys);
    }

    /// The hasher of the keys given to [`Self::find`] and [`Self::add`].
    pub fn hasher(&self) -> &RandomState {
        &self.hasher
    }

    fn key(&self, entry: &Entry) -> &str {
        self.text
            .get(entry.start..entry.start + entry.len as usize)
            .unwrap_or_default()
    }

    /// The entry of `key` (whose hash is `hash`), for [`Self::any_holder`] and [`Self::add`].
    pub fn find(&self, key: &str, hash: u64) -> Option<u32> {
        let mut at = *self.index.get(&half(hash))?;
        while let Some(entry) = self.entries.get(at as usize) {
            if self.key(entry) == key {
                return Some(at);
            }
            at = entry.next;
        }
        None
    }

    /// Whether some user holding the key of entry `found` passes `test`.
    pub fn any_holder(&self, found: Option<u32>, test: impl Fn(u32, u8) -> bool) -> bool {
        let Some(entry) = found.and_then(|at| self.entries.get(at as usize)) else {
            return false;
        };
        match self.groups.get(entry.group as usize) {
            Some(group) => group
                .members
                .iter()
                .any(|&(user, fields)| test(user, fields)),
            None => test(entry.user, entry.fields),
        }
    }

    /// Records that `user` has `key` (whose hash is `hash`, whose entry [`Self::find`] gave
    /// as `found` since the last addition of that key) in `fields`. A user adds each key once.
    pub fn add(&mut self, key: &str, hash: u64, found: Option<u32>, user: u32, fields: u8) {
        if let Some(at) = found {
            let Some(entry) = self.entries.get_mut(at as usize) else {
                return;
            };
            if let Some(group) = self.groups.get_mut(entry.group as usize) {
                group.members.push((user, fields));
            } else if let Ok(group) = u32::try_from(self.groups.len()) {
                entry.group = group;
                self.groups.push(Group {
                    entry: at,
                    members: vec![(entry.user, entry.fields), (user, fields)],
                });
            }
            return;
        }
        let (Ok(at), Ok(len)) = (u32::try_from(self.entries.len()), u32::try_from(key.len()))
        else {
            return;
        };
        if at == NONE {
            return;
        }
        let next = self.index.insert(half(hash), at).unwrap_or(NONE);
        self.entries.push(Entry {
            start: self.text.len(),
            len,
            user,
            group: NONE,
            next,
            fields,
        });
        self.text.push_str(key);
    }

    /// The collision groups, ordered by key: the key and its users in the order they came.
    pub fn into_groups(self) -> Vec<(String, Vec<(u32, u8)>)> {
        let mut groups: Vec<(String, Vec<(u32, u8)>)> = self
            .groups
            .into_iter()
            .map(|group| {
                let key = self.entries.get(group.entry as usize).map_or("", |e| {
                    self.text
                        .get(e.start..e.start + e.len as usize)
                        .unwrap_or_default()
                });
                (key.to_owned(), group.members)
            })
            .collect();
        heap_sort_by_key(&mut groups);
        groups
    }
}

/// Orders the groups by key (keys are unique, so stability does not matter). A heap sort is a
/// few hundred bytes of WebAssembly; the standard library's sort links several kilobytes.
fn heap_sort_by_key<T>(groups: &mut [(String, T)]) {
    /// Moves `groups[root]` down the max-heap held in `groups[..end]`.
    fn sift_down<T>(groups: &mut [(String, T)], mut root: usize, end: usize) {
        loop {
            let mut child = 2 * root + 1;
            if child >= end {
                return;
            }
            if child + 1 < end && groups[child].0 < groups[child + 1].0 {
                child += 1;
            }
            if groups[root].0 >= groups[child].0 {
                return;
            }
            groups.swap(root, child);
            root = child;
        }
    }
    let len = groups.len();
    for root in (0..len / 2).rev() {
        sift_down(groups, root, len);
    }
    for end in (1..len).rev() {
        groups.swap(0, end);
        sift_down(groups, 0, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_heap_sort_orders_by_key() {
        for len in 0..40_u32 {
            // Every length up to 40, in a scrambled order with runs and reversals.
            let mut groups: Vec<(String, u32)> = (0..len)
                .map(|i| (format!("k{:03}", (i * 17 + 5) % 41), i))
                .collect();
            let mut expected = groups.clone();
            expected.sort();
            heap_sort_by_key(&mut groups);
            assert_eq!(groups, expected, "{len} groups");
        }
    }

    #[test]
    fn groups_users_by_key_and_survives_equal_hashes() {
        let mut table = KeyTable::default();
        // Force every key onto one hash: the chain must still tell them apart.
        for (user, key) in ["b", "a", "b", "c", "a", "b"].into_iter().enumerate() {
            let found = table.find(key, 7);
            table.add(key, 7, found, u32::try_from(user).unwrap(), 1);
        }
        assert!(table.any_holder(table.find("c", 7), |user, _| user == 3));
        assert!(!table.any_holder(table.find("d", 7), |_, _| true));
        assert_eq!(
            table.into_groups(),
            [
                ("a".to_owned(), vec![(1, 1), (4, 1)]),
                ("b".to_owned(), vec![(0, 1), (2, 1), (5, 1)])
            ]
        );
    }
}
