//! The sans-IO core: everything that decides, nothing that does. It holds no
//! web types and builds natively, so `cargo test` covers it with a fake clock.
//!
//! - [`schedule`]: progressive waits, exponential backoff, seeded jitter;
//! - [`retry_after`]: the `Retry-After` header (seconds or HTTP date);
//! - [`classify`]: what an HTTP status means for a job;
//! - [`check`]: what a page's checker said, as a job's input;
//! - [`clock`]: the jobs' clock, monotonic, moved on by timers that fire
//!   while `performance.now()` stands still (fake timers);
//! - [`record`], [`stream`]: reading file/project records and stream messages;
//! - [`job`]: one job's state machine (inputs at a time `now`, actions out);
//! - [`job_id`], [`id_map`]: a job's identity in a table, and what is kept
//!   per job, in id order;
//! - [`sharing`]: jobs shared across tabs: what messages say and mean, and
//!   who leads each job (claims, grants, a leader's lock held past an end);
//! - [`gate`]: what the jobs to one origin share (cooldown, probe, retry
//!   budget, cap on requests out);
//! - [`table`]: the manager's job table (deduplication, joining,
//!   generations, the stream cap, one timer for every job, metrics);
//! - [`config`], [`metrics`], [`error`]: options, progress and metrics, the
//!   one error enum; these are also the serde types of the JS boundary;
//! - [`suggest`]: the known name nearest to a misspelt one;
//! - [`template`]: url templates (`{id}`), searched and filled as bytes;
//! - [`nesting`]: how deep a JSON text nests, before it is parsed;
//! - [`learn`], [`lognormal`], [`history`]: the schedule learned from
//!   completion times, the distribution it fits, and those times as tabs and
//!   managers keep and merge them.

pub mod check;
pub mod classify;
pub mod clock;
pub mod config;
pub mod error;
pub mod fifo;
pub mod gate;
pub mod history;
pub mod id_map;
pub mod job;
pub mod job_id;
pub mod learn;
pub mod lognormal;
pub mod media_match;
pub mod metrics;
pub mod nesting;
pub mod record;
pub mod retry_after;
pub mod schedule;
pub mod sharing;
pub mod stream;
pub mod suggest;
pub mod table;
pub mod template;
