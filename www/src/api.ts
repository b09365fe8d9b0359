// The demo API (same origin, under /api): generation, fault injection, stats.

export type MediaKind = "image" | "video";

export interface Faults {
  rateLimit: { probability: number; retryAfter: "seconds" | "date" | "none"; seconds: number };
  serverError: { probability: number; status: number };
  /** The file answers 404 for this long after it was created (ms). */
  notFoundFor: number;
  forbidden: boolean;
  /** Extra latency of every response (ms). */
  slow: number;
  /** Probability that a request never answers. */
  hang: number;
  /** Probability of an unreadable body. */
  malformed: number;
  stream: "ok" | "off" | "never" | "die" | "garbage";
  /** The generation itself fails. */
  fail: boolean;
}

export const NO_FAULTS: Faults = {
  rateLimit: { probability: 0, retryAfter: "seconds", seconds: 2 },
  serverError: { probability: 0, status: 500 },
  notFoundFor: 0,
  forbidden: false,
  slow: 0,
  hang: 0,
  malformed: 0,
  stream: "ok",
  fail: false,
};

/** Fills what the server left out (and drops what it added), so the controls always have values. */
export function normaliseFaults(raw: unknown): Faults {
  const f = (raw && typeof raw === "object" ? raw : {}) as Partial<Faults>;
  const num = (v: unknown, d: number) => (typeof v === "number" && Number.isFinite(v) ? v : d);
  const streams: Faults["stream"][] = ["ok", "off", "never", "die", "garbage"];
  const afters: Faults["rateLimit"]["retryAfter"][] = ["seconds", "date", "none"];
  const rl = (f.rateLimit ?? {}) as Partial<Faults["rateLimit"]>;
  const se = (f.serverError ?? {}) as Partial<Faults["serverError"]>;
  return {
    rateLimit: {
      probability: num(rl.probability, 0),
      retryAfter: afters.includes(rl.retryAfter as never) ? rl.retryAfter! : NO_FAULTS.rateLimit.retryAfter,
      seconds: num(rl.seconds, NO_FAULTS.rateLimit.seconds),
    },
    serverError: { probability: num(se.probability, 0), status: num(se.status, 500) },
    notFoundFor: num(f.notFoundFor, 0),
    forbidden: f.forbidden === true,
    slow: num(f.slow, 0),
    hang: num(f.hang, 0),
    malformed: num(f.malformed, 0),
    stream: streams.includes(f.stream as never) ? f.stream! : "ok",
    fail: f.fail === true,
  };
}

export function isFaultFree(f: Faults): boolean {
  return JSON.stringify(normaliseFaults(f)) === JSON.stringify(NO_FAULTS);
}

export interface JobStats {
  file: number;
  project: number;
  events: number;
  total: number;
}

export interface Stats {
  total: number;
  byJob: Record<string, JobStats>;
  byStatus: Record<string, number>;
  /** [ms since start, total requests so far] */
  timeline: Array<[number, number]>;
  /** With `?buckets=1`: the width of a bucket (100 ms). */
  bucketMs?: number;
  /** With `?buckets=1`: requests per bucket since the stats were reset (the first 10 minutes). */
  buckets?: number[];
  /** With `?buckets=1`: 429s answered per bucket. */
  buckets429?: number[];
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

async function request<T>(method: string, url: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      // the server takes state changes only as JSON (no cross-site form posts)
      headers: method === "GET" ? undefined : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (err) {
    if ((err as Error)?.name === "AbortError") throw err;
    throw new ApiError(`network error: ${(err as Error)?.message ?? err}`);
  }
  const text = await res.text();
  if (!res.ok) {
    let detail = text.slice(0, 200);
    try {
      const j = JSON.parse(text);
      detail = j?.error ?? j?.message ?? detail;
    } catch {
      /* not JSON */
    }
    throw new ApiError(`HTTP ${res.status}${detail ? `: ${detail}` : ""}`, res.status);
  }
  if (!text) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError("the server sent a body that is not JSON", res.status);
  }
}

export function generate(
  kind: MediaKind,
  prompt: string,
  faults?: Faults | null,
  signal?: AbortSignal,
): Promise<{ fileId: string; projectId: string }> {
  return request("POST", `/api/generate/${kind}`, faults ? { prompt, faults } : { prompt }, signal);
}

export const getFaults = async () => normaliseFaults(await request<unknown>("GET", "/api/faults"));
export async function putFaults(f: Faults): Promise<Faults> {
  const back = await request<unknown>("PUT", "/api/faults", f);
  return back && typeof back === "object" && "stream" in back ? normaliseFaults(back) : f;
}
export async function deleteFaults(): Promise<Faults> {
  const back = await request<unknown>("DELETE", "/api/faults");
  return back && typeof back === "object" && "stream" in back ? normaliseFaults(back) : NO_FAULTS;
}

/** The server's counters, with the per-100-ms request buckets (the request-rate chart). */
export const getStats = (signal?: AbortSignal) => request<Stats>("GET", "/api/stats?buckets=1", undefined, signal);
export const resetStats = () => request<unknown>("POST", "/api/stats/reset");
export const getHealth = (signal?: AbortSignal) => request<unknown>("GET", "/api/health", undefined, signal);
