//! smart-polling: watches long-running generation jobs from the browser.
//!
//! Two layers, one folder each:
//! - [`core`]: the pure, sans-IO core that decides everything and tests
//!   natively with a fake clock (schedule, classification, records, the job
//!   state machine, the job table);
//! - `web` (wasm32 only): the thin browser layer that executes the core's
//!   actions with `fetch`, `EventSource` and gloo-timers, and exposes
//!   `PollingManager` to JavaScript.

pub mod core;

pub use self::core::config::{Config, Media, Options};
pub use self::core::error::PollError;
pub use self::core::job::{Action, Input, Job, Reply};
pub use self::core::metrics::{Channel, Metrics, Outcome, Progress};

#[cfg(target_arch = "wasm32")]
pub mod web;
