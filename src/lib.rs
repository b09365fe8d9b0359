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

// The release .wasm links no std (see Cargo.toml); native builds and the
// browser tests (feature "std") do.
#![cfg_attr(all(target_arch = "wasm32", not(feature = "std")), no_std)]

extern crate alloc;

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

/// Without std the wasm needs its own allocator and panic handler: a panic
/// aborts (traps) without formatting anything.
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
mod runtime {
    use lol_alloc::{AssumeSingleThreaded, FreeListAllocator};

    // SAFETY: wasm32-unknown-unknown without atomics runs on one thread.
    #[global_allocator]
    static ALLOCATOR: AssumeSingleThreaded<FreeListAllocator> =
        unsafe { AssumeSingleThreaded::new(FreeListAllocator::new()) };

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo) -> ! {
        core::arch::wasm32::unreachable()
    }
}
