//! A map keyed by [`JobId`], in id order: what the table, the roles and the
//! browser layer keep per job.
//!
//! A table hands out ids in increasing order and never reuses one, so the
//! map is a vector sorted by id: an insert is a push, a lookup a binary
//! search, and listing the jobs oldest first needs no sort. A removed value
//! leaves an empty slot (the ids after it keep their places); the slots are
//! compacted when the empty ones outnumber the values, so a removal costs
//! O(log n) amortized and the vector holds at most about twice the live
//! values. One generic vector instead of a hash map per value type: the
//! `.wasm` carries one small search instead of hashbrown's table code three
//! times (BENCHMARKS.md, "Size").

use super::job_id::JobId;

pub struct IdMap<V> {
    slots: Vec<(JobId, Option<V>)>,
    live: usize,
}

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            live: 0,
        }
    }
}

impl<V> IdMap<V> {
    /// The slot of `id`, or where it would go.
    fn search(&self, id: JobId) -> Result<usize, usize> {
        self.slots.binary_search_by(|s| s.0.cmp(&id))
    }

    fn slot(&self, id: JobId) -> Option<&Option<V>> {
        self.slots.get(self.search(id).ok()?).map(|s| &s.1)
    }

    fn slot_mut(&mut self, id: JobId) -> Option<&mut Option<V>> {
        let i = self.search(id).ok()?;
        self.slots.get_mut(i).map(|s| &mut s.1)
    }

    pub fn get(&self, id: JobId) -> Option<&V> {
        self.slot(id)?.as_ref()
    }

    pub fn get_mut(&mut self, id: JobId) -> Option<&mut V> {
        self.slot_mut(id)?.as_mut()
    }

    pub fn contains(&self, id: JobId) -> bool {
        self.get(id).is_some()
    }

    /// Sets `id`'s value; the one it had, if any, is returned.
    pub fn insert(&mut self, id: JobId, v: V) -> Option<V> {
        match self.search(id) {
            Ok(i) => {
                let old = self.slots.get_mut(i).and_then(|s| s.1.replace(v));
                self.live += usize::from(old.is_none());
                old
            }
            Err(i) => {
                // A newer id than every other (the usual case) is a push.
                self.slots.insert(i, (id, Some(v)));
                self.live += 1;
                None
            }
        }
    }

    /// `id`'s value, inserted with `make` first if it had none.
    pub fn get_or_insert_with(&mut self, id: JobId, make: impl FnOnce() -> V) -> &mut V {
        let i = self.search(id).unwrap_or_else(|i| {
            self.slots.insert(i, (id, None));
            i
        });
        let slot = &mut self.slots[i].1;
        self.live += usize::from(slot.is_none());
        slot.get_or_insert_with(make)
    }

    pub fn remove(&mut self, id: JobId) -> Option<V> {
        let v = self.slot_mut(id)?.take()?;
        self.live -= 1;
        if self.live * 2 < self.slots.len() {
            self.slots.retain(|s| s.1.is_some());
        }
        Some(v)
    }

    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    pub fn clear(&mut self) {
        self.slots.clear();
        self.live = 0;
    }

    /// Every value with its id, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = (JobId, &V)> {
        self.slots
            .iter()
            .filter_map(|(id, v)| Some((*id, v.as_ref()?)))
    }

    /// Every value with its id, oldest first, to change.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (JobId, &mut V)> {
        self.slots
            .iter_mut()
            .filter_map(|(id, v)| Some((*id, v.as_mut()?)))
    }

    /// Every value with its id, oldest first, taken out.
    pub fn into_entries(self) -> impl Iterator<Item = (JobId, V)> {
        self.slots.into_iter().filter_map(|(id, v)| Some((id, v?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_values_oldest_first_and_skips_removed_ones() {
        let mut m = IdMap::default();
        for i in 1..=5 {
            assert_eq!(m.insert(JobId(i), i * 10), None);
        }
        assert_eq!(m.remove(JobId(2)), Some(20));
        assert_eq!(m.remove(JobId(2)), None);
        assert_eq!(m.len(), 4);
        let ids: Vec<_> = m.iter().map(|(id, v)| (id.0, *v)).collect();
        assert_eq!(ids, [(1, 10), (3, 30), (4, 40), (5, 50)]);
        assert_eq!(m.get(JobId(4)), Some(&40));
        assert!(!m.contains(JobId(2)));
        assert!(!m.contains(JobId(9)));
    }

    #[test]
    fn removed_slots_are_compacted_so_the_vector_stays_near_the_live_count() {
        let mut m = IdMap::default();
        // A long-lived job and 10 000 short ones after it.
        m.insert(JobId(0), ());
        for i in 1..=10_000 {
            m.insert(JobId(i), ());
            m.remove(JobId(i));
            assert!(m.slots.len() <= 2 * m.len() + 1, "{} slots", m.slots.len());
        }
        assert_eq!(m.len(), 1);
        assert!(m.contains(JobId(0)));
    }

    #[test]
    fn an_older_id_goes_in_its_place() {
        let mut m = IdMap::default();
        m.insert(JobId(5), "e");
        m.insert(JobId(1), "a");
        *m.get_or_insert_with(JobId(3), || "c") = "C";
        assert_eq!(*m.get_or_insert_with(JobId(5), || "x"), "e");
        let ids: Vec<_> = m.iter().map(|(id, v)| (id.0, *v)).collect();
        assert_eq!(ids, [(1, "a"), (3, "C"), (5, "e")]);
        m.clear();
        assert!(m.is_empty());
        assert_eq!(m.iter().count(), 0);
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        /// Any sequence of inserts and removals leaves what a `BTreeMap`
        /// would hold, in the same order.
        #[test]
        fn behaves_as_an_ordered_map(ops in proptest::collection::vec((any::<bool>(), 0u32..64), 0..400)) {
            let mut m = IdMap::default();
            let mut model = BTreeMap::new();
            for (n, (insert, id)) in ops.into_iter().enumerate() {
                if insert {
                    prop_assert_eq!(m.insert(JobId(id), n), model.insert(id, n));
                } else {
                    prop_assert_eq!(m.remove(JobId(id)), model.remove(&id));
                }
                prop_assert_eq!(m.len(), model.len());
                prop_assert!(m.slots.len() <= 2 * m.len() + 1);
            }
            let got: Vec<_> = m.iter().map(|(id, v)| (id.0, *v)).collect();
            let want: Vec<_> = model.into_iter().collect();
            prop_assert_eq!(got, want);
        }
    }
}
