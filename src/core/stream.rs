//! Messages of the event stream: `{ type, object }` with `type` one of
//! `render_progress`, `render_result`, `file`, `task_status`.


use super::config::Media;
use super::record::{fingerprint, read_file, JsonView, State, TaskStatus};

#[derive(Clone, Debug, PartialEq)]
pub enum StreamEvent {
    /// `render_progress`: percent done, 0-100.
    Progress(u8),
    /// `render_result`: the result url.
    Result(String),
    /// `file`: the whole file record, read like a poll response.
    File { state: State, fingerprint: u64 },
    /// `task_status`.
    Task(TaskStatus),
    /// A well-formed message of a type this version ignores (pings and such).
    Ignored,
    /// Not JSON, or not the expected shape.
    Garbage,
}

/// Reads one message. `parsed` is the JSON value of `raw`, or `None` when
/// `raw` was not JSON; `raw` fingerprints `file` records.
pub fn read_message<J: JsonView>(parsed: Option<&J>, raw: &str, media: Media) -> StreamEvent {
    let Some(msg) = parsed.filter(|m| m.is_object()) else {
        return StreamEvent::Garbage;
    };
    let Some(kind) = msg.get("type").and_then(|t| t.string()) else {
        return StreamEvent::Garbage;
    };
    let known = ["render_progress", "render_result", "file", "task_status"];
    if !known.contains(&kind.as_str()) {
        return StreamEvent::Ignored; // pings and future message types
    }
    let Some(object) = msg.get("object") else {
        return StreamEvent::Garbage;
    };
    let text = |key: &str| {
        object
            .get(key)
            .and_then(|v| v.string())
            .filter(|s| !s.is_empty())
    };
    match kind.as_str() {
        "render_progress" => match object.get("progress").and_then(|p| p.number()) {
            Some(p) if p.is_finite() => StreamEvent::Progress(p.clamp(0.0, 100.0) as u8),
            _ => StreamEvent::Garbage,
        },
        "render_result" => match text("url").or_else(|| text("file_url")) {
            Some(url) => StreamEvent::Result(url),
            None => StreamEvent::Garbage,
        },
        "file" => match read_file(&object, media) {
            Ok(state) => StreamEvent::File {
                state,
                fingerprint: fingerprint(raw),
            },
            Err(_) => StreamEvent::Garbage,
        },
        "task_status" => match text("status") {
            Some(s) => StreamEvent::Task(TaskStatus::parse(&s)),
            None => StreamEvent::Garbage,
        },
        _ => StreamEvent::Ignored,
    }
}
