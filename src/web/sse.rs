//! The event stream, owned by an `EventStream` handle: dropping it detaches
//! the handler and closes the connection.

use alloc::string::String;

use wasm_bindgen::prelude::*;
use web_sys::{EventSource, MessageEvent};

use super::js::now;
use super::manager::{Event, Wake};
use super::timer::{self, Timer};

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
    /// The browser refused the url or has no EventSource: the job hears
    /// `Error` from a timer, outside the caller's stack.
    Refused(#[allow(dead_code)] Timer),
}

impl EventStream {
    pub fn open(url: &str, wake: Wake) -> Self {
        let Ok(source) = EventSource::new(url) else {
            return Self::Refused(timer::arm(now(), wake, Event::Stream(SseEvent::Error)));
        };
        // One handler for the three events; only a message carries data.
        let handler = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let ev = match e.dyn_ref::<MessageEvent>() {
                Some(m) => SseEvent::Message(m.data().as_string().unwrap_or_default()),
                None if source_open(&e) => SseEvent::Open,
                // EventSource would reconnect by itself; polling takes over.
                None => SseEvent::Error,
            };
            wake(Event::Stream(ev));
        });
        let f = handler.as_ref().unchecked_ref();
        source.set_onopen(Some(f));
        source.set_onmessage(Some(f));
        source.set_onerror(Some(f));
        Self::Open {
            source,
            _handler: handler,
        }
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = Event)]
    type PlainEvent;
    #[wasm_bindgen(method, getter, js_name = type)]
    fn kind(this: &PlainEvent) -> String;
}

fn source_open(e: &JsValue) -> bool {
    e.unchecked_ref::<PlainEvent>().kind() == "open"
}

impl Drop for EventStream {
    fn drop(&mut self) {
        if let Self::Open { source, .. } = self {
            source.set_onopen(None);
            source.set_onmessage(None);
            source.set_onerror(None);
            source.close();
        }
    }
}
