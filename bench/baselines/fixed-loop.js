// Baseline (a): the fixed 2-second loop the product's image and video hooks
// used before smart-polling (/work/shared/seed/polling-api.md, "Текущая
// Реализация"): GET the file, done when it has a url, failed when the latest
// task says "error", otherwise (and on any error, including a 429 or a body
// that is not JSON) again in 2 s. `fileClient.getById` does not check the
// status: a 429's JSON body is a record without a url, so it just polls on.
// One addition for the benchmark: a stopped job schedules nothing more (the
// hook's clearTimeout misses a request in flight).

/** @typedef {{ onComplete?(record: any): void, onError?(error: { kind: string, message: string }): void }} Callbacks */

export class FixedLoop {
  /** @param {{ fileUrl?: string, interval?: number }} [options] */
  constructor(options = {}) {
    this.fileUrl = options.fileUrl ?? "/api/file/{id}";
    this.interval = options.interval ?? 2000;
    /** @type {Map<string, { timer: any, stopped: boolean }>} */
    this.jobs = new Map();
  }

  /** @param {string} fileId @param {Callbacks} callbacks */
  start(fileId, callbacks) {
    if (this.jobs.has(fileId)) return;
    const job = { timer: 0, stopped: false };
    this.jobs.set(fileId, job);
    const url = this.fileUrl.replace("{id}", encodeURIComponent(fileId));
    const poll = async () => {
      try {
        const response = await fetch(url, { method: "GET", headers: { "Content-Type": "application/json" } });
        const fileData = await response.json();
        if (job.stopped) return;
        if (fileData.url) {
          this.#finish(fileId, job);
          callbacks.onComplete?.(fileData);
          return;
        }
        if (fileData.tasks?.length > 0) {
          const latestTask = fileData.tasks[fileData.tasks.length - 1];
          if (latestTask.status === "error") {
            this.#finish(fileId, job);
            callbacks.onError?.({ kind: "generation_failed", message: "Image generation failed" });
            return;
          }
        }
        job.timer = setTimeout(poll, this.interval);
      } catch {
        if (!job.stopped) job.timer = setTimeout(poll, this.interval);
      }
    };
    poll();
  }

  #finish(fileId, job) {
    job.stopped = true;
    clearTimeout(job.timer);
    this.jobs.delete(fileId);
  }

  /** @param {string} fileId */
  stop(fileId) {
    const job = this.jobs.get(fileId);
    if (job) this.#finish(fileId, job);
    return Boolean(job);
  }

  stopAll() {
    for (const job of this.jobs.values()) {
      job.stopped = true;
      clearTimeout(job.timer);
    }
    this.jobs.clear();
  }

  get activeCount() {
    return this.jobs.size;
  }
}
