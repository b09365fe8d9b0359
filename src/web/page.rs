//! Page-level signals that make a waiting job worth checking at once: the tab
//! becoming visible again (background tabs throttle timers to about once a
//! minute) and the browser coming back online. Each listener is owned by a
//! handle whose `Drop` removes it.

use std::rc::Rc;

use wasm_bindgen::prelude::*;
use web_sys::EventTarget;

use super::boundary::field;

pub struct Listener {
    target: EventTarget,
    kind: &'static str,
    callback: Closure<dyn FnMut(JsValue)>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.callback.as_ref().unchecked_ref());
    }
}

/// Whether the page is hidden (a background tab; never in a worker).
pub fn hidden() -> bool {
    let document = field(&js_sys::global().into(), "document");
    document.is_object()
        && field(&document, "visibilityState").as_string().as_deref() == Some("hidden")
}

/// Whether the browser says it is online (`navigator.onLine`; true where
/// there is no such flag, as in Node).
pub fn online() -> bool {
    let navigator = field(&js_sys::global().into(), "navigator");
    field(&navigator, "onLine") != JsValue::FALSE
}

/// Whether there is an `EventSource` to open (none in Node, jsdom or
/// happy-dom; a polyfill installed later counts from then on).
pub fn can_stream() -> bool {
    field(&js_sys::global().into(), "EventSource").is_function()
}

/// What a page event says.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Online,
    Offline,
    /// The tab became visible again.
    Visible,
}

/// Calls `on` when the browser goes offline or comes back online, and when
/// the page becomes visible.
pub fn watch(on: Rc<dyn Fn(Signal)>) -> Vec<Listener> {
    // `window` in a page, `self` in a worker (which has no `document`).
    let global: JsValue = js_sys::global().into();
    let document = field(&global, "document");
    let mut listeners = Vec::new();
    for (target, kind) in [
        (global.clone(), "online"),
        (global, "offline"),
        (document, "visibilitychange"),
    ] {
        let Ok(target) = target.dyn_into::<EventTarget>() else {
            continue;
        };
        let on = on.clone();
        let doc = target.clone();
        let callback = Closure::<dyn FnMut(JsValue)>::new(move |_| match kind {
            "online" => on(Signal::Online),
            "offline" => on(Signal::Offline),
            // A visibility change counts only to visible.
            _ if field(&doc, "visibilityState").as_string().as_deref() == Some("visible") => {
                on(Signal::Visible)
            }
            _ => {}
        });
        if target
            .add_event_listener_with_callback(kind, callback.as_ref().unchecked_ref())
            .is_ok()
        {
            listeners.push(Listener {
                target,
                kind,
                callback,
            });
        }
    }
    listeners
}
