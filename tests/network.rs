//! Browser tests of what the network and the server say: a pending answer's
//! `Retry-After` sets the next wait, and offline pauses every job (nothing
//! sent, no error counted, the deadline kept) until the browser is back.
//! Against the scripted fake server of tests/support/fake_server.js.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Promise, JSON};
use smart_polling::web::{poll_file_completion, start_check_polling, PollingManager};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/support/fake_server.js")]
extern "C" {
    fn install();
    fn route(url: &str, responses: JsValue);
    #[wasm_bindgen(js_name = requestTimes)]
    fn request_times(url: &str) -> Array;
    fn sleep(ms: u32) -> Promise;
    fn now() -> f64;
    fn recorder(options: JsValue) -> JsValue;
    fn count(rec: &JsValue, kind: &str) -> u32;
    fn last(rec: &JsValue, kind: &str) -> JsValue;
    fn retries(rec: &JsValue) -> String;
    fn field(obj: &JsValue, key: &str) -> JsValue;
    #[wasm_bindgen(js_name = goOnline)]
    fn go_online();
    #[wasm_bindgen(js_name = goOffline)]
    fn go_offline();
}

const PENDING: &str =
    r#"{"body": {"id": "x", "url": null, "tasks": [{"id": "t", "status": "in_progress"}]}}"#;
const DONE: &str = r#"{"body": {"id": "x", "url": "https://cdn.example/x.png", "tasks": [{"id": "t", "status": "COMPLETED"}]}}"#;

fn json(text: &str) -> JsValue {
    JSON::parse(text).expect("test JSON")
}

fn responses(list: &[&str]) -> JsValue {
    json(&format!("[{}]", list.join(",")))
}

async fn wait(ms: u32) {
    JsFuture::from(sleep(ms)).await.expect("sleep");
}

/// Waits until `cond` holds, up to a generous `limit` in ms.
async fn until(limit: u32, cond: impl Fn() -> bool) -> bool {
    let start = now();
    while !cond() {
        if now() - start > f64::from(limit) {
            return false;
        }
        wait(5).await;
    }
    true
}

fn times(url: &str) -> Vec<f64> {
    request_times(url)
        .iter()
        .filter_map(|v| v.as_f64())
        .collect()
}

fn manager(extra: &str) -> PollingManager {
    let o = json(&format!(
        r#"{{"fileUrl": "/n/{{id}}", "eventsUrl": null, "intervals": [20], "jitter": 0,
            "initialDelay": 20, "shareAcrossTabs": false{extra}}}"#
    ));
    PollingManager::new(Some(o.unchecked_into())).expect("valid options")
}

fn start(m: &PollingManager, id: &str, rec: &JsValue) {
    m.start_polling(id, Some(field(rec, "callbacks").unchecked_into()), None)
        .expect("started");
}

#[wasm_bindgen_test]
async fn a_202_with_retry_after_delays_the_next_request() {
    install();
    route(
        "/n/h1",
        responses(&[
            r#"{"status": 202, "body": "", "headers": {"Retry-After": "1"}}"#,
            r#"{"status": 200, "body": {"id": "h1", "url": null}, "headers": {"Retry-After": "1"}}"#,
            DONE,
        ]),
    );
    let m = manager("");
    let r = recorder(JsValue::UNDEFINED);
    start(&m, "h1", &r);
    assert!(until(10_000, || count(&r, "complete") == 1).await);
    let t = times("/n/h1");
    assert_eq!(t.len(), 3);
    for gap in [t[1] - t[0], t[2] - t[1]] {
        // The server's second, not the 20 ms schedule (loose above).
        assert!((990.0..3000.0).contains(&gap), "{t:?}");
    }
    assert_eq!(retries(&r), "", "no error counted");
    assert_eq!(count(&r, "error"), 0);
}

#[wasm_bindgen_test]
async fn progress_reports_the_servers_wait() {
    install();
    route(
        "/n/h2",
        responses(&[
            r#"{"status": 200, "body": {"id": "h2", "url": null}, "headers": {"Retry-After": "5"}}"#,
        ]),
    );
    let m = manager("");
    let r = recorder(JsValue::UNDEFINED);
    start(&m, "h2", &r);
    assert!(
        until(5000, || times("/n/h2").len() == 1
            && count(&r, "update") == 1)
        .await
    );
    assert!(
        until(5000, || {
            let p = last(&r, "progress");
            field(&p, "nextPollIn").as_f64().is_some_and(|n| n > 4000.0)
        })
        .await
    );
    m.stop_all_polling();
}

#[wasm_bindgen_test]
async fn a_checker_passes_the_servers_hint_on() {
    install();
    let calls = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let seen = calls.clone();
    let checker = Closure::<dyn FnMut() -> JsValue>::new(move || {
        seen.borrow_mut().push(now());
        let done = seen.borrow().len() == 2;
        json(&format!(r#"{{"completed": {done}, "retryAfter": 1}}"#))
    });
    let opts = json(r#"{"initialInterval": 20, "maxInterval": 40, "jitter": 0}"#);
    let started = start_check_polling(
        "hinted",
        checker.as_ref().clone().unchecked_into(),
        Some(opts.unchecked_into()),
    )
    .expect("started");
    let result = JsFuture::from(Promise::from(JsValue::from(started)))
        .await
        .expect("resolves");
    assert_eq!(field(&result, "success").as_bool(), Some(true));
    let t = calls.borrow();
    assert!((990.0..3000.0).contains(&(t[1] - t[0])), "{t:?}");
}

#[wasm_bindgen_test]
async fn offline_pauses_the_job_and_online_resumes_it_at_once() {
    install();
    // Far more failures than the Promise form's limit of 5 would allow.
    let promise = poll_file_completion(
        "o1",
        Some(
            json(r#"{"intervals": [20], "jitter": 0, "initialDelay": 20, "timeout": 60000}"#)
                .unchecked_into(),
        ),
    )
    .expect("started");
    let url = "/api/file/o1";
    route(url, responses(&[PENDING]));
    assert!(until(5000, || !times(url).is_empty()).await);
    go_offline();
    wait(1500).await; // at 20 ms a wait, dozens of polls' worth
    let paused = times(url).len();
    wait(1000).await;
    assert_eq!(times(url).len(), paused, "nothing sent while offline");
    route(url, responses(&[DONE]));
    let back = now();
    go_online();
    assert!(until(5000, || times(url).len() > paused).await);
    let first = times(url)[paused];
    // At once, not after a wait of the schedule (nothing is due while
    // offline: without the online nudge it would never poll): loose above.
    assert!(
        first - back < 2000.0,
        "the first request after online left {} ms later",
        first - back
    );
    let result = JsFuture::from(Promise::from(JsValue::from(promise)))
        .await
        .expect("resolves");
    assert_eq!(
        field(&result, "success").as_bool(),
        Some(true),
        "the job survived"
    );
}

#[wasm_bindgen_test]
async fn a_request_that_fails_offline_counts_no_error_and_progress_says_so() {
    install();
    route("/n/o2", responses(&[PENDING]));
    let m = manager(r#", "maxConsecutiveErrors": 2, "timeout": 60000"#);
    let r = recorder(JsValue::UNDEFINED);
    start(&m, "o2", &r);
    assert!(until(5000, || count(&r, "update") == 1).await);
    go_offline();
    assert!(
        until(5000, || {
            field(&last(&r, "progress"), "waitingForNetwork").as_bool() == Some(true)
        })
        .await
    );
    wait(500).await;
    assert_eq!(count(&r, "error"), 0, "not the server's fault");
    assert_eq!(retries(&r), "");
    let metrics = m.metrics();
    assert_eq!(field(&metrics, "offlinePauses").as_f64(), Some(1.0));
    route("/n/o2", responses(&[DONE]));
    go_online();
    assert!(until(5000, || count(&r, "complete") == 1).await);
}

#[wasm_bindgen_test]
async fn an_offline_job_times_out_at_its_deadline() {
    install();
    route("/n/o3", responses(&[PENDING]));
    let m = manager(r#", "timeout": 800"#);
    let r = recorder(JsValue::UNDEFINED);
    go_offline();
    let t0 = now();
    start(&m, "o3", &r);
    assert!(until(5000, || count(&r, "error") == 1).await);
    go_online();
    assert_eq!(
        field(&last(&r, "error"), "kind").as_string().as_deref(),
        Some("timeout")
    );
    assert!(now() - t0 >= 790.0);
    assert!(times("/n/o3").is_empty(), "nothing sent");
}

// ---------------------------------------------------------------------------
// The learned history: one key per endpoint template, merged by every writer,
// a completion recorded once, `learn: false` keeps the presets.

const HISTORY: &str = "smart-polling/learned//l/{id}";

fn local_storage(key: &str) -> Option<String> {
    js_sys::Function::new_with_args("k", "return localStorage.getItem(k)")
        .call1(&JsValue::NULL, &key.into())
        .ok()
        .and_then(|v| v.as_string())
}

fn set_local_storage(key: &str, value: Option<&str>) {
    let f = match value {
        Some(_) => "k, v",
        None => "k",
    };
    let body = match value {
        Some(_) => "localStorage.setItem(k, v)",
        None => "localStorage.removeItem(k)",
    };
    js_sys::Function::new_with_args(f, body)
        .call2(
            &JsValue::NULL,
            &key.into(),
            &value.unwrap_or_default().into(),
        )
        .expect("storage");
}

/// The stored image samples' durations, oldest first.
fn stored_image() -> Vec<f64> {
    let Some(text) = local_storage(HISTORY) else {
        return Vec::new();
    };
    let saved = json(&text);
    assert_eq!(field(&saved, "v").as_f64(), Some(2.0), "{text}");
    let image: Array = field(&saved, "image").unchecked_into();
    image
        .iter()
        .map(|s| Array::from(&s).get(1).as_f64().expect("a duration"))
        .collect()
}

/// A manager whose image jobs may use the learned schedule (no waits given).
fn learning(extra: &str) -> PollingManager {
    let o = json(&format!(
        r#"{{"fileUrl": "/l/{{id}}", "eventsUrl": null, "preset": "image", "shareAcrossTabs": false{extra}}}"#
    ));
    PollingManager::new(Some(o.unchecked_into())).expect("valid options")
}

const DONE_LATER: &str =
    r#"{"delay": 60, "body": {"id": "x", "url": "https://cdn.example/x.png", "type": "image"}}"#;

#[wasm_bindgen_test]
async fn a_corrupt_history_is_ignored_and_replaced() {
    install();
    for bad in [
        "not json",
        r#"{"v": 99, "image": [[1, 5000], [2, 5000], [3, 5000]]}"#,
        r#"{"v": 1, "image": [5000, 5000, 5000]}"#,
        r#"{"v": 2, "image": [[1, -5], [2, 5000], [3, 5000]]}"#,
        r#"{"v": 2, "image": [[1, 1e300], [2, 5000], [3, 5000]]}"#,
        r#"{"v": 2, "image": [[-1, 5000], [2, 5000], [3, 5000]]}"#,
    ] {
        set_local_storage(HISTORY, Some(bad));
        route("/l/c1", responses(&[DONE_LATER]));
        let m = learning("");
        let r = recorder(JsValue::UNDEFINED);
        start(&m, "c1", &r);
        assert!(until(10_000, || count(&r, "complete") == 1).await, "{bad}");
        // Three trusted samples would have given an estimate: none came.
        let events: Array = field(&r, "events").unchecked_into();
        let eta = events.iter().any(|e| {
            field(&e, "type").as_string().as_deref() == Some("progress")
                && !field(&field(&e, "value"), "estimatedTimeRemaining").is_undefined()
        });
        assert!(!eta, "{bad}: the history was trusted");
        assert_eq!(
            stored_image().len(),
            1,
            "{bad}: only this completion is kept"
        );
    }
    set_local_storage(HISTORY, None);
}

#[wasm_bindgen_test]
async fn a_page_that_has_seen_three_jobs_polls_on_the_learned_schedule() {
    install();
    set_local_storage(
        HISTORY,
        Some(r#"{"v": 2, "image": [[1, 9000], [2, 10000], [3, 11000]]}"#),
    );
    route("/l/s1", responses(&[PENDING]));
    let m = learning("");
    let r = recorder(JsValue::UNDEFINED);
    let t0 = now();
    start(&m, "s1", &r);
    assert!(until(5000, || times("/l/s1").len() == 1).await);
    // At once, not after the learned first wait (about 6 s): loose above.
    assert!(
        times("/l/s1")[0] - t0 < 2000.0,
        "the first request still goes at once"
    );
    assert!(
        until(5000, || {
            field(&last(&r, "progress"), "estimatedTimeRemaining")
                .as_f64()
                .is_some()
        })
        .await
    );
    m.stop_all_polling();
    // `learn: false`, on the manager or the job, keeps the preset: no
    // estimate from the history, and nothing recorded.
    for (manager_option, job_option) in [
        (r#", "learn": false"#, None),
        ("", Some(r#"{"learn": false}"#)),
    ] {
        route("/l/s2", responses(&[DONE_LATER]));
        let m = learning(manager_option);
        let r = recorder(JsValue::UNDEFINED);
        m.start_polling(
            "s2",
            Some(field(&r, "callbacks").unchecked_into()),
            job_option.map(|o| json(o).unchecked_into()),
        )
        .expect("started");
        assert!(until(10_000, || count(&r, "complete") == 1).await);
        let events: Array = field(&r, "events").unchecked_into();
        assert!(events
            .iter()
            .all(|e| { field(&field(&e, "value"), "estimatedTimeRemaining").is_undefined() }));
        assert_eq!(
            stored_image(),
            vec![9000.0, 10000.0, 11000.0],
            "nothing recorded"
        );
    }
    set_local_storage(HISTORY, None);
}

#[wasm_bindgen_test]
async fn two_writers_merge_their_samples_and_other_endpoints_keep_theirs() {
    install();
    set_local_storage(HISTORY, None);
    // Two managers stand for two tabs: each learns from its own completion.
    let (a, b) = (learning(""), learning(""));
    route("/l/w1", responses(&[DONE_LATER]));
    route("/l/w2", responses(&[DONE_LATER]));
    let (ra, rb) = (recorder(JsValue::UNDEFINED), recorder(JsValue::UNDEFINED));
    start(&a, "w1", &ra);
    assert!(until(10_000, || count(&ra, "complete") == 1).await);
    start(&b, "w2", &rb);
    assert!(until(10_000, || count(&rb, "complete") == 1).await);
    assert_eq!(stored_image().len(), 2, "both writers' samples, once each");
    // Another endpoint's history is its own.
    let other = json(
        r#"{"fileUrl": "/l2/{id}", "eventsUrl": null, "preset": "image", "shareAcrossTabs": false}"#,
    );
    let c = PollingManager::new(Some(other.unchecked_into())).expect("valid");
    route("/l2/w3", responses(&[DONE_LATER]));
    let rc = recorder(JsValue::UNDEFINED);
    start(&c, "w3", &rc);
    assert!(until(10_000, || count(&rc, "complete") == 1).await);
    assert_eq!(stored_image().len(), 2);
    assert!(local_storage("smart-polling/learned//l2/{id}").is_some());
    set_local_storage(HISTORY, None);
    set_local_storage("smart-polling/learned//l2/{id}", None);
}
