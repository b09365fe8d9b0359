//! Browser tests of the real `PollingManager` against a scripted fake server
//! (tests/support/fake_server.js replaces `fetch` and `EventSource`). Times
//! are real: waits are measured with `performance.now()`.
#![cfg(target_arch = "wasm32")]

mod cases;

use js_sys::{Array, Promise, JSON};
use smart_polling::core::record::{State, TaskStatus};
use smart_polling::core::stream::StreamEvent;
use smart_polling::web::PollingManager;
use smart_polling::Media;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/support/fake_server.js")]
extern "C" {
    fn install();
    fn route(url: &str, responses: JsValue);
    fn stream(url: &str, script: JsValue);
    #[wasm_bindgen(js_name = requestTimes)]
    fn request_times(url: &str) -> Array;
    #[wasm_bindgen(js_name = abortedCount)]
    fn aborted_count(url: &str) -> u32;
    #[wasm_bindgen(js_name = openStreams)]
    fn open_streams(url: &str) -> u32;
    #[wasm_bindgen(js_name = streamsCreated)]
    fn streams_created(url: &str) -> u32;
    fn sleep(ms: u32) -> Promise;
    fn now() -> f64;
    fn recorder(options: JsValue) -> JsValue;
    fn count(rec: &JsValue, kind: &str) -> u32;
    fn last(rec: &JsValue, kind: &str) -> JsValue;
    fn retries(rec: &JsValue) -> String;
    #[wasm_bindgen(js_name = lastEventTime)]
    fn last_event_time(rec: &JsValue) -> f64;
    fn field(obj: &JsValue, key: &str) -> JsValue;
    #[wasm_bindgen(js_name = progressChannels)]
    fn progress_channels(rec: &JsValue) -> String;
    #[wasm_bindgen(js_name = captureLogs)]
    fn capture_logs() -> JsValue;
    fn joined(list: &JsValue) -> String;
    #[wasm_bindgen(js_name = goOnline)]
    fn go_online();
    #[wasm_bindgen(js_name = goOffline)]
    fn go_offline();
    #[wasm_bindgen(js_name = setVisibility)]
    fn set_visibility(visible: bool);
    #[wasm_bindgen(js_name = emitStream)]
    fn emit_stream(url: &str, kind: &str, data: JsValue);
    fn identical(a: &JsValue, b: &JsValue) -> bool;
    #[wasm_bindgen(js_name = forceGc)]
    fn force_gc() -> bool;
    fn hold(v: JsValue);
    fn release();
    #[wasm_bindgen(js_name = settleInto)]
    fn settle_into(promise: &JsValue, callbacks: &JsValue);
    #[wasm_bindgen(js_name = urlsRequested)]
    fn urls_requested(prefix: &str) -> u32;
}

fn json(text: &str) -> JsValue {
    JSON::parse(text).expect("test JSON")
}

async fn wait(ms: u32) {
    JsFuture::from(sleep(ms)).await.expect("sleep");
}

/// How long a wait for an event may take before the test fails: generous
/// (a loaded machine is slow), and free when the event comes.
const DEADLINE: u32 = 20_000;

/// Waits until `cond` holds, up to `limit` ms.
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

fn gaps(url: &str) -> Vec<f64> {
    times(url).windows(2).map(|w| w[1] - w[0]).collect()
}

fn text(v: JsValue) -> String {
    v.as_string().unwrap_or_default()
}

/// A manager on the fake server's urls with fast, exact (jitter-free) waits.
fn manager(extra: &str) -> PollingManager {
    let base = r#""fileUrl": "/f/{id}", "projectUrl": "/p/{id}", "eventsUrl": "/e/{id}",
        "intervals": [20], "initialDelay": 50, "maxDelay": 2000, "jitter": 0,
        "sseConnectTimeout": 150, "requestTimeout": 1000, "shareAcrossTabs": false"#;
    let sep = if extra.is_empty() { "" } else { "," };
    let opts = json(&format!("{{{base}{sep}{extra}}}"));
    PollingManager::new(Some(opts.unchecked_into())).expect("valid options")
}

fn start(m: &PollingManager, id: &str, rec: &JsValue) {
    m.start_polling(id, Some(field(rec, "callbacks").unchecked_into()), None)
        .expect("started");
}

fn rec() -> JsValue {
    recorder(JsValue::UNDEFINED)
}

const PENDING: &str = r#"{"body": {"id": "x", "url": null, "type": "image", "tasks": [{"id": "t", "status": "in_progress"}]}}"#;
const DONE: &str = r#"{"body": {"id": "x", "url": "https://cdn.example/x.png", "type": "image", "tasks": [{"id": "t", "status": "COMPLETED"}]}}"#;

fn responses(list: &[&str]) -> JsValue {
    json(&format!("[{}]", list.join(",")))
}

/// Once the catch-up poll's record is in (the record a result merges
/// into), the stream at `events` sends 40 %, then the result `url`.
async fn progress_then_result(r: &JsValue, events: &str, url: &str) {
    assert!(
        until(DEADLINE, || count(r, "update") == 1).await,
        "caught up"
    );
    let progress = r#"{"type": "render_progress", "object": {"progress": 40}}"#;
    emit_stream(events, "message", progress.into());
    let result = format!(r#"{{"type": "render_result", "object": {{"url": "{url}"}}}}"#);
    emit_stream(events, "message", result.into());
}

#[wasm_bindgen_test]
async fn a_stream_result_completes_with_the_record_the_server_has_then() {
    install();
    // The record store has the result with fields the pending record had
    // not (its dimensions, the task completed) when the stream says so.
    let full = r#"{"body": {"id": "x", "url": "https://cdn.example/s9.png", "width": 512, "tasks": [{"id": "t", "status": "COMPLETED"}]}}"#;
    route("/f/s9", responses(&[PENDING, full]));
    stream("/e/s9", json(r#"{"mode": "open"}"#));
    let m = manager(r#""useStream": true"#);
    let r = rec();
    start(&m, "s9", &r);
    progress_then_result(&r, "/e/s9", "https://cdn.example/s9.png").await;
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    let done = last(&r, "complete");
    assert_eq!(
        field(&done, "width").as_f64(),
        Some(512.0),
        "not the pending record with the url"
    );
    assert_eq!(
        text(field(&field(&field(&done, "tasks"), "0"), "status")),
        "COMPLETED"
    );
    assert_eq!(
        count(&r, "update"),
        2,
        "the pending record, then the completed one"
    );
    assert_eq!(times("/f/s9").len(), 2);
    assert_eq!(open_streams("/e/s9"), 0);
}

#[wasm_bindgen_test]
async fn completes_over_the_stream() {
    install();
    route("/f/s1", responses(&[PENDING]));
    stream("/e/s1", json(r#"{"mode": "open"}"#));
    let m = manager(r#""useStream": true"#);
    let r = rec();
    start(&m, "s1", &r);
    // The catch-up poll's answer (the record to merge into) comes first.
    progress_then_result(&r, "/e/s1", "https://cdn.example/s1.png").await;
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    assert_eq!(
        text(field(&last(&r, "complete"), "url")),
        "https://cdn.example/s1.png"
    );
    assert_eq!(
        text(field(&last(&r, "complete"), "id")),
        "x",
        "merged into the last record"
    );
    assert_eq!(progress_channels(&r), "sse");
    assert_eq!(
        times("/f/s1").len(),
        2,
        "the catch-up poll, and the result's record (still pending here)"
    );
    assert_eq!(open_streams("/e/s1"), 0, "stream closed at the end");
    assert_eq!(count(&r, "error"), 0);
    assert!(!m.is_polling("s1"));
    let metrics = JsValue::from(m.metrics());
    assert_eq!(field(&metrics, "successRate").as_f64(), Some(1.0));
}

#[wasm_bindgen_test]
async fn a_hidden_tab_sends_a_stream_s_fallback_poll_in_the_event_s_own_task() {
    install();
    route("/f/hs1", responses(&[PENDING]));
    stream("/e/hs1", json(r#"{"mode": "open"}"#));
    let m = manager(r#""useStream": true"#);
    let r = rec();
    set_visibility(false);
    start(&m, "hs1", &r);
    // The catch-up poll is sent and its answer (the record) is in.
    let caught_up = until(DEADLINE, || {
        times("/f/hs1").len() == 1 && count(&r, "update") == 1
    })
    .await;
    // The stream fails. The check below runs after the microtasks this task
    // queued (the fetch is called from one), before any timer of the page.
    emit_stream("/e/hs1", "error", JsValue::UNDEFINED);
    for _ in 0..3 {
        JsFuture::from(Promise::resolve(&JsValue::NULL))
            .await
            .expect("resolved");
    }
    let sent = times("/f/hs1").len();
    set_visibility(true);
    m.stop_all_polling();
    assert!(caught_up, "the catch-up poll");
    assert_eq!(sent, 2, "the fallback poll went in the error's own task");
}

#[wasm_bindgen_test]
async fn reads_a_polyfilled_stream() {
    install();
    route("/f/s9", responses(&[PENDING]));
    // A polyfill's handlers get plain `{ type, data }` objects, not MessageEvents.
    stream("/e/s9", json(r#"{"mode": "open", "plainEvents": true}"#));
    let m = manager(r#""useStream": true"#);
    let r = rec();
    start(&m, "s9", &r);
    progress_then_result(&r, "/e/s9", "https://cdn.example/s9.png").await;
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    assert_eq!(
        text(field(&last(&r, "complete"), "url")),
        "https://cdn.example/s9.png"
    );
    assert_eq!(progress_channels(&r), "sse");
    assert_eq!(
        field(&last(&r, "progress"), "progress").as_f64(),
        Some(40.0)
    );
    assert_eq!(count(&r, "error"), 0);
}

#[wasm_bindgen_test]
async fn a_replaced_fetch_may_return_its_own_response_class() {
    install();
    let foreign = |s: &str| s.replacen("{\"body\"", "{\"foreign\": true, \"body\"", 1);
    route("/f/r1", responses(&[&foreign(PENDING), &foreign(DONE)]));
    let m = manager(r#""eventsUrl": null"#);
    let r = rec();
    start(&m, "r1", &r);
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    assert_eq!(
        text(field(&last(&r, "complete"), "url")),
        "https://cdn.example/x.png"
    );
    assert_eq!(
        count(&r, "retry"),
        0,
        "no request counted as a network error"
    );
    assert_eq!(times("/f/r1").len(), 2);
}

#[wasm_bindgen_test]
async fn a_page_event_inside_a_callback_does_not_nest() {
    install();
    route("/f/n1", responses(&[DONE]));
    let m = manager(r#""eventsUrl": null"#);
    // onUpdate dispatches "online" synchronously: the job is mid-way through
    // its actions, and the nudge must not run the rest of them out of order.
    let r = recorder(json(r#"{"onlineIn": "update"}"#));
    start(&m, "n1", &r);
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    wait(50).await;
    assert_eq!(count(&r, "complete"), 1);
    assert!(
        identical(&last(&r, "update"), &last(&r, "complete")),
        "onComplete gets the record itself"
    );
    assert_eq!(times("/f/n1").len(), 1);
}

#[wasm_bindgen_test]
async fn falls_back_to_polling_when_the_stream_fails() {
    install();
    route("/f/s2", responses(&[PENDING, PENDING, DONE]));
    stream("/e/s2", json(r#"{"mode": "fail", "after": 10}"#));
    let m = manager("");
    let r = rec();
    start(&m, "s2", &r);
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    assert_eq!(times("/f/s2").len(), 3);
    assert_eq!(open_streams("/e/s2"), 0);
    assert!(progress_channels(&r).contains("polling"));
}

#[wasm_bindgen_test]
async fn a_dropped_stream_is_kept_while_the_browser_reconnects_it() {
    install();
    route("/f/rc1", responses(&[PENDING]));
    stream("/e/rc1", json(r#"{"mode": "open"}"#));
    let logs = capture_logs();
    let m = manager(r#""debug": true"#);
    let r = rec();
    start(&m, "rc1", &r);
    assert!(
        until(DEADLINE, || count(&r, "update") == 1).await,
        "caught up"
    );
    // The connection drops: the job polls (every 20 ms here), the stream
    // is kept for the browser to reconnect.
    emit_stream("/e/rc1", "drop", JsValue::UNDEFINED);
    assert!(
        until(DEADLINE, || times("/f/rc1").len() >= 3).await,
        "polls meanwhile"
    );
    assert_eq!((open_streams("/e/rc1"), streams_created("/e/rc1")), (1, 1));
    assert_eq!(text(field(&last(&r, "progress"), "channel")), "polling");
    // Open again (within sseConnectTimeout): one request catches up, then
    // the stream watches alone (no safety poll here) and its result ends
    // the job.
    // (A poll of the schedule, every 20 ms here, may be out as it opens.)
    emit_stream("/e/rc1", "open", JsValue::UNDEFINED);
    let reopened = times("/f/rc1").len();
    assert!(
        until(DEADLINE, || times("/f/rc1").len() > reopened).await,
        "caught up"
    );
    wait(100).await;
    let settled = times("/f/rc1").len();
    assert!(settled <= reopened + 2, "{reopened} then {settled}");
    wait(200).await;
    assert_eq!(times("/f/rc1").len(), settled, "no polling once open");
    assert_eq!(text(field(&last(&r, "progress"), "channel")), "sse");
    let result = r#"{"type": "render_result", "object": {"url": "https://cdn.example/rc1.png"}}"#;
    emit_stream("/e/rc1", "message", result.into());
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    assert_eq!(
        streams_created("/e/rc1"),
        1,
        "the browser's reconnection, no second stream"
    );
    assert_eq!(open_streams("/e/rc1"), 0);
    js_sys::Function::from(field(&logs, "restore"))
        .call0(&logs)
        .expect("restore");
    // `debug` says what happened to the stream, in order.
    let said = joined(&field(&logs, "lines"));
    let at = |s: &str| {
        said.find(s)
            .unwrap_or_else(|| panic!("{s:?} not in {said}"))
    };
    assert!(at("rc1 stream open") < at("rc1 stream connection dropped: the browser reconnects it"));
    assert_eq!(said.matches("rc1 stream open").count(), 2, "{said}");
}

#[wasm_bindgen_test]
async fn debug_says_when_jobs_pause_offline_and_poll_again_once_online() {
    install();
    route("/f/off1", responses(&[PENDING]));
    let logs = capture_logs();
    let m = manager(r#""eventsUrl": null, "debug": true"#);
    let r = rec();
    start(&m, "off1", &r);
    assert!(until(DEADLINE, || !times("/f/off1").is_empty()).await);
    go_offline();
    go_offline(); // a second event changes nothing: said once
    wait(50).await;
    route("/f/off1", responses(&[DONE]));
    go_online();
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    go_online(); // not offline: nothing to say
    js_sys::Function::from(field(&logs, "restore"))
        .call0(&logs)
        .expect("restore");
    let said = joined(&field(&logs, "lines"));
    let offline = said
        .matches("offline: jobs pause (nothing sent, no error counted)")
        .count();
    let online = said.matches("online: paused jobs poll now").count();
    assert_eq!((offline, online), (1, 1), "{said}");
    assert!(said.find("offline: jobs pause") < said.find("online: paused jobs"));
}

#[wasm_bindgen_test]
async fn a_dropped_stream_that_does_not_reopen_is_closed_after_sse_connect_timeout() {
    install();
    // Done after 15 answers: polls every 20 ms, past the 150 ms.
    let mut answers = [PENDING; 16];
    answers[15] = DONE;
    route("/f/rc2", responses(&answers));
    stream("/e/rc2", json(r#"{"mode": "open"}"#));
    let m = manager("");
    let r = rec();
    start(&m, "rc2", &r);
    assert!(
        until(DEADLINE, || count(&r, "update") == 1).await,
        "caught up"
    );
    let t0 = now();
    emit_stream("/e/rc2", "drop", JsValue::UNDEFINED);
    assert!(until(DEADLINE, || open_streams("/e/rc2") == 0).await);
    let closed = now() - t0;
    assert!(
        closed >= 140.0,
        "closed after sseConnectTimeout (150 ms): {closed}"
    );
    assert_eq!(count(&r, "complete"), 0, "closed before the job's end");
    assert!(
        until(DEADLINE, || count(&r, "complete") == 1).await,
        "by polling"
    );
    assert_eq!(text(field(&last(&r, "progress"), "channel")), "polling");
}

#[wasm_bindgen_test]
async fn falls_back_when_the_stream_never_opens() {
    install();
    route("/f/s3", responses(&[DONE]));
    stream("/e/s3", json(r#"{"mode": "never"}"#));
    let m = manager("");
    let r = rec();
    let t0 = now();
    start(&m, "s3", &r);
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    let first = times("/f/s3")[0] - t0;
    assert!(
        first >= 140.0,
        "polled only after sseConnectTimeout: {first}"
    );
    assert_eq!(open_streams("/e/s3"), 0);
}

#[wasm_bindgen_test]
async fn garbage_on_the_stream_switches_to_polling() {
    install();
    route("/f/s4", responses(&[PENDING, PENDING, DONE]));
    stream(
        "/e/s4",
        json(
            r#"{"mode": "open", "messages": [{"after": 10, "data": "not json"}, {"after": 10, "data": "{]"}, {"after": 10, "data": "<html>"}]}"#,
        ),
    );
    let m = manager(r#""streamPollInterval": 0"#);
    let r = rec();
    start(&m, "s4", &r);
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    assert_eq!(open_streams("/e/s4"), 0);
    assert!(times("/f/s4").len() >= 3);
}

#[wasm_bindgen_test]
async fn rate_limit_waits_for_retry_after_seconds() {
    install();
    route(
        "/f/r1",
        responses(&[r#"{"status": 429, "headers": {"Retry-After": "1"}}"#, DONE]),
    );
    let m = manager(r#""eventsUrl": null"#);
    let r = rec();
    start(&m, "r1", &r);
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    let g = gaps("/f/r1");
    assert_eq!(g.len(), 1);
    // Tight below (the server's second), loose above (3 times it).
    assert!(g[0] >= 990.0 && g[0] < 3000.0, "waited {} ms", g[0]);
    assert_eq!(retries(&r), "rate_limited:1000");
}

#[wasm_bindgen_test]
async fn rate_limit_waits_for_retry_after_http_date() {
    install();
    // An HTTP date has whole seconds: 2 to 3 s from now. The job must not
    // ask again before it, however late the answer carrying it comes.
    let until_ms = ((js_sys::Date::now() + 3000.0) / 1000.0).floor() * 1000.0;
    let date = js_sys::Date::new(&JsValue::from_f64(until_ms));
    let header = text(date.to_utc_string().into());
    let spec = format!(r#"{{"status": 429, "headers": {{"Retry-After": "{header}"}}}}"#);
    route("/f/r2", responses(&[&spec, DONE]));
    let m = manager(r#""eventsUrl": null"#);
    let r = rec();
    start(&m, "r2", &r);
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    // The fake server's clock (performance.now) on the wall clock.
    let wall = js_sys::Date::now() - now();
    let t = times("/f/r2");
    assert_eq!(t.len(), 2);
    let second = t[1] + wall;
    // Tight below (a few ms of the clocks' rounding), loose above.
    assert!(
        second >= until_ms - 20.0,
        "asked {} ms before the date",
        until_ms - second
    );
    assert!(
        second < until_ms + 3000.0,
        "asked {} ms after the date",
        second - until_ms
    );
    assert!(retries(&r).starts_with("rate_limited:"), "{}", retries(&r));
}

#[wasm_bindgen_test]
async fn not_found_then_ready() {
    install();
    route(
        "/f/n1",
        responses(&[r#"{"status": 404}"#, r#"{"status": 404}"#, DONE]),
    );
    let m = manager(r#""eventsUrl": null"#);
    let r = rec();
    start(&m, "n1", &r);
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    assert_eq!(retries(&r), "not_found:20,not_found:20");
    assert_eq!(times("/f/n1").len(), 3);
}

#[wasm_bindgen_test]
async fn forbidden_stops_at_once() {
    install();
    route("/f/a1", responses(&[r#"{"status": 403}"#]));
    let m = manager(r#""eventsUrl": null"#);
    let r = rec();
    start(&m, "a1", &r);
    assert!(until(DEADLINE, || count(&r, "error") == 1).await);
    let e = last(&r, "error");
    assert_eq!(text(field(&e, "kind")), "forbidden");
    assert_eq!(field(&e, "status").as_f64(), Some(403.0));
    assert_eq!(field(&e, "retryable").as_bool(), Some(false));
    wait(200).await;
    assert_eq!(times("/f/a1").len(), 1, "no request after a 403");
    assert_eq!(count(&r, "error"), 1);
}

#[wasm_bindgen_test]
async fn server_errors_back_off_exponentially() {
    install();
    let e = r#"{"status": 503}"#;
    route("/f/b1", responses(&[e, e, e, DONE]));
    let m = manager(r#""eventsUrl": null"#);
    let r = rec();
    start(&m, "b1", &r);
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    assert_eq!(retries(&r), "server:50,server:100,server:200");
    let g = gaps("/f/b1");
    for (gap, want) in g.iter().zip([50.0, 100.0, 200.0]) {
        assert!(*gap >= want - 2.0, "gap {gap} < {want}");
    }
}

#[wasm_bindgen_test]
async fn network_failures_and_malformed_bodies_are_retried() {
    install();
    route(
        "/f/m1",
        responses(&[
            r#"{"networkError": true}"#,
            r#"{"body": "<html>502 Bad Gateway</html>"}"#,
            r#"{"body": {"url": null, "tasks": {}}}"#,
            DONE,
        ]),
    );
    let m = manager(r#""eventsUrl": null"#);
    let r = rec();
    start(&m, "m1", &r);
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    assert_eq!(
        retries(&r),
        "network:50,invalid_response:100,invalid_response:200"
    );
}

#[wasm_bindgen_test]
async fn the_overall_timeout_is_strict() {
    install();
    route("/f/t1", responses(&[PENDING]));
    let m = manager(r#""eventsUrl": null, "timeout": 300"#);
    let r = rec();
    let t0 = now();
    start(&m, "t1", &r);
    assert!(until(DEADLINE, || count(&r, "error") == 1).await);
    let took = last_event_time(&r) - t0;
    // Tight below (the 300 ms asked for), loose above.
    assert!((290.0..1500.0).contains(&took), "timed out after {took} ms");
    assert_eq!(text(field(&last(&r, "error"), "kind")), "timeout");
    let n = times("/f/t1").len();
    wait(150).await;
    assert_eq!(times("/f/t1").len(), n, "no request after the timeout");
}

#[wasm_bindgen_test]
async fn a_hanging_request_times_out() {
    install();
    route("/f/h1", responses(&[r#"{"hang": true}"#, DONE]));
    let m = manager(r#""eventsUrl": null, "requestTimeout": 100"#);
    let r = rec();
    start(&m, "h1", &r);
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    assert_eq!(retries(&r), "request_timeout:50");
    assert_eq!(aborted_count("/f/h1"), 1);
}

#[wasm_bindgen_test]
async fn at_most_max_concurrent_requests_are_out_per_origin() {
    install();
    let hang = r#"{"hang": true}"#;
    for i in 0..4 {
        route(&format!("/f/cap{i}"), responses(&[hang, DONE]));
    }
    // The hanging requests time out after 3 s: far longer than it takes to
    // see who waits for room.
    let m = manager(r#""eventsUrl": null, "requestTimeout": 3000, "maxConcurrentRequests": 2"#);
    let r = rec();
    for i in 0..4 {
        start(&m, &format!("cap{i}"), &r);
    }
    let sent = |i: usize| times(&format!("/f/cap{i}"));
    assert!(until(DEADLINE, || !sent(0).is_empty() && !sent(1).is_empty()).await);
    // Proving an absence: all four were due at once (and every 20 ms
    // after), so 300 ms is room for many turns that send nothing.
    wait(300).await;
    let first = sent(0)[0];
    assert!(
        now() - first < 2900.0,
        "the absence window ended before any request could time out"
    );
    assert_eq!((sent(0).len(), sent(1).len()), (1, 1));
    assert!(sent(2).is_empty() && sent(3).is_empty(), "waiting for room");
    assert!(until(DEADLINE, || count(&r, "complete") == 4).await);
    // The two waiting went when the hanging ones timed out and let go.
    for i in 2..4 {
        assert!(sent(i)[0] >= first + 2990.0, "{:?}", sent(i));
    }
}

#[wasm_bindgen_test]
async fn stop_during_a_request_aborts_it_and_silences_the_job() {
    install();
    route(
        "/f/x1",
        responses(&[r#"{"delay": 300, "body": {"id": "x", "url": "https://cdn.example/x.png"}}"#]),
    );
    let m = manager("");
    let r = rec();
    start(&m, "x1", &r);
    stream("/e/x1", json(r#"{"mode": "never"}"#));
    // Polling only after the stream gives up; wait for the request to be in flight.
    assert!(until(DEADLINE, || times("/f/x1").len() == 1).await);
    let seen = count(&r, "progress") + count(&r, "update");
    assert!(m.stop_polling("x1"));
    assert!(!m.stop_polling("x1"), "already stopped");
    assert_eq!(aborted_count("/f/x1"), 1);
    assert_eq!(m.active_count(), 0);
    wait(500).await;
    assert_eq!(times("/f/x1").len(), 1, "no request after stop");
    assert_eq!(count(&r, "complete") + count(&r, "error"), 0);
    assert_eq!(
        count(&r, "progress") + count(&r, "update"),
        seen,
        "no callback after stop"
    );
    assert_eq!(open_streams("/e/x1"), 0);
}

#[wasm_bindgen_test]
async fn two_starts_of_one_id_share_one_poller() {
    install();
    route("/f/d1", responses(&[PENDING, PENDING, DONE]));
    let m = manager(r#""eventsUrl": null"#);
    let (a, b) = (rec(), rec());
    start(&m, "d1", &a);
    start(&m, "d1", &b);
    assert_eq!(m.active_count(), 1);
    assert!(
        until(DEADLINE, || count(&a, "complete") == 1
            && count(&b, "complete") == 1)
        .await
    );
    assert_eq!(times("/f/d1").len(), 3, "one request stream");
    wait(100).await;
    assert_eq!(count(&a, "complete") + count(&b, "complete"), 2);
}

#[wasm_bindgen_test]
async fn a_throwing_callback_changes_nothing() {
    install();
    route("/f/c1", responses(&[PENDING, DONE]));
    let m = manager(r#""eventsUrl": null"#);
    let r = recorder(json(r#"{"throwIn": "update"}"#));
    start(&m, "c1", &r);
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    assert_eq!(count(&r, "update"), 2);
    assert_eq!(count(&r, "error"), 0);
}

#[wasm_bindgen_test]
async fn callbacks_may_restart_the_job_re_entrantly() {
    install();
    route("/f/c2", responses(&[DONE]));
    let m = std::rc::Rc::new(manager(r#""eventsUrl": null"#));
    let m2 = m.clone();
    let inner = rec();
    let restart = Closure::<dyn FnMut()>::new(move || {
        // Starting the same id from inside onComplete starts a fresh job.
        m2.start_polling(
            "c2",
            Some(field(&inner, "callbacks").unchecked_into()),
            None,
        )
        .expect("restart");
        assert!(m2.is_polling("c2"));
        assert!(m2.stop_polling("c2"));
    });
    let opts = js_sys::Object::new();
    js_sys::Reflect::set(&opts, &"onComplete".into(), restart.as_ref()).unwrap();
    let r = recorder(opts.into());
    start(&m, "c2", &r);
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    wait(100).await;
    assert_eq!(m.active_count(), 0);
    assert_eq!(
        times("/f/c2").len(),
        1,
        "the restarted job was stopped before polling"
    );
}

#[wasm_bindgen_test]
async fn an_invalid_id_makes_no_request() {
    install();
    let m = manager("");
    let r = rec();
    start(&m, "../admin", &r);
    assert!(until(DEADLINE, || count(&r, "error") == 1).await);
    assert_eq!(text(field(&last(&r, "error"), "kind")), "invalid_id");
    assert_eq!(times("/f/../admin").len(), 0);
    assert_eq!(streams_created("/e/../admin"), 0);
    assert!(!m.is_polling("../admin"));
}

#[wasm_bindgen_test]
async fn a_javascript_url_is_refused() {
    install();
    route(
        "/f/u1",
        responses(&[r#"{"body": {"id": "u1", "url": "javascript:alert(1)"}}"#]),
    );
    let m = manager(r#""eventsUrl": null"#);
    let r = rec();
    start(&m, "u1", &r);
    assert!(until(DEADLINE, || count(&r, "error") == 1).await);
    assert_eq!(text(field(&last(&r, "error"), "kind")), "invalid_url");
    assert_eq!(count(&r, "complete"), 0);
    assert_eq!(count(&r, "update"), 0, "the record never reaches the page");
}

#[wasm_bindgen_test]
async fn streams_are_capped_per_manager() {
    install();
    for id in ["k1", "k2", "k3"] {
        route(&format!("/f/{id}"), responses(&[PENDING]));
        stream(&format!("/e/{id}"), json(r#"{"mode": "open"}"#));
    }
    let m = manager(r#""maxStreams": 2"#);
    let recs: Vec<JsValue> = (0..3).map(|_| rec()).collect();
    for (id, r) in ["k1", "k2", "k3"].iter().zip(&recs) {
        start(&m, id, r);
    }
    assert!(
        until(DEADLINE, || times("/f/k3").len() >= 2).await,
        "the third job polls"
    );
    assert_eq!(streams_created("/e/k1") + streams_created("/e/k2"), 2);
    assert_eq!(streams_created("/e/k3"), 0, "no stream for the third job");
    m.stop_all_polling();
    assert_eq!(m.active_count(), 0);
    assert_eq!(open_streams("/e/k1") + open_streams("/e/k2"), 0);
}

#[wasm_bindgen_test]
async fn the_tabs_of_a_browser_hold_four_streams_to_a_host_at_most() {
    install();
    // Two managers stand in for two tabs: Web Locks are the origin's, so
    // they share the places for streams as tabs do.
    let ids = ["b1", "b2", "b3", "b4", "b5", "b6", "b7"];
    for id in ids {
        route(&format!("/f/{id}"), responses(&[PENDING]));
        stream(&format!("/e/{id}"), json(r#"{"mode": "open"}"#));
    }
    // (Sharing with the other tabs: the budget is theirs together.)
    let options = r#""maxStreams": 3, "maxConcurrentRequests": 8, "sseConnectTimeout": 5000, "shareAcrossTabs": true"#;
    let (m1, m2) = (manager(options), manager(options));
    let r = rec();
    for id in &ids[..3] {
        start(&m1, id, &r);
    }
    for id in &ids[3..6] {
        start(&m2, id, &r);
    }
    let created = |ids: &[&str]| {
        ids.iter()
            .map(|id| streams_created(&format!("/e/{id}")))
            .sum::<u32>()
    };
    assert!(until(DEADLINE, || created(&ids[..6]) == 4).await);
    // The two left poll at once, not after sseConnectTimeout (5 s).
    let polling: Vec<&str> = ids[..6]
        .iter()
        .copied()
        .filter(|id| streams_created(&format!("/e/{id}")) == 0)
        .collect();
    assert_eq!(polling.len(), 2);
    for id in &polling {
        let path = format!("/f/{id}");
        assert!(until(1000, || times(&path).len() >= 2).await, "{id} polls");
    }
    wait(200).await;
    assert_eq!(created(&ids[..6]), 4, "no fifth stream");
    // A stream that goes gives its place to the next job, in either tab.
    let streaming = ids[..3]
        .iter()
        .find(|id| streams_created(&format!("/e/{id}")) == 1);
    let streaming = streaming.expect("m1 holds a stream");
    assert!(m1.stop_polling(streaming));
    start(&m2, ids[6], &r);
    assert!(until(DEADLINE, || streams_created("/e/b7") == 1).await);
    m1.stop_all_polling();
    m2.stop_all_polling();
    assert_eq!(created(&ids), 5);
    let open: u32 = ids.iter().map(|id| open_streams(&format!("/e/{id}"))).sum();
    assert_eq!(open, 0, "every stream closed, every place let go of");
}

#[wasm_bindgen_test]
async fn a_lock_request_that_throws_opens_the_stream_unbounded() {
    install();
    // A Web Locks stand-in whose `request` throws at once for the stream
    // places (as a polyfill may): the stream should open unbounded.
    js_sys::eval(
        r#"(() => { const l = navigator.locks; const orig = l.request;
            globalThis.__orig_request = orig;
            l.request = function (name, ...rest) {
              if (String(name).startsWith("smart-polling stream")) throw new Error("no");
              return orig.call(this, name, ...rest);
            }; })()"#,
    )
    .expect("patched");
    route("/f/lt1", responses(&[PENDING]));
    stream("/e/lt1", json(r#"{"mode": "open"}"#));
    let m = manager(r#""sseConnectTimeout": 3000, "shareAcrossTabs": true"#);
    let r = rec();
    start(&m, "lt1", &r);
    let created = until(DEADLINE, || streams_created("/e/lt1") >= 1).await;
    wait(300).await;
    let open = open_streams("/e/lt1");
    m.stop_all_polling();
    js_sys::eval("delete navigator.locks.request").expect("restored");
    assert!(created, "a stream was created");
    assert_eq!(open, 1, "the stream stays open (not replaced by a wait)");
}

#[wasm_bindgen_test]
async fn the_page_s_own_host_written_two_ways_is_one_budget_of_streams() {
    install();
    let origin = js_sys::eval("location.origin")
        .unwrap()
        .as_string()
        .unwrap();
    let rel = ["r1", "r2", "r3", "r4"];
    let abs = ["a1", "a2", "a3", "a4"];
    for id in rel {
        route(&format!("/f/{id}"), responses(&[PENDING]));
        stream(&format!("/e/{id}"), json(r#"{"mode": "open"}"#));
    }
    for id in abs {
        route(&format!("/f/{id}"), responses(&[PENDING]));
        stream(&format!("{origin}/e/{id}"), json(r#"{"mode": "open"}"#));
    }
    let common = r#""maxStreams": 4, "maxConcurrentRequests": 8, "sseConnectTimeout": 5000, "shareAcrossTabs": true"#;
    let m1 = manager(common);
    let m2 = manager(&format!(r#"{common}, "eventsUrl": "{origin}/e/{{id}}""#));
    let r = rec();
    for id in rel {
        start(&m1, id, &r);
    }
    for id in abs {
        start(&m2, id, &r);
    }
    wait(1500).await;
    let open: u32 = rel
        .iter()
        .map(|id| open_streams(&format!("/e/{id}")))
        .sum::<u32>()
        + abs
            .iter()
            .map(|id| open_streams(&format!("{origin}/e/{id}")))
            .sum::<u32>();
    m1.stop_all_polling();
    m2.stop_all_polling();
    assert!(open <= 4, "{open} streams open to the page's own host");
}

#[wasm_bindgen_test]
async fn the_promise_form_resolves_with_a_result() {
    install();
    route("/f/p1", responses(&[PENDING, DONE]));
    route(
        "/p/p2",
        responses(&[
            r#"{"body": {"data": [{"type": "image", "value": {"url": "https://cdn.example/p.png"}}], "tasks": []}}"#,
        ]),
    );
    let m = manager(r#""eventsUrl": null"#);
    let result = JsFuture::from(Promise::from(JsValue::from(
        m.poll_file_completion("p1", None).expect("started"),
    )))
    .await
    .expect("resolves");
    assert_eq!(field(&result, "success").as_bool(), Some(true));
    assert_eq!(text(field(&result, "method")), "success");
    assert_eq!(text(field(&result, "channel")), "polling");
    assert_eq!(field(&result, "attempts").as_f64(), Some(2.0));
    let data = field(&result, "data");
    assert_eq!(text(field(&data, "url")), "https://cdn.example/x.png");

    let project = JsFuture::from(Promise::from(JsValue::from(
        m.poll_project_completion("p2", None).expect("started"),
    )))
    .await
    .expect("resolves");
    assert_eq!(field(&project, "success").as_bool(), Some(true));

    route("/f/p3", responses(&[r#"{"status": 401}"#]));
    let failed = JsFuture::from(Promise::from(JsValue::from(
        m.poll_file_completion("p3", None).expect("started"),
    )))
    .await
    .expect("resolves, never rejects");
    assert_eq!(field(&failed, "success").as_bool(), Some(false));
    assert_eq!(
        text(field(&field(&failed, "failure"), "kind")),
        "unauthorized"
    );
    assert_eq!(text(field(&failed, "method")), "error");
}

#[wasm_bindgen_test]
fn invalid_options_are_range_errors() {
    for bad in [
        r#"{"timeout": -1}"#,
        r#"{"intervals": []}"#,
        r#"{"backoffMultiplier": 0}"#,
        r#"{"maxAttempts": "ten"}"#,
        r#"{"fileUrl": "/api/file/"}"#,
        r#"{"media": "gif"}"#,
        r#"{"maxConcurrentRequests": 0}"#,
        r#"{"maxConcurrentRequests": 2.5}"#,
    ] {
        let err = PollingManager::new(Some(json(bad).unchecked_into()))
            .err()
            .expect(bad);
        assert!(err.is_instance_of::<js_sys::RangeError>(), "{bad}");
    }
    let m = manager("");
    let r = rec();
    let err = m
        .start_polling(
            "ok",
            Some(field(&r, "callbacks").unchecked_into()),
            Some(json(r#"{"timeout": 0}"#).unchecked_into()),
        )
        .expect_err("zero timeout");
    assert!(err.is_instance_of::<js_sys::RangeError>());
    assert_eq!(m.active_count(), 0);
    // The manager still works afterwards.
    start(&m, "after-error", &r);
    assert!(m.is_polling("after-error"));
    m.stop_all_polling();
}

#[wasm_bindgen_test]
async fn a_callback_that_stops_everything_silences_the_other_callers() {
    install();
    route("/f/sa1", responses(&[PENDING, DONE]));
    let m = std::rc::Rc::new(manager(r#""eventsUrl": null"#));
    let stopper = m.clone();
    let stop = Closure::<dyn FnMut()>::new(move || stopper.stop_all_polling());
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"onComplete".into(), stop.as_ref()).expect("set");
    let (first, second) = (recorder(options.into()), rec());
    start(&m, "sa1", &first);
    start(&m, "sa1", &second);
    assert!(until(DEADLINE, || count(&first, "complete") == 1).await);
    wait(200).await; // proving an absence: many turns of the 20 ms schedule
    assert_eq!(
        count(&second, "complete"),
        0,
        "nothing after stopAllPolling"
    );
}

#[wasm_bindgen_test]
async fn stop_resolves_a_waiting_promise_as_stopped() {
    install();
    route("/f/z1", responses(&[PENDING]));
    let m = manager(r#""eventsUrl": null"#);
    let promise = Promise::from(JsValue::from(
        m.poll_file_completion("z1", None).expect("started"),
    ));
    wait(50).await;
    assert!(m.stop_polling("z1"));
    let result = JsFuture::from(promise).await.expect("resolves");
    assert_eq!(field(&result, "success").as_bool(), Some(false));
    assert_eq!(text(field(&field(&result, "failure"), "kind")), "stopped");
}

#[wasm_bindgen_test]
async fn stop_all_then_drop_is_what_free_does() {
    install();
    route("/f/g1", responses(&[PENDING]));
    let m = manager(r#""eventsUrl": null"#);
    let r = rec();
    start(&m, "g1", &r);
    assert!(until(DEADLINE, || times("/f/g1").len() >= 2).await);
    // The package's free(): stopAllPolling, then the wasm-bindgen free.
    m.stop_all_polling();
    drop(m);
    let n = times("/f/g1").len();
    wait(200).await;
    assert_eq!(
        times("/f/g1").len(),
        n,
        "no request after the manager is freed"
    );
    assert_eq!(count(&r, "complete") + count(&r, "error"), 0);
}

#[wasm_bindgen_test]
async fn a_manager_the_page_dropped_finishes_its_jobs() {
    install();
    route("/f/g2", responses(&[PENDING, PENDING, PENDING, DONE]));
    let m = manager(r#""eventsUrl": null, "intervals": [60]"#);
    let r = rec();
    start(&m, "g2", &r);
    // Hand the manager to JS and forget it there: wasm-bindgen's finalizer
    // frees it on the next collections, as when a page drops its manager.
    hold(JsValue::from(m));
    release();
    for _ in 0..5 {
        force_gc();
        wait(20).await;
    }
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    assert_eq!(times("/f/g2").len(), 4, "the job ran to its end");
    assert_eq!(count(&r, "error"), 0);
}

#[wasm_bindgen_test]
fn unknown_options_are_refused_by_name() {
    for (bad, name) in [
        (r#"{"fileURL": "/x/{id}"}"#, "fileURL"),
        (r#"{"maxAttempt": 3}"#, "maxAttempt"),
        (r#"{"timeOut": 5}"#, "timeOut"),
    ] {
        let err = PollingManager::new(Some(json(bad).unchecked_into()))
            .err()
            .expect(bad);
        assert!(err.is_instance_of::<js_sys::RangeError>(), "{bad}");
        let message = text(field(&err, "message"));
        assert!(message.contains(name), "{message}");
    }
    let m = manager("");
    let r = rec();
    let err = m
        .start_polling(
            "ok",
            Some(field(&r, "callbacks").unchecked_into()),
            Some(json(r#"{"intervalls": [10]}"#).unchecked_into()),
        )
        .expect_err("misspelt override");
    assert!(err.is_instance_of::<js_sys::RangeError>());
    assert!(text(field(&err, "message")).contains("intervalls"));
    assert_eq!(m.active_count(), 0);
    // null and undefined mean "not given"; eventsUrl: null means polling only.
    PollingManager::new(Some(
        json(r#"{"timeout": null, "eventsUrl": null}"#).unchecked_into(),
    ))
    .expect("null options");
}

#[wasm_bindgen_test]
async fn a_joining_call_validates_its_overrides() {
    install();
    route("/f/j1", responses(&[PENDING]));
    let m = manager(r#""eventsUrl": null"#);
    let (a, b) = (rec(), rec());
    start(&m, "j1", &a);
    let err = m
        .start_polling(
            "j1",
            Some(field(&b, "callbacks").unchecked_into()),
            Some(json(r#"{"timeout": -5}"#).unchecked_into()),
        )
        .expect_err("invalid override on a running id");
    assert!(err.is_instance_of::<js_sys::RangeError>());
    assert!(text(field(&err, "message")).starts_with("timeout"));
    assert!(m.is_polling("j1"), "the running job is untouched");
    m.stop_all_polling();
}

#[wasm_bindgen_test]
async fn project_jobs_are_polling_and_report_a_project_id() {
    install();
    route(
        "/p/pp1",
        responses(&[r#"{"body": {"data": [], "tasks": []}}"#]),
    );
    let m = manager(r#""eventsUrl": null"#);
    let r = rec();
    m.start_project_polling("pp1", Some(field(&r, "callbacks").unchecked_into()), None)
        .expect("started");
    assert!(m.is_polling("pp1"));
    assert!(until(DEADLINE, || count(&r, "progress") >= 1).await);
    let p = last(&r, "progress");
    assert_eq!(text(field(&p, "projectId")), "pp1");
    assert!(field(&p, "fileId").is_undefined());
    let statuses: Array = JsValue::from(m.get_polling_status()).into();
    assert_eq!(statuses.length(), 1);
    assert_eq!(text(field(&statuses.get(0), "projectId")), "pp1");
    assert!(m.stop_project_polling("pp1"));
    assert!(!m.is_polling("pp1"));
}

#[wasm_bindgen_test]
async fn the_module_functions_share_one_default_manager() {
    install();
    route("/api/file/q1", responses(&[PENDING, DONE]));
    stream("/api/events/file.q1", json(r#"{"mode": "fail"}"#));
    let opts = || Some(json(r#"{"intervals": [20], "jitter": 0}"#).unchecked_into());
    let a = smart_polling::web::poll_file_completion("q1", opts()).expect("started");
    let b = smart_polling::web::poll_file_completion("q1", opts()).expect("started");
    let ra = JsFuture::from(Promise::from(JsValue::from(a)))
        .await
        .expect("a");
    let rb = JsFuture::from(Promise::from(JsValue::from(b)))
        .await
        .expect("b");
    assert_eq!(field(&ra, "success").as_bool(), Some(true));
    assert_eq!(field(&rb, "success").as_bool(), Some(true));
    assert_eq!(times("/api/file/q1").len(), 2, "one poller for both calls");
}

#[wasm_bindgen_test]
async fn debug_logs_every_state_change_and_is_quiet_otherwise() {
    install();
    route("/f/l1", responses(&[PENDING, DONE]));
    route("/f/l2", responses(&[PENDING, DONE]));
    let logs = capture_logs();
    let quiet = manager(r#""eventsUrl": null"#);
    let r = rec();
    start(&quiet, "l1", &r);
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    let loud = manager(r#""eventsUrl": null, "debug": true"#);
    let r2 = rec();
    start(&loud, "l2", &r2);
    assert!(until(DEADLINE, || count(&r2, "complete") == 1).await);
    let restore = field(&logs, "restore");
    js_sys::Function::from(restore)
        .call0(&logs)
        .expect("restore");
    let text = joined(&field(&logs, "lines"));
    assert!(!text.contains("l1"), "quiet by default: {text}");
    for what in ["l2 request", "l2 update", "l2 progress", "l2 complete"] {
        assert!(
            text.contains(&format!("smart-polling {what}")),
            "{what} in {text}"
        );
    }
}

#[wasm_bindgen_test]
async fn status_metrics_and_project_polling() {
    install();
    route("/f/s7", responses(&[PENDING]));
    route("/f/s8", responses(&[r#"{"status": 410}"#]));
    route(
        "/p/s9",
        responses(&[r#"{"body": {"data": [], "tasks": [{"id": "t", "status": "ERROR"}]}}"#]),
    );
    let m = manager(r#""eventsUrl": null"#);
    let (a, b, c) = (rec(), rec(), rec());
    start(&m, "s7", &a);
    start(&m, "s8", &b);
    m.start_project_polling("s9", Some(field(&c, "callbacks").unchecked_into()), None)
        .expect("started");
    assert!(
        until(DEADLINE, || count(&b, "error") == 1
            && count(&c, "error") == 1)
        .await
    );
    assert_eq!(text(field(&last(&b, "error"), "kind")), "client");
    assert_eq!(text(field(&last(&c, "error"), "kind")), "generation_failed");
    let statuses: Array = JsValue::from(m.get_polling_status()).into();
    assert_eq!(statuses.length(), 1, "only s7 still runs");
    let s = statuses.get(0);
    assert_eq!(text(field(&s, "fileId")), "s7");
    assert_eq!(text(field(&s, "channel")), "polling");
    assert!(field(&s, "attempt").as_f64().unwrap_or(0.0) >= 1.0);
    let metrics = JsValue::from(m.metrics());
    assert_eq!(field(&metrics, "successRate").as_f64(), Some(0.0));
    assert_eq!(field(&metrics, "completedJobs").as_f64(), Some(0.0));
    assert_eq!(field(&metrics, "failedJobs").as_f64(), Some(2.0));
    let dist = field(&metrics, "errorDistribution");
    assert_eq!(field(&dist, "client").as_f64(), Some(1.0));
    assert_eq!(field(&dist, "generation_failed").as_f64(), Some(1.0));
    assert!(field(&metrics, "totalRequests").as_f64().unwrap_or(0.0) >= 3.0);
    m.stop_all_polling();
}

#[wasm_bindgen_test]
async fn tab_visible_again_polls_at_once() {
    install();
    route("/f/v1", responses(&[PENDING, DONE]));
    let m = manager(r#""eventsUrl": null, "intervals": [10000]"#);
    let r = rec();
    start(&m, "v1", &r);
    assert!(until(DEADLINE, || count(&r, "update") == 1).await);
    // Turning hidden is no reason to poll.
    set_visibility(false);
    wait(50).await;
    assert_eq!(times("/f/v1").len(), 1);
    set_visibility(true);
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    assert_eq!(times("/f/v1").len(), 2);
}

#[wasm_bindgen_test]
async fn coming_back_online_polls_at_once() {
    install();
    route("/f/o1", responses(&[PENDING, DONE]));
    // A slow schedule: without the nudge the next poll is 10 s away.
    let m = manager(r#""eventsUrl": null, "intervals": [10000]"#);
    let r = rec();
    start(&m, "o1", &r);
    assert!(until(DEADLINE, || count(&r, "update") == 1).await);
    go_online();
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    assert_eq!(times("/f/o1").len(), 2);
    m.stop_all_polling();
    drop(m);
    // A freed manager stopped its jobs; the page event finds nothing to do.
    install();
    route("/f/o1", responses(&[PENDING]));
    go_online();
    wait(200).await; // proving an absence: a nudge polls at the next turn
    assert_eq!(times("/f/o1").len(), 0);
}

fn promise(p: JsValue) -> JsFuture {
    JsFuture::from(Promise::from(p))
}

/// A checker over the fake server's route for `url`, in the old module's
/// language (`{ completed, data, error?, shouldContinue? }`, a thrown object
/// with `status` for HTTP errors).
fn checker(url: &str) -> js_sys::Function {
    js_sys::Function::new_with_args(
        "",
        &format!(
            r#"return fetch("{url}").then(async (r) => {{
                if (!r.ok) throw Object.assign(new Error("HTTP " + r.status), {{ status: r.status, headers: r.headers }});
                const f = await r.json();
                if (f.url) return {{ completed: true, data: f }};
                if (f.tasks && f.tasks.some((t) => t.status === "error")) return {{ completed: false, shouldContinue: false, error: "Image generation failed" }};
                return {{ completed: false }};
            }});"#
        ),
    )
}

fn upstream_options(extra: &str) -> JsValue {
    json(&format!(
        r#"{{"initialInterval": 20, "maxInterval": 40, "jitter": 0{}{extra}}}"#,
        if extra.is_empty() { "" } else { "," }
    ))
}

/// `smartPollingManager.startPolling(pollId, checker, options)`, awaited.
async fn check(poll_id: &str, f: js_sys::Function, options: JsValue) -> JsValue {
    let started =
        smart_polling::web::start_check_polling(poll_id, f, Some(options.unchecked_into()))
            .expect("started");
    promise(started.into()).await.expect("resolves")
}

#[wasm_bindgen_test]
async fn a_checker_runs_on_the_scheduler_in_the_old_modules_language() {
    install();
    route("/c/ok", responses(&[PENDING, PENDING, DONE]));
    let r = rec();
    let opts = upstream_options("");
    js_sys::Reflect::set(
        &opts,
        &"onProgress".into(),
        &field(&field(&r, "callbacks"), "oldProgress"),
    )
    .unwrap();
    let result = check("check-ok", checker("/c/ok"), opts).await;
    assert_eq!(field(&result, "success").as_bool(), Some(true));
    assert_eq!(text(field(&result, "method")), "success");
    assert_eq!(
        text(field(&field(&result, "data"), "url")),
        "https://cdn.example/x.png"
    );
    assert_eq!(field(&result, "attempts").as_f64(), Some(3.0));
    assert_eq!(times("/c/ok").len(), 3);
    // onProgress(attempt, elapsed, nextInterval, progress): three numbers first.
    let args = last(&r, "progressArgs");
    let args: Array = args.into();
    assert!(
        args.get(0).as_f64().is_some()
            && args.get(1).as_f64().is_some()
            && args.get(2).as_f64().is_some()
    );
    assert!(args.get(3).is_object());
    assert!(!smart_polling::web::is_poll_id_active("check-ok"));
}

#[wasm_bindgen_test]
async fn a_failed_check_resolves_with_its_message() {
    install();
    route(
        "/c/bad",
        responses(&[
            r#"{"body": {"id": "x", "url": null, "tasks": [{"id": "t", "status": "error"}]}}"#,
        ]),
    );
    let result = check("check-bad", checker("/c/bad"), upstream_options("")).await;
    assert_eq!(field(&result, "success").as_bool(), Some(false));
    assert_eq!(text(field(&result, "error")), "Image generation failed");
    assert_eq!(text(field(&result, "method")), "error");
    assert_eq!(
        text(field(&field(&result, "failure"), "kind")),
        "generation_failed"
    );
}

#[wasm_bindgen_test]
async fn a_thrown_429_waits_as_retry_after_says_beyond_max_interval() {
    install();
    route(
        "/c/rl",
        responses(&[r#"{"status": 429, "headers": {"Retry-After": "1"}}"#, DONE]),
    );
    let result = check("check-rl", checker("/c/rl"), upstream_options("")).await;
    assert_eq!(field(&result, "success").as_bool(), Some(true));
    let g = gaps("/c/rl");
    assert!(
        g[0] >= 990.0,
        "waited {} ms, though maxInterval is 40",
        g[0]
    );
}

#[wasm_bindgen_test]
async fn a_thrown_429_with_a_number_for_retry_after_waits_as_it_says() {
    // A hand-made error: `{ status: 429, headers: { "retry-after": 1 } }`.
    let calls = js_sys::Array::new();
    let f = js_sys::Function::new_with_args(
        "calls",
        r#"return () => { calls.push(performance.now());
            if (calls.length === 1) throw { status: 429, headers: { "retry-after": 1 } };
            return { completed: true, data: { url: "https://cdn.example/n.png" } }; };"#,
    )
    .call1(&JsValue::NULL, &calls)
    .expect("checker");
    let result = check("check-rl-n", f.unchecked_into(), upstream_options("")).await;
    assert_eq!(field(&result, "success").as_bool(), Some(true));
    let t: Vec<f64> = calls.iter().filter_map(|v| v.as_f64()).collect();
    assert_eq!(t.len(), 2);
    assert!(
        t[1] - t[0] >= 990.0,
        "waited {} ms, not maxInterval's 40",
        t[1] - t[0]
    );
}

#[wasm_bindgen_test]
async fn a_checker_that_throws_anything_is_an_error_not_a_crash() {
    let mut errors = Vec::new();
    for (i, body) in [
        "throw new Error('boom')",
        "throw 'a string'",
        "throw undefined",
        "return null",
        "return 42",
    ]
    .iter()
    .enumerate()
    {
        let f = js_sys::Function::new_no_args(body);
        let id = format!("check-throw-{i}");
        let options = upstream_options(r#""maxConsecutiveErrors": 2, "maxDuration": 400"#);
        let result = check(&id, f, options).await;
        assert_eq!(field(&result, "success").as_bool(), Some(false), "{body}");
        errors.push(text(field(&result, "error")));
    }
    // The checker's own words when it gave some.
    assert_eq!(errors[0], "boom");
    assert_eq!(errors[1], "a string");
    // An answer that is no object is an error of the attempt, not "pending"
    // until maxDuration.
    let no_object = |what: &str| {
        format!("The check failed: the checker resolved with {what}, not {{ completed, data?, error?, shouldContinue? }}")
    };
    assert_eq!(errors[3], no_object("null"));
    assert_eq!(errors[4], no_object("42"));
    assert!(errors.iter().all(|e| !e.is_empty()), "{errors:?}");
}

#[wasm_bindgen_test]
async fn a_checker_that_never_settles_is_bounded_by_the_deadline() {
    let f = js_sys::Function::new_no_args("return new Promise(() => {})");
    let t0 = now();
    let options = upstream_options(r#""maxDuration": 300, "requestTimeout": 5000"#);
    let result = check("check-hang", f, options).await;
    assert_eq!(text(field(&result, "method")), "timeout");
    let took = now() - t0;
    assert!((290.0..1500.0).contains(&took), "{took}");
}

#[wasm_bindgen_test]
async fn a_joining_caller_keeps_its_own_deadline() {
    install();
    route("/api/file/jd1", responses(&[PENDING]));
    stream("/api/events/file.jd1", json(r#"{"mode": "fail"}"#));
    let started = now();
    let long = smart_polling::web::poll_file_completion(
        "jd1",
        Some(json(r#"{"intervals": [40], "jitter": 0, "timeout": 60000}"#).unchecked_into()),
    )
    .expect("started");
    assert!(
        until(DEADLINE, || !times("/api/file/jd1").is_empty()).await,
        "it polls"
    );
    let t0 = now();
    let short = promise(
        smart_polling::web::poll_file_completion(
            "jd1",
            Some(json(r#"{"maxDuration": 200}"#).unchecked_into()),
        )
        .expect("joined")
        .into(),
    )
    .await
    .expect("resolves");
    let took = now() - t0;
    assert_eq!(text(field(&short, "method")), "timeout");
    assert!(
        (190.0..1000.0).contains(&took),
        "the joiner waited {took} ms, its own 200"
    );
    assert!(
        smart_polling::web::is_poll_id_active("file-jd1"),
        "the first caller's poll goes on"
    );
    // One schedule of requests for both callers: every 40 ms (and a round
    // trip), not twice as often.
    let n = times("/api/file/jd1").len();
    let elapsed = now() - started;
    assert!(
        n as f64 <= elapsed / 40.0 + 2.0,
        "{n} requests in {elapsed} ms at 40 ms"
    );
    assert!(smart_polling::web::stop_poll_id("file-jd1"));
    let first = promise(long.into()).await.expect("resolves");
    assert_eq!(text(field(&field(&first, "failure"), "kind")), "stopped");
}

/// Managers that share jobs across tabs: two of them in one page stand for
/// two tabs (same origin, same urls, one BroadcastChannel name, one lock per id).
fn tab(extra: &str) -> PollingManager {
    PollingManager::new(Some(tab_options(extra).unchecked_into())).expect("valid options")
}

fn tab_options(extra: &str) -> JsValue {
    let base = r#""fileUrl": "/t/{id}", "eventsUrl": null, "intervals": [40], "jitter": 0,
        "requestTimeout": 1000"#;
    let sep = if extra.is_empty() { "" } else { "," };
    json(&format!("{{{base}{sep}{extra}}}"))
}

#[wasm_bindgen_test]
async fn two_tabs_watching_one_id_share_one_poller() {
    install();
    route(
        "/t/s1",
        responses(&[PENDING, PENDING, PENDING, PENDING, DONE]),
    );
    let (a, b) = (tab(""), tab(""));
    let (ra, rb) = (rec(), rec());
    start(&a, "s1", &ra);
    wait(30).await;
    start(&b, "s1", &rb);
    assert!(
        until(DEADLINE, || count(&ra, "complete") == 1
            && count(&rb, "complete") == 1)
        .await
    );
    assert_eq!(
        times("/t/s1").len(),
        5,
        "one schedule of requests for both tabs"
    );
    assert_eq!(
        text(field(&last(&ra, "complete"), "url")),
        text(field(&last(&rb, "complete"), "url"))
    );
    let tabs: Vec<String> = [&ra, &rb]
        .iter()
        .map(|r| text(field(&last(r, "progress"), "tab")))
        .collect();
    assert!(tabs.contains(&"leader".to_owned()), "{tabs:?}");
    wait(100).await;
    assert_eq!(
        count(&ra, "complete") + count(&rb, "complete"),
        2,
        "once each"
    );
}

#[wasm_bindgen_test]
async fn a_pagehide_the_page_outlives_brings_its_tabs_back() {
    // An unload's `pagehide` steps every manager of the page down; one
    // dispatched by a script (the page goes on) must not leave the shared
    // jobs with nobody polling.
    install();
    route("/t/s9", responses(&[PENDING, PENDING, PENDING, DONE]));
    let (a, b) = (tab(""), tab(""));
    let (ra, rb) = (rec(), rec());
    start(&a, "s9", &ra);
    assert!(until(DEADLINE, || !times("/t/s9").is_empty()).await);
    start(&b, "s9", &rb);
    let hide = js_sys::Function::new_no_args(
        "dispatchEvent(new PageTransitionEvent('pagehide', { persisted: false }))",
    );
    hide.call0(&JsValue::NULL).expect("dispatched");
    assert!(
        until(DEADLINE, || count(&ra, "complete") == 1
            && count(&rb, "complete") == 1)
        .await,
        "requests {:?}",
        times("/t/s9")
    );
}

#[wasm_bindgen_test]
async fn when_the_leader_stops_another_tab_takes_over_without_restarting() {
    install();
    route(
        "/t/s2",
        responses(&[PENDING, PENDING, PENDING, PENDING, PENDING, PENDING, DONE]),
    );
    let (a, b) = (tab(""), tab(""));
    let (ra, rb) = (rec(), rec());
    start(&a, "s2", &ra);
    assert!(until(DEADLINE, || times("/t/s2").len() >= 3).await);
    start(&b, "s2", &rb);
    assert!(until(DEADLINE, || count(&rb, "progress") >= 1).await);
    // getPollingStatus says each tab's role, as onProgress does.
    let role = |m: &PollingManager| {
        let list: js_sys::Array = m.get_polling_status().unchecked_into();
        text(field(&list.get(0), "tab"))
    };
    assert!(
        until(DEADLINE, || role(&b) == "follower").await,
        "{}",
        role(&b)
    );
    assert_eq!(role(&a), "leader");
    let before = times("/t/s2").len();
    assert!(a.stop_polling("s2"), "the leader's tab lets go");
    assert!(until(DEADLINE, || count(&rb, "complete") == 1).await);
    assert_eq!(count(&ra, "complete"), 0);
    assert_eq!(times("/t/s2").len(), 7, "the schedule went on, not over");
    let p = last(&rb, "progress");
    assert!(
        field(&p, "attempt").as_f64().unwrap_or(0.0) >= before as f64,
        "attempts carried on"
    );
}

#[wasm_bindgen_test]
async fn a_tab_that_joins_later_gets_the_record_though_it_has_not_changed() {
    install();
    let mut list = vec![PENDING; 12];
    list.push(DONE);
    route("/t/s4", responses(&list));
    let (a, b) = (tab(""), tab(""));
    let (ra, rb) = (rec(), rec());
    start(&a, "s4", &ra);
    assert!(until(DEADLINE, || times("/t/s4").len() >= 3).await);
    start(&b, "s4", &rb);
    assert!(
        until(DEADLINE, || count(&rb, "update") == 1).await,
        "the record, unchanged"
    );
    assert_eq!(count(&rb, "complete"), 0);
    assert_eq!(count(&ra, "update"), 1, "not news to the leader");
    assert!(until(DEADLINE, || count(&rb, "complete") == 1).await);
}

/// Posts `messages` in order, as another tab would, on the channel of
/// managers made with `options` (the name the package builds, not a copy).
fn post_as_a_tab(options: &JsValue, messages: &[JsValue]) {
    let name = smart_polling::web::tabs_channel(options).expect("valid options");
    let post = js_sys::Function::new_with_args(
        "name, list",
        "const c = new BroadcastChannel(name); for (const m of list) c.postMessage(m); c.close();",
    );
    let list: Array = messages.iter().collect();
    post.call2(&JsValue::NULL, &name.into(), &list)
        .expect("posted");
}

/// The records a recorder's `onUpdate` got, as JSON text.
fn updates(rec: &JsValue) -> Vec<String> {
    let events: Array = field(rec, "events").unchecked_into();
    events
        .iter()
        .filter(|e| text(field(e, "type")) == "update")
        .map(|e| text(JSON::stringify(&field(&e, "value")).expect("JSON").into()))
        .collect()
}

#[wasm_bindgen_test]
async fn forged_or_foreign_messages_are_ignored() {
    install();
    route("/t/s3", responses(&[PENDING]));
    let (a, b) = (tab(""), tab(""));
    let (ra, rb) = (rec(), rec());
    start(&a, "s3", &ra);
    assert!(
        until(DEADLINE, || !times("/t/s3").is_empty()).await,
        "a leads"
    );
    start(&b, "s3", &rb);
    let follows = || text(field(&last(&rb, "progress"), "tab")) == "follower";
    assert!(until(DEADLINE, follows).await, "b follows");
    // First, a valid state on that channel is heard: the name is right.
    // (Valid: its numbers within the job's own limits, its record safe.)
    let probe = json(
        r#"{"v": 1, "type": "state", "kind": "file", "id": "s3", "attempt": 42, "elapsed": 1000,
            "channel": "polling", "position": 0, "fingerprint": 424242,
            "record": {"id": "probe", "url": null, "tasks": [{"id": "t", "status": "in_progress"}]}}"#,
    );
    post_as_a_tab(&tab_options(""), &[probe]);
    let heard = || updates(&rb).iter().any(|u| u.contains(r#""id":"probe""#));
    assert!(
        until(DEADLINE, heard).await,
        "the follower hears a valid state"
    );
    // Then forged messages, and last a valid end: when it is heard, every
    // message before it has been (one sender's messages arrive in order).
    let mut messages: Vec<JsValue> = [
        // Another version, then garbage, then completions whose url is a
        // script, then a timeout (each tab keeps its own), then a state
        // whose record carries a script url.
        r#"{"v": 2, "type": "end", "kind": "file", "id": "s3", "result": "complete", "url": "https://x/a.png", "record": {"url": "https://x/a.png"}}"#,
        r#"{"v": 1, "type": 7}"#,
        r#"{"v": 1, "type": "end", "kind": "file", "id": "s3", "result": "complete", "url": "javascript:alert(1)", "record": {"url": "javascript:alert(1)"}}"#,
        r#"{"v": 1, "type": "end", "kind": "file", "id": "s3", "result": "complete", "url": "https://x/b.png", "record": {"url": "javascript:alert(1)"}}"#,
        r#"{"v": 1, "type": "end", "kind": "file", "id": "s3", "result": "timeout"}"#,
        r#"{"v": 1, "type": "state", "kind": "file", "id": "s3", "attempt": 777, "elapsed": 1, "channel": "polling", "position": 0, "fingerprint": 7, "record": {"id": "forged", "url": "javascript:alert(1)"}}"#,
    ]
    .iter()
    .map(|m| json(m))
    .collect();
    messages.push(json(
        r#"{"v": 1, "type": "end", "kind": "file", "id": "s3", "result": "complete",
            "url": "https://cdn.example/valid.png", "record": {"id": "valid", "url": "https://cdn.example/valid.png"}}"#,
    ));
    post_as_a_tab(&tab_options(""), &messages);
    assert!(
        until(DEADLINE, || count(&rb, "complete") == 1).await,
        "the valid end"
    );
    assert_eq!(
        text(field(&last(&rb, "complete"), "url")),
        "https://cdn.example/valid.png",
        "nothing forged was trusted before it"
    );
    assert_eq!(count(&rb, "error"), 0, "no forged end");
    assert!(
        updates(&rb).iter().all(|u| !u.contains("javascript:")),
        "{:?}",
        updates(&rb)
    );
    let events: Array = field(&rb, "events").unchecked_into();
    assert!(
        events
            .iter()
            .all(|e| field(&field(&e, "value"), "attempt").as_f64() != Some(777.0)),
        "no forged progress"
    );
    // The leader trusts none of it either.
    assert_eq!(count(&ra, "complete") + count(&ra, "error"), 0);
    assert!(a.is_polling("s3"));
    a.stop_all_polling();
}

/// Starts 4 turns' worth of jobs, all due when the timer first fires, and
/// counts the requests that first timer task sent.
async fn sent_in_one_task(prefix: &str) -> usize {
    let m = tab(r#""shareAcrossTabs": false, "maxConcurrentRequests": 64"#);
    let r = rec();
    for group in 0..4 {
        // Each group in its own millisecond: no herd spreading of first polls.
        let t = now();
        while now() - t < 2.0 {}
        for i in 0..16 {
            let id = format!("{prefix}{group}-{i}");
            route(&format!("/t/{id}"), responses(&[PENDING]));
            start(&m, &id, &r);
        }
    }
    // The manager's timer was armed first: this wait ends after its task.
    wait(0).await;
    let sent = (0..4)
        .flat_map(|g| (0..16).map(move |i| format!("/t/{prefix}{g}-{i}")))
        .filter(|u| !times(u).is_empty())
        .count();
    m.stop_all_polling();
    sent
}

#[wasm_bindgen_test]
async fn a_hidden_tab_takes_several_turns_per_task() {
    install();
    assert_eq!(
        sent_in_one_task("v").await,
        16,
        "visible: one turn per task"
    );
    set_visibility(false);
    let hidden = sent_in_one_task("h").await;
    set_visibility(true);
    assert_eq!(hidden, 64, "hidden: the turns a task allows");
}

/// The locks this page holds or waits for, by name.
async fn locks() -> Vec<String> {
    let query = js_sys::Function::new_no_args(
        "return navigator.locks.query().then(s => [...s.held, ...s.pending].map(l => l.name))",
    );
    let names = promise(query.call0(&JsValue::NULL).expect("query"))
        .await
        .expect("locks");
    js_sys::Array::from(&names)
        .iter()
        .filter_map(|n| n.as_string())
        .collect()
}

/// The locks whose names contain `part`, once there are `n` of them (or
/// when `limit` ms have passed).
async fn locks_of(part: &str, n: usize, limit: u32) -> Vec<String> {
    let start = now();
    loop {
        let mine: Vec<String> = locks()
            .await
            .into_iter()
            .filter(|l| l.contains(part))
            .collect();
        if mine.len() == n || now() - start > f64::from(limit) {
            return mine;
        }
        wait(10).await;
    }
}

#[wasm_bindgen_test]
async fn a_stopped_job_leaves_no_lock_behind() {
    install();
    let a = tab("");
    let r = rec();
    // Stopped before its claim, while it is asked for, just after it is
    // granted, and while it leads.
    for (i, delay) in [0, 1, 2, 4, 8, 16, 100].into_iter().enumerate() {
        let id = format!("s5-{i}");
        route(&format!("/t/{id}"), responses(&[PENDING]));
        start(&a, &id, &r);
        wait(delay).await;
        assert!(a.stop_polling(&id));
    }
    let left = locks_of("/file/s5-", 0, DEADLINE).await;
    assert!(left.is_empty(), "{left:?}");
    // Stopped right after its lock is granted, before it takes the lead:
    // the lock manager's request is wrapped to stop the job then.
    let a = std::rc::Rc::new(a);
    let stopper = a.clone();
    let stop = Closure::<dyn FnMut()>::new(move || {
        stopper.stop_polling("s5-7");
    });
    let patch = js_sys::Function::new_with_args(
        "stop",
        r#"const locks = navigator.locks, request = locks.request;
        locks.request = (name, ...rest) => {
            const granted = rest.pop();
            return request.call(locks, name, ...rest, (lock) => { const held = granted(lock); stop(); return held; });
        };
        return () => { delete locks.request; };"#,
    );
    let unpatch: js_sys::Function = patch
        .call1(&JsValue::NULL, stop.as_ref())
        .expect("patched")
        .unchecked_into();
    route("/t/s5-7", responses(&[PENDING]));
    start(&a, "s5-7", &r);
    assert!(
        until(DEADLINE, || !a.is_polling("s5-7")).await,
        "stopped when granted"
    );
    unpatch.call0(&JsValue::NULL).expect("unpatched");
    let left = locks_of("/file/s5-7", 0, DEADLINE).await;
    assert!(left.is_empty(), "{left:?}");
    assert!(times("/t/s5-7").is_empty());
    // Stopped while its request waits behind another tab's lock: granted
    // when that tab lets go, and let go at once.
    route("/t/s5-8", responses(&[PENDING]));
    let (lead, queued) = (tab(""), tab(""));
    start(&lead, "s5-8", &r);
    assert!(until(DEADLINE, || !times("/t/s5-8").is_empty()).await);
    start(&queued, "s5-8", &r);
    let both = locks_of("/file/s5-8", 2, DEADLINE).await;
    assert_eq!(both.len(), 2, "held and asked for: {both:?}");
    assert!(queued.stop_polling("s5-8"));
    let one = locks_of("/file/s5-8", 1, DEADLINE).await;
    assert_eq!(one.len(), 1, "the stopped tab's request withdrawn: {one:?}");
    // Started and stopped again and again in the following tab (a
    // component that remounts): nothing queued behind.
    for delay in [0, 1, 5, 0, 1, 5, 0, 1, 5, 20] {
        start(&queued, "s5-8", &r);
        wait(delay).await;
        assert!(queued.stop_polling("s5-8"));
    }
    let one = locks_of("/file/s5-8", 1, DEADLINE).await;
    assert_eq!(one.len(), 1, "{one:?}");
    // Its manager's jobs stopped (what free() does first), the manager gone.
    start(&queued, "s5-8", &r);
    assert_eq!(locks_of("/file/s5-8", 2, DEADLINE).await.len(), 2);
    queued.stop_all_polling();
    drop(queued);
    let one = locks_of("/file/s5-8", 1, DEADLINE).await;
    assert_eq!(one.len(), 1, "{one:?}");
    assert!(lead.stop_polling("s5-8"));
    let left = locks_of("/file/s5-8", 0, DEADLINE).await;
    assert!(left.is_empty(), "{left:?}");
    // Many at once (their locks are let go of a batch per task): every one.
    // (A poll a second each: leading is the point, not the load.)
    let many = tab(r#""intervals": [1000]"#);
    for i in 0..600 {
        let id = format!("s5-m{i}");
        route(&format!("/t/{id}"), responses(&[PENDING]));
        start(&many, &id, &r);
    }
    let polled = || urls_requested("/t/s5-m") == 600;
    assert!(until(DEADLINE, polled).await, "all lead");
    many.stop_all_polling();
    let left = locks_of("/file/s5-m", 0, DEADLINE).await;
    assert_eq!(left.len(), 0, "locks still held after the deadline");
    // And the ids can be led again: a new job of one of them polls.
    route("/t/s5-6", responses(&[PENDING, DONE]));
    let b = tab("");
    start(&b, "s5-6", &r);
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
}

#[wasm_bindgen_test]
async fn a_job_started_again_in_its_lock_grace_takes_the_lock_and_polls_at_once() {
    // The page starts the id again right after its job ended here (a
    // reload's recovery check, then the fallback): the new job takes the
    // lock the ended one keeps for a second, and polls at once.
    install();
    route("/t/s7", responses(&[PENDING, DONE, PENDING, DONE]));
    let a = tab("");
    let r = rec();
    start(&a, "s7", &r);
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    let ended = now();
    let again = rec();
    start(&a, "s7", &again);
    assert!(until(DEADLINE, || times("/t/s7").len() == 3).await);
    let first = times("/t/s7")[2] - ended;
    assert!(
        first < 500.0,
        "the new job's first request {first} ms after the end"
    );
    let held = locks_of("/file/s7", 1, DEADLINE).await;
    assert_eq!(
        held.len(),
        1,
        "one lock, the ended job's, handed on: {held:?}"
    );
    assert!(until(DEADLINE, || count(&again, "complete") == 1).await);
}

#[wasm_bindgen_test]
async fn a_leader_keeps_an_ended_jobs_lock_a_moment_then_lets_go() {
    install();
    route("/t/s6", responses(&[PENDING, DONE]));
    let a = tab("");
    let r = rec();
    start(&a, "s6", &r);
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    let ended = last_event_time(&r);
    // Watch the lock: the last time it was seen held (it was, at some
    // moment after the query was asked), the first time seen let go.
    let (mut held_at, mut gone_at) = (None, None);
    while now() - ended < 10_000.0 {
        let asked = now();
        if locks().await.iter().any(|n| n.contains("/file/s6")) {
            held_at = Some(asked - ended);
        } else {
            gone_at = Some(now() - ended);
            break;
        }
        wait(5).await;
    }
    let held_at = held_at.expect("kept for the others to hear the end first");
    let gone_at = gone_at.expect("let go after the grace");
    // The grace is a second: held well into it (not let go at the end),
    // let go within three.
    assert!(
        held_at >= 800.0,
        "last seen held {held_at} ms after the end"
    );
    assert!(gone_at < 3000.0, "let go {gone_at} ms after the end");
}

#[wasm_bindgen_test]
async fn share_across_tabs_false_polls_alone() {
    install();
    route("/t/s4", responses(&[PENDING, DONE]));
    let (a, b) = (tab(""), tab(r#""shareAcrossTabs": false"#));
    let (ra, rb) = (rec(), rec());
    start(&a, "s4", &ra);
    start(&b, "s4", &rb);
    assert!(
        until(DEADLINE, || count(&ra, "complete") == 1
            && count(&rb, "complete") == 1)
        .await
    );
    assert!(times("/t/s4").len() >= 3, "each manager polled on its own");
    assert!(field(&last(&rb, "progress"), "tab").is_undefined());
}

// ---------------------------------------------------------------------------
// The shipped reader: every stream message of tests/cases (the table
// tests/records.rs reads natively) sent through the real manager and a fake
// EventSource, and judged by what the page then hears.

/// What a job does with one stream message, as the page and the server see it.
#[derive(Clone, Debug, PartialEq)]
enum Heard {
    /// Garbage: the stream is closed (`maxStreamGarbage: 1`), polling takes over.
    FellBack,
    /// Ignored, or a task status that changes nothing.
    Nothing,
    /// A progress report with this percentage.
    Percent(f64),
    /// onUpdate with the message's record.
    Update,
    /// A poll soon after (a `task_status` of completed).
    PollSoon,
    Complete(String),
    Error(String),
}

fn expected(want: &StreamEvent) -> Heard {
    match want {
        StreamEvent::Garbage => Heard::FellBack,
        StreamEvent::Ignored => Heard::Nothing,
        StreamEvent::Progress(p) => Heard::Percent(f64::from(*p)),
        StreamEvent::Result(url) => Heard::Complete(url.clone()),
        StreamEvent::Task(TaskStatus::Completed) => Heard::PollSoon,
        StreamEvent::Task(TaskStatus::Error) => Heard::Error("generation_failed".into()),
        StreamEvent::Task(_) => Heard::Nothing,
        StreamEvent::File { state, .. } => match state {
            State::Pending => Heard::Update,
            State::Complete { url } => Heard::Complete(url.clone().unwrap_or_default()),
            State::Failed => Heard::Error("generation_failed".into()),
            State::UnsafeUrl => Heard::Error("invalid_url".into()),
        },
    }
}

/// The `progress` field of every progress report from the `from`th event on.
fn percents_since(rec: &JsValue, from: u32) -> Vec<Option<f64>> {
    let events: Array = field(rec, "events").unchecked_into();
    (from..events.length())
        .map(|i| events.get(i))
        .filter(|e| text(field(e, "type")) == "progress")
        .map(|e| field(&field(&e, "value"), "progress").as_f64())
        .collect()
}

fn events_len(rec: &JsValue) -> u32 {
    Array::from(&field(rec, "events")).length()
}

const SENTINEL_PERCENT: f64 = 77.0;

#[wasm_bindgen_test]
async fn every_stream_case_reads_as_listed_through_the_shipped_reader() {
    install();
    let cases = cases::stream_cases();
    let file = |i: usize| format!("/sc/sc{i}");
    let events = |i: usize| format!("/sce/sc{i}");
    let jobs: Vec<(PollingManager, JsValue)> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| {
            route(&file(i), responses(&[PENDING]));
            stream(&events(i), json(r#"{"mode": "open"}"#));
            let media = match c.media {
                Media::Any => "any",
                Media::Image => "image",
                Media::Video => "video",
            };
            let o = json(&format!(
                r#"{{"fileUrl": "/sc/{{id}}", "eventsUrl": "/sce/{{id}}", "media": "{media}",
                    "intervals": [50], "jitter": 0, "streamPollInterval": 0, "maxStreamGarbage": 1,
                    "sseConnectTimeout": 10000, "learn": false, "shareAcrossTabs": false}}"#
            ));
            let m = PollingManager::new(Some(o.unchecked_into())).expect("valid options");
            let r = rec();
            start(&m, &format!("sc{i}"), &r);
            (m, r)
        })
        .collect();
    let n = cases.len();
    // Every stream open, and its catch-up poll answered (the route's record).
    let ready = until(DEADLINE, || {
        (0..n).all(|i| open_streams(&events(i)) == 1 && count(&jobs[i].1, "update") == 1)
    })
    .await;
    assert!(ready, "every job streams");
    let before: Vec<u32> = jobs.iter().map(|(_, r)| events_len(r)).collect();
    // The case, then a progress report every job would show.
    let sentinel = r#"{"type": "render_progress", "object": {"progress": 77}}"#;
    for (i, c) in cases.iter().enumerate() {
        emit_stream(&events(i), "message", c.raw.as_str().into());
        emit_stream(&events(i), "message", sentinel.into());
    }
    let answered = |i: usize| {
        let r = &jobs[i].1;
        count(r, "complete") + count(r, "error") > 0
            || open_streams(&events(i)) == 0
            || percents_since(r, before[i]).contains(&Some(SENTINEL_PERCENT))
    };
    assert!(
        until(DEADLINE, || (0..n).all(answered)).await,
        "every job answered"
    );
    let soon = |i: usize| expected(&cases[i].want) == Heard::PollSoon;
    assert!(
        until(DEADLINE, || (0..n).filter(|&i| soon(i)).all(|i| times(
            &file(i)
        )
        .len()
            >= 2))
        .await,
        "a completed task status polls"
    );
    // Proving absences: no poll, update or end where none is due, over
    // eight times the 50 ms a completed task status waits before its poll.
    wait(400).await;
    let heard = |i: usize| {
        let r = &jobs[i].1;
        let percents = percents_since(r, before[i]);
        if count(r, "error") > 0 {
            Heard::Error(text(field(&last(r, "error"), "kind")))
        } else if count(r, "complete") > 0 {
            Heard::Complete(text(field(&last(r, "complete"), "url")))
        } else if open_streams(&events(i)) == 0 {
            Heard::FellBack
        } else if count(r, "update") > 1 {
            Heard::Update
        } else if times(&file(i)).len() > 1 {
            Heard::PollSoon
        } else if percents.len() > 1 {
            Heard::Percent(percents[0].unwrap_or(f64::NAN))
        } else {
            Heard::Nothing
        }
    };
    let mut wrong = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let (want, got) = (expected(&c.want), heard(i));
        // What follows the case: the sentinel, unless the stream is gone.
        let sentinel_heard =
            percents_since(&jobs[i].1, before[i]).last() == Some(&Some(SENTINEL_PERCENT));
        let stream_goes_on = matches!(
            want,
            Heard::Nothing | Heard::Percent(_) | Heard::Update | Heard::PollSoon
        );
        // A result waits for its record with the stream open: the sentinel
        // may be heard meanwhile, or not.
        let waits = matches!(c.want, StreamEvent::Result(_));
        if want != got || (sentinel_heard != stream_goes_on && !waits) {
            wrong.push(format!(
                "{} {:?} {}: want {want:?}, got {got:?} (sentinel heard: {sentinel_heard})",
                c.rule, c.media, c.raw
            ));
        }
    }
    for (m, _) in &jobs {
        m.stop_all_polling();
    }
    assert!(
        wrong.is_empty(),
        "{} of {n} cases:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// What a job does with one answer of the server, as the page sees it.
#[derive(Clone, Debug, PartialEq)]
enum Answered {
    /// onUpdate with the record, and the job polls on.
    Pending,
    Complete(String),
    Error(String),
    /// An unreadable answer: a transient `invalid_response`, the record
    /// never reaching the page.
    Invalid,
}

fn answered_as(want: &Result<State, smart_polling::PollError>) -> Answered {
    match want {
        Ok(State::Pending) => Answered::Pending,
        Ok(State::Complete { url }) => Answered::Complete(url.clone().unwrap_or_default()),
        Ok(State::Failed) => Answered::Error("generation_failed".into()),
        Ok(State::UnsafeUrl) => Answered::Error("invalid_url".into()),
        Err(_) => Answered::Invalid,
    }
}

#[wasm_bindgen_test]
async fn every_record_case_reads_as_listed_through_the_shipped_reader() {
    install();
    let cases = cases::record_cases();
    let url = |i: usize, record: cases::Record| match record {
        cases::Record::File => format!("/rc/rc{i}"),
        cases::Record::Project => format!("/rp/rc{i}"),
    };
    let jobs: Vec<(PollingManager, JsValue)> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| {
            // The body exactly as the table has it.
            let answer = js_sys::Object::new();
            js_sys::Reflect::set(&answer, &"body".into(), &c.body.as_str().into()).expect("set");
            route(&url(i, c.record), Array::of1(&answer).into());
            let media = match c.media {
                Media::Any => "any",
                Media::Image => "image",
                Media::Video => "video",
            };
            let o = json(&format!(
                r#"{{"fileUrl": "/rc/{{id}}", "projectUrl": "/rp/{{id}}", "eventsUrl": null,
                    "media": "{media}", "intervals": [50], "jitter": 0, "initialDelay": 50,
                    "learn": false, "shareAcrossTabs": false}}"#
            ));
            let m = PollingManager::new(Some(o.unchecked_into())).expect("valid options");
            let r = rec();
            let callbacks = field(&r, "callbacks");
            let id = format!("rc{i}");
            match c.record {
                cases::Record::File => m
                    .start_polling(&id, Some(callbacks.unchecked_into()), None)
                    .expect("started"),
                cases::Record::Project => {
                    // The Promise form, whose result carries the url the
                    // reader found (onComplete gets the whole record).
                    let o = json(r#"{"maxConsecutiveErrors": 100}"#);
                    let set = |k: &str, v: &str| {
                        js_sys::Reflect::set(&o, &k.into(), &field(&callbacks, v)).expect("set")
                    };
                    set("onUpdate", "onUpdate");
                    set("onError", "onRetry");
                    let p = m.poll_project_completion(&id, Some(o.unchecked_into()));
                    settle_into(&p.expect("started").into(), &callbacks);
                }
            }
            (m, r)
        })
        .collect();
    let n = cases.len();
    // Each job has answered: it ended, retried, or heard the record and
    // polled again.
    let answered = |i: usize| {
        let r = &jobs[i].1;
        count(r, "complete") + count(r, "error") + count(r, "retry") > 0
            || (count(r, "update") > 0 && times(&url(i, cases[i].record)).len() >= 2)
    };
    assert!(
        until(DEADLINE, || (0..n).all(answered)).await,
        "every job answered"
    );
    let heard = |i: usize| {
        let r = &jobs[i].1;
        if count(r, "error") > 0 {
            Answered::Error(text(field(&last(r, "error"), "kind")))
        } else if count(r, "complete") > 0 {
            Answered::Complete(text(field(&last(r, "complete"), "url")))
        } else if count(r, "update") == 0 && retries(r).starts_with("invalid_response:") {
            Answered::Invalid
        } else if count(r, "update") > 0 && count(r, "retry") == 0 {
            Answered::Pending
        } else {
            Answered::Error(format!(
                "updates {}, retries {}",
                count(r, "update"),
                retries(r)
            ))
        }
    };
    let mut wrong = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let (want, got) = (answered_as(&c.want), heard(i));
        if want != got {
            wrong.push(format!(
                "{} {:?} {}: want {want:?}, got {got:?}",
                c.rule, c.media, c.body
            ));
        }
    }
    for (m, _) in &jobs {
        m.stop_all_polling();
    }
    assert!(
        wrong.is_empty(),
        "{} of {n} cases:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
