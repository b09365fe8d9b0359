//! The crate's one error type. The browser layer turns it into a plain JS object
//! `{ kind, message, status?, attempt, retryable }` ([`ErrorReport`]).

use serde::Serialize;

/// An error as the page sees it: `PollingError` in the `.d.ts`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ErrorReport<'a> {
    pub kind: &'static str,
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Requests made when it happened.
    pub attempt: u32,
    pub retryable: bool,
}

/// Why a poll attempt or a whole job failed.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PollError {
    /// HTTP 429.
    RateLimited,
    /// HTTP 404, more times in a row than `maxNotFound` allows.
    NotFound,
    /// HTTP 401.
    Unauthorized,
    /// HTTP 403.
    Forbidden,
    /// Any other 4xx status.
    Client(u16),
    /// A 5xx status.
    Server(u16),
    /// `fetch` rejected: offline, DNS, CORS, connection reset.
    Network,
    /// `fetch` rejected a url relative to a page where there is none (Node):
    /// no retry can succeed.
    RelativeUrl,
    /// There is no `fetch` to call (`globalThis.fetch` is not a function:
    /// Jest's jsdom environment, Node before 18): no retry can succeed.
    NoFetch,
    /// No response within `requestTimeout`.
    RequestTimeout,
    /// The body was not JSON or not the shape of a record.
    InvalidResponse,
    /// The server reports that the generation itself failed.
    GenerationFailed,
    /// The overall `timeout` of the job elapsed.
    Timeout,
    /// The same, while a server's `Retry-After` (a 429: this job's, or
    /// another's to the same origin) held its requests: kind `timeout`, and
    /// a message that says why nothing was asked.
    TimeoutHeld,
    /// `maxAttempts` requests were made without a result.
    MaxAttempts,
    /// The id does not match `^[A-Za-z0-9_-]{1,128}$`.
    InvalidId,
    /// The result url is not `http:` or `https:`.
    InvalidUrl,
    /// A configuration value was rejected; the text says which and why.
    InvalidConfig(&'static str),
    /// The page stopped the job (reported to promises only: callbacks are
    /// silent after a stop).
    Stopped,
    /// A page's checker threw or reported an error and polling goes on.
    Check,
}

impl PollError {
    /// The stable `kind` string the JS API exposes.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::RateLimited => "rate_limited",
            Self::NotFound => "not_found",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::Client(_) => "client",
            Self::Server(_) => "server",
            Self::Network => "network",
            Self::RelativeUrl => "relative_url",
            Self::NoFetch => "no_fetch",
            Self::RequestTimeout => "request_timeout",
            Self::InvalidResponse => "invalid_response",
            Self::GenerationFailed => "generation_failed",
            Self::Timeout | Self::TimeoutHeld => "timeout",
            Self::MaxAttempts => "max_attempts",
            Self::InvalidId => "invalid_id",
            Self::InvalidUrl => "invalid_url",
            Self::InvalidConfig(_) => "invalid_config",
            Self::Stopped => "stopped",
            Self::Check => "check_failed",
        }
    }

    /// Whether polling goes on after this error (a transient failure of one attempt).
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited
                | Self::NotFound
                | Self::Server(_)
                | Self::Network
                | Self::RequestTimeout
                | Self::InvalidResponse
                | Self::Check
        )
    }

    /// Whether words of the page's own may stand for the message: a
    /// checker's for its failure or its error, or for what it threw with a
    /// status (only a checker's answers carry words); what fetch said of a
    /// failed request.
    pub fn in_own_words(&self) -> bool {
        matches!(
            self,
            Self::Timeout
                | Self::GenerationFailed
                | Self::Check
                | Self::Network
                | Self::RelativeUrl
                | Self::InvalidResponse
                | Self::InvalidId
                | Self::RateLimited
                | Self::NotFound
                | Self::Unauthorized
                | Self::Forbidden
                | Self::Client(_)
                | Self::Server(_)
        )
    }

    /// Whether an answer with a status may be behind the error though the
    /// error does not name one: an unreadable answer (a 2xx body that is no
    /// record, a 3xx), or a 408 (a request timeout of our own has none).
    pub fn answered(&self) -> bool {
        matches!(
            self,
            Self::InvalidResponse | Self::RequestTimeout | Self::Timeout
        )
    }

    /// The HTTP status behind the error, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::RateLimited => Some(429),
            Self::NotFound => Some(404),
            Self::Unauthorized => Some(401),
            Self::Forbidden => Some(403),
            Self::Client(s) | Self::Server(s) => Some(*s),
            _ => None,
        }
    }

    /// A 4xx's or 5xx's words with its code (`described`), where no words
    /// came with the error (another tab's, a checker's throw without a
    /// message); `None` for the others (their words are fixed).
    pub fn code_words(&self) -> Option<String> {
        matches!(self, Self::Client(_) | Self::Server(_)).then(|| self.described())
    }

    /// `message`, with the status of a 4xx or 5xx in it (`Server error (HTTP
    /// 503)`), written without formatting code.
    pub fn described(&self) -> String {
        // Three digits (statuses are 100-599); no formatting code, no
        // substring search (each costs the `.wasm` a kilobyte).
        let digit = |n: u16| char::from(b'0' + (n % 10) as u8);
        let code =
            |s: u16| -> String { [digit(s / 100), digit(s / 10), digit(s)].iter().collect() };
        match self {
            Self::Client(s) => ["The request was rejected (HTTP ", &code(*s), ")"].concat(),
            Self::Server(s) => ["Server error (HTTP ", &code(*s), ")"].concat(),
            _ => self.message().to_owned(),
        }
    }

    /// A short human-readable message (static: no formatting code in the wasm).
    pub fn message(&self) -> &'static str {
        match self {
            Self::RateLimited => "Rate limited by the server (HTTP 429)",
            Self::NotFound => "Not found (HTTP 404): the server has no record with this id (yet)",
            Self::Unauthorized => "Not signed in (HTTP 401)",
            Self::Forbidden => "Access denied (HTTP 403)",
            Self::Client(_) => "The request was rejected (HTTP 4xx)",
            Self::Server(_) => "Server error (HTTP 5xx)",
            Self::Network => "Could not reach the server",
            Self::RelativeUrl => "A relative url cannot be fetched outside a page: give the manager (the helpers: configureDefaults) an absolute fileUrl and projectUrl, or mock fetch",
            Self::NoFetch => "There is no fetch to send the request with (globalThis.fetch is not a function): mock globalThis.fetch before the job starts (Jest's jsdom environment has none), load a fetch polyfill, or use Node 18 or later",
            Self::RequestTimeout => "The request timed out",
            Self::InvalidResponse => "The server sent an unreadable response",
            Self::GenerationFailed => "Generation failed",
            Self::Timeout => "Polling timed out",
            Self::TimeoutHeld => {
                "Polling timed out while the server's rate limit (HTTP 429) held its requests"
            }
            Self::MaxAttempts => "Gave up after the maximum number of attempts",
            Self::InvalidId => "Invalid id: expected 1-128 characters of A-Z, a-z, 0-9, _ or -",
            Self::InvalidUrl => "A url in the record is neither an http(s) nor a relative url",
            Self::InvalidConfig(why) => why,
            Self::Stopped => "Polling was stopped",
            Self::Check => "The check failed",
        }
    }
}

/// The words and status of a plain timeout whose cause was something else
/// (see `Ended::erring`): the device offline at the end, or the last
/// requests failing (`erring`, the last error, in the package's words: an
/// answer after it, a 404's or a 429's, may have said something else).
/// Or the last answer (`last_said`, its words) a 404 that was an HTML page
/// ([`NOT_FOUND_HTML`]): "not yet" to a job that allows any number of
/// 404s (the Promise helpers), though most likely no API route answers.
/// `(None, None)`: a plain timeout. A toast then says why.
pub fn timeout_said(
    offline: bool,
    erring: Option<PollError>,
    last_said: Option<&str>,
) -> (Option<String>, Option<u16>) {
    if offline {
        let words =
            "Polling timed out while the device was offline: check the connection and try again";
        return (Some(words.to_owned()), None);
    }
    let Some(last) = erring else {
        return match last_said {
            Some(page) if page.as_bytes().starts_with(NOT_FOUND_HTML.as_bytes()) => {
                let words = ["Polling timed out; the last answer: ", page].concat();
                (Some(words), Some(404))
            }
            _ => (None, None),
        };
    };
    // The last answer's own words when they are that error's (what fetch
    // said, where to look; what the body was).
    let described = last.described();
    let last_words = match last_said {
        Some(said) if said.as_bytes().starts_with(described.as_bytes()) => said,
        _ => &described,
    };
    let words = [
        "Polling timed out while its requests were failing; the last: ",
        last_words,
    ]
    .concat();
    (Some(words), last.status())
}

/// A 404 whose answer is an HTML page (a framework's "page not found"):
/// most likely no API route answers the url (a `basePath` or `base` the
/// app is served under, left out of `fileUrl`). The url follows, then
/// [`NOT_FOUND_HTML_END`].
pub const NOT_FOUND_HTML: &str =
    "Not found (HTTP 404), and the answer was an HTML page: no API route may answer ";
pub const NOT_FOUND_HTML_END: &str =
    " (check fileUrl and projectUrl: a basePath or base the app is served under is not in the defaults)";

/// Added in a page to what a failed fetch said (a page pauses its jobs
/// while the browser is offline, so there the cause is rarely the device):
/// where to look.
pub const NETWORK_HINT: &str = " (the server may be down, or CORS or the page's Content-Security-Policy blocked the request: the browser console says which)";

impl PollError {
    /// The page's view of this error, after `attempt` requests.
    pub fn report(&self, attempt: u32) -> ErrorReport<'static> {
        ErrorReport {
            kind: self.kind(),
            message: self.message(),
            status: self.status(),
            attempt,
            retryable: self.retryable(),
        }
    }

    /// `report`, with what the page's side said of it: `said` (a
    /// checker's words, what fetch said) as the message where such words
    /// stand for it, and `status` (the answer's) where the error names
    /// none of its own.
    pub fn report_said<'a>(
        &self,
        attempt: u32,
        said: Option<&'a str>,
        status: Option<u16>,
    ) -> ErrorReport<'a> {
        let mut report = self.report(attempt);
        if let Some(m) = said.filter(|_| self.in_own_words()) {
            report.message = m;
        }
        report.status = report.status.or(status.filter(|_| self.answered()));
        report
    }
}

impl core::fmt::Display for PollError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.message())
    }
}

impl core::error::Error for PollError {}

/// Checks a file or project id before it is put into a url: encoding alone would
/// not stop `..` from climbing paths.
pub fn validate_id(id: &str) -> Result<(), PollError> {
    let ok = (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(PollError::InvalidId)
    }
}

/// `validate_id` for a file or project; a checker's poll id (`check`) may
/// be any text but none.
pub fn validate_key(check: bool, id: &str) -> Result<(), PollError> {
    match check {
        true if !id.is_empty() => Ok(()),
        _ => validate_id(id),
    }
}

/// `invalid_id`'s words, with the id that was given (its first 40
/// characters): a page that passed `undefined` sees so (the package's
/// entry reads `undefined`, `null` and objects as no id).
pub fn invalid_id_words(id: &str) -> String {
    // Not past a query or fragment: an id that is a url by mistake may
    // carry a token there.
    let end = id.find(['?', '#']).unwrap_or(id.len());
    let cut_off = end < id.len();
    let mut chars = id[..end].chars();
    let shown: String = chars.by_ref().take(40).collect();
    let got = match (id.is_empty(), chars.next().is_some()) {
        (true, _) => " (got none: undefined, null, an object or \"\")".to_owned(),
        (false, cut) => {
            let more = if cut || cut_off { "…" } else { "" };
            [" (got \"", &shown, more, "\")"].concat()
        }
    };
    [PollError::InvalidId.message(), &got].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_id_s_words_show_what_was_given() {
        let expected = PollError::InvalidId.message();
        assert_eq!(
            invalid_id_words(""),
            [expected, " (got none: undefined, null, an object or \"\")"].concat()
        );
        assert_eq!(
            invalid_id_words("a/b"),
            [expected, " (got \"a/b\")"].concat()
        );
        let long = "é".repeat(50);
        assert_eq!(
            invalid_id_words(&long),
            [expected, " (got \"", &"é".repeat(40), "…\")"].concat()
        );
        // never a query or a fragment: a token may be in one
        assert_eq!(
            invalid_id_words("f_1?token=sk_live_abc"),
            [expected, " (got \"f_1…\")"].concat()
        );
        assert_eq!(
            invalid_id_words("a#b"),
            [expected, " (got \"a…\")"].concat()
        );
        assert!(validate_key(true, "any text/at all").is_ok());
        assert_eq!(validate_key(true, ""), Err(PollError::InvalidId));
        assert_eq!(validate_key(false, "a/b"), Err(PollError::InvalidId));
    }

    #[test]
    fn ids() {
        assert!(validate_id("abc-DEF_123").is_ok());
        assert!(validate_id(&"a".repeat(128)).is_ok());
        for bad in ["", "..", "a/b", "a b", "é", "a%2F", "a.b", "?x"] {
            assert_eq!(validate_id(bad), Err(PollError::InvalidId), "{bad}");
        }
        assert_eq!(validate_id(&"a".repeat(129)), Err(PollError::InvalidId));
    }

    #[test]
    fn the_page_s_words_and_the_answer_s_status_stand_where_they_belong() {
        let r = PollError::Check.report_said(2, Some("db down"), Some(500));
        assert_eq!((r.message, r.status), ("db down", None));
        // An unreadable answer's words say what its body was.
        let words = "The server sent an unreadable response: not JSON";
        let r = PollError::InvalidResponse.report_said(1, Some(words), Some(200));
        assert_eq!((r.message, r.status), (words, Some(200)));
        // A url the package judged is in the package's words.
        let r = PollError::InvalidUrl.report_said(1, Some("stale words"), None);
        assert_eq!(r.message, PollError::InvalidUrl.message());
        let r = PollError::Server(503).report_said(1, None, Some(200));
        assert_eq!(r.status, Some(503), "the error's own status wins");
        let r = PollError::Network.report_said(
            1,
            Some("Could not reach the server: Failed to fetch"),
            None,
        );
        assert_eq!(r.message, "Could not reach the server: Failed to fetch");
        // What a checker threw with a status: its words, the status its own.
        let r = PollError::Server(500).report_said(3, Some("HTTP 500 from the API"), None);
        assert_eq!((r.message, r.status), ("HTTP 500 from the API", Some(500)));
        let r = PollError::MaxAttempts.report_said(3, Some("stale words"), None);
        assert_eq!(
            r.message, "Gave up after the maximum number of attempts",
            "the package's own errors keep theirs"
        );
        // A timeout takes the words of its cause (`timeout_said`), which the
        // web layer's end passes alone (never the last answer's words).
        let (words, status) = timeout_said(false, Some(PollError::Server(502)), None);
        let r = PollError::Timeout.report_said(3, words.as_deref(), status);
        assert_eq!(r.status, Some(502));
        assert!(r.message.ends_with("Server error (HTTP 502)"));
    }

    #[test]
    fn kinds_and_retryability() {
        assert_eq!(PollError::Server(503).kind(), "server");
        assert_eq!(PollError::Server(503).status(), Some(503));
        assert!(PollError::Server(500).retryable());
        assert!(!PollError::Forbidden.retryable());
        assert!(!PollError::Timeout.retryable());
        assert_eq!(PollError::InvalidConfig("x").message(), "x");
    }

    #[test]
    fn a_timeout_says_what_kept_the_job_from_its_result() {
        assert_eq!(timeout_said(false, None, None), (None, None));
        let (words, status) = timeout_said(true, Some(PollError::Network), None);
        assert!(words
            .unwrap()
            .starts_with("Polling timed out while the device was offline"));
        assert_eq!(status, None);
        let (words, status) = timeout_said(false, Some(PollError::Server(503)), None);
        let last =
            "Polling timed out while its requests were failing; the last: Server error (HTTP 503)";
        assert_eq!((words.as_deref(), status), (Some(last), Some(503)));
        let (words, _) = timeout_said(false, Some(PollError::Network), None);
        let last = "Polling timed out while its requests were failing; the last: Could not reach the server";
        assert_eq!(words.as_deref(), Some(last));
        assert_eq!(
            PollError::Client(422).described(),
            "The request was rejected (HTTP 422)"
        );
        assert_eq!(PollError::Network.described(), "Could not reach the server");
        // 404s the job was allowed, the last an HTML page: most likely no API route
        let page = [NOT_FOUND_HTML, "/api/file/1", NOT_FOUND_HTML_END].concat();
        let (words, status) = timeout_said(false, None, Some(&page));
        let said = "Polling timed out; the last answer: Not found (HTTP 404), and the answer was an HTML page: no API route may answer /api/file/1 (check fileUrl and projectUrl: a basePath or base the app is served under is not in the defaults)";
        assert_eq!((words.as_deref(), status), (Some(said), Some(404)));
        // other last words (a plain 404 has none) leave the timeout plain
        let other = timeout_said(false, None, Some("Could not reach the server: x"));
        assert_eq!(other, (None, None));
        // the errors in a row and the device offline come first
        let (words, _) = timeout_said(false, Some(PollError::Server(503)), Some(&page));
        assert!(words.unwrap().ends_with("Server error (HTTP 503)"));
        let (words, _) = timeout_said(true, None, Some(&page));
        assert!(words.unwrap().contains("offline"));
        // the last error's own words (where to look) when they are its
        let said = ["Could not reach the server: Failed to fetch", NETWORK_HINT].concat();
        let (words, _) = timeout_said(false, Some(PollError::Network), Some(&said));
        let last = "Polling timed out while its requests were failing; the last: ";
        assert_eq!(words, Some([last, &said].concat()));
        let (words, _) = timeout_said(
            false,
            Some(PollError::Server(503)),
            Some("Server error (HTTP 503)"),
        );
        assert_eq!(words, Some([last, "Server error (HTTP 503)"].concat()));
        // words of another answer (a 502's after a 503) are not
        let (words, _) = timeout_said(
            false,
            Some(PollError::Server(503)),
            Some("Server error (HTTP 502)"),
        );
        assert_eq!(words, Some([last, "Server error (HTTP 503)"].concat()));
    }
}
