//! The stream messages and the records (their well-formed and malformed
//! shapes) the readers are tested on, with what each must read as: one
//! table for two paths. tests/records.rs reads them natively through a
//! serde_json copy of the boundary (fast, and shrinkable by the property
//! tests); tests/web.rs sends every one through the real `PollingManager`,
//! as a fake `EventSource`'s message or a fake server's answer, so the
//! shipped reader (`JSON.parse`, serde-wasm-bindgen) is held to the same
//! table.
#![allow(dead_code)]

use serde_json::{json, Value};
use smart_polling::core::record::{fingerprint, State, TaskStatus};
use smart_polling::core::stream::StreamEvent;
use smart_polling::{Media, PollError};

pub const ALL_MEDIA: [Media; 3] = [Media::Any, Media::Image, Media::Video];

/// One stream message: the text as it arrives, the job's media, and the
/// event it must read as.
#[derive(Clone, Debug)]
pub struct StreamCase {
    /// The rule it shows, for failure messages.
    pub rule: &'static str,
    pub raw: String,
    pub media: Media,
    pub want: StreamEvent,
}

fn complete(url: &str) -> State {
    State::Complete {
        url: Some(url.to_owned()),
    }
}

/// A file record with the given `url` and task statuses, no type hints.
pub fn file_with(url: Value, statuses: &[&str]) -> Value {
    let tasks: Vec<Value> = statuses
        .iter()
        .enumerate()
        .map(|(i, s)| json!({ "id": format!("t{i}"), "status": s, "project_id": "p1" }))
        .collect();
    json!({ "id": "f1", "url": url, "tasks": tasks })
}

/// The shape `GET /api/file/{id}` really returns, with an unknown member.
pub fn real_file_record(url: Value) -> Value {
    json!({
        "id": "file_01HZX",
        "url": url,
        "thumbnail_url": "https://cdn.example.com/thumbs/file_01HZX.webp",
        "type": "image",
        "image_generation_id": "gen_42",
        "video_generation_id": null,
        "duration": null,
        "tasks": [
            { "id": "task_1", "status": "in_progress", "project_id": "proj_7" }
        ],
        "extra_unknown_field": { "nested": [1, 2, { "deep": true }], "flag": "x" }
    })
}

/// Every stream case.
pub fn stream_cases() -> Vec<StreamCase> {
    let mut out = Vec::new();
    let mut add = |rule, raw: String, media, want| {
        out.push(StreamCase {
            rule,
            raw,
            media,
            want,
        })
    };
    let any = Media::Any;

    let rule = "text that is not JSON is garbage";
    for raw in ["not json", "", "{]", "<html>"] {
        for media in ALL_MEDIA {
            add(rule, raw.into(), media, StreamEvent::Garbage);
        }
    }

    let progress = |p: Value| json!({ "type": "render_progress", "object": { "progress": p } });
    let numbers = [
        (json!(0), 0),
        (json!(1), 1),
        (json!(50), 50),
        (json!(100), 100),
        (json!(42.7), 42),
        (json!(99.99), 99),
        (json!(0.5), 0),
    ];
    let clamped = [
        (json!(-5), 0),
        (json!(-0.1), 0),
        (json!(100.5), 100),
        (json!(250), 100),
        (json!(1e300), 100),
        (json!(-1e300), 0),
        (json!(u64::MAX), 100),
        (json!(i64::MIN), 0),
    ];
    for (rule, list) in [
        ("render_progress: the number, truncated", &numbers[..]),
        ("render_progress is clamped to 0-100", &clamped[..]),
    ] {
        for (p, want) in list {
            let raw = progress(p.clone()).to_string();
            add(rule, raw, any, StreamEvent::Progress(*want));
        }
    }
    let rule = "render_progress without a number is garbage";
    for p in [
        json!("42"),
        json!(null),
        json!(true),
        json!([42]),
        json!({}),
    ] {
        add(rule, progress(p).to_string(), any, StreamEvent::Garbage);
    }
    for object in [json!({}), json!(42)] {
        let v = json!({ "type": "render_progress", "object": object });
        add(rule, v.to_string(), any, StreamEvent::Garbage);
    }

    let result = |object: Value| json!({ "type": "render_result", "object": object }).to_string();
    let rule = "render_result: url or file_url, url first";
    for (object, media, url) in [
        (
            json!({ "url": "https://x/a.png" }),
            Media::Image,
            "https://x/a.png",
        ),
        (
            json!({ "file_url": "https://x/b.mp4" }),
            Media::Video,
            "https://x/b.mp4",
        ),
        (
            json!({ "url": "https://x/a.png", "file_url": "https://x/b.png" }),
            any,
            "https://x/a.png",
        ),
        (
            json!({ "url": "", "file_url": "https://x/b.png" }),
            any,
            "https://x/b.png",
        ),
        (
            json!({ "url": null, "file_url": "https://x/b.png" }),
            any,
            "https://x/b.png",
        ),
    ] {
        add(rule, result(object), media, StreamEvent::Result(url.into()));
    }
    let rule = "render_result: a url of another media than the job's is not its result";
    let object = json!({ "url": "https://x/thumb.png" });
    add(rule, result(object), Media::Video, StreamEvent::Ignored);
    let object = json!({ "url": "https://x/a.mp4" });
    add(rule, result(object), Media::Image, StreamEvent::Ignored);
    let object = json!({ "url": "https://x/thumb.png", "file_url": "https://x/a.mp4" });
    let want = StreamEvent::Result("https://x/a.mp4".into());
    add(rule, result(object), Media::Video, want);
    let rule = "render_result without a url is garbage";
    for object in [
        json!({}),
        json!({ "url": null }),
        json!({ "url": "" }),
        json!({ "file_url": "" }),
        json!({ "url": 5 }),
        json!({ "href": "https://x/a.png" }),
        json!("https://x/a.png"),
        json!(null),
    ] {
        add(rule, result(object), any, StreamEvent::Garbage);
    }

    // `file` messages: the record read like a poll's, fingerprinted by its
    // compact JSON as a poll's record is (so the same record heard from the
    // stream and read from a poll is one update, whatever the whitespace).
    let file_done = |object: &Value, state, done| StreamEvent::File {
        state,
        fingerprint: fingerprint(&object.to_string()),
        done,
    };
    let file = |object: &Value, state| file_done(object, state, false);
    let message = |object: &Value| json!({ "type": "file", "object": object });
    let rule = "file: the record's state";
    let record = real_file_record(json!("https://x/a.png"));
    let want = file(&record, complete("https://x/a.png"));
    add(rule, message(&record).to_string(), Media::Image, want);
    let record = real_file_record(Value::Null);
    let raw = message(&record).to_string();
    add(rule, raw, Media::Image, file(&record, State::Pending));
    let raw = serde_json::to_string_pretty(&message(&record)).expect("JSON");
    let want = file(&record, State::Pending);
    add(
        "file: fingerprinted by the record's compact JSON, not the message's text",
        raw,
        Media::Image,
        want,
    );
    let rule = "file: media and task rules apply";
    let record = file_with(json!("https://x/a.mp4"), &["ERROR"]);
    let raw = message(&record).to_string();
    add(
        rule,
        raw.clone(),
        Media::Image,
        file(&record, State::Failed),
    );
    let want = file(&record, complete("https://x/a.mp4"));
    add(rule, raw, Media::Video, want);
    let rule = "file: a latest task that says completed, with no url yet, is news";
    let record = file_with(Value::Null, &["in_progress", "COMPLETED"]);
    let want = file_done(&record, State::Pending, true);
    add(rule, message(&record).to_string(), any, want);
    let record = file_with(Value::Null, &["completed", "in_progress"]);
    let want = file_done(&record, State::Pending, false);
    add(rule, message(&record).to_string(), any, want);
    let rule = "file: a url of the wrong type is unsafe";
    for url in [json!(5), json!(["javascript:alert(1)"])] {
        let record = json!({ "url": url });
        let want = file(&record, State::UnsafeUrl);
        add(rule, message(&record).to_string(), any, want);
    }
    let rule = "file: a malformed record is garbage";
    for object in [
        json!({ "url": null, "tasks": {} }),
        json!({ "url": null, "tasks": ["x"] }),
        json!({ "url": null, "tasks": [{ "status": 1 }] }),
        json!({ "url": "https://x/a.png", "type": 3 }),
        json!([]),
        json!("https://x/a.png"),
        json!(null),
    ] {
        add(
            rule,
            message(&object).to_string(),
            any,
            StreamEvent::Garbage,
        );
    }

    let task = |object: Value| json!({ "type": "task_status", "object": object }).to_string();
    let rule = "task_status: the status, in either case";
    for (s, want) in [
        ("COMPLETED", TaskStatus::Completed),
        ("completed", TaskStatus::Completed),
        ("ERROR", TaskStatus::Error),
        ("error", TaskStatus::Error),
        ("in_progress", TaskStatus::InProgress),
        ("IN_PROGRESS", TaskStatus::InProgress),
        ("pending", TaskStatus::Pending),
        ("brand_new_status", TaskStatus::Other),
    ] {
        add(
            rule,
            task(json!({ "id": "t1", "status": s })),
            any,
            StreamEvent::Task(want),
        );
    }
    let rule = "task_status without a status string is garbage";
    for object in [
        json!({}),
        json!({ "status": "" }),
        json!({ "status": null }),
        json!({ "status": 1 }),
        json!("COMPLETED"),
    ] {
        add(rule, task(object), any, StreamEvent::Garbage);
    }

    let rule = "a type this version does not read is ignored";
    for ty in ["ping", "heartbeat", "RENDER_PROGRESS", "File", ""] {
        for object in [json!({}), json!(null)] {
            let v = json!({ "type": ty, "object": object });
            add(rule, v.to_string(), any, StreamEvent::Ignored);
        }
    }
    add(
        "a bare ping without object is ignored, not garbage",
        json!({ "type": "ping" }).to_string(),
        any,
        StreamEvent::Ignored,
    );

    let rule = "a message without a string type, or without an object, is garbage";
    for v in [
        json!({}),
        json!({ "object": { "progress": 5 } }),
        json!({ "type": "render_progress" }),
        json!({ "type": 5, "object": {} }),
        json!({ "type": null, "object": {} }),
        json!({ "type": ["render_progress"], "object": { "progress": 5 } }),
    ] {
        add(rule, v.to_string(), any, StreamEvent::Garbage);
    }
    let rule = "a message that is not an object is garbage";
    for v in [
        json!([]),
        json!([{ "type": "render_progress", "object": { "progress": 5 } }]),
        json!("render_progress"),
        json!(5),
        json!(true),
        json!(null),
    ] {
        add(rule, v.to_string(), any, StreamEvent::Garbage);
    }
    out
}

/// Which reader a record goes to: a file job's or a project job's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Record {
    File,
    Project,
}

/// One answer of the server: the body as it arrives, the job's media, and
/// what the reader must make of it.
#[derive(Clone, Debug)]
pub struct RecordCase {
    pub rule: &'static str,
    pub record: Record,
    pub body: String,
    pub media: Media,
    pub want: Result<State, PollError>,
}

/// A project record's `data[]` entry.
pub fn project_entry(ty: &str, url: Value) -> Value {
    json!({
        "type": ty,
        "value": { "url": url, "contentType": Value::Null, "file_id": "file_1" }
    })
}

/// The records whose shapes the two paths could read differently: the
/// well-formed ones, every malformed shape, and every url field.
pub fn record_cases() -> Vec<RecordCase> {
    let mut out = Vec::new();
    let mut add = |rule, record, v: Value, media, want| {
        out.push(RecordCase {
            rule,
            record,
            body: v.to_string(),
            media,
            want,
        })
    };
    let (any, invalid, unsafe_url) = (
        Media::Any,
        Err(PollError::InvalidResponse),
        Ok(State::UnsafeUrl),
    );
    let a_png = "https://x/a.png";

    let rule = "file: the real shape, pending, complete or failed";
    add(
        rule,
        Record::File,
        real_file_record(Value::Null),
        Media::Image,
        Ok(State::Pending),
    );
    add(
        rule,
        Record::File,
        real_file_record(json!(a_png)),
        Media::Image,
        Ok(complete(a_png)),
    );
    let failed = file_with(Value::Null, &["completed", "ERROR"]);
    add(rule, Record::File, failed, any, Ok(State::Failed));

    let rule = "file: a record that is not an object is invalid";
    for v in [
        json!([]),
        json!([{ "url": a_png }]),
        json!(a_png),
        json!(""),
        json!(42),
        json!(0),
        json!(true),
        json!(null),
    ] {
        for media in ALL_MEDIA {
            add(rule, Record::File, v.clone(), media, invalid.clone());
        }
    }
    // The page may turn `["javascript:alert(1)"]` into its string and use
    // it: a url field that is neither a string nor null never reaches it.
    let rule = "file: a url field of the wrong type is unsafe";
    for url in [
        json!(42),
        json!(true),
        json!([]),
        json!(["javascript:alert(1)"]),
        json!({ "href": "x" }),
    ] {
        for field in ["url", "thumbnail_url"] {
            let v = json!({ field: url, "tasks": [] });
            add(rule, Record::File, v, any, unsafe_url.clone());
        }
    }
    let rule = "file: tasks of the wrong type are invalid";
    for tasks in [
        json!({ "0": { "status": "completed" } }),
        json!("completed"),
        json!(1),
        json!(true),
    ] {
        let v = json!({ "url": null, "tasks": tasks });
        add(rule, Record::File, v, any, invalid.clone());
    }
    let rule = "file: a task that is not an object is invalid";
    for task in [json!("completed"), json!(1), json!(null), json!([])] {
        let v = json!({ "url": null, "tasks": [{ "status": "completed" }, task] });
        add(rule, Record::File, v, any, invalid.clone());
    }
    let rule = "file: a status that is not a string is invalid";
    for status in [json!(2), json!(true), json!({}), json!(["completed"])] {
        let v = json!({ "url": null, "tasks": [{ "status": status }] });
        add(rule, Record::File, v, any, invalid.clone());
    }
    let rule = "file: a type or content type that is not a string is invalid";
    for v in [
        json!({ "url": a_png, "type": 1 }),
        json!({ "url": a_png, "type": ["image"] }),
        json!({ "url": a_png, "contentType": 1 }),
        json!({ "url": a_png, "content_type": {} }),
    ] {
        add(rule, Record::File, v, any, invalid.clone());
    }
    let rule = "file: a malformed record is never half-read, a url does not rescue it";
    for v in [
        json!({ "url": a_png, "tasks": [7] }),
        json!({ "url": a_png, "tasks": { "status": "completed" } }),
    ] {
        add(rule, Record::File, v, any, invalid.clone());
    }

    let rule = "project: pending, complete or failed";
    let v = json!({ "data": [], "tasks": [{ "status": "in_progress" }] });
    add(rule, Record::Project, v, any, Ok(State::Pending));
    let v = json!({ "data": [project_entry("image", json!(a_png))], "tasks": [] });
    add(rule, Record::Project, v, Media::Image, Ok(complete(a_png)));
    let v = json!({ "data": [], "tasks": [{ "status": "error" }] });
    add(rule, Record::Project, v, any, Ok(State::Failed));
    let rule = "project: a record that is not an object is invalid";
    for v in [json!([]), json!("x"), json!(1), json!(null)] {
        add(rule, Record::Project, v, any, invalid.clone());
    }
    let rule = "project: data that is not an array is invalid";
    for data in [
        json!({ "0": project_entry("image", json!(a_png)) }),
        json!(a_png),
        json!(3),
        json!(true),
    ] {
        let v = json!({ "data": data, "tasks": [] });
        add(rule, Record::Project, v, any, invalid.clone());
    }
    let rule = "project: an entry that is not an object holds no result: skipped";
    for entry in [json!(a_png), json!(null), json!(1), json!([])] {
        let v = json!({ "data": [entry.clone()] });
        add(rule, Record::Project, v, any, Ok(State::Pending));
        let v = json!({ "data": [project_entry("image", json!(a_png)), entry.clone()] });
        add(rule, Record::Project, v, any, Ok(complete(a_png)));
        let v = json!({ "data": [entry, project_entry("image", json!(a_png))] });
        add(rule, Record::Project, v, any, Ok(complete(a_png)));
    }
    let rule = "project: every url field is checked";
    for v in [
        json!({ "data": [{ "type": "image", "value": { "url": 5 } }] }),
        json!({ "data": [{ "type": "image", "value": { "url": ["javascript:x"] } }] }),
        json!({ "url": "javascript:alert(1)", "data": [] }),
        json!({ "url": ["x"], "data": [] }),
        json!({ "thumbnail_url": "javascript:alert(1)", "data": [] }),
        json!({ "data": [{ "type": "image", "value": { "url": a_png, "thumbnail_url": "javascript:alert(1)" } }] }),
        json!({ "data": [{ "type": "image", "value": { "url": null, "thumbnail_url": {} } }] }),
    ] {
        add(rule, Record::Project, v, any, unsafe_url.clone());
    }
    let safe = json!({ "url": "/p/1", "data": [{ "type": "image",
        "value": { "url": a_png, "thumbnail_url": "https://x/t.png" } }] });
    add(rule, Record::Project, safe, any, Ok(complete(a_png)));
    let rule = "project: malformed members are invalid";
    for v in [
        json!({ "data": [{ "type": 1, "value": { "url": a_png } }] }),
        json!({ "data": [{ "type": "image", "value": { "url": "https://x/a", "contentType": 5 } }] }),
        json!({ "data": [], "tasks": {} }),
        json!({ "data": [], "tasks": ["completed"] }),
        json!({ "data": [], "tasks": [{ "status": 1 }] }),
    ] {
        add(rule, Record::Project, v, any, invalid.clone());
    }
    out
}
