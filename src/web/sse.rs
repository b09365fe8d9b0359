//! The event stream, owned by an `EventStream` handle: dropping it detaches
//! the handler and closes the connection, and lets go of its place among
//! the tabs' streams (`slots`), or of the wait for one.

use std::cell::Cell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use wasm_bindgen::prelude::*;
use web_sys::{EventSource, EventSourceInit};

use super::boundary::field;
use super::slots::Slot;

pub enum SseEvent {
    Open,
    Message(String),
    Error,
    /// The connection dropped and the browser reconnects it by itself.
    Interrupted,
    /// Not opened: the tabs hold every place for streams to the host.
    Busy,
}

pub enum EventStream {
    /// Waiting for a place among the tabs' streams; `false` once dropped
    /// (a place granted then is let go of at once).
    Claiming(Rc<Cell<bool>>),
    Open {
        source: EventSource,
        _handler: Closure<dyn FnMut(JsValue)>,
        _slot: Option<Slot>,
    },
    /// The browser refused the url or has no `EventSource`: the job hears
    /// `Error` from a timer, outside the caller's stack.
    Refused(#[allow(dead_code)] Timeout),
}

impl EventStream {
    /// `url` `None` (no events url) is refused like a url the browser rejects.
    pub fn open(
        url: Option<&str>,
        credentials: bool,
        slot: Option<Slot>,
        on_event: impl Fn(SseEvent) + 'static,
    ) -> Self {
        let init = EventSourceInit::new();
        init.set_with_credentials(credentials);
        let open = |url| EventSource::new_with_event_source_init_dict(url, &init);
        let Some(Ok(source)) = url.map(open) else {
            return Self::Refused(Timeout::new(0, move || on_event(SseEvent::Error)));
        };
        let on_event = std::rc::Rc::new(on_event);
        let hears = on_event.clone();
        // One handler for the three events, told apart by `type` (not by
        // class: EventSource polyfills send their own event objects).
        let handler = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let ev = match field(&e, "type").as_string().as_deref() {
                Some("message") => {
                    SseEvent::Message(field(&e, "data").as_string().unwrap_or_default())
                }
                Some("open") => SseEvent::Open,
                // `readyState` 0 (CONNECTING): the browser reconnects by
                // itself (after the server's `retry:`, with `Last-Event-ID`);
                // 2 (CLOSED), or a stand-in that does not say: failed.
                _ if field(&field(&e, "target"), "readyState").as_f64() == Some(0.0) => {
                    SseEvent::Interrupted
                }
                _ => SseEvent::Error,
            };
            hears(ev);
        });
        // Set with caught writes: a stand-in (a test's fake, frozen, or with
        // setters that throw) must not throw through the module. One it
        // refuses is a stream refused.
        if !handlers(&source, handler.as_ref()) {
            handlers(&source, &JsValue::NULL);
            close(&source);
            return Self::Refused(Timeout::new(0, move || on_event(SseEvent::Error)));
        }
        Self::Open {
            source,
            _handler: handler,
            _slot: slot,
        }
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        match self {
            Self::Open { source, .. } => {
                handlers(source, &JsValue::NULL);
                close(source);
            }
            Self::Claiming(wanted) => wanted.set(false),
            Self::Refused(_) => {}
        }
    }
}

/// Sets the three handlers to `f` (or `null`), each write caught, every one
/// tried; false if one failed.
fn handlers(source: &EventSource, f: &JsValue) -> bool {
    let set = |k: &str| js_sys::Reflect::set(source, &JsValue::from_str(k), f).unwrap_or(false);
    [set("onopen"), set("onmessage"), set("onerror")] == [true; 3]
}

/// Closes the stream, called as a page's function, caught: a stand-in (a
/// test's fake) may have no `close`, and a throw here would unwind through
/// the manager's loop.
fn close(source: &EventSource) {
    let close = field(source, "close");
    if let Some(close) = close.dyn_ref::<js_sys::Function>() {
        let _ = close.call0(source);
    }
}
