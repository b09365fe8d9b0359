//! Policy simulator: runs thousands of virtual jobs through the real `Job`
//! state machine in virtual time (u64 ms) and compares polling policies.
//!
//! ```text
//! cargo run --release --example simulate [-- --jobs N --seed S]
//! ```
//!
//! The model: every job starts at t = 0 in polling mode (`use_stream: false`).
//! Its server-side generation finishes after a log-normal duration (image
//! median 10 s, video median 2 min, sigma 0.6, videos clamped at 6.5 min).
//! Every request gets its answer after a round trip drawn uniformly from
//! 50-150 ms; the server reads the job's state halfway through the round trip.
//! The same durations are fed to every policy of a workload, so rows compare
//! like with like. The output is a markdown table for BENCHMARKS.md.

use std::process::ExitCode;

use smart_polling::core::job::{Action, Input, Job, Reply};
use smart_polling::core::record::State;
use smart_polling::core::schedule::{default_intervals, Intervals, Jitter, SplitMix64};
use smart_polling::{Config, PollError};

const DEFAULT_JOBS: usize = 5000;
const DEFAULT_SEED: u64 = 42;

/// Round trip of one request, uniform in this range (ms).
const LATENCY_MIN: u64 = 50;
const LATENCY_MAX: u64 = 150;

/// Spread of the log-normal durations (sigma of the underlying normal).
const SIGMA: f64 = 0.6;

/// Safety net against a job that never ends (a core bug): inputs per job.
const MAX_STEPS: usize = 1_000_000;

const RESULT_URL: &str = "https://cdn.example/x.png";
const FINGERPRINT_PENDING: u64 = 1;
const FINGERPRINT_COMPLETE: u64 = 2;

// ---------------------------------------------------------------------------
// Command line

struct Args {
    jobs: usize,
    seed: u64,
}

const USAGE: &str = "usage: simulate [--jobs N] [--seed S]";

/// `Ok(None)` when help was asked for.
fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut args = Args {
        jobs: DEFAULT_JOBS,
        seed: DEFAULT_SEED,
    };
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--jobs" => {
                args.jobs = parse_value(&flag, it.next())?;
                if args.jobs == 0 {
                    return Err("--jobs must be at least 1".into());
                }
            }
            "--seed" => args.seed = parse_value(&flag, it.next())?,
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    Ok(Some(args))
}

fn parse_value<T: std::str::FromStr>(flag: &str, value: Option<String>) -> Result<T, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
    value
        .parse()
        .map_err(|_| format!("{flag}: `{value}` is not a valid non-negative integer"))
}

// ---------------------------------------------------------------------------
// Random numbers

/// Uniform in (0, 1]: never 0, so its logarithm is finite.
fn unit(rng: &mut SplitMix64) -> f64 {
    ((rng.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
}

/// Standard normal by Box-Muller.
fn std_normal(rng: &mut SplitMix64) -> f64 {
    let (u1, u2) = (unit(rng), unit(rng));
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Log-normal duration in ms with the given median, clamped to `[1, cap]`.
fn lognormal_ms(rng: &mut SplitMix64, median_ms: f64, cap_ms: u64) -> u64 {
    let ms = (median_ms.ln() + SIGMA * std_normal(rng)).exp().round();
    (ms as u64).clamp(1, cap_ms)
}

/// An independent seed for stream `index` of `salt` under the base seed.
fn derive_seed(base: u64, salt: u64, index: u64) -> u64 {
    let mut r = SplitMix64::new(base ^ salt.rotate_left(32) ^ index);
    r.next_u64()
}

// ---------------------------------------------------------------------------
// Workloads and policies

#[derive(Clone, Copy)]
enum Workload {
    Image,
    Video,
}

impl Workload {
    const ALL: [Workload; 2] = [Workload::Image, Workload::Video];

    fn name(self) -> &'static str {
        match self {
            Workload::Image => "image",
            Workload::Video => "video",
        }
    }

    fn median_ms(self) -> f64 {
        match self {
            Workload::Image => 10_000.0,
            Workload::Video => 120_000.0,
        }
    }

    /// Upper clamp of the server duration: rare timeouts show up only for a
    /// policy whose timeout is too short.
    fn cap_ms(self) -> u64 {
        match self {
            Workload::Image => 390_000,
            Workload::Video => 390_000,
        }
    }

    fn salt(self) -> u64 {
        match self {
            Workload::Image => 0x1,
            Workload::Video => 0x2,
        }
    }

    fn policies(self) -> Vec<Policy> {
        let mut list = vec![
            Policy::new("fixed 2 s (today's hooks)", fixed_two_seconds),
            Policy::new("seed progressive (20 attempts, 300 s)", seed_progressive),
        ];
        match self {
            Workload::Image => list.push(Policy::new(
                "smart-polling `Config::image()`",
                Config::image,
            )),
            Workload::Video => {
                list.push(Policy::new(
                    "seed progressive, timeout only (300 s, no attempt cap)",
                    seed_timeout_only,
                ));
                list.push(Policy::new(
                    "smart-polling `Config::default()`",
                    Config::default,
                ));
                list.push(Policy::new(
                    "smart-polling `Config::video()`",
                    Config::video,
                ));
            }
        }
        list
    }

    /// Server-side durations of `n` jobs, shared by every policy.
    fn durations(self, n: usize, seed: u64) -> Vec<u64> {
        let mut rng = SplitMix64::new(derive_seed(seed, self.salt(), u64::MAX));
        (0..n)
            .map(|_| lognormal_ms(&mut rng, self.median_ms(), self.cap_ms()))
            .collect()
    }
}

struct Policy {
    name: &'static str,
    build: fn() -> Config,
}

impl Policy {
    fn new(name: &'static str, build: fn() -> Config) -> Self {
        Self { name, build }
    }

    /// The policy's config for job `index`, polling only.
    fn config(&self, index: usize) -> Config {
        Config {
            use_stream: false,
            seed: index as u64,
            ..(self.build)()
        }
    }
}

/// Today's hooks: a request every 2 s until the result shows up.
fn fixed_two_seconds() -> Config {
    Config {
        intervals: Intervals::new(vec![2000]).expect("non-empty list"),
        jitter: Jitter::None,
        max_attempts: u32::MAX,
        timeout: 24 * 3_600_000,
        ..Config::default()
    }
}

/// The seed's progressive schedule with the seed's table defaults.
fn seed_progressive() -> Config {
    Config {
        intervals: default_intervals(),
        max_attempts: 20,
        timeout: 300_000,
        ..Config::default()
    }
}

/// The seed's schedule and 300 s timeout without the 20-attempt cap: what
/// the timeout alone does to long videos.
fn seed_timeout_only() -> Config {
    Config {
        max_attempts: u32::MAX,
        ..seed_progressive()
    }
}

// ---------------------------------------------------------------------------
// One job in virtual time

/// How a simulated job ended.
enum End {
    /// `Complete` arrived `lag` ms after the server finished.
    Completed {
        lag: u64,
    },
    Failed(PollError),
    /// No timer and no request left, or the step limit hit: a core bug.
    Stalled,
}

struct JobResult {
    requests: u32,
    end: End,
}

/// The answer to the request in flight.
struct InFlight {
    arrives: u64,
    reply: Reply,
}

/// The virtual server: pending until `done_at`, then complete.
struct Server {
    done_at: u64,
}

impl Server {
    /// Answers a request sent at `sent`; the state is read mid-way.
    fn answer(&self, sent: u64, rng: &mut SplitMix64) -> InFlight {
        let latency = LATENCY_MIN + rng.up_to(LATENCY_MAX - LATENCY_MIN);
        let (state, fingerprint) = if sent + latency / 2 >= self.done_at {
            let url = Some(RESULT_URL.to_string());
            (State::Complete { url }, FINGERPRINT_COMPLETE)
        } else {
            (State::Pending, FINGERPRINT_PENDING)
        };
        InFlight {
            arrives: sent + latency,
            reply: Reply::Record { state, fingerprint },
        }
    }
}

/// Executes a job's actions the way the web layer does, in virtual time.
struct Runner {
    job: Job,
    server: Server,
    rng: SplitMix64,
    now: u64,
    timer: Option<u64>,
    in_flight: Option<InFlight>,
    requests: u32,
}

impl Runner {
    fn new(cfg: Config, server: Server, rng: SplitMix64) -> Self {
        Self {
            job: Job::new(cfg),
            server,
            rng,
            now: 0,
            timer: None,
            in_flight: None,
            requests: 0,
        }
    }

    fn run(mut self) -> JobResult {
        let mut input = Input::Start;
        for _ in 0..MAX_STEPS {
            self.job.handle(self.now, input);
            if let Some(end) = self.execute_actions() {
                return self.result(end);
            }
            match self.next_input() {
                Some(next) => input = next,
                None => return self.result(End::Stalled),
            }
        }
        self.result(End::Stalled)
    }

    /// Drains the job's actions; `Some` once the job has ended.
    fn execute_actions(&mut self) -> Option<End> {
        while let Some(action) = self.job.poll_action() {
            match action {
                Action::SendRequest => {
                    self.requests += 1;
                    self.in_flight = Some(self.server.answer(self.now, &mut self.rng));
                }
                Action::CancelRequest => self.in_flight = None,
                Action::ArmTimer { at } => self.timer = Some(at),
                Action::Complete { .. } => {
                    let lag = self.now.saturating_sub(self.server.done_at);
                    return Some(End::Completed { lag });
                }
                Action::Fail(e) => return Some(End::Failed(e)),
                Action::OpenStream
                | Action::CloseStream
                | Action::Update
                | Action::Progress(_)
                | Action::Retry { .. } => {}
            }
        }
        None
    }

    /// The earliest pending event (a response wins a tie with the timer),
    /// advancing the clock to it; `None` when nothing is pending.
    fn next_input(&mut self) -> Option<Input> {
        let response_at = self.in_flight.as_ref().map(|r| r.arrives);
        match (response_at, self.timer) {
            (Some(r), t) if t.is_none_or(|t| r <= t) => {
                let reply = self.in_flight.take()?.reply;
                self.now = self.now.max(r);
                Some(Input::Response(reply))
            }
            (_, Some(t)) => {
                // One-shot, as in the browser: it is gone once it fired.
                self.timer = None;
                self.now = self.now.max(t);
                Some(Input::Timer)
            }
            (_, None) => None,
        }
    }

    fn result(&self, end: End) -> JobResult {
        JobResult {
            requests: self.requests,
            end,
        }
    }
}

fn simulate_policy(policy: &Policy, workload: Workload, durations: &[u64], seed: u64) -> Summary {
    let results: Vec<JobResult> = durations
        .iter()
        .enumerate()
        .map(|(i, &done_at)| {
            let rng = SplitMix64::new(derive_seed(seed, workload.salt(), i as u64));
            Runner::new(policy.config(i), Server { done_at }, rng).run()
        })
        .collect();
    Summary::from_results(&results)
}

// ---------------------------------------------------------------------------
// Statistics and output

struct Summary {
    jobs: usize,
    requests_mean: f64,
    requests_p95: u64,
    lag_p50: Option<u64>,
    lag_p95: Option<u64>,
    timeouts: usize,
    max_attempts: usize,
    other_failures: usize,
    stalled: usize,
}

impl Summary {
    fn from_results(results: &[JobResult]) -> Self {
        let mut requests: Vec<u64> = results.iter().map(|r| u64::from(r.requests)).collect();
        let mut lags: Vec<u64> = results
            .iter()
            .filter_map(|r| match r.end {
                End::Completed { lag } => Some(lag),
                _ => None,
            })
            .collect();
        let count = |f: fn(&End) -> bool| results.iter().filter(|r| f(&r.end)).count();
        let total: u64 = requests.iter().sum();
        Self {
            jobs: results.len(),
            requests_mean: total as f64 / results.len().max(1) as f64,
            requests_p95: percentile(&mut requests, 0.95).unwrap_or(0),
            lag_p50: percentile(&mut lags, 0.50),
            lag_p95: percentile(&mut lags, 0.95),
            timeouts: count(|e| matches!(e, End::Failed(PollError::Timeout))),
            max_attempts: count(|e| matches!(e, End::Failed(PollError::MaxAttempts))),
            other_failures: count(
                |e| matches!(e, End::Failed(err) if !matches!(err, PollError::Timeout | PollError::MaxAttempts)),
            ),
            stalled: count(|e| matches!(e, End::Stalled)),
        }
    }

    fn share(&self, n: usize) -> String {
        format!("{:.1} %", 100.0 * n as f64 / self.jobs.max(1) as f64)
    }
}

/// Nearest-rank percentile; sorts `values` in place.
fn percentile(values: &mut [u64], p: f64) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = (p * values.len() as f64).ceil() as usize;
    values.get(rank.clamp(1, values.len()) - 1).copied()
}

fn seconds(ms: Option<u64>) -> String {
    ms.map_or_else(|| "n/a".into(), |ms| format!("{:.2} s", ms as f64 / 1000.0))
}

fn print_header(args: &Args, durations: &[(Workload, Vec<u64>)]) {
    println!(
        "Generated by `cargo run --release --example simulate -- --jobs {} --seed {}` \
         ({} jobs per workload and policy, seed {}, polling only).",
        args.jobs, args.seed, args.jobs, args.seed
    );
    println!();
    println!(
        "Server durations: log-normal, sigma {SIGMA}, clamped at 6.5 min; \
         round trip uniform {LATENCY_MIN}-{LATENCY_MAX} ms. Drawn:"
    );
    for (workload, d) in durations {
        let mut d = d.clone();
        println!(
            "- {}: p50 {}, p95 {}, max {}",
            workload.name(),
            seconds(percentile(&mut d, 0.50)),
            seconds(percentile(&mut d, 0.95)),
            seconds(d.last().copied()),
        );
    }
    println!();
    println!(
        "| Workload | Policy | Requests/job (mean) | Requests/job (p95) \
         | Detection lag p50 | Detection lag p95 | Failed: timeout | Failed: max_attempts |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
}

fn print_row(workload: Workload, policy: &Policy, s: &Summary) {
    println!(
        "| {} | {} | {:.1} | {} | {} | {} | {} | {} |",
        workload.name(),
        policy.name,
        s.requests_mean,
        s.requests_p95,
        seconds(s.lag_p50),
        seconds(s.lag_p95),
        s.share(s.timeouts),
        s.share(s.max_attempts),
    );
}

/// Anything that should not happen in this model, printed after the table.
fn anomalies(workload: Workload, policy: &Policy, s: &Summary) -> Option<String> {
    (s.other_failures + s.stalled > 0).then(|| {
        format!(
            "- {} / {}: {} other failures, {} stalled jobs",
            workload.name(),
            policy.name,
            s.other_failures,
            s.stalled
        )
    })
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let durations: Vec<(Workload, Vec<u64>)> = Workload::ALL
        .iter()
        .map(|&w| (w, w.durations(args.jobs, args.seed)))
        .collect();
    print_header(&args, &durations);
    let mut notes = Vec::new();
    for (workload, d) in &durations {
        for policy in workload.policies() {
            let summary = simulate_policy(&policy, *workload, d, args.seed);
            print_row(*workload, &policy, &summary);
            notes.extend(anomalies(*workload, &policy, &summary));
        }
    }
    println!();
    println!(
        "Requests/job counts every job, failed ones included; detection lag \
         (server done -> `Complete`) is over completed jobs only."
    );
    if !notes.is_empty() {
        println!();
        println!("Anomalies (none expected):");
        notes.iter().for_each(|n| println!("{n}"));
    }
    ExitCode::SUCCESS
}
