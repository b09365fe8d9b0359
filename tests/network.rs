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
    assert!(
        first - back < 500.0,
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
