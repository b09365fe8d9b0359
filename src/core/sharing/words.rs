//! The words of the protocol between tabs that share jobs: what a leader
//! says of a job ([`Said`]), what a message from another tab means for a
//! job here ([`heard`]), and which ends cross tabs. The browser layer reads
//! a message leniently into [`Words`] (the record it carries read as this
//! tab would read it), asks [`heard`], and executes the answer; it sends
//! what [`Said`] holds, with the job's kind, id and record. Nothing here
//! trusts another tab: a message of another version, with numbers of the
//! wrong type, or with a record this tab would refuse, means nothing.

use crate::core::error::PollError;
use crate::core::job::{Job, Mirror};
use crate::core::metrics::{Channel, Progress};
use crate::core::record::{State, FINGERPRINT_BITS};

/// Messages of another version are ignored.
pub const VERSION: u32 = 1;

/// How long a leader keeps an ended job's lock after telling the others, so
/// that no follower takes over a job that has just ended (the channel and
/// the lock manager do not deliver in a common order).
pub const END_GRACE_MS: u64 = 1000;

/// A message from another tab, each field `None` when it is missing or of
/// the wrong type.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Words<'a> {
    pub v: Option<u32>,
    /// "hello", "state", "end" or "nudge".
    pub what: Option<&'a str>,
    pub attempt: Option<u32>,
    pub elapsed: Option<u64>,
    pub next_poll_in: Option<u64>,
    pub channel: Option<&'a str>,
    pub progress: Option<u8>,
    pub position: Option<u32>,
    pub fingerprint: Option<u64>,
    /// The record it carries: `None` without one, `Some(None)` when this
    /// tab cannot read it, else what this tab reads in it.
    pub record: Option<Option<State>>,
    /// For "end": "complete" or an error's kind.
    pub result: Option<&'a str>,
    pub url: Option<&'a str>,
    /// For "state": the leader's errors in a row, and the last one
    /// ([`error_code`]).
    pub errors: Option<u32>,
    pub error: Option<u16>,
}

/// What this tab tells the others of a job (the browser layer adds the
/// version, the job's kind and id, and the record).
#[derive(Clone, Debug, PartialEq)]
pub struct Said<'a> {
    /// "hello", "state", "end" or "nudge".
    pub what: &'static str,
    pub attempt: u32,
    pub elapsed: u64,
    pub next_poll_in: Option<u64>,
    pub channel: Channel,
    pub progress: Option<u8>,
    pub position: usize,
    /// The fingerprint of the record sent along (53 bits: it travels as a
    /// JS number); `None` without a record.
    pub fingerprint: Option<u64>,
    /// For "end": "complete" or an error's kind.
    pub result: Option<&'static str>,
    pub url: Option<&'a str>,
    /// For "state": the job's transient errors in a row (none: 0), and the
    /// last one ([`error_code`]).
    pub errors: u32,
    pub error: Option<u16>,
}

impl<'a> Said<'a> {
    /// A tab that starts following a job asks its leader for its state,
    /// saying how soon its caller wants a check (`first_wait`, its first
    /// wait; see [`Heard::Hello`]). `first_wait` travels as `nextPollIn`.
    pub fn hello(first_wait: u64) -> Self {
        Said {
            what: "hello",
            attempt: 0,
            elapsed: 0,
            next_poll_in: Some(first_wait),
            channel: Channel::Polling,
            progress: None,
            position: 0,
            fingerprint: None,
            result: None,
            url: None,
            errors: 0,
            error: None,
        }
    }

    /// A caller joined the job in a following tab and wants a check within
    /// `within` ms (its first wait): the leading tab decides whether it is
    /// due (see [`Heard::Nudge`]). `within` travels as `nextPollIn`; older
    /// tabs of this version ignore the word, as before it existed.
    pub fn nudge(within: u64) -> Self {
        Said {
            what: "nudge",
            ..Self::hello(within)
        }
    }

    /// The leader's state of `job` at `now`, `with_record` when its last
    /// record goes along.
    pub fn state(job: &Job, now: u64, with_record: bool) -> Self {
        let p = job.progress(now);
        let (errors, last) = job.consecutive_errors();
        Said {
            what: "state",
            attempt: p.attempt,
            elapsed: p.elapsed_time,
            next_poll_in: p.next_poll_in,
            channel: p.channel,
            progress: p.progress,
            position: job.position(),
            fingerprint: with_record.then(|| job.fingerprint() & FINGERPRINT_BITS),
            result: None,
            url: None,
            errors,
            error: last.filter(|_| errors > 0).and_then(error_code),
        }
    }

    /// How a job ended, if the others share that end (a completion, or what
    /// the server said of the generation; not this tab's own limits).
    pub fn end(result: &'a Result<Option<String>, PollError>, p: &Progress) -> Option<Self> {
        let (what, url) = match result {
            Ok(url) => ("complete", url.as_deref()),
            Err(e) => (shared_kind(e)?, None),
        };
        Some(Said {
            what: "end",
            attempt: p.attempt,
            elapsed: p.elapsed_time,
            next_poll_in: None,
            channel: p.channel,
            progress: p.progress,
            position: 0,
            fingerprint: None,
            result: Some(what),
            url,
            errors: 0,
            error: None,
        })
    }

    /// What another tab of this version reads in it, given what it reads in
    /// the record sent along (`None`: no record).
    pub fn words(&self, record: Option<Option<State>>) -> Words<'a> {
        Words {
            v: Some(VERSION),
            what: Some(self.what),
            attempt: Some(self.attempt),
            elapsed: Some(self.elapsed),
            next_poll_in: self.next_poll_in,
            channel: Some(self.channel.as_str()),
            progress: self.progress,
            position: u32::try_from(self.position).ok(),
            fingerprint: self.fingerprint,
            record,
            result: self.result,
            url: self.url,
            errors: Some(self.errors),
            error: self.error,
        }
    }
}

/// What a message means for the job it names, in this tab.
#[derive(Clone, Debug, PartialEq)]
pub enum Heard {
    /// Nothing (another version, not for this tab's role, or not trusted).
    Nothing,
    /// Another tab joined the job this tab leads: tell it the job's state
    /// (and last record), then take its first wait as a nudge (`within`;
    /// `None` from a tab that did not say it): a tab whose caller wants a
    /// check sooner than this job's schedule gives (a "check now" after a
    /// reload) gets one, a tab on the same terms adds no request.
    Hello { within: Option<u64> },
    /// The leader's state, to mirror; `with_record` when its record goes
    /// along (`onUpdate`).
    State { mirror: Mirror, with_record: bool },
    /// How the job ended in the leading tab; a completion carries its
    /// record.
    End(Result<Option<String>, PollError>),
    /// A following tab asks the leader for a check within `within` ms (a
    /// caller joined there: `Said::nudge`); the table decides whether it is
    /// due (`Table::nudge_from_tab`).
    Nudge { within: u64 },
}

/// Whether a message is of this version: only then is another tab heard
/// from at all.
pub fn same_version(w: &Words) -> bool {
    w.v == Some(VERSION)
}

/// What `w` means for a job this tab `leads` or is `following`.
pub fn heard(w: &Words, leads: bool, following: bool) -> Heard {
    if !same_version(w) {
        return Heard::Nothing;
    }
    match w.what {
        Some("hello") if leads => Heard::Hello {
            within: w.next_poll_in,
        },
        Some("state") if following => state(w),
        Some("end") if following => end(w),
        Some("nudge") if leads => w
            .next_poll_in
            .map_or(Heard::Nothing, |within| Heard::Nudge { within }),
        _ => Heard::Nothing,
    }
}

fn state(w: &Words) -> Heard {
    // A record must read as this tab would read it: an unsafe url (or an
    // unreadable record) drops the whole message.
    let fingerprint = match (&w.record, w.fingerprint) {
        (None, _) => None,
        (Some(Some(State::UnsafeUrl) | None), _) | (Some(_), None) => return Heard::Nothing,
        (Some(Some(_)), Some(fp)) => Some(fp),
    };
    let (Some(attempts), Some(elapsed)) = (w.attempt, w.elapsed) else {
        return Heard::Nothing;
    };
    let mirror = Mirror {
        attempts,
        elapsed,
        errors: w.errors.unwrap_or(0),
        error: w.error.and_then(transient_error),
        next_poll_in: w.next_poll_in,
        channel: match w.channel {
            Some("sse") => Channel::Stream,
            _ => Channel::Polling,
        },
        percent: w.progress.filter(|p| *p <= 100),
        position: w.position.map_or(0, |p| p as usize),
        fingerprint,
    };
    Heard::State {
        mirror,
        with_record: fingerprint.is_some(),
    }
}

fn end(w: &Words) -> Heard {
    match w.result {
        // Complete only with a record this tab reads as complete with the
        // same (so safe) url.
        Some("complete") => match (&w.record, w.url) {
            (Some(Some(State::Complete { url: Some(read) })), Some(url)) if read == url => {
                Heard::End(Ok(Some(url.to_owned())))
            }
            _ => Heard::Nothing,
        },
        Some(kind) => shared_error(kind).map_or(Heard::Nothing, |e| Heard::End(Err(e))),
        None => Heard::Nothing,
    }
}

/// A transient error as it crosses tabs: a 5xx as its status, the others
/// that count as errors in a row as 1 to 3; `None` for any other (a
/// checker's jobs are not shared).
pub fn error_code(e: PollError) -> Option<u16> {
    Some(match e {
        PollError::Server(status) => status,
        PollError::Network => 1,
        PollError::RequestTimeout => 2,
        PollError::InvalidResponse => 3,
        _ => return None,
    })
}

/// The error an [`error_code`] stands for.
pub fn transient_error(code: u16) -> Option<PollError> {
    Some(match code {
        500..=599 => PollError::Server(code),
        1 => PollError::Network,
        2 => PollError::RequestTimeout,
        3 => PollError::InvalidResponse,
        _ => return None,
    })
}

/// Errors that end a generation for every tab (what the server said of it);
/// a tab's own limits (timeout, attempts, errors in a row) and stops are not.
pub fn shared_error(kind: &str) -> Option<PollError> {
    Some(match kind {
        "generation_failed" => PollError::GenerationFailed,
        "invalid_url" => PollError::InvalidUrl,
        "unauthorized" => PollError::Unauthorized,
        "forbidden" => PollError::Forbidden,
        "not_found" => PollError::NotFound,
        _ => return None,
    })
}

/// The kind a leader tells the others for an end with `e`, if it is one
/// they share.
pub fn shared_kind(e: &PollError) -> Option<&'static str> {
    shared_error(e.kind()).map(|_| e.kind())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_words<'a>() -> Words<'a> {
        Words {
            v: Some(VERSION),
            what: Some("state"),
            attempt: Some(4),
            elapsed: Some(9000),
            next_poll_in: Some(2000),
            channel: Some("sse"),
            progress: Some(40),
            position: Some(4),
            fingerprint: Some(77),
            record: Some(Some(State::Pending)),
            ..Words::default()
        }
    }

    #[test]
    fn a_leaders_state_is_mirrored_with_its_record() {
        let Heard::State {
            mirror,
            with_record,
        } = heard(&state_words(), false, true)
        else {
            panic!("mirrored")
        };
        assert!(with_record);
        assert_eq!(
            mirror,
            Mirror {
                attempts: 4,
                elapsed: 9000,
                next_poll_in: Some(2000),
                channel: Channel::Stream,
                percent: Some(40),
                position: 4,
                fingerprint: Some(77),
                errors: 0,
                error: None,
            }
        );
        // Without a record: the numbers alone.
        let bare = Words {
            record: None,
            ..state_words()
        };
        assert!(matches!(
            heard(&bare, false, true),
            Heard::State {
                with_record: false,
                ..
            }
        ));
    }

    #[test]
    fn forged_or_foreign_messages_mean_nothing() {
        let forged = [
            Words {
                v: Some(2),
                ..state_words()
            },
            Words {
                v: None,
                ..state_words()
            },
            Words {
                attempt: None,
                ..state_words()
            },
            Words {
                elapsed: None,
                ..state_words()
            },
            Words {
                record: Some(Some(State::UnsafeUrl)),
                ..state_words()
            },
            Words {
                record: Some(None),
                ..state_words()
            },
            Words {
                fingerprint: None,
                ..state_words()
            },
            Words {
                what: Some("states"),
                ..state_words()
            },
        ];
        for w in forged {
            assert_eq!(heard(&w, false, true), Heard::Nothing, "{w:?}");
        }
        // A state is for followers only; a hello for the leader only.
        assert_eq!(heard(&state_words(), true, false), Heard::Nothing);
        let hello = Words {
            what: Some("hello"),
            ..state_words()
        };
        assert_eq!(
            heard(&hello, true, false),
            Heard::Hello { within: Some(2000) }
        );
        assert_eq!(heard(&hello, false, true), Heard::Nothing);
    }

    #[test]
    fn a_nudge_is_for_the_leader_and_names_its_wait() {
        let said = Said::nudge(1000);
        let words = said.words(None);
        assert_eq!(heard(&words, true, false), Heard::Nudge { within: 1000 });
        assert_eq!(heard(&words, false, true), Heard::Nothing, "a follower's");
        let bare = Words {
            next_poll_in: None,
            ..words.clone()
        };
        assert_eq!(heard(&bare, true, false), Heard::Nothing, "no wait named");
        let foreign = Words {
            v: Some(2),
            ..words
        };
        assert_eq!(heard(&foreign, true, false), Heard::Nothing);
    }

    #[test]
    fn an_end_is_heard_only_as_this_tab_would_read_it() {
        let url = "https://cdn/x.png";
        let done = |record: Option<Option<State>>, said: &'static str| Words {
            v: Some(VERSION),
            what: Some("end"),
            result: Some("complete"),
            url: Some(said),
            record,
            ..Words::default()
        };
        let read = Some(Some(State::Complete {
            url: Some(url.to_owned()),
        }));
        assert_eq!(
            heard(&done(read.clone(), url), false, true),
            Heard::End(Ok(Some(url.to_owned())))
        );
        for w in [
            done(read, "javascript:alert(1)"),
            done(Some(Some(State::Pending)), url),
            done(Some(Some(State::UnsafeUrl)), url),
            done(None, url),
        ] {
            assert_eq!(heard(&w, false, true), Heard::Nothing, "{w:?}");
        }
        let failed = |kind: &'static str| Words {
            v: Some(VERSION),
            what: Some("end"),
            result: Some(kind),
            ..Words::default()
        };
        assert_eq!(
            heard(&failed("generation_failed"), false, true),
            Heard::End(Err(PollError::GenerationFailed))
        );
        for own in ["timeout", "max_attempts", "network", "stopped", "made_up"] {
            assert_eq!(
                heard(&failed(own), false, true),
                Heard::Nothing,
                "{own}: this tab's own business"
            );
        }
    }

    #[test]
    fn which_ends_cross_tabs() {
        assert_eq!(shared_kind(&PollError::NotFound), Some("not_found"));
        assert_eq!(shared_kind(&PollError::Forbidden), Some("forbidden"));
        assert_eq!(shared_kind(&PollError::Timeout), None);
        assert_eq!(shared_kind(&PollError::Server(503)), None);
        assert_eq!(shared_kind(&PollError::Stopped), None);
    }
}
