// Baseline (b): a plain-TypeScript polling manager written from the seed's
// description (/work/shared/seed/polling-api.md, "Требования для Улучшения"
// and "Оптимизации"), the way a developer would write it without smart-polling:
//
// - PollingConfig defaults: initialDelay 1000, maxDelay 30000,
//   backoffMultiplier 2, maxAttempts 20, timeout 300000 (5 min);
// - progressive intervals while not ready: 1 s for the first 5 attempts, 2 s
//   for the next 5, 5 s for the next 10, then 10 s (getPollingInterval);
// - errors (PollingErrorHandler): 403 stops; 429 waits Retry-After seconds
//   (60 s without one); 404, 5xx, network and unreadable bodies retry with
//   min(initialDelay * multiplier^n, maxDelay), n = errors in a row so far;
// - done when the file has a url or every task is completed; failed when the
//   latest task is "error" (case-insensitive: videos say "ERROR");
// - one job per id (a second startPolling for the same id is ignored), and
//   stop/stopAll cancel the timer and abort the request in flight.
// No event stream. Served to the browser after typescript's transpileModule.

export interface PollingConfig {
  initialDelay: number;
  maxDelay: number;
  backoffMultiplier: number;
  maxAttempts: number;
  timeout: number;
}

export interface FileRecord {
  id: string;
  url?: string | null;
  tasks?: Array<{ id: string; status: string; project_id?: string }> | null;
  [field: string]: unknown;
}

export interface PollingCallbacks {
  onUpdate?(data: FileRecord): void;
  onError?(error: { kind: string; message: string; status?: number }): void;
  onComplete?(data: FileRecord): void;
}

export const DEFAULT_CONFIG: PollingConfig = {
  initialDelay: 1000,
  maxDelay: 30000,
  backoffMultiplier: 2,
  maxAttempts: 20,
  timeout: 300000,
};

/** Fast at first, slower over time. `attempt` = requests made so far. */
export function getPollingInterval(attempt: number): number {
  if (attempt < 5) return 1000;
  if (attempt < 10) return 2000;
  if (attempt < 20) return 5000;
  return 10000;
}

export function isGenerationComplete(fileData: FileRecord): boolean {
  if (fileData.url) return true;
  if (fileData.tasks && fileData.tasks.length > 0) {
    return fileData.tasks.every((task) => task.status.toLowerCase() === "completed");
  }
  return false;
}

class HttpError extends Error {
  constructor(
    public status: number,
    public retryAfter: string | null,
  ) {
    super(`HTTP ${status}`);
  }
}

export class PollingErrorHandler {
  static shouldRetry(error: unknown): boolean {
    if (error instanceof HttpError) return error.status !== 403 && error.status !== 401;
    return true; // network errors, unreadable bodies
  }

  static getRetryDelay(error: unknown, errorsInARow: number, config: PollingConfig): number {
    if (error instanceof HttpError && error.status === 429) {
      return parseInt(error.retryAfter ?? "", 10) * 1000 || 60000;
    }
    return Math.min(config.initialDelay * Math.pow(config.backoffMultiplier, errorsInARow), config.maxDelay);
  }
}

class PollingJob {
  startTime = Date.now();
  attempt = 0;
  errorsInARow = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private controller: AbortController | null = null;
  private stopped = false;

  constructor(
    public fileId: string,
    private url: string,
    public config: PollingConfig,
    private callbacks: PollingCallbacks,
    private onEnd: () => void,
  ) {}

  start(): void {
    void this.poll();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.controller?.abort();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (Date.now() + ms - this.startTime >= this.config.timeout) {
      // the next request would come after the strict timeout
      this.timer = setTimeout(() => this.fail("timeout", "Polling timeout"), Math.max(0, this.startTime + this.config.timeout - Date.now()));
      return;
    }
    this.timer = setTimeout(() => void this.poll(), ms);
  }

  private fail(kind: string, message: string, status?: number): void {
    if (this.stopped) return;
    this.stop();
    this.onEnd();
    this.callbacks.onError?.({ kind, message, status });
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    if (Date.now() - this.startTime >= this.config.timeout) return this.fail("timeout", "Polling timeout");
    if (this.attempt >= this.config.maxAttempts) return this.fail("max_attempts", `No result after ${this.attempt} attempts`);
    this.attempt++;
    const controller = (this.controller = new AbortController());
    let fileData: FileRecord;
    try {
      const response = await fetch(this.url, { signal: controller.signal });
      if (!response.ok) throw new HttpError(response.status, response.headers.get("retry-after"));
      fileData = (await response.json()) as FileRecord;
      if (!fileData || typeof fileData !== "object") throw new Error("invalid response");
    } catch (error) {
      if (this.stopped) return;
      if (!PollingErrorHandler.shouldRetry(error)) {
        return this.fail("forbidden", String(error), error instanceof HttpError ? error.status : undefined);
      }
      const delay = PollingErrorHandler.getRetryDelay(error, this.errorsInARow, this.config);
      this.errorsInARow++;
      return this.schedule(delay);
    }
    if (this.stopped) return;
    this.errorsInARow = 0;
    this.callbacks.onUpdate?.(fileData);
    if (isGenerationComplete(fileData)) {
      this.stop();
      this.onEnd();
      this.callbacks.onComplete?.(fileData);
      return;
    }
    const tasks = fileData.tasks ?? [];
    if (tasks.length > 0 && tasks[tasks.length - 1].status.toLowerCase() === "error") {
      return this.fail("generation_failed", "Generation failed");
    }
    this.schedule(getPollingInterval(this.attempt));
  }
}

export class SeedPollingManager {
  private activePolls = new Map<string, PollingJob>();
  private config: PollingConfig;

  constructor(
    config: Partial<PollingConfig> = {},
    private fileUrl = "/api/file/{id}",
  ) {
    this.config = { ...DEFAULT_CONFIG, ...config };
  }

  startPolling(fileId: string, callbacks: PollingCallbacks): void {
    if (this.activePolls.has(fileId)) {
      console.warn("Polling already active for fileId:", fileId);
      return;
    }
    const url = this.fileUrl.replace("{id}", encodeURIComponent(fileId));
    const job = new PollingJob(fileId, url, this.config, callbacks, () => this.activePolls.delete(fileId));
    this.activePolls.set(fileId, job);
    job.start();
  }

  stopPolling(fileId: string): void {
    const job = this.activePolls.get(fileId);
    if (job) {
      job.stop();
      this.activePolls.delete(fileId);
    }
  }

  stopAllPolling(): void {
    for (const [, job] of this.activePolls) job.stop();
    this.activePolls.clear();
  }

  get activeCount(): number {
    return this.activePolls.size;
  }
}
