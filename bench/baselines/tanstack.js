// Baseline (c): TanStack Query (`@tanstack/query-core`, the engine under
// @tanstack/react-query's useQuery) with `refetchInterval`, as a page would
// watch a generation with it: one QueryObserver per file, refetching every
// 2 s until the record has a url or its latest task failed. Everything else
// is TanStack's default: retry 3 times with its exponential retryDelay
// (1 s, 2 s, 4 s; Retry-After is not read), the interval goes on after a
// failed fetch, in-flight fetches are aborted when the last observer leaves
// (the query function passes the signal on). A non-2xx answer throws, as
// every fetch wrapper for useQuery does. The first fetch starts on subscribe.

import { QueryClient, QueryObserver } from "@tanstack/query-core";

const terminal = (record) => {
  if (!record) return null;
  if (record.url) return "completed";
  const tasks = record.tasks;
  const last = Array.isArray(tasks) && tasks.length ? tasks[tasks.length - 1] : null;
  return last && String(last.status).toLowerCase() === "error" ? "error" : null;
};

class HttpError extends Error {
  constructor(status) {
    super(`HTTP ${status}`);
    this.status = status;
  }
}

export class TanStackPoller {
  /** @param {{ fileUrl?: string, interval?: number }} [options] */
  constructor(options = {}) {
    this.fileUrl = options.fileUrl ?? "/api/file/{id}";
    this.interval = options.interval ?? 2000;
    this.client = new QueryClient();
    this.client.mount(); // what QueryClientProvider does
    /** @type {Map<string, () => void>} */
    this.jobs = new Map();
  }

  start(fileId, callbacks) {
    if (this.jobs.has(fileId)) return;
    const url = this.fileUrl.replace("{id}", encodeURIComponent(fileId));
    const observer = new QueryObserver(this.client, {
      queryKey: ["file", fileId],
      queryFn: async ({ signal }) => {
        const res = await fetch(url, { signal });
        if (!res.ok) throw new HttpError(res.status);
        return res.json();
      },
      refetchInterval: (query) => (terminal(query.state.data) ? false : this.interval),
    });
    const unsubscribe = observer.subscribe((result) => {
      const end = terminal(result.data);
      if (!end || !this.jobs.has(fileId)) return;
      this.stop(fileId);
      if (end === "completed") callbacks.onComplete?.(result.data);
      else callbacks.onError?.({ kind: "generation_failed", message: "generation failed" });
    });
    this.jobs.set(fileId, unsubscribe);
  }

  stop(fileId) {
    const unsubscribe = this.jobs.get(fileId);
    if (!unsubscribe) return false;
    this.jobs.delete(fileId);
    unsubscribe();
    this.client.removeQueries({ queryKey: ["file", fileId], exact: true });
    return true;
  }

  stopAll() {
    for (const unsubscribe of this.jobs.values()) unsubscribe();
    this.jobs.clear();
    this.client.clear();
  }

  get activeCount() {
    return this.jobs.size;
  }
}
