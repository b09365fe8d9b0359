//! What a page's checker said (`smartPollingManager.startPolling(pollId,
//! checker)`), as the job's input: the old module's rules, decided here and
//! read from JS by the browser layer.

use super::error::PollError;
use super::job::{Input, Reply};
use super::record::State;

/// A checker's outcome, as read from JS.
#[derive(Clone, Debug, PartialEq)]
pub enum Checked {
    /// It threw (or its promise rejected). `status`: the thrown object's
    /// `status`, when it is a number; `retry_after`: its (or its
    /// `response`'s) `retry-after` header, in ms.
    Threw {
        status: Option<f64>,
        retry_after: Option<u64>,
        /// Its message says it was rate-limited ([`says_rate_limited`]).
        rate_limited: bool,
    },
    /// It answered `{ completed, data, error, shouldContinue, retryAfter }`.
    Answered {
        completed: bool,
        /// `shouldContinue: false`.
        stop: bool,
        /// A non-empty `error`.
        error: bool,
        /// Of `data`, so an unchanged answer does not fire `onUpdate`.
        fingerprint: u64,
        /// `retryAfter` (or a returned response's header), in ms.
        retry_after: Option<u64>,
    },
    /// It answered something that is not an object (`undefined` from a
    /// checker that forgot to `return`, `true`, a string, an array): the old
    /// module threw reading `.completed` of `undefined`, an error of the
    /// attempt.
    NotAnObject,
}

/// The job's input for a checker's outcome:
/// - `completed: true` completes with `data`;
/// - `shouldContinue: false` fails (its `error` is the message);
/// - an `error` with polling going on is told (`Reply::Said`), not counted:
///   the call answered, as in the old module;
/// - otherwise not ready yet, with the server's hint if it passed one on;
/// - an answer that is not an object is a transient `check_failed`: not
///   "not ready yet", which would wait silently until the job's timeout;
/// - a throw with an HTTP status is classified as that response (a 429
///   waits as its `retry-after` says); one without, whose message says it
///   was rate-limited, as a 429; any other throw is `check_failed`.
pub fn checked_input(c: Checked) -> Input {
    match c {
        Checked::Threw {
            status: Some(status),
            retry_after,
            ..
        } if (100.0..600.0).contains(&status) => Input::Response(Reply::Status {
            status: status as u16,
            retry_after,
        }),
        Checked::Threw {
            status: None,
            retry_after,
            rate_limited: true,
        } => Input::Response(Reply::Status {
            status: 429,
            retry_after,
        }),
        Checked::Threw { .. } | Checked::NotAnObject => Input::RequestFailed(PollError::Check),
        Checked::Answered {
            completed,
            stop,
            error,
            fingerprint,
            retry_after,
        } => {
            let state = if completed {
                State::Complete { url: None }
            } else if stop {
                State::Failed
            } else if error {
                return Input::Response(Reply::Said {
                    fingerprint,
                    retry_after,
                });
            } else {
                State::Pending
            };
            Input::Response(Reply::Record {
                state,
                fingerprint,
                retry_after,
            })
        }
    }
}

/// Whether a thrown error's message says the checker was rate-limited, as
/// the old module read it: "rate limit" in any case ("Rate limited", "rate
/// limit exceeded"), or 429 as a number of its own ("HTTP 429: Too Many
/// Requests", not "file 14290"). Byte windows, as in `template`.
pub fn says_rate_limited(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    let b = lower.as_bytes();
    let digit = |i: Option<usize>| i.and_then(|i| b.get(i)).is_some_and(u8::is_ascii_digit);
    b.windows(10).any(|w| w == b"rate limit")
        || (b.windows(3).enumerate())
            .any(|(i, w)| w == b"429" && !digit(i.checked_sub(1)) && !digit(Some(i + 3)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(completed: bool, stop: bool, error: bool) -> Input {
        checked_input(Checked::Answered {
            completed,
            stop,
            error,
            fingerprint: 7,
            retry_after: Some(1000),
        })
    }

    fn record(state: State) -> Input {
        Input::Response(Reply::Record {
            state,
            fingerprint: 7,
            retry_after: Some(1000),
        })
    }

    #[test]
    fn answers() {
        assert_eq!(
            answered(true, true, true),
            record(State::Complete { url: None }),
            "completed wins"
        );
        assert_eq!(
            answered(false, true, true),
            record(State::Failed),
            "then shouldContinue: false"
        );
        assert_eq!(
            answered(false, false, true),
            Input::Response(Reply::Said {
                fingerprint: 7,
                retry_after: Some(1000)
            }),
            "an error told, polling going on"
        );
        assert_eq!(
            answered(false, false, false),
            record(State::Pending),
            "the hint goes along"
        );
    }

    #[test]
    fn an_answer_that_is_no_object_is_an_error_not_a_wait() {
        assert_eq!(
            checked_input(Checked::NotAnObject),
            Input::RequestFailed(PollError::Check)
        );
    }

    #[test]
    fn throws() {
        let threw = |status, retry_after| {
            checked_input(Checked::Threw {
                status,
                retry_after,
                rate_limited: false,
            })
        };
        assert_eq!(
            threw(Some(429.0), Some(5000)),
            Input::Response(Reply::Status {
                status: 429,
                retry_after: Some(5000)
            })
        );
        assert_eq!(
            threw(Some(503.0), None),
            Input::Response(Reply::Status {
                status: 503,
                retry_after: None
            })
        );
        for odd in [None, Some(42.0), Some(600.0), Some(f64::NAN), Some(-1.0)] {
            assert_eq!(
                threw(odd, None),
                Input::RequestFailed(PollError::Check),
                "{odd:?}"
            );
        }
        // The words say 429 only where no status does.
        let said = |status| {
            checked_input(Checked::Threw {
                status,
                retry_after: Some(3000),
                rate_limited: true,
            })
        };
        assert_eq!(
            said(None),
            Input::Response(Reply::Status {
                status: 429,
                retry_after: Some(3000)
            })
        );
        assert_eq!(
            said(Some(500.0)),
            Input::Response(Reply::Status {
                status: 500,
                retry_after: Some(3000)
            })
        );
    }

    #[test]
    fn rate_limit_words() {
        for yes in [
            "Rate limited",
            "rate limit exceeded",
            "RATE LIMIT",
            "HTTP 429: Too Many Requests",
            "429",
            "status 429.",
        ] {
            assert!(says_rate_limited(yes), "{yes}");
        }
        for no in [
            "",
            "boom",
            "file 14290 not found",
            "4290",
            "HTTP 500",
            "rate-limiting",
            "ratelimit",
        ] {
            assert!(!says_rate_limited(no), "{no}");
        }
    }
}
