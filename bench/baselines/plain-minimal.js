// The plain-JS minimal poller for the start/stop comparison: the least any
// poller must do per job, and nothing more (issue 10's reference). Start: a
// Map entry and a setTimeout (0 ms for the first request, so the start call
// itself does not wait on fetch); then a fetch with an AbortController, and a
// setTimeout for the next one. Stop clears the timer and aborts the request
// in flight.

export class PlainMinimal {
  /** @param {{ fileUrl?: string, interval?: number }} [options] */
  constructor(options = {}) {
    this.fileUrl = options.fileUrl ?? "/api/file/{id}";
    this.interval = options.interval ?? 2000;
    /** @type {Map<string, { id: string, callbacks: any, timer: any, ac: AbortController | null }>} */
    this.jobs = new Map();
  }

  start(fileId, callbacks) {
    if (this.jobs.has(fileId)) return;
    const job = { id: fileId, callbacks, timer: 0, ac: null };
    this.jobs.set(fileId, job);
    job.timer = setTimeout(() => this.#poll(job), 0);
  }

  #poll(job) {
    const ac = (job.ac = new AbortController());
    fetch(this.fileUrl.replace("{id}", job.id), { signal: ac.signal })
      .then((r) => (r.ok ? r.json() : null))
      .then(
        (record) => {
          if (this.jobs.get(job.id) !== job) return;
          if (record && record.url) {
            this.jobs.delete(job.id);
            job.callbacks.onComplete?.(record);
          } else job.timer = setTimeout(() => this.#poll(job), this.interval);
        },
        () => {
          if (this.jobs.get(job.id) === job) job.timer = setTimeout(() => this.#poll(job), this.interval);
        },
      );
  }

  stop(fileId) {
    const job = this.jobs.get(fileId);
    if (!job) return false;
    clearTimeout(job.timer);
    job.ac?.abort();
    this.jobs.delete(fileId);
    return true;
  }

  stopAll() {
    for (const job of this.jobs.values()) {
      clearTimeout(job.timer);
      job.ac?.abort();
    }
    this.jobs.clear();
  }

  get activeCount() {
    return this.jobs.size;
  }
}
