//! Per-job progress and the manager's metrics across finished jobs, with
//! the serde shapes the page receives (`onProgress`, `getPollingStatus`,
//! `metrics()`).

use serde::Serialize;

use super::config::Media;
use super::error::PollError;

/// Which channel is watching the job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Channel {
    /// The event stream (SSE).
    #[serde(rename = "sse")]
    Stream,
    #[serde(rename = "polling")]
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
    /// Paused while the browser is offline.
    pub waiting_for_network: bool,
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

/// A job's progress as the page sees it: `PollingProgress` in the `.d.ts`.
/// A file job's carries `fileId`, a project job's `projectId`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressReport<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<&'a str>,
    pub attempt: u32,
    pub max_attempts: u32,
    /// 0 while a request is in flight or none is due.
    pub next_poll_in: u64,
    pub elapsed_time: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_time_remaining: Option<u64>,
    pub channel: Channel,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<u8>,
    /// For a job shared across tabs: "leader" (this tab polls) or "follower".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tab: Option<&'static str>,
    /// `true` while the browser is offline: the job sends nothing until it
    /// is back (absent otherwise).
    #[serde(skip_serializing_if = "is_false")]
    pub waiting_for_network: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Progress {
    /// The page's view, under the id key of the job's kind.
    pub fn report<'a>(
        &self,
        file_id: Option<&'a str>,
        project_id: Option<&'a str>,
    ) -> ProgressReport<'a> {
        ProgressReport {
            file_id,
            project_id,
            attempt: self.attempt,
            max_attempts: self.max_attempts,
            next_poll_in: self.next_poll_in.unwrap_or(0),
            elapsed_time: self.elapsed_time,
            estimated_time_remaining: self.estimated_time_remaining,
            channel: self.channel,
            progress: self.progress,
            tab: None,
            waiting_for_network: self.waiting_for_network,
        }
    }
}

/// `metrics()`: `PollingMetrics` in the `.d.ts`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricsReport {
    /// Mean time to complete over successful jobs; 0 before the first.
    pub average_completion_time: u64,
    /// 0 to 1 over finished jobs.
    pub success_rate: f64,
    /// Terminal errors by kind: an object `{ kind: count }`.
    #[serde(serialize_with = "as_map")]
    pub error_distribution: Vec<(&'static str, u32)>,
    pub average_attempts: f64,
    /// Requests sent, by finished and running jobs.
    pub total_requests: u64,
    /// Jobs that completed successfully.
    pub completed_jobs: u32,
    /// Jobs that ended with an error (a stop is neither).
    pub failed_jobs: u32,
    /// Times the browser went offline while jobs ran (they paused).
    pub offline_pauses: u32,
    pub retry_budget: RetryBudgetReport,
}

/// The retry budget: its size, what a good response earns back, and the
/// tokens each origin has left.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RetryBudgetReport {
    pub size: f64,
    pub refill: f64,
    #[serde(serialize_with = "as_map")]
    pub tokens: Vec<(String, f64)>,
}

/// Pairs as an object `{ key: value }` (a `Vec` keeps the order and needs
/// no map type in the wasm).
fn as_map<S: serde::Serializer, K: Serialize, V: Serialize>(
    pairs: &[(K, V)],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(pairs.iter().map(|(k, v)| (k, v)))
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
    pauses: u32,
    /// Completion times summed and counted per media kind (any, image,
    /// video): what a new job of that kind expects.
    by_media: [(u64, u32); 3],
}

impl Metrics {
    pub fn record(&mut self, o: &Outcome, media: Media) {
        self.finished += 1;
        self.attempts += u64::from(o.attempts);
        match o.error {
            None => {
                self.succeeded += 1;
                self.completion_ms += o.duration;
                let (sum, n) = &mut self.by_media[media as usize];
                *sum += o.duration;
                *n += 1;
            }
            Some(e) => match self.errors.iter_mut().find(|(k, _)| *k == e.kind()) {
                Some((_, n)) => *n += 1,
                None => self.errors.push((e.kind(), 1)),
            },
        }
    }

    /// Counts one time the browser went offline while jobs ran.
    pub fn count_pause(&mut self) {
        self.pauses += 1;
    }

    /// Counts one request sent, finished job or not.
    pub fn count_request(&mut self) {
        self.requests += 1;
    }

    /// Mean time to complete, over successful jobs; `None` before the first.
    pub fn average_completion_time(&self) -> Option<u64> {
        (self.succeeded > 0).then(|| self.completion_ms / u64::from(self.succeeded))
    }

    /// Mean time to complete a job of `media`; `None` before the first.
    pub fn average_completion_time_of(&self, media: Media) -> Option<u64> {
        let (sum, n) = self.by_media[media as usize];
        (n > 0).then(|| sum / u64::from(n))
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

    pub fn report(&self) -> MetricsReport {
        MetricsReport {
            average_completion_time: self.average_completion_time().unwrap_or(0),
            success_rate: self.success_rate(),
            error_distribution: self.errors.clone(),
            average_attempts: self.average_attempts(),
            total_requests: self.requests,
            completed_jobs: self.succeeded,
            failed_jobs: self.finished - self.succeeded,
            offline_pauses: self.pauses,
            retry_budget: RetryBudgetReport::default(),
        }
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
        let outcome = |error, duration, attempts| Outcome {
            error,
            duration,
            attempts,
            channel: Channel::Polling,
        };
        m.record(&outcome(None, 10_000, 4), Media::Image);
        m.record(&outcome(None, 20_000, 6), Media::Video);
        m.record(&outcome(Some(PollError::Timeout), 1, 2), Media::Image);
        m.record(&outcome(Some(PollError::Forbidden), 1, 1), Media::Image);
        m.record(&outcome(Some(PollError::Timeout), 1, 2), Media::Image);
        m.count_request();
        assert_eq!(m.average_completion_time(), Some(15_000));
        // Per kind, of the successes only: an image's is not a video's.
        assert_eq!(m.average_completion_time_of(Media::Image), Some(10_000));
        assert_eq!(m.average_completion_time_of(Media::Video), Some(20_000));
        assert_eq!(m.average_completion_time_of(Media::Any), None);
        assert_eq!(m.success_rate(), 0.4);
        assert_eq!(m.average_attempts(), 3.0);
        assert_eq!(m.error_distribution(), &[("timeout", 2), ("forbidden", 1)]);
        assert_eq!(m.total_requests(), 1);
        assert_eq!(m.finished(), 5);
        let r = serde_json::to_value(m.report()).unwrap();
        assert_eq!(
            r,
            serde_json::json!({
                "averageCompletionTime": 15000, "successRate": 0.4,
                "errorDistribution": { "timeout": 2, "forbidden": 1 },
                "averageAttempts": 3.0, "totalRequests": 1,
                "completedJobs": 2, "failedJobs": 3, "offlinePauses": 0,
                "retryBudget": { "size": 0.0, "refill": 0.0, "tokens": {} },
            })
        );
    }

    #[test]
    fn progress_report_shape() {
        let p = Progress {
            waiting_for_network: false,
            attempt: 2,
            max_attempts: 60,
            next_poll_in: None,
            elapsed_time: 1500,
            estimated_time_remaining: Some(500),
            channel: Channel::Stream,
            progress: None,
        };
        let r = serde_json::to_value(p.report(None, Some("p1"))).unwrap();
        assert_eq!(
            r,
            serde_json::json!({
                "projectId": "p1", "attempt": 2, "maxAttempts": 60, "nextPollIn": 0,
                "elapsedTime": 1500, "estimatedTimeRemaining": 500, "channel": "sse",
            })
        );
    }
}
