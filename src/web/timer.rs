//! A job's timer, armed for an absolute time on the job's clock and cleared
//! when its handle is dropped (the gloo-timers `Timeout` pattern, written out
//! here because gloo-timers links std, which the no_std release build avoids
//! for size).

use js_sys::Function;
use wasm_bindgen::prelude::*;

use super::js::now;
use super::manager::{Event, Wake};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: i32) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// `setTimeout` wraps delays above 2^31-1 ms to "at once": clamp, and let the
/// job re-arm when it wakes early.
const MAX_DELAY: u64 = i32::MAX as u64;

pub struct Timer {
    id: JsValue,
    _fire: Closure<dyn FnMut(JsValue)>,
}

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}

/// Delivers `ev` at `at`, unless the handle is dropped first. Also used with
/// `at` = now to deliver an event outside the caller's stack.
pub fn arm(at: u64, wake: Wake, ev: Event) -> Timer {
    let delay = at.saturating_sub(now()).min(MAX_DELAY) as i32;
    let mut ev = Some(ev);
    let fire = Closure::<dyn FnMut(JsValue)>::new(move |_| {
        if let Some(ev) = ev.take() {
            wake(ev);
        }
    });
    let id = set_timeout(fire.as_ref().unchecked_ref(), delay);
    Timer { id, _fire: fire }
}
