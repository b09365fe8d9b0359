// Compile-time test of pkg/smart_polling.d.ts (run by `npx tsc -p .` in npm
// test): the public API is typed precisely, with no `any` for options,
// callbacks, records or results. Each @ts-expect-error must be an error.
import init, { PollingManager, pollFileCompletion, pollProjectCompletion } from "smart-polling";
import type {
  FileRecord,
  PollingError,
  PollingMetrics,
  PollingProgress,
  PollingResult,
} from "smart-polling";

export async function usesTheApi(): Promise<unknown[]> {
  await init();
  const m = new PollingManager({
    fileUrl: "/api/file/{id}",
    eventsUrl: null,
    maxStreams: 1,
    debug: true,
    timeout: 60_000,
    preset: "video",
  });
  const seen: unknown[] = [];
  m.startPolling(
    "file-1",
    {
      onUpdate(file) {
        const url: string | null = file.url;
        seen.push(url);
      },
      onProgress(p) {
        const channel: "sse" | "polling" = p.channel;
        const next: number = p.nextPollIn;
        const percent: number | undefined = p.progress;
        seen.push(channel, next, percent);
      },
      onComplete(file) {
        const url: string = file.url; // not `string | null`: it completed
        const record: FileRecord = file;
        seen.push(url, record.tasks?.[0]?.status);
      },
      onError(e) {
        const kind: PollingError["kind"] = e.kind;
        const retryable: boolean = e.retryable;
        seen.push(kind, retryable, e.status);
      },
      onRetry(e, delayMs) {
        const wait: number = delayMs;
        seen.push(e.message, wait);
      },
    },
    { intervals: [1000, 2000], media: "image", jitter: 0 },
  );
  const stopped: boolean = m.stopPolling("file-1");
  const active: number = m.activeCount;
  const statuses: PollingProgress[] = m.getPollingStatus();
  const metrics: PollingMetrics = m.metrics();
  const rate: number = metrics.successRate;
  const file: PollingResult = await pollFileCompletion("file-2", {
    timeout: 5000,
    onProgress: (attempt, elapsed, nextInterval, p) => seen.push(attempt, elapsed, nextInterval, p.channel),
  });
  const method: "success" | "timeout" | "error" | "rate_limited" = file.method;
  if (file.success) {
    const url: string = file.data.url; // a completed file always has its url
    seen.push(url);
  } else {
    const message: string = file.error;
    const kind: PollingError["kind"] = file.failure.kind;
    seen.push(message, kind);
  }
  const project = await pollProjectCompletion("project-1");
  const firstUrl: string | undefined = project.success ? project.data.url : undefined;

  // @ts-expect-error options are typed, not `any`
  new PollingManager({ timeout: "5s" });
  // @ts-expect-error unknown options are caught
  new PollingManager({ fileURL: "/x/{id}" });
  // @ts-expect-error callbacks are typed
  m.startPolling("file-3", { onComplete: (n: number) => n });
  // @ts-expect-error the error kind is a closed union
  const teapot: PollingError["kind"] = "teapot";
  // @ts-expect-error result.error is a string for the UI, not an object
  const notAnObject: PollingError = file.error;
  // @ts-expect-error result.data may be absent before a success check
  const unchecked: string = file.data.url;
  // @ts-expect-error the channel is "sse" or "polling"
  const socket: PollingProgress["channel"] = "websocket";
  // @ts-expect-error presets are "image" or "video"
  m.startPolling("file-4", {}, { preset: "audio" });

  return [seen, stopped, active, statuses, rate, method, firstUrl, teapot, socket, notAnObject, unchecked];
}

/** A typed mock of the API: any task status the manual says is read (here `failed`) type-checks. */
export const failedRecord: FileRecord = { id: "a", url: null, tasks: [{ status: "failed" }, { status: "ERROR" }] };

/** A record as the API may send it: `type` as a MIME type (the manual reads `image…`). */
export const mimeRecord: FileRecord = { id: "b", url: "https://cdn/x.png", type: "image/png" };

/** A checker that passes the server's Retry-After on, in each documented form. */
export async function checkers(): Promise<unknown[]> {
  const { smartPollingManager } = await import("smart-polling");
  return Promise.all([
    smartPollingManager.startPolling("c-1", async () => ({ completed: false, retryAfter: 4 })),
    smartPollingManager.startPolling("c-2", async () => ({ completed: false, retryAfter: "Wed, 21 Oct 2026 07:28:00 GMT" })),
    smartPollingManager.startPolling("c-3", async () => ({ completed: false, headers: { "retry-after": "3" } })),
    smartPollingManager.startPolling("c-4", async () => ({ completed: false, response: { headers: new Headers({ "retry-after": "3" }) } })),
  ]);
}
