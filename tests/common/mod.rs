//! Reading records and stream messages from serde_json values the way the
//! browser layer reads `JSON.parse` results: the body must be a JSON object,
//! then it is read into the core's view structs; a field of the wrong type
//! makes it unreadable.
#![allow(dead_code)]

use serde::de::DeserializeOwned;
use serde_json::Value;
use smart_polling::core::record::{read_file, read_project, FileView, ProjectView, State};
use smart_polling::core::stream::{
    read_message, EventView, MessageKind, MessageObject, StreamEvent,
};
use smart_polling::{Media, PollError};

/// A JSON object read into `T`; `None` for anything else.
pub fn view<T: DeserializeOwned>(v: &Value) -> Option<T> {
    v.is_object()
        .then(|| serde_json::from_value(v.clone()).ok())?
}

pub fn file(v: &Value, media: Media) -> Result<State, PollError> {
    let view: FileView = view(v).ok_or(PollError::InvalidResponse)?;
    Ok(read_file(&view, media))
}

pub fn project(v: &Value, media: Media) -> Result<State, PollError> {
    let view: ProjectView = view(v).ok_or(PollError::InvalidResponse)?;
    Ok(read_project(&view, media))
}

/// A stream message: `parsed` is `None` when the text was not JSON. A
/// `file` record's fingerprint is of its compact JSON (the browser layer's
/// is `JSON.stringify`'s, keys in the source's order; serde_json's here
/// sorts them: one text per record either way).
pub fn message(parsed: Option<&Value>, media: Media) -> StreamEvent {
    let envelope = parsed.filter(|v| v.is_object());
    let kind = envelope.and_then(|m| m.get("type")).and_then(Value::as_str);
    let object = envelope.and_then(|m| m.get("object"));
    let read = |kind: MessageKind| {
        let o = object?;
        Some(match kind {
            MessageKind::File => MessageObject::File(view::<FileView>(o)?),
            _ => MessageObject::Event(view::<EventView>(o)?),
        })
    };
    let text = || object.map(Value::to_string).unwrap_or_default();
    read_message(kind, read, text, media)
}
