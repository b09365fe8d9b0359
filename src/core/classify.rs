//! What one poll outcome means for the job, per the seed: 429 waits as the
//! server says, 404 is "not ready yet" (with its own bound), 5xx and network
//! trouble back off and retry, 401/403 and other 4xx stop.

use super::error::PollError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// 2xx: read the body.
    Success,
    /// 429: wait per Retry-After.
    RateLimited,
    /// 404: the record may not exist yet.
    NotFound,
    /// Transient: back off exponentially and retry.
    Retry(PollError),
    /// Permanent: the job ends with this error.
    Stop(PollError),
}

pub fn classify_status(status: u16) -> Class {
    match status {
        200..=299 => Class::Success,
        429 => Class::RateLimited,
        404 => Class::NotFound,
        401 => Class::Stop(PollError::Unauthorized),
        403 => Class::Stop(PollError::Forbidden),
        // 408 is the server saying our request was slow: a transient condition.
        408 => Class::Retry(PollError::RequestTimeout),
        400..=499 => Class::Stop(PollError::Client(status)),
        500..=599 => Class::Retry(PollError::Server(status)),
        // 1xx/3xx reaching script, or nonsense: nothing readable arrived.
        _ => Class::Retry(PollError::InvalidResponse),
    }
}

/// Whether what a failed fetch said (its message, its or its cause's
/// `code`) means the url could not be parsed: Node's "Failed to parse URL
/// from /api/file/1" (cause `ERR_INVALID_URL`; msw's `Request` says the
/// same), `new URL`'s and Deno's "Invalid URL", Bun's "URL is invalid". A
/// mock's "Failed to fetch" is not.
pub fn says_bad_url(said: Option<&str>, code: Option<&str>) -> bool {
    // Byte windows, not `str::contains`: std's substring search costs
    // 0.9 KB gzipped of the `.wasm` (see `template`).
    let said = said.unwrap_or_default().to_ascii_lowercase();
    let has = |s: &[u8]| said.as_bytes().windows(s.len()).any(|w| w == s);
    code == Some("ERR_INVALID_URL")
        || [&b"parse url"[..], b"invalid url", b"url is invalid"]
            .iter()
            .any(|s| has(s))
}

/// A request that failed before any status came back. `relative_off_page`:
/// its url is relative, there is no page to resolve it against, and fetch
/// said it could not parse it (Node: "Failed to parse URL"): that is the
/// configuration's fault, and the job ends at once instead of retrying for
/// minutes. So it is when there is no `fetch` at all (`no_fetch`). Else it
/// is the network's (or a mock's), and transient.
pub fn fetch_failed(relative_off_page: bool, no_fetch: bool) -> PollError {
    if no_fetch {
        PollError::NoFetch
    } else if relative_off_page {
        PollError::RelativeUrl
    } else {
        PollError::Network
    }
}

/// The words of a 4xx or 5xx answer's error, with its code (`Server error
/// (HTTP 503)`); `None` for other statuses (their errors' words are fixed).
pub fn status_words(status: u16) -> Option<String> {
    match classify_status(status) {
        Class::Retry(e) | Class::Stop(e) => e.code_words(),
        _ => None,
    }
}

/// `invalid_response`'s words for a 2xx body that is no record: what it
/// was (`json`: it parsed as JSON), and where a redirect took the request
/// (`redirected_to`: a sign-in page, most likely), its query cut off.
pub fn unreadable_words(text: &str, json: bool, redirected_to: Option<&str>) -> String {
    let mut words = [
        PollError::InvalidResponse.message(),
        unreadable_body(text, json),
    ]
    .concat();
    // Its origin and path, not past a `;` (a session id in a path
    // parameter), a query or a fragment.
    if let Some(url) = redirected_to.filter(|u| !u.is_empty()) {
        let end = url.find([';', '?', '#']).unwrap_or(url.len());
        words.push_str(", after a redirect to ");
        words.push_str(&url[..end]);
        if end < url.len() {
            words.push('…');
        }
    }
    words
}

/// What a 2xx body that is no record was; `json`: it parsed as JSON.
fn unreadable_body(text: &str, json: bool) -> &'static str {
    let t = text.trim_start();
    if t.is_empty() {
        ": its body was empty"
    } else if json {
        ": JSON, but no record object"
    } else if t.starts_with('<') {
        ": an HTML page, not JSON (a sign-in page, or a url that names a page rather than the API?)"
    } else {
        ": not JSON"
    }
}

/// Whether a `Content-Type` names HTML.
pub fn is_html(content_type: &str) -> bool {
    let t = content_type.to_ascii_lowercase();
    t.as_bytes().windows(4).any(|w| w == b"html")
}

/// What fetch said, fit for a message the page may show: the query of
/// every url or path in it cut off (`…/file/1?token=…` becomes
/// `…/file/1?…`, up to the next space), since a page's url may carry a
/// token and the words may reach a toast. Node and node-fetch name the url
/// in their words; browsers do not. Linear in the text.
pub fn without_queries(said: &str) -> String {
    let mut out = String::with_capacity(said.len());
    let mut in_query = false;
    // Whether the word being written has a '/'.
    let mut slash = false;
    for c in said.chars() {
        if c.is_whitespace() {
            in_query = false;
            out.push(c);
            slash = false;
            continue;
        }
        if in_query {
            continue;
        }
        out.push(c);
        match c {
            '/' => slash = true,
            '"' | '\'' | '(' => slash = false,
            '?' if slash => {
                out.push('…');
                in_query = true;
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_says_a_url_could_not_be_parsed() {
        let node = "Failed to parse URL from /api/file/file_1";
        assert!(says_bad_url(Some(node), None));
        assert!(says_bad_url(Some("fetch failed"), Some("ERR_INVALID_URL")));
        assert!(says_bad_url(Some("Invalid URL: '/api/file/1'"), None));
        assert!(says_bad_url(Some("fetch() URL is invalid"), None));
        for not in [
            "Failed to fetch",
            "fetch failed",
            "NetworkError when attempting to fetch resource.",
        ] {
            assert!(!says_bad_url(Some(not), None), "{not}");
        }
        assert!(!says_bad_url(None, Some("ECONNREFUSED")));
    }

    #[test]
    fn a_failed_fetch_is_the_network_unless_a_relative_url_had_no_page_or_there_was_no_fetch() {
        assert_eq!(fetch_failed(false, false), PollError::Network);
        assert!(fetch_failed(false, false).retryable());
        assert_eq!(fetch_failed(true, false), PollError::RelativeUrl);
        assert!(!fetch_failed(true, false).retryable());
        assert_eq!(fetch_failed(true, false).kind(), "relative_url");
        for relative in [false, true] {
            assert_eq!(fetch_failed(relative, true), PollError::NoFetch);
        }
        assert!(!PollError::NoFetch.retryable());
        assert_eq!(PollError::NoFetch.kind(), "no_fetch");
    }

    #[test]
    fn an_unreadable_answer_says_where_a_redirect_took_it() {
        let words = unreadable_words(
            "<!doctype html>",
            false,
            Some("https://app.example/login?next=%2Fapi"),
        );
        assert!(
            words.starts_with("The server sent an unreadable response: an HTML page"),
            "{words}"
        );
        assert!(
            words.ends_with(", after a redirect to https://app.example/login…"),
            "{words}"
        );
        let session = unreadable_words(
            "<p>",
            false,
            Some("https://a.example/login;jsessionid=3F2A?x=1"),
        );
        assert!(
            session.ends_with(", after a redirect to https://a.example/login…"),
            "{session}"
        );
        assert!(!unreadable_words("", false, Some("")).contains("redirect"));
        assert_eq!(
            unreadable_words("", false, None),
            "The server sent an unreadable response: its body was empty"
        );
    }

    #[test]
    fn an_unreadable_body_says_what_it_was() {
        assert_eq!(unreadable_body("  ", false), ": its body was empty");
        assert_eq!(
            unreadable_body("null", true),
            ": JSON, but no record object"
        );
        assert!(unreadable_body("\n<!doctype html><p>Sign in", false)
            .starts_with(": an HTML page, not JSON"));
        assert_eq!(unreadable_body("OK", false), ": not JSON");
    }

    #[test]
    fn a_4xx_or_5xx_error_names_its_code() {
        assert_eq!(
            status_words(503).as_deref(),
            Some("Server error (HTTP 503)")
        );
        assert_eq!(
            status_words(422).as_deref(),
            Some("The request was rejected (HTTP 422)")
        );
        for fixed in [200, 401, 403, 404, 408, 429] {
            assert_eq!(status_words(fixed), None, "{fixed}");
        }
    }

    #[test]
    fn every_status_class() {
        assert_eq!(classify_status(200), Class::Success);
        assert_eq!(classify_status(204), Class::Success);
        assert_eq!(classify_status(429), Class::RateLimited);
        assert_eq!(classify_status(404), Class::NotFound);
        assert_eq!(classify_status(401), Class::Stop(PollError::Unauthorized));
        assert_eq!(classify_status(403), Class::Stop(PollError::Forbidden));
        assert_eq!(classify_status(400), Class::Stop(PollError::Client(400)));
        assert_eq!(classify_status(410), Class::Stop(PollError::Client(410)));
        assert_eq!(
            classify_status(408),
            Class::Retry(PollError::RequestTimeout)
        );
        assert_eq!(classify_status(500), Class::Retry(PollError::Server(500)));
        assert_eq!(classify_status(503), Class::Retry(PollError::Server(503)));
        assert_eq!(classify_status(599), Class::Retry(PollError::Server(599)));
        assert_eq!(
            classify_status(302),
            Class::Retry(PollError::InvalidResponse)
        );
        assert_eq!(classify_status(0), Class::Retry(PollError::InvalidResponse));
    }
    #[test]
    fn what_fetch_said_loses_the_queries_of_its_urls() {
        let node = "request to https://api.example.com/api/file/f1?token=SECRET123 failed, reason: getaddrinfo ENOTFOUND api.example.com";
        assert_eq!(
            without_queries(node),
            "request to https://api.example.com/api/file/f1?… failed, reason: getaddrinfo ENOTFOUND api.example.com"
        );
        let cases = [
            (
                "Failed to parse URL from /api/file/f1?token=SECRET",
                "Failed to parse URL from /api/file/f1?…",
            ),
            (
                "Failed to parse URL from api/file/1?token=SECRET",
                "Failed to parse URL from api/file/1?…",
            ),
            (
                "Invalid URL: '/a/b?c=d' (x?y)",
                "Invalid URL: '/a/b?… (x?y)",
            ),
            ("GET /f/1?ids=1,2&token=SECRET failed", "GET /f/1?… failed"),
            ("GET /f/1?x=(1)&token=SECRET failed", "GET /f/1?… failed"),
            (
                "Failed to parse URL from /?token=SECRET",
                "Failed to parse URL from /?…",
            ),
        ];
        for (said, cut) in cases {
            assert_eq!(without_queries(said), cut);
        }
        for kept in [
            "Failed to fetch",
            "Is it down? Try again",
            "NetworkError when attempting to fetch resource.",
        ] {
            assert_eq!(without_queries(kept), kept);
        }
        // Linear: a long text of question marks is quick.
        let long = "a/b?".repeat(50_000);
        assert_eq!(without_queries(&long), "a/b?…");
    }

    #[test]
    fn what_names_html() {
        assert!(is_html("text/html; charset=utf-8"));
        assert!(is_html("application/xhtml+xml"));
        assert!(is_html("TEXT/HTML"));
        assert!(!is_html("application/json"));
        assert!(!is_html(""));
    }
}
