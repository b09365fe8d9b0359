//! smart-polling: watches long-running generation jobs from the browser.
//!
//! The crate is split in two:
//! - a pure, sans-IO core that decides everything and tests natively:
//!   [`schedule`] (progressive waits, backoff, jitter), [`retry_after`],
//!   [`classify`] (what a status means), [`record`] and [`stream`] (reading
//!   what the server sent), [`job`] (the state machine), [`config`],
//!   [`metrics`] and [`error`];
//! - `web` (wasm32 only), the thin browser layer that executes the job's
//!   actions with fetch, EventSource and timers and exposes `PollingManager`.

pub mod classify;
pub mod config;
pub mod error;
pub mod job;
pub mod metrics;
pub mod record;
pub mod retry_after;
pub mod schedule;
pub mod stream;

pub use config::{Config, Media, Options};
pub use error::PollError;
pub use job::{Action, Input, Job, Reply};
pub use metrics::{Channel, Metrics, Outcome, Progress};

#[cfg(target_arch = "wasm32")]
pub mod web;
