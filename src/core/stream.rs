//! Messages of the event stream: `{ type, object }` with `type` one of
//! `render_progress`, `render_result`, `file`, `task_status`. The browser
//! layer parses the text with `JSON.parse`, reads the envelope's `type`, then
//! reads `object` into the view of that type.

use serde::Deserialize;

use super::config::{Lenient, Media};
use super::media_match::matches_media;
use super::record::{fingerprint, read_file, tasks_done, FileView, State, TaskStatus};

#[derive(Clone, Debug, PartialEq)]
pub enum StreamEvent {
    /// `render_progress`: percent done, 0-100.
    Progress(u8),
    /// `render_result`: the result url.
    Result(String),
    /// `file`: the whole file record, read like a poll response; `done`:
    /// its latest task says completed (news when it has no url yet).
    File {
        state: State,
        fingerprint: u64,
        done: bool,
    },
    /// `task_status`.
    Task(TaskStatus),
    /// A well-formed message of a type this version ignores (pings and such).
    Ignored,
    /// Not JSON, or not the expected shape.
    Garbage,
}

/// The message types this version reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    Progress,
    Result,
    File,
    Task,
}

impl MessageKind {
    /// `None` for a type this version ignores (pings, future types).
    pub fn parse(kind: &str) -> Option<Self> {
        match kind {
            "render_progress" => Some(Self::Progress),
            "render_result" => Some(Self::Result),
            "file" => Some(Self::File),
            "task_status" => Some(Self::Task),
            _ => None,
        }
    }
}

/// The `object` of a `render_progress`, `render_result` or `task_status`
/// message: one view for the three (fewer readers in the wasm); each type
/// reads its own fields.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct EventView {
    /// `render_progress`: percent done.
    pub progress: Option<Lenient<f64>>,
    /// `render_result`: the url under either name.
    pub url: Option<Lenient<String>>,
    pub file_url: Option<Lenient<String>>,
    /// `task_status`.
    pub status: Option<Lenient<String>>,
}

/// The `object` of a message, read into the view its type calls for.
#[derive(Clone, Debug)]
pub enum MessageObject {
    Event(EventView),
    File(FileView),
}

/// Why a message read as [`StreamEvent::Garbage`], for `debug: true`:
/// `kind` is the envelope's `type`, as for [`read_message`].
pub fn garbage_reason(kind: Option<&str>) -> &'static str {
    match kind.map(MessageKind::parse) {
        None => {
            "not a JSON object with a string \"type\" (expected {\"type\": \"render_progress\" | \
             \"render_result\" | \"file\" | \"task_status\", \"object\": {...}})"
        }
        Some(None) => "a type this version ignores",
        Some(Some(MessageKind::Progress)) => {
            "a render_progress message needs \"object\": {\"progress\": <number 0-100>}"
        }
        Some(Some(MessageKind::Result)) => {
            "a render_result message needs \"object\": {\"url\": \"<non-empty string>\"} (or \"file_url\")"
        }
        Some(Some(MessageKind::File)) => {
            "a file message needs \"object\": <the file record, as GET /api/file/{id} returns it>"
        }
        Some(Some(MessageKind::Task)) => {
            "a task_status message needs \"object\": {\"status\": \"<non-empty string>\"}"
        }
    }
}

/// Reads one message. `kind` is the envelope's `type` (`None` when the text
/// was not a JSON object with a string `type`); `object` reads the envelope's
/// `object` for that kind, a `FileView` for `file` and an `EventView` for
/// the rest (`None` when it is missing or of the wrong shape);
/// `record_text` writes a `file` message's record as a poll's record is
/// written for its fingerprint (JSON, compact), so that one record heard
/// from the stream and read from a poll is one update, not two.
pub fn read_message(
    kind: Option<&str>,
    object: impl FnOnce(MessageKind) -> Option<MessageObject>,
    record_text: impl FnOnce() -> String,
    media: Media,
) -> StreamEvent {
    let Some(kind) = kind else {
        return StreamEvent::Garbage;
    };
    let Some(kind) = MessageKind::parse(kind) else {
        return StreamEvent::Ignored;
    };
    let text = |v: Option<Lenient<String>>| match v {
        Some(Lenient::Valid(s)) if !s.is_empty() => Some(s),
        _ => None,
    };
    let event = match object(kind) {
        None => return StreamEvent::Garbage,
        Some(MessageObject::File(f)) => {
            return StreamEvent::File {
                state: read_file(&f, media),
                fingerprint: fingerprint(&record_text()),
                done: tasks_done(&f),
            }
        }
        Some(MessageObject::Event(e)) => e,
    };
    match kind {
        MessageKind::Progress => match event.progress {
            Some(Lenient::Valid(p)) if p.is_finite() => {
                StreamEvent::Progress(p.clamp(0.0, 100.0) as u8)
            }
            _ => StreamEvent::Garbage,
        },
        MessageKind::Result => {
            // `url` first, else `file_url`; one of another kind than the
            // job's media (a video job's thumbnail) is not its result.
            let urls = [text(event.url), text(event.file_url)];
            let fits = |u: &&String| matches_media(media, &[], u);
            match urls.iter().flatten().find(fits) {
                Some(url) => StreamEvent::Result(url.clone()),
                None if urls.iter().any(Option::is_some) => StreamEvent::Ignored,
                None => StreamEvent::Garbage,
            }
        }
        MessageKind::Task => match text(event.status) {
            Some(s) => StreamEvent::Task(TaskStatus::parse(&s)),
            None => StreamEvent::Garbage,
        },
        MessageKind::File => StreamEvent::Garbage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_says_what_it_expected() {
        assert!(garbage_reason(None).contains("string \"type\""));
        assert!(garbage_reason(Some("render_progress")).contains("\"progress\""));
        assert!(garbage_reason(Some("render_result")).contains("\"url\""));
        assert!(garbage_reason(Some("task_status")).contains("\"status\""));
        assert!(garbage_reason(Some("file")).contains("file record"));
    }
}
