//! The table's own accounts, as the tests check them against its jobs.

use super::*;

impl<S: Clone> Table<S> {
    /// Whether every origin's gate counts the requests out and the stream
    /// slots its jobs hold, no more and no less (tests): the disagreeing
    /// origin and both counts, if one does not.
    #[doc(hidden)]
    pub fn gate_counts_disagree(&self) -> Option<String> {
        let held = |o: &str| {
            let of = |f: fn(&Entry<S>) -> bool| {
                self.entries
                    .iter()
                    .filter(|(_, e)| &*e.origin == o && f(e))
                    .count() as u32
            };
            (of(|e| e.request_slot), of(|e| e.stream_slot))
        };
        self.entries.iter().find_map(|(_, e)| {
            let (counted, held) = (self.gates.counts(&e.origin), held(&e.origin));
            (counted != held).then(|| format!("{}: counted {counted:?}, held {held:?}", e.origin))
        })
    }
}
