//! Page-level signals: the tab becoming visible again (background tabs
//! throttle timers to about once a minute) and the browser coming back
//! online make a waiting job worth checking at once; the page going into the
//! back/forward cache, being frozen (and back) or unloading moves the lead
//! of shared jobs to another tab. Each listener is owned by a handle whose
//! `Drop` removes it (and the timer it may have armed).

use std::rc::Rc;

use gloo_timers::callback::Timeout;
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

#[wasm_bindgen]
extern "C" {
    /// `globalThis` itself: under a test DOM (happy-dom, jsdom) in Node,
    /// `js_sys::global()` is the DOM's window, while `new EventSource` (and
    /// a test's stand-in) is looked up on `globalThis`.
    #[wasm_bindgen(thread_local_v2, js_name = globalThis)]
    static GLOBAL_THIS: JsValue;
}

/// Whether there is an `EventSource` to open (none in Node, jsdom or
/// happy-dom; a polyfill or a test's stand-in installed later counts from
/// then on): where `new EventSource` finds one.
pub fn can_stream() -> bool {
    GLOBAL_THIS.with(|g| field(g, "EventSource").is_function())
}

/// What a page event says.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Online,
    Offline,
    /// The tab became visible again.
    Visible,
    /// The page goes into the back/forward cache (`pagehide` with
    /// `persisted`), is frozen (`freeze`), or unloads (any other
    /// `pagehide`: a reload, a navigation, a closed tab): its code stops,
    /// and what fails as it goes (a request the unload aborts) is no news
    /// for the other tabs.
    Away,
    /// It is back (`pageshow` with `persisted`, `resume`).
    Back,
}

/// Calls `on` when the browser goes offline or comes back online, when the
/// page becomes visible, and when it goes into the back/forward cache or is
/// frozen, and back.
pub fn watch(on: Rc<dyn Fn(Signal)>) -> Vec<Listener> {
    // `window` in a page, `self` in a worker (which has no `document`).
    let global: JsValue = js_sys::global().into();
    let document = field(&global, "document");
    let mut listeners = Vec::new();
    for (target, kind) in [
        (global.clone(), "online"),
        (global.clone(), "offline"),
        (global.clone(), "pagehide"),
        (global, "pageshow"),
        (document.clone(), "freeze"),
        (document.clone(), "resume"),
        (document, "visibilitychange"),
    ] {
        let Ok(target) = target.dyn_into::<EventTarget>() else {
            continue;
        };
        let on = on.clone();
        let doc = target.clone();
        // After an unload's `pagehide`: a page still running a second later
        // did not unload (a synthetic event), and comes back.
        let mut still_here: Option<Timeout> = None;
        let callback = Closure::<dyn FnMut(JsValue)>::new(move |event| {
            // Into or out of the back/forward cache (not an unload, nor a
            // first load).
            let cached = || field(&event, "persisted") == JsValue::TRUE;
            match kind {
                "online" => on(Signal::Online),
                "offline" => on(Signal::Offline),
                "pagehide" => {
                    on(Signal::Away);
                    if !cached() {
                        let on = on.clone();
                        still_here.replace(Timeout::new(1000, move || on(Signal::Back)));
                    }
                }
                "pageshow" if cached() => on(Signal::Back),
                "freeze" => on(Signal::Away),
                "resume" => on(Signal::Back),
                // A visibility change counts only to visible.
                "visibilitychange"
                    if field(&doc, "visibilityState").as_string().as_deref() == Some("visible") =>
                {
                    on(Signal::Visible)
                }
                _ => {}
            }
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
