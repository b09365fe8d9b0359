//! The browser layer (wasm32 only). It decides nothing: the core's job table
//! and sharing roles do, and this layer executes their steps. It owns every
//! JS resource (the table holds none): each running job's request, stream,
//! lock and records sit in the manager's map by job id, dropped with it.
//!
//! - `api`: the JS API (`PollingManager`, `pollFileCompletion`, ...);
//!   `types`: its TypeScript declarations;
//! - `manager`: the executor: one [`Table`](crate::core::table::Table), one
//!   gloo-timers `Timeout` for all its jobs, and the loop that runs steps
//!   with no `RefCell` borrow held while JS runs; its work is spread over
//!   one file per concern, each an `impl Manager` block:
//!   - `steps`: executing a job's actions (a request, a stream, an update,
//!     progress, a retry);
//!   - `answers`: a response, a checker's answer or a stream event read into
//!     the job's input, and the records handed to the page;
//!   - `ending`: a job's end, told to each subscriber once;
//!   - `sharing`: executing `core::sharing::Roles` (lock requests and
//!     grants, the channel's messages out and in, locks held past an end);
//!   - `learning`: the stored histories and the learned schedule;
//!   - `reports`: statuses and metrics for the page;
//! - `subscriber`: who hears about a job (callbacks or a Promise) and the
//!   shapes they get;
//! - `boundary`: serde at the boundary: progress, errors, results and
//!   metrics out, records and stream messages read into views;
//! - `settings`: the manager's settings and a job's options read in, after
//!   `checks` vetted the page's objects (unknown keys, callbacks, getters
//!   that throw);
//! - `fetch`, `sse`, `page`: RAII handles for a request (`globalThis.fetch`,
//!   awaited with `JsFuture` in a `spawn_local` task), an `EventSource`, and
//!   the page listeners; dropping a handle cancels what it owns;
//! - `slots`: a place among the streams this browser's tabs hold to one
//!   host (a Web Lock each), which a stream takes before it opens;
//! - `tabs`: one poller per job across tabs (a Web Lock per job, a
//!   `BroadcastChannel` per manager), RAII handles too;
//! - `storage`: the learned histories in `localStorage`.

mod answers;
mod api;
mod boundary;
mod checks;
mod ending;
mod fetch;
mod learning;
mod manager;
mod page;
mod reports;
mod settings;
mod sharing;
mod slots;
mod sse;
mod steps;
mod storage;
mod subscriber;
mod tabs;
mod types;

pub use api::*;
pub use types::*;

/// The `BroadcastChannel` on which managers made with `options` share
/// their jobs across tabs. Not part of the package's JS API (nothing
/// exports it to JS): the browser tests post on it.
#[doc(hidden)]
pub fn tabs_channel(options: &wasm_bindgen::JsValue) -> Result<String, wasm_bindgen::JsValue> {
    settings::read_settings(options).map(|s| s.tabs_key())
}
