//! The event stream, owned by an `EventStream` handle: dropping it detaches
//! the handler and closes the connection.

use gloo_timers::callback::Timeout;
use wasm_bindgen::prelude::*;
use web_sys::{EventSource, EventSourceInit};

use super::boundary::field;

pub enum SseEvent {
    Open,
    Message(String),
    Error,
}

pub enum EventStream {
    Open {
        source: EventSource,
        _handler: Closure<dyn FnMut(JsValue)>,
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
                // EventSource would reconnect by itself; polling takes over.
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
        }
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        if let Self::Open { source, .. } = self {
            handlers(source, &JsValue::NULL);
            close(source);
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
