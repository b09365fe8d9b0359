//! A first-in, first-out queue that ships small.
//!
//! The core keeps several queues (jobs parked behind an origin's cap, claims
//! and grants between tabs, the table's actions). `VecDeque<T>` would do, but
//! its ring buffer is compiled again for every element type, about 1.7 KB
//! of `.wasm` each (BENCHMARKS.md, "Size (issue 20)"). This one is a `Vec`
//! and the index of its front, whose growth code `Vec` shares between
//! types: the taken slots are `None` until the queue empties (then it
//! starts again at slot 0) or they outnumber the waiting ones (then they
//! are cut off), so every operation is amortized O(1) and the slots kept
//! number at most twice the items waiting, or those plus 32.

/// A first-in, first-out queue; see the module's text.
#[derive(Clone)]
pub struct Fifo<T> {
    slots: Vec<Option<T>>,
    /// The first slot still waiting.
    head: usize,
}

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Taken slots cut off at most once per this many pushes (and only when
/// they outnumber the waiting ones).
const CUT_AT: usize = 32;

impl<T> Fifo<T> {
    pub const fn new() -> Self {
        Self {
            slots: Vec::new(),
            head: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.slots.len() - self.head
    }

    pub fn is_empty(&self) -> bool {
        self.head == self.slots.len()
    }

    pub fn push_back(&mut self, item: T) {
        if self.head >= CUT_AT && self.head * 2 >= self.slots.len() {
            self.slots = self.slots.split_off(self.head);
            self.head = 0;
        }
        self.slots.push(Some(item));
    }

    pub fn pop_front(&mut self) -> Option<T> {
        let item = self.slots.get_mut(self.head)?.take();
        self.head += 1;
        if self.is_empty() {
            self.clear();
        }
        item
    }

    pub fn front(&self) -> Option<&T> {
        self.slots.get(self.head)?.as_ref()
    }

    pub fn clear(&mut self) {
        self.slots.clear();
        self.head = 0;
    }

    /// The items waiting, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.slots[self.head..].iter().flatten()
    }

    /// Every item, oldest first; the queue is left empty (and free to take
    /// new items while the old ones are gone through).
    pub fn take_all(&mut self) -> TakeAll<T> {
        let head = std::mem::take(&mut self.head);
        std::mem::take(&mut self.slots)
            .into_iter()
            .skip(head)
            .flatten()
    }
}

/// What [`Fifo::take_all`] hands over.
pub type TakeAll<T> = std::iter::Flatten<std::iter::Skip<std::vec::IntoIter<Option<T>>>>;

impl<T: std::fmt::Debug> std::fmt::Debug for Fifo<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.slots[self.head..].iter().flatten())
            .finish()
    }
}

impl<T> Extend<T> for Fifo<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, items: I) {
        for item in items {
            self.push_back(item);
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    #[derive(Debug, Clone)]
    enum Op {
        Push(u32),
        Pop,
        Clear,
        TakeAll,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => any::<u32>().prop_map(Op::Push),
            5 => Just(Op::Pop),
            1 => Just(Op::Clear),
            1 => Just(Op::TakeAll),
        ]
    }

    proptest! {
        /// Whatever the sequence, it answers as `VecDeque` does.
        #[test]
        fn answers_as_a_vecdeque(ops in proptest::collection::vec(op(), 0..400)) {
            let (mut fifo, mut model) = (Fifo::new(), VecDeque::new());
            for op in ops {
                match op {
                    Op::Push(v) => {
                        fifo.push_back(v);
                        model.push_back(v);
                    }
                    Op::Pop => prop_assert_eq!(fifo.pop_front(), model.pop_front()),
                    Op::Clear => {
                        fifo.clear();
                        model.clear();
                    }
                    Op::TakeAll => {
                        let got: Vec<u32> = fifo.take_all().collect();
                        let want: Vec<u32> = model.drain(..).collect();
                        prop_assert_eq!(got, want);
                    }
                }
                prop_assert_eq!(fifo.len(), model.len());
                prop_assert_eq!(fifo.is_empty(), model.is_empty());
                prop_assert_eq!(fifo.front(), model.front());
            }
        }
    }

    #[test]
    fn a_queue_that_never_empties_stays_small() {
        // Ten waiting at any time, a million through: the taken slots are
        // cut off, not kept.
        let mut fifo = Fifo::new();
        fifo.extend(0..10u32);
        for i in 10..1_000_000u32 {
            fifo.push_back(i);
            assert_eq!(fifo.pop_front(), Some(i - 10));
            assert!(fifo.slots.len() <= 2 * CUT_AT + 10, "{}", fifo.slots.len());
        }
        assert_eq!(fifo.len(), 10);
    }

    #[test]
    fn a_long_queue_keeps_at_most_twice_its_length() {
        let mut fifo = Fifo::new();
        fifo.extend(0..10_000u32);
        for i in 0..5_000u32 {
            assert_eq!(fifo.pop_front(), Some(i));
        }
        fifo.push_back(10_000);
        assert!(fifo.slots.len() <= 2 * fifo.len(), "{}", fifo.slots.len());
        assert_eq!(
            fifo.take_all().collect::<Vec<_>>(),
            (5_000..=10_000).collect::<Vec<_>>()
        );
        assert!(fifo.is_empty());
    }
}
