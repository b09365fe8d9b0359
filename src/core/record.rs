//! Reading file and project records. In the browser the body is parsed by
//! `JSON.parse` and read into these small view structs with
//! serde-wasm-bindgen (callbacks still get the record as the server sent it,
//! unknown fields and all); native tests read them with serde_json. The
//! caller checks that the body is a JSON object first. A field of the wrong
//! type makes the view fail to read: an `invalid_response`, never a panic.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, value::MapAccessDeserializer, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::config::{Lenient, Media};
use super::media_match::{matches_media, only_other};

/// A JSON object read into `T`. serde's derive also accepts an array for a
/// struct (its fields in order), which a record never is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Obj<T>(pub T);

/// A JSON object read into `T`, or `NotObject` for any other value; a
/// field of the wrong type inside the object is still an error.
#[derive(Clone, Debug, PartialEq)]
pub enum MaybeObj<T> {
    Object(T),
    NotObject,
}

struct ObjVisitor<T>(PhantomData<T>, bool);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjVisitor<T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<T>, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Some)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<T>, A::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        self.other()
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Option<T>, E> {
        self.other()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Option<T>, E> {
        self.other()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Option<T>, E> {
        self.other()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Option<T>, E> {
        self.other()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Option<T>, E> {
        self.other()
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
        self.other()
    }
}

impl<T> ObjVisitor<T> {
    /// Not an object: an error for `Obj`, `NotObject` for `MaybeObj`.
    fn other<E: de::Error>(self) -> Result<Option<T>, E> {
        if self.1 {
            Ok(None)
        } else {
            Err(E::custom("not an object"))
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_any(ObjVisitor(PhantomData, false))? {
            Some(t) => Ok(Obj(t)),
            None => Err(de::Error::custom("not an object")),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for MaybeObj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match d.deserialize_any(ObjVisitor(PhantomData, true))? {
            Some(t) => MaybeObj::Object(t),
            None => MaybeObj::NotObject,
        })
    }
}

/// The fields of a file record that decide the job; the rest is ignored.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct FileView {
    /// A url of any JSON type but string or null makes the record unsafe
    /// (the page might turn an array into a string and use it).
    pub url: Option<Lenient<String>>,
    #[serde(rename = "type")]
    pub type_hint: Option<String>,
    #[serde(rename = "contentType")]
    pub content_type: Option<String>,
    #[serde(rename = "content_type")]
    pub content_type_snake: Option<String>,
    /// Only checked for safety, as `url` is.
    pub thumbnail_url: Option<Lenient<String>>,
    pub tasks: Option<Vec<Obj<TaskView>>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct TaskView {
    pub status: Option<String>,
}

/// `GET /api/project/{id}`: `{ data: [{ type, value: { url, contentType } }], tasks }`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ProjectView {
    /// Only checked for safety.
    pub url: Option<Lenient<String>>,
    pub thumbnail_url: Option<Lenient<String>>,
    /// An entry that is no object (null, a string) holds no result:
    /// skipped, as one whose value is no object.
    pub data: Option<Vec<MaybeObj<DataView>>>,
    pub tasks: Option<Vec<Obj<TaskView>>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct DataView {
    #[serde(rename = "type")]
    pub type_hint: Option<String>,
    /// An entry whose value is not an object holds no result: skipped.
    pub value: Option<MaybeObj<ValueView>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ValueView {
    pub url: Option<Lenient<String>>,
    /// Only checked for safety.
    pub thumbnail_url: Option<Lenient<String>>,
    #[serde(rename = "contentType")]
    pub content_type: Option<String>,
    #[serde(rename = "content_type")]
    pub content_type_snake: Option<String>,
}

/// A generation task's status; the API sends lower or upper case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskStatus {
    Pending,
    InProgress,
    Completed,
    Error,
    /// A status this version does not know: treated as still running.
    Other,
}

impl TaskStatus {
    pub fn parse(s: &str) -> Self {
        let is = |w: &str| s.eq_ignore_ascii_case(w);
        if is("pending") || is("queued") {
            Self::Pending
        } else if is("in_progress") || is("processing") || is("running") {
            Self::InProgress
        } else if is("completed") || is("complete") || is("done") || is("success") {
            Self::Completed
        } else if is("error") || is("failed") || is("failure") {
            Self::Error
        } else {
            Self::Other
        }
    }
}

/// What a record says about the job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// Not ready yet.
    Pending,
    /// Done; the result url when the record has a matching one.
    Complete { url: Option<String> },
    /// The generation failed on the server.
    Failed,
    /// The record holds a url that is neither http(s) nor relative (say
    /// `javascript:`): it must not reach the page at all.
    UnsafeUrl,
}

/// A url field: absent or null is `Ok(None)`; a string is kept if safe;
/// anything else (a number, an array, an object) or an unsafe string is
/// `Err`: such a record never reaches the page.
fn url_field(f: &Option<Lenient<String>>) -> Result<Option<&String>, ()> {
    match f {
        None => Ok(None),
        Some(Lenient::Valid(u)) if !unsafe_url(u) => Ok(Some(u)),
        Some(_) => Err(()),
    }
}

/// Reads a file record (`GET /api/file/{id}`).
pub fn read_file(v: &FileView, media: Media) -> State {
    let (Ok(url), Ok(_)) = (url_field(&v.url), url_field(&v.thumbnail_url)) else {
        return State::UnsafeUrl;
    };
    let content_type = v.content_type.as_ref().or(v.content_type_snake.as_ref());
    let hints = [v.type_hint.as_deref(), content_type.map(String::as_str)];
    let url = url
        .filter(|u| !u.is_empty() && matches_media(media, &hints, u))
        .cloned();
    decide(url, &statuses(&v.tasks))
}

/// Reads a project record: done when an entry's value has a url of the
/// wanted media.
pub fn read_project(v: &ProjectView, media: Media) -> State {
    if url_field(&v.url).is_err() || url_field(&v.thumbnail_url).is_err() {
        return State::UnsafeUrl;
    }
    let mut found = None;
    for entry in v.data.iter().flatten() {
        let MaybeObj::Object(entry) = entry else {
            continue;
        };
        let Some(MaybeObj::Object(value)) = &entry.value else {
            continue;
        };
        let (Ok(url), Ok(_)) = (url_field(&value.url), url_field(&value.thumbnail_url)) else {
            return State::UnsafeUrl;
        };
        let Some(url) = url else {
            continue;
        };
        let content_type = value
            .content_type
            .as_ref()
            .or(value.content_type_snake.as_ref());
        let hints = [entry.type_hint.as_deref(), content_type.map(String::as_str)];
        // Of any media, the old module took an image or a video: an entry
        // every hint says is neither (audio, text, JSON) is not the result.
        let fits = match media {
            Media::Any => !only_other(&hints, url),
            _ => matches_media(media, &hints, url),
        };
        if found.is_none() && !url.is_empty() && fits {
            found = Some(url.clone());
        }
    }
    decide(found, &statuses(&v.tasks))
}

/// The product's rules: a url (of the wanted media) means done; otherwise
/// the latest task in error means failed; otherwise not ready yet, even when
/// every task says completed: a result is only done once it has its url
/// (the next poll, or the stream, brings it), so a completed record always
/// has one.
fn decide(url: Option<String>, tasks: &[TaskStatus]) -> State {
    if url.is_some() {
        State::Complete { url }
    } else if tasks.last() == Some(&TaskStatus::Error) {
        State::Failed
    } else {
        State::Pending
    }
}

/// Whether the record's latest task says completed: with no url yet, the
/// server is done and the url is near (as a stream's `task_status`).
pub fn tasks_done(v: &FileView) -> bool {
    statuses(&v.tasks).last() == Some(&TaskStatus::Completed)
}

fn statuses(tasks: &Option<Vec<Obj<TaskView>>>) -> Vec<TaskStatus> {
    tasks
        .iter()
        .flatten()
        .map(|Obj(t)| {
            t.status
                .as_deref()
                .map_or(TaskStatus::Other, TaskStatus::parse)
        })
        .collect()
}

/// Whether a result url may be handed to the page: it must be `http:` or
/// `https:`, or relative (it then resolves against the page). Follows the URL
/// standard in ignoring leading/trailing C0 controls and spaces and any tab or
/// newline, which is how `java\tscript:` sneaks past naive checks.
pub fn url_is_safe(url: &str) -> bool {
    let mut scheme = [0u8; 6];
    let mut len = 0;
    let mut seen = false;
    for &c in url.as_bytes().iter().skip_while(|&&c| c <= b' ') {
        match c {
            b'\t' | b'\n' | b'\r' => continue,
            b':' => {
                // Something odd before the colon (as in "1:2") is refused too.
                let s = scheme.get(..len).unwrap_or_default();
                return s.first().is_some_and(u8::is_ascii_alphabetic)
                    && (s == b"http" || s == b"https");
            }
            b'/' | b'?' | b'#' => return true, // relative
            c if c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.') => {
                // Past 6 bytes only the length matters: no allowed scheme is longer.
                if let Some(slot) = scheme.get_mut(len) {
                    *slot = c.to_ascii_lowercase();
                }
                len += 1;
            }
            // Not a scheme character before any colon: a relative url.
            _ => return true,
        }
        seen = true;
    }
    seen
}

fn unsafe_url(u: &str) -> bool {
    !u.is_empty() && !url_is_safe(u)
}

/// The bits a fingerprint keeps: it crosses tabs as a JS number, and a tab
/// that takes a job over compares its own with the one it was told.
pub const FINGERPRINT_BITS: u64 = (1 << 53) - 1;

/// FNV-1a of a record's text, so an unchanged record does not fire
/// `onUpdate` again; 53 bits ([`FINGERPRINT_BITS`]).
pub fn fingerprint(text: &str) -> u64 {
    let h = text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    h & FINGERPRINT_BITS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_status_in_either_case() {
        assert_eq!(TaskStatus::parse("in_progress"), TaskStatus::InProgress);
        assert_eq!(TaskStatus::parse("IN_PROGRESS"), TaskStatus::InProgress);
        assert_eq!(TaskStatus::parse("COMPLETED"), TaskStatus::Completed);
        assert_eq!(TaskStatus::parse("completed"), TaskStatus::Completed);
        assert_eq!(TaskStatus::parse("ERROR"), TaskStatus::Error);
        assert_eq!(TaskStatus::parse("pending"), TaskStatus::Pending);
        assert_eq!(TaskStatus::parse("weird"), TaskStatus::Other);
    }

    #[test]
    fn safe_urls() {
        for ok in [
            "https://cdn.example.com/a.png",
            "HTTP://x/y",
            "/files/a.png",
            "a.png",
            "//cdn.example.com/a.png",
            " https://x/a ",
        ] {
            assert!(url_is_safe(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "java\tscript:alert(1)",
            " \u{1}javascript:alert(1)",
            "data:text/html,<script>",
            "vbscript:x",
            "file:///etc/passwd",
            "blob:https://x/1",
            "",
            "  ",
            "1:2",
        ] {
            assert!(!url_is_safe(bad), "{bad:?}");
        }
    }

    #[test]
    fn fingerprints_differ() {
        assert_ne!(
            fingerprint("{\"url\":null}"),
            fingerprint("{\"url\":\"x\"}")
        );
        assert_eq!(fingerprint(""), 0xcbf2_9ce4_8422_2325 & FINGERPRINT_BITS);
        // every fingerprint survives the trip through a JS number
        for text in ["", "x", "{\"id\":\"a\",\"url\":null}", "\u{1F600}"] {
            assert!(fingerprint(text) <= FINGERPRINT_BITS, "{text}");
        }
    }
}
