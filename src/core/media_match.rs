//! Whether a result url is of the media a job waits for: what its type
//! field, its content type and its file extension say (an image, a video,
//! or something else such as audio or JSON).

use super::config::Media;

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
    } else if starts("audio") || starts("text/") || starts("application/json") {
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
    } else if is(&["mp3", "wav", "ogg", "m4a", "flac", "aac", "json", "txt"]) {
        Some(Kind::Other)
    } else {
        None
    }
}

/// A url counts for an image or video job unless every hint about its type
/// points elsewhere; with no hints, or for `Media::Any`, any url counts.
pub fn matches_media(media: Media, hints: &[Option<&str>], url: &str) -> bool {
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

/// Whether every hint about a url's type (and there is one) says it is
/// neither an image nor a video.
pub fn only_other(hints: &[Option<&str>], url: &str) -> bool {
    let mut kinds = (hints.iter().flatten().map(|h| kind_of_type(h)))
        .chain(core::iter::once(kind_of_url(url)))
        .flatten()
        .peekable();
    kinds.peek().is_some() && kinds.all(|k| k == Kind::Other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_matching() {
        let none: [Option<&str>; 0] = [];
        assert!(matches_media(Media::Image, &none, "https://x/a.PNG?sig=1"));
        assert!(!matches_media(Media::Image, &none, "https://x/a.mp4"));
        assert!(matches_media(Media::Image, &none, "https://x/blob"));
        assert!(matches_media(
            Media::Video,
            &[Some("video")],
            "https://x/blob"
        ));
        assert!(!matches_media(
            Media::Video,
            &[Some("image/png")],
            "https://x/blob"
        ));
        assert!(matches_media(
            Media::Any,
            &[Some("audio")],
            "https://x/a.mp3"
        ));
        // one matching hint is enough (e.g. a type field plus an odd extension)
        assert!(matches_media(
            Media::Video,
            &[Some("video")],
            "https://x/a.bin.png"
        ));
    }
}
