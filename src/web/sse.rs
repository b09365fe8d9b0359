//! The event stream, owned by an `EventStream` handle: dropping it detaches
//! the handlers and closes the connection.

use alloc::string::String;

use wasm_bindgen::prelude::*;
use web_sys::{EventSource, MessageEvent};

use super::manager::{Event, Wake};

pub enum SseEvent {
    Open,
    Message(String),
    Error,
}

pub struct EventStream {
    source: EventSource,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut()>,
}

impl EventStream {
    /// `None` when the browser refuses the url or has no EventSource.
    pub fn open(url: &str, wake: Wake) -> Option<Self> {
        let source = EventSource::new(url).ok()?;
        let (a, b, c) = (wake.clone(), wake.clone(), wake);
        let on_open = Closure::<dyn FnMut()>::new(move || a(Event::Stream(SseEvent::Open)));
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let data = e.data().as_string().unwrap_or_default();
            b(Event::Stream(SseEvent::Message(data)))
        });
        // EventSource would reconnect by itself; polling takes over instead.
        let on_error = Closure::<dyn FnMut()>::new(move || c(Event::Stream(SseEvent::Error)));
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Some(Self {
            source,
            _on_open: on_open,
            _on_message: on_message,
            _on_error: on_error,
        })
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.source.set_onopen(None);
        self.source.set_onmessage(None);
        self.source.set_onerror(None);
        self.source.close();
    }
}
