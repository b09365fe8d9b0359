//! Page-level signals that make a waiting job worth checking at once: the tab
//! becoming visible again (background tabs throttle timers to about once a
//! minute) and the browser coming back online. Each listener is owned by a
//! handle whose `Drop` removes it.

use alloc::rc::Rc;
use alloc::vec::Vec;
use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use web_sys::EventTarget;

pub struct Listener {
    target: EventTarget,
    kind: &'static str,
    callback: Closure<dyn FnMut()>,
}

impl Listener {
    fn add(
        target: EventTarget,
        kind: &'static str,
        callback: Closure<dyn FnMut()>,
    ) -> Option<Self> {
        target
            .add_event_listener_with_callback(kind, callback.as_ref().unchecked_ref())
            .ok()?;
        Some(Self {
            target,
            kind,
            callback,
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.callback.as_ref().unchecked_ref());
    }
}

/// Calls `nudge` when the page comes back online or becomes visible. Works
/// in windows and workers (which have no `document`).
pub fn watch(nudge: Rc<dyn Fn()>) -> Vec<Listener> {
    let global = js_sys::global();
    let mut listeners = Vec::new();
    if let Some(target) = global.dyn_ref::<EventTarget>() {
        let n = nudge.clone();
        listeners.extend(Listener::add(
            target.clone(),
            "online",
            Closure::new(move || n()),
        ));
    }
    let document =
        Reflect::get(&global, &JsValue::from_str("document")).unwrap_or(JsValue::UNDEFINED);
    if let Some(target) = document.dyn_ref::<EventTarget>() {
        let doc = document.clone();
        let on_change = Closure::new(move || {
            let state = Reflect::get(&doc, &JsValue::from_str("visibilityState")).ok();
            if state.and_then(|s| s.as_string()).as_deref() == Some("visible") {
                nudge();
            }
        });
        listeners.extend(Listener::add(target.clone(), "visibilitychange", on_change));
    }
    listeners
}
