//! From the network to a job: a response, a checker's answer or a stream
//! event read into the job's input (what to decide is the core's), and the
//! records handed to the page, copied as plain data.

use std::rc::Weak;

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;

use super::manager::{now, Manager};

use super::boundary::{field, file_view, header, project_view, stream_message, thrown_message};
use super::fetch::{Failed, Fetched};
use super::page;
use super::settings::origin_of;
use super::sse::SseEvent;
use crate::core::check::{checked_input, says_rate_limited, Checked};
use crate::core::classify::{fetch_failed, status_words, unreadable_words, without_queries};
use crate::core::error::{PollError, NETWORK_HINT, NOT_FOUND_HTML, NOT_FOUND_HTML_END};
use crate::core::job::{Input, Reply};
use crate::core::record::{fingerprint, State};
use crate::core::retry_after::{parse_http_date, parse_retry_after};
use crate::core::stream::StreamEvent;
use crate::core::table::{JobId, Kind};

/// How this tab reads a record from another tab.
pub(super) fn read_state(
    kind: Kind,
    media: crate::core::config::Media,
    record: &JsValue,
) -> Option<State> {
    match kind {
        Kind::File => file_view(record).map(|v| crate::core::record::read_file(&v, media)),
        Kind::Project => project_view(record).map(|v| crate::core::record::read_project(&v, media)),
        Kind::Check => None,
    }
}

/// `{ url, projectId, ...value }` of the project entry holding `url`, as the
/// old module resolves `pollProjectCompletion`.
pub(super) fn project_result(id: &str, record: &JsValue, url: &str) -> JsValue {
    use js_sys::Array;
    // The spread's order and precedence: `url` and `projectId` first, the
    // value's own properties after (and over them), each defined as data.
    let mut pairs = Array::of2(
        &Array::of2(&"url".into(), &url.into()),
        &Array::of2(&"projectId".into(), &id.into()),
    );
    let entries = field(record, "data");
    if let Some(entries) = entries.dyn_ref::<Array>() {
        for entry in entries.iter() {
            let value = field(&entry, "value");
            if value.is_object() && field(&value, "url").as_string().as_deref() == Some(url) {
                pairs = pairs.concat(&Object::entries(value.unchecked_ref()));
                break;
            }
        }
    }
    Object::from_entries(&pairs).unwrap_or_default().into()
}

/// A copy of a parsed record's own enumerable properties as plain data:
/// `JSON.parse` keeps `"__proto__"` as an ordinary key, which
/// `Object.assign` would turn into the copy's prototype (and so smuggle in
/// fields the url check never read); `Object.fromEntries` defines it as a
/// property like any other.
pub(super) fn own_copy(from: &JsValue) -> Object {
    Object::from_entries(&Object::entries(from.unchecked_ref())).unwrap_or_default()
}

/// The record to hand `onComplete` when the stream sent only a url.
/// The record a job completed with, as `onComplete` gets it: the answer
/// that completed it (`current`, a checker's `data` as it came, none
/// included); or, where the url came without its record (a stream's
/// `render_result`, its record not fetched in time), the freshest record
/// seen (the answer just read, else `last`) with that url set.
pub(super) fn completed_record(
    kind: Kind,
    id: &str,
    current: &JsValue,
    last: &JsValue,
    url: Option<&str>,
) -> JsValue {
    let complete = match kind {
        Kind::Check => true,
        Kind::File => url.is_some() && field(current, "url").as_string().as_deref() == url,
        Kind::Project => !current.is_undefined(),
    };
    if complete {
        return current.clone();
    }
    let base = if current.is_object() { current } else { last };
    with_url(kind, id, base, url)
}

fn with_url(kind: Kind, id: &str, last: &JsValue, url: Option<&str>) -> JsValue {
    let record = if last.is_object() {
        own_copy(last)
    } else {
        let record = Object::new();
        let key = if kind == Kind::File {
            "id"
        } else {
            "projectId"
        };
        let _ = Reflect::set(&record, &key.into(), &id.into());
        record
    };
    if let Some(u) = url {
        let _ = Reflect::set(&record, &"url".into(), &u.into());
    }
    record.into()
}

/// `debug`'s line for a 429 with no `Retry-After` the page can read.
const NO_RETRY_AFTER: &str = "HTTP 429 with no Retry-After the page can read (a cross-origin API must send Access-Control-Expose-Headers: Retry-After): waiting as for a 429 without one";

pub(super) fn on_fetched(weak: &Weak<Manager>, job: JobId, kind: Kind, r: Result<Fetched, Failed>) {
    let Some(me) = weak.upgrade() else {
        return;
    };
    let Some(media) = me.table.borrow().job(job).map(|j| j.config().media) else {
        return;
    };
    match r {
        Err(why) => {
            // Node's fetch of a relative url: "Failed to parse URL from
            // /api/file/1". A page always has a location to resolve it.
            let relative = me
                .url(job)
                .is_some_and(|(_, url)| origin_of(&url).is_empty());
            let off_page = !field(&js_sys::global(), "location").is_object();
            let error = fetch_failed(relative && off_page && why.bad_url, why.no_fetch);
            if error == PollError::Network {
                me.went_offline();
            }
            // "Could not reach the server: Failed to fetch (…)": what fetch
            // said, its urls' queries cut off (a token may be in one), and
            // in a page where to look.
            let message = why.said.map(|why| {
                let why = without_queries(&why);
                match error {
                    PollError::Network if off_page => [error.message(), ": ", &why].concat(),
                    PollError::Network => [error.message(), ": ", &why, NETWORK_HINT].concat(),
                    _ => [error.message(), ". fetch said: ", &why].concat(),
                }
            });
            me.deliver_checked(job, Input::RequestFailed(error), None, message);
        }
        Ok(f) => {
            if let Some(r) = me.jobs.borrow_mut().get_mut(job) {
                r.status = Some(f.status);
            }
            // A 404 that is an HTML page: most likely no API route.
            let mut words = (f.status == 404 && f.html)
                .then(|| me.url(job))
                .flatten()
                .map(|(_, url)| {
                    [NOT_FOUND_HTML, &without_queries(&url), NOT_FOUND_HTML_END].concat()
                })
                .or_else(|| status_words(f.status));
            let wall = f
                .date
                .as_deref()
                .and_then(parse_http_date)
                .unwrap_or_else(|| js_sys::Date::now() as u64);
            let retry_after = f
                .retry_after
                .as_deref()
                .and_then(|v| parse_retry_after(v, wall));
            if f.status == 429 && retry_after.is_none() && me.settings.debug {
                let id = me.table.borrow().key(job).map(|(_, id)| id.to_owned());
                me.log(&id.unwrap_or_default(), NO_RETRY_AFTER);
            }
            let status = Reply::Status {
                status: f.status,
                retry_after,
            };
            let (input, record) = match f.body {
                Some(text) => match read_body(kind, media, &text, retry_after) {
                    // "202 Accepted" with no record in it is pending (a
                    // record in it is read as for any 2xx).
                    (Input::Response(Reply::Unreadable), _) if f.status == 202 => {
                        (Input::Response(status), None)
                    }
                    read @ (Input::Response(Reply::Unreadable), _) => {
                        if me.settings.debug {
                            me.log_unreadable(job, f.status, &text);
                        }
                        let json = super::boundary::parse_json(&text).is_some();
                        words = Some(unreadable_words(&text, json, f.redirected_to.as_deref()));
                        read
                    }
                    read => read,
                },
                None => (Input::Response(status), None),
            };
            me.deliver_checked(job, input, record, words);
        }
    }
}

/// What a checker said: `{ completed, data, error, shouldContinue }`, or a
/// throw (an `Error`, a string, anything: never a crash). A thrown object
/// with an HTTP `status` (its own or its `response`'s) is classified like a
/// response; a 429's
/// `retry-after` header (on it or on its `response`) is honoured.
pub(super) fn on_checked(weak: &Weak<Manager>, job: JobId, r: Result<JsValue, JsValue>) {
    let Some(me) = weak.upgrade() else {
        return;
    };
    let text = |v: JsValue| v.as_string().filter(|s| !s.is_empty());
    let wall = || js_sys::Date::now() as u64;
    let thrown = r.as_ref().err().cloned().unwrap_or(JsValue::UNDEFINED);
    if let Some(kept) = me.jobs.borrow_mut().get_mut(job) {
        kept.thrown = thrown;
    }
    let (checked, data, message) = match r {
        Err(thrown) => {
            let retry_after = header(&thrown, "retry-after")
                .or_else(|| header(&field(&thrown, "response"), "retry-after"))
                .and_then(|v| parse_retry_after(&v, wall()));
            let message = thrown_message(&thrown);
            // Its own `status`, or its `response`'s (axios before 1.7, ky).
            let status = (field(&thrown, "status").as_f64())
                .or_else(|| field(&field(&thrown, "response"), "status").as_f64());
            // A thrown 408's error carries it, as a response's would.
            if let Some(r) = me.jobs.borrow_mut().get_mut(job) {
                r.status = status
                    .filter(|s| (100.0..600.0).contains(s))
                    .map(|s| s as u16);
            }
            let rate_limited = message.as_deref().is_some_and(says_rate_limited);
            (
                Checked::Threw {
                    status,
                    retry_after,
                    rate_limited,
                },
                None,
                message,
            )
        }
        // "The check failed: the checker resolved with undefined, not
        // { completed, data?, error?, shouldContinue? }" (a checker that
        // forgot to `return`): each attempt an error, as in the old module.
        // An array too: it has no `completed`. What it was is cut to 60
        // characters: a page's text would otherwise fill the UI's message.
        Ok(answer) if !answer.is_object() || super::boundary::is_array(&answer).unwrap_or(true) => {
            let said = js_sys::JSON::stringify(&answer)
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_else(|| answer.js_typeof().as_string().unwrap_or_default());
            let mut cut: String = said.chars().take(60).collect();
            if cut.len() < said.len() {
                cut.push('…');
            }
            let message = [
                PollError::Check.message(),
                ": the checker resolved with ",
                &cut,
                ", not { completed, data?, error?, shouldContinue? }",
            ]
            .concat();
            (Checked::NotAnObject, None, Some(message))
        }
        Ok(answer) => {
            let data = field(&answer, "data");
            let error = text(field(&answer, "error"));
            let fingerprint = fingerprint(&super::boundary::record_text(&data));
            // The server's hint, passed on: `retryAfter` (seconds, or an
            // HTTP date, as the header), or the header of a `response`.
            let retry_after = match field(&answer, "retryAfter") {
                v if v.as_f64().is_some() => {
                    js_sys::JSON::stringify(&v).ok().and_then(|s| s.as_string())
                }
                v => v.as_string(),
            }
            .or_else(|| header(&answer, "retry-after"))
            .or_else(|| header(&field(&answer, "response"), "retry-after"))
            .and_then(|v| parse_retry_after(&v, wall()));
            let checked = Checked::Answered {
                completed: field(&answer, "completed").is_truthy(),
                stop: field(&answer, "shouldContinue") == JsValue::FALSE,
                error: error.is_some(),
                fingerprint,
                retry_after,
            };
            (checked, Some(data), error)
        }
    };
    let input = checked_input(checked);
    if matches!(input, Input::RequestFailed(_)) {
        me.went_offline();
    }
    let record = data.filter(|_| {
        matches!(
            input,
            Input::Response(Reply::Record { .. } | Reply::Said { .. })
        )
    });
    me.deliver_checked(job, input, record, message);
}

pub(super) fn read_body(
    kind: Kind,
    media: crate::core::config::Media,
    text: &str,
    retry_after: Option<u64>,
) -> (Input, Option<JsValue>) {
    let unreadable = (Input::Response(Reply::Unreadable), None);
    let Some(value) = super::boundary::parse_json(text) else {
        return unreadable;
    };
    match read_state(kind, media, &value) {
        Some(state) => {
            let reply = Reply::Record {
                state,
                fingerprint: fingerprint(&super::boundary::record_text(&value)),
                retry_after,
            };
            (Input::Response(reply), Some(value))
        }
        None => unreadable,
    }
}

pub(super) fn on_stream(weak: &Weak<Manager>, job: JobId, ev: SseEvent) {
    let Some(me) = weak.upgrade() else {
        return;
    };
    let Some(media) = me.table.borrow().job(job).map(|j| j.config().media) else {
        return;
    };
    // What the stream was, for `debug` to say what the event made of it.
    let streaming = |me: &Manager| {
        let table = me.table.borrow();
        let j = table.job(job);
        (
            j.map(|j| j.streaming()),
            j.is_some_and(|j| j.holds_stream()),
        )
    };
    let was = streaming(&me).0;
    let (input, record) = match ev {
        SseEvent::Open => (Input::StreamOpened, None),
        SseEvent::Error => (Input::StreamFailed, None),
        SseEvent::Interrupted => (Input::StreamInterrupted, None),
        SseEvent::Busy => (Input::StreamBusy, None),
        SseEvent::Message(raw) => {
            let (event, record) = stream_message(&raw, media);
            if me.settings.debug && event == StreamEvent::Garbage {
                me.log_garbage(job, &raw);
            }
            (Input::StreamMessage(event), record)
        }
    };
    me.deliver(job, input, record);
    if me.settings.debug {
        let said = match (was, streaming(&me)) {
            (Some(false), (Some(true), _)) => "stream open",
            (Some(true), (Some(false), true)) => "stream connection dropped: the browser reconnects it (after the server's retry:), the job polls meanwhile",
            _ => "",
        };
        if !said.is_empty() {
            let id = me.table.borrow().key(job).map(|(_, id)| id.to_owned());
            me.log(&id.unwrap_or_default(), said);
        }
    }
    // A poll the event made due (the catch-up, the fallback) goes at the next
    // timer turn; a hidden tab's next timer may be a second or a minute away:
    // there, take that turn in this task (with whatever else is due by now).
    // Visible tabs skip the check.
    if page::hidden()
        && me
            .table
            .borrow_mut()
            .next_wake()
            .is_some_and(|at| at <= now())
    {
        me.on_timer();
    }
}
