//! Per-job progress and the manager's metrics across finished jobs.


use super::error::PollError;

/// Which channel is watching the job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// The event stream (SSE).
    Stream,
    Polling,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Stream => "sse",
            Channel::Polling => "polling",
        }
    }
}

/// A job's progress, as `onProgress` and `getPollingStatus` report it.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    /// Requests made so far.
    pub attempt: u32,
    pub max_attempts: u32,
    /// Time until the next request, when one is scheduled.
    pub next_poll_in: Option<u64>,
    pub elapsed_time: u64,
    pub estimated_time_remaining: Option<u64>,
    pub channel: Channel,
    /// Percent done, when the stream reported it.
    pub progress: Option<u8>,
}

/// How a finished job ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub error: Option<PollError>,
    pub duration: u64,
    pub attempts: u32,
    /// The channel whose news ended the job.
    pub channel: Channel,
}

/// Aggregates over finished jobs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics {
    finished: u32,
    succeeded: u32,
    completion_ms: u64,
    attempts: u64,
    requests: u64,
    errors: Vec<(&'static str, u32)>,
}

impl Metrics {
    pub fn record(&mut self, o: &Outcome) {
        self.finished += 1;
        self.attempts += u64::from(o.attempts);
        match o.error {
            None => {
                self.succeeded += 1;
                self.completion_ms += o.duration;
            }
            Some(e) => match self.errors.iter_mut().find(|(k, _)| *k == e.kind()) {
                Some((_, n)) => *n += 1,
                None => self.errors.push((e.kind(), 1)),
            },
        }
    }

    /// Counts one request sent, finished job or not.
    pub fn count_request(&mut self) {
        self.requests += 1;
    }

    /// Mean time to complete, over successful jobs; `None` before the first.
    pub fn average_completion_time(&self) -> Option<u64> {
        (self.succeeded > 0).then(|| self.completion_ms / u64::from(self.succeeded))
    }

    /// Share of finished jobs that succeeded, 0 to 1 (0 when none finished).
    pub fn success_rate(&self) -> f64 {
        ratio(u64::from(self.succeeded), self.finished)
    }

    pub fn average_attempts(&self) -> f64 {
        ratio(self.attempts, self.finished)
    }

    /// Terminal errors by kind.
    pub fn error_distribution(&self) -> &[(&'static str, u32)] {
        &self.errors
    }

    pub fn total_requests(&self) -> u64 {
        self.requests
    }

    pub fn finished(&self) -> u32 {
        self.finished
    }
}

fn ratio(n: u64, d: u32) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / f64::from(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates() {
        let mut m = Metrics::default();
        assert_eq!(m.average_completion_time(), None);
        assert_eq!(m.success_rate(), 0.0);
        m.record(&Outcome {
            error: None,
            duration: 10_000,
            attempts: 4,
            channel: Channel::Polling,
        });
        m.record(&Outcome {
            error: None,
            duration: 20_000,
            attempts: 6,
            channel: Channel::Polling,
        });
        m.record(&Outcome {
            error: Some(PollError::Timeout),
            duration: 1,
            attempts: 2,
            channel: Channel::Polling,
        });
        m.record(&Outcome {
            error: Some(PollError::Forbidden),
            duration: 1,
            attempts: 1,
            channel: Channel::Polling,
        });
        m.record(&Outcome {
            error: Some(PollError::Timeout),
            duration: 1,
            attempts: 2,
            channel: Channel::Polling,
        });
        m.count_request();
        assert_eq!(m.average_completion_time(), Some(15_000));
        assert_eq!(m.success_rate(), 0.4);
        assert_eq!(m.average_attempts(), 3.0);
        assert_eq!(m.error_distribution(), &[("timeout", 2), ("forbidden", 1)]);
        assert_eq!(m.total_requests(), 1);
        assert_eq!(m.finished(), 5);
    }
}
