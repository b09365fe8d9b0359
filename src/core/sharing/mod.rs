//! Sharing jobs across the tabs of a browser profile, as decisions. One tab
//! leads each shared job (it holds the job's lock, polls, and tells the
//! others); the rest follow and mirror what it says; when the leader's tab
//! closes, a follower's lock request is granted and it takes over.
//!
//! - [`words`]: what a message says (the leader's [`Said`]) and what a
//!   message from another tab means for a job here ([`heard`]), and which
//!   ends cross tabs;
//! - [`roles`]: who leads each shared job in this tab ([`Roles`]): claims
//!   asked a turn's worth at a time, grants taken half a turn's worth at a
//!   time, a leader's lock held a moment after the job's end, and when this
//!   tab speaks.
//!
//! The browser layer owns the lock requests, the channel and the records,
//! and executes what these say. Nothing here trusts another tab.

pub mod roles;
pub mod words;

pub use roles::{Do, End, Roles};

/// A job's lock name as a key for [`Roles::start`]: its kind and id (the
/// rest of the name is the manager's, the same for all its jobs).
pub fn lock_key(kind: crate::core::table::Kind, id: &str) -> Box<str> {
    let kind = match kind {
        crate::core::table::Kind::File => "file/",
        crate::core::table::Kind::Project => "project/",
        crate::core::table::Kind::Check => "check/",
    };
    [kind, id].concat().into_boxed_str()
}
pub use words::{
    heard, same_version, shared_error, shared_kind, Heard, Said, Words, END_GRACE_MS, VERSION,
};
