//! One poller per generation across the tabs of a browser profile. Each job
//! asks for a Web Lock named after the manager's urls and the job's id: the
//! tab that holds it leads (polls, holds the stream) and broadcasts every
//! state on a `BroadcastChannel`; the others follow. A closed tab releases
//! its locks, so a follower's queued request is granted and it takes over.
//!
//! Both handles here are RAII: dropping a `Leadership` releases its lock, or
//! withdraws its request still queued; dropping `Tabs` closes the channel.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use js_sys::{Array, Function, Promise};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, BroadcastChannel};

use crate::core::config::Lenient;
use crate::core::metrics::Channel;
use crate::core::sharing::{Said, VERSION};
use crate::core::table::Kind;

use super::boundary::{field, view};

#[wasm_bindgen]
extern "C" {
    /// A promise, for `then` with a plain function (js-sys's takes
    /// closures that the caller must keep).
    type Thenable;
    #[wasm_bindgen(method, js_name = then)]
    fn then_with(this: &Thenable, on_fulfilled: &JsValue, on_rejected: &JsValue) -> JsValue;
}

/// `navigator.locks`, where the platform has it and `BroadcastChannel`.
fn lock_manager() -> Option<JsValue> {
    let global: JsValue = js_sys::global().into();
    if !field(&global, "BroadcastChannel").is_function() {
        return None;
    }
    let locks = field(&field(&global, "navigator"), "locks");
    field(&locks, "request").is_function().then_some(locks)
}

/// The manager's channel to its peers in other tabs.
pub struct Tabs {
    /// Closed while the page is away (see `close_channel`).
    channel: RefCell<Option<BroadcastChannel>>,
    name: String,
    handler: Closure<dyn FnMut(JsValue)>,
    /// The lock callback of every job (the lock's name says which), so a
    /// shared job costs no closure of its own.
    granted: Closure<dyn FnMut(JsValue) -> Promise>,
    /// Locks to let go of, a batch per task.
    releases: Rc<Releases>,
    /// The browser rejected a lock request as not allowed here (a
    /// sandboxed iframe's `SecurityError`): no more are asked for.
    refused: Rc<Cell<bool>>,
    /// Hears that refusal, once (see `Leadership::request`).
    on_refused: Rc<dyn Fn()>,
}

impl Tabs {
    /// `None` where Web Locks or BroadcastChannel are missing (then each
    /// tab polls on its own).
    /// `on_grant(lock name, release)` hears that this tab holds a lock; the
    /// lock is held until `release` is called.
    pub fn open(
        name: String,
        on_message: impl Fn(JsValue) + 'static,
        on_grant: impl Fn(String, Function) + 'static,
        on_refused: impl Fn() + 'static,
    ) -> Option<Self> {
        lock_manager()?;
        let handler =
            Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| on_message(field(&e, "data")));
        let channel = listen(&name, &handler)?;
        let granted = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |lock: JsValue| {
            let mut release = None;
            let held = Promise::new(&mut |resolve, _| release = Some(resolve));
            match (field(&lock, "name").as_string(), release) {
                (Some(name), Some(release)) => {
                    on_grant(name, release);
                    held
                }
                _ => Promise::resolve(&JsValue::UNDEFINED),
            }
        });
        Some(Self {
            channel: RefCell::new(Some(channel)),
            name,
            handler,
            granted,
            refused: Rc::default(),
            on_refused: Rc::new(on_refused),
            releases: Rc::default(),
        })
    }

    pub fn post(&self, message: &JsValue) {
        // A message that cannot be cloned is dropped: sharing is best effort.
        if let Some(channel) = &*self.channel.borrow() {
            let _ = channel.post_message(message);
        }
    }

    /// The page goes into the back/forward cache, is frozen or unloads:
    /// its channel closes (a message to a cached page makes the browser
    /// evict it), and nothing is said or heard until `reopen_channel`.
    pub fn close_channel(&self) {
        if let Some(channel) = self.channel.borrow_mut().take() {
            close(&channel);
        }
    }

    /// The page is back: it listens again (its jobs' hellos catch up).
    pub fn reopen_channel(&self) {
        let mut channel = self.channel.borrow_mut();
        if channel.is_none() {
            *channel = listen(&self.name, &self.handler);
        }
    }

    /// The lock a job's leader holds.
    pub fn lock_name(&self, kind: Kind, id: &str) -> String {
        [&self.name, "/", kind_name(kind), "/", id].concat()
    }

    /// The job a lock of `lock_name` is for.
    pub fn job_of<'a>(&self, lock: &'a str) -> Option<(Kind, &'a str)> {
        let (kind, id) = lock
            .strip_prefix(self.name.as_str())?
            .strip_prefix('/')?
            .split_once('/')?;
        Some((kind_from_name(kind)?, id))
    }
}

impl Drop for Tabs {
    fn drop(&mut self) {
        self.close_channel();
    }
}

/// Opens the channel `name`, `handler` hearing its messages.
fn listen(name: &str, handler: &Closure<dyn FnMut(JsValue)>) -> Option<BroadcastChannel> {
    let channel = BroadcastChannel::new(name).ok()?;
    channel.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    // Node's channel (where Node has Web Locks too) keeps the process
    // alive while it is open: a test that never frees its manager would
    // never exit. Running jobs keep it alive by their timers; an idle
    // channel must not. Browsers have no `unref`.
    if let Some(unref) = field(&channel, "unref").dyn_ref::<Function>() {
        let _ = unref.call0(&channel);
    }
    Some(channel)
}

fn close(channel: &BroadcastChannel) {
    channel.set_onmessage(None);
    channel.close();
}

/// The kind of a shared job from its name (checkers are never shared).
pub fn kind_from_name(name: &str) -> Option<Kind> {
    match name {
        "file" => Some(Kind::File),
        "project" => Some(Kind::Project),
        _ => None,
    }
}

pub fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::File => "file",
        Kind::Project => "project",
        Kind::Check => "check",
    }
}

/// A job's claim to lead: queued until granted, then held until dropped.
/// Dropped (or `withdraw`n) while queued, its request leaves the lock's
/// queue: a following tab that starts and stops a job again and again
/// leaves nothing queued behind.
pub struct Leadership {
    /// Resolves the promise the lock is held by: calling it releases.
    release: Option<Function>,
    releases: Rc<Releases>,
    /// Aborts the request while it is queued.
    queued: Option<AbortController>,
}

impl Leadership {
    /// Asks for the lock; `Tabs`' `on_grant` hears when this tab leads.
    pub fn request(tabs: &Tabs, name: &str) -> Option<Self> {
        if tabs.refused.get() {
            return None;
        }
        let locks = lock_manager()?;
        let request = field(&locks, "request").dyn_into::<Function>().ok()?;
        let options = js_sys::Object::new();
        let queued = AbortController::new().ok();
        if let Some(queued) = &queued {
            let _ = js_sys::Reflect::set(&options, &"signal".into(), &queued.signal());
        }
        let asked = request
            .call3(&locks, &name.into(), &options, tabs.granted.as_ref())
            .ok()?;
        // Settles when the lock is let go of, or rejects: withdrawn
        // (`AbortError`), the callback threw (the manager is gone), or not
        // allowed here at all (`SecurityError`: a sandboxed iframe, whose
        // lock manager rejects every request later). One handler for both
        // ways, owned by the promise (it runs once, after the manager may
        // be gone: the manager's side holds it weakly).
        let (refused, on_refused) = (tabs.refused.clone(), tabs.on_refused.clone());
        let settled = Closure::once_into_js(move |v: JsValue| {
            let security = field(&v, "name").as_string().as_deref() == Some("SecurityError");
            if security && !refused.replace(true) {
                on_refused();
            }
        });
        Promise::resolve(&asked)
            .unchecked_ref::<Thenable>()
            .then_with(&settled, &settled);
        Some(Self {
            release: None,
            releases: tabs.releases.clone(),
            queued,
        })
    }

    /// A lock granted already (to an earlier claim of the same name).
    pub fn held(tabs: &Tabs, release: Function) -> Self {
        Self {
            release: Some(release),
            releases: tabs.releases.clone(),
            queued: None,
        }
    }

    /// Whether the lock was granted (it is held).
    pub fn granted(&self) -> bool {
        self.release.is_some()
    }

    /// The signal of its own request, to withdraw it if it is still queued
    /// (the page goes away: a lock granted to a page that runs no code
    /// stalls the other tabs). Aborting a request granted already changes
    /// nothing, and the lock this claim holds may be another request's (an
    /// earlier claim's, granted late): its own may still be queued.
    pub fn take_request(&mut self) -> Option<AbortController> {
        self.queued.take()
    }

    /// Takes a granted lock; `false` if this claim already holds one.
    pub fn grant(&mut self, release: Function) -> bool {
        if self.release.is_some() {
            return false;
        }
        self.release = Some(release);
        true
    }
}

impl Drop for Leadership {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            Releases::push(&self.releases, release);
        }
        if let Some(request) = self.queued.take() {
            request.abort();
        }
    }
}

/// Letting go of a Web Lock costs the page more than a stop of the job
/// itself (the lock manager's bookkeeping runs on the main thread), so a
/// stop of thousands of shared jobs lets go of a batch of locks at once and
/// of the rest a batch per task, oldest first, instead of freezing the page.
/// Another tab takes over a few milliseconds later; no lock is kept.
#[derive(Default)]
pub struct Releases {
    /// The releases waiting, oldest first: a JS array (one generic queue
    /// less in the module; the `Function`s live on the JS side anyway).
    queue: Array,
    /// Let go of in this task so far; the timer starts a new count.
    spent: Cell<usize>,
    timer: RefCell<Option<Timeout>>,
}

/// Locks let go of per task.
const RELEASES_PER_TASK: usize = 256;

impl Releases {
    fn push(me: &Rc<Self>, release: Function) {
        if me.spent.get() < RELEASES_PER_TASK && me.queue.length() == 0 {
            me.spent.set(me.spent.get() + 1);
            let _ = release.call0(&JsValue::UNDEFINED);
        } else {
            me.queue.push(&release);
        }
        Releases::arm(me);
    }

    /// The next task starts a new count, and lets go of the next batch.
    fn arm(me: &Rc<Self>) {
        if me.timer.borrow().is_none() {
            // Holds `me` until the queue is drained, even if the manager goes.
            let held = me.clone();
            let timer = Timeout::new(0, move || Releases::drain(&held));
            *me.timer.borrow_mut() = Some(timer);
        }
    }

    fn drain(me: &Rc<Self>) {
        let fired = me.timer.borrow_mut().take();
        // Taken out before any is called: a release may re-enter.
        let batch = me.queue.splice_many(0, RELEASES_PER_TASK as u32, &[]);
        me.spent.set(batch.length() as usize);
        for release in batch.iter() {
            let _ = release
                .unchecked_into::<Function>()
                .call0(&JsValue::UNDEFINED);
        }
        if me.queue.length() > 0 || me.spent.get() > 0 {
            Releases::arm(me);
        }
        drop(fired);
    }
}

/// A message between tabs, as sent.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outgoing<'a> {
    pub v: u32,
    #[serde(rename = "type")]
    pub kind_of_message: &'static str,
    pub kind: &'static str,
    pub id: &'a str,
    pub attempt: u32,
    pub elapsed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_poll_in: Option<u64>,
    pub channel: Channel,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<u8>,
    pub position: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<u64>,
    #[serde(
        with = "serde_wasm_bindgen::preserve",
        skip_serializing_if = "JsValue::is_undefined"
    )]
    pub record: JsValue,
    /// For `end`: "complete" or the error's kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<&'a str>,
    /// For `state`: the leader's transient errors in a row, and the last.
    #[serde(skip_serializing_if = "is_zero")]
    pub errors: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<u16>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl<'a> Outgoing<'a> {
    pub fn new(kind: &'static str, id: &'a str, said: &Said<'a>, record: JsValue) -> Self {
        Outgoing {
            v: VERSION,
            kind_of_message: said.what,
            kind,
            id,
            attempt: said.attempt,
            elapsed: said.elapsed,
            next_poll_in: said.next_poll_in,
            channel: said.channel,
            progress: said.progress,
            position: said.position,
            fingerprint: said.fingerprint,
            record,
            result: said.result,
            url: said.url,
            errors: said.errors,
            error: said.error,
        }
    }
}

/// A message between tabs, as received: every field read leniently, and
/// trusted only after the checks in the manager.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Incoming {
    pub v: Option<Lenient<u32>>,
    #[serde(rename = "type")]
    pub kind_of_message: Option<Lenient<String>>,
    pub kind: Option<Lenient<String>>,
    pub id: Option<Lenient<String>>,
    pub attempt: Option<Lenient<u32>>,
    pub elapsed: Option<Lenient<u64>>,
    pub next_poll_in: Option<Lenient<u64>>,
    pub channel: Option<Lenient<String>>,
    pub progress: Option<Lenient<u8>>,
    pub position: Option<Lenient<u32>>,
    pub fingerprint: Option<Lenient<u64>>,
    #[serde(with = "serde_wasm_bindgen::preserve")]
    pub record: JsValue,
    pub result: Option<Lenient<String>>,
    pub url: Option<Lenient<String>>,
    pub errors: Option<Lenient<u32>>,
    pub error: Option<Lenient<u16>>,
}

/// A message from another tab, read leniently (checked by the manager).
pub fn read_message(v: &JsValue) -> Option<Incoming> {
    view(v)
}
