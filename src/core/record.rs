//! Reading file and project records, whatever JSON representation holds them:
//! in the browser they are parsed by `JSON.parse` (no JSON parser in the wasm),
//! in native tests by serde_json. Anything of the wrong shape is an
//! `invalid_response`, never a panic.


use super::config::Media;
use super::error::PollError;

/// Read-only access to a parsed JSON value.
pub trait JsonView: Sized {
    /// The member `key` of an object; `None` if missing or not an object.
    fn get(&self, key: &str) -> Option<Self>;
    /// The `i`-th element of an array.
    fn at(&self, i: usize) -> Option<Self>;
    /// `Some(len)` for an array, `None` for anything else.
    fn array_len(&self) -> Option<usize>;
    fn string(&self) -> Option<String>;
    fn number(&self) -> Option<f64>;
    /// `null` (or JS `undefined`).
    fn is_null(&self) -> bool;
    /// An object that is neither an array nor null.
    fn is_object(&self) -> bool;
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

/// Reads a file record (`GET /api/file/{id}`).
pub fn read_file<J: JsonView>(v: &J, media: Media) -> Result<State, PollError> {
    if !v.is_object() {
        return Err(PollError::InvalidResponse);
    }
    let url = optional_string(v.get("url"))?;
    let type_hint = optional_string(v.get("type"))?;
    let content_type = content_type_of(v)?;
    let tasks = read_tasks(v)?;
    let thumbnail = v.get("thumbnail_url").and_then(|t| t.string());
    if [&url, &thumbnail]
        .into_iter()
        .flatten()
        .any(|u| unsafe_url(u))
    {
        return Ok(State::UnsafeUrl);
    }
    let url = url.filter(|u| !u.is_empty() && matches_media(media, &[type_hint, content_type], u));
    Ok(decide(url, &tasks))
}

/// Reads a project record (`GET /api/project/{id}`):
/// `{ data: [{ type, value: { url, contentType, file_id } }], tasks }`.
pub fn read_project<J: JsonView>(v: &J, media: Media) -> Result<State, PollError> {
    if !v.is_object() {
        return Err(PollError::InvalidResponse);
    }
    let tasks = read_tasks(v)?;
    let mut found = None;
    if let Some(data) = v.get("data").filter(|d| !d.is_null()) {
        let n = data.array_len().ok_or(PollError::InvalidResponse)?;
        for i in 0..n {
            let entry = data.at(i).ok_or(PollError::InvalidResponse)?;
            if !entry.is_object() {
                return Err(PollError::InvalidResponse);
            }
            let Some(value) = entry.get("value").filter(|x| x.is_object()) else {
                continue;
            };
            let hints = [
                optional_string(entry.get("type"))?,
                content_type_of(&value)?,
            ];
            if let Some(url) = optional_string(value.get("url"))? {
                if unsafe_url(&url) {
                    return Ok(State::UnsafeUrl);
                }
                if found.is_none() && !url.is_empty() && matches_media(media, &hints, &url) {
                    found = Some(url);
                }
            }
        }
    }
    Ok(decide(found, &tasks))
}

/// The seed's rules: a url means done; otherwise the latest task in error
/// means failed; otherwise every task completed means done.
fn decide(url: Option<String>, tasks: &[TaskStatus]) -> State {
    if url.is_some() {
        State::Complete { url }
    } else if tasks.last() == Some(&TaskStatus::Error) {
        State::Failed
    } else if !tasks.is_empty() && tasks.iter().all(|t| *t == TaskStatus::Completed) {
        State::Complete { url: None }
    } else {
        State::Pending
    }
}

fn read_tasks<J: JsonView>(v: &J) -> Result<Vec<TaskStatus>, PollError> {
    let Some(tasks) = v.get("tasks").filter(|t| !t.is_null()) else {
        return Ok(Vec::new());
    };
    let n = tasks.array_len().ok_or(PollError::InvalidResponse)?;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let t = tasks.at(i).ok_or(PollError::InvalidResponse)?;
        if !t.is_object() {
            return Err(PollError::InvalidResponse);
        }
        let status = optional_string(t.get("status"))?;
        out.push(status.map_or(TaskStatus::Other, |s| TaskStatus::parse(&s)));
    }
    Ok(out)
}

fn content_type_of<J: JsonView>(v: &J) -> Result<Option<String>, PollError> {
    match optional_string(v.get("contentType"))? {
        Some(c) => Ok(Some(c)),
        None => optional_string(v.get("content_type")),
    }
}

/// A member that must be a string when present; `null` counts as absent.
fn optional_string<J: JsonView>(v: Option<J>) -> Result<Option<String>, PollError> {
    match v {
        None => Ok(None),
        Some(x) if x.is_null() => Ok(None),
        Some(x) => x.string().map(Some).ok_or(PollError::InvalidResponse),
    }
}

/// Which media a type string, content type or file name points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Image,
    Video,
    Other,
}

fn kind_of_type(t: &str) -> Option<Kind> {
    let starts = |p: &str| {
        t.as_bytes()
            .get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p.as_bytes()))
    };
    if starts("image") {
        Some(Kind::Image)
    } else if starts("video") {
        Some(Kind::Video)
    } else if starts("audio") {
        Some(Kind::Other)
    } else {
        None
    }
}

fn kind_of_url(url: &str) -> Option<Kind> {
    // Bytes, not string patterns: smaller in the wasm.
    let b = url.as_bytes();
    let path = b
        .split(|&c| c == b'?' || c == b'#')
        .next()
        .unwrap_or_default();
    let name = path.rsplit(|&c| c == b'/').next().unwrap_or_default();
    let dot = name.iter().rposition(|&c| c == b'.')?;
    let ext = name.get(dot + 1..).unwrap_or_default();
    let is = |list: &[&str]| list.iter().any(|e| ext.eq_ignore_ascii_case(e.as_bytes()));
    if is(&["png", "jpg", "jpeg", "webp", "gif", "avif", "bmp", "svg"]) {
        Some(Kind::Image)
    } else if is(&["mp4", "webm", "mov", "m4v", "mkv", "avi"]) {
        Some(Kind::Video)
    } else if is(&["mp3", "wav", "ogg", "m4a", "flac", "aac"]) {
        Some(Kind::Other)
    } else {
        None
    }
}

/// A url counts for an image or video job unless every hint about its type
/// points elsewhere; with no hints, or for `Media::Any`, any url counts.
fn matches_media(media: Media, hints: &[Option<String>], url: &str) -> bool {
    let want = match media {
        Media::Any => return true,
        Media::Image => Kind::Image,
        Media::Video => Kind::Video,
    };
    let mut any_hint = false;
    let found = hints
        .iter()
        .flatten()
        .map(|h| kind_of_type(h))
        .chain(core::iter::once(kind_of_url(url)))
        .flatten();
    for k in found {
        if k == want {
            return true;
        }
        any_hint = true;
    }
    !any_hint
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

/// FNV-1a of a body, so an unchanged record does not fire `onUpdate` again.
pub fn fingerprint(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
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
    fn media_matching() {
        let none: [Option<String>; 0] = [];
        assert!(matches_media(Media::Image, &none, "https://x/a.PNG?sig=1"));
        assert!(!matches_media(Media::Image, &none, "https://x/a.mp4"));
        assert!(matches_media(Media::Image, &none, "https://x/blob"));
        assert!(matches_media(
            Media::Video,
            &[Some("video".into())],
            "https://x/blob"
        ));
        assert!(!matches_media(
            Media::Video,
            &[Some("image/png".into())],
            "https://x/blob"
        ));
        assert!(matches_media(
            Media::Any,
            &[Some("audio".into())],
            "https://x/a.mp3"
        ));
        // one matching hint is enough (e.g. a type field plus an odd extension)
        assert!(matches_media(
            Media::Video,
            &[Some("video".into())],
            "https://x/a.bin.png"
        ));
    }

    #[test]
    fn fingerprints_differ() {
        assert_ne!(
            fingerprint("{\"url\":null}"),
            fingerprint("{\"url\":\"x\"}")
        );
        assert_eq!(fingerprint(""), 0xcbf2_9ce4_8422_2325);
    }
}
