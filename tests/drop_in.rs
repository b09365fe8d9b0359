//! Browser tests of what an adopting team meets first: the old module's
//! functions keep its behaviour (polling only, `onProgress` once before each
//! attempt, no limit it did not have), and mistakes at the API say what is
//! wrong (the nearest option name, callbacks that are not functions, a
//! stream message that cannot be read). Against the scripted fake server of
//! tests/support/fake_server.js, as tests/web.rs.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Promise, JSON};
use smart_polling::web::{
    configure_defaults, poll_file_completion, start_check_polling, stop_all_poll_ids,
    PollingManager,
};
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
    #[wasm_bindgen(js_name = streamsCreated)]
    fn streams_created(url: &str) -> u32;
    fn sleep(ms: u32) -> Promise;
    fn now() -> f64;
    fn recorder(options: JsValue) -> JsValue;
    fn count(rec: &JsValue, kind: &str) -> u32;
    fn retries(rec: &JsValue) -> String;
    fn field(obj: &JsValue, key: &str) -> JsValue;
    #[wasm_bindgen(js_name = captureLogs)]
    fn capture_logs() -> JsValue;
    #[wasm_bindgen(js_name = emitStream)]
    fn emit_stream(url: &str, kind: &str, data: JsValue);
    #[wasm_bindgen(js_name = openStreams)]
    fn open_streams(url: &str) -> u32;
    fn joined(list: &JsValue) -> String;
}

const PENDING: &str = r#"{"body": {"id": "x", "url": null, "type": "image", "tasks": [{"id": "t", "status": "in_progress"}]}}"#;
const DONE: &str = r#"{"body": {"id": "x", "url": "https://cdn.example/x.png", "type": "image", "tasks": [{"id": "t", "status": "COMPLETED"}]}}"#;

fn json(text: &str) -> JsValue {
    JSON::parse(text).expect("test JSON")
}

fn responses(list: &[&str]) -> JsValue {
    json(&format!("[{}]", list.join(",")))
}

fn text(v: JsValue) -> String {
    v.as_string().unwrap_or_default()
}

async fn wait(ms: u32) {
    JsFuture::from(sleep(ms)).await.expect("sleep");
}

/// How long a wait for an event may take before the test fails: generous
/// (a loaded machine is slow), and free when the event comes.
const DEADLINE: u32 = 20_000;

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

async fn settled(p: JsValue) -> JsValue {
    JsFuture::from(Promise::from(p))
        .await
        .expect("resolves, never rejects")
}

/// The recorder's `progressArgs`: each old-form `onProgress` call's arguments.
fn progress_calls(rec: &JsValue) -> Vec<Array> {
    let events: Array = field(rec, "events").unchecked_into();
    events
        .iter()
        .filter(|e| text(field(e, "type")) == "progressArgs")
        .map(|e| field(&e, "value").unchecked_into())
        .collect()
}

fn numbers(calls: &[Array], i: u32) -> Vec<f64> {
    calls
        .iter()
        .map(|a| a.get(i).as_f64().expect("a number"))
        .collect()
}

/// Options of the old module's form, with the recorder's `oldProgress`
/// as `onProgress`.
fn old_options(rec: &JsValue, extra: &str) -> JsValue {
    let o = json(&format!(
        r#"{{"initialInterval": 20, "maxInterval": 40, "jitter": 0{extra}}}"#
    ));
    let f = field(&field(rec, "callbacks"), "oldProgress");
    js_sys::Reflect::set(&o, &"onProgress".into(), &f).expect("set");
    o
}

fn manager(extra: &str) -> PollingManager {
    let o = json(&format!(
        r#"{{"fileUrl": "/f/{{id}}", "eventsUrl": "/e/{{id}}", "intervals": [20],
            "jitter": 0, "sseConnectTimeout": 150, "shareAcrossTabs": false{extra}}}"#
    ));
    PollingManager::new(Some(o.unchecked_into())).expect("valid options")
}

fn message(e: &JsValue) -> String {
    text(field(e, "message"))
}

#[wasm_bindgen_test]
async fn the_old_forms_on_progress_runs_once_before_each_request() {
    install();
    route(
        "/api/file/op1",
        responses(&[PENDING, PENDING, PENDING, DONE]),
    );
    let r = recorder(JsValue::UNDEFINED);
    let result = settled(
        poll_file_completion("op1", Some(old_options(&r, "").unchecked_into()))
            .expect("started")
            .into(),
    )
    .await;
    assert_eq!(field(&result, "success").as_bool(), Some(true));
    let calls = progress_calls(&r);
    assert_eq!(times("/api/file/op1"), 4, "four requests");
    assert_eq!(calls.len(), 4, "one onProgress per request");
    assert_eq!(numbers(&calls, 0), [1.0, 2.0, 3.0, 4.0], "attempts from 1");
    // The waits that follow each attempt: 20 ms, then the cap of 40.
    assert_eq!(numbers(&calls, 2), [20.0, 40.0, 40.0, 40.0]);
    let elapsed = numbers(&calls, 1);
    assert!(elapsed.windows(2).all(|w| w[0] <= w[1]), "{elapsed:?}");
    assert!(elapsed[3] >= 20.0 + 40.0 + 40.0 - 1.0, "{elapsed:?}");
    let p = calls[3].get(3);
    assert_eq!(
        field(&p, "attempt").as_f64(),
        Some(4.0),
        "the progress object last"
    );
    assert_eq!(
        streams_created("/api/events/file.op1"),
        0,
        "the old module's functions poll only"
    );
}

fn times(url: &str) -> usize {
    request_times(url).length() as usize
}

#[wasm_bindgen_test]
async fn a_checkers_on_progress_counts_its_calls() {
    install();
    let calls = std::rc::Rc::new(std::cell::Cell::new(0));
    let seen = calls.clone();
    let checker = Closure::<dyn FnMut() -> JsValue>::new(move || {
        seen.set(seen.get() + 1);
        json(&format!(r#"{{"completed": {}}}"#, seen.get() == 3))
    });
    let r = recorder(JsValue::UNDEFINED);
    let result = settled(
        start_check_polling(
            "old-progress",
            checker.as_ref().clone().unchecked_into(),
            Some(old_options(&r, "").unchecked_into()),
        )
        .expect("started")
        .into(),
    )
    .await;
    assert_eq!(field(&result, "success").as_bool(), Some(true));
    assert_eq!(calls.get(), 3);
    let progress = progress_calls(&r);
    assert_eq!(numbers(&progress, 0), [1.0, 2.0, 3.0]);
    assert_eq!(numbers(&progress, 2), [20.0, 40.0, 40.0]);
}

#[wasm_bindgen_test]
async fn configure_defaults_opts_the_helpers_into_the_stream() {
    install();
    route("/api/file/cd1", responses(&[PENDING, DONE]));
    stream("/api/events/file.cd1", json(r#"{"mode": "fail"}"#));
    configure_defaults(Some(
        json(r#"{"eventsUrl": "/api/events/file.{id}", "shareAcrossTabs": false}"#)
            .unchecked_into(),
    ))
    .expect("valid options");
    let opts = json(r#"{"intervals": [20], "jitter": 0, "sseConnectTimeout": 200}"#);
    let running = poll_file_completion("cd1", Some(opts.unchecked_into())).expect("started");
    // While it polls, the shared manager's settings cannot change.
    let busy = configure_defaults(None).expect_err("busy");
    assert!(
        message(&busy).contains("before the first"),
        "{}",
        message(&busy)
    );
    let result = settled(running.into()).await;
    assert_eq!(field(&result, "success").as_bool(), Some(true));
    assert_eq!(
        streams_created("/api/events/file.cd1"),
        1,
        "the stream was tried"
    );
    // Back to polling only.
    configure_defaults(None).expect("idle again");
    route("/api/file/cd2", responses(&[DONE]));
    let result = settled(poll_file_completion("cd2", None).expect("started").into()).await;
    assert_eq!(field(&result, "success").as_bool(), Some(true));
    assert_eq!(streams_created("/api/events/file.cd2"), 0);
    let bad = configure_defaults(Some(json(r#"{"eventUrl": null}"#).unchecked_into()))
        .expect_err("a misspelt option");
    assert!(bad.is_instance_of::<js_sys::RangeError>());
    assert!(
        message(&bad).contains(r#"did you mean "eventsUrl"?"#),
        "{}",
        message(&bad)
    );
}

#[wasm_bindgen_test]
async fn the_promise_form_has_no_limit_the_old_module_lacked() {
    install();
    // Twelve 404s in a row: more than `maxNotFound`'s default of 10.
    let mut list = vec![r#"{"status": 404}"#; 12];
    list.push(DONE);
    route("/api/file/nf1", responses(&list));
    let opts = json(r#"{"intervals": [5], "jitter": 0}"#);
    let result = settled(
        poll_file_completion("nf1", Some(opts.unchecked_into()))
            .expect("started")
            .into(),
    )
    .await;
    assert_eq!(
        field(&result, "success").as_bool(),
        Some(true),
        "{}",
        text(field(&result, "error"))
    );
    assert_eq!(field(&result, "attempts").as_f64(), Some(13.0));
    // A PollingManager keeps its own limit.
    route("/f/nf2", responses(&[r#"{"status": 404}"#]));
    let m = manager(r#", "maxNotFound": 3"#);
    let r = recorder(JsValue::UNDEFINED);
    m.start_polling("nf2", Some(field(&r, "callbacks").unchecked_into()), None)
        .expect("started");
    assert!(until(DEADLINE, || count(&r, "error") == 1).await);
    assert_eq!(times("/f/nf2"), 3);
}

#[wasm_bindgen_test]
fn a_misspelt_option_names_the_nearest_one() {
    let cases = [
        (r#"{"maxDurration": 5000}"#, "maxDuration"),
        (r#"{"timeOut": 5000}"#, "timeout"),
        (r#"{"maxConcurentRequests": 2}"#, "maxConcurrentRequests"),
    ];
    for (bad, want) in cases {
        let err = PollingManager::new(Some(json(bad).unchecked_into()))
            .err()
            .expect(bad);
        assert!(err.is_instance_of::<js_sys::RangeError>(), "{bad}");
        let hint = format!(r#"did you mean "{want}"?"#);
        assert!(message(&err).contains(&hint), "{bad}: {}", message(&err));
    }
    // Far from every name: no guess.
    let err = PollingManager::new(Some(json(r#"{"colour": 1}"#).unchecked_into()))
        .err()
        .expect("unknown");
    assert_eq!(message(&err), r#"unknown option "colour""#);
    // The Promise form too, with its callback names among the candidates.
    let err = poll_file_completion("x", Some(json(r#"{"onProgres": 1}"#).unchecked_into()))
        .err()
        .expect("misspelt");
    assert!(
        message(&err).contains(r#"did you mean "onProgress"?"#),
        "{}",
        message(&err)
    );
}

#[wasm_bindgen_test]
fn callbacks_are_checked_where_they_are_given() {
    let m = manager("");
    let not_a_function = json(r#"{"onComplete": "done"}"#);
    let err = m
        .start_polling("cb1", Some(not_a_function.unchecked_into()), None)
        .expect_err("a string is no callback");
    assert!(err.is_instance_of::<js_sys::TypeError>());
    assert_eq!(message(&err), "onComplete must be a function (got string)");

    let misspelt = js_sys::Object::new();
    let f = js_sys::Function::new_no_args("");
    js_sys::Reflect::set(&misspelt, &"onCompleted".into(), &f).expect("set");
    let err = m
        .start_polling("cb1", Some(JsValue::from(misspelt).unchecked_into()), None)
        .expect_err("an unknown callback");
    assert!(err.is_instance_of::<js_sys::RangeError>());
    assert_eq!(
        message(&err),
        r#"unknown callback "onCompleted"; did you mean "onComplete"?"#
    );
    assert_eq!(m.active_count(), 0, "neither started a job");

    // A class instance's own fields are its business.
    let instance = json(r#"{"state": 1, "label": "card"}"#);
    js_sys::Reflect::set(&instance, &"onUpdate".into(), &f).expect("set");
    m.start_polling("cb2", Some(instance.unchecked_into()), None)
        .expect("accepted");
    m.stop_all_polling();

    let err = poll_file_completion("cb3", Some(json(r#"{"onProgress": 5}"#).unchecked_into()))
        .err()
        .expect("a number is no callback");
    assert!(err.is_instance_of::<js_sys::TypeError>());
    assert_eq!(message(&err), "onProgress must be a function (got number)");

    let err = start_check_polling("cb4", json("{}").unchecked_into(), None)
        .err()
        .expect("a checker must be a function");
    assert!(err.is_instance_of::<js_sys::TypeError>());
    assert!(message(&err).starts_with("checker must be a function"));
}

#[wasm_bindgen_test]
async fn debug_says_what_a_stream_message_lacked() {
    install();
    route("/f/g1", responses(&[PENDING, DONE]));
    stream(
        "/e/g1",
        json(
            r#"{"mode": "open", "messages": [
            {"after": 10, "data": {"type": "render_progress", "object": {"percent": 5}}},
            {"after": 10, "data": "not json"},
            {"after": 10, "data": {"type": "render_result", "object": {}}}]}"#,
        ),
    );
    let logs = capture_logs();
    let m = manager(r#", "debug": true, "streamPollInterval": 0"#);
    let r = recorder(JsValue::UNDEFINED);
    m.start_polling("g1", Some(field(&r, "callbacks").unchecked_into()), None)
        .expect("started");
    let done = until(DEADLINE, || count(&r, "complete") == 1).await;
    js_sys::Function::from(field(&logs, "restore"))
        .call0(&logs)
        .expect("restore");
    assert!(done, "the job completed by polling");
    let lines = joined(&field(&logs, "lines"));
    for want in [
        r#"render_progress message needs "object": {"progress": <number 0-100>}"#,
        r#"not a JSON object with a string "type""#,
        r#"render_result message needs "object": {"url""#,
        "got: not json",
        "stream sent maxStreamGarbage unreadable messages in a row: polling",
    ] {
        assert!(lines.contains(want), "{want} in:\n{lines}");
    }
}

#[wasm_bindgen_test]
async fn a_fetch_that_throws_synchronously_is_a_network_error_at_once() {
    install();
    route("/f/st1", responses(&[r#"{"syncThrow": true}"#, DONE]));
    let m = manager(r#", "eventsUrl": null, "initialDelay": 10, "requestTimeout": 60000"#);
    let r = recorder(JsValue::UNDEFINED);
    let t0 = now();
    m.start_polling("st1", Some(field(&r, "callbacks").unchecked_into()), None)
        .expect("started");
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
    assert!(retries(&r).starts_with("network:"), "{}", retries(&r));
    // Not after the minute-long request timeout.
    assert!(now() - t0 < 30_000.0);
    stop_all_poll_ids();
}

// ---------------------------------------------------------------------------
// What reaches the page is safe: every url field, of any JSON type, through
// every copy the package makes.

fn stream_of(raw: &[&str]) -> JsValue {
    let messages = Array::new();
    for text in raw {
        let m = js_sys::Object::new();
        js_sys::Reflect::set(&m, &"after".into(), &10.into()).expect("set");
        js_sys::Reflect::set(&m, &"data".into(), &(*text).into()).expect("set");
        messages.push(&m);
    }
    let script = json(r#"{"mode": "open"}"#);
    js_sys::Reflect::set(&script, &"messages".into(), &messages).expect("set");
    script
}

#[wasm_bindgen(
    inline_js = "export function proto_is_plain(o) { return Object.getPrototypeOf(o) === Object.prototype; }"
)]
extern "C" {
    fn proto_is_plain(o: &JsValue) -> bool;
}

#[wasm_bindgen_test]
async fn a_proto_key_cannot_smuggle_a_url_past_the_check() {
    install();
    route("/f/pr1", responses(&[PENDING]));
    stream(
        "/e/pr1",
        stream_of(&[
            r#"{"type":"file","object":{"id":"f","url":null,"__proto__":{"thumbnail_url":"javascript:alert(document.domain)"}}}"#,
            r#"{"type":"render_result","object":{"url":"https://cdn.example.com/x.png"}}"#,
        ]),
    );
    let m = manager(r#", "streamPollInterval": 0"#);
    let r = recorder(JsValue::UNDEFINED);
    m.start_polling("pr1", Some(field(&r, "callbacks").unchecked_into()), None)
        .expect("started");
    assert!(until(DEADLINE, || count(&r, "complete") + count(&r, "error") == 1).await);
    let events: Array = field(&r, "events").unchecked_into();
    let done = events
        .iter()
        .find(|e| text(field(e, "type")) == "complete")
        .map(|e| field(&e, "value"))
        .expect("completed with the stream's url");
    assert_eq!(text(field(&done, "url")), "https://cdn.example.com/x.png");
    assert!(
        proto_is_plain(&done),
        "the copy's prototype is Object.prototype"
    );
    assert!(field(&done, "thumbnail_url").is_undefined());
}

#[wasm_bindgen_test]
async fn url_fields_of_any_type_and_place_are_checked() {
    install();
    let m = manager(r#", "eventsUrl": null, "projectUrl": "/p/{id}""#);
    let cases = [
        (
            "/f/u1",
            "u1",
            r#"{"body": {"id": "u1", "url": "https://cdn/x.png", "thumbnail_url": ["javascript:alert(1)"]}}"#,
        ),
        (
            "/f/u2",
            "u2",
            r#"{"body": {"id": "u2", "url": ["javascript:alert(1)"]}}"#,
        ),
    ];
    for (url, id, body) in cases {
        route(url, responses(&[body]));
        let r = recorder(JsValue::UNDEFINED);
        m.start_polling(id, Some(field(&r, "callbacks").unchecked_into()), None)
            .expect("started");
        assert!(until(DEADLINE, || count(&r, "error") == 1).await, "{id}");
        let events: Array = field(&r, "events").unchecked_into();
        let kinds: Vec<String> = events.iter().map(|e| text(field(&e, "type"))).collect();
        assert!(
            !kinds.contains(&"update".to_owned()),
            "{id}: the record never reached the page"
        );
        assert!(!kinds.contains(&"complete".to_owned()), "{id}");
    }
    route(
        "/p/pj1",
        responses(&[
            r#"{"body": {"id": "pj1", "data": [{"type": "image", "value": {"url": "https://cdn/a.png", "thumbnail_url": "javascript:alert(1)"}}]}}"#,
        ]),
    );
    let r = recorder(JsValue::UNDEFINED);
    m.start_project_polling("pj1", Some(field(&r, "callbacks").unchecked_into()), None)
        .expect("started");
    assert!(until(DEADLINE, || count(&r, "error") == 1).await);
    assert_eq!(count(&r, "complete"), 0);
}

#[wasm_bindgen_test]
async fn a_checker_in_a_429_storm_holds_no_file_job() {
    install();
    let storm = js_sys::Function::new_no_args(
        r#"throw { status: 429, headers: { "retry-after": "300" } };"#,
    );
    // The Promise form's onError(error, attempt) hears each transient error.
    let heard = recorder(JsValue::UNDEFINED);
    let options = old_options(&heard, "");
    let on_error = field(&field(&heard, "callbacks"), "onError");
    js_sys::Reflect::set(&options, &"onError".into(), &on_error).expect("set");
    let checker =
        start_check_polling("storm", storm, Some(options.unchecked_into())).expect("started");
    assert!(
        until(DEADLINE, || count(&heard, "error") >= 1).await,
        "its first 429 is in"
    );
    route("/api/file/gf1", responses(&[PENDING, PENDING, DONE]));
    let t0 = now();
    let opts = json(r#"{"intervals": [20], "jitter": 0}"#);
    let result = settled(
        poll_file_completion("gf1", Some(opts.unchecked_into()))
            .expect("started")
            .into(),
    )
    .await;
    assert_eq!(field(&result, "success").as_bool(), Some(true));
    assert_eq!(times("/api/file/gf1"), 3);
    assert!(now() - t0 < 10_000.0, "not held for the checker's 300 s");
    assert!(smart_polling::web::stop_poll_id("storm"));
    let stopped = settled(checker.into()).await;
    assert_eq!(text(field(&field(&stopped, "failure"), "kind")), "stopped");
}

#[wasm_bindgen_test]
async fn pings_cost_no_callback_and_no_tab_message() {
    install();
    route("/tp/p1", responses(&[PENDING]));
    stream("/ts/p1", json(r#"{"mode": "open"}"#));
    let tab = || {
        let o = json(
            r#"{"fileUrl": "/tp/{id}", "eventsUrl": "/ts/{id}", "intervals": [40],
                "jitter": 0, "streamPollInterval": 0}"#,
        );
        PollingManager::new(Some(o.unchecked_into())).expect("valid options")
    };
    let (a, b) = (tab(), tab());
    let (ra, rb) = (recorder(JsValue::UNDEFINED), recorder(JsValue::UNDEFINED));
    a.start_polling("p1", Some(field(&ra, "callbacks").unchecked_into()), None)
        .expect("started");
    // The leader's stream is open and its catch-up poll answered.
    assert!(
        until(DEADLINE, || open_streams("/ts/p1") == 1
            && times("/tp/p1") == 1)
        .await
    );
    b.start_polling("p1", Some(field(&rb, "callbacks").unchecked_into()), None)
        .expect("joined");
    // The follower hears the leader's state over the channel.
    assert!(until(DEADLINE, || count(&rb, "progress") >= 1).await);
    wait(100).await;
    let before = (count(&ra, "progress"), count(&rb, "progress"));
    for _ in 0..3000 {
        emit_stream("/ts/p1", "message", r#"{"type": "ping"}"#.into());
    }
    emit_stream(
        "/ts/p1",
        "message",
        r#"{"type": "render_progress", "object": {"progress": 50}}"#.into(),
    );
    // The one visible change reaches both tabs; the pings reach neither.
    assert!(until(DEADLINE, || count(&rb, "progress") > before.1).await);
    wait(200).await;
    let after = (count(&ra, "progress"), count(&rb, "progress"));
    assert_eq!(after.0 - before.0, 1, "one report in the leader's tab");
    assert!(
        after.1 - before.1 <= 2,
        "the follower: {before:?} -> {after:?}"
    );
    emit_stream(
        "/ts/p1",
        "message",
        r#"{"type": "render_result", "object": {"url": "https://cdn/p1.png"}}"#.into(),
    );
    let both = until(DEADLINE, || {
        count(&ra, "complete") + count(&rb, "complete") == 2
    })
    .await;
    let events = |r: &JsValue| -> String {
        let e: Array = field(r, "events").unchecked_into();
        let kinds: Vec<String> = e.iter().map(|e| text(field(&e, "type"))).collect();
        kinds.join(",")
    };
    assert!(both, "leader: {}; follower: {}", events(&ra), events(&rb));
}
