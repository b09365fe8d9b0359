//! The browser layer (wasm32 only). It decides nothing: the core's job table
//! does, and this layer executes its steps.
//!
//! - `api`: the JS API (`PollingManager`, `pollFileCompletion`, ...) and its
//!   TypeScript types;
//! - `manager`: the executor: one [`Table`](crate::core::table::Table), one
//!   gloo-timers `Timeout` for all its jobs, and the loop that runs steps
//!   with no `RefCell` borrow held while JS runs;
//! - `boundary`: serde at the boundary: options in (unknown keys refused),
//!   progress, errors, results and metrics out, records read into views;
//! - `fetch`, `sse`, `page`: RAII handles for a request (`fetch` via web-sys,
//!   awaited with `JsFuture` in a `spawn_local` task), an `EventSource`, and
//!   the page listeners; dropping a handle cancels what it owns;
//! - `tabs`: one poller per job across tabs (a Web Lock per job, a
//!   `BroadcastChannel` per manager), RAII handles too.

mod api;
mod boundary;
mod fetch;
mod manager;
mod page;
mod sse;
mod storage;
mod tabs;

pub use api::*;
