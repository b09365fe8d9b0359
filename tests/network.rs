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
    #[wasm_bindgen(js_name = allRequests)]
    fn all_requests() -> Array;
    #[wasm_bindgen(js_name = allAnswers)]
    fn all_answers() -> Array;
    #[wasm_bindgen(js_name = limitAll)]
    fn limit_all(ms: u32, retry_after: &str, delay: u32);
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

/// How long a wait for an event may take before the test fails: generous
/// (a loaded machine is slow), and free when the event comes.
const DEADLINE: u32 = 20_000;

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
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
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
        until(DEADLINE, || times("/n/h2").len() == 1
            && count(&r, "update") == 1)
        .await
    );
    assert!(
        until(DEADLINE, || {
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
    assert!(until(DEADLINE, || !times(url).is_empty()).await);
    go_offline();
    wait(1500).await; // at 20 ms a wait, dozens of polls' worth
    let paused = times(url).len();
    wait(1000).await;
    assert_eq!(times(url).len(), paused, "nothing sent while offline");
    route(url, responses(&[DONE]));
    let back = now();
    go_online();
    assert!(until(DEADLINE, || times(url).len() > paused).await);
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
    assert!(until(DEADLINE, || count(&r, "update") == 1).await);
    go_offline();
    assert!(
        until(DEADLINE, || {
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
    assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
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
    assert!(until(DEADLINE, || count(&r, "error") == 1).await);
    go_online();
    assert_eq!(
        field(&last(&r, "error"), "kind").as_string().as_deref(),
        Some("timeout")
    );
    assert!(now() - t0 >= 790.0);
    assert!(times("/n/o3").is_empty(), "nothing sent");
}

// ---------------------------------------------------------------------------
// What the jobs of one origin share: a 429's cooldown, and the retry budget.

/// A request or an answer of the fake server's log.
#[derive(Debug)]
struct Seen {
    url: String,
    t: f64,
    status: u32,
    sent_at: f64,
}

fn log(list: Array) -> Vec<Seen> {
    let number = |v: &JsValue, k: &str| field(v, k).as_f64().unwrap_or(f64::NAN);
    list.iter()
        .map(|v| Seen {
            url: field(&v, "url").as_string().unwrap_or_default(),
            t: number(&v, "t"),
            status: number(&v, "status") as u32,
            sent_at: number(&v, "sentAt"),
        })
        .collect()
}

#[wasm_bindgen_test]
async fn a_429_holds_every_job_of_the_origin_then_one_probes_first() {
    install();
    let ids: Vec<String> = (0..4).map(|i| format!("herd{i}")).collect();
    let url = |id: &str| format!("/n/{id}");
    for id in &ids {
        route(&url(id), responses(&[PENDING]));
    }
    let m = manager("");
    let r = recorder(JsValue::UNDEFINED);
    for id in &ids {
        start(&m, id, &r);
    }
    let all_poll = until(DEADLINE, || ids.iter().all(|id| times(&url(id)).len() >= 2)).await;
    assert!(all_poll, "every job polls every 20 ms");
    // The server limits every request for 1.5 s: a 429 with Retry-After:
    // 1, each answered 100 ms after it was sent.
    limit_all(1500, "1", 100);
    let over = now() + 1500.0;
    // Until every job has polled twice after the limit (the herd is back).
    let back = until(DEADLINE, || {
        ids.iter()
            .all(|id| times(&url(id)).iter().filter(|t| **t > over).count() >= 2)
    })
    .await;
    assert!(back, "every job polls again after the limit");
    let (sent, answers) = (log(all_requests()), log(all_answers()));
    let limited: Vec<&Seen> = answers.iter().filter(|a| a.status == 429).collect();
    let first = limited.first().expect("a 429").t;
    // Nothing at all is sent in the second the server asked for (tight
    // below: the Retry-After of the first 429 answered).
    let during: Vec<&Seen> = sent
        .iter()
        .filter(|s| s.t > first && s.t < first + 990.0)
        .collect();
    assert!(during.is_empty(), "sent during the cooldown: {during:?}");
    // What was sent after it and met the limit was a lone probe: nothing
    // else went out until its answer came back.
    let probes: Vec<&&Seen> = limited.iter().filter(|a| a.sent_at > first).collect();
    assert!(
        probes.len() <= 2,
        "one 429 per wait, not one per job: {probes:?}"
    );
    for p in &probes {
        let beside: Vec<&Seen> = sent
            .iter()
            .filter(|s| s.t > p.sent_at && s.t < p.t)
            .collect();
        assert!(beside.is_empty(), "sent beside the probe {p:?}: {beside:?}");
    }
    assert_eq!(count(&r, "error"), 0);
    m.stop_all_polling();
}

/** The first `n` of a recorder's onRetry calls, as "kind:delay". */
fn first_retries(rec: &JsValue, n: usize) -> Vec<String> {
    retries(rec).split(',').take(n).map(String::from).collect()
}

#[wasm_bindgen_test]
async fn the_retry_budget_is_spent_by_errors_and_reported_in_metrics() {
    install();
    // A poll a second, early retries after 20, 40, 80 ms: three tokens.
    let budget = r#", "intervals": [1000], "retryBudget": 3, "retryRefill": 0"#;
    route("/n/b1", responses(&[r#"{"status": 503}"#]));
    let m = manager(budget);
    let r = recorder(JsValue::UNDEFINED);
    start(&m, "b1", &r);
    assert!(until(DEADLINE, || count(&r, "retry") >= 4).await);
    assert_eq!(
        first_retries(&r, 4),
        ["server:20", "server:40", "server:80", "server:1000"],
        "three early retries, then the scheduled poll"
    );
    assert!(until(DEADLINE, || times("/n/b1").len() >= 5).await);
    let t = times("/n/b1");
    assert!(t[4] - t[3] >= 990.0, "no early retry left: {t:?}");
    let report = field(&m.metrics(), "retryBudget");
    assert_eq!(field(&report, "size").as_f64(), Some(3.0));
    assert_eq!(field(&report, "refill").as_f64(), Some(0.0));
    let tokens = field(&report, "tokens");
    assert_eq!(
        field(&tokens, "").as_f64(),
        Some(0.0),
        "the page's origin spent all"
    );
    // Another job of the origin has none left either.
    route("/n/b2", responses(&[r#"{"status": 503}"#]));
    let r2 = recorder(JsValue::UNDEFINED);
    start(&m, "b2", &r2);
    assert!(until(DEADLINE, || count(&r2, "retry") >= 1).await);
    assert_eq!(retries(&r2), "server:1000");
    m.stop_all_polling();
    // A good answer earns `retryRefill` back: two of 0.5 make one retry.
    route(
        "/n/b3",
        responses(&[
            r#"{"status": 503}"#,
            PENDING,
            PENDING,
            r#"{"status": 503}"#,
            r#"{"status": 503}"#,
        ]),
    );
    let m = manager(r#", "intervals": [100], "retryBudget": 1, "retryRefill": 0.5"#);
    let r3 = recorder(JsValue::UNDEFINED);
    start(&m, "b3", &r3);
    assert!(until(DEADLINE, || count(&r3, "retry") >= 3).await);
    assert_eq!(
        first_retries(&r3, 3),
        ["server:20", "server:20", "server:100"],
        "{}",
        retries(&r3)
    );
    m.stop_all_polling();
}

/// The body of a project record that is not ready.
const PROJECT_PENDING: &str = r#"{"body": {"data": [], "tasks": []}}"#;

#[wasm_bindgen_test]
async fn a_cooldown_holds_the_urls_of_one_origin_only() {
    install();
    // (fileUrl, projectUrl, one origin?): scheme and host, in any case,
    // whatever the path or query; a relative url is the page's own.
    let cases = [
        (
            "https://API.Example/f/{id}",
            "https://api.example/p/{id}?v=1",
            true,
        ),
        ("/n/{id}", "https://api.example/p/{id}", false),
        (
            "http://api.example/f/{id}",
            "https://api.example/p/{id}",
            false,
        ),
    ];
    for (i, (file_url, project_url, shared)) in cases.into_iter().enumerate() {
        let id = format!("o{i}");
        // The fake fetch sees the url as the manager passes it.
        let at = |template: &str| template.replacen("{id}", &id, 1);
        let (file, project) = (at(file_url), at(project_url));
        route(
            &file,
            responses(&[
                PENDING,
                r#"{"status": 429, "headers": {"Retry-After": "1"}}"#,
                PENDING,
            ]),
        );
        route(&project, responses(&[PROJECT_PENDING]));
        let o = json(&format!(
            r#"{{"fileUrl": "{file_url}", "projectUrl": "{project_url}", "eventsUrl": null,
                "intervals": [20], "jitter": 0, "initialDelay": 20, "shareAcrossTabs": false}}"#
        ));
        let m = PollingManager::new(Some(o.unchecked_into())).expect("valid options");
        let r = recorder(JsValue::UNDEFINED);
        m.start_project_polling(&id, Some(field(&r, "callbacks").unchecked_into()), None)
            .expect("started");
        assert!(
            until(DEADLINE, || times(&project).len() >= 2).await,
            "{project} polls"
        );
        start(&m, &id, &r);
        // The file job's 429, then its request after the server's second.
        assert!(until(DEADLINE, || times(&file).len() >= 3).await, "{file}");
        let answered = log(all_answers());
        let limited = answered
            .iter()
            .find(|a| a.url == file && a.status == 429)
            .expect("the 429")
            .t;
        let held = times(&project)
            .into_iter()
            .filter(|t| *t > limited && *t < limited + 990.0)
            .count();
        if shared {
            assert_eq!(held, 0, "{file} and {project} share a cooldown");
        } else {
            assert!(
                held >= 3,
                "{file} and {project}: {held} polls in the second"
            );
        }
        m.stop_all_polling();
    }
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
        assert!(
            until(DEADLINE, || count(&r, "complete") == 1).await,
            "{bad}"
        );
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
    assert!(until(DEADLINE, || times("/l/s1").len() == 1).await);
    // At once, not after the learned first wait (about 6 s): loose above.
    assert!(
        times("/l/s1")[0] - t0 < 2000.0,
        "the first request still goes at once"
    );
    assert!(
        until(DEADLINE, || {
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
        assert!(until(DEADLINE, || count(&r, "complete") == 1).await);
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
    assert!(until(DEADLINE, || count(&ra, "complete") == 1).await);
    start(&b, "w2", &rb);
    assert!(until(DEADLINE, || count(&rb, "complete") == 1).await);
    assert_eq!(stored_image().len(), 2, "both writers' samples, once each");
    // Another endpoint's history is its own.
    let other = json(
        r#"{"fileUrl": "/l2/{id}", "eventsUrl": null, "preset": "image", "shareAcrossTabs": false}"#,
    );
    let c = PollingManager::new(Some(other.unchecked_into())).expect("valid");
    route("/l2/w3", responses(&[DONE_LATER]));
    let rc = recorder(JsValue::UNDEFINED);
    start(&c, "w3", &rc);
    assert!(until(DEADLINE, || count(&rc, "complete") == 1).await);
    assert_eq!(stored_image().len(), 2);
    assert!(local_storage("smart-polling/learned//l2/{id}").is_some());
    set_local_storage(HISTORY, None);
    set_local_storage("smart-polling/learned//l2/{id}", None);
}
