//! The identity of a job in a table: what every event, step and handle
//! of the browser layer carries.

/// A job's identity for its whole life; never reused within a table, so a
/// late event never reaches a newer job of the same id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub(crate) u32);
