//! The package's TypeScript declarations (wasm-bindgen's custom section,
//! emitted into `smart_polling.d.ts`), and the JS types the API's
//! signatures name. `tests/typescript.rs` checks them against the serde
//! types, so the Rust types and the JS shapes cannot drift.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Read case-insensitively; the names listed are the API's, and the other
 *  spellings the manual lists (`failed`, `processing`, `done`, …) are read
 *  too, so any string is accepted. */
export type TaskStatus =
  | "pending" | "in_progress" | "completed" | "error"
  | "PENDING" | "IN_PROGRESS" | "COMPLETED" | "ERROR"
  | (string & {});

export interface Task {
  id?: string;
  status: TaskStatus;
  project_id?: string | null;
}

/** The file record of `GET /api/file/{id}`; unknown fields are kept as they came. */
export interface FileRecord {
  id: string;
  /** `null` until the result is ready. */
  url: string | null;
  thumbnail_url?: string | null;
  /** `image…`, `video…` or `audio…`: a MIME type (`"image/png"`) counts. */
  type?: "image" | "video" | "audio" | (string & {});
  contentType?: string;
  image_generation_id?: string | null;
  video_generation_id?: string | null;
  /** The generation that made the file, as the server embeds it. */
  image_generation?: Generation | null;
  video_generation?: Generation | null;
  duration?: number | null;
  tasks?: Task[] | null;
  [field: string]: unknown;
}

/** A generation embedded in a file record; unknown fields are kept as they came. */
export interface Generation {
  prompt?: string | null;
  [field: string]: unknown;
}

/** The project record of `GET /api/project/{id}`. */
export interface ProjectRecord {
  id?: string;
  data?: Array<{
    type: string;
    value: { url: string | null; contentType?: string; file_id?: string };
  }> | null;
  tasks?: Task[] | null;
  [field: string]: unknown;
}

export type Channel = "sse" | "polling";
export type Media = "any" | "image" | "video";

/** Job settings; all durations in milliseconds. */
export interface PollingConfig {
  /** Starting point: "image" (2 s while images finish, then tapering; image urls only)
   *  or "video" (3 s start, longer limits; video urls only). Without it: the seed's schedule. */
  preset: "image" | "video";
  /** Progressive waits while the result is not ready; the last one repeats
   *  (default 1 s ×5, 2 s ×5, 5 s ×10, then 10 s). */
  intervals: number[];
  /** First error backoff (default 1000). */
  initialDelay: number;
  /** Cap of backoff and progressive waits (default 30000; Promise form:
   *  10000, the old `maxInterval`, unless `maxInterval`, `maxDelay` or
   *  `intervals` is given). */
  maxDelay: number;
  /** Default 2. */
  backoffMultiplier: number;
  /** Jitter fraction of each backoff delay, 0 (none) to 1 (full); default 0.2. */
  jitter: number;
  /** Seed of the jitter, for reproducible waits; random per job by default. */
  seed: number;
  /** Requests before giving up (default 60, video 150; Promise form: none;
   *  none either when one of the old module's options is given). */
  maxAttempts: number;
  /** Strict limit of the whole job (default 420000: 7 minutes; video 600000). */
  timeout: number;
  /** 404s in a row before giving up (default 10; Promise form: none). */
  maxNotFound: number;
  /** Wait after a 429 without a usable Retry-After (default 60000; Promise
   *  form: the error backoff, as the old module's). */
  rateLimitDelay: number;
  /** Cap on a server's Retry-After (default 300000). */
  maxRetryAfter: number;
  /** Per-request timeout (default 15000). */
  requestTimeout: number;
  /** Try the event stream first (default true). */
  useStream: boolean;
  /** Time for the stream to open (or, dropped, to open again) before polling
   *  takes over (default 10000); a dropped stream's time waits for the
   *  network while the browser is offline. */
  sseConnectTimeout: number;
  /** Safety poll period while the stream is open; 0 = none (default 30000). */
  streamPollInterval: number;
  /** Unreadable stream messages in a row before dropping the stream (default 3). */
  maxStreamGarbage: number;
  /** Which result urls count: "any" (default), "image" or "video". */
  media: Media;
  /** Transient errors in a row (5xx, network, timeouts; not 429 or 404) before
   *  giving up; no limit by default (the Promise helpers: 5, as the old module). */
  maxConsecutiveErrors: number;
  /** A learned schedule aims to see half the jobs within this many ms of
   *  their completion (image: 1000; video: 2000; otherwise 2000). */
  lagTarget: number;
  /** ...and 95 % of them within this many (image: 4000; video: 9500;
   *  otherwise 9000); not less than `lagTarget`. */
  tailLagTarget: number;
  /** Poll image and video jobs on the schedule learned from this page's
   *  completed jobs (after 3), and learn from this job (default true);
   *  false keeps the presets and records nothing. */
  learn: boolean;
  /** The old module's name for `timeout` (default 420000; `timeout` wins). */
  maxDuration: number;
  /** The old module's first wait (default 1000): with it or `maxInterval`,
   *  waits go first, 2 s, 5 s, then the cap. */
  initialInterval: number;
  /** The old module's cap of the waits (default 10000 when `initialInterval` is given). */
  maxInterval: number;
}

/** Job options as a page passes them: each may be left out or `undefined`
 *  ("not given", also under `exactOptionalPropertyTypes`). */
export type JobOptions = { [K in keyof PollingConfig]?: PollingConfig[K] | undefined };

export interface ManagerOptions extends JobOptions {
  /** Default "/api/file/{id}". */
  fileUrl?: string | undefined;
  /** Default "/api/project/{id}". */
  projectUrl?: string | undefined;
  /** Default "/api/events/file.{id}" (for `configureDefaults`: null);
   *  null = polling only. */
  eventsUrl?: string | null | undefined;
  /** Open event streams at most (default 2); jobs beyond it poll. Each
   *  holds one of `maxConcurrentRequests`, all but one at most. */
  maxStreams?: number | undefined;
  /** Connections in use at once per origin, at most: requests out and
   *  open event streams (default 6, the browsers' own limit per host over
   *  HTTP/1.1; raise it behind HTTP/2). A job due beyond it waits for an
   *  answer to come back (or a stream to close), oldest first. */
  maxConcurrentRequests?: number | undefined;
  /** Log every state change of every job to the console. */
  debug?: boolean | undefined;
  /** Early retries after errors (5xx, network, timeouts) each origin may
   *  spend before jobs wait for their next scheduled poll instead (default 10). */
  retryBudget?: number | undefined;
  /** Tokens a good response earns back (default 0.1). */
  retryRefill?: number | undefined;
  /** One poller per id across this browser profile's tabs with the same urls,
   *  and at most 4 event streams to a host among them (Web Locks +
   *  BroadcastChannel; default true; where either is missing, each tab polls
   *  on its own). */
  shareAcrossTabs?: boolean | undefined;
  /** Open the event stream with `withCredentials: true`: cookies go to an
   *  `eventsUrl` on another origin, which must answer with
   *  `Access-Control-Allow-Credentials: true` (default false). */
  eventsWithCredentials?: boolean | undefined;
}

export interface PollingProgress {
  /** The id of a file job (`startPolling`, `pollFileCompletion`). */
  fileId?: string;
  /** The id of a project job (`startProjectPolling`, `pollProjectCompletion`). */
  projectId?: string;
  /** Requests made so far. */
  attempt: number;
  /** The job's limit of requests; 4294967295 when it has none. */
  maxAttempts: number;
  /** Milliseconds to the next request; 0 while one is in flight or none is due. */
  nextPollIn: number;
  elapsedTime: number;
  estimatedTimeRemaining?: number;
  channel: Channel;
  /** Percent done, 0-100, when the stream reports it. */
  progress?: number;
  /** For a job shared across tabs: "leader" (this tab polls) or "follower"
   *  (another tab polls and this one hears it). */
  tab?: "leader" | "follower";
  /** `true` while the browser is offline: the job sends nothing, counts no
   *  error, and polls at once when the network is back (its deadline runs). */
  waitingForNetwork?: true;
}

export type PollingErrorKind =
  | "rate_limited" | "not_found" | "unauthorized" | "forbidden" | "client"
  | "server" | "network" | "request_timeout" | "invalid_response"
  /** A relative `fileUrl` / `projectUrl` where there is no page to resolve
   *  it (Node without a DOM environment); the job ends at once. */
  | "relative_url"
  /** There is no `fetch` (`globalThis.fetch` is not a function: Jest's jsdom
   *  environment, Node before 18); the job ends at once. */
  | "no_fetch"
  | "generation_failed" | "timeout" | "max_attempts" | "invalid_id" | "invalid_url"
  /** A checker of `smartPollingManager.startPolling` threw or reported an error. */
  | "check_failed"
  /** Only in the Promise form's result, when the job was stopped. */
  | "stopped"
  /** The WebAssembly module could not be loaded (the message says from where
   *  and why); the next call loads it again. */
  | "load_failed";

export interface PollingError {
  kind: PollingErrorKind;
  message: string;
  status?: number;
  /** Requests made when it happened. */
  attempt: number;
  /** True for transient errors (reported to onRetry), false for terminal ones. */
  retryable: boolean;
}

/** A record the job completed with: a completed file always has its url. */
export type Completed<R> = R extends FileRecord ? R & { url: string } : R;

/** A file the job completed with, as the page types its record (which need
 *  not extend `FileRecord`): its url is there. */
export type CompletedFile<R> = R & { url: string };

/** Looked up on the object when due and called as its methods (`this` is
 *  the object). Each may be left out or `undefined`; its parameters are
 *  checked as a method's are (a narrower record type is accepted). */
export interface PollingCallbacks<R = FileRecord> {
  /** Each new state of the record seen (poll or stream). */
  onUpdate?: { method(record: R): void }["method"] | undefined;
  onProgress?: { method(progress: PollingProgress): void }["method"] | undefined;
  /** Exactly once on success. */
  onComplete?: { method(record: Completed<R>): void }["method"] | undefined;
  /** Exactly once on failure. */
  onError?: { method(error: PollingError): void }["method"] | undefined;
  /** Transient errors, with the wait before the next request. */
  onRetry?: { method(error: PollingError, delayMs: number): void }["method"] | undefined;
}

export interface PollingMetrics {
  averageCompletionTime: number;
  /** 0 to 1 over finished jobs. */
  successRate: number;
  errorDistribution: Partial<Record<PollingErrorKind, number>>;
  averageAttempts: number;
  /** Requests sent, by finished and running jobs. */
  totalRequests: number;
  /** Jobs that completed successfully. */
  completedJobs: number;
  /** Jobs that ended with an error (stopped jobs are neither). */
  failedJobs: number;
  /** Times the browser went offline while jobs ran (they paused). */
  offlinePauses: number;
  /** The retry budget (options `retryBudget`, `retryRefill`) and the tokens
   *  each origin has left. */
  retryBudget: { size: number; refill: number; tokens: Record<string, number> };
}

interface ResultCommon {
  /** Requests (or checker calls) made. */
  attempts: number;
  /** Milliseconds from the start to the outcome. */
  duration: number;
  channel: Channel;
}

/** What the Promise form resolves with (never rejects; invalid options
 *  reject with a RangeError). The old module's shape, plus `failure` (the
 *  structured error) and `channel`. */
export type PollingResult<R = FileRecord, D = Completed<R>> =
  | (ResultCommon & {
      success: true;
      data: D;
      error?: undefined;
      failure?: undefined;
      method: "success";
    })
  | (ResultCommon & {
      success: false;
      data?: undefined;
      /** A message for the UI (the checker's own, when it gave one). */
      error: string;
      failure: PollingError;
      /** "timeout": `timeout`/`maxDuration` or `maxAttempts` ran out;
       *  "error": anything else, a stop included (`failure.kind` "stopped").
       *  "rate_limited" is never produced (a poll held back by 429s ends at
       *  its deadline as "timeout"): it stays in the type so that the old
       *  module's comparisons with it still compile. */
      method: "timeout" | "error" | "rate_limited";
    });

/** `pollProjectCompletion`'s data, as the old module resolves it: the matching
 *  entry's value with its url and the project id. `V`: that value's type as
 *  the page declares it (not checked, only read). */
export type ProjectResult<V = { [field: string]: unknown }> = V & { url: string; projectId: string };

/** The Promise form's options: this package's options, plus the old module's
 *  names and callbacks (`upstream-api.md`). */
export interface PollOptions<R = FileRecord> extends JobOptions {
  onUpdate?: { method(record: R): void }["method"] | undefined;
  /** Before each attempt and on every change: the old module's three numbers,
   *  then this package's progress object. */
  onProgress?:
    | { method(attempt: number, elapsed: number, nextInterval: number, progress: PollingProgress): void }["method"]
    | undefined;
  /** Non-fatal errors (the poll goes on), as an `Error` with `kind`, `status?`
   *  and `retryable` too; where a checker threw, `cause` is what it threw. */
  onError?:
    | { method(error: Error & Pick<PollingError, "kind" | "status" | "retryable">, attempt: number): void }["method"]
    | undefined;
}

/** The old module's name of its options: every option of the Promise form
 *  but `onUpdate` (typed by the record, see `PollOptions`). */
export type PollingOptions = Omit<PollOptions, "onUpdate">;

/** The old module's name of a checker (`smartPollingManager.startPolling`). */
export type PollingChecker<T = unknown> = () => Promise<CheckResult<T>>;

/** What a checker resolves with. */
export interface CheckResult<T = unknown> {
  completed: boolean;
  data?: T | undefined;
  /** With `shouldContinue: false`, the failure's message; otherwise reported to `onError`. */
  error?: string | undefined;
  shouldContinue?: boolean | undefined;
  /** The server's hint for the next wait, as `Retry-After` says it: seconds,
   *  or an HTTP date. */
  retryAfter?: number | string | undefined;
  /** A `retry-after` header here counts as `retryAfter`. */
  headers?: Headers | Record<string, string> | undefined;
  /** …or on the response the checker passes on. */
  response?: { headers?: Headers | Record<string, string> | undefined } | undefined;
}

/** `smartPollingManager.getPollingStatus()` entries. */
export interface PollStatus {
  pollId: string;
  attempts: number;
  elapsed: number;
  lastError?: string;
}

/** The old module's singleton, on this package's scheduler. Its methods
 *  need no `this`: `const { startPolling } = smartPollingManager` works. */
export interface SmartPollingManager {
  /** Drives `checker` with progressive waits, backoff with jitter, `maxDuration`,
   *  `maxConsecutiveErrors`; a thrown object with `status: 429` waits as its
   *  `retry-after` header says. Joining a running poll id keeps the caller's own
   *  deadline and callbacks. `data` (and `onUpdate`'s record) is `undefined`
   *  where the checker gave none (`{ completed: false }`, or `completed: true`
   *  alone). */
  startPolling<T>(
    this: void,
    pollId: string,
    checker: () => Promise<CheckResult<T>> | CheckResult<T>,
    options?: PollOptions<T | undefined>,
  ): Promise<PollingResult<T | undefined, T | undefined>>;
  /** Stops the poll (`file-{id}` and `project-{id}` reach the helpers' jobs). */
  stopPolling(this: void, pollId: string): boolean;
  stopAllPolling(this: void): void;
  isPolling(this: void, pollId: string): boolean;
  getPollingStatus(this: void): PollStatus[];
}
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "ManagerOptions")]
    pub type ManagerOptions;
    #[wasm_bindgen(typescript_type = "PollingCallbacks")]
    pub type PollingCallbacks;
    #[wasm_bindgen(typescript_type = "PollingCallbacks<ProjectRecord>")]
    pub type ProjectCallbacks;
    #[wasm_bindgen(typescript_type = "JobOptions")]
    pub type PollingOverrides;
    #[wasm_bindgen(typescript_type = "PollOptions")]
    pub type PollOptions;
    #[wasm_bindgen(typescript_type = "PollOptions<ProjectRecord>")]
    pub type ProjectPollOptions;
    #[wasm_bindgen(typescript_type = "PollingProgress[]")]
    pub type ProgressList;
    #[wasm_bindgen(typescript_type = "PollingMetrics")]
    pub type MetricsObject;
    #[wasm_bindgen(typescript_type = "Promise<PollingResult>")]
    pub type FileResultPromise;
    #[wasm_bindgen(typescript_type = "Promise<PollingResult<ProjectResult>>")]
    pub type ProjectResultPromise;
    #[wasm_bindgen(typescript_type = "PollOptions<unknown>")]
    pub type CheckOptions;
    #[wasm_bindgen(typescript_type = "Promise<PollingResult<unknown>>")]
    pub type CheckResultPromise;
    #[wasm_bindgen(typescript_type = "PollStatus[]")]
    pub type PollStatusList;
}
