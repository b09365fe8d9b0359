//! One poller per generation across the tabs of a browser profile. Each job
//! asks for a Web Lock named after the manager's urls and the job's id: the
//! tab that holds it leads (polls, holds the stream) and broadcasts every
//! state on a `BroadcastChannel`; the others follow. A closed tab releases
//! its locks, so a follower's queued request is granted and it takes over.
//!
//! Both handles here are RAII: dropping a `Leadership` releases the lock or
//! withdraws the queued request; dropping `Tabs` closes the channel.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{AbortController, BroadcastChannel};

use crate::core::config::Lenient;
use crate::core::metrics::Channel;
use crate::core::table::Kind;

/// Messages of another version are ignored.
pub const VERSION: u32 = 1;

fn field(v: &JsValue, key: &str) -> JsValue {
    if v.is_object() {
        Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
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
    channel: BroadcastChannel,
    name: String,
    _handler: Closure<dyn FnMut(JsValue)>,
}

impl Tabs {
    /// `None` where Web Locks or BroadcastChannel are missing (then each
    /// tab polls on its own).
    pub fn open(name: String, on_message: impl Fn(JsValue) + 'static) -> Option<Self> {
        lock_manager()?;
        let channel = BroadcastChannel::new(&name).ok()?;
        let handler =
            Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| on_message(field(&e, "data")));
        channel.set_onmessage(Some(handler.as_ref().unchecked_ref()));
        Some(Self {
            channel,
            name,
            _handler: handler,
        })
    }

    pub fn post(&self, message: &JsValue) {
        // A message that cannot be cloned is dropped: sharing is best effort.
        let _ = self.channel.post_message(message);
    }

    /// The lock a job's leader holds.
    pub fn lock_name(&self, kind: Kind, id: &str) -> String {
        [&self.name, "/", kind_name(kind), "/", id].concat()
    }
}

impl Drop for Tabs {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
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
pub struct Leadership {
    abort: Option<AbortController>,
    /// Resolves the promise the lock is held by: calling it releases.
    release: Rc<RefCell<Option<Function>>>,
    _granted: Closure<dyn FnMut(JsValue) -> Promise>,
}

impl Leadership {
    /// Asks for the lock; `on_grant` runs (from the lock manager's task)
    /// when this tab leads.
    pub fn request(name: &str, on_grant: impl FnOnce() + 'static) -> Option<Self> {
        let locks = lock_manager()?;
        let request = field(&locks, "request").dyn_into::<Function>().ok()?;
        let abort = AbortController::new().ok();
        let options = Object::new();
        if let Some(a) = &abort {
            let _ = Reflect::set(&options, &"signal".into(), &a.signal());
        }
        let release = Rc::new(RefCell::new(None));
        let slot = release.clone();
        let mut on_grant = Some(on_grant);
        let granted = Closure::<dyn FnMut(JsValue) -> Promise>::new(move |_lock: JsValue| {
            let held = Promise::new(&mut |resolve, _| *slot.borrow_mut() = Some(resolve));
            if let Some(f) = on_grant.take() {
                f();
            }
            held
        });
        let asked = request
            .call3(&locks, &name.into(), &options, granted.as_ref())
            .ok()?;
        // Settles on release, or rejects when the queued request is
        // withdrawn: either way nothing is left to do.
        spawn_local(async move {
            let _ = JsFuture::from(Promise::resolve(&asked)).await;
        });
        Some(Self {
            abort,
            release,
            _granted: granted,
        })
    }

    pub fn is_leader(&self) -> bool {
        self.release.borrow().is_some()
    }
}

impl Drop for Leadership {
    fn drop(&mut self) {
        let release = self.release.borrow_mut().take();
        match release {
            Some(release) => {
                let _ = release.call0(&JsValue::UNDEFINED);
            }
            None => {
                if let Some(a) = &self.abort {
                    a.abort();
                }
            }
        }
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
}
