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
  ProjectRecord,
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
      onComplete(file: FileRecord) {
        seen.push(file.tasks?.[0]?.status);
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
    onProgress: (p) => seen.push(p.attempt),
  });
  const method: "success" | "timeout" | "error" | "rate_limited" = file.method;
  const project: PollingResult<ProjectRecord> = await pollProjectCompletion("project-1");
  const firstUrl: string | null | undefined = project.data?.data?.[0]?.value.url;

  // @ts-expect-error options are typed, not `any`
  new PollingManager({ timeout: "5s" });
  // @ts-expect-error unknown options are caught
  new PollingManager({ fileURL: "/x/{id}" });
  // @ts-expect-error callbacks are typed
  m.startPolling("file-3", { onComplete: (n: number) => n });
  // @ts-expect-error the error kind is a closed union
  const teapot: PollingError["kind"] = "teapot";
  // @ts-expect-error the channel is "sse" or "polling"
  const socket: PollingProgress["channel"] = "websocket";
  // @ts-expect-error presets are "image" or "video"
  m.startPolling("file-4", {}, { preset: "audio" });

  return [seen, stopped, active, statuses, rate, method, firstUrl, teapot, socket];
}
