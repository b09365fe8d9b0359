//! Executing what the page learns: reading and merging the stored
//! histories of the manager's endpoints, planning the learned schedule
//! (`core::learn::Planned`), recording a completion.

use super::manager::Manager;

use super::storage;
use crate::core::config::{Config, Media};
use crate::core::history::Saved;
use crate::core::learn::completion_time;

impl Manager {
    /// An image or video job polls where this page's own jobs of that kind
    /// completed (`core::learn`), and estimates its time left from them.
    pub(super) fn learned_schedule(&self, slot: usize, cfg: &mut Config) {
        let learned = self.learned.borrow();
        let model = learned[slot].model(cfg.media);
        self.planned.borrow_mut().apply(slot, model, cfg);
    }

    /// The storage key of each slot's history: its url template's.
    pub(super) fn history_key(&self, slot: usize) -> String {
        storage::key(match slot {
            0 => &self.settings.file_url,
            _ => &self.settings.project_url,
        })
    }

    /// Reads the stored histories (what other tabs and managers of these
    /// urls learned), merged with this manager's own.
    pub(super) fn load_history(&self) {
        for slot in 0..2 {
            let stored = storage::load(&self.history_key(slot));
            let merged = stored.merge(&self.own_history(slot));
            self.learned.borrow_mut()[slot] = merged.learned();
            self.history.borrow_mut()[slot] = merged;
        }
        self.planned.borrow_mut().forget(0);
        self.planned.borrow_mut().forget(1);
    }

    /// This manager's history, checked as a stored one is: samples it took
    /// while the clock was ahead are not written back once it is right.
    fn own_history(&self, slot: usize) -> Saved {
        let mine = self.history.borrow()[slot].clone();
        mine.check(js_sys::Date::now()).unwrap_or_default()
    }

    /// Learns from a job this tab saw complete, and keeps it across reloads
    /// and tabs: read what is stored, add the sample, keep the newest.
    pub(super) fn learn(&self, slot: usize, media: Media, pending: Option<u64>, duration: u64) {
        let at = js_sys::Date::now();
        let mut mine = self.own_history(slot);
        if !mine.record(media, at, completion_time(pending, duration)) {
            return;
        }
        let key = self.history_key(slot);
        let merged = storage::load(&key).merge(&mine);
        storage::save(&key, &merged);
        self.learned.borrow_mut()[slot] = merged.learned();
        self.history.borrow_mut()[slot] = merged;
        self.planned.borrow_mut().forget(slot);
    }
}
